"""The Experiments page headless with AppTest: the runs table, the comparison, the CSV, and
sweeps (run in the background, cancelled, refused)."""

import io
import json

import numpy as np
import pandas as pd
import pytest

from dashboard import sweep as sw
from dashboard.session import FINISHED, PAUSED, RUNNING

from ..conftest import wait_for

PAGE = "pages/experiments.py"


SMALL = {"train": "1000", "epochs": "1"}  # 8 mini-batches a run


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
    assert {"run 1: lr 0.2", "run 2: lr 0.05"} <= chart_names(at, "exp_accuracy")
    assert chart_names(at, "exp_loss") == {"run 1: lr 0.2", "run 2: lr 0.05"}
    at.multiselect(key="exp_compare").set_value([2]).run()
    assert chart_names(at, "exp_loss") == {"run 2"}  # nothing differs from itself

    (name,) = [n for n in downloads if n and n.endswith(".csv")]
    csv = pd.read_csv(io.BytesIO(downloads[name]))
    assert list(csv["run"]) == [1, 2] and list(csv["learning rate"]) == [0.2, 0.05]
    assert list(csv["layers"]) == ["784-256-10"] * 2
    assert list(csv["training images"]) == [1000, 1000]  # text in the table, numbers here
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
    assert any("2 runs × 1 epoch on 1,000" in c.value for c in at.caption)
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
    assert set(swept["training images"]) == {"1000"} and set(swept["epochs"]) == {1.0}
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


def test_a_run_on_all_images_and_a_sweep_share_the_table_without_server_errors(
        app, no_server_side_errors):
    # "all" beside 1000 in one column: Arrow refused it, and only the server's log said so
    at = app({"steps": "5"}).run()  # every training image, five mini-batches
    session = at.session_state["session"]
    at.button(key="play").click().run()
    wait_for(lambda: session.state == FINISHED)
    at.switch_page(PAGE).run()
    at.text_input(key="exp_values_0").set_value("0.1").run()
    at.selectbox(key="exp_param_1").set_value("(none)").run()
    at.select_slider(key="exp_train").set_value(1000).run()
    at.number_input(key="exp_epochs").set_value(1).run()
    assert any("1 run × 1 epoch on 1,000" in c.value for c in at.caption)
    at.button(key="exp_run").click().run()
    at.session_state["exp_sweep"].join(60)
    at.run()
    assert not at.exception and not at.error
    assert any("sweep 1 finished: 1 run," in s.value for s in at.success)
    table = at.dataframe[0].value
    assert list(table["training images"]) == ["all", "1000"]
    assert list(table.columns[:7]) == ["run", "name", "from", "status", "test accuracy",
                                       "validation accuracy", "train accuracy"]
