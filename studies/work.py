"""What a Dask worker runs: one epoch of one trial.

A trial is trained one epoch per task. The task takes the trainer's checkpoint bytes
(``mnist_np.checkpoint``, no pickles) and gives them back one epoch later with that
epoch's numbers, so the driver decides between two epochs whether to prune, a task lost
with its worker is simply run again from the same bytes (training goes on bitwise where it
stopped), and the driver, not the worker, writes every database. The training images come
as a Dask future scattered once to every worker: a task finds them in its worker's memory.

This module imports NumPy and the engine only: it is all a worker needs of the project.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mnist_np import MLP, TrainConfig, Trainer
from mnist_np.checkpoint import load_training, save_training
from mnist_np.threads import set_threads

_threads_set = False
KEEP_TRAINERS = 4  # trainers a worker keeps between two epochs of their trials
_kept: dict[str, Trainer] = {}
_source: np.ndarray | None = None  # the scattered images last seen, and their copy
_copy: tuple[np.ndarray, np.ndarray] = (np.empty((0, 0), np.float32), np.empty(0))


@dataclass(frozen=True)
class TrialTask:
    """How to build a trial's network and trainer (``MLP`` and ``TrainConfig`` keyword
    arguments) and the name of its data (``MNIST.source``)."""

    net: dict
    train: dict
    source: str


@dataclass(frozen=True)
class EpochResult:
    """What one task sends back: the trainer's bytes and the epoch it ended."""

    state: bytes
    epoch: int               # epochs completed
    val_accuracy: float      # of the network now (a diverged one is evaluated too)
    val_loss: float
    finished: bool           # the run reached its last epoch, or diverged
    diverged: bool
    seconds: float           # this task's wall time on the worker


def _aligned(data: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The images as an aligned array, copied once per worker and study. Dask hands a big
    scattered array over as a view of its receive buffer, which may be misaligned: there
    ``np.take`` (how a batch is gathered) fell to a slow path, 67 ms a batch of 128 for
    the full MNIST against 0.014 ms, and an epoch took 29 s instead of 0.8 s."""
    global _source, _copy
    X, y = data
    if X.flags.aligned:
        return X, y
    if _source is not X:
        _source, _copy = X, (np.array(X), np.array(y))
    return _copy


def train_epoch(data: tuple[np.ndarray, np.ndarray], task: TrialTask,
                state: bytes | None, key: str = "", after: int = 0) -> EpochResult:
    """Train ``task``'s trial one more epoch on ``data`` (``X: (n, 784) float32``,
    ``y: (n,)``), from ``state`` (None: from its first step), which it wrote after epoch
    ``after``. A worker keeps the trainer of trial ``key`` it trained last: when the next
    epoch lands on the same worker (the usual case), it goes on from it instead of
    reading the bytes back (the same numbers: the bytes restore it bitwise)."""
    global _threads_set
    start = time.perf_counter()
    if not _threads_set:  # one BLAS thread per worker process (BENCHMARKS.md)
        set_threads(1)
        _threads_set = True
    X, y = _aligned(data)
    trainer = _kept.pop(key, None) if key else None
    if trainer is not None and trainer.completed_epochs != after:
        trainer = None  # not the trainer that wrote ``state``: start from the bytes
    if trainer is None and state is None:
        trainer = Trainer(MLP(**task.net), X, y, TrainConfig(**task.train), max_snapshots=1)
    elif trainer is None:
        assert state is not None
        found = load_training(state, X, y, task.source)
        if found.trainer is None:
            raise ValueError(found.note or "the trial's state cannot be restored")
        trainer = found.trainer
    target = trainer.completed_epochs + 1
    while not trainer.finished and trainer.completed_epochs < target:
        trainer.step()
    if trainer.epoch_records and trainer.epoch_records[-1].epoch == target:
        last = trainer.epoch_records[-1]
        val_loss, val_accuracy = last.val_loss, last.val_accuracy
    else:  # diverged within the epoch: how the network does now
        val_loss, val_accuracy = trainer.evaluate(trainer.X_val, trainer.y_val)
    if key and not trainer.finished:
        _kept[key] = trainer
        while len(_kept) > KEEP_TRAINERS:  # a pruned trial's trainer is never asked again
            _kept.pop(next(iter(_kept)))
    return EpochResult(save_training(trainer, task.source, max_snapshot_bytes=0),
                       trainer.completed_epochs, float(val_accuracy), float(val_loss),
                       trainer.finished, trainer.diverged, time.perf_counter() - start)
