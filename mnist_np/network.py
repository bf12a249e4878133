"""A fully connected network of any depth, in matrix form with rows as samples.

Notation, used throughout the project (layer ``l`` runs from 1 to ``L``):

- ``a_0 = X``: the input batch, shape ``(n, 784)``;
- ``z_l = a_{l-1} W_l + b_l``: pre-activation, ``W_l: (n_{l-1}, n_l)``, ``b_l: (n_l,)``;
- ``a_l = f(z_l)`` for hidden layers, ``a_L = output(z_L)`` for the last one;
- ``delta_l = ∂loss/∂z_l``: the error signal that backpropagation carries, ``(n, n_l)``.

In code the lists are 0-based: ``weights[0]`` is ``W_1``.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import re
import reprlib
import struct
import zipfile
from dataclasses import dataclass
from itertools import pairwise
from os import PathLike
from typing import IO

import numpy as np

from .activations import ACTIVATIONS
from .init import INITS
from .losses import OUTPUT_LOSSES

FORMAT = "mnist_np/1"
_DTYPES = ("float32", "float64")

# -- model files: each check before the work it guards ---------------------------------
MAX_LAYERS = 1000  # weight layers in a model file: MLP.load's default limit
MAX_CONFIG_CHARS = 65_536  # a config's JSON; 1,000 layers of 1,000,000 units take ~9,000
_CONFIG_MEMBER_BYTES = 4 * MAX_CONFIG_CHARS + 16_384  # stored as UTF-32, plus its header
_DIR_BYTES_PER_ENTRY = 256  # a directory entry is 46 bytes plus its name and extra fields
# The members checkpoint.save_training adds to a model file, and the .npy dtype kinds each
# may hold: MLP.load checks their names and sizes and skips them; load_training reads them.
TRAINING_MEMBERS = {
    "training": "U",  # the JSON of everything that is not an array
    "order": "i",
    "history_step": "i", "history_loss": "f", "history_accuracy": "f",
    "history_grad_norms": "f", "history_update_ratios": "f", "history_saturation": "f",
    "epochs": "f",
    "snapshots": "f", "snapshot_steps": "i",
    "optimizer_velocity": "f", "optimizer_m": "f", "optimizer_v": "f",
    "best_params": "f",  # early stopping's best epoch, its weights then biases flattened
}
_MEMBER_NAME = re.compile(
    r"(config|[Wb](0|[1-9][0-9]{0,5})|" + "|".join(TRAINING_MEMBERS) + r")\.npy")
_EOCD = struct.Struct("<4s4H2LH")  # the zip's end record
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


class ConfigError(ValueError):
    """A network or training setting that cannot work; the message is one line."""


class ModelFileError(ValueError):
    """A model file that cannot be loaded; the message is one line."""


# -- blank input columns ---------------------------------------------------------------
# In a batch of digits many pixels are 0 in every image: a third of the 784 in a batch of
# 128 (the borders), more in smaller batches. They add nothing to z_1 = a_0 W_1, and their
# rows of dW_1 = a_0ᵀ delta_1 are 0, so the training pass leaves them out of the first
# layer's two products when that pays: the products shrink by the blank share, for the
# price of finding those columns, gathering a_0's other columns and W_1's rows, and
# setting dW_1's rows. The rates are those measured on one core (float32, OpenBLAS, numpy
# 2.4; benchmarks in BENCHMARKS.md): the flops a shorter product saves go at about 220 per
# ns (less than the product's own rate: it runs less efficiently), finding the columns
# reads 6.7 numbers per ns, gathering a_0's columns 2.8, W_1's rows 11, zeroing dW_1's
# blank rows 5 and writing its other rows 10.
_SAVED_FLOPS_PER_NS = 220
_FIND, _GATHER_COLUMNS, _GATHER_ROWS, _ZERO_ROWS, _SET_ROWS = 6.7, 2.8, 11, 5, 10


def _skip_pays(n: int, d: int, k: int, h: int) -> bool:
    """Whether ``k`` of ``d`` input columns in a batch of ``n`` rows, into ``h`` units, make
    two products of ``k`` columns cheaper than two of ``d`` with the finding and moving."""
    saved = 4 * n * (d - k) * h / _SAVED_FLOPS_PER_NS
    moved = (n * d / _FIND + n * k / _GATHER_COLUMNS + k * h / _GATHER_ROWS
             + (d - k) * h / _ZERO_ROWS + k * h / _SET_ROWS)
    return saved > moved


def input_columns(a: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(used, blank)`` of the batch ``a: (n, d)`` that a layer of ``h`` units takes: the
    indices of the columns holding a nonzero number and the mask of the others, when
    leaving those out pays (see above); ``None`` when not, without looking when it would
    not even with a third of them blank."""
    n, d = a.shape
    if not _skip_pays(n, d, 2 * d // 3, h):
        return None
    blank: np.ndarray = ~np.any(a, axis=0)
    used = np.flatnonzero(~blank)
    return (used, blank) if _skip_pays(n, d, len(used), h) else None


@dataclass
class Forward:
    """What one forward pass keeps for the backward pass.

    ``activations``: ``[a_0, ..., a_L]``, ``a_l: (n, n_l)``; ``logits``: ``z_L``;
    ``zs``: ``[z_1, ..., z_L]`` only when asked for (the step-through page), else ``None``.
    """

    activations: list[np.ndarray]
    logits: np.ndarray
    zs: list[np.ndarray] | None = None
    # With dropout (training only): ``masks[l]`` multiplied hidden ``a_{l+1}`` (0, or
    # 1/(1-p) for a kept unit: inverted dropout), ``activations`` holds what the next layer
    # saw, and ``undropped[l]`` is ``f(z_{l+1})`` before the mask, for ``f'`` in backward.
    masks: list[np.ndarray] | None = None
    undropped: list[np.ndarray] | None = None
    # The training pass only: ``(used, blank, a_0[:, used])`` when the first layer left the
    # blank input columns out (``input_columns``), for backward to do the same.
    columns: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]


@dataclass
class Backward:
    """Gradients of the loss, with the ``delta_l`` of every layer when asked for."""

    dWs: list[np.ndarray]
    dbs: list[np.ndarray]
    deltas: list[np.ndarray] | None = None


class Buffers:
    """Preallocated arrays for training on batches of ``n`` rows, reused at every step.

    ``activations``: ``[a_0, ..., a_L]`` (``a_0`` is where the batch is gathered),
    ``logits``: ``z_L``, ``targets``: the one-hot ``Y``, ``deltas``: ``[delta_1, ...,
    delta_L]``, ``dWs``/``dbs`` shaped like the weights and biases, and ``ones: (n,)``.
    Only the shapes and dtype of a network matter: :meth:`fits` says whether one can use
    them.
    """

    def __init__(self, layer_sizes, n: int, dtype, input_dtype=None):
        self.layer_sizes, self.n, self.dtype = list(layer_sizes), int(n), np.dtype(dtype)
        self.input_dtype = np.dtype(input_dtype or dtype)
        sizes, dt = self.layer_sizes, self.dtype
        self.activations = [np.empty((n, sizes[0]), self.input_dtype)]
        self.activations += [np.empty((n, k), dt) for k in sizes[1:]]
        self.logits = np.empty((n, sizes[-1]), dt)
        self.targets = np.empty((n, sizes[-1]), dt)
        self.deltas = [np.empty((n, k), dt) for k in sizes[1:]]
        self.dWs = [np.empty((sizes[l], sizes[l + 1]), dt) for l in range(len(sizes) - 1)]
        self.dbs = [np.empty(o, dt) for o in sizes[1:]]
        self.ones = np.ones(n, dt)  # db = ones @ delta: the column sums as one BLAS call
        self._dropped: list[np.ndarray] | None = None

    @property
    def dropped(self) -> list[np.ndarray]:
        """``[a_1 ⊙ m_1, ...]``: the hidden activations after dropout, made on first use."""
        if self._dropped is None:
            self._dropped = [np.empty((self.n, k), self.dtype) for k in self.layer_sizes[1:-1]]
        return self._dropped

    def fits(self, net: MLP, n: int) -> bool:
        return n == self.n and net.layer_sizes == self.layer_sizes and net.dtype == self.dtype


def check_seed(seed) -> None:
    """A random seed is a whole number >= 0 (what ``np.random.default_rng`` takes)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"the seed must be a whole number >= 0, got {shown(seed)}")


def check_config(layer_sizes, activation, output, loss, init, l2, dtype, seed=0) -> list[int]:
    """Validate a network description; return the layer sizes as ints or raise ConfigError.

    Any value of any type is refused in one short line: a model file's config is the
    uploader's JSON, so a list may be 2,000,000 items long and a name 10,000,000 characters.
    """
    if isinstance(layer_sizes, (str, bytes, dict)) or not hasattr(layer_sizes, "__iter__"):
        raise ConfigError(f"layer sizes must be positive whole numbers, got {shown(layer_sizes)}")
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ConfigError("a network needs at least an input and an output layer")
    for i, s in enumerate(sizes):
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 1:
            raise ConfigError(f"layer sizes must be positive whole numbers, got {shown(s)} "
                              f"at position {i} of {len(sizes):,}")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {shown(activation)}; "
                          f"choose from {sorted(ACTIVATIONS)}")
    if not (isinstance(output, str) and isinstance(loss, str)) \
            or (output, loss) not in OUTPUT_LOSSES:
        pairs = ", ".join(f"{o}+{lo}" for o, lo in OUTPUT_LOSSES)
        raise ConfigError(f"output {shown(output)} with loss {shown(loss)} is not supported; "
                          f"use {pairs}")
    if not isinstance(init, str) or init not in INITS:
        raise ConfigError(f"unknown init {shown(init)}; choose from {sorted(INITS)}")
    if not _finite_at_least_zero(l2):
        raise ConfigError(f"l2 must be a finite number >= 0, got {shown(l2)}")
    if not isinstance(dtype, (str, np.dtype)) or str(dtype) not in _DTYPES:
        raise ConfigError(f"dtype must be one of {_DTYPES}, got {shown(dtype)}")
    check_seed(seed)
    return [int(s) for s in sizes]


def _finite_at_least_zero(x) -> bool:
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        return False
    try:
        return math.isfinite(x) and float(x) >= 0
    except OverflowError:  # an int of hundreds of digits
        return False


BRIEF = 40  # characters of a user's text repeated in a message


def brief(text: str, limit: int = BRIEF) -> str:
    """``text`` quoted for a message, cut short when long (a URL can hold kilobytes)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxlist, _SHORT_REPR.maxdict = 2, 4, 2


def shown(value) -> str:
    """Any value, for a message: strings through :func:`brief`, anything else as a repr
    that stops after a few items and :data:`BRIEF` characters (never the whole of a
    two-million-item list)."""
    if isinstance(value, str):
        return brief(value)
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= BRIEF else f"{text[:BRIEF]}…"


def parse_hidden(text: str, max_layers: int | None = None,
                 max_units: int | None = None) -> tuple[int, ...]:
    """Hidden-layer sizes from text: ``"128,64"`` -> ``(128, 64)``, ``""`` or ``"none"``
    -> ``()`` (no hidden layer). Raise ValueError with a one-line message for anything
    else, or for more than ``max_layers`` layers or a size above ``max_units``."""
    if text.strip().lower() in ("", "none"):
        return ()
    parts = text.split(",")
    if max_layers is not None and len(parts) > max_layers:
        raise ValueError(f"at most {max_layers} hidden layers, got {len(parts)}")
    sizes = []
    for part in parts:
        try:
            value = int(part)
        except ValueError:
            raise ValueError(
                f"a hidden layer's size must be a whole number, got {brief(part)}") from None
        shown = value if len(part) <= BRIEF else brief(part)
        if max_units is None and value < 1:
            raise ValueError(f"a hidden layer's size must be at least 1, got {shown}")
        if max_units is not None and not 1 <= value <= max_units:
            raise ValueError(
                f"a hidden layer's size must be between 1 and {max_units}, got {shown}")
        sizes.append(value)
    return tuple(sizes)


class MLP:
    """A multilayer perceptron built from ``layer_sizes``, e.g. ``[784, 128, 10]``.

    ``activation`` is used by every hidden layer; ``output`` and ``loss`` form one of the
    pairs in ``OUTPUT_LOSSES``; ``l2`` adds ``l2/2 · Σ‖W_l‖²`` to the loss (biases are not
    decayed); ``seed`` feeds ``np.random.default_rng`` for the initial weights.
    The defaults are the ``default`` preset's network (``presets.py`` takes them from here).
    """

    def __init__(self, layer_sizes, activation: str = "relu", output: str = "softmax",
                 loss: str = "cross_entropy", init: str = "he", l2: float = 0.0,
                 seed: int = 0, dtype: str = "float32"):
        self.layer_sizes = check_config(layer_sizes, activation, output, loss, init, l2, dtype,
                                        seed)
        self.activation, self.output_name, self.loss_name = activation, output, loss
        self.init = init
        self.l2, self.seed, self.dtype = float(l2), int(seed), np.dtype(dtype)
        self.act = ACTIVATIONS[activation]
        self.output_loss = OUTPUT_LOSSES[(output, loss)]
        rng = np.random.default_rng(self.seed)
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            W, b = INITS[init](n_in, n_out, rng, self.dtype)
            self.weights.append(W)
            self.biases.append(b)

    # -- description ---------------------------------------------------------------
    @property
    def config(self) -> dict:
        """Everything needed to rebuild this network (weights aside), JSON-ready."""
        return {
            "layer_sizes": self.layer_sizes, "activation": self.activation,
            "output": self.output_name, "loss": self.loss_name, "init": self.init,
            "l2": self.l2, "seed": self.seed, "dtype": self.dtype.name,
        }

    @property
    def n_params(self) -> int:
        return sum(W.size + b.size for W, b in zip(self.weights, self.biases))

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self.layer_sizes))
        return f"MLP({sizes}, {self.activation}, {self.output_name}+{self.loss_name})"

    def copy(self) -> MLP:
        """An independent copy (same config, copied arrays). No initial weights are drawn
        for it: drawing 784x256 normals cost more than the copy (pages copy the live
        network at every redraw)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.layer_sizes = list(self.layer_sizes)
        clone.weights = [W.copy() for W in self.weights]
        clone.biases = [b.copy() for b in self.biases]
        return clone

    # -- forward -------------------------------------------------------------------
    def _as_input(self, X) -> np.ndarray:
        return np.asarray(X, dtype=self.dtype)

    def forward(self, X, keep_z: bool = False, buffers: Buffers | None = None,
                masks: list[np.ndarray] | None = None,
                logits: np.ndarray | None = None) -> Forward:
        """Run ``X: (n, n_0)`` through the network, keeping every ``a_l`` (and ``z_l``).

        With ``buffers`` (a :class:`Buffers` for ``n`` rows) every ``a_l`` and the logits
        are written into its arrays instead of new ones: the training loop's way of
        allocating nothing per step. The result then lives only until the next such call.
        ``masks``: dropout, one ``(n, n_l)`` array per hidden layer (0 for a dropped unit,
        ``1/(1-p)`` for a kept one), only ever given while training (the trainer draws
        them; the gradient check fixes them); without them every unit is on.
        ``logits``: an ``(n, n_L)`` array to write ``z_L`` into, with ``buffers`` (the
        trainer keeps an epoch's logits, to count the epoch's loss from them later).
        """
        return self._forward(X, keep_z, buffers, masks=masks, logits=logits)[0]

    def forward_loss(self, X, Y, buffers: Buffers | None = None,
                     masks: list[np.ndarray] | None = None) -> tuple[Forward, float]:
        """``forward(X)`` and ``data_loss`` against one-hot ``Y`` together: the output
        layer computes its activation and the loss in one pass. (The training loop no longer
        uses it: it counts the epoch's loss from the logits, ``OutputLoss.rows``.)"""
        return self._forward(X, False, buffers, np.asarray(Y, self.dtype), masks)

    def _forward(self, X, keep_z: bool, buffers: Buffers | None, Y=None, masks=None,
                 logits=None):
        a = self._as_input(X)
        activations = [a]
        zs: list[np.ndarray] | None = [] if keep_z else None
        last = len(self.weights) - 1
        if masks is not None and len(masks) != last:
            raise ValueError(f"dropout needs one mask per hidden layer ({last}), "
                             f"got {len(masks)}")
        undropped: list[np.ndarray] | None = [] if masks is not None else None
        loss = None
        columns = None
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            if buffers is None:
                z = a @ W
            else:
                into = (buffers.activations[l + 1] if l < last else
                        buffers.logits if logits is None else logits)
                if l == 0 and (found := input_columns(a, W.shape[1])) is not None:
                    used, blank = found
                    columns = (used, blank, a[:, used])
                    z = np.matmul(columns[2], W[used], out=into)
                else:
                    z = np.matmul(a, W, out=into)
            z += b
            if zs is not None:
                zs.append(z.copy())
            if l < last:
                a = self.act.f(z, out=z)  # in place: backward only needs a_l
                if masks is not None and undropped is not None:
                    undropped.append(a)  # f' needs f(z), not the masked value
                    a = np.multiply(a, masks[l],
                                    out=None if buffers is None else buffers.dropped[l])
            else:
                out = None if buffers is None else buffers.activations[-1]
                if Y is None:
                    a = self.output_loss.activate(z, out=out)
                else:
                    a, loss = self.output_loss.activate_loss(z, Y, out=out)
            activations.append(a)
        return Forward(activations, z, zs, masks, undropped, columns), loss

    def predict_proba(self, X, chunk: int = 8192) -> np.ndarray:
        """Output activations ``a_L: (n, n_L)``, computed in chunks, keeping nothing."""
        X = self._as_input(X)
        return np.concatenate(
            [self.forward(X[i:i + chunk]).output for i in range(0, len(X), chunk)]
        ) if len(X) else np.zeros((0, self.layer_sizes[-1]), self.dtype)

    def predict(self, X) -> np.ndarray:
        """Predicted class per row: ``argmax a_L``, shape ``(n,)``."""
        return self.predict_proba(X).argmax(axis=1)

    def accuracy(self, X, y) -> float:
        """Fraction of rows of ``X`` whose predicted class equals the label in ``y: (n,)``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    # -- loss ----------------------------------------------------------------------
    def l2_term(self) -> float:
        if not self.l2:
            return 0.0
        return 0.5 * self.l2 * sum(float(np.dot(W.ravel(), W.ravel())) for W in self.weights)

    def data_loss(self, fwd: Forward, Y: np.ndarray) -> float:
        """The loss of a forward pass against one-hot targets ``Y: (n, n_L)``, no L2 term."""
        return self.output_loss.loss(fwd.logits, fwd.output, Y)

    def loss(self, X, Y, masks: list[np.ndarray] | None = None) -> float:
        """Mean loss over the batch plus the L2 term; ``Y`` one-hot ``(n, n_L)``;
        ``masks``: fixed dropout masks as :meth:`forward` takes them."""
        return self.data_loss(self.forward(X, masks=masks),
                              np.asarray(Y, self.dtype)) + self.l2_term()

    # -- backward ------------------------------------------------------------------
    def backward(self, fwd: Forward, Y: np.ndarray, keep_deltas: bool = False,
                 buffers: Buffers | None = None, scale: float = 1.0) -> Backward:
        """Backpropagate: the gradients of ``loss`` for the batch that produced ``fwd``.

        ``dW_l = a_{l-1}ᵀ delta_l`` and ``db_l = Σ_rows delta_l`` (both with the 1/n of the
        mean folded into ``delta_L``), then ``delta_{l-1} = (delta_l W_lᵀ) ⊙ f'(z_{l-1})``.
        With ``buffers``, every ``delta_l`` and gradient is written into its arrays.
        ``scale`` multiplies every gradient (it is folded into ``delta_L`` with the 1/n):
        the training loop passes the learning rate of SGD and momentum this way.
        """
        acts = fwd.activations
        n = len(acts[0])
        Y = np.asarray(Y, self.dtype)
        if buffers is None:
            delta = self.output_loss.delta(fwd.output, Y)
        else:
            delta = self.output_loss.delta(fwd.output, Y, out=buffers.deltas[-1])
        delta *= scale / n  # the loss is a mean over the batch (a float: delta's dtype stays)
        L = len(self.weights)
        dWs: list = [None] * L
        dbs: list = [None] * L
        deltas: list | None = [None] * L if keep_deltas else None
        for l in range(L - 1, -1, -1):
            if deltas is not None:
                deltas[l] = delta
            # ∂loss/∂W_l: how each weight moved z_l; ∂loss/∂b_l: b_l adds to every row
            if buffers is None:
                dWs[l] = acts[l].T @ delta
                dbs[l] = delta.sum(axis=0)
            else:
                if l == 0 and fwd.columns is not None:  # the blank columns' rows are 0
                    used, blank, a_used = fwd.columns
                    dWs[l] = buffers.dWs[l]
                    dWs[l][blank] = 0
                    dWs[l][used] = a_used.T @ delta
                else:
                    dWs[l] = np.matmul(acts[l].T, delta, out=buffers.dWs[l])
                dbs[l] = np.dot(buffers.ones, delta, out=buffers.dbs[l])  # BLAS, not a reduce
            if self.l2:
                dWs[l] += (self.l2 * scale) * self.weights[l]
            if l > 0:
                # chain rule through z_l = a_{l-1} W_l + b_l, then through a_{l-1} = f(z_{l-1})
                delta = np.matmul(delta, self.weights[l].T,
                                  out=None if buffers is None else buffers.deltas[l - 1])
                if fwd.masks is None or fwd.undropped is None:
                    self.act.backprop(delta, acts[l])  # delta *= f'(z_{l-1}), in place
                else:
                    # through the mask too: a_{l-1} = f(z_{l-1}) ⊙ m_{l-1}, so a dropped
                    # unit passes no error back and a kept one is scaled by 1/(1-p)
                    delta *= fwd.masks[l - 1]
                    self.act.backprop(delta, fwd.undropped[l - 1])
        return Backward(dWs, dbs, deltas)

    def gradients(self, X, Y, masks: list[np.ndarray] | None = None
                  ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``(dWs, dbs)``: gradients of ``self.loss(X, Y, masks)``, shaped like
        weights/biases."""
        grads = self.backward(self.forward(X, masks=masks), Y)
        return grads.dWs, grads.dbs

    # -- files ---------------------------------------------------------------------
    def save(self, file: str | PathLike | IO[bytes],
             extra: dict[str, np.ndarray] | None = None) -> None:
        """Write the arrays and the config (as JSON) into one ``.npz``, no pickles.
        ``extra``: more members, named in :data:`TRAINING_MEMBERS` (``checkpoint.py``'s
        training state), written after the network's."""
        if extra and not set(extra) <= set(TRAINING_MEMBERS):
            raise ValueError(f"not training members: {sorted(set(extra) - set(TRAINING_MEMBERS))}")
        arrays = {f"W{i}": W for i, W in enumerate(self.weights)}
        arrays |= {f"b{i}": b for i, b in enumerate(self.biases)}
        meta = json.dumps({"format": FORMAT, **self.config})
        np.savez(file, allow_pickle=False, config=np.array(meta), **arrays, **(extra or {}))

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.save(buffer)
        return buffer.getvalue()

    @classmethod
    def load(cls, file: str | PathLike | IO[bytes], max_bytes: int = 2**30,
             max_layers: int = MAX_LAYERS) -> MLP:
        """Read a network saved by :meth:`save`; raise ModelFileError on anything else.

        The file is distrusted field by field, cheapest check first: the zip's end record
        (how many entries, how big a directory) before the directory is parsed; the
        directory (member names, declared sizes) before any member is unpacked; every
        member's .npy header (no pickles, numbers only) before its data; the config's
        length and brackets before ``json.loads``, each field's type and the layer count
        before anything is built; every array's shape against the config. Neither the
        members as stored (unpacked) nor the network the config describes may take more
        than ``max_bytes``; at most ``max_layers`` weight layers. Every refusal is one
        short line that repeats at most :data:`BRIEF` characters of the file's text.

        A file that also holds a training state (``checkpoint.save_training``) loads too:
        those members (:data:`TRAINING_MEMBERS`) are checked by name and size, not read.
        """
        return open_model(file, max_bytes, max_layers)[0]

    @classmethod
    def _from_archive(cls, archive: ModelArchive, max_bytes: int, max_layers: int) -> MLP:
        members = {name: archive.read(name) for name in archive.network_names}
        try:
            config = _read_config(members.pop("config"), max_layers)
            sizes = check_config(**config)
            size = sum((n_in + 1) * n_out for n_in, n_out in pairwise(sizes)) \
                * np.dtype(config["dtype"]).itemsize
            if size > max_bytes:
                raise ConfigError(f"its {len(sizes)} layers need {_megabytes(size)}, more "
                                  f"than the {_megabytes(max_bytes)} accepted")
            net = cls(**config)
        except ConfigError as e:
            raise ModelFileError(f"the model's config is not usable: {e}") from None
        except ModelFileError:
            raise
        except Exception as e:  # a check missed: still one line, and no traceback or path
            raise ModelFileError(f"the model file cannot be read ({type(e).__name__})") from None
        for i, (W, b) in enumerate(zip(net.weights, net.biases)):
            for name, like in ((f"W{i}", W), (f"b{i}", b)):
                if name not in members:
                    raise ModelFileError(f"array {name} is missing from the model file")
                arr = members.pop(name)
                if arr.shape != like.shape:
                    raise ModelFileError(f"array {name} has shape {shown(arr.shape)}, "
                                         f"the config needs {like.shape}")
                if arr.dtype.kind != "f" or not np.all(np.isfinite(arr)):
                    raise ModelFileError(f"array {name} must hold finite floating-point numbers")
                like[...] = arr
        if members:
            names = sorted(members)
            listed = ", ".join(names[:4]) + (f" and {len(names) - 4:,} more" if len(names) > 4
                                             else "")
            raise ModelFileError(f"unexpected arrays in the model file: {listed}")
        return net


def open_model(file: str | PathLike | IO[bytes], max_bytes: int = 2**30,
               max_layers: int = MAX_LAYERS) -> tuple[MLP, ModelArchive]:
    """The network of a model file (checked as :meth:`MLP.load` checks it) and the file's
    :class:`ModelArchive`, from which a reader of the training members (``checkpoint.py``)
    reads them one by one."""
    raw = _read_limited(file, max_bytes + max_bytes // 16 + 2**20)
    archive = ModelArchive(raw, max_bytes, max_layers)
    return MLP._from_archive(archive, max_bytes, max_layers), archive


def _read_limited(file: str | PathLike | IO[bytes], limit: int) -> bytes:
    """The file's bytes, refused when there are more than ``limit``."""
    try:
        if hasattr(file, "read"):
            raw = file.read(limit + 1)
        else:
            with open(file, "rb") as f:
                raw = f.read(limit + 1)
    except OSError as e:
        raise ModelFileError(f"cannot read the model file: {e.strerror or type(e).__name__}") \
            from None
    if not isinstance(raw, bytes):
        raise ModelFileError("cannot read the model file: it does not give bytes")
    if len(raw) > limit:
        raise ModelFileError(f"the file is larger than {_megabytes(limit)}")
    if not raw.startswith(b"PK\x03\x04"):
        raise ModelFileError("not an .npz file (a model saved by mnist_np is a zip of arrays)")
    return raw


def _zip_directory_size(raw: bytes) -> tuple[int, int]:
    """``(entries, directory bytes)`` as the zip's end record declares them: 22 bytes at
    the end (56 more for zip64), read before the directory itself."""
    pos = len(raw) - _EOCD.size
    if pos < 0 or raw[pos:pos + 4] != b"PK\x05\x06":  # else a comment follows the record
        pos = raw.rfind(b"PK\x05\x06", max(0, len(raw) - _EOCD.size - 65_535))
    if pos < 0 or len(raw) - pos < _EOCD.size:
        raise ModelFileError("not a valid .npz file (its zip directory is missing: "
                             "truncated or damaged)")
    entries, dir_size = _EOCD.unpack_from(raw, pos)[4:6]
    locator = pos - _ZIP64_LOCATOR.size
    if locator >= 0 and raw[locator:locator + 4] == b"PK\x06\x07":
        record = locator - _ZIP64_EOCD.size  # where zipfile looks for it too
        if record < 0 or raw[record:record + 4] != b"PK\x06\x06":
            raise ModelFileError("not a valid .npz file (damaged zip64 end record)")
        entries, dir_size = _ZIP64_EOCD.unpack_from(raw, record)[7:9]
    return entries, dir_size


class ModelArchive:
    """A model file's zip, its directory checked (entry count, member names, declared
    sizes, encryption, compression, the config's and training state's sizes) before
    anything is unpacked; :meth:`read` then unpacks one member at a time.

    ``names``: every member, by name without ``.npy``; ``network_names``: the config and
    the ``W``/``b`` arrays; :meth:`declared_size` is a member's unpacked size as the
    directory declares it (a reader caps it before :meth:`read`).
    """

    def __init__(self, raw: bytes, max_bytes: int, max_layers: int):
        max_entries = 2 * max_layers + 1 + len(TRAINING_MEMBERS)
        entries, dir_size = _zip_directory_size(raw)
        if entries > max_entries:
            raise ModelFileError(f"the zip holds {entries:,} entries; a model file has at most "
                                 f"{max_entries:,} (config, W and b of {max_layers:,} layers, "
                                 "training state)")
        if dir_size > max_entries * _DIR_BYTES_PER_ENTRY:
            raise ModelFileError(f"the zip's directory takes {dir_size:,} bytes; a model "
                                 f"file's takes at most {max_entries * _DIR_BYTES_PER_ENTRY:,}")
        try:
            archive = zipfile.ZipFile(io.BytesIO(raw))
        except Exception as e:  # zipfile.BadZipFile, struct.error, ...: a damaged directory
            raise ModelFileError(f"not a valid .npz file ({type(e).__name__})") from None
        infos = archive.infolist()
        if len(infos) > max_entries:
            raise ModelFileError(f"the zip holds {len(infos):,} entries; a model file has at "
                                 f"most {max_entries:,}")
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            match = _MEMBER_NAME.fullmatch(info.filename)
            if match is None:
                raise ModelFileError(f"unexpected member {brief(info.filename)} in the model "
                                     "file (a model holds config.npy, W0.npy, b0.npy, ...)")
            if match[2] is not None and int(match[2]) >= max_layers:
                raise ModelFileError(f"member {info.filename} is beyond the {max_layers:,} "
                                     "layers accepted")
            name = info.filename.removesuffix(".npy")
            if name in self._infos:
                raise ModelFileError(f"member {info.filename} appears twice in the zip")
            self._infos[name] = info
            if info.flag_bits & 0x1:
                raise ModelFileError(f"member {info.filename} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ModelFileError(f"member {info.filename} uses zip compression method "
                                     f"{info.compress_type}; a model file uses 0 or 8")
        unpacked = sum(info.file_size for info in infos)
        if unpacked > max_bytes:
            raise ModelFileError(f"the file unpacks to {_megabytes(unpacked)}; "
                                 f"at most {_megabytes(max_bytes)} is accepted")
        if "config" not in self._infos:
            raise ModelFileError("not a mnist_np model: no 'config' entry in the .npz")
        for name, what in (("config", "the model's config"), ("training", "its training state")):
            size = self.declared_size(name)
            if size > _CONFIG_MEMBER_BYTES:
                raise ModelFileError(f"{what} unpacks to {size:,} bytes; at most "
                                     f"{_CONFIG_MEMBER_BYTES:,} are accepted")
        self._archive = archive
        self.names = set(self._infos)
        self.network_names = [n for n in self._infos if n not in TRAINING_MEMBERS]

    def declared_size(self, name: str) -> int:
        """Member ``name``'s unpacked bytes as the directory declares them (0 if absent)."""
        info = self._infos.get(name)
        return 0 if info is None else info.file_size

    def read(self, name: str) -> np.ndarray:
        """Member ``name`` as an array: its .npy header checked (never a pickle; floats or
        text, or for a training member the kinds :data:`TRAINING_MEMBERS` names), then
        exactly the bytes the header promises."""
        info = self._infos[name]
        try:
            data = self._archive.read(info)
        except Exception as e:  # a bad CRC, a cut or garbled stream, a wrong local header
            raise ModelFileError(f"member {info.filename} is damaged ({type(e).__name__})") \
                from None
        return _npy(info.filename, data, TRAINING_MEMBERS.get(name, "fU"))


def _npy(name: str, data: bytes, kinds: str = "fU") -> np.ndarray:
    """The array in one member's .npy bytes, read without np.load: header first (never an
    object dtype, so never a pickle), then exactly the bytes the header promises."""
    if not data.startswith(b"\x93NUMPY"):
        raise ModelFileError(f"member {name} is not an .npy array")
    f = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError
    except Exception:
        raise ModelFileError(f"member {name} has a damaged .npy header") from None
    if dtype.hasobject:
        raise ModelFileError("refused: the file holds pickled objects")
    if dtype.kind not in kinds or dtype.itemsize == 0:
        wanted = {"i": "whole numbers", "U": "text"}.get(kinds, "floating-point numbers")
        raise ModelFileError(f"member {name} holds {shown(dtype.str)} values, not {wanted}")
    need = math.prod(shape) * dtype.itemsize
    got = len(data) - f.tell()
    if got != need:
        promised = f"{need:,}" if need < 10**18 else "more than 10**18"
        raise ModelFileError(f"member {name} holds {got:,} bytes of data; its header "
                             f"promises {promised}")
    return np.frombuffer(data, dtype, offset=f.tell()).reshape(
        shape, order="F" if fortran else "C")


def json_object(member: np.ndarray, what: str, max_chars: int, max_brackets: int,
                allowed: str) -> dict:
    """The JSON object in a text member of a file, its length and nesting capped before it
    is parsed (deep nesting would exhaust the parser); ModelFileError naming ``what``,
    with ``allowed`` saying how many brackets it may hold."""
    if member.dtype.kind != "U" or member.shape != ():
        raise ModelFileError(f"{what} is not a text (a JSON string)")
    text = str(member[()])
    if len(text) > max_chars:
        raise ModelFileError(f"{what} is {len(text):,} characters long; "
                             f"at most {max_chars:,} are accepted")
    brackets = text.count("[") + text.count("{")
    if brackets > max_brackets:
        raise ModelFileError(f"{what} holds {brackets:,} brackets; {allowed}")
    try:
        found = json.loads(text)
    except (ValueError, RecursionError):
        raise ModelFileError(f"{what} is not valid JSON") from None
    if not isinstance(found, dict):
        raise ModelFileError(f"{what} is not valid JSON (not an object)")
    return found


def _read_config(member: np.ndarray, max_layers: int) -> dict:
    """The config's fields, each checked for type and size before MLP sees it."""
    # a model's config holds one object with one list: no deep nesting
    config = json_object(member, "the model's config", MAX_CONFIG_CHARS, 8,
                         "a model's holds 2")
    if config.pop("format", None) != FORMAT:
        raise ModelFileError(f"unknown model format; expected {FORMAT!r}")
    expected = {"layer_sizes", "activation", "output", "loss", "init", "l2", "seed", "dtype"}
    if set(config) != expected:
        diff = sorted(set(config) ^ expected)
        listed = ", ".join(brief(key, 20) for key in diff[:3])
        more = f" and {len(diff) - 3:,} more" if len(diff) > 3 else ""
        raise ModelFileError(f"the model's config has unknown or missing keys: {listed}{more}")
    sizes = config["layer_sizes"]
    if isinstance(sizes, list) and len(sizes) - 1 > max_layers:
        raise ModelFileError(f"the model has {len(sizes) - 1:,} layers; at most "
                             f"{max_layers:,} are accepted")
    return config


def _megabytes(n: int) -> str:
    return f"{n / 2**20:,.1f} MB"
