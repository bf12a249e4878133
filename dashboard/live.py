"""Views computed on the live network: a fixed subset of test digits, and a small cache
that recomputes a view when the network changed, but at most every few seconds while
training runs (the training thread moves on by hundreds of steps in that time anyway).

No Streamlit here: pages keep a :class:`LiveCache` in ``st.session_state``. A cache made
with ``background=True`` never makes a page wait for a view it has shown before: while
training runs it hands back the last result at once and recomputes on one shared
thread (``REFRESHER``), for the page's next live redraw.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np


def digit_subset(n_total: int, size: int, seed: int = 0) -> np.ndarray:
    """``min(size, n_total)`` distinct indices into the test set, sorted, the same every
    time for the same arguments (a seeded draw, so every digit class is represented)."""
    size = min(int(size), int(n_total))
    picked = np.random.default_rng(seed).choice(n_total, size=size, replace=False)
    return np.sort(picked)


# One thread for every session's background recomputations: at most one view is
# computed at a time beside training and the pages' own runs, however many are open.
REFRESHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-view")


@dataclass
class _Entry:
    owner: weakref.ref
    version: int
    computed_at: float
    seconds: float  # how long the computation took
    value: Any


class LiveCache:
    """Results of ``compute()`` per ``key`` and network state, at most ``max_entries``.

    A network state is an ``owner`` (the session's trainer: a reset makes a new one) and
    its ``version``. A stored result is reused while both match; while ``running``, also
    for ``min_seconds`` after it was computed, and for as long as it takes for the
    computation to use no more than ``time_share`` of the time (a slow view never
    starves training or the page), so a view of a training network is redrawn at most
    that often.

    With ``background``, a result that is due for a recompute while ``running`` is
    still handed back at once, and the recompute goes to ``REFRESHER`` (one per key at a
    time); the next call after it is done gets the new result. Only a key never computed
    for this owner, or a network that stopped, is computed while the caller waits. A
    background computation that raises ValueError (a network that overflows) leaves the
    old result in place.
    """

    def __init__(self, max_entries: int = 6, min_seconds: float = 3.0,
                 clock: Callable[[], float] = time.monotonic, time_share: float = 0.1,
                 background: bool = False, executor: ThreadPoolExecutor | None = None):
        self.max_entries, self.min_seconds, self.clock = max_entries, min_seconds, clock
        self.time_share, self.background = time_share, background
        self.executor = executor or REFRESHER
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._pending: dict[Hashable, Future] = {}
        self._lock = threading.Lock()  # the entries are also written by REFRESHER

    def get(self, key: Hashable, owner: object, version: int, running: bool,
            compute: Callable[[], Any]) -> Any:
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.owner() is owner:
                wait = max(self.min_seconds, entry.seconds / self.time_share)
                if entry.version == version or (running and now - entry.computed_at < wait):
                    self._entries.move_to_end(key)
                    return entry.value
                if self.background and running:
                    self._entries.move_to_end(key)
                    if key not in self._pending:
                        self._pending[key] = self.executor.submit(
                            self._refresh, key, owner, version, compute)
                    return entry.value
        value = compute()
        self._store(key, owner, version, now, value)
        return value

    def _refresh(self, key: Hashable, owner: object, version: int,
                 compute: Callable[[], Any]) -> None:
        try:
            now = self.clock()
            try:
                value = compute()
            except ValueError:
                return  # an overflowing network: the page's own run will say so
            self._store(key, owner, version, now, value)
        finally:
            with self._lock:
                self._pending.pop(key, None)

    def _store(self, key: Hashable, owner: object, version: int, started: float,
               value: Any) -> None:
        with self._lock:
            self._entries[key] = _Entry(weakref.ref(owner), version, started,
                                        self.clock() - started, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def wait(self) -> None:
        """Until the background recomputations started so far are done (for tests)."""
        for future in list(self._pending.values()):
            future.result()

    def version_of(self, key: Hashable) -> int | None:
        """The network version the stored result for ``key`` was computed on."""
        with self._lock:
            entry = self._entries.get(key)
        return None if entry is None else entry.version

    def __len__(self) -> int:
        return len(self._entries)
