"""Studies the app starts: each is ``python -m mnist_np study`` in a process of its own,
waited for by a thread that never calls Streamlit, on a local Dask cluster that process
starts and stops, or on the cluster ``MNIST_NP_DASK_SCHEDULER`` names.

A shared server must survive its visitors' studies, so the app's are bounded: at most
:data:`MAX_TRIALS` trials of :data:`MAX_EPOCHS` epochs on at most :data:`MAX_TRAIN`
images, at most :data:`MAX_WORKERS` workers, and one study at a time per server (a
second visitor is told to wait). A study goes on when its page is left or reloaded (it
is watched from its journal) and stops when cancelled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from . import cluster as dc
from . import driver as dr
from .cli import INTERRUPTED, PROG

REPO = Path(__file__).resolve().parents[1]
PREFIX = f"{PROG}: "

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
    """A study the app started: the ``python -m mnist_np study`` process that drives it,
    the thread that waits for it, and why it failed (one line) if it did."""

    process: subprocess.Popen
    workspace: str
    thread: threading.Thread
    error: str = ""

    @property
    def running(self) -> bool:
        return self.thread.is_alive()


def command(spec: dr.StudySpec, workers: int | None, db_path: str | None, workspace: str
            ) -> list[str]:
    """The command line's arguments for ``spec`` (after ``python -m mnist_np``)."""
    argv = ["study", *[a for p in spec.space for a in ("--param", p.text)],
            "--sampler", spec.sampler, "--trials", str(spec.trials),
            "--epochs", str(spec.epochs), "--pruner", spec.pruner,
            "--prune-after", str(spec.prune_after), "--seed", str(spec.base.seed)]
    if spec.base.train_limit is not None:
        argv += ["--train-limit", str(spec.base.train_limit)]
    if workers is not None:
        argv += ["--workers", str(workers)]
    return [*argv, "--workspace", workspace, *(["--db", db_path] if db_path else [])]


class AppStudies:
    """The server's studies: one running at a time. Each runs as ``python -m mnist_np
    study`` in a process of its own (the driver), so Dask's worker processes are never
    spawned from the server (they would import Streamlit's script as their main module),
    and whatever happens to the study, the server goes on. Cancel is its Ctrl-C."""

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

    def start(self, spec: dr.StudySpec, workers: int, db_path: str, workspace: str
              ) -> Started:
        """Start the study in the background; ValueError (one line) when over the bounds
        or when another study runs on this server."""
        check_bounds(spec, workers)
        local = dc.scheduler_address(None) is None
        argv = [sys.executable, "-m", "mnist_np",
                *command(spec, workers if local else None, db_path, workspace),
                "--origin", "app"]
        with self._lock:
            if self._current is not None and self._current.running:
                raise ValueError("another study is running on this server; start yours "
                                 "when it has ended (or use the command line)")
            process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True,
                                       env={**os.environ, "PYTHONPATH": str(REPO)})
            started = Started(process, workspace, threading.Thread(
                target=lambda: self._wait(started), name="mnist_np-study", daemon=True))
            self._current = started
        started.thread.start()
        return started

    @staticmethod
    def _wait(started: Started) -> None:
        _, err = started.process.communicate()
        if started.process.returncode not in (0, INTERRUPTED):
            lines = [line for line in err.splitlines() if line.strip()]
            last = lines[-1] if lines else f"exit code {started.process.returncode}"
            started.error = f"The study stopped: {last.removeprefix(PREFIX)}"

    def cancel(self, workspace: str) -> None:
        """Cancel the workspace's study: its running trials stop, ended ones are kept."""
        c = self.current(workspace)
        if c is not None and c.running:
            c.process.send_signal(signal.SIGINT)

    def join(self, timeout: float = 60) -> None:
        with self._lock:
            c = self._current
        if c is not None:
            c.thread.join(timeout)
