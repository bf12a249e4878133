"""The Hidden-layer map page headless with AppTest, before and after training, and the
pieces under it without Streamlit: its figure builders and the live-view cache."""

import json

import numpy as np
import pytest

from dashboard.figures.images import gallery_figure
from dashboard.figures.map import map_figure, selected_indices, separation_figure
from dashboard.live import LiveCache, digit_subset
from dashboard.session import DIVERGED

PAGE = "pages/hidden_map.py"


# -- figure builders ---------------------------------------------------------------------
def test_map_figure_colours_by_digit_rings_mistakes_and_stars_the_selection():
    scores = np.arange(12.0).reshape(6, 2)
    y = np.array([0, 1, 1, 3, 3, 3])
    predicted = np.array([0, 1, 7, 3, 0, 3])
    fig = map_figure(scores, y, predicted, "Hidden layer 1", 0.65, selected=[5, 2, 99])
    names = [t.name for t in fig.data]
    assert names == ["0", "1", "3", "misclassified (2)", "selected (2)"]
    threes = fig.data[2]
    assert list(threes.customdata) == [3, 4, 5] and list(threes.x) == [6.0, 8.0, 10.0]
    assert all(type(i) is int for i in threes.customdata)  # plain ints come back as ints
    assert list(fig.data[3].customdata) == [2, 4]
    assert "true 1, network says 7" in fig.data[3].hovertext
    assert list(fig.data[4].customdata) == [2, 5]
    assert fig.layout.title.subtitle.text == "this 2-D view keeps 65% of the spread"
    no_selection = map_figure(scores, y, y, "Raw pixels")
    assert [t.name for t in no_selection.data][-1] == "misclassified (0)"


def test_selected_indices_reads_customdata_once_each_in_order():
    points = [{"curve_number": 2, "customdata": 7}, {"curve_number": 3, "customdata": 7},
              {"curve_number": 0, "customdata": 3}, {"curve_number": 1, "customdata": [4]},
              {"curve_number": 1}, {"curve_number": 1, "customdata": {"0": 1}}]
    assert selected_indices(points) == [7, 3, 4]
    assert selected_indices([]) == []


def test_separation_figure_has_one_bar_per_representation():
    fig = separation_figure(["pixels", "hidden 1", "output"], [0.2, 0.5, 0.95])
    assert list(fig.data[0].x) == ["pixels", "hidden 1", "output"]
    assert list(fig.data[0].text) == ["20%", "50%", "95%"]


def test_gallery_places_each_image_under_its_caption():
    images = np.zeros((3, 784))
    images[1, 0] = 1.0  # the top-left pixel of the second image
    fig = gallery_figure(images, ["a", "b", "c"], cols=2)
    z = np.array(fig.data[0].z, dtype=float)
    assert z.shape == (2 * (28 + 9), 2 * 28 + 3)
    assert z[9, 31] == 1.0 and np.nansum(z) == 1.0  # row 0 after the caption band, column 1
    assert np.isnan(z[0, 0]) and np.isnan(z[40, 40])  # caption band, empty 4th place
    assert [a.text for a in fig.layout.annotations] == ["a", "b", "c"]


# -- the live-view cache -------------------------------------------------------------------
class Owner:
    """Stands for a session's trainer: only its identity matters to the cache."""


def test_live_cache_reuses_per_state_and_throttles_while_running():
    now = [0.0]
    cache = LiveCache(max_entries=2, min_seconds=3.0, clock=lambda: now[0])
    calls = []

    def get(key, owner, version, running):
        return cache.get(key, owner, version, running, lambda: calls.append(version) or version)

    a = Owner()
    assert get("k", a, 1, False) == 1 and get("k", a, 1, False) == 1 and calls == [1]
    assert get("k", a, 2, False) == 2 and calls == [1, 2]  # a new state: recomputed
    now[0] = 1.0
    assert get("k", a, 9, True) == 2  # training: 1 s after the last result, kept
    now[0] = 3.5
    assert get("k", a, 12, True) == 12 and calls == [1, 2, 12]  # 3.5 s: recomputed
    b = Owner()  # a reset network starts at version 0 again, under a new trainer
    assert get("k", b, 12, False) == 12 and calls[-1] == 12 and len(calls) == 4
    get("other", b, 0, False)
    get("third", b, 0, False)
    assert len(cache) == 2  # bounded: the least recently used went
    get("k", b, 12, False)
    assert len(calls) == 7


def test_live_cache_throttles_a_slow_view_to_a_share_of_the_time():
    now = [0.0]
    cache = LiveCache(max_entries=1, min_seconds=0.0, clock=lambda: now[0], time_share=0.1)
    owner, calls = Owner(), []

    def slow():  # takes 0.5 s of the (fake) clock: at most every 5 s while training
        calls.append(now[0])
        now[0] += 0.5
        return len(calls)

    assert cache.get("p", owner, 0, False, slow) == 1 and cache.version_of("p") == 0
    assert cache.get("p", owner, 1, False, slow) == 2  # paused: always the latest state
    now[0] = 4.0
    assert cache.get("p", owner, 7, True, slow) == 2 and cache.version_of("p") == 1
    now[0] = 6.5
    assert cache.get("p", owner, 9, True, slow) == 3 and cache.version_of("p") == 9


def test_digit_subset_is_fixed_distinct_and_bounded():
    a, b = digit_subset(10_000, 2000), digit_subset(10_000, 2000)
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 2000 and a.max() < 10_000
    assert len(digit_subset(1000, 5000)) == 1000


# -- the page, with AppTest -------------------------------------------------------------------
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
    at.slider(key="cfg_n_hidden").set_value(1).run()  # layer 2 is gone: back to layer 1
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
