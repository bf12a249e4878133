"""dashboard.worker: the background thread that calls ``step()`` until it is done, stopped,
broken or its browser session is gone. Steps wait on events, never on the clock."""

import threading

from dashboard import worker as worker_module
from dashboard.worker import Worker

from ..conftest import wait_for

WAIT = 5.0  # the most any test waits for a thread; a passing run waits far less


class Steps:
    """A step function that counts its calls and returns False from call ``last`` on
    (None: never); ``raise_on`` makes that call raise instead."""

    def __init__(self, last: int | None = None, raise_on: int | None = None):
        self.calls, self.last, self.raise_on = 0, last, raise_on
        self.threads: set[str] = set()

    def __call__(self) -> bool:
        self.calls += 1
        self.threads.add(threading.current_thread().name)
        if self.calls == self.raise_on:
            raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")
        return self.last is None or self.calls < self.last


class Exits:
    def __init__(self):
        self.count = 0
        self.done = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.done.set()


def test_steps_run_in_the_thread_until_a_step_returns_false():
    step, on_exit = Steps(last=5), Exits()
    w = Worker(step, "worker-test", on_exit=on_exit)
    assert not w.alive and not w.stopping
    w.start()
    w.join(WAIT)
    assert not w.alive
    assert step.calls == 5 and step.threads == {"worker-test"}
    assert on_exit.count == 1 and w.error == "" and not w.stopping


def test_stop_lets_the_current_step_finish_runs_no_other_and_waits_for_the_thread():
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def step() -> bool:
        seen["calls"] = seen.get("calls", 0) + 1
        entered.set()
        release.wait(WAIT)
        seen["stopping inside the step"] = w.stopping
        return True  # never done by itself

    on_exit = Exits()
    w = Worker(step, "worker-test", on_exit=on_exit)
    w.start()
    assert entered.wait(WAIT)

    def stopper() -> None:
        w.stop(timeout=WAIT)
        seen["alive when stop returned"] = w.alive

    t = threading.Thread(target=stopper)
    t.start()
    wait_for(lambda: w.stopping, WAIT)
    release.set()  # the step in progress ends; stop() must not return before the thread
    t.join(WAIT)
    assert not t.is_alive()
    assert seen == {"calls": 1, "stopping inside the step": True,
                    "alive when stop returned": False}
    assert on_exit.count == 1 and w.error == ""


def test_a_step_may_stop_its_own_worker():
    """stop() called from inside the thread must not try to join that thread."""
    step = Steps()

    def stop_from_inside() -> bool:
        step()
        w.stop()
        return True

    w = Worker(stop_from_inside, "worker-test")
    w.start()
    w.join(WAIT)
    assert not w.alive and step.calls == 1 and w.error == ""


def test_a_closed_browser_session_ends_the_worker_before_its_first_step():
    step, on_exit = Steps(), Exits()
    asked = []
    w = Worker(step, "worker-test", is_alive=lambda: asked.append(1) or False, on_exit=on_exit)
    w.start()
    w.join(WAIT)
    assert not w.alive and step.calls == 0 and asked == [1] and on_exit.count == 1


def test_a_session_that_closes_while_training_ends_the_worker(monkeypatch):
    monkeypatch.setattr(worker_module, "ALIVE_CHECK_SECONDS", 0.0)  # ask before every step
    open_ = [True]
    step = Steps()

    def step_then_close() -> bool:
        step()
        if step.calls == 3:
            open_[0] = False
        return True

    w = Worker(step_then_close, "worker-test", is_alive=lambda: open_[0])
    w.start()
    w.join(WAIT)
    assert not w.alive and step.calls == 3 and w.error == ""


def test_the_session_is_asked_about_at_most_once_per_interval(monkeypatch):
    monkeypatch.setattr(worker_module, "ALIVE_CHECK_SECONDS", 3600.0)
    asked = []
    step = Steps(last=20)
    w = Worker(step, "worker-test", is_alive=lambda: asked.append(1) or True)
    w.start()
    w.join(WAIT)
    assert step.calls == 20 and asked == [1]


def test_an_exception_becomes_a_one_line_error_and_on_exit_still_runs():
    step, on_exit = Steps(raise_on=3), Exits()
    w = Worker(step, "worker-test", on_exit=on_exit)
    w.start()
    w.join(WAIT)
    assert not w.alive and step.calls == 3 and on_exit.count == 1
    assert w.error == "TypeError: unsupported operand type(s) for +: 'int' and 'str'"


def test_start_after_an_error_clears_it_and_runs_again():
    step, on_exit = Steps(last=5, raise_on=2), Exits()
    w = Worker(step, "worker-test", on_exit=on_exit)
    w.start()
    w.join(WAIT)
    assert w.error.startswith("TypeError: ") and step.calls == 2
    w.start()  # calls 3, 4, 5: the fifth says it is done
    w.join(WAIT)
    assert not w.alive and w.error == "" and step.calls == 5 and on_exit.count == 2


def test_start_after_a_stop_runs_again():
    step, running, finish = Steps(), threading.Event(), threading.Event()

    def counting() -> bool:
        step()
        if step.calls >= 3:
            running.set()
        return not finish.is_set()  # the first run goes on until stopped

    w = Worker(counting, "worker-test")
    w.start()
    assert running.wait(WAIT)
    w.stop(WAIT)
    assert not w.alive and w.stopping
    stopped_at = step.calls
    finish.set()
    w.start()
    assert not w.stopping
    w.join(WAIT)
    assert not w.alive and step.calls == stopped_at + 1


def test_join_before_start_returns_at_once():
    w = Worker(Steps(), "worker-test")
    w.join(WAIT)
    w.stop(WAIT)
    assert not w.alive and w.stopping
