"""One file for a network and how it was trained: download, upload, ``--out``, checkpoints.

The file is the network's ``.npz`` exactly as :meth:`MLP.save` writes it (so ``MLP.load``
reads the network, and readers older than this module still do), plus the trainer's state
in the members of :data:`network.TRAINING_MEMBERS`: numbers and names in one JSON text
(``training.npy``), arrays as ``.npy`` members, no pickles. With ``P`` the parameter
count (all weights, then all biases, each flattened) the arrays are:

- ``order: (n_train,) int32``: this epoch's shuffle, as positions in the training split;
- ``history_step: (H,) int64``, ``history_loss``, ``history_accuracy: (H,)``,
  ``history_grad_norms``, ``history_update_ratios: (H, L)``, ``history_saturation: (H, L-1)``;
- ``epochs: (K, 7) float64``: the :class:`EpochRecord` fields in order;
- ``snapshots: (S, P)`` and ``snapshot_steps: (S, 2) int64`` (step, epoch);
- ``optimizer_velocity`` (momentum), ``optimizer_m`` and ``optimizer_v`` (Adam): ``(P,)``,
  absent before the first step;
- ``best_params: (P,)``: the best epoch's weights, kept for early stopping (``patience``).

The JSON holds the shuffling generator's state (``rng``) and the augmentation's
(``aug_rng``; files written before augmentation have none, and their settings no ``aug_*``),
and dropout's (``dropout_rng``), the best epoch (``best``) and why a stopping rule ended the
run (``stop_reason``): a file from before dropout and early stopping has none of them, nor
their settings or the optimizer's hyperparameters, and loads with their defaults.

:func:`load_training` distrusts every member as ``MLP.load`` does: names allow-listed,
sizes capped before reading, the JSON's length and brackets capped before parsing, every
field type-checked, every shape checked against the network, every counter in range.
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .augment import LIMITS as AUG_LIMITS
from .network import (
    MLP,
    TRAINING_MEMBERS,
    ConfigError,
    ModelFileError,
    brief,
    json_object,
    open_model,
    shown,
)
from .optimizers import OPTIMIZERS
from .training import (
    MAX_EPOCH_RECORDS,
    SCHEDULES,
    Best,
    EpochRecord,
    Snapshot,
    TrainConfig,
    Trainer,
    TrainerState,
)

FORMAT = "mnist_np/training/1"
MAX_FILE_BYTES = 2**30  # MLP.load's default
MAX_JSON_CHARS = 16_384  # the state's JSON is about 1,000 characters
MAX_BRACKETS = 20  # it holds 13 objects and no list
MAX_TEXT = 1000  # a message or a data source's name
MAX_HISTORY_POINTS = 10**6
MAX_SNAPSHOTS = 10_000
_BIG = 2**53  # counters above this are not a real run's
_HEADER = 4096  # an .npy header's bytes, at most, on top of its data

NETWORK_ONLY_NOTE = ("This file holds the network only (saved before files carried their "
                     "training): its training settings are unknown.")
_EPOCH_FIELDS = [f.name for f in fields(EpochRecord)]
_CONFIG_FIELDS = [f.name for f in fields(TrainConfig)]
# Settings added after files of this format were first written, with the value that a file
# without them means (it was trained without them).
_LATER_CONFIG: dict = {f"aug_{name}": 0.0 for name in AUG_LIMITS}
_LATER_CONFIG |= {f.name: f.default for f in fields(TrainConfig) if f.name in (
    "dropout", "patience", "target_accuracy", "momentum", "beta1", "beta2", "eps")}
_OPTIMIZER_NUMBERS = {"sgd": (), "momentum": ("mu",), "adam": ("beta1", "beta2", "eps", "t")}


@dataclass
class TrainingFile:
    """What :func:`load_training` read. ``trainer`` is ``None`` for a network-only file or
    one trained on other data, and ``note`` then says why in one line; ``config`` and
    ``data_source`` are the file's training settings and data whenever it has them."""

    net: MLP
    trainer: Trainer | None
    saved_on: str | None
    note: str | None
    config: TrainConfig | None = None
    data_source: str | None = None


def _flat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([a.ravel() for a in arrays])


def _unflat(vector: np.ndarray, like: list[np.ndarray]) -> list[np.ndarray]:
    out, at = [], 0
    for a in like:
        out.append(vector[at:at + a.size].reshape(a.shape).astype(a.dtype))
        at += a.size
    return out


def save_training(trainer: Trainer, data_source: str,
                  max_snapshot_bytes: int | None = None) -> bytes:
    """The network and its trainer in one ``.npz`` (see the module's docstring), with the
    name of the data it was trained on (``MNIST.source``), as bytes. With
    ``max_snapshot_bytes``, the weight snapshots kept in the file are thinned evenly (the
    first always, the last when two fit) to about that many bytes: they are for showing
    the weights over training and do not change how training goes on. Raise ValueError
    when the trainer's optimizer or snapshots do not match its network's shapes (a network
    put in by hand with other layer sizes)."""
    net, state = trainer.net, trainer.state()
    if max_snapshot_bytes is not None and state.snapshots:
        size = sum(W.nbytes + b.nbytes for W, b in zip(net.weights, net.biases))
        keep = max(1, min(len(state.snapshots), max_snapshot_bytes // max(1, size)))
        picked = np.unique(np.linspace(0, len(state.snapshots) - 1, keep).round().astype(int))
        state.snapshots = [state.snapshots[i] for i in picked]
    params = net.weights + net.biases
    shapes = [p.shape for p in params]
    extra: dict[str, np.ndarray] = {"order": state.order.astype(np.int32)}  # n_train < 2**31
    extra |= {f"history_{name}": column for name, column in state.history.items()}
    extra["epochs"] = np.array([[getattr(r, f) for f in _EPOCH_FIELDS]
                                for r in state.epoch_records], np.float64).reshape(-1, 7)
    for snap in state.snapshots:
        if [a.shape for a in snap.weights + snap.biases] != shapes:
            raise ValueError("a snapshot's shapes differ from the network's")
    extra["snapshots"] = np.stack([_flat(s.weights + s.biases).astype(net.dtype)
                                   for s in state.snapshots])
    extra["snapshot_steps"] = np.array([[s.step, s.epoch] for s in state.snapshots], np.int64)
    optimizer = {"name": state.config.optimizer}
    for key, value in state.optimizer.items():
        if key in trainer.optimizer.state_arrays:
            if value is not None:
                if [a.shape for a in value] != shapes:
                    raise ValueError(f"the optimizer's {key} differs from the network's shapes")
                extra[f"optimizer_{key}"] = _flat(value)
        else:
            optimizer[key] = value
    meta = {
        "format": FORMAT,
        "saved_on": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "data": {"source": data_source, "n_images": trainer.n_images,
                 "n_train": state.n_train, "n_val": state.n_val},
        "config": state.config.to_dict(),
        "counters": {"step_count": state.step_count,
                     "completed_epochs": state.completed_epochs,
                     "samples_seen": state.samples_seen, "train_seconds": state.train_seconds,
                     "position": state.position, "epoch_loss": state.epoch_loss,
                     "epoch_correct": state.epoch_correct},
        "rng": state.rng,
        "aug_rng": state.aug_rng,
        "optimizer": optimizer,
        "diverged": state.diverged,
        "message": state.message,
        "history": {"max_points": state.max_history, "stride": state.history_stride},
        "max_snapshots": state.max_snapshots,
        "dropout_rng": state.dropout_rng,
        "best": None if state.best is None else {"epoch": state.best.epoch,
                                                 "accuracy": state.best.accuracy},
        "stop_reason": state.stop_reason,
    }
    if state.best is not None:
        best = state.best.weights + state.best.biases
        if [a.shape for a in best] != shapes:
            raise ValueError("the best epoch's shapes differ from the network's")
        extra["best_params"] = _flat(best)
    extra["training"] = np.array(json.dumps(meta))
    buffer = io.BytesIO()
    net.save(buffer, extra=extra)
    return buffer.getvalue()


def load_training(raw: bytes, X: np.ndarray, y: np.ndarray, data_source: str,
                  max_bytes: int = MAX_FILE_BYTES) -> TrainingFile:
    """Read a file of :func:`save_training` (or of ``MLP.save``) and, when it was trained
    on this data (``data_source`` and ``len(X)`` as saved), rebuild its trainer on ``X, y``
    (``(n, 784)`` images, ``(n,)`` labels): continuing it takes exactly the steps the saved
    trainer would have taken. Raise ModelFileError, one short line, on a malformed file."""
    if not isinstance(raw, (bytes, bytearray)):
        raise ModelFileError("cannot read the model file: it does not give bytes")
    net, archive = open_model(io.BytesIO(bytes(raw)), max_bytes)
    training = archive.names & set(TRAINING_MEMBERS)
    if "training" not in training:
        if training:
            listed = ", ".join(sorted(training)[:3])
            raise ModelFileError(f"the file holds training arrays ({listed}) but no "
                                 "training state")
        return TrainingFile(net, None, None, NETWORK_ONLY_NOTE)
    meta = _json(archive.read("training"))
    try:
        state, source, n_images, saved_on = _state(meta, archive, net)
    except (ModelFileError, ConfigError) as e:
        raise ModelFileError(f"the file's training state is not usable: {e}") from None
    except Exception as e:  # a check missed: still one line
        raise ModelFileError(f"the file's training state cannot be read ({type(e).__name__})") \
            from None
    result = TrainingFile(net, None, saved_on, None, TrainConfig(**state.config.to_dict()),
                          source)
    X = np.asarray(X)
    if source != data_source or n_images != len(X) or X.ndim != 2 \
            or X.shape[1] != net.layer_sizes[0]:
        result.note = (f"This file was trained on {brief(source)} ({n_images:,} images), not on "
                       f"the data here ({brief(data_source)}, {len(X):,} images): the network "
                       "is loaded, its training cannot continue.")
        return result
    try:
        result.trainer = Trainer.restore(net, X, y, state)
    except Exception as e:
        raise ModelFileError(f"the file's training state cannot be restored "
                             f"({type(e).__name__})") from None
    return result


# -- reading, every field checked ----------------------------------------------------------
def _json(member: np.ndarray) -> dict:
    meta = json_object(member, "the file's training state", MAX_JSON_CHARS, MAX_BRACKETS,
                       f"at most {MAX_BRACKETS} are accepted")
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"unknown training-state format; expected {FORMAT!r}")
    return meta


class _Fields:
    """A JSON object whose keys must be exactly ``keys``; each value read by type."""

    def __init__(self, obj, where: str, keys):
        if not isinstance(obj, dict):
            raise ModelFileError(f"{where} must be an object, got {shown(obj)}")
        if set(obj) != set(keys):
            diff = sorted(set(obj) ^ set(keys))
            listed = ", ".join(brief(str(k), 20) for k in diff[:3])
            more = f" and {len(diff) - 3:,} more" if len(diff) > 3 else ""
            raise ModelFileError(f"{where} has unknown or missing keys: {listed}{more}")
        self.obj, self.where = obj, where

    def _bad(self, key: str, wanted: str):
        return ModelFileError(f"{self.where}.{key} must be {wanted}, got {shown(self.obj[key])}")

    def whole(self, key: str, lo: int = 0, hi: int = _BIG) -> int:
        value = self.obj[key]
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise self._bad(key, f"a whole number in [{lo:,}, {hi:,}]")
        return value

    def whole_or_none(self, key: str, lo: int = 0, hi: int = _BIG) -> int | None:
        return None if self.obj[key] is None else self.whole(key, lo, hi)

    def num(self, key: str, lo: float = -math.inf, hi: float = math.inf) -> float:
        value = self.obj[key]
        if not isinstance(value, (int, float)) or isinstance(value, bool) \
                or not (math.isfinite(value) and lo <= value <= hi):
            raise self._bad(key, f"a finite number in [{lo}, {hi}]")
        return float(value)

    def num_or_none(self, key: str, lo: float = -math.inf, hi: float = math.inf
                    ) -> float | None:
        return None if self.obj[key] is None else self.num(key, lo, hi)

    def text(self, key: str, choices=None) -> str:
        value = self.obj[key]
        if not isinstance(value, str) or len(value) > MAX_TEXT \
                or (choices is not None and value not in choices):
            raise self._bad(key, f"one of {sorted(choices)}" if choices else
                            f"a text of at most {MAX_TEXT} characters")
        return value

    def flag(self, key: str) -> bool:
        value = self.obj[key]
        if not isinstance(value, bool):
            raise self._bad(key, "true or false")
        return value


def _array(archive, name: str, shape: tuple, itemsize: int = 8) -> np.ndarray:
    """Member ``name``, its declared size capped before it is read, its shape checked."""
    if name not in archive.names:
        raise ModelFileError(f"array {name} is missing")
    cap = math.prod(shape) * itemsize + _HEADER
    if archive.declared_size(name) > cap:
        raise ModelFileError(f"array {name} unpacks to {archive.declared_size(name):,} bytes; "
                             f"its shape {shape} needs at most {cap:,}")
    arr = archive.read(name)
    if arr.shape != shape:
        raise ModelFileError(f"array {name} has shape {shown(arr.shape)}, {shape} expected")
    return arr


def _rows(archive, name: str, max_rows: int, width: int | None) -> np.ndarray:
    """A member of up to ``max_rows`` rows (of ``width`` columns): read, then its length
    is the caller's to check against the others."""
    if name not in archive.names:
        raise ModelFileError(f"array {name} is missing")
    cap = max_rows * (width or 1) * 8 + _HEADER
    if archive.declared_size(name) > cap:
        raise ModelFileError(f"array {name} unpacks to {archive.declared_size(name):,} bytes; "
                             f"at most {cap:,} are accepted")
    arr = archive.read(name)
    if arr.ndim != (1 if width is None else 2) or (width is not None and arr.shape[1] != width):
        want = "(rows,)" if width is None else f"(rows, {width})"
        raise ModelFileError(f"array {name} has shape {shown(arr.shape)}, {want} expected")
    return arr


def _check(ok, message: str) -> None:
    if not ok:
        raise ModelFileError(message)


def _dropout_stopping_optimizer(c: _Fields) -> dict[str, Any]:
    """The config's dropout, stopping rules and optimizer hyperparameters, checked."""
    return {"dropout": c.num("dropout", 0, 0.999999),
            "patience": c.whole_or_none("patience", 1, 10**6),
            "target_accuracy": c.num_or_none("target_accuracy", 1e-9, 1),
            "momentum": c.num("momentum", 0, 0.999999), "beta1": c.num("beta1", 0, 0.999999),
            "beta2": c.num("beta2", 0, 0.999999), "eps": c.num("eps", 1e-300, 1)}


def _generator_state(obj, where: str) -> dict:
    """A PCG64 generator's ``bit_generator.state``, every field checked."""
    r = _Fields(obj, where, ["bit_generator", "state", "has_uint32", "uinteger"])
    r.text("bit_generator", {"PCG64"})
    pcg = _Fields(obj["state"], f"{where}.state", ["state", "inc"])
    pcg.whole("state", 0, 2**128 - 1), pcg.whole("inc", 0, 2**128 - 1)
    r.whole("has_uint32", 0, 1), r.whole("uinteger", 0, 2**32 - 1)
    return obj


def _state(meta: dict, archive, net: MLP) -> tuple[TrainerState, str, int, str]:
    top = _Fields(meta, "the state", ["format", "saved_on", "data", "config", "counters",
                                       "rng", "optimizer", "diverged", "message", "history",
                                       "max_snapshots",
                                       *(["aug_rng"] if "aug_rng" in meta else []),
                                       *[k for k in ("dropout_rng", "best", "stop_reason")
                                         if k in meta]])
    saved_on = top.text("saved_on")
    data = _Fields(meta["data"], "data", ["source", "n_images", "n_train", "n_val"])
    source, n_images = data.text("source"), data.whole("n_images", 1)
    n_train, n_val = data.whole("n_train", 1), data.whole("n_val")

    given = meta["config"]
    if isinstance(given, dict):
        given = {k: v for k, v in _LATER_CONFIG.items() if k in _CONFIG_FIELDS} | given
    c = _Fields(given, "config", _CONFIG_FIELDS)
    config = TrainConfig(
        optimizer=c.text("optimizer", OPTIMIZERS), lr=c.num("lr", 0, 1e6),
        batch_size=c.whole("batch_size", 1), epochs=c.whole("epochs"),
        steps=c.whole_or_none("steps", 1), train_limit=c.whole_or_none("train_limit", 10),
        val_size=c.whole("val_size"), seed=c.whole("seed"), schedule=c.text("schedule", SCHEDULES),
        **dict[str, Any]({f"aug_{name}": c.num(f"aug_{name}", 0, high)
                          for name, high in AUG_LIMITS.items()}),
        **_dropout_stopping_optimizer(c))
    _check(config.lr > 0, "config.lr must be positive")
    val = min(config.val_size, n_images // 5)
    train = n_images - val if config.train_limit is None else min(n_images - val,
                                                                  config.train_limit)
    _check((n_train, n_val) == (train, val),
           f"its split of {n_train:,} training and {n_val:,} validation images does not follow "
           f"from its settings and {n_images:,} images")

    k = _Fields(meta["counters"], "counters", ["step_count", "completed_epochs", "samples_seen",
                                               "train_seconds", "position", "epoch_loss",
                                               "epoch_correct"])
    steps, epochs = k.whole("step_count"), k.whole("completed_epochs")
    seen, position = k.whole("samples_seen"), k.whole("position", 0, n_train - 1)
    _check(seen == epochs * n_train + position,
           f"samples_seen {seen:,} is not {epochs:,} epochs of {n_train:,} images "
           f"and {position:,}")
    _check(epochs <= steps <= seen, f"step_count {steps:,} is out of range")
    seconds = k.num("train_seconds", 0)
    epoch_loss, epoch_correct = k.num("epoch_loss"), k.num("epoch_correct", 0, position)
    _check(epoch_correct == int(epoch_correct), "counters.epoch_correct must be whole")

    _generator_state(meta["rng"], "rng")
    aug_rng = meta.get("aug_rng")
    if aug_rng is not None:
        _generator_state(aug_rng, "aug_rng")

    name = config.optimizer
    o = _Fields(meta["optimizer"], "optimizer", ["name", *_OPTIMIZER_NUMBERS[name]])
    o.text("name", {name})
    optimizer: dict = {}
    for key in _OPTIMIZER_NUMBERS[name]:
        optimizer[key] = (o.whole(key, 0, steps) if key == "t" else
                          o.num(key, 1e-300, 1) if key == "eps" else o.num(key, 0, 0.999999))
    n_params = net.n_params
    params = net.weights + net.biases
    state_arrays: tuple[str, ...] = getattr(OPTIMIZERS[name], "state_arrays", ())
    owned = [f"optimizer_{a}" for a in state_arrays]
    stray = archive.names & {m for m in TRAINING_MEMBERS if m.startswith("optimizer_")} \
        - set(owned)
    _check(not stray, f"array {', '.join(sorted(stray))} does not belong to {name}")
    present = [m for m in owned if m in archive.names]
    _check(len(present) in (0, len(owned)), f"{name} needs all of {', '.join(owned)} or none")
    _check(present or optimizer.get("t", 0) == 0, "adam's moments are missing after step 0")
    for member, key in zip(owned, state_arrays):
        if member not in archive.names:
            optimizer[key] = None
            continue
        vector = _array(archive, member, (n_params,))
        _check(vector.dtype.kind == "f" and np.all(np.isfinite(vector)),
               f"array {member} must hold finite numbers")
        _check(key != "v" or np.all(vector >= 0), f"array {member} must be >= 0")
        optimizer[key] = _unflat(vector, params)

    diverged, message = top.flag("diverged"), top.text("message")
    h = _Fields(meta["history"], "history", ["max_points", "stride"])
    max_points = h.whole("max_points", 1, MAX_HISTORY_POINTS)
    stride = h.whole("stride", 1, 2**62)
    _check(stride & (stride - 1) == 0, "history.stride must be a power of 2")
    L = len(net.weights)
    widths = {"step": None, "loss": None, "accuracy": None, "grad_norms": L,
              "update_ratios": L, "saturation": L - 1}
    history = {f: _rows(archive, f"history_{f}", max_points, w) for f, w in widths.items()}
    points = len(history["step"])
    for f, column in history.items():
        _check(len(column) == points, f"array history_{f} has {len(column):,} rows, "
                                      f"history_step {points:,}")
    s = history["step"].astype(np.int64)
    _check(np.all(s >= 1) and np.all(s <= steps) and np.all(np.diff(s) > 0)
           and np.all(s % stride == 0), "history_step must rise, by the stride, to step_count")
    _check(np.all(np.isfinite(history["loss"])), "history_loss must be finite")
    for f in ("accuracy", "saturation"):
        _check(np.all((history[f] >= 0) & (history[f] <= 1)), f"history_{f} must be in [0, 1]")
    for f in ("grad_norms", "update_ratios"):
        _check(np.all(history[f] >= 0), f"history_{f} must be >= 0")
    history = {f: column.astype(np.int64 if f == "step" else np.float64)
               for f, column in history.items()}

    records = _rows(archive, "epochs", MAX_EPOCH_RECORDS, 7).astype(np.float64)
    count = len(records)
    _check(count <= epochs and (count > 0 or epochs == 0),
           f"{count:,} epoch records for {epochs:,} epochs")
    if count:
        e, st = records[:, 0], records[:, 1]
        _check(np.all(e == np.round(e)) and np.all(np.diff(e) > 0) and e[0] >= 1
               and e[-1] == epochs, "the epoch records' epochs must rise to completed_epochs")
        _check(np.all(st == np.round(st)) and np.all(np.diff(st) > 0) and st[0] >= 1
               and st[-1] <= steps, "the epoch records' steps must rise within step_count")
        _check(np.all(np.isfinite(records[:, [2, 6]])) and np.all(records[:, 6] >= 0),
               "the epoch records' train losses and seconds must be finite")
        for col in (3, 5):
            acc = records[:, col]
            _check(np.all(np.isnan(acc) | ((acc >= 0) & (acc <= 1))),
                   "the epoch records' accuracies must be in [0, 1]")
    epoch_records = [EpochRecord(int(row[0]), int(row[1]), *map(float, row[2:]))
                     for row in records]

    max_snapshots = top.whole("max_snapshots", 1, MAX_SNAPSHOTS)
    at = _rows(archive, "snapshot_steps", max_snapshots, 2).astype(np.int64)
    count = len(at)
    _check(count >= 1, "there must be at least one snapshot")
    _check(np.all(np.diff(at, axis=0) > 0) and np.all(at >= 0) and at[-1, 0] <= steps
           and at[-1, 1] <= epochs, "the snapshots' steps and epochs must rise within the run")
    snaps = _array(archive, "snapshots", (count, n_params))
    _check(snaps.dtype.kind == "f" and np.all(np.isfinite(snaps)),
           "array snapshots must hold finite numbers")
    snapshots = []
    for (step, epoch), vector in zip(at.tolist(), snaps):
        arrays = _unflat(vector, params)
        snapshots.append(Snapshot(step, epoch, arrays[:L], arrays[L:]))

    dropout_rng = (None if meta.get("dropout_rng") is None
                   else _generator_state(meta["dropout_rng"], "dropout_rng"))
    stop_reason = top.text("stop_reason") if "stop_reason" in meta else ""
    best = None
    if meta.get("best") is not None:
        b = _Fields(meta["best"], "best", ["epoch", "accuracy"])
        best_epoch, best_accuracy = b.whole("epoch", 1, epochs), b.num("accuracy", 0, 1)
        _check(config.patience is not None, "a best epoch is kept only with patience")
        vector = _array(archive, "best_params", (n_params,))
        _check(vector.dtype.kind == "f" and np.all(np.isfinite(vector)),
               "array best_params must hold finite numbers")
        arrays = _unflat(vector, params)
        best = Best(best_epoch, best_accuracy, arrays[:L], arrays[L:])
    else:
        _check("best_params" not in archive.names, "array best_params has no best epoch")

    order = _array(archive, "order", (n_train,)).astype(np.int64)
    _check(np.all(order >= 0) and np.all(order < n_train)
           and np.all(np.bincount(order, minlength=n_train) == 1),
           f"array order must be a permutation of the {n_train:,} training images")

    state = TrainerState(
        config=config, step_count=steps, completed_epochs=epochs, samples_seen=seen,
        train_seconds=seconds, position=position, order=order, epoch_loss=epoch_loss,
        epoch_correct=epoch_correct, rng=meta["rng"], optimizer=optimizer, diverged=diverged,
        message=message, history=history, history_stride=stride, max_history=max_points,
        epoch_records=epoch_records, snapshots=snapshots, max_snapshots=max_snapshots,
        n_train=n_train, n_val=n_val, dropout_rng=dropout_rng, best=best,
        stop_reason=stop_reason, aug_rng=aug_rng)
    return state, source, n_images, saved_on


