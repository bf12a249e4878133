"""The Gradients page, headless with AppTest: before any training and after a short run,
for any depth, and its preset buttons."""

import pytest

from dashboard import settings as cfg
from dashboard.session import FINISHED, RUNNING

from .conftest import (
    chart_keys,
    check_before_and_after_training,
    check_works_for_any_depth,
    open_page,
)

PAGE = "gradients"
CHARTS = ["gradients_norms", "gradients_ratios", "gradients_saturation", "gradients_now",
          "gradients_saturation_now"]


def test_the_page_before_and_after_training(app):
    check_before_and_after_training(app, PAGE, CHARTS)


def test_gradients_page_without_hidden_layers(app):
    at = open_page(app, "gradients", {"hidden": "none"})
    assert not at.exception and len(chart_keys(at)) == 5


@pytest.mark.parametrize("preset", ["vanishing", "exploding"])
def test_gradient_preset_buttons_load_and_start_the_preset(app, preset):
    at = open_page(app, "gradients")
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


@pytest.mark.parametrize("hidden", ["none", "24,16,12"])
def test_the_page_works_for_any_depth(app, hidden):
    check_works_for_any_depth(app, PAGE, hidden)
