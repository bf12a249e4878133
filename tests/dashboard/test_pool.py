"""dashboard.pool: workers take turns on a bounded pool of trainer threads. Each test has
its own pool; turns of one step (a slice of 0 s) make the order of turns exact, and steps
wait on events, never on the clock."""

import sys
import threading
from pathlib import Path

import pytest

from dashboard import settings as cfg
from dashboard.pool import TrainerPool
from dashboard.session import PAUSED, TrainingSession
from dashboard.settings import Settings
from dashboard.worker import Worker

from ..conftest import wait_for

WAIT = 10.0  # the most any test waits; a passing run waits far less


class Log:
    """Every step of every worker, in order, with how many ran at the same time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.order: list[str] = []
        self.now, self.most = 0, 0

    def step(self, name: str, last: int | None = None, raise_on: int | None = None,
             gate: threading.Event | None = None):
        calls = [0]

        def step() -> bool:
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                if gate is not None:
                    gate.wait(WAIT)
                calls[0] += 1
                with self.lock:
                    self.order.append(name)
                if calls[0] == raise_on:
                    raise ValueError(f"{name} broke")
                return last is None or calls[0] < last
            finally:
                with self.lock:
                    self.now -= 1

        return step


def test_two_workers_on_one_thread_take_turns():
    pool, log, gate = TrainerPool(size=1, slice_seconds=0.0), Log(), threading.Event()
    a = Worker(log.step("a", last=6, gate=gate), "a", pool=pool)
    b = Worker(log.step("b", last=6), "b", pool=pool)
    a.start()
    b.start()
    gate.set()  # both are in the pool before the first step ends
    a.join(WAIT)
    b.join(WAIT)
    assert not a.alive and not b.alive and log.most == 1
    # one step a turn, then the back of the queue: neither waits for the other to end
    assert log.order == ["a", "b"] * 6
    assert pool.jobs() == 0 and pool.threads == 1


def test_more_workers_than_threads_all_finish_never_more_than_the_threads_at_once():
    pool, log, gate = TrainerPool(size=2, slice_seconds=0.0), Log(), threading.Event()
    workers = [Worker(log.step(str(k), last=15, gate=gate), str(k), pool=pool)
               for k in range(6)]
    for w in workers:
        w.start()
    gate.set()  # all six are in the pool before the first step ends
    for w in workers:
        w.join(WAIT)
    assert not any(w.alive for w in workers) and all(not w.error for w in workers)
    assert sorted(log.order) == sorted(str(k) for k in range(6) for _ in range(15))
    assert log.most <= 2 and pool.threads == 2 and pool.jobs() == 0


def test_a_stop_ends_the_turn_after_its_step_and_a_waiting_worker_at_once():
    pool, log = TrainerPool(size=1, slice_seconds=3600.0), Log()  # turns never end
    gate = threading.Event()
    busy = Worker(log.step("busy", gate=gate), "busy", pool=pool)
    exits: list[str] = []
    waiting = Worker(log.step("waiting"), "waiting", pool=pool,
                     on_exit=lambda: exits.append(threading.current_thread().name))
    busy.start()
    waiting.start()
    wait_for(lambda: log.now == 1, WAIT)  # busy's first step has begun
    waiting.stop(WAIT)  # never had a turn: ends here, on_exit in this thread
    assert not waiting.alive and exits == [threading.current_thread().name]
    stopper = threading.Thread(target=busy.stop, args=(WAIT,))
    stopper.start()
    wait_for(lambda: busy.stopping, WAIT)
    gate.set()  # the step in progress ends; the turn (an hour long) ends with it
    stopper.join(WAIT)
    assert not stopper.is_alive() and not busy.alive
    assert log.order == ["busy"] and pool.jobs() == 0


def test_a_step_that_raises_ends_only_its_own_worker_with_its_message():
    pool, log = TrainerPool(size=1, slice_seconds=0.0), Log()
    broken = Worker(log.step("broken", raise_on=2), "broken", pool=pool)
    fine = Worker(log.step("fine", last=8), "fine", pool=pool)
    broken.start()
    fine.start()
    broken.join(WAIT)
    fine.join(WAIT)
    assert broken.error == "ValueError: broken broke" and log.order.count("broken") == 2
    assert fine.error == "" and log.order.count("fine") == 8
    fine.start()  # the pool's thread lives on after the error
    fine.join(WAIT)
    assert log.order.count("fine") == 9


def test_two_sessions_on_one_thread_both_train_and_pause(sample):
    pool = TrainerPool(size=1, slice_seconds=0.0)
    settings = Settings(hidden=(16,), steps=cfg.MAX_STEPS)  # never done by themselves
    one, two = (TrainingSession(sample, settings, pool=pool) for _ in range(2))
    one.play()
    two.play()
    wait_for(lambda: min(one.trainer.step_count, two.trainer.step_count) >= 5, WAIT)
    assert pool.jobs() == 2 and one.progress().sharing == 1 and one.progress().cores == 1
    one.pause()
    held = one.trainer.step_count
    wait_for(lambda: two.trainer.step_count >= held + 20, WAIT)  # two goes on alone
    assert one.trainer.step_count == held and one.state == PAUSED and pool.jobs() == 1
    assert two.progress().sharing == 0
    two.pause()
    assert pool.jobs() == 0 and not one.training and not two.training


def test_a_session_whose_browser_left_leaves_the_pool_released(sample):
    pool = TrainerPool(size=1, slice_seconds=0.0)
    alive, saved = [True], []
    session = TrainingSession(sample, Settings(hidden=(16,), steps=cfg.MAX_STEPS),
                              lambda: alive[0], checkpoint=lambda *a: saved.append(a),
                              pool=pool)
    session.play()
    wait_for(lambda: session.trainer.step_count > 0, WAIT)
    alive[0] = False  # asked about once a second
    session.join(WAIT)
    assert not session.training and session.released and saved and pool.jobs() == 0


def test_the_sidebar_speaks_of_turns_only_when_networks_outnumber_the_cores():
    from dashboard.sidebar import sharing_note

    assert sharing_note(0, 2) == "" and sharing_note(1, 2) == ""  # a core each
    assert sharing_note(2, 2) == ("Taking turns: sharing 2 cores with 2 other networks "
                                  "in training")
    assert sharing_note(1, 1) == "Taking turns: sharing 1 core with 1 other network in training"


def test_the_pool_threads_carry_their_name_in_the_operating_system():
    """So /proc (benchmarks/sessions.py's split of the server's CPU), top -H and
    profilers can tell training from the page scripts."""
    pool, log = TrainerPool(size=1, slice_seconds=0.0, name="np-test"), Log()
    seen: list[str] = []

    def step() -> bool:
        comm = Path(f"/proc/self/task/{threading.get_native_id()}/comm")
        seen.append(comm.read_text().strip() if comm.exists() else "")
        return log.step("a", last=1)()

    worker = Worker(step, "a", pool=pool)
    worker.start()
    worker.join(WAIT)
    if not sys.platform.startswith("linux"):
        pytest.skip("thread names in the operating system: Linux only")
    assert seen == ["np-test-1"]
