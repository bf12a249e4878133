"""The "Inside the network" pages, headless with AppTest: each one before any training
and after a short run, and their buttons (presets, confusion-matrix click, one update)."""

import json
import time

import numpy as np
import pytest

from dashboard import settings as cfg
from dashboard.session import FINISHED, PAUSED, READY, RUNNING

PAGES = {
    "weights": ["weights_matrix", "weights_fields", "weights_hist_w", "weights_hist_b",
                "weights_spread"],
    "gradients": ["gradients_norms", "gradients_ratios", "gradients_saturation",
                  "gradients_now", "gradients_saturation_now"],
    "mistakes": ["mistakes_confusion", "mistakes_per_digit", "mistakes_gallery"],
    "backprop": ["backprop_input", "backprop_layer_1", "backprop_output", "backprop_delta_2",
                 "backprop_grad_2", "backprop_delta_1", "backprop_grad_1"],
}
SMALL = {"hidden": "32", "train": "1000", "batch": "100", "epochs": "2"}  # 20 quick steps


def _charts(at) -> list[str]:
    """The keys of the plotly charts on the page (Streamlit ends an element id with it)."""
    return [c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")]


def _open(app, page: str, query: dict | None = None):
    at = app(query or SMALL).run()
    return at.switch_page(f"pages/{page}.py").run()


def _train_to_the_end(at) -> None:
    session = at.session_state["session"]
    session.play()
    for _ in range(600):
        if session.state == FINISHED:
            return
        time.sleep(0.05)
    raise AssertionError(f"training did not finish: {session.state}")


@pytest.mark.parametrize("page", list(PAGES))
def test_page_before_and_after_training(app, page):
    at = _open(app, page)
    assert not at.exception and not at.error
    assert at.session_state["session"].state == READY
    assert "Not trained yet" in " ".join(i.value for i in at.info)
    assert _charts(at) == PAGES[page]
    _train_to_the_end(at)
    at.run()
    assert not at.exception and not at.error
    assert not any("Not trained yet" in i.value for i in at.info)
    assert _charts(at)[:len(PAGES[page])] == PAGES[page]


def test_weights_page_layers_and_snapshots(app):
    at = _open(app, "weights")
    _train_to_the_end(at)
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
    # fewer layers after a reset: the page falls back to the first layer and "now"
    at.slider(key="cfg_n_hidden").set_value(0).run()
    assert at.selectbox(key="weights_layer").value == 0 and not at.exception
    assert at.select_slider(key="weights_snapshot").value == "now"


def test_gradients_page_without_hidden_layers(app):
    at = _open(app, "gradients", {"hidden": "none"})
    assert not at.exception and len(_charts(at)) == 5


@pytest.mark.parametrize("preset", ["vanishing", "exploding"])
def test_gradient_preset_buttons_load_and_start_the_preset(app, preset):
    at = _open(app, "gradients")
    at.button(key=f"gradients_{preset}").click().run()
    session = at.session_state["session"]
    assert session.settings == cfg.from_preset(preset)
    assert session.state in (RUNNING, FINISHED, "diverged")
    assert at.selectbox(key="cfg_preset").value == preset
    assert "pause" in {b.key for b in at.button} or session.state != RUNNING
    # the user is told, and the notice stays when a quick divergence redraws the page
    assert any("so it was reset" in i.value for i in at.info)
    session.pause()
    # pressed again after training: the preset starts over from fresh weights
    at.button(key=f"gradients_{preset}").click().run()
    assert at.session_state["session"].state in (RUNNING, FINISHED, "diverged")
    assert any("starts again from fresh random weights" in i.value for i in at.info)
    assert not at.exception
    session.pause()


def _click_cell(at, true: int, predicted: int) -> None:
    """A click on a confusion-matrix cell, as the browser reports it."""
    chart = at.get("plotly_chart")[0]
    states = at._tree.get_widget_states()
    widget = states.widgets.add()
    widget.id = chart.proto.id
    widget.string_value = json.dumps({"selection": {
        "points": [{"curve_number": 1, "point_number": 0, "point_index": 0,
                    "x": predicted, "y": true, "customdata": [true, predicted]}],
        "point_indices": [0], "box": [], "lasso": []}})
    at._run(states)


def test_mistakes_click_filters_the_gallery(app):
    at = _open(app, "mistakes")
    _train_to_the_end(at)
    at.run()
    assert at.subheader[0].value == "The most confident mistakes"
    _click_cell(at, 4, 9)
    assert not at.exception
    assert at.session_state["mistakes_cell"] == (4, 9)
    assert at.subheader[0].value.startswith("True 4, predicted 9")
    session = at.session_state["session"]  # paused: the page shows this network's answers
    proba = session.net.predict_proba(session.data.X_test)
    y = session.data.y_test
    count = int(((proba.argmax(axis=1) == 9) & (y == 4)).sum())
    assert count > 0  # a 32-unit network after 20 steps still mixes up some 4s and 9s
    gallery = json.loads(at.get("plotly_chart")[2].proto.spec)
    titles = [a["text"] for a in gallery["layout"]["annotations"]]
    assert len(titles) == min(count, 32) and all(t.startswith("<b>4</b> → 9") for t in titles)
    at.button(key="mistakes_show_all").click().run()
    assert at.subheader[0].value == "The most confident mistakes"


def test_backprop_update_random_digit_and_gradient_check(app):
    at = _open(app, "backprop")
    session = at.session_state["session"]
    assert "agrees with finite differences" in at.success[0].value
    at.number_input(key="backprop_index").set_value(3).run()
    assert "test digit #3" in json.loads(at.get("plotly_chart")[0].proto.spec)[
        "layout"]["title"]["text"]
    version = session.version
    at.select_slider(key="backprop_lr").set_value(1.0).run()
    at.button(key="backprop_apply").click().run()
    assert session.version == version + 1 and session.state == PAUSED
    assert "backprop_before_after" in _charts(at)
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
    assert "backprop_before_after" not in _charts(at) and not at.exception


@pytest.mark.parametrize("hidden", ["none", "24,16,12"])
@pytest.mark.parametrize("page", list(PAGES))
def test_pages_work_for_any_depth(app, page, hidden):
    at = _open(app, page, {"hidden": hidden, "act": "sigmoid", "out": "sigmoid+mse"})
    assert not at.exception and not at.error
    assert at.session_state["session"].net.layer_sizes[1:-1] == (
        [] if hidden == "none" else [24, 16, 12])
    at.button(key="step").click().run()
    assert not at.exception and not at.error and _charts(at)
