"""One user's network and its training, run by a background thread.

The thread belongs to one browser session: it trains mini-batch after mini-batch
while the user switches pages, stops within one step when paused, and stops for good
when the session goes away (``is_alive`` turns false). It never calls Streamlit; pages
read the shared state under :meth:`TrainingSession.reading`, which the thread lets in
between two steps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from mnist_np import MLP, TrainConfig, Trainer
from mnist_np.data import MNIST

from .settings import Settings

# States a session can be in, as shown to the user.
READY, RUNNING, PAUSED, FINISHED, DIVERGED = "ready", "running", "paused", "finished", "diverged"
# The weights kept once per epoch (thinned) for the Weights and map pages: at most about
# this much per session, so a 4 x 1,024-unit network (16 MB of weights) keeps 4, not 24.
SNAPSHOT_BUDGET_BYTES = 64 * 2**20
MAX_SNAPSHOTS, MIN_SNAPSHOTS = 24, 3


def snapshots_for(net: MLP) -> int:
    """How many weight snapshots a session keeps for ``net``."""
    size = sum(W.nbytes + b.nbytes for W, b in zip(net.weights, net.biases))
    return max(MIN_SNAPSHOTS, min(MAX_SNAPSHOTS, SNAPSHOT_BUDGET_BYTES // size))


@dataclass
class RunRecord:
    """A finished or reset run, for the experiments table."""

    number: int
    settings: Settings
    data_source: str
    status: str
    steps: int
    epochs: float
    train_seconds: float
    samples_per_second: float
    final_loss: float
    train_accuracy: float
    val_accuracy: float
    test_accuracy: float
    epoch_curves: dict[str, list[float]] = field(repr=False)
    loss_curve: tuple[list[float], list[float]] = field(repr=False)
    origin: str = "training"  # or the sweep that made it, e.g. "sweep 2"


def run_record(number: int, trainer: Trainer, settings: Settings, data_source: str,
               status: str, test_accuracy: float, origin: str = "training") -> RunRecord:
    """What the experiments table keeps of a trainer's run."""
    t = trainer
    last = t.epoch_records[-1] if t.epoch_records else None
    h = t.history
    return RunRecord(
        number=number, settings=settings, data_source=data_source, status=status,
        steps=t.step_count, epochs=round(t.epochs_done, 3),
        train_seconds=t.train_seconds, samples_per_second=t.samples_per_second,
        final_loss=last.train_loss if last else float(h.columns["loss"][-1]) if len(h)
        else float("nan"),  # a run that diverged at its first step has no loss
        train_accuracy=last.train_accuracy if last else float("nan"),
        val_accuracy=last.val_accuracy if last else float("nan"),
        test_accuracy=test_accuracy,
        epoch_curves={
            "epoch": [e.epoch for e in t.epoch_records],
            "train_loss": [e.train_loss for e in t.epoch_records],
            "val_loss": [e.val_loss for e in t.epoch_records],
            "train_accuracy": [e.train_accuracy for e in t.epoch_records],
            "val_accuracy": [e.val_accuracy for e in t.epoch_records],
        },
        loss_curve=(list(np.asarray(h.columns["step"], float)),
                    list(np.asarray(h.columns["loss"], float))),
        origin=origin,
    )


class TrainingSession:
    """The network, its trainer and the thread that runs it, for one user.

    ``data`` is shared read-only between sessions; everything else is this session's.
    """

    def __init__(self, data: MNIST, settings: Settings,
                 is_alive: Callable[[], bool] = lambda: True):
        self.data = data
        self.is_alive = is_alive
        self.lock = threading.RLock()
        self._reader_waiting = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs: list[RunRecord] = []
        self.error = ""
        self._build(settings)

    # -- building ------------------------------------------------------------------
    def _build(self, settings: Settings, net: MLP | None = None,
               source: str | None = None) -> None:
        self.settings = settings
        self.net = net if net is not None else MLP(**settings.net_config())
        self.network_source = source  # None: fresh random weights from the settings
        self.trainer = Trainer(self.net, self.data.X_train, self.data.y_train,
                               TrainConfig(**settings.train_config()),
                               max_snapshots=snapshots_for(self.net))
        self.test_result: tuple[float, float] | None = None
        self.state = READY
        self._recorded = False
        self.version = 0  # bumped by every change of the network, for per-state caches

    def reset(self, settings: Settings | None = None) -> None:
        """A fresh network from ``settings`` (default: the current ones); the old run,
        if it trained at all, goes into :attr:`runs`."""
        self.pause()
        with self.lock:
            self._record_run()
            self._build(settings or self.settings)

    def load_network(self, net: MLP, settings: Settings, source: str = "uploaded file") -> None:
        """Replace the network by ``net`` (an uploaded model, named by ``source``), ready
        to inspect or train."""
        self.pause()
        with self.lock:
            self._record_run()
            self._build(settings, net, source)

    def apply_live(self, settings: Settings) -> None:
        """Learning rate, batch size and the stopping rule, applied to the running run."""
        with self.lock:
            self.trainer.lr = settings.lr
            self.trainer.batch_size = settings.batch_size
            self.trainer.config.epochs = settings.epochs
            self.trainer.config.steps = settings.steps
            self.settings = settings
            if self.state == FINISHED and not self.trainer.finished:
                self.state = PAUSED
            elif self.state == PAUSED and self.trainer.finished:
                self._after_step()  # fewer epochs than done already: the run has ended

    # -- control -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def untrained(self) -> bool:
        """Fresh random weights, not a step taken: not an uploaded network."""
        return self.state == READY and self.network_source is None

    def play(self) -> None:
        """Start (or resume) training in the background."""
        with self.lock:
            if self.running or self.trainer.finished:
                return
            self.state = RUNNING
            self._stop.clear()
            self._thread = threading.Thread(target=self._work, name="mnist_np-trainer",
                                            daemon=True)
            self._thread.start()

    def pause(self) -> None:
        """Stop the background training after its current step, and wait for that."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self.lock:
            if self.state == RUNNING:
                self.state = PAUSED

    def step(self) -> None:
        """Pause, then train exactly one mini-batch."""
        self.pause()
        with self.lock:
            self.trainer.step()
            self.version += 1
            self._after_step()
            if self.state in (READY, RUNNING):
                self.state = PAUSED if not self.trainer.finished else self.state

    def close(self) -> None:
        self.pause()

    def _work(self) -> None:
        try:
            self._train_until_stopped()
        except Exception as e:  # never die silently: the pages show the message
            self.error = f"training stopped by an internal error: {type(e).__name__}: {e}"
        with self.lock:
            if self.state == RUNNING:
                self.state = PAUSED

    def _train_until_stopped(self) -> None:
        last_check = time.monotonic()
        while not self._stop.is_set():
            if self._reader_waiting.is_set():
                time.sleep(0.001)  # let a page read between two steps
            with self.lock:
                if self._stop.is_set():
                    break
                self.trainer.step()
                self.version += 1
                if self._after_step():
                    break
            now = time.monotonic()
            if now - last_check > 1.0:
                last_check = now
                if not self.is_alive():
                    break

    def _after_step(self) -> bool:
        """Update the state after a step; True when training has come to an end."""
        if self.trainer.diverged:
            self.state = DIVERGED
            return True
        if self.trainer.finished:
            self.state = FINISHED
            self.test_result = self.trainer.evaluate(self.data.X_test, self.data.y_test)
            self._record_run()
            return True
        return False

    # -- reading -------------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[Trainer]:
        """Hold the state still while a page copies what it draws."""
        self._reader_waiting.set()
        try:
            with self.lock:
                self._reader_waiting.clear()
                yield self.trainer
        finally:
            self._reader_waiting.clear()

    def network_copy(self) -> tuple[MLP, int]:
        """A consistent copy of the live network and its version, safe to compute on
        while training continues (the thread changes the original in place)."""
        with self.reading():
            return self.net.copy(), self.version

    def test_metrics(self) -> tuple[float, float]:
        """``(loss, accuracy)`` on the test set, computed once per network state."""
        with self.reading():
            if self.test_result is None or self._test_version != self.version:
                self.test_result = self.trainer.evaluate(self.data.X_test, self.data.y_test)
                self._test_version = self.version
            return self.test_result

    _test_version = -1

    # -- experiments log -------------------------------------------------------------
    def _record_run(self) -> None:
        t = self.trainer
        if t.step_count == 0 or self._recorded:
            return
        self._recorded = True
        if self.test_result is None:
            self.test_result = t.evaluate(self.data.X_test, self.data.y_test)
        self.runs.append(run_record(
            len(self.runs) + 1, t, self.settings, self.data.source,
            self.state if self.state != RUNNING else PAUSED, self.test_result[1]))
