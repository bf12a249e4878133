"""The "Backprop by hand" page, headless with AppTest: it opens on a digit its tiny network
misreads, goes through the pass one step at a time, applies one update, trains an epoch
and to the end with the engine's Trainer, and a reload (or a server restart) finds the
tiny network where it was; another browser does not see it."""

import numpy as np
import pytest

from dashboard import page, workspace
from dashboard.sections import by_hand as section
from mnist_np.by_hand import tiny_network
from mnist_np.stepthrough import sgd_step

from .conftest import chart_keys

SMALL = {"hidden": "16", "train": "1000", "batch": "100", "epochs": "1"}


@pytest.fixture
def browser_cookie(monkeypatch):
    """``set(token)``: the workspace cookie the next page load sends (as in
    tests/pages/test_workspace.py), with a store opened in this test's cache folder."""
    sent = {"token": None}
    monkeypatch.setattr(workspace, "cookie", lambda: sent["token"])
    page.get_store.clear()
    yield lambda token: sent.update(token=token)
    page.get_store.clear()


def open_by_hand(app):
    at = app(SMALL).run()
    return at.switch_page("pages/by_hand.py").run()


def subheaders(at) -> list[str]:
    return [s.value for s in at.subheader]


def test_it_opens_on_a_misread_digit_and_goes_one_step_at_a_time(app, browser_cookie):
    at = open_by_hand(app)
    assert not at.exception and not at.error
    run = at.session_state[section.RUN]
    i = at.session_state["by_hand_index"]
    predicted = run.net.predict(run.data.X_train)
    assert predicted[i] != run.data.y_train[i] and (predicted[:i] == run.data.y_train[:i]).all()
    assert any("a mistake worth learning from" in c.value for c in at.caption)
    assert subheaders(at) == ["Step 1 of 9: The input: 49 averaged pixels"]
    assert chart_keys(at) == ["by_hand_original", "by_hand_pooled"]
    assert at.session_state["session"].net.layer_sizes[0] == 784  # the sidebar's: apart
    at.button(key="by_hand_next").click().run()
    assert subheaders(at)[-1] == "Step 2 of 9: Forward: layer 1"
    lit = int(np.count_nonzero(run.data.X_train[i]))
    assert len(at.dataframe[1].value) == lit  # only the pixels that are not 0
    at.toggle(key="by_hand_all_rows").set_value(True).run()
    assert len(at.dataframe[1].value) == 49
    at.button(key="by_hand_all_steps").click().run()
    assert len(subheaders(at)) == 9 and subheaders(at)[-1] == "Step 9 of 9: The update"
    assert not at.exception and not at.error
    # the exact values: the first hidden unit's z as the network holds it
    at.toggle(key="by_hand_exact").set_value(True).run()
    units = at.dataframe[2].value
    z = run.net.forward(run.data.X_train[i][None, :], keep_z=True).zs[0][0]
    assert [np.float32(v) for v in units["z₁[j] = Σ + b"]] == list(z)
    at.button(key="by_hand_back").click().run()
    assert len(subheaders(at)) == 8


def test_one_update_moves_the_tiny_network_by_the_shown_step(app, browser_cookie):
    at = open_by_hand(app)
    run = at.session_state[section.RUN]
    i = at.session_state["by_hand_index"]
    expected = run.net.copy()
    x, label = run.data.X_train[i], int(run.data.y_train[i])
    lr = at.select_slider(key="by_hand_lr").value  # the smallest step that shows
    before, after = sgd_step(expected, x, label, lr)
    assert abs(after[label] - before[label]) >= 0.02 or lr == max(section.STEP_SIZES)
    at.button(key="by_hand_update").click().run()
    for W, W_expected in zip(run.net.weights, expected.weights):
        np.testing.assert_array_equal(W, W_expected)
    assert run.trainer.step_count == 0  # not a training step, and the page says so
    said = " ".join(c.value for c in at.caption)
    assert f"With η = {lr:g}, one step on this digit alone moved the probability of the " \
           f"true digit {label} from {before[label]:.1%} to {after[label]:.1%}" in said
    assert "not counted in the epochs" in said and "test accuracy from" in said


def test_it_trains_an_epoch_and_a_reload_finds_it_where_it_was(app, browser_cookie):
    browser_cookie(None)
    at = open_by_hand(app)
    run = at.session_state[section.RUN]
    for _ in range(4):
        at.button(key="by_hand_next").click().run()
    at.button(key="by_hand_epoch").click().run()
    assert not at.exception and not at.error
    assert run.trainer.completed_epochs == 1 and run.trainer.step_count > 0
    assert subheaders(at)[-1].startswith("Step 5 of 9")  # the walkthrough stays where it was
    assert "by_hand_epochs" in chart_keys(at)
    accuracy = run.test_accuracy()
    assert accuracy > 0.2  # chance is 0.1
    assert at.metric[2].value == f"{accuracy:.1%}"
    weights = [W.copy() for W in run.net.weights]
    steps = run.trainer.step_count

    browser_cookie(at.session_state["workspace"])  # F5
    again = open_by_hand(app)
    back = again.session_state[section.RUN]
    assert back is not run and back.trainer.completed_epochs == 1
    assert back.trainer.step_count == steps
    for W, W_saved in zip(back.net.weights, weights):
        np.testing.assert_array_equal(W, W_saved)
    again.button(key="by_hand_epoch").click().run()  # and it trains on from there
    assert back.trainer.completed_epochs == 2

    page.get_store.clear()  # a server restart
    restarted = open_by_hand(app).session_state[section.RUN]
    assert restarted.trainer.completed_epochs == 2

    browser_cookie(None)  # another browser: a fresh tiny network
    other = open_by_hand(app).session_state[section.RUN]
    assert other.trainer.step_count == 0
    np.testing.assert_array_equal(other.net.weights[0], tiny_network().weights[0])


def test_train_to_the_end_then_a_new_network(app, browser_cookie):
    at = open_by_hand(app)
    run = at.session_state[section.RUN]
    at.button(key="by_hand_end").click().run()
    assert run.trainer.finished and run.trainer.completed_epochs == 10
    assert at.button(key="by_hand_epoch").disabled and at.button(key="by_hand_end").disabled
    accuracy = run.test_accuracy()
    assert at.success[0].value == ("Trained to the end: this network reads "
                                   f"{accuracy:.1%} of the test digits right.")
    if at.session_state["session"].data.source == "mnist":  # the README's 82.1%
        assert accuracy > 0.78
    at.button(key="by_hand_new").click().run()
    fresh = at.session_state[section.RUN]
    assert fresh is not run and fresh.trainer.step_count == 0
    assert not at.button(key="by_hand_end").disabled


def test_a_damaged_saved_network_is_said_and_replaced(app, browser_cookie):
    browser_cookie(None)
    at = open_by_hand(app)
    token = at.session_state["workspace"]
    store, _ = page.get_store()
    store.save_blob(token, section.STORE_KEY, b"not a model file")
    browser_cookie(token)
    again = open_by_hand(app)
    assert not again.exception and not again.error
    assert any("could not be restored" in i.value for i in again.info)
    assert again.session_state[section.RUN].trainer.step_count == 0
