"""The "Backprop, step by step" page, headless with AppTest: before any training and after
a short run, for any depth, and its one update, random digit and gradient check."""

import json

import numpy as np
import pytest

from dashboard.session import PAUSED

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
