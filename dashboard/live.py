"""Views computed on the live network: a fixed subset of test digits, and a small cache
that recomputes a view when the network changed, but at most every few seconds while
training runs (the training thread moves on by hundreds of steps in that time anyway).

No Streamlit here: pages keep a :class:`LiveCache` in ``st.session_state``.
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np


def digit_subset(n_total: int, size: int, seed: int = 0) -> np.ndarray:
    """``min(size, n_total)`` distinct indices into the test set, sorted, the same every
    time for the same arguments (a seeded draw, so every digit class is represented)."""
    size = min(int(size), int(n_total))
    picked = np.random.default_rng(seed).choice(n_total, size=size, replace=False)
    return np.sort(picked)


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
    """

    def __init__(self, max_entries: int = 6, min_seconds: float = 3.0,
                 clock: Callable[[], float] = time.monotonic, time_share: float = 0.1):
        self.max_entries, self.min_seconds, self.clock = max_entries, min_seconds, clock
        self.time_share = time_share
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    def get(self, key: Hashable, owner: object, version: int, running: bool,
            compute: Callable[[], Any]) -> Any:
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and entry.owner() is owner:
            wait = max(self.min_seconds, entry.seconds / self.time_share)
            if entry.version == version or (running and now - entry.computed_at < wait):
                self._entries.move_to_end(key)
                return entry.value
        value = compute()
        self._entries[key] = _Entry(weakref.ref(owner), version, now, self.clock() - now, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value

    def version_of(self, key: Hashable) -> int | None:
        """The network version the stored result for ``key`` was computed on."""
        entry = self._entries.get(key)
        return None if entry is None else entry.version

    def __len__(self) -> int:
        return len(self._entries)
