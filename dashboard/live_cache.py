"""A per-page cache for results that depend on the network's state (e.g. test-set
predictions): computed once per network version, and while training runs refreshed only
as often as a small share of the time allows, so a slow computation never starves
training or the page."""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from .session import TrainingSession

# While training runs, a computation may use about this share of the wall-clock time.
TIME_SHARE = 0.1


@dataclass
class Entry:
    trainer: object   # which run (a reset starts a new trainer and counts versions from 0)
    version: int
    computed_at: float
    seconds: float
    value: Any


def per_version(key: str, session: TrainingSession, version: int,
                compute: Callable[[], Any],
                store: MutableMapping | None = None) -> tuple[Any, int]:
    """``compute()`` for this network ``version``, kept in ``store[key]`` (one entry;
    ``st.session_state`` by default). Returns the value and the version it belongs to,
    which lags behind ``version`` while training runs if the computation is slow."""
    store = st.session_state if store is None else store
    entry: Entry | None = store.get(key)
    now = time.monotonic()
    if entry is not None and entry.trainer is session.trainer:
        fresh = entry.version == version
        recent = session.running and now - entry.computed_at < entry.seconds / TIME_SHARE
        if fresh or recent:
            return entry.value, entry.version
    start = time.perf_counter()
    value = compute()
    store[key] = Entry(session.trainer, version, now, time.perf_counter() - start, value)
    return value, version
