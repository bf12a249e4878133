"""One background worker: calls ``step()`` again and again, on the server's trainer pool.

The training session and the Robustness page's twins each train on one. The worker takes
turns on :mod:`.pool`'s threads (a time slice of steps each, then the back of the
queue), so any number of workers share the machine's cores fairly. It stops within one
step when asked (at once when it is waiting for its turn), for good when the browser
session that owns it goes away (``is_alive`` turns false; asked about once a second),
and when ``step()`` says there is nothing left to do. It never calls Streamlit; an
exception ends it and is kept as a one-line :attr:`Worker.error` for the page to show.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .pool import TrainerPool, default_pool

ALIVE_CHECK_SECONDS = 1.0


class Worker:
    """Runs ``step()`` on ``pool`` (default: the server's) until it returns False,
    :meth:`stop` is called or ``is_alive()`` turns false; then ``on_exit()``, in the
    pool's thread (or in the thread that stopped it while it waited for its turn).
    While a step runs, its thread bears the worker's ``name``."""

    def __init__(self, step: Callable[[], bool], name: str,
                 is_alive: Callable[[], bool] = lambda: True,
                 on_exit: Callable[[], None] = lambda: None,
                 pool: TrainerPool | None = None):
        self._step, self.name, self.is_alive, self._on_exit = step, name, is_alive, on_exit
        self._pool = pool
        self._stop = threading.Event()
        self._done = threading.Event()
        self._done.set()  # not started
        self._thread: threading.Thread | None = None  # the one taking its turn now
        self._last_check = -ALIVE_CHECK_SECONDS
        self.error = ""  # "TypeError: ..." when a step raised

    @property
    def pool(self) -> TrainerPool:
        if self._pool is None:
            self._pool = default_pool()
        return self._pool

    def start(self) -> None:
        self.join()  # a stop that timed out: let that turn end first
        self._stop.clear()
        self.error = ""
        self._last_check = -ALIVE_CHECK_SECONDS  # ask before the first step too
        self._done.clear()
        self.pool.submit(self)

    def stop(self, timeout: float = 5) -> None:
        """Stop after the current step, and wait (at most ``timeout`` s) for that."""
        self._stop.set()
        if self.pool.withdraw(self):  # waiting for its turn: it ends here and now
            self._finish()
        self.join(timeout)

    def join(self, timeout: float = 5) -> None:
        """Wait (at most ``timeout`` s) for the worker to end."""
        if self._thread is not threading.current_thread():
            self._done.wait(timeout)

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called (a step may check it to end early)."""
        return self._stop.is_set()

    @property
    def alive(self) -> bool:
        """Started and not ended yet (taking a turn or waiting for one)."""
        return not self._done.is_set()

    def _turn(self, until: float) -> bool:
        """Steps until the monotonic time ``until`` (at least one); True when the worker
        wants another turn. Called by the pool, which calls :meth:`_finish` after the
        last one."""
        thread = threading.current_thread()
        own_name, thread.name, self._thread = thread.name, self.name, thread
        going_on = False
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now - self._last_check >= ALIVE_CHECK_SECONDS:
                    self._last_check = now
                    if not self.is_alive():
                        break
                if not self._step():
                    break
                if time.monotonic() >= until:
                    going_on = True
                    break
        except Exception as e:  # never die silently: the owner shows the message
            self.error = f"{type(e).__name__}: {e}"
        finally:
            thread.name, self._thread = own_name, None
        return going_on

    def _finish(self) -> None:
        """``on_exit()``, then the worker has ended. Exactly once per start."""
        try:
            self._on_exit()
        except Exception as e:
            self.error = self.error or f"{type(e).__name__}: {e}"
        finally:
            self._done.set()
