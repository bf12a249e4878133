"""The Weights page, headless with AppTest: before any training and after a short run,
for any depth, and its layer and snapshot pickers."""

import json

import pytest

from .conftest import (
    check_before_and_after_training,
    check_works_for_any_depth,
    open_page,
    train_to_the_end,
)

PAGE = "weights"
CHARTS = ["weights_matrix", "weights_fields", "weights_hist_w", "weights_hist_b",
          "weights_spread"]


def test_the_page_before_and_after_training(app):
    check_before_and_after_training(app, PAGE, CHARTS)


def test_weights_page_layers_and_snapshots(app):
    at = open_page(app, "weights")
    train_to_the_end(at)
    at.run()
    snapshot = at.select_slider(key="weights_snapshot")
    assert snapshot.options == ["before training (step 0)", "after epoch 1 (step 10)",
                                "after epoch 2 (step 20)", "now"]
    assert snapshot.value == "now"
    at.select_slider(key="weights_snapshot").set_value(0).run()
    hist = json.loads(at.get("plotly_chart")[2].proto.spec)
    assert [t["name"] for t in hist["data"]] == ["step 0", "at the start"]
    at.selectbox(key="weights_layer").set_value(1).run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["title"]["text"] == "W2" and not at.exception
    at.select_slider(key="weights_snapshot").set_value(2).run()
    # fewer layers in the next run (the run has ended: Step starts it): the page falls
    # back to the first layer and "now"
    at.slider(key="cfg_n_hidden").set_value(0).run()
    at.button(key="step").click().run()
    assert at.selectbox(key="weights_layer").value == 0 and not at.exception
    assert at.select_slider(key="weights_snapshot").value == "now"


@pytest.mark.parametrize("hidden", ["none", "24,16,12"])
def test_the_page_works_for_any_depth(app, hidden):
    check_works_for_any_depth(app, PAGE, hidden)
