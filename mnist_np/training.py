"""The training loop: one mini-batch at a time, reporting what happens inside.

A :class:`Trainer` owns a network, its optimizer, the data split and the history. Its
state lives in the object, not in a running loop, so training can stop after any step
and continue later without losing anything: the dashboard runs it in short slices, the
CLI runs it to the end, the tests run a few steps. Nothing here prints.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from itertools import pairwise

import numpy as np

from .augment import Augmentation
from .augment import check as check_augmentation
from .network import MLP, Buffers, ConfigError, Forward, check_seed, shown
from .optimizers import OPTIMIZERS, make_optimizer, norm

DIVERGED_ADVICE = (
    "Training diverged: {what} at step {step}. "
    "Try a learning rate about 10x lower, a smaller initialisation (xavier or he), "
    "or a larger batch."
)
STALLED_ADVICE = (
    "Training stalled: by step {step}, {what}. A sigmoid output trained on the mean squared "
    "error learns through its slope a(1 - a), which is almost 0 once the output is pinned "
    "near 0 or 1, so the wrong outputs cannot move back and the loss stays where it is. "
    "Try a learning rate about 10x lower, or the softmax + cross-entropy output (its "
    "error a - y does not vanish when an output saturates)."
)
# A run has stalled when, for STALL_SAMPLES images in a row (and STALL_STEPS steps), at
# least STALL_STUCK of each batch had an output pinned at the wrong end (|a - y| > STUCK,
# where the slope a(1 - a) is below a tenth of its peak, the activations' "saturated"),
# and the batches' accuracy was at most twice chance. Only a sigmoid output with the MSE
# loss, whose error is multiplied by that slope, can be caught like this: a healthy slow
# start has outputs near the classes' frequencies (about 0.1), where the slope is 0.09.
STALL_SAMPLES, STALL_STEPS, STALL_STUCK = 5000, 20, 0.98
STUCK = (1 + math.sqrt(1 - 4 * 0.025)) / 2  # 0.974: a(1 - a) < 0.025 beyond it


# The learning rate is folded into backpropagation (see Trainer._step) only within this
# range: there it changes float32 rounding and nothing else, while a far smaller or larger
# factor could underflow or overflow where the gradient itself would not.
_FOLD_MIN, _FOLD_MAX = 1e-12, 1e3
# Epoch records kept at most: past this, every other one is dropped (the last kept), so a
# run until stopped keeps an evenly spread, bounded record however long it runs.
MAX_EPOCH_RECORDS = 1000
STOPPED_EARLY = "Stopped early"  # how Trainer.stop_reason begins when patience ran out


@dataclass
class TrainConfig:
    """How to train. ``steps``, when set, replaces ``epochs`` as the stopping rule;
    ``epochs=0`` (without ``steps``) trains until stopped from outside (paused, Ctrl-C).

    ``schedule`` scales the learning rate by the fraction ``p`` of training done:
    ``constant`` (1), ``linear`` (1 - p) or ``cosine`` ((1 + cos πp) / 2), both ending at 0.

    ``train_limit`` caps how many training images are used (``None``: all);
    ``val_size`` images of the training set are held out for validation.

    ``dropout``: the probability that a hidden unit is dropped at a training step
    (inverted dropout: kept units are scaled by ``1/(1-p)``, so evaluation uses the
    weights as they are). ``patience``: stop when validation accuracy has not improved
    for that many epochs, and put back the weights of the best epoch (``None``: never);
    ``target_accuracy``: stop once validation accuracy reaches it (``None``: never).
    ``momentum`` (μ of ``v ← μv − ηg``), ``beta1``, ``beta2``, ``eps``: the optimizer's.

    ``aug_shift`` (pixels), ``aug_rotate`` (degrees), ``aug_scale`` (relative),
    ``aug_elastic`` (Simard's α) and ``aug_noise`` (standard deviation): augmentation,
    each training batch distorted afresh by random amounts within these ranges (0: off;
    see :mod:`.augment`). Validation and test images are never distorted.

    The defaults are the ``default`` preset's training (``presets.py`` takes them from
    here): SGD with momentum at 0.2, decaying linearly to 0 over 4 epochs of batches of 128.
    """

    optimizer: str = "momentum"
    lr: float = 0.2
    batch_size: int = 128
    epochs: int = 4
    steps: int | None = None
    train_limit: int | None = None
    val_size: int = 5000
    seed: int = 0
    schedule: str = "linear"
    dropout: float = 0.0
    patience: int | None = None
    target_accuracy: float | None = None
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    aug_shift: float = 0.0
    aug_rotate: float = 0.0
    aug_scale: float = 0.0
    aug_elastic: float = 0.0
    aug_noise: float = 0.0

    def __post_init__(self):
        check_train_config(self)

    @property
    def augmentation(self) -> Augmentation:
        """The ``aug_*`` amounts as an :class:`~.augment.Augmentation`."""
        return Augmentation(self.aug_shift, self.aug_rotate, self.aug_scale,
                            self.aug_elastic, self.aug_noise)

    @property
    def augments(self) -> bool:
        """Whether any ``aug_*`` amount is on (cheaper than building ``augmentation``,
        which is checked on every training step)."""
        return bool(self.aug_shift or self.aug_rotate or self.aug_scale or self.aug_elastic
                    or self.aug_noise)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def optimizer_hyper(self) -> dict[str, float]:
        """The optimizer's settings beyond the learning rate (for ``make_optimizer``)."""
        return {"momentum": self.momentum, "beta1": self.beta1, "beta2": self.beta2,
                "eps": self.eps}

    @property
    def until_stopped(self) -> bool:
        """No stopping rule: train until stopped from outside."""
        return self.steps is None and self.epochs == 0


SCHEDULES = {
    "constant": lambda p: 1.0,
    "linear": lambda p: 1.0 - p,
    "cosine": lambda p: 0.5 * (1.0 + math.cos(math.pi * p)),
}


def check_train_config(c: TrainConfig) -> None:
    """Raise ConfigError with a one-line message when a setting cannot work."""
    if c.optimizer not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {c.optimizer!r}; choose from {sorted(OPTIMIZERS)}")
    if not (isinstance(c.lr, (int, float)) and math.isfinite(c.lr) and c.lr > 0):
        raise ConfigError(f"the learning rate must be a positive number, got {c.lr}")
    if not isinstance(c.batch_size, int) or c.batch_size < 1:
        raise ConfigError(f"batch size must be a whole number >= 1, got {c.batch_size}")
    if not isinstance(c.epochs, int) or c.epochs < 0:
        raise ConfigError(f"epochs must be a whole number >= 0 (0: until stopped), got {c.epochs}")
    if c.steps is not None and (not isinstance(c.steps, int) or c.steps < 1):
        raise ConfigError(f"steps must be a whole number >= 1, got {c.steps}")
    if c.train_limit is not None and (not isinstance(c.train_limit, int) or c.train_limit < 10):
        raise ConfigError(f"the training-set size must be at least 10 images, got {c.train_limit}")
    if c.schedule not in SCHEDULES:
        raise ConfigError(f"unknown schedule {c.schedule!r}; choose from {sorted(SCHEDULES)}")
    if c.until_stopped and c.schedule != "constant":
        raise ConfigError(f"the {c.schedule} schedule needs an end to decay towards: with "
                          "epochs=0 (until stopped) use the constant schedule")
    check_seed(c.seed)
    problem = check_augmentation(shift=c.aug_shift, rotate=c.aug_rotate, scale=c.aug_scale,
                                 elastic=c.aug_elastic, noise=c.aug_noise)
    if problem:
        raise ConfigError(problem)
    if not isinstance(c.val_size, int) or c.val_size < 0:
        raise ConfigError(f"the validation size must be a whole number >= 0, got {c.val_size}")
    if not _number_in(c.dropout, 0.0, 1.0) or c.dropout == 1.0:
        raise ConfigError(f"dropout must be a number in [0, 1), got {shown(c.dropout)}")
    if c.patience is not None and (not isinstance(c.patience, int) or
                                   isinstance(c.patience, bool) or c.patience < 1):
        raise ConfigError(f"patience must be a whole number of epochs >= 1, "
                          f"got {shown(c.patience)}")
    if c.target_accuracy is not None and (not _number_in(c.target_accuracy, 0.0, 1.0)
                                          or c.target_accuracy == 0):
        raise ConfigError(f"the target accuracy must be a fraction in (0, 1], "
                          f"got {shown(c.target_accuracy)}")
    if (c.patience is not None or c.target_accuracy is not None) and c.val_size == 0:
        raise ConfigError("early stopping and a target accuracy watch validation accuracy: "
                          "they need a validation size above 0")
    for name in ("momentum", "beta1", "beta2"):
        value = getattr(c, name)
        if not _number_in(value, 0.0, 1.0) or value == 1.0:
            raise ConfigError(f"{name} must be a number in [0, 1), got {shown(value)}")
    if not _number_in(c.eps, 0.0, 1.0) or c.eps == 0:
        raise ConfigError(f"Adam's eps must be a number in (0, 1], got {shown(c.eps)}")


def _number_in(x, lo: float, hi: float) -> bool:
    """``x`` is a real number (not a bool) with ``lo <= x <= hi``."""
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        return False
    try:
        return math.isfinite(x) and lo <= x <= hi
    except OverflowError:  # an int of hundreds of digits
        return False


def dropout_masks(net: MLP, n: int, p: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Inverted-dropout masks for a batch of ``n`` rows: per hidden layer an ``(n, n_l)``
    array in the network's dtype holding 0 (with probability ``p``) or ``1/(1-p)``, so the
    expected value of every masked activation is the activation itself."""
    masks = []
    for k in net.layer_sizes[1:-1]:
        mask = rng.random((n, k), dtype=net.dtype)
        np.multiply(mask >= p, net.dtype.type(1.0 / (1.0 - p)), out=mask)
        masks.append(mask)
    return masks


@dataclass
class StepRecord:
    """One mini-batch. Per-layer arrays have one entry per weight matrix (``L``), except
    ``saturation``, which has one per hidden layer (``L - 1``).

    The batch's loss and accuracy and the per-layer statistics are measured only at the
    steps :func:`stats_every` picks (NaN and ``None`` at the others: :attr:`measured`),
    and only those steps go into :class:`History`. The epoch's figures
    (:class:`EpochRecord`) count every row of every step all the same: the trainer keeps
    each batch's logits and counts their loss and right predictions after the steps.
    """

    step: int                 # mini-batches done so far, this one included
    epoch: int                # 0-based epoch this batch belongs to
    loss: float               # batch loss (data term + L2); NaN when not measured
    accuracy: float           # batch accuracy before the update; NaN when not measured
    grad_norms: np.ndarray | None     # ‖∂loss/∂W_l‖ per layer
    update_ratios: np.ndarray | None  # ‖ΔW_l‖ / ‖W_l‖ per layer
    saturation: np.ndarray | None     # saturated (sigmoid/tanh) or dead (ReLU) fraction
                                      # per hidden layer

    @property
    def measured(self) -> bool:
        """Whether this step's per-layer statistics were taken (see :func:`stats_every`)."""
        return self.grad_norms is not None


# The per-layer statistics (gradient norms, update/weight ratios, saturation), the batch's
# loss and accuracy and the record kept in History cost, measured on this project's
# machine (issue 19; one step measured against the next ones, 784-H-10 at H30 B10 to
# H512 B256), about STATS_FIXED_US plus STATS_PER_WEIGHT_US per weight (passes over ‖dW‖
# and ‖W‖, and ‖v‖ for momentum), against a step of about STEP_FIXED_US plus
# STEP_PER_MAC_US per multiply-add of its matrix products (3 n·P for P weights). They are
# taken at one step in stats_every(...), so that they cost about STATS_BUDGET of the time.
STATS_FIXED_US, STATS_PER_WEIGHT_US = 75.0, 9e-4
STEP_FIXED_US, STEP_PER_MAC_US = 55.0, 1.4e-5
STATS_BUDGET = 0.01
MAX_STATS_EVERY = 256
# ... except in a run's first steps, all measured: where the curves change fastest (the
# exploding preset diverges at step 8) and where a learner steps by hand
STATS_EVERY_STEP_UNTIL = 100


def stats_every(layer_sizes: list[int], n: int) -> int:
    """Every how many steps a network of ``layer_sizes`` trained on batches of ``n`` rows
    takes its per-layer statistics: a power of two, from 1 (large networks and batches,
    where they cost little beside the matrix products) to :data:`MAX_STATS_EVERY` (tiny
    ones, where a step is mostly per-call overhead). The steps measured are the first
    :data:`STATS_EVERY_STEP_UNTIL` and then every multiple of it: a power of two, so
    History's stride (also one) keeps them as it thins."""
    weights = sum(a * b for a, b in pairwise(layer_sizes))
    stats = STATS_FIXED_US + STATS_PER_WEIGHT_US * weights
    step = STEP_FIXED_US + STEP_PER_MAC_US * 3 * n * weights
    every = 1
    while every < MAX_STATS_EVERY and stats / every > STATS_BUDGET * step:
        every *= 2
    return every


@dataclass
class EpochRecord:
    """The end of one pass over the training split."""

    epoch: int           # epochs completed (1 for the first)
    step: int
    train_loss: float    # mean batch loss over the epoch
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float       # training time so far


class History:
    """Step records with a bounded memory: past ``max_points`` the stride doubles and
    every other stored point is dropped, so long runs keep an even, downsampled curve."""

    FIELDS = ("step", "loss", "accuracy", "grad_norms", "update_ratios", "saturation")

    def __init__(self, max_points: int = 2000):
        self.max_points, self.stride = max_points, 1
        self.columns: dict[str, list] = {f: [] for f in self.FIELDS}

    def __len__(self) -> int:
        return len(self.columns["step"])

    def add(self, rec: StepRecord) -> None:
        if rec.step % self.stride:
            return
        for f in self.FIELDS:
            self.columns[f].append(getattr(rec, f))
        if len(self) > self.max_points:
            self.stride *= 2
            keep = [i for i, s in enumerate(self.columns["step"]) if s % self.stride == 0]
            for f in self.FIELDS:
                column = self.columns[f]
                self.columns[f] = [column[i] for i in keep]

    def array(self, name: str) -> np.ndarray:
        """A column as an array: ``(points,)`` for scalars, ``(points, layers)`` per layer."""
        return np.array(self.columns[name], dtype=float)

    def export(self, n_layers: int) -> dict[str, np.ndarray]:
        """Every column as an array, for a checkpoint: ``step: (P,) int64``, ``loss`` and
        ``accuracy: (P,) float64``, ``grad_norms`` and ``update_ratios: (P, n_layers)``,
        ``saturation: (P, n_layers - 1)`` (``P`` points, none dropped)."""
        widths = {"grad_norms": n_layers, "update_ratios": n_layers,
                  "saturation": n_layers - 1}
        out: dict[str, np.ndarray] = {"step": np.array(self.columns["step"], dtype=np.int64)}
        for f in ("loss", "accuracy"):
            out[f] = np.array(self.columns[f], dtype=np.float64)
        for f, width in widths.items():
            out[f] = np.array(self.columns[f], dtype=np.float64).reshape(len(self), width)
        return out

    def load(self, columns: dict[str, np.ndarray], stride: int) -> None:
        """Replace the columns with ``columns`` as :meth:`export` gave them (checked by
        the caller), and the stride with ``stride``."""
        self.stride = int(stride)
        self.columns = {
            "step": [int(s) for s in columns["step"]],
            "loss": [float(x) for x in columns["loss"]],
            "accuracy": [float(x) for x in columns["accuracy"]],
            **{f: [np.array(row, dtype=np.float64) for row in columns[f]]
               for f in ("grad_norms", "update_ratios", "saturation")},
        }


@dataclass
class Snapshot:
    """Copies of the weights and biases at one step, for the "over training" views."""

    step: int
    epoch: int
    weights: list[np.ndarray] = field(repr=False)
    biases: list[np.ndarray] = field(repr=False)


@dataclass
class TrainerState:
    """Everything a :class:`Trainer` holds beyond its network and its data, enough to
    continue exactly (:meth:`Trainer.state`, :meth:`Trainer.restore`). ``L`` weight layers;
    the optimizer's arrays, history columns and snapshots are the trainer's own shapes."""

    config: TrainConfig
    step_count: int
    completed_epochs: int
    samples_seen: int
    train_seconds: float
    position: int        # rows of the training split done this epoch
    order: np.ndarray    # (n_train,) int64: this epoch's shuffle, as positions in the split
    epoch_loss: float    # Σ batch loss × batch rows, this epoch
    epoch_correct: float # correct predictions, this epoch
    rng: dict            # the shuffling generator's bit_generator.state (JSON-ready)
    optimizer: dict      # Optimizer.state(): numbers, and lists of arrays shaped like params
    diverged: bool
    message: str
    history: dict[str, np.ndarray]  # History.export(L)
    history_stride: int
    max_history: int
    epoch_records: list[EpochRecord]
    snapshots: list[Snapshot]
    max_snapshots: int
    n_train: int
    n_val: int
    dropout_rng: dict | None = None  # the dropout generator's state (None: no mask drawn)
    best: Best | None = None         # the best epoch so far, kept when patience is set
    stop_reason: str = ""            # why a stopping rule ended the run ("" otherwise)
    aug_rng: dict | None = None      # the augmentation generator's state (None: fresh)


@dataclass
class Best:
    """The epoch of the highest validation accuracy so far and copies of its weights
    (early stopping puts them back)."""

    epoch: int
    accuracy: float
    weights: list[np.ndarray] = field(repr=False)
    biases: list[np.ndarray] = field(repr=False)

    def copy(self) -> Best:
        return Best(self.epoch, self.accuracy, [W.copy() for W in self.weights],
                    [b.copy() for b in self.biases])


def split_indices(n: int, val_size: int, train_limit: int | None, seed: int):
    """Shuffle ``range(n)`` with ``seed``; the first ``val_size`` are validation, the next
    ``train_limit`` (or all the rest) training. Returns ``(train_idx, val_idx)``."""
    val_size = min(val_size, n // 5)
    order = np.random.default_rng(seed).permutation(n)
    val, train = order[:val_size], order[val_size:]
    if train_limit is not None:
        train = train[:train_limit]
    return np.sort(train), np.sort(val)


class Trainer:
    """Trains ``net`` on ``X: (n, 784) float32``, ``y: (n,)`` labels with ``config``.

    ``X``/``y`` are the whole training set; a validation split is held out of it.
    Call :meth:`step` for one mini-batch or iterate :meth:`run`; read :attr:`history`,
    :attr:`epochs`, :attr:`snapshots`, :attr:`diverged` and :attr:`message`.
    """

    def __init__(self, net: MLP, X: np.ndarray, y: np.ndarray, config: TrainConfig,
                 max_history: int = 2000, max_snapshots: int = 24):
        check_train_config(config)
        self.net, self.config = net, config
        train_idx, val_idx = split_indices(len(X), config.val_size, config.train_limit,
                                           config.seed)
        X, y = np.asarray(X), np.asarray(y)
        # Batches are gathered straight from ``X`` by row number, so the training split is
        # never copied: the dashboard's images are shared read-only by every session, and
        # a copy would cost each one ~170 MB. Only another dtype needs a (converted) copy.
        if X.dtype == net.dtype:
            self._X, self._y, self._rows = X, y, train_idx
        else:
            self._X, self._y = X[train_idx].astype(net.dtype), y[train_idx]
            self._rows = np.arange(len(train_idx))
        self.n_images = len(X)  # the whole training set, before the split
        self.n_train = len(train_idx)
        self.X_val = np.asarray(X[val_idx], dtype=net.dtype)
        self.y_val = np.asarray(y[val_idx])
        self.n_classes = net.layer_sizes[-1]
        self._eye = np.eye(self.n_classes, dtype=net.dtype)
        self._buffer_cache: list[Buffers] = []
        # (network, batch rows, their Buffers, cadence): what the last step used
        self._fast: tuple[MLP, int, Buffers, int] | None = None
        # every how many steps the per-layer statistics are taken: None for stats_every's
        # choice; a power of two to choose (not saved in a checkpoint)
        self._stats_every: int | None = None
        self.optimizer = make_optimizer(config.optimizer, config.lr, **config.optimizer_hyper)
        self._rng = np.random.default_rng(config.seed + 1)
        # augmentation's own generator: the batches and their order stay those of the
        # same run without it
        self._aug_rng = np.random.default_rng([config.seed, 3])
        # dropout's own generator: the batches are the same with and without dropout
        self._dropout_rng = np.random.default_rng([config.seed, 2])
        self.best: Best | None = None
        self.stop_reason = ""
        self._order = self._rows[self._rng.permutation(self.n_train)]  # rows of X
        self._pos = 0
        self._epoch_loss = self._epoch_correct = 0.0
        self._epoch_seen = 0
        # z_L of this epoch's rows by position in _order, written by the forward pass; the
        # rows before _counted are in _epoch_loss and _epoch_correct already (_count)
        self._logits: np.ndarray | None = None
        self._counted = 0
        # per row, the L2 term of its step (allocated once a network with L2 trains)
        self._row_l2: np.ndarray | None = None
        self.step_count = 0
        self.completed_epochs = 0
        self.samples_seen = 0
        self.train_seconds = 0.0
        self.history = History(max_history)
        self.epoch_records: list[EpochRecord] = []
        self.max_snapshots = max_snapshots
        self.snapshots: list[Snapshot] = []
        self._snapshot()
        self.diverged = False
        self.message = ""
        # outputs pinned at the wrong end: see STALLED_ADVICE (only sigmoid + MSE)
        self.stalled = False
        self._watch_stall = (net.output_loss.output, net.output_loss.loss_name) == (
            "sigmoid", "mse")
        self._stuck_samples = self._stuck_steps = self._stuck_correct = 0

    # -- checkpoints -------------------------------------------------------------------
    def state(self) -> TrainerState:
        """A copy of the trainer's state (see :class:`TrainerState`): with the network
        and the same ``X, y``, :meth:`restore` continues it exactly where it was."""
        self._count()  # the epoch's loss so far, in numbers: the logits are not saved
        return TrainerState(
            config=TrainConfig(**self.config.to_dict()),
            step_count=self.step_count, completed_epochs=self.completed_epochs,
            samples_seen=self.samples_seen, train_seconds=self.train_seconds,
            position=self._pos,
            # _rows is sorted, so a row's position in the split is where it sorts in
            order=np.searchsorted(self._rows, self._order).astype(np.int64),
            epoch_loss=float(self._epoch_loss), epoch_correct=float(self._epoch_correct),
            rng=dict(self._rng.bit_generator.state), optimizer=self.optimizer.state(),
            diverged=self.diverged, message=self.message,
            history=self.history.export(len(self.net.weights)),
            history_stride=self.history.stride, max_history=self.history.max_points,
            epoch_records=[EpochRecord(**asdict(r)) for r in self.epoch_records],
            snapshots=[Snapshot(s.step, s.epoch, [W.copy() for W in s.weights],
                                [b.copy() for b in s.biases]) for s in self.snapshots],
            max_snapshots=self.max_snapshots,
            n_train=self.n_train, n_val=len(self.X_val),
            aug_rng=dict(self._aug_rng.bit_generator.state),
            dropout_rng=dict(self._dropout_rng.bit_generator.state),
            best=None if self.best is None else self.best.copy(),
            stop_reason=self.stop_reason)

    @classmethod
    def restore(cls, net: MLP, X: np.ndarray, y: np.ndarray, state: TrainerState) -> Trainer:
        """A trainer of ``net`` on ``X, y`` in ``state``, as :meth:`state` gave it on the
        same data: its next steps are exactly those the saved trainer would have taken.
        ``state`` is trusted (``checkpoint.load_training`` checks a file's); a split of
        another size raises ValueError."""
        trainer = cls(net, X, y, TrainConfig(**state.config.to_dict()),
                      max_history=state.max_history, max_snapshots=state.max_snapshots)
        if (trainer.n_train, len(trainer.X_val)) != (state.n_train, state.n_val):
            raise ValueError(f"the state is of {state.n_train:,} training and {state.n_val:,} "
                             f"validation images; these data give {trainer.n_train:,} and "
                             f"{len(trainer.X_val):,}")
        trainer.step_count, trainer.completed_epochs = state.step_count, state.completed_epochs
        trainer.samples_seen, trainer.train_seconds = state.samples_seen, state.train_seconds
        # all three count this epoch's rows
        trainer._pos = trainer._epoch_seen = trainer._counted = state.position
        trainer._order = trainer._rows[state.order]
        trainer._epoch_loss, trainer._epoch_correct = state.epoch_loss, state.epoch_correct
        trainer._rng.bit_generator.state = state.rng
        trainer.optimizer.load_state(state.optimizer)
        trainer.diverged, trainer.message = state.diverged, state.message
        # a run that stalled stopped with that message (its state needs no other field)
        trainer.stalled = not state.diverged and state.message.startswith(
            STALLED_ADVICE[:STALLED_ADVICE.index(":")])
        trainer.history.load(state.history, state.history_stride)
        trainer.epoch_records = [EpochRecord(**asdict(r)) for r in state.epoch_records]
        trainer.snapshots = [Snapshot(s.step, s.epoch, [W.copy() for W in s.weights],
                                      [b.copy() for b in s.biases]) for s in state.snapshots]
        if state.aug_rng is not None:
            trainer._aug_rng.bit_generator.state = state.aug_rng
        if state.dropout_rng is not None:
            trainer._dropout_rng.bit_generator.state = state.dropout_rng
        trainer.best = None if state.best is None else state.best.copy()
        trainer.stop_reason = state.stop_reason
        return trainer

    # -- settings that apply to a running network ------------------------------------
    @property
    def stats_every(self) -> int | None:
        """Every how many steps the per-layer statistics are taken (and at each of the
        first :data:`STATS_EVERY_STEP_UNTIL`):
        ``None`` leaves it to :func:`stats_every`, which weighs their cost against the
        step's; set a power of two (1: every step) to choose. A trainer restored from a
        checkpoint starts with ``None`` again."""
        return self._stats_every

    @stats_every.setter
    def stats_every(self, value: int | None) -> None:
        if value is not None and (not isinstance(value, int) or value < 1
                                  or value & (value - 1)):
            raise ConfigError(f"stats_every must be a power of two (or None), got "
                              f"{shown(value)}")
        self._stats_every, self._fast = value, None

    @property
    def lr(self) -> float:
        """The base learning rate; the schedule scales it step by step."""
        return self.config.lr

    @lr.setter
    def lr(self, value: float) -> None:
        check_train_config(TrainConfig(**{**self.config.to_dict(), "lr": value}))
        self.config.lr = value

    @property
    def batch_size(self) -> int:
        return self.config.batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        check_train_config(TrainConfig(**{**self.config.to_dict(), "batch_size": value}))
        self.config.batch_size = value

    # -- progress ----------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        if self.stalled:
            return True
        if self.diverged or self.stop_reason:
            return True
        if self.config.steps is not None:
            return self.step_count >= self.config.steps
        return not self.config.until_stopped and self.completed_epochs >= self.config.epochs

    @property
    def val_accuracy(self) -> float | None:
        """Validation accuracy of the network as it is now: the last epoch's, or the best
        epoch's when early stopping put its weights back (None before an epoch ends)."""
        if self.best is not None and self.stop_reason.startswith(STOPPED_EARLY):
            return self.best.accuracy
        return self.epoch_records[-1].val_accuracy if self.epoch_records else None

    @property
    def ending(self) -> str:
        """How the run ended, in one line ("" while it can go on): diverged, stopped
        early, reached its target, or done with its epochs or steps."""
        c = self.config
        if self.diverged or self.stalled:  # the message says why, with advice
            return self.message
        if self.stop_reason:
            return self.stop_reason
        if not self.finished:
            return ""
        if c.steps is not None:
            return f"Finished: {c.steps:,} steps done."
        return f"Finished: {c.epochs} epoch{'s' if c.epochs != 1 else ''} done."

    @property
    def epochs_done(self) -> float:
        """Passes over the training split so far, counting the current one's fraction."""
        return self.completed_epochs + self._pos / max(1, self.n_train)

    @property
    def progress(self) -> float:
        """Fraction of the planned training done, in [0, 1]; with no end planned
        (``epochs=0``), the fraction of the current epoch."""
        if self.config.steps is not None:
            return min(1.0, self.step_count / self.config.steps)
        if self.config.until_stopped:
            return self.epochs_done - self.completed_epochs
        return min(1.0, self.epochs_done / self.config.epochs)

    @property
    def samples_per_second(self) -> float:
        return self.samples_seen / self.train_seconds if self.train_seconds else 0.0

    def train_split(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the training split, ``(n_train, 784)`` images and ``(n_train,)``
        labels, in the order the shuffle numbers them: a loop that draws the same
        permutations (the PyTorch benchmark) sees the same batches."""
        return self._X[self._rows], self._y[self._rows]

    # -- training ----------------------------------------------------------------------
    def step(self) -> StepRecord | None:
        """Train on one mini-batch and return its record (``None`` once finished).

        Floating-point warnings are silenced here on purpose: a diverging run is an
        expected outcome, detected from the loss and the gradients and reported in
        :attr:`message`, not a crash.
        """
        if self.finished:
            return None
        start = time.perf_counter()
        try:
            with np.errstate(all="ignore"):
                return self._step()
        finally:
            self.train_seconds += time.perf_counter() - start

    def _buffers(self, n: int) -> Buffers:
        """The preallocated arrays for a batch of ``n`` rows (the last batch of an epoch
        can be shorter, and the batch size or the network can change between steps)."""
        for buffers in self._buffer_cache:
            if buffers.fits(self.net, n):  # (the images' dtype is fixed per trainer)
                return buffers
        buffers = Buffers(self.net.layer_sizes, n, self.net.dtype, self._X.dtype)
        self._buffer_cache = [buffers, *self._buffer_cache[:1]]
        return buffers

    def _step(self) -> StepRecord | None:
        net, config, optimizer = self.net, self.config, self.optimizer
        step = self.step_count + 1
        schedule = config.schedule
        # a Python float: a numpy float64 would upcast every float32 update to float64
        optimizer.lr = float(config.lr if schedule == "constant"
                             else config.lr * SCHEDULES[schedule](self.progress))
        pos = self._pos
        idx = self._order[pos:pos + config.batch_size]
        n = len(idx)
        # the buffers and the statistics' cadence of this network and batch size
        fast = self._fast
        if fast is None or fast[0] is not net or fast[1] != n:
            buffers = self._buffers(n)
            every = self.stats_every or stats_every(net.layer_sizes, n)
            fast = self._fast = (net, n, buffers, every)
        buffers, every = fast[2], fast[3]
        measured = step <= STATS_EVERY_STEP_UNTIL or step % every == 0  # see stats_every
        # gather the batch and its one-hot targets into the buffers: no new arrays
        X = self._X.take(idx, 0, buffers.activations[0], "clip")
        if config.augments:  # distorted afresh, in the buffer: the data stay as they are
            X[...] = config.augmentation(X, self._aug_rng)
        labels = self._y[idx]
        if self._eye.dtype != net.dtype:  # another network was put in
            self._eye = self._eye.astype(net.dtype)
        Y = self._eye.take(labels, 0, buffers.targets, "clip")
        masks = (dropout_masks(net, n, config.dropout, self._dropout_rng)
                 if config.dropout and len(net.weights) > 1 else None)
        # z_L goes into the epoch's logits, from which _count gets the epoch's loss and
        # accuracy after the steps; the batch's own only at the measured steps
        logits = self._logits
        if logits is None or logits.dtype != net.dtype:
            logits = self._epoch_logits(net.dtype)
        z = logits[pos:pos + n]
        fwd = net.forward(X, buffers=buffers, masks=masks, logits=z)
        l2 = net.l2_term() if net.l2 else 0.0
        if l2:
            self._l2_rows()[pos:pos + n] = l2
        loss = accuracy = math.nan
        if measured or self._watch_stall:
            loss, correct = self._batch_loss(fwd, Y, labels, l2)
            accuracy = correct / n
            if self._watch_stall:
                self._check_stall(fwd.output, Y, correct, loss)
        # SGD and momentum start by multiplying the gradient by lr: fold that into the
        # backward pass (one multiply of the (n, k) output error), so the gradient
        # buffers hold the updates themselves; the norms are divided back by lr.
        scaled = optimizer.takes_scaled_grads and _FOLD_MIN <= optimizer.lr <= _FOLD_MAX
        scale = optimizer.lr if scaled else 1.0
        grads = net.backward(fwd, Y, buffers=buffers, scale=scale)
        saturation = grad_norms = update_ratios = None
        if measured:
            hidden = fwd.undropped if fwd.undropped is not None else fwd.activations[1:-1]
            saturation = np.array([net.act.saturation(a) for a in hidden])
            norms = [norm(g) for g in grads.dWs]
            finite = math.isfinite(loss) and math.isfinite(sum(norms))
        else:
            # every error signal passes through delta_1, and db_1 = Σ_rows delta_1 takes
            # any inf or NaN of it (squared, like a norm, it overflows where they would);
            # a softmax turns an infinite logit into NaN errors, so that is all it needs,
            # while a sigmoid saturates instead: its loss is the one to watch
            db = grads.dbs[0]
            finite = math.isfinite(np.vdot(db, db))
            if not finite or net.output_name != "softmax":
                loss = self._batch_loss(fwd, Y, labels, l2)[0]
                finite = finite and math.isfinite(loss)
                if finite:
                    loss = math.nan  # not a measured step
        if not finite:
            what = (f"the loss became {loss}" if not math.isfinite(loss)
                    else "the loss was still finite, but its gradients became inf or NaN")
            self.diverged = True
            self.message = DIVERGED_ADVICE.format(what=what, step=step)
            return None
        params, updates = net.weights + net.biases, grads.dWs + grads.dbs
        if not measured:
            optimizer.step(params, updates, scaled=scaled, measure=False)
        else:
            grad_norms = np.array([x / scale for x in norms])
            if scaled:  # SGD's update is the scaled gradient: its norms are known already
                update_norms = optimizer.step(params, updates, scaled=True,
                                              grad_norms=norms + [None] * len(norms))
            else:
                update_norms = optimizer.step(params, updates)
            update_ratios = np.array([u / w if w > 0 else 0.0 for u, w in
                                      zip(update_norms, map(norm, net.weights))])
        optimizer.flush(step)

        self.step_count = step
        self.samples_seen += n
        self._pos = pos + n
        self._epoch_seen += n
        record = StepRecord(step, self.completed_epochs, loss, accuracy,
                            grad_norms, update_ratios, saturation)
        if measured:
            self.history.add(record)
        if self._pos >= self.n_train:
            self._end_epoch()
        return record

    def _batch_loss(self, fwd: Forward, Y: np.ndarray, labels: np.ndarray,
                    l2: float) -> tuple[float, int]:
        """The loss (plus the L2 term ``l2``) and the right predictions of the batch that
        gave ``fwd``, against its one-hot ``Y`` and its ``labels: (n,)``."""
        correct = int(np.count_nonzero(fwd.output.argmax(axis=1) == labels))
        return self.net.data_loss(fwd, Y) + l2, correct

    def _epoch_logits(self, dtype: np.dtype) -> np.ndarray:
        """The epoch's logits array, ``(n_train, k)`` in ``dtype`` (what an array of
        another dtype holds is counted first)."""
        self._count()
        self._logits = np.empty((self.n_train, self.n_classes), dtype)
        return self._logits

    def _l2_rows(self) -> np.ndarray:
        if self._row_l2 is None:
            self._row_l2 = np.zeros(self.n_train)
        return self._row_l2

    def _count(self) -> None:
        """Add the loss and the right predictions of this epoch's rows trained on since
        the last count to ``_epoch_loss`` and ``_epoch_correct``, from their logits.

        The rows' losses are added one by one in order (``np.cumsum``), and each row's
        loss depends on its logits only, so the epoch's figure is the same whether it is
        counted in one go at the end or in parts (a checkpoint counts what is done).
        """
        start, end = self._counted, self._pos
        self._counted = end
        if end <= start or self._logits is None:
            return
        z = self._logits[start:end]
        labels = self._y[self._order[start:end]]
        losses, hits = self.net.output_loss.rows(z, labels)
        losses = losses.astype(np.float64)
        if self._row_l2 is not None:
            losses += self._row_l2[start:end]
            self._row_l2[start:end] = 0.0
        self._epoch_loss = float(np.cumsum(np.concatenate(([self._epoch_loss], losses)))[-1])
        self._epoch_correct += int(np.count_nonzero(hits))

    def _check_stall(self, a: np.ndarray, Y: np.ndarray, correct: int, loss: float) -> None:
        """Count the batch ``a: (n, k)`` (targets ``Y``) towards a stall, or start again
        when enough of its outputs can still move; stop the run once it has stalled."""
        n = len(a)
        stuck = np.count_nonzero((np.abs(a - Y) > STUCK).any(axis=1))
        if stuck < STALL_STUCK * n:
            self._stuck_samples = self._stuck_steps = self._stuck_correct = 0
            return
        self._stuck_samples += n
        self._stuck_steps += 1
        self._stuck_correct += correct
        accuracy = self._stuck_correct / self._stuck_samples
        if (self._stuck_samples >= STALL_SAMPLES and self._stuck_steps >= STALL_STEPS
                and accuracy <= 2 / self.n_classes):
            what = (f"for the last {self._stuck_samples:,} images nearly every one had an "
                    f"output pinned at the wrong end (batch loss {loss:.3f}, accuracy "
                    f"{accuracy:.1%}, about chance)")
            self.stalled = True
            self.message = STALLED_ADVICE.format(what=what, step=self.step_count + 1)

    def run(self, max_steps: int | None = None, seconds: float | None = None):
        """Yield step records until finished, diverged, ``max_steps`` or ``seconds``."""
        deadline = None if seconds is None else time.perf_counter() + seconds
        done = 0
        while not self.finished and (max_steps is None or done < max_steps):
            record = self.step()
            if record is None:
                return
            done += 1
            yield record
            if deadline is not None and time.perf_counter() >= deadline:
                return

    def train(self, max_steps: int | None = None,
              seconds: float | None = None) -> StepRecord | None:
        """Train as :meth:`run` does, without yielding every step's record: the measured
        steps' are in :attr:`history` and the epochs' in :attr:`epoch_records`. Returns
        the last step's record (``None`` when no step was taken).

        The floating-point warnings are silenced once for all the steps (see
        :meth:`step`) and the clock is read once per step: the way to train for speed.
        """
        deadline = None if seconds is None else time.perf_counter() + seconds
        done, record = 0, None
        with np.errstate(all="ignore"):
            last = time.perf_counter()
            while not self.finished and (max_steps is None or done < max_steps):
                try:
                    step = self._step()
                finally:
                    now = time.perf_counter()
                    self.train_seconds += now - last
                    last = now
                if step is None:
                    break
                done, record = done + 1, step
                if deadline is not None and now >= deadline:
                    break
        return record

    def _end_epoch(self) -> None:
        self._count()
        self.completed_epochs += 1
        val_loss, val_acc = self.evaluate(self.X_val, self.y_val)
        self.epoch_records.append(EpochRecord(
            self.completed_epochs, self.step_count,
            self._epoch_loss / self._epoch_seen, self._epoch_correct / self._epoch_seen,
            val_loss, val_acc, self.train_seconds))
        if len(self.epoch_records) > MAX_EPOCH_RECORDS:  # a run until stopped: keep the
            last = self.epoch_records[-1]                # memory bounded, evenly spread
            self.epoch_records = [*self.epoch_records[:-1:2], last]
        self._epoch_loss = self._epoch_correct = 0.0
        self._epoch_seen = self._counted = 0
        self._pos = 0
        self._order = self._rows[self._rng.permutation(self.n_train)]
        self._snapshot()
        self._watch_validation(val_acc)

    def _watch_validation(self, accuracy: float) -> None:
        """The stopping rules on validation accuracy, after an epoch: keep the best epoch
        (with ``patience``), stop when it is ``patience`` epochs old or when ``accuracy``
        reaches the target. Stopped by patience, the best epoch's weights are put back in
        the network (a run that ends with its epochs keeps its last ones)."""
        c = self.config
        if not math.isfinite(accuracy):
            return
        epoch = self.completed_epochs
        if c.patience is not None:
            if self.best is None or accuracy > self.best.accuracy:
                self.best = Best(epoch, accuracy, [W.copy() for W in self.net.weights],
                                 [b.copy() for b in self.net.biases])
            elif epoch - self.best.epoch >= c.patience:
                self._put_back_best()
                self.stop_reason = (
                    f"{STOPPED_EARLY} at epoch {epoch}: validation accuracy has not improved "
                    f"for {c.patience} epoch{'s' if c.patience != 1 else ''}; the weights "
                    f"of epoch {self.best.epoch} ({self.best.accuracy:.2%}) were put back.")
                return
        if c.target_accuracy is not None and accuracy >= c.target_accuracy:
            self.stop_reason = (f"Target reached at epoch {epoch}: validation accuracy "
                                f"{accuracy:.2%} ≥ {c.target_accuracy:.2%}.")
            return

    def _put_back_best(self) -> None:
        assert self.best is not None
        for W, best in zip(self.net.weights, self.best.weights):
            W[...] = best
        for b, best in zip(self.net.biases, self.best.biases):
            b[...] = best

    def _snapshot(self) -> None:
        snap = Snapshot(self.step_count, self.completed_epochs,
                        [W.copy() for W in self.net.weights],
                        [b.copy() for b in self.net.biases])
        self.snapshots.append(snap)
        if len(self.snapshots) > self.max_snapshots:
            # keep the first and the latest, thin out the middle
            self.snapshots = [*self.snapshots[:-1:2], self.snapshots[-1]]

    def evaluate(self, X: np.ndarray, y: np.ndarray, chunk: int = 8192) -> tuple[float, float]:
        """``(loss, accuracy)`` of the current network on ``X, y`` (NaN for no rows)."""
        if len(X) == 0:
            return float("nan"), float("nan")
        total_loss, correct = 0.0, 0
        with np.errstate(all="ignore"):  # a diverged network evaluates to NaN, quietly
            for i in range(0, len(X), chunk):
                fwd = self.net.forward(X[i:i + chunk])
                labels = y[i:i + chunk]
                total_loss += self.net.data_loss(fwd, self._eye[labels]) * len(labels)
                correct += int(np.count_nonzero(fwd.output.argmax(axis=1) == labels))
            return total_loss / len(X) + self.net.l2_term(), correct / len(X)
