"""What a Dask worker runs: one whole trial.

A trial is one task. After each epoch but the last, the task hands that epoch's validation
accuracy to ``report`` (:class:`studies.channel.Channel` on a cluster: it reaches the
driver, which tells Optuna and answers whether to go on, prune, or stop), so the driver
prunes between two epochs while the trainer stays in the worker's memory. The trainer's
checkpoint bytes (``mnist_np.checkpoint``, no pickles) cross the network once, when the
trial ends: the driver, not the worker, writes every database. A task lost with its worker
is run again by Dask from the trial's first step (the same numbers: training is seeded).
The training images come as a Dask future scattered once to every worker: a task finds
them in its worker's memory.

This module imports NumPy and the engine only: it is all a worker needs of the project
besides the channel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mnist_np import MLP, TrainConfig, Trainer
from mnist_np.checkpoint import save_training
from mnist_np.threads import set_threads

GO, PRUNE, STOP = "go", "prune", "stop"  # what ``report`` answers
_threads_set = False
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
class TrialResult:
    """What one task sends back when its trial ends."""

    state: bytes             # the trainer's checkpoint
    epoch: int               # epochs completed
    curve: tuple[tuple[int, float], ...]  # (epoch, validation accuracy) after each epoch
    finished: bool           # the run reached its last epoch, or diverged
    diverged: bool
    verdict: str             # GO (it ran to its end), PRUNE or STOP
    seconds: float           # this task's wall time on the worker

    @property
    def val_accuracy(self) -> float:
        return self.curve[-1][1]


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


def train_trial(data: tuple[np.ndarray, np.ndarray], task: TrialTask,
                report: Callable[[int, float], str] | None = None) -> TrialResult:
    """Train ``task``'s trial on ``data`` (``X: (n, 784) float32``, ``y: (n,)``) to its
    end, or until ``report(epoch, val_accuracy)``, called after every epoch but the last,
    answers PRUNE or STOP (None: never asked)."""
    global _threads_set
    start = time.perf_counter()
    if not _threads_set:  # one BLAS thread per worker process (BENCHMARKS.md)
        set_threads(1)
        _threads_set = True
    X, y = _aligned(data)
    trainer = Trainer(MLP(**task.net), X, y, TrainConfig(**task.train), max_snapshots=1)
    curve: list[tuple[int, float]] = []
    try:
        verdict = _train(trainer, curve, report)
    finally:
        close = getattr(report, "close", None)
        if close is not None:
            close()
    return TrialResult(save_training(trainer, task.source, max_snapshot_bytes=0),
                       trainer.completed_epochs, tuple(curve), trainer.finished,
                       trainer.diverged, verdict, time.perf_counter() - start)


def _train(trainer: Trainer, curve: list[tuple[int, float]],
           report: Callable[[int, float], str] | None) -> str:
    """Epoch after epoch, each one's ``(epoch, val_accuracy)`` appended to ``curve``,
    until the trainer finishes (GO) or ``report`` says PRUNE or STOP."""
    while True:
        target = trainer.completed_epochs + 1
        while not trainer.finished and trainer.completed_epochs < target:
            trainer.step()
        if trainer.epoch_records and trainer.epoch_records[-1].epoch == target:
            val_accuracy = trainer.epoch_records[-1].val_accuracy
        else:  # diverged within the epoch: how the network does now
            val_accuracy = trainer.evaluate(trainer.X_val, trainer.y_val)[1]
        curve.append((trainer.completed_epochs, float(val_accuracy)))
        if trainer.finished:
            return GO
        if report is not None:
            verdict = report(trainer.completed_epochs, float(val_accuracy))
            if verdict != GO:
                return verdict
