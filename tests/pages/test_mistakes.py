"""The Mistakes page, headless with AppTest: before any training and after a short run,
for any depth, and a click on the confusion matrix."""

import json

import pytest

from .conftest import (
    check_before_and_after_training,
    check_works_for_any_depth,
    open_page,
    train_to_the_end,
)

PAGE = "mistakes"
CHARTS = ["mistakes_confusion", "mistakes_per_digit", "mistakes_gallery"]


def test_the_page_before_and_after_training(app):
    check_before_and_after_training(app, PAGE, CHARTS)


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
    at = open_page(app, "mistakes")
    train_to_the_end(at)
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


@pytest.mark.parametrize("hidden", ["none", "24,16,12"])
def test_the_page_works_for_any_depth(app, hidden):
    check_works_for_any_depth(app, PAGE, hidden)
