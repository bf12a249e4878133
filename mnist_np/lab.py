"""The neuron lab and the network diagram: what one unit does, and changes made by hand.

Layers are numbered as in ``network.py``: ``a_l`` for ``l = 1 .. L`` (``L`` the output),
``W_l: (n_{l-1}, n_l)``, kept in ``net.weights[l - 1]``. A *unit* is column ``j`` of
``a_l``. Inputs are ``X: (n, 784)`` and labels ``y: (n,)``.

Switching hidden unit ``j`` of layer ``l`` off sets its outgoing row ``W_{l+1}[j, :]`` to
zero. That silences it for every activation: whatever ``a_l[j]`` is, it then adds
nothing to ``z_{l+1} = a_l W_{l+1} + b_{l+1}``, exactly as if the unit were removed.
Zeroing its incoming column and bias instead would leave ``a_l[j] = f(0)``, which is 0.5
for the sigmoid and still feeds the next layer. An output unit cannot be switched off
(it has no outgoing weights); its weights and bias can be edited.

Every change returns a :class:`Change` holding the values it overwrote, so
:func:`undo` puts back exactly (bitwise) what was there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .metrics import confusion_matrix, per_class_accuracy
from .stepthrough import sgd_step

# A sigmoid/tanh unit is called saturated when it is saturated for this share of digits
# (the activation registry's test: its derivative below a tenth of its peak).
SATURATED_SHARE = 0.9
CHUNK = 4096  # rows per forward pass: a 4 x 1,024 network's activations stay small


# -- changes by hand ---------------------------------------------------------------------
@dataclass(frozen=True)
class Patch:
    """Values overwritten in one array: ``param`` ``"W"`` or ``"b"`` of
    ``net.weights[index]`` / ``net.biases[index]``; ``flat: (m,) int64`` positions in it
    (C order) and ``old: (m,)`` what they held before (the array's dtype)."""

    param: str
    index: int
    flat: np.ndarray
    old: np.ndarray


@dataclass(frozen=True)
class Change:
    """One change by hand: ``kind`` (``switch off``, ``weight``, ``bias``, ``prune``),
    ``layer`` and ``units`` it touched, ``what`` in one line, and its patches."""

    kind: str
    layer: int
    units: tuple[int, ...]
    what: str
    patches: tuple[Patch, ...]


def _array(net, param: str, index: int) -> np.ndarray:
    return net.weights[index] if param == "W" else net.biases[index]


def _overwrite(net, param: str, index: int, flat, value) -> Patch:
    arr = _array(net, param, index)
    flat = np.asarray(flat, np.int64).ravel()
    old = np.take(arr, flat)  # a copy
    np.put(arr, flat, np.asarray(value, arr.dtype))
    return Patch(param, index, flat, old)


def undo(net, change: Change) -> None:
    """Put back exactly the values ``change`` overwrote (later changes first, when
    undoing several). ValueError when the network no longer has its shapes."""
    for p in reversed(change.patches):
        if p.index >= len(net.weights):
            raise ValueError("the network has fewer layers than when the change was made")
        arr = _array(net, p.param, p.index)
        if arr.dtype != p.old.dtype or (p.flat.size and int(p.flat.max()) >= arr.size):
            raise ValueError("the network's shapes changed since the change was made")
    for p in reversed(change.patches):
        np.put(_array(net, p.param, p.index), p.flat, p.old)


def one_update(net, x, label: int, lr: float, what: str
               ) -> tuple[Change, np.ndarray, np.ndarray]:
    """One plain gradient-descent step on one digit (``stepthrough.sgd_step``: every
    weight and bias moves by ``-lr`` times its gradient for ``x: (784,)`` alone) as a
    change by hand, holding every value it overwrote so :func:`undo` is exact.

    Returns the change and the output ``a_L`` before and after the step, both ``(n_L,)``.
    """
    patches = tuple(Patch(param, l, np.arange(arr.size, dtype=np.int64), arr.ravel().copy())
                    for param, arrays in (("W", net.weights), ("b", net.biases))
                    for l, arr in enumerate(arrays))
    before, after = sgd_step(net, x, label, lr)
    return Change("update", len(net.weights), (), what, patches), before, after


def _hidden(net, layer: int) -> int:
    L = len(net.weights)
    if not 1 <= layer <= L - 1:
        raise ValueError(f"layer {layer} is not a hidden layer (1 to {L - 1})")
    return net.layer_sizes[layer]


def _units(units, n: int) -> np.ndarray:
    units = np.unique(np.asarray(units, np.int64).ravel())
    if units.size and not (0 <= units[0] and units[-1] < n):
        raise ValueError(f"unit numbers must be 0 to {n - 1}")
    return units


def switch_off(net, layer: int, units) -> Change:
    """Silence hidden ``units`` of layer ``layer``: zero their outgoing rows
    ``W_{layer+1}[units, :]`` (``net.weights[layer]``), nothing else."""
    units = _units(units, _hidden(net, layer))
    W = net.weights[layer]
    flat = (units[:, None] * W.shape[1] + np.arange(W.shape[1])).ravel()
    names = ", ".join(map(str, units[:8])) + (" …" if len(units) > 8 else "")
    what = f"switched off unit{'s' * (len(units) != 1)} {names} of hidden layer {layer}"
    return Change("switch off", layer, tuple(int(u) for u in units), what,
                  (_overwrite(net, "W", layer, flat, 0),))


def _finite(value) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"a weight must be a finite number, got {value}")
    return value


def set_weight(net, layer: int, i: int, j: int, value: float) -> Change:
    """Set ``W_layer[i, j]`` (input ``i`` of layer ``layer - 1`` into unit ``j``)."""
    if not 1 <= layer <= len(net.weights):
        raise ValueError(f"there is no layer {layer}")
    W = net.weights[layer - 1]
    if not (0 <= i < W.shape[0] and 0 <= j < W.shape[1]):
        raise ValueError(f"W{layer} is {W.shape[0]}×{W.shape[1]}: no weight [{i}, {j}]")
    value = _finite(value)
    before = float(W[i, j])
    return Change("weight", layer, (int(j),),
                  f"set W{layer}[{i}, {j}] from {before:.4g} to {value:.4g}",
                  (_overwrite(net, "W", layer - 1, i * W.shape[1] + j, value),))


def set_bias(net, layer: int, j: int, value: float) -> Change:
    """Set ``b_layer[j]``, unit ``j``'s bias."""
    if not 1 <= layer <= len(net.biases):
        raise ValueError(f"there is no layer {layer}")
    b = net.biases[layer - 1]
    if not 0 <= j < b.size:
        raise ValueError(f"layer {layer} has {b.size} units: no unit {j}")
    value = _finite(value)
    before = float(b[j])
    return Change("bias", layer, (int(j),),
                  f"set b{layer}[{j}] from {before:.4g} to {value:.4g}",
                  (_overwrite(net, "b", layer - 1, j, value),))


def silent(net, layer: int) -> np.ndarray:
    """``(n_layer,)`` bool: the hidden units whose outgoing weights are all zero."""
    _hidden(net, layer)
    return ~np.any(net.weights[layer] != 0, axis=1)


# -- one unit ---------------------------------------------------------------------------
def activations(net, X, layer: int, chunk: int = CHUNK) -> np.ndarray:
    """``a_layer: (n, n_layer)`` for ``X`` (for the output layer: its probabilities)."""
    X = np.asarray(X, net.dtype)
    if not 1 <= layer <= len(net.weights):
        raise ValueError(f"there is no layer {layer}")
    parts = [net.forward(X[s:s + chunk]).activations[layer] for s in range(0, len(X), chunk)]
    return np.concatenate(parts) if parts else np.zeros((0, net.layer_sizes[layer]), net.dtype)


def top_activating(a: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` largest values of one unit's ``a: (n,)``, largest first."""
    return np.argsort(-np.asarray(a), kind="stable")[:max(0, int(k))]


@dataclass(frozen=True)
class UnitState:
    """``label``: ``dead`` (a ReLU-family unit that is 0 for every digit),
    ``saturated`` (sigmoid/tanh, flat for at least :data:`SATURATED_SHARE` of digits) or
    ``alive``; ``share``: the fraction of digits it is active for (ReLU family) or
    saturated for (sigmoid, tanh); ``kind``: which of the two ``share`` is."""

    label: str
    share: float
    kind: str


def unit_state(net, a: np.ndarray) -> UnitState:
    """Dead, saturated or alive, from one hidden unit's activations ``a: (n,)``."""
    a = np.asarray(a)
    if not a.size:
        return UnitState("alive", float("nan"), "active")
    if net.act.saturation_label == "dead":
        share = float(np.mean(a > 0))
        return UnitState("dead" if share == 0 else "alive", share, "active")
    share = net.act.saturation(a[:, None])
    return UnitState("saturated" if share >= SATURATED_SHARE else "alive", share, "saturated")


def _logits_from(net, a: np.ndarray, layer: int, W_next: np.ndarray | None = None
                 ) -> np.ndarray:
    """``z_L`` from ``a_layer``, with ``W_next`` in place of ``W_{layer+1}`` if given."""
    L = len(net.weights)
    z = a
    for l in range(layer, L):
        W = W_next if (l == layer and W_next is not None) else net.weights[l]
        z = a @ W + net.biases[l]
        if l < L - 1:
            a = net.act.f(z)
    return z


def _layer_a(net, X, layer: int, a: np.ndarray | None) -> np.ndarray:
    """``a_layer`` for ``X``: ``a`` when the caller has it already (one forward pass
    shared by several views), else computed."""
    return activations(net, X, layer) if a is None else np.asarray(a)


def votes(net, X, layer: int, j: int, a: np.ndarray | None = None) -> np.ndarray:
    """``(n_L,)``: how much hidden unit ``j`` of layer ``layer`` raises each class's
    logit ``z_L``, on average over ``X``: the logits with it minus without it (switched
    off). For the last hidden layer this is ``mean(a_j) · W_L[j, :]``, its outgoing
    weights scaled by how much it fires. ``a``: ``a_layer`` for ``X``, if known."""
    n = _hidden(net, layer)
    if not 0 <= j < n:
        raise ValueError(f"unit numbers must be 0 to {n - 1}")
    a = _layer_a(net, X, layer, a)
    W = net.weights[layer].copy()
    W[j] = 0
    diff = _logits_from(net, a, layer) - _logits_from(net, a, layer, W)
    return diff.mean(axis=0, dtype=np.float64)


def accuracy_per_digit(net, X, y) -> np.ndarray:
    """``(k,)``: the fraction of each true digit the network reads right."""
    pred = net.predict(X)
    return per_class_accuracy(confusion_matrix(y, pred, net.layer_sizes[-1]))


# -- pruning ------------------------------------------------------------------------------
def importance(net, X, layer: int, a: np.ndarray | None = None) -> np.ndarray:
    """``(n_layer,)``: how much each hidden unit can move the next layer on ``X``:
    ``mean|a_j| · ‖W_{layer+1}[j, :]‖₂``. A dead or switched-off unit scores 0.
    ``a``: ``a_layer`` for ``X``, if known."""
    _hidden(net, layer)
    a = _layer_a(net, X, layer, a)
    size = np.abs(a).mean(axis=0, dtype=np.float64)
    return size * np.linalg.norm(net.weights[layer].astype(np.float64), axis=1)


def pruning_order(scores: np.ndarray) -> np.ndarray:
    """Units from the least important up (ties by unit number)."""
    return np.argsort(np.asarray(scores), kind="stable")


def prune(net, layer: int, k: int, scores: np.ndarray) -> Change:
    """Switch off the ``k`` least important units of hidden layer ``layer``."""
    units = pruning_order(scores)[:max(0, int(k))]
    change = switch_off(net, layer, units)
    return Change("prune", layer, change.units,
                  f"pruned the {len(units)} least important units of hidden layer {layer}",
                  change.patches)


def pruning_curve(net, X, y, layer: int, ks: Sequence[int], scores: np.ndarray,
                  a: np.ndarray | None = None) -> np.ndarray:
    """``(len(ks),)``: accuracy on ``X, y`` with the ``k`` least important units of
    ``layer`` switched off, for each ``k`` of ``ks`` (each set holds the smaller ones),
    computed on copies of ``W_{layer+1}``: the network is not changed. ``a``:
    ``a_layer`` for ``X``, if known."""
    n = _hidden(net, layer)
    order = pruning_order(scores)
    y = np.asarray(y)
    a = _layer_a(net, X, layer, a)
    out = np.empty(len(ks))
    for i, k in enumerate(ks):
        if not 0 <= k <= n:
            raise ValueError(f"k must be 0 to {n}, got {k}")
        W = net.weights[layer].copy()
        W[order[:k]] = 0
        out[i] = np.mean(_logits_from(net, a, layer, W).argmax(axis=1) == y) if len(y) \
            else np.nan
    return out


def curve_points(n: int, points: int = 11) -> list[int]:
    """About ``points`` values of ``k`` from 0 to ``n``, each once, rising."""
    return sorted(set(np.rint(np.linspace(0, n, min(points, n + 1))).astype(int).tolist()))


# -- the diagram -----------------------------------------------------------------------
@dataclass(frozen=True)
class DiagramLayer:
    """Layer ``l``'s shown units: ``units: (m,)`` ascending, ``a: (m,)`` their activation
    for the digit, ``size`` the layer's width, ``off: (m,)`` bool switched off."""

    units: np.ndarray
    a: np.ndarray
    size: int
    off: np.ndarray


@dataclass(frozen=True)
class DiagramView:
    """What the network diagram draws for one digit ``x: (784,)``: ``layers`` ``l = 1
    .. L``; ``fields: (m_1, 784)`` the shown first-layer units' incoming weights;
    ``edges[l - 2]`` for ``l = 2 .. L``: ``(source, target, weight)`` arrays, positions
    in the shown units of layers ``l - 1`` and ``l``, the ``top_k`` largest ``|W_l|``
    into each shown unit; ``prediction`` the network's answer."""

    x: np.ndarray
    layers: list[DiagramLayer]
    fields: np.ndarray
    edges: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    prediction: int


def _most_active(a: np.ndarray, m: int, keep: int | None) -> np.ndarray:
    order = np.argsort(-np.abs(a), kind="stable")[:m]
    if keep is not None and 0 <= keep < a.size and keep not in order:
        order = np.append(order[:m - 1], keep)
    return np.sort(order)


def diagram_view(net, x, max_units: int = 32, top_k: int = 3,
                 keep: tuple[int, int] | None = None) -> DiagramView:
    """The diagram of ``net`` reading ``x: (784,)``: per layer its ``max_units`` most
    active units (largest ``|a|``; every unit of a smaller layer; unit ``keep = (l, j)``
    always), and the ``top_k`` strongest incoming edges of each."""
    x = np.asarray(x, net.dtype).ravel()
    fwd = net.forward(x[None])
    L = len(net.weights)
    layers = []
    for l in range(1, L + 1):
        a = fwd.activations[l][0]
        m = a.size if l == L else min(max_units, a.size)
        units = _most_active(a, m, keep[1] if keep and keep[0] == l else None)
        off = silent(net, l)[units] if l < L else np.zeros(units.size, bool)
        layers.append(DiagramLayer(units, a[units], a.size, off))
    edges = []
    for l in range(2, L + 1):
        src, dst = layers[l - 2].units, layers[l - 1].units
        W = net.weights[l - 1][np.ix_(src, dst)]  # (m_{l-1}, m_l)
        k = min(top_k, len(src))
        top = np.argsort(-np.abs(W), axis=0, kind="stable")[:k]  # (k, m_l)
        target = np.broadcast_to(np.arange(len(dst)), top.shape)
        edges.append((top.ravel(), target.ravel().copy(), W[top, target].ravel()))
    fields = net.weights[0][:, layers[0].units].T.copy()
    return DiagramView(x, layers, fields, edges, int(fwd.output[0].argmax()))
