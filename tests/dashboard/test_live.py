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


def test_live_cache_in_the_background_hands_back_the_last_result_while_training():
    """A view shown before never makes the page wait while training runs: the stale
    result comes back at once and the recompute runs on the refresher thread, one per
    key at a time; a stopped network, or a key never computed, is computed at once."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Event, get_ident

    now = [0.0]
    with ThreadPoolExecutor(max_workers=1) as pool:
        cache = LiveCache(max_entries=2, min_seconds=3.0, clock=lambda: now[0],
                          background=True, executor=pool)
        owner, release, threads = Owner(), Event(), []

        def compute(version, block=False):
            def run():
                threads.append(get_ident())
                if block:
                    assert release.wait(10)
                return version
            return run

        assert cache.get("k", owner, 1, True, compute(1)) == 1  # never computed: waits
        assert threads == [get_ident()]
        now[0] = 5.0
        assert cache.get("k", owner, 7, True, compute(7, block=True)) == 1  # stale, at once
        assert cache.get("k", owner, 8, True, compute(8)) == 1  # one recompute at a time
        release.set()
        cache.wait()
        assert threads[1] != get_ident() and len(threads) == 2
        assert cache.version_of("k") == 7
        assert cache.get("k", owner, 7, True, compute(7)) == 7 and len(threads) == 2
        assert cache.get("k", owner, 9, False, compute(9)) == 9  # stopped: the latest, now
        assert threads[-1] == get_ident()

        def overflow():
            raise ValueError("overflow")
        now[0] = 10.0
        assert cache.get("k", owner, 12, True, overflow) == 9  # the old result stays
        cache.wait()
        assert cache.version_of("k") == 9


def test_digit_subset_is_fixed_distinct_and_bounded():
    a, b = digit_subset(10_000, 2000), digit_subset(10_000, 2000)
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 2000 and a.max() < 10_000
    assert len(digit_subset(1000, 5000)) == 1000
