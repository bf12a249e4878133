"""The Hidden-layer map page headless with AppTest: before and after training, a selection
of dots, no hidden layer, saved snapshots and a diverged network."""

import json

import numpy as np
import pytest

from dashboard.session import DIVERGED

PAGE = "pages/hidden_map.py"


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _chart(at, title: str) -> dict:
    for spec in _charts(at):
        text = spec["layout"].get("title", {}).get("text", "")
        if text.startswith(title):
            return spec
    raise AssertionError(f"no chart titled {title!r}")


def _separation(at) -> list[float]:
    return _chart(at, "How far apart")["data"][0]["y"]


def test_map_before_and_after_training(app):
    at = app({"hidden": "64,32", "batch": "64", "epochs": "1", "train": "5000"}).run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error and not at.main.warning
    assert "not trained yet" in at.info[0].value
    assert at.selectbox(key="map_layer").options == ["hidden layer 1 (64 units)",
                                                     "hidden layer 2 (32 units)"]
    assert _chart(at, "Raw pixels") and _chart(at, "Hidden layer 1")
    before = _separation(at)
    assert len(before) == 4  # pixels, hidden 1, hidden 2, output

    session = at.session_state["session"]
    for _ in range(200):
        session.step()
    at.run()
    assert not at.exception and not at.info
    after = _separation(at)
    assert after[0] == pytest.approx(before[0])  # the pixels do not learn
    assert after[-1] > before[-1] + 0.2 and after[2] > before[2]
    legend = [t["name"] for t in _chart(at, "Hidden layer 1")["data"]]
    assert legend[:10] == [str(d) for d in range(10)]
    wrong = int(legend[10].split("(")[1].rstrip(")"))
    shown = min(2000, len(session.data.X_test))  # 1,000 with the offline sample
    assert wrong < shown * 0.5  # most digits right after 200 steps

    at.selectbox(key="map_layer").set_value(2).run()
    assert _chart(at, "Hidden layer 2") and not at.exception
    at.slider(key="cfg_n_hidden").set_value(1).run()
    assert session.ended  # one epoch of 5,000 images is over: the change is for the
    at.button(key="step").click().run()  # next run, which Step starts
    # layer 2 is gone: back to layer 1
    assert not at.exception and _chart(at, "Hidden layer 1")


def test_selection_shows_the_digits_as_images(app):
    at = app({"hidden": "16"}).run()
    at.switch_page(PAGE).run()
    assert "Click a dot" in " ".join(c.value for c in at.caption)
    # what a box selection on the layer map sends from the browser
    chart = next(c for c in at.get("plotly_chart")
                 if json.loads(c.proto.spec)["layout"]["title"]["text"] == "Hidden layer 1")
    points = [{"curve_number": 0, "point_number": 0, "point_index": 0, "customdata": i}
              for i in (4, 9, 4, 11)]
    states = at._tree.get_widget_states()
    widget = states.widgets.add()
    widget.id = chart.proto.id
    widget.string_value = json.dumps({"selection": {"points": points, "point_indices": [0],
                                                    "box": [], "lasso": []}})
    at._run(states)
    assert not at.exception
    size = min(2000, len(at.session_state["session"].data.X_test))
    assert at.session_state["map_selected"] == (size, [4, 9, 11])
    gallery = _charts(at)[-1]
    captions = [a["text"] for a in gallery["layout"]["annotations"]]
    assert len(captions) == 3 and all("→" in c for c in captions)
    wrong = [a != b for a, b in (c.split(" → ") for c in captions)]
    assert wrong == sorted(wrong, reverse=True)  # mistakes first
    stars = [t for t in _chart(at, "Raw pixels")["data"] if t["name"] == "selected (3)"]
    assert stars and stars[0]["customdata"] == [4, 9, 11]  # shown on the other map too


def test_a_network_without_hidden_layers_shows_the_pixel_map_only(app):
    at = app({"hidden": "none"}).run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error
    assert any("no hidden layer to map" in i.value for i in at.info)
    assert "map_layer" not in {s.key for s in at.selectbox}
    titles = [s["layout"]["title"]["text"] for s in _charts(at)]
    assert titles[0] == "Raw pixels" and not any(t.startswith("Hidden") for t in titles)
    assert len(_separation(at)) == 2  # pixels and output


def test_the_map_steps_back_to_saved_snapshots(app):
    at = app({"hidden": "32", "batch": "50", "train": "500", "epochs": "2"}).run()
    session = at.session_state["session"]
    for _ in range(20):  # two epochs of 10 steps: snapshots at steps 0, 10 and 20
        session.step()
    at.switch_page(PAGE).run()
    slider = at.select_slider(key="map_at")
    assert slider.options == ["before training (step 0)", "after epoch 1 (step 10)",
                              "after epoch 2 (step 20)", "now"]
    now = _separation(at)
    slider.set_value("before training (step 0)").run()
    start = _separation(at)
    assert not at.exception and start[-1] < now[-1]
    at.select_slider(key="map_at").set_value("after epoch 2 (step 20)").run()
    assert _separation(at) == pytest.approx(now)  # the last snapshot is the network now


def test_a_diverged_network_is_named_and_a_non_finite_one_gets_no_map(diverged):
    at = diverged
    session = at.session_state["session"]
    at.switch_page(PAGE).run()
    assert not at.exception and session.state == DIVERGED
    assert any("diverged" in w.value for w in at.warning)
    broken = session.net.copy()  # e.g. an uploaded model that overflows
    broken.weights[-1][:] = np.inf
    session.load_network(broken, session.settings, "broken.npz")
    at.run()
    assert not at.exception
    assert any(w.value.startswith("No map:") and "not finite" in w.value for w in at.warning)
