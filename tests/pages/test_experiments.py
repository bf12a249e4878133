"""The Experiments page headless with AppTest: the runs table, the comparison, the CSV, and
studies (started here on Dask workers, or written by the command line in another process,
watched live; refused when bad)."""

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dashboard import page
from dashboard.sections import experiments as section
from dashboard.session import FINISHED
from dashboard.settings import Settings
from studies import driver as dr
from studies.space import parse_space

from ..conftest import REPO, wait_for

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
    assert at.button(key="exp_run").disabled is False  # a study needs no earlier run


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


@pytest.fixture
def fresh(app):
    """The app on a run database and study journal of this test's own (its cache folder)."""
    page.get_store.clear()
    section.app_studies.clear()
    section.study_storage.clear()
    yield app
    section.app_studies().cancel(WORKSPACE_OF_NONE)
    section.app_studies().join(60)
    page.get_store.clear()


WORKSPACE_OF_NONE = ""
STUDY = {"exp_space": "lr=0.05,0.2", "exp_sampler": "grid", "exp_trials": 2,
         "exp_epochs": 1, "exp_train": 1000}


def shown(element) -> str:
    """An element's text as the user reads it (plain() escapes brackets and colons)."""
    return element.value.replace("\\", "")


def fill_form(at, values):
    at.text_area(key="exp_space").set_value(values["exp_space"])
    at.selectbox(key="exp_sampler").set_value(values["exp_sampler"])
    at.number_input(key="exp_trials").set_value(values["exp_trials"])
    at.number_input(key="exp_epochs").set_value(values["exp_epochs"])
    at.select_slider(key="exp_train").set_value(values["exp_train"])
    return at.run()


def test_a_study_started_here_trains_on_workers_fills_the_table_and_loads_the_best(fresh):
    at = fresh().run()
    at.switch_page(PAGE).run()
    fill_form(at, STUDY)
    assert not at.error
    at.button(key="exp_run").click().run()
    assert "exp_cancel" in {b.key for b in at.button}  # running: it can be cancelled
    section.app_studies().join(180)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("study 1 (app): 2 of 2 trials ended" in shown(s) for s in at.success)
    table = at.dataframe[0].value
    assert sorted(table["from"]) == ["study 1, trial 0", "study 1, trial 1"]
    assert sorted(table["learning rate"]) == [0.05, 0.2]
    assert set(table["training images"]) == {"1000"}
    trials = at.dataframe[1].value
    assert sorted(trials["lr"]) == ["0.05", "0.2"] and set(trials["status"]) == {"finished"}
    assert {"exp_study_history", "exp_study_parallel", "exp_study_intermediate"} <= {
        c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")}
    best = max(trials["validation accuracy"])
    at.button(key="exp_load_best").click().run()
    session = at.session_state["session"]
    run = int(trials[trials["validation accuracy"] == best]["run"].iloc[0])
    assert session.settings.lr == next(r.settings.lr for r in session.runs if r.number == run)
    assert any(f"Loaded run {run}" in shown(i) for i in at.info)


def test_cancel_stops_the_apps_study_and_keeps_its_ended_trials(fresh):
    at = fresh().run()
    at.switch_page(PAGE).run()
    fill_form(at, {**STUDY, "exp_space": "lr=log:1e-3..1", "exp_sampler": "random",
                   "exp_trials": 20, "exp_epochs": 5, "exp_train": 10_000})
    at.button(key="exp_run").click().run()
    store, _ = page.get_store()
    storage = section.study_storage(str(dr.storage_path(store.path)))
    token = at.session_state["workspace"]
    wait_for(lambda: any(t.state.is_finished() for s in dr.workspace_studies(storage, token)
                         for t in dr.trials_of(storage, s.name)), timeout=180)
    at.button(key="exp_cancel").click().run()
    section.app_studies().join(60)
    at.run()
    assert not at.exception and not at.error
    (summary,) = dr.workspace_studies(storage, token)
    assert summary.state == "cancelled"
    trials = dr.trials_of(storage, summary.name)
    assert len(trials) < 20 and all(t.state.is_finished() for t in trials)
    assert "exp_run" in {b.key for b in at.button}  # a new study can start
    assert len(at.dataframe[0].value) >= 1  # the ended trials are runs


def test_the_page_watches_a_study_that_another_process_writes(fresh, tmp_path):
    at = fresh().run()
    at.switch_page(PAGE).run()
    store, _ = page.get_store()
    token = at.session_state["workspace"]
    # long enough to be caught running after its first trial (3 trials of 2 epochs on
    # 1,000 digits once ended before the page's next run in CI)
    command = section.command_line(
        dr.StudySpec(parse_space(["lr=0.01,0.02,0.05,0.1,0.2,0.3"]),
                     Settings(train_limit=5000), 6, 4, "grid", "none"), token)
    assert f"--workspace {token}" in command and str(store.path) not in command
    argv = [*command.split()[4:], "--workers", "1", "--quiet", "--db", str(store.path)]
    proc = subprocess.Popen([sys.executable, "-m", "mnist_np", "study", *argv], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        storage = section.study_storage(str(dr.storage_path(store.path)))
        wait_for(lambda: proc.poll() is None and any(
            t.state.is_finished() for s in dr.workspace_studies(storage, token)
            for t in dr.trials_of(storage, s.name)), timeout=120)
        at.run()
        assert not at.exception and not at.error
        assert at.selectbox(key="exp_study").value == dr.workspace_studies(storage, token)[0].name
        assert any("study 1 (command line)" in p.proto.text.replace("\\", "")
                   for p in at.get("progress"))
    except BaseException:
        proc.kill()
        proc.communicate()  # its pipes closed: no ResourceWarning in a later test
        raise
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    at.run()
    assert any("study 1 (command line): 6 of 6 trials ended" in shown(s) for s in at.success)
    assert sorted(at.dataframe[0].value["from"]) == [f"study 1, trial {k}" for k in range(6)]


@pytest.mark.parametrize("space, message", [
    ("lr=abc", "the learning rate must be a number, got 'abc'"),
    ("", "give at least one --param"),
    ("depth=2", "unknown hyperparameter 'depth'"),
])
def test_a_bad_study_is_explained_and_cannot_start(fresh, space, message):
    at = fresh().run()
    at.switch_page(PAGE).run()
    at.text_area(key="exp_space").set_value(space).run()
    assert message in " ".join(e.value for e in at.error)
    assert at.button(key="exp_run").disabled and not at.exception
