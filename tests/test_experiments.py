"""The Experiments page (runs table, comparison, CSV, sweeps) with AppTest, and the sweep
runner and the experiment figures without Streamlit."""

import io
import json
import math
import time

import numpy as np
import pandas as pd
import pytest

from dashboard import sweep as sw
from dashboard.figures.draw import activations_figure
from dashboard.figures.experiments import (
    accuracy_curves_figure,
    loss_curves_figure,
    runs_frame,
    sweep_figure,
)
from dashboard.figures.images import digit_figure
from dashboard.figures.robustness import answer_figure
from dashboard.runs import run_record
from dashboard.session import FINISHED, PAUSED, RUNNING, TrainingSession
from dashboard.settings import Settings
from mnist_np import MLP, TrainConfig, Trainer

PAGE = "pages/experiments.py"
SMALL = {"train": "1000", "epochs": "1"}  # 8 mini-batches a run


@pytest.fixture
def downloads(monkeypatch):
    """What the app's download buttons would send, by file name: bytes, or the callable
    of a deferred download. Spies on Streamlit's media file manager (which still works)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    files = {}
    add, add_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def spy_add(self, content, *args, **kwargs):
        files[kwargs.get("file_name")] = content
        return add(self, content, *args, **kwargs)

    def spy_add_deferred(self, make, *args, **kwargs):
        files[kwargs.get("file_name")] = make
        return add_deferred(self, make, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", spy_add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", spy_add_deferred)
    return files


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def chart_names(at, key: str) -> set[str]:
    """The trace names of the plotly chart with widget key ``key``."""
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if key in chart.proto.id:
            return {t.get("name") for t in spec["data"]}
    raise KeyError(key)


def train_two_runs(app):
    """Two finished runs through the sidebar: learning rate 0.2, then 0.05."""
    at = app(SMALL).run()
    session = at.session_state["session"]
    for lr in (0.2, 0.05):
        at.select_slider(key="cfg_lr").set_value(lr).run()
        at.button(key="play").click().run()
        wait_for(lambda: session.state == FINISHED)
        at.button(key="reset").click().run()
    assert [r.settings.lr for r in session.runs] == [0.2, 0.05]
    return at, session


# -- AppTest ---------------------------------------------------------------------------
def test_before_any_run_the_page_says_how_runs_get_here(app):
    at = app().run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error
    assert any("No runs yet" in i.value for i in at.info)
    assert not at.dataframe
    assert at.button(key="exp_run").disabled is False  # a sweep needs no earlier run


def test_two_runs_are_tabled_compared_and_downloaded(app, downloads):
    at, session = train_two_runs(app)
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["run"]) == [1, 2] and list(table["learning rate"]) == [0.2, 0.05]
    assert list(table["status"]) == ["finished", "finished"]
    assert list(table["test accuracy"]) == [r.test_accuracy for r in session.runs]
    assert all(0.5 < a <= 1 for a in table["validation accuracy"])

    assert at.multiselect(key="exp_compare").value == [1, 2]
    assert {"run 1 validation", "run 2 validation"} <= chart_names(at, "exp_accuracy")
    assert chart_names(at, "exp_loss") == {"run 1", "run 2"}
    at.multiselect(key="exp_compare").set_value([2]).run()
    assert chart_names(at, "exp_loss") == {"run 2"}

    (name,) = [n for n in downloads if n and n.endswith(".csv")]
    csv = pd.read_csv(io.BytesIO(downloads[name]))
    assert list(csv["run"]) == [1, 2] and list(csv["learning rate"]) == [0.2, 0.05]
    assert list(csv["layers"]) == ["784-256-10"] * 2
    assert list(csv["training images"]) == [1000, 1000]
    np.testing.assert_allclose(csv["test accuracy"], [r.test_accuracy for r in session.runs])
    np.testing.assert_allclose(csv["samples/s"],
                               [round(r.samples_per_second) for r in session.runs])


def test_a_sweep_runs_in_the_background_pauses_training_and_fills_the_table(app):
    at = app({"epochs": "50"}).run()
    session = at.session_state["session"]
    at.button(key="play").click().run()
    assert session.state == RUNNING
    at.switch_page(PAGE).run()
    at.text_input(key="exp_values_0").set_value("0.05, 0.5").run()
    at.selectbox(key="exp_param_1").set_value("(none)").run()
    at.select_slider(key="exp_train").set_value(1000).run()
    at.number_input(key="exp_epochs").set_value(1).run()
    assert any("2 runs × 1 epochs on 1,000" in c.value for c in at.caption)
    at.button(key="exp_run").click().run()
    sweep = at.session_state["exp_sweep"]
    assert session.state == PAUSED  # the main training waits
    assert "exp_cancel" in {b.key for b in at.button}
    sweep.join(60)
    at.run()
    assert sweep.state == sw.DONE and not at.exception and not at.error
    assert any("sweep 1 finished: 2 runs" in s.value for s in at.success)
    table = at.dataframe[0].value
    swept = table[table["from"] == "sweep 1"]
    assert list(swept["learning rate"]) == [0.05, 0.5]
    assert set(swept["training images"]) == {1000} and set(swept["epochs"]) == {1.0}
    assert set(swept["seed"]) == {session.settings.seed}
    assert chart_names(at, "exp_sweep_figure") == {"validation accuracy", "test accuracy"}
    assert session.trainer.step_count > 0 and session.state == PAUSED  # left as it was


def test_a_sweep_can_be_cancelled_and_keeps_its_finished_runs(app):
    at = app().run()
    at.switch_page(PAGE).run()
    at.text_input(key="exp_values_0").set_value("0.01, 0.02, 0.05, 0.1, 0.2, 0.5").run()
    at.text_input(key="exp_values_1").set_value("16, 32").run()
    at.number_input(key="exp_epochs").set_value(5).run()
    at.select_slider(key="exp_train").set_value(10_000).run()
    at.button(key="exp_run").click().run()
    sweep = at.session_state["exp_sweep"]
    at.button(key="exp_cancel").click().run()
    assert sweep.state == sw.CANCELLED and len(sweep.records) < 12
    assert any("cancelled after" in w.value for w in at.warning)
    assert "exp_run" in {b.key for b in at.button} and not at.exception


@pytest.mark.parametrize("values, message", [
    (("0.1, abc", "32"), "the learning rate must be a number, got 'abc'"),
    (("0.01, 0.1, 0.2, 0.5", "16, 32, 64, 128"),
     "16 runs: a sweep is limited to 12, so use fewer values"),
    (("", "32"), "give at least one value for the learning rate"),
    (("0.1", "0"), "the batch size must be between 1 and 2048, got 0"),
])
def test_a_bad_sweep_is_explained_and_cannot_start(app, values, message):
    at = app().run()
    at.switch_page(PAGE).run()
    at.text_input(key="exp_values_0").set_value(values[0]).run()
    at.text_input(key="exp_values_1").set_value(values[1]).run()
    assert [e.value for e in at.error] == [message]
    assert at.button(key="exp_run").disabled and not at.exception


def test_changing_the_hyperparameter_offers_its_example_values(app):
    at = app().run()
    at.switch_page(PAGE).run()
    at.selectbox(key="exp_param_1").set_value("activation").run()
    assert at.text_input(key="exp_values_1").value == sw.PARAMS["activation"].default
    assert not at.error


# -- the sweep runner, without Streamlit ---------------------------------------------------
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


# -- figures ---------------------------------------------------------------------------------
def quick_record(sample, number: int, lr: float, **kw):
    settings = Settings(**{"hidden": (16,), "lr": lr, "epochs": 2, "train_limit": 500, **kw})
    net = MLP(**settings.net_config())
    trainer = Trainer(net, sample.X_train, sample.y_train, TrainConfig(**settings.train_config()))
    for _ in trainer.run():
        pass
    status = "diverged" if trainer.diverged else "finished"
    test_acc = trainer.evaluate(sample.X_test, sample.y_test)[1]
    return run_record(number, trainer, settings, sample.source, status, test_acc, "sweep 1")


def test_runs_frame_has_one_row_of_settings_and_results_per_run(sample):
    records = [quick_record(sample, 1, 0.1), quick_record(sample, 2, 0.5, l2=1e-3)]
    frame = runs_frame(records)
    assert list(frame["run"]) == [1, 2] and list(frame["L2"]) == [0.0, 1e-3]
    assert list(frame["epochs"]) == [2.0, 2.0] and list(frame["from"]) == ["sweep 1"] * 2
    assert frame.loc[1, "validation accuracy"] == records[1].val_accuracy
    assert runs_frame([]).empty and "test accuracy" in runs_frame([]).columns
    acc = accuracy_curves_figure(records)
    assert [t.name for t in acc.data] == ["run 1 validation", "run 1 train",
                                          "run 2 validation", "run 2 train"]
    assert list(acc.data[0].y) == records[0].epoch_curves["val_accuracy"]
    loss = loss_curves_figure(records)
    assert len(loss.data) == 2 and loss.layout.yaxis.type == "log"


def test_sweep_figure_is_a_heatmap_for_two_settings_and_lines_for_one(sample):
    plan2 = sw.plan(Settings(), [("lr", [0.1, 10.0]), ("batch_size", [32, 64])], 1, 1000)
    records = [quick_record(sample, 1, 0.1, optimizer="sgd"),
               quick_record(sample, 2, 0.1, optimizer="sgd"),
               quick_record(sample, 3, 10.0, optimizer="sgd", init="uniform",
                            hidden=(128, 128, 128))]  # the "exploding" preset, 100x the lr
    assert records[2].status == "diverged" and math.isnan(records[2].val_accuracy)
    heat = sweep_figure(plan2, records)  # the fourth run is still to come
    (trace,) = heat.data
    assert trace.type == "heatmap" and np.shape(trace.z) == (2, 2)
    assert list(trace.y) == ["0.1", "10"] and list(trace.x) == ["32", "64"]
    assert trace.z[0][1] == records[1].val_accuracy
    assert list(trace.text[1]) == ["diverged", "waiting"]
    plan1 = sw.plan(Settings(), [("activation", ["relu", "tanh"])], 1, 1000)
    lines = sweep_figure(plan1, records[:1])
    assert [t.name for t in lines.data] == ["validation accuracy", "test accuracy"]
    assert list(lines.data[0].x) == ["relu", "tanh"] and math.isnan(lines.data[0].y[1])


def test_draw_figures_show_input_output_and_hidden_units():
    image = np.zeros((28, 28), np.float32)
    image[4:24, 13:15] = 1.0
    assert np.array_equal(digit_figure(image).data[0].z, image)
    out = answer_figure(np.array([0.05, 0.7, *[0.25 / 8] * 8]), title="probabilities")
    colours = out.data[0].marker.color
    assert colours[1] != colours[0] and len(set(colours)) == 2
    hidden = [np.arange(10.0), np.linspace(0, 1, 4)]
    fig = activations_figure(hidden, "relu")
    grids = [np.array(t.z, float) for t in fig.data]
    assert [g.shape for g in grids] == [(3, 4), (2, 2)]
    assert np.array_equal(grids[0].ravel()[:10], np.arange(10.0))
    assert np.isnan(grids[0].ravel()[10:]).all()
    assert fig.data[0].customdata[2][1] == 9  # unit 9 sits at row 2, column 1
