"""The trainer threads of the server: one process-wide pool that every background worker
(each browser session's training, the Robustness page's twins) trains on, in turns.

At most :attr:`TrainerPool.size` workers step at any instant, one per usable core (one
BLAS thread each: ``mnist_np.threads``); the others wait in a queue. A worker's turn is
a time slice of :data:`SLICE_SECONDS` of steps (at least one), after which it goes to
the back of the queue: every runnable worker makes progress, a fast network and a slow
one get the same share of time, and the page scripts of every session (which need the
interpreter too) compete with a few threads instead of one per visitor. A pause takes
effect after the step in progress, or at once when the worker is waiting for its turn.
Why a pool and not a thread per session: docs/architecture.md, "Many sessions, few
cores".

Nothing here knows about training: a job is anything with ``_turn(until) -> bool`` (run
until the monotonic time ``until``; True when it wants another turn), ``_finish()`` and
``stopping`` (see :class:`~.worker.Worker`), whose ``_finish`` never raises. The pool
calls ``_finish`` after the job's last turn, once the job has left :meth:`jobs`' count,
so whoever waits for the job's end sees the pool without it. Nothing here calls
Streamlit.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from collections import deque
from typing import Protocol

from mnist_np.bench import cores

SLICE_SECONDS = 0.05  # one turn: ~40 default-preset steps; a pause never waits for it


def name_os_thread(name: str) -> None:
    """Give the calling thread ``name`` in the operating system too (Linux keeps 15
    bytes), so ``top -H``, ``/proc/<pid>/task/*/comm`` and profilers tell the pool's
    threads from the page scripts' (Python 3.11 names a thread only for itself). Does
    nothing elsewhere or when the C library will not."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # 15: PR_SET_NAME
    except (OSError, AttributeError):
        pass


class Job(Protocol):
    @property
    def stopping(self) -> bool: ...

    def _turn(self, until: float) -> bool: ...

    def _finish(self) -> None: ...


class TrainerPool:
    """``size`` daemon threads (default: the cores this process may run on) serving
    submitted jobs round-robin in turns of ``slice_seconds``. The threads start with the
    first job and then wait for work for as long as the process lives."""

    def __init__(self, size: int | None = None, slice_seconds: float = SLICE_SECONDS,
                 name: str = "mnist_np-pool"):
        self.size = max(1, size if size is not None else cores())
        self.slice_seconds, self.name = slice_seconds, name
        self._cond = threading.Condition()
        self._queue: deque[Job] = deque()
        self._running: set[int] = set()  # id() of the jobs taking a turn now
        self._threads: list[threading.Thread] = []

    def submit(self, job: Job) -> None:
        """Queue ``job`` for turns until its turn says it is done."""
        with self._cond:
            self._queue.append(job)
            if len(self._threads) < self.size:
                t = threading.Thread(target=self._serve, daemon=True,
                                     name=f"{self.name}-{len(self._threads) + 1}")
                self._threads.append(t)
                t.start()
            self._cond.notify()

    def withdraw(self, job: Job) -> bool:
        """Take ``job`` out of the queue; False when it is not waiting there (taking a
        turn now, or never submitted or done)."""
        with self._cond:
            try:
                self._queue.remove(job)
            except ValueError:
                return False
            return True

    def jobs(self) -> int:
        """The jobs in the pool now: taking a turn or waiting for one."""
        with self._cond:
            return len(self._queue) + len(self._running)

    @property
    def threads(self) -> int:
        """The threads started so far (at most :attr:`size`)."""
        return len(self._threads)

    def _serve(self) -> None:
        name_os_thread(threading.current_thread().name)
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                job = self._queue.popleft()
                self._running.add(id(job))
            again = False
            try:
                again = job._turn(time.monotonic() + self.slice_seconds)
            except Exception:  # a job's own errors end in its turn: never lose a thread
                again = False
            with self._cond:
                self._running.discard(id(job))
                again = again and not job.stopping  # stopped during the turn's last step
                if again:
                    self._queue.append(job)
                    self._cond.notify()
            if not again:
                job._finish()


_default: TrainerPool | None = None
_default_lock = threading.Lock()


def default_pool() -> TrainerPool:
    """The server's pool, made on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = TrainerPool()
        return _default
