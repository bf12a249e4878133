"""A browser's workspace through AppTest: what a reload, a server restart and another
browser see. (AppTest sends no cookies, so the browser's cookie is set here by hand; the
real cookie is checked in tests/browser/test_workspace.py.)"""

import numpy as np
import pytest

from dashboard import page, workspace
from dashboard.session import FINISHED, PAUSED

from ..conftest import wait_for

SMALL = {"hidden": "16", "train": "1000", "batch": "100", "epochs": "3"}


@pytest.fixture
def browser_cookie(monkeypatch):
    """``set(token)``: the workspace cookie the next page load sends."""
    sent = {"token": None}
    monkeypatch.setattr(workspace, "cookie", lambda: sent["token"])
    page.get_store.clear()  # opened anew in this test's cache folder, not a former test's
    yield lambda token: sent.update(token=token)
    page.get_store.clear()


def test_a_reload_brings_back_the_network_and_the_runs(app, browser_cookie):
    browser_cookie(None)  # a first visit
    at = app(SMALL).run()
    token = at.session_state["workspace"]
    session = at.session_state["session"]
    for _ in range(4):
        at.button(key="step").click().run()
    at.button(key="reset").click().run()  # run 1 recorded
    for _ in range(3):
        at.button(key="step").click().run()
    weights = session.net.weights[0].copy()

    browser_cookie(token)  # F5: the same browser, a new page session
    again = app(SMALL).run()
    back = again.session_state["session"]
    assert back is not session and again.session_state["workspace"] == token
    assert back.trainer.step_count == 3 and back.state == PAUSED
    np.testing.assert_array_equal(back.net.weights[0], weights)
    assert [r.steps for r in back.runs] == [4]
    again.button(key="step").click().run()  # and training goes on from there
    assert back.trainer.step_count == 4

    page.get_store.clear()  # a server restart: the database is opened anew
    restarted = app(SMALL).run().session_state["session"]
    assert restarted.trainer.step_count == 4 and [r.steps for r in restarted.runs] == [4]


def test_another_browser_or_a_forged_cookie_sees_nothing(app, browser_cookie):
    browser_cookie(None)
    at = app(SMALL).run()
    at.button(key="step").click().run()
    at.button(key="reset").click().run()
    mine = at.session_state["workspace"]
    for cookie in (None, workspace.new_token(), mine[:-1] + "x", "<script>"):
        browser_cookie(cookie)
        other = app(SMALL).run()
        assert other.session_state["workspace"] not in (mine, cookie)
        assert other.session_state["session"].trainer.step_count == 0
        assert list(other.session_state["session"].runs) == []


def test_a_finished_run_comes_back_finished_and_is_not_recorded_twice(app, browser_cookie):
    browser_cookie(None)
    at = app({**SMALL, "epochs": "1"}).run()
    session = at.session_state["session"]
    at.button(key="play").click().run()
    wait_for(lambda: session.state == FINISHED)
    token = at.session_state["workspace"]
    browser_cookie(token)
    back = app({**SMALL, "epochs": "1"}).run()
    restored = back.session_state["session"]
    assert restored.state == FINISHED and len(restored.runs) == 1
    assert back.button(key="play").disabled
    back.button(key="reset").click().run()
    assert len(restored.runs) == 1  # recorded when it finished, not again


def test_a_link_with_other_settings_starts_them_and_keeps_the_left_network(app,
                                                                           browser_cookie):
    browser_cookie(None)
    at = app(SMALL).run()
    for _ in range(2):
        at.button(key="step").click().run()
    browser_cookie(at.session_state["workspace"])
    other = app({**SMALL, "hidden": "8"}).run().session_state["session"]
    assert other.net.layer_sizes == [784, 8, 10] and other.trainer.step_count == 0
    assert [(r.settings.hidden, r.steps) for r in other.runs] == [((16,), 2)]


def test_a_damaged_database_is_moved_aside_and_the_sidebar_says_so(app, browser_cookie,
                                                                   tmp_path, monkeypatch):
    db = tmp_path / "runs.sqlite3"
    db.write_bytes(b"not a database at all " * 100)
    monkeypatch.setenv("MNIST_NP_DB", str(db))
    page.get_store.clear()
    browser_cookie(None)
    at = app(SMALL).run()
    assert not at.exception
    said = " ".join(c.value for c in at.sidebar.caption)
    assert "moved aside" in said and str(tmp_path) not in said
    at.button(key="step").click().run()
    at.button(key="reset").click().run()
    assert len(at.session_state["session"].runs) == 1  # the new database works


def test_without_a_usable_database_the_app_works_and_says_runs_are_not_saved(
        app, browser_cookie, monkeypatch):
    monkeypatch.setenv("MNIST_NP_DB_MAX_MB", "lots")
    page.get_store.clear()
    browser_cookie(None)
    at = app(SMALL).run()
    assert not at.exception
    assert any("Runs are not saved" in c.value and "MNIST\\_NP\\_DB\\_MAX\\_MB" in c.value
               for c in at.sidebar.caption)
    at.button(key="step").click().run()
    at.button(key="reset").click().run()
    assert len(at.session_state["session"].runs) == 1  # kept for this page session


def test_a_session_released_after_its_browser_left_comes_back_from_the_checkpoint(
        app, browser_cookie):
    """A page session that reconnects after its network was released (issue 20, item
    13) goes on from the saved network, as a reload does."""
    browser_cookie(None)
    at = app(SMALL).run()
    for _ in range(3):
        at.button(key="step").click().run()
    session = at.session_state["session"]
    weights = session.net.weights[0].copy()
    session.release()
    browser_cookie(at.session_state["workspace"])  # the same browser reconnects
    at.run()
    back = at.session_state["session"]
    assert back is not session and not back.released and back.trainer.step_count == 3
    np.testing.assert_array_equal(back.net.weights[0], weights)


def test_a_network_that_cannot_be_saved_is_said_and_training_goes_on(app, browser_cookie,
                                                                     monkeypatch):
    from dashboard.store import Store

    def full_disk(self, *args):
        raise OSError("No space left on device")

    monkeypatch.setattr(Store, "save_current", full_disk)
    browser_cookie(None)
    at = app(SMALL).run()
    at.button(key="step").click().run()
    assert at.session_state["session"].trainer.step_count == 1
    assert any("could not be saved" in c.value and "No space left" in c.value
               for c in at.sidebar.caption)


def test_a_reload_while_training_says_that_training_paused(app, browser_cookie):
    # Before: F5 during training came back "paused" without a word (QA, a teacher's view).
    browser_cookie(None)
    at = app({**SMALL, "epochs": "0", "sched": "constant"}).run()
    session = at.session_state["session"]
    at.button(key="play").click().run()
    wait_for(lambda: session.trainer.step_count >= 3)
    session.save_checkpoint()  # as the session does every 5 s while training runs
    browser_cookie(at.session_state["workspace"])
    again = app({**SMALL, "epochs": "0", "sched": "constant"}).run()
    back = again.session_state["session"]
    assert back.state == PAUSED and back.trainer.step_count >= 3
    said = [i.value for i in again.info if "Training was running" in i.value]
    assert len(said) == 1 and f"paused at step {back.trainer.step_count:,}" in said[0]
    session.pause()
