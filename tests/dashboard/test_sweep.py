"""dashboard.sweep without Streamlit: planning a sweep, parsing its values, and the sweep
runner beside a training session."""

import time

import pytest

from dashboard import sweep as sw
from dashboard.session import TrainingSession
from dashboard.settings import Settings

from ..conftest import wait_for


def test_plan_applies_each_combination_to_the_base_settings():
    base = Settings(hidden=(64, 32), seed=3, steps=500)
    p = sw.plan(base, [("units", [16, 8]), ("activation", ["tanh", "relu"])], 2, 1000)
    assert p.size == 4 and p.points[1] == (16, "relu")
    assert [s.hidden for s in p.settings] == [(16, 16), (16, 16), (8, 8), (8, 8)]
    assert {(s.epochs, s.steps, s.train_limit, s.seed) for s in p.settings} == {(2, None, 1000, 3)}
    assert sw.PARAMS["units"].apply(Settings(hidden=()), 32).hidden == (32,)


@pytest.mark.parametrize("axes, epochs, limit, message", [
    ([], 1, 1000, "one hyperparameter, or two"),
    ([("lr", [0.1]), ("lr", [0.2])], 1, 1000, "two different"),
    ([("lr", [0.1])], sw.MAX_EPOCHS + 1, 1000, "1 to 5 epochs"),
    ([("lr", [0.1])], 1, 60_000, "trains on 1000, 2000, 5000, 10000 images"),
])
def test_plan_refuses_what_is_over_the_bounds(axes, epochs, limit, message):
    with pytest.raises(ValueError, match=message):
        sw.plan(Settings(), axes, epochs, limit)


def test_param_parse_checks_values_and_drops_repeats():
    assert sw.PARAMS["lr"].parse(" 0.1,0.01, 0.1 ") == [0.1, 0.01]
    assert sw.PARAMS["units"].parse("16, 64") == [16, 64]
    assert sw.PARAMS["optimizer"].parse("adam, sgd") == ["adam", "sgd"]
    with pytest.raises(ValueError, match="unknown"):
        sw.PARAMS["activation"].parse("relu, swish")
    with pytest.raises(ValueError, match="at most 6 values"):
        sw.PARAMS["batch_size"].parse("1, 2, 3, 4, 5, 6, 7")
    with pytest.raises(ValueError, match="between 1 and 1024"):
        sw.PARAMS["units"].parse("2000")


def test_a_sweep_waits_while_the_main_network_trains(sample):
    session = TrainingSession(sample, Settings(hidden=(32,), epochs=100))
    plan = sw.plan(session.settings, [("lr", [0.05, 0.1, 0.2])], 1, 2000)
    sweep = sw.Sweep(session, plan, "sweep 1").start()
    try:
        session.play()
        wait_for(lambda: sweep.waiting)
        done = len(sweep.records)
        time.sleep(0.5)
        assert len(sweep.records) == done and sweep.running
        session.pause()
        sweep.join(60)
        assert sweep.state == sw.DONE and len(sweep.records) == 3
        assert [r.origin for r in session.runs] == ["sweep 1"] * 3
        assert [r.number for r in session.runs] == [1, 2, 3]
        assert sweep.progress == 1.0
    finally:
        sweep.cancel()
        session.close()


def test_a_sweep_stops_when_the_browser_session_is_gone(sample):
    session = TrainingSession(sample, Settings(hidden=(32,)))
    plan = sw.plan(session.settings, [("lr", [0.01, 0.02, 0.05, 0.1])], 5, 2000)
    sweep = sw.Sweep(session, plan, "sweep 1", is_alive=lambda: False).start()
    sweep.join(30)
    assert sweep.state == sw.CANCELLED and sweep.records == [] and list(session.runs) == []


def test_a_sweep_that_breaks_says_why_instead_of_dying_silently(sample):
    session = TrainingSession(sample, Settings(hidden=(8,)))
    broken = Settings(hidden=(8,), activation="no-such-activation", train_limit=1000)
    sweep = sw.Sweep(session, sw.Plan([("activation", ["?"])], [("?",)], [broken]), "sweep 1")
    sweep.start().join(30)
    assert sweep.state == sw.FAILED and not sweep.running
    assert sweep.error.startswith("the sweep stopped by an internal error: ConfigError: ")
    assert "no-such-activation" in sweep.error


def test_train_images_counts_what_a_run_really_uses(sample):
    assert sw.train_images(60_000, 5000, 0) == 5000
    assert sw.train_images(len(sample.X_train), 5000, 0) == len(sample.X_train) * 4 // 5
