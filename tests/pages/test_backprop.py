"""The "Backprop, step by step" page, headless with AppTest: before any training and after
a short run, for any depth, and its one update, random digit and gradient check."""

import json

import numpy as np
import pytest

from dashboard.session import PAUSED
from mnist_np.stepthrough import sgd_step

from .conftest import (
    chart_keys,
    check_before_and_after_training,
    check_works_for_any_depth,
    open_page,
)

PAGE = "backprop"
CHARTS = ["backprop_input", "backprop_layer_1", "backprop_output", "backprop_delta_2",
          "backprop_grad_2", "backprop_delta_1", "backprop_grad_1"]


def test_the_page_before_and_after_training(app):
    check_before_and_after_training(app, PAGE, CHARTS)


def test_backprop_update_random_digit_and_gradient_check(app):
    at = open_page(app, "backprop")
    session = at.session_state["session"]
    assert "agrees with finite differences" in at.success[0].value
    at.number_input(key="backprop_index").set_value(3).run()
    assert "test digit #3" in json.loads(at.get("plotly_chart")[0].proto.spec)[
        "layout"]["title"]["text"]
    version = session.version
    at.select_slider(key="backprop_lr").set_value(1.0).run()
    at.button(key="backprop_apply").click().run()
    assert session.version == version + 1 and session.state == PAUSED
    assert "backprop_before_after" in chart_keys(at)
    result = at.session_state["backprop_result"]
    label = int(session.data.y_test[3])
    assert result["after"][label] > result["before"][label]
    assert f"true digit {label}" in " ".join(c.value for c in at.caption)
    for _ in range(3):  # until the network is sure of this digit: tiny gradients
        at.button(key="backprop_apply").click().run()
    assert "agrees with finite differences up to rounding" in at.success[0].value
    assert "relative error" not in at.success[0].value  # large ones: not "agrees" beside them
    assert "rounding in 𝓛(w ± ε)" in " ".join(c.value for c in at.caption)
    at.button(key="backprop_random").click().run()
    expected = int(np.random.default_rng([session.settings.seed, 0]).integers(len(
        session.data.y_test)))
    assert at.number_input(key="backprop_index").value == expected
    assert "backprop_before_after" not in chart_keys(at) and not at.exception


@pytest.mark.parametrize("hidden", ["none", "24,16,12"])
def test_the_page_works_for_any_depth(app, hidden):
    check_works_for_any_depth(app, PAGE, hidden)


def _trained_page(app):
    """The page on a network trained for 2 epochs on 5,000 digits (about 97%)."""
    at = app({"hidden": "32", "train": "5000", "batch": "100", "epochs": "2"}).run()
    session = at.session_state["session"]
    session.play()
    session.join(timeout=60)
    return at.switch_page("pages/backprop.py").run(), session


def test_the_page_opens_on_a_digit_worth_learning_from_with_a_visible_step(app):
    # Before: it opened on digit #0, which a trained network reads at ~100% (loss 1e-4),
    # and the default step size moved its probability "from 100.0% to 100.0%".
    at, session = _trained_page(app)
    i = at.session_state["backprop_index"]
    X, y = session.data.X_test, session.data.y_test
    predicted = session.net.predict(X)
    assert predicted[i] != y[i] and not (predicted[:i] != y[:i]).any()  # the first misread
    assert any("a mistake worth learning from" in c.value for c in at.caption)
    # the step size it opens with is the gentlest of the slider's that visibly moves the
    # digit's answer (at the training rate, 0.2, one step wrecked a trained network)
    lr, sizes = at.session_state["backprop_lr"], at.select_slider(key="backprop_lr").options

    def moved(size):
        before, after = sgd_step(session.net.copy(), X[i], int(y[i]), float(size))
        return abs(after[y[i]] - before[y[i]])

    assert moved(lr) >= 0.02
    assert all(moved(size) < 0.02 for size in sizes if float(size) < lr)
    at.button(key="backprop_misread").click().run()
    j = at.session_state["backprop_index"]
    assert j > i and predicted[j] != y[j] and not (predicted[i + 1:j] != y[i + 1:j]).any()
    at.button(key="backprop_apply").click().run()
    result = at.session_state["backprop_result"]
    moved = abs(result["after"][y[j]] - result["before"][y[j]])
    assert moved >= 0.02 or result["lr"] == max(at.select_slider(key="backprop_lr").options)
    assert any(f"η = {result['lr']:g}" in c.value and "not a training step" in c.value
               for c in at.caption)


def test_an_update_is_a_change_by_hand_with_its_test_accuracy_and_an_exact_undo(app):
    # Before: one press at η = 0.2 took a trained network from 98.15% to 73.41% test
    # accuracy, said nothing about it, and only Reset and retraining got it back.
    at, session = _trained_page(app)
    before = session.net.copy()
    accuracy = session.net.accuracy(session.data.X_test, session.data.y_test)
    at.select_slider(key="backprop_lr").set_value(2.0).run()
    at.button(key="backprop_apply").click().run()
    i = at.session_state["backprop_index"]
    assert session.changes_by_hand[-1].endswith(f"one update on test digit #{i} at η = 2 "
                                             "(Backprop page)")
    now = session.net.accuracy(session.data.X_test, session.data.y_test)
    (note,) = [n for n in [*at.info, *at.warning] if "Test accuracy of the whole" in n.value]
    assert f"{accuracy:.2%} before this update, {now:.2%} after it" in note.value
    assert not at.button(key="backprop_undo").disabled
    at.switch_page("pages/train.py").run()  # away and back: the digit, its step and Undo
    at.switch_page("pages/backprop.py").run()
    assert at.session_state["backprop_index"] == i and at.session_state["backprop_lr"] == 2.0
    assert not at.button(key="backprop_undo").disabled
    at.button(key="backprop_undo").click().run()
    for a, b in zip(session.net.weights + session.net.biases, before.weights + before.biases):
        assert a.tobytes() == b.tobytes()
    assert "backprop_before_after" not in chart_keys(at) and not at.exception
    assert session.changes_by_hand[-1].endswith("undid: " + f"one update on test digit #{i} "
                                             "at η = 2 (Backprop page)")
    at.switch_page("pages/train.py").run()
    assert any("Changed by hand 2 times (last: step" in i.value for i in at.info)


def test_a_digit_the_network_is_sure_of_says_there_is_nothing_to_learn(app):
    at, session = _trained_page(app)
    proba = session.net.predict_proba(session.data.X_test)
    y = session.data.y_test
    sure = int(np.argmax(proba[np.arange(len(y)), y]))
    at.number_input(key="backprop_index").set_value(sure).run()
    (note,) = [i for i in at.info if "Nothing to learn here" in i.value]
    assert "Try the next misread digit" in note.value
