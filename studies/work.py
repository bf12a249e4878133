"""What a Dask worker runs: one whole trial, and its test accuracy.

A trial is one task. After each epoch but the last, the task hands that epoch's validation
accuracy to ``report`` (:class:`studies.channel.Channel` on a cluster: it reaches the
driver, which tells Optuna and answers whether to go on, prune, or stop) and trains on
without waiting: the answer comes back on a thread of the channel, and the training loop
looks at it after every mini-batch, so a pruned trial stops a few mini-batches into its
next epoch (and goes back to the end of the epoch that was judged) and a trial that goes on
never waits for the driver. The trainer stays in the
worker's memory; when the trial ends the task sends back what the run database keeps of
it: the network's bytes (``MLP.to_bytes``, no pickles), the numbers of its run record
(:class:`TrainedRun`) and its test accuracy, computed here, so the driver never reads a
trainer back nor evaluates a network: it only writes. A task lost with its worker is run
again by Dask from the trial's first step (the same numbers: training is seeded). The
training and test images come as one Dask future scattered once to every worker: a task
finds them in its worker's memory.

This module imports NumPy and the engine only: it is all a worker needs of the project
besides the channel.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from mnist_np import MLP, TrainConfig, Trainer
from mnist_np.network import Buffers
from mnist_np.threads import set_threads
from mnist_np.training import EpochRecord

GO, PRUNE, STOP = "go", "prune", "stop"  # a report's answers
_threads_set = False
_source: np.ndarray | None = None  # the scattered images last seen, and their copy
_copy: tuple[np.ndarray, ...] = ()
# the test set's forward pass (its activations, predicted classes, hits), kept between trials
_test_arrays: tuple[Buffers, np.ndarray, np.ndarray] | None = None

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # X_train, y_train, X_test, y_test


class Report(Protocol):
    """A trial's line to its driver, opened by ``start`` as the task starts: ``send`` an
    epoch's validation accuracy without waiting; ``verdict`` is GO until the driver
    answers PRUNE or STOP; ``settle(epoch)`` waits until the driver has answered that
    epoch, when it judges each."""

    @property
    def verdict(self) -> str: ...
    @property
    def waited(self) -> float: ...  # seconds spent in settle
    def start(self) -> None: ...
    def send(self, epoch: int, val_accuracy: float) -> None: ...
    def settle(self, epoch: int) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class TrialTask:
    """How to build a trial's network and trainer (``MLP`` and ``TrainConfig`` keyword
    arguments) and the name of its data (``MNIST.source``)."""

    net: dict
    train: dict
    source: str


@dataclass(frozen=True)
class Losses:
    """The step-by-step loss curve of a trainer's ``history`` (thinned as it thins it)."""

    columns: dict[str, list]

    def __len__(self) -> int:
        return len(self.columns["step"])


@dataclass(frozen=True)
class TrainedRun:
    """What ``dashboard.runs.run_record`` reads of a trainer, read on the worker."""

    step_count: int
    epochs_done: float
    train_seconds: float
    samples_per_second: float
    ending: str
    epoch_records: list[EpochRecord]
    history: Losses

    @classmethod
    def of(cls, t: Trainer) -> TrainedRun:
        h = t.history.columns
        return cls(t.step_count, t.epochs_done, t.train_seconds, t.samples_per_second,
                   t.ending, list(t.epoch_records),
                   Losses({"step": list(h["step"]), "loss": list(h["loss"])}))

    @classmethod
    def at_last_epoch(cls, t: Trainer) -> TrainedRun:
        """The run as it was at the end of its last completed epoch (a trial stopped
        within the next one: see :func:`_back_to_last_epoch`)."""
        last = t.epoch_records[-1]
        h = t.history.columns
        kept = [i for i, step in enumerate(h["step"]) if step <= last.step]
        return cls(last.step, float(last.epoch), last.seconds, t.samples_per_second,
                   t.ending, list(t.epoch_records),
                   Losses({"step": [h["step"][i] for i in kept],
                           "loss": [h["loss"][i] for i in kept]}))


@dataclass(frozen=True)
class TrialResult:
    """What one task sends back when its trial ends."""

    weights: bytes           # the network (``MLP.to_bytes``)
    run: TrainedRun
    test_accuracy: float
    epoch: int               # epochs completed
    curve: tuple[tuple[int, float], ...]  # (epoch, validation accuracy) after each epoch
    finished: bool           # the run reached its last epoch, or diverged
    diverged: bool
    verdict: str             # GO (it ran to its end), PRUNE or STOP
    # where the task's time went on the worker: building the trainer, training and
    # validating (``train_seconds``, without the ``waited`` for the driver's answers),
    # the test set's accuracy (``test_seconds``), the network's bytes (``bytes_seconds``),
    # all of it with the channel's start (``seconds``); when it started and ended
    # (``start``, ``end``: the worker's ``time.perf_counter()``)
    times: dict[str, float] = field(default_factory=dict)

    @property
    def val_accuracy(self) -> float:
        return self.curve[-1][1]


def _aligned(data: Data) -> Data:
    """The images as aligned arrays, copied once per worker and study. Dask hands a big
    scattered array over as a view of its receive buffer, which may be misaligned: there
    ``np.take`` (how a batch is gathered) fell to a slow path, 67 ms a batch of 128 for
    the full MNIST against 0.014 ms, and an epoch took 29 s instead of 0.8 s."""
    global _source, _copy
    if all(a.flags.aligned for a in data):
        return data
    if _source is not data[0]:
        _source = data[0]
        _copy = tuple(np.array(a) for a in data)
    return _copy  # type: ignore[return-value]


def train_trial(data: Data, task: TrialTask, report: Report | None = None) -> TrialResult:
    """Train ``task``'s trial on ``data`` (``X: (n, 784) float32``, ``y: (n,)`` for
    training, then the test set) to its end, or until ``report`` (told each epoch but the
    last) answers PRUNE or STOP (None: never asked); then its test accuracy."""
    global _threads_set
    start = time.perf_counter()
    if not _threads_set:  # one BLAS thread per worker process (BENCHMARKS.md)
        set_threads(1)
        _threads_set = True
    X, y, X_test, y_test = _aligned(data)
    if report is not None:
        report.start()
    opened = time.perf_counter()
    try:
        trainer = Trainer(MLP(**task.net), X, y, TrainConfig(**task.train), max_snapshots=1)
        curve: list[tuple[int, float]] = []
        verdict = _train(trainer, curve, report)
    finally:
        if report is not None:
            report.close()
    trained = time.perf_counter()
    run = _back_to_last_epoch(trainer)
    test_accuracy = test_accuracy_of(trainer.net, X_test, y_test) if trainer.step_count \
        else float("nan")
    tested = time.perf_counter()
    result = TrialResult(trainer.net.to_bytes(), run, test_accuracy,
                         trainer.completed_epochs, tuple(curve), trainer.finished,
                         trainer.diverged, verdict)
    end = time.perf_counter()
    waited = report.waited if report is not None else 0.0
    result.times.update(train_seconds=trained - opened - waited, test_seconds=tested - trained,
                        bytes_seconds=end - tested, seconds=end - start, waited=waited,
                        start=start, end=end)
    return result


def test_accuracy_of(net: MLP, X: np.ndarray, y: np.ndarray) -> float:
    """The fraction of ``X: (n, 784)`` whose predicted class (the arg max of ``a_L``) is
    its label in ``y: (n,)``, NaN for no rows: what ``Trainer.evaluate`` gives as the
    accuracy, in one forward pass into arrays kept from the worker's previous trial (the
    same shapes: nothing allocated), without the loss it also computes."""
    global _test_arrays
    n = len(X)
    if n == 0:
        return float("nan")
    if _test_arrays is None or not _test_arrays[0].fits(net, n) \
            or _test_arrays[0].input_dtype != X.dtype:
        _test_arrays = (Buffers(net.layer_sizes, n, net.dtype, X.dtype),
                        np.empty(n, np.intp), np.empty(n, bool))
    buffers, predicted, correct = _test_arrays
    with np.errstate(all="ignore"):  # a diverged network's NaN outputs, quietly
        output = net.forward(X, buffers=buffers).output
    np.argmax(output, axis=1, out=predicted)
    np.equal(predicted, y, out=correct)
    return int(np.count_nonzero(correct)) / n


def _back_to_last_epoch(trainer: Trainer) -> TrainedRun:
    """A trial pruned or stopped within an epoch goes back to the end of the last one
    (its network from the snapshot the trainer takes there, its numbers up to there), so
    that its run's validation and test accuracies are of one network: the one the pruner
    judged. Otherwise the run as it is."""
    snap = trainer.snapshots[-1] if trainer.snapshots else None
    if trainer.finished or not trainer.epoch_records or snap is None \
            or snap.step != trainer.epoch_records[-1].step \
            or trainer.step_count == snap.step:
        return TrainedRun.of(trainer)
    for W, kept in zip(trainer.net.weights + trainer.net.biases, snap.weights + snap.biases):
        W[...] = kept
    return TrainedRun.at_last_epoch(trainer)


def _train(trainer: Trainer, curve: list[tuple[int, float]], report: Report | None) -> str:
    """Epoch after epoch, each one's ``(epoch, val_accuracy)`` appended to ``curve``,
    until the trainer finishes (GO) or ``report``'s verdict turns to PRUNE or STOP (looked
    at after every mini-batch, and awaited for the previous epoch at each epoch's end)."""
    while True:
        target = trainer.completed_epochs + 1
        while not trainer.finished and trainer.completed_epochs < target:
            trainer.step()
            if (report is not None and report.verdict != GO and not trainer.finished
                    and trainer.completed_epochs < target):  # an epoch's end is kept
                return report.verdict
        if trainer.epoch_records and trainer.epoch_records[-1].epoch == target:
            val_accuracy = trainer.epoch_records[-1].val_accuracy
        else:  # diverged within the epoch: how the network does now
            val_accuracy = trainer.evaluate(trainer.X_val, trainer.y_val)[1]
        curve.append((trainer.completed_epochs, float(val_accuracy)))
        if trainer.finished:
            return GO
        if report is not None:
            report.settle(trainer.completed_epochs - 1)
            if report.verdict != GO:
                return report.verdict
            report.send(trainer.completed_epochs, float(val_accuracy))
