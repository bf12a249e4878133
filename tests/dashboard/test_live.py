"""dashboard.live: the live-view cache and the fixed subset of digits the views draw."""

import numpy as np

from dashboard.live import LiveCache, digit_subset


class Owner:
    """Stands for a session's trainer: only its identity matters to the cache."""


def test_live_cache_reuses_per_state_and_throttles_while_running():
    now = [0.0]
    cache = LiveCache(max_entries=2, min_seconds=3.0, clock=lambda: now[0])
    calls = []

    def get(key, owner, version, running):
        return cache.get(key, owner, version, running, lambda: calls.append(version) or version)

    a = Owner()
    assert get("k", a, 1, False) == 1 and get("k", a, 1, False) == 1 and calls == [1]
    assert get("k", a, 2, False) == 2 and calls == [1, 2]  # a new state: recomputed
    now[0] = 1.0
    assert get("k", a, 9, True) == 2  # training: 1 s after the last result, kept
    now[0] = 3.5
    assert get("k", a, 12, True) == 12 and calls == [1, 2, 12]  # 3.5 s: recomputed
    b = Owner()  # a reset network starts at version 0 again, under a new trainer
    assert get("k", b, 12, False) == 12 and calls[-1] == 12 and len(calls) == 4
    get("other", b, 0, False)
    get("third", b, 0, False)
    assert len(cache) == 2  # bounded: the least recently used went
    get("k", b, 12, False)
    assert len(calls) == 7


def test_live_cache_throttles_a_slow_view_to_a_share_of_the_time():
    now = [0.0]
    cache = LiveCache(max_entries=1, min_seconds=0.0, clock=lambda: now[0], time_share=0.1)
    owner, calls = Owner(), []

    def slow():  # takes 0.5 s of the (fake) clock: at most every 5 s while training
        calls.append(now[0])
        now[0] += 0.5
        return len(calls)

    assert cache.get("p", owner, 0, False, slow) == 1 and cache.version_of("p") == 0
    assert cache.get("p", owner, 1, False, slow) == 2  # paused: always the latest state
    now[0] = 4.0
    assert cache.get("p", owner, 7, True, slow) == 2 and cache.version_of("p") == 1
    now[0] = 6.5
    assert cache.get("p", owner, 9, True, slow) == 3 and cache.version_of("p") == 9


def test_digit_subset_is_fixed_distinct_and_bounded():
    a, b = digit_subset(10_000, 2000), digit_subset(10_000, 2000)
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 2000 and a.max() < 10_000
    assert len(digit_subset(1000, 5000)) == 1000
