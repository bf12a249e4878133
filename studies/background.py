"""Studies the app starts: each on a thread of its own (never calling Streamlit), on a
local Dask cluster it starts and stops, or on the cluster ``MNIST_NP_DASK_SCHEDULER``
names.

A shared server must survive its visitors' studies, so the app's are bounded: at most
:data:`MAX_TRIALS` trials of :data:`MAX_EPOCHS` epochs on at most :data:`MAX_TRAIN`
images, at most :data:`MAX_WORKERS` workers, and one study at a time per server (a
second visitor is told to wait). A study goes on when its page is left or reloaded (it
is watched from its journal) and stops when cancelled.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from dashboard.store import Store
from mnist_np.data import MNIST

from . import cluster as dc
from . import driver as dr

MAX_TRIALS = 20
MAX_EPOCHS = 5
TRAIN_SIZES = (1000, 2000, 5000, 10_000)
MAX_TRAIN = TRAIN_SIZES[-1]
MAX_WORKERS = 2


def max_workers() -> int:
    return max(1, min(MAX_WORKERS, dc.usable_cores()))


def check_bounds(spec: dr.StudySpec, workers: int) -> None:
    """ValueError, one line, for a study over the app's bounds."""
    spec.check()
    if spec.trials > MAX_TRIALS:
        raise ValueError(f"the app runs at most {MAX_TRIALS} trials a study; for more, "
                         "use the command line below")
    if spec.epochs > MAX_EPOCHS:
        raise ValueError(f"the app trains at most {MAX_EPOCHS} epochs a trial")
    if spec.base.train_limit is None or spec.base.train_limit > MAX_TRAIN:
        raise ValueError(f"the app trains on at most {MAX_TRAIN:,} images a trial")
    if not 1 <= workers <= max_workers():
        raise ValueError(f"the app starts 1 to {max_workers()} workers")


@dataclass
class Started:
    """A study the app started: its run, its thread, and how it ended."""

    run: dr.StudyRun
    workspace: str
    thread: threading.Thread
    outcome: dr.Outcome | None = None
    error: str = ""  # why it could not run at all (no cluster)

    @property
    def running(self) -> bool:
        return self.thread.is_alive()


class AppStudies:
    """The server's studies: one running at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: Started | None = None

    def current(self, workspace: str) -> Started | None:
        """The workspace's study on this server (running, or the last one ended)."""
        with self._lock:
            c = self._current
        return c if c is not None and c.workspace == workspace else None

    def busy_elsewhere(self, workspace: str) -> bool:
        with self._lock:
            c = self._current
        return c is not None and c.running and c.workspace != workspace

    def start(self, spec: dr.StudySpec, workers: int, store: Store,
              storage: dr.JournalStorage, workspace: str, data: MNIST) -> Started:
        """Start the study in the background; ValueError (one line) when over the bounds
        or when another study runs on this server."""
        check_bounds(spec, workers)
        address = dc.scheduler_address(None)
        with self._lock:
            if self._current is not None and self._current.running:
                raise ValueError("another study is running on this server; start yours "
                                 "when it has ended (or use the command line)")
            run = dr.StudyRun(spec, storage, store, workspace, data, origin="app")
            run.create(address or f"a local cluster of {workers} workers")
            started = Started(run, workspace, threading.Thread(
                target=lambda: self._run(started, address, workers),
                name="mnist_np-study", daemon=True))
            self._current = started
        started.thread.start()
        return started

    @staticmethod
    def _run(started: Started, address: str | None, workers: int) -> None:
        run = started.run
        try:
            with dc.connect(address, workers) as client:
                started.outcome = run.run(client)
        except dc.ClusterError as e:
            started.error = str(e)
        except Exception as e:  # never die silently: the page shows it
            started.error = f"the study stopped by an internal error: {type(e).__name__}: {e}"
        if started.outcome is None and run.study is not None:
            run.study.set_user_attr("state", "failed")
            run.study.set_user_attr("message", started.error)

    def cancel(self, workspace: str) -> None:
        c = self.current(workspace)
        if c is not None:
            c.run.cancel()

    def join(self, timeout: float = 60) -> None:
        with self._lock:
            c = self._current
        if c is not None:
            c.thread.join(timeout)
