"""One background worker: a daemon thread that calls ``step()`` again and again.

The training session and the sweep both train on one. The thread stops within one
step when asked, for good when the browser session that owns it goes away
(``is_alive`` turns false; asked about once a second), and when ``step()`` says there
is nothing left to do. It never calls Streamlit; an exception ends it and is kept as
a one-line :attr:`Worker.error` for the page to show.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

ALIVE_CHECK_SECONDS = 1.0


class Worker:
    """Runs ``step()`` in a thread until it returns False, :meth:`stop` is called or
    ``is_alive()`` turns false; then ``on_exit()``, in the thread."""

    def __init__(self, step: Callable[[], bool], name: str,
                 is_alive: Callable[[], bool] = lambda: True,
                 on_exit: Callable[[], None] = lambda: None):
        self._step, self.name, self.is_alive, self._on_exit = step, name, is_alive, on_exit
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error = ""  # "TypeError: ..." when a step raised

    def start(self) -> None:
        self._stop.clear()
        self.error = ""
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        """Stop after the current step, and wait (at most ``timeout`` s) for that."""
        self._stop.set()
        self.join(timeout)

    def join(self, timeout: float = 5) -> None:
        """Wait (at most ``timeout`` s) for the thread to end."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called (a step may check it to end early)."""
        return self._stop.is_set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        last_check = -ALIVE_CHECK_SECONDS  # ask before the first step too
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now - last_check >= ALIVE_CHECK_SECONDS:
                    last_check = now
                    if not self.is_alive():
                        break
                if not self._step():
                    break
        except Exception as e:  # never die silently: the owner shows the message
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self._on_exit()
