"""Draw a digit: the page with AppTest (the canvas's value set as the browser would), and
the canvas itself in a real browser, drawn with the mouse."""

import base64
import json
import math

import numpy as np
import pytest

from dashboard.canvas import PIXELS, decode_image
from mnist_np import MLP, TrainConfig, Trainer
from mnist_np.preprocess import to_mnist

from .test_browser import (  # noqa: F401 (fixtures)
    _problems,
    _screenshot_on_failure,
    browser,
    server,
    sync_playwright,
)

PAGE = "pages/draw.py"


def canvas_value(image: np.ndarray) -> dict:
    """What the canvas's JavaScript sends for a grey image ``(h, w)`` uint8."""
    h, w = image.shape
    return {"image": {"w": w, "h": h, "b64": base64.b64encode(image.tobytes()).decode()}}


def drawn(x784: np.ndarray) -> np.ndarray:
    """An MNIST digit as drawn on the canvas: 5× larger, uint8, 140×140."""
    big = np.kron(x784.reshape(28, 28), np.ones((5, 5)))
    return np.round(big * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def trained(sample):
    """784-64-10 trained for 4 epochs on the sample: about 90% on its test digits."""
    net = MLP([784, 64, 10], seed=0)
    trainer = Trainer(net, sample.X_train, sample.y_train,
                      TrainConfig(optimizer="momentum", lr=0.1, epochs=4, val_size=0))
    for _ in trainer.run():
        pass
    return net


def plotly_values(v) -> np.ndarray:
    """A trace's data array from a figure's JSON (plotly sends numpy arrays as base64)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), np.dtype(v["dtype"]))
        return a.reshape([int(n) for n in v["shape"].split(",")]) if "shape" in v else a
    return np.array(v, float)


def charts(at) -> dict:
    """The page's plotly charts by key: ``{key: [trace, ...]}``."""
    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec)["data"]
            for c in at.get("plotly_chart")}


def output_of(at) -> np.ndarray:
    return plotly_values(charts(at)["draw_output"][0]["y"])


def open_page(app, value: dict | None = None):
    at = app().run()
    if value is not None:
        at.session_state["draw_canvas"] = value
    return at.switch_page(PAGE).run()


# -- the canvas value -------------------------------------------------------------------------
def test_the_canvas_value_decodes_to_the_drawn_pixels():
    image = np.arange(PIXELS * PIXELS, dtype=np.uint32).astype(np.uint8).reshape(PIXELS, PIXELS)
    np.testing.assert_array_equal(decode_image(canvas_value(image)["image"]), image)
    assert decode_image(None) is None
    for bad in ({"w": 2, "h": 2, "b64": "AAAA"}, {"w": 2}, {"w": 1, "h": 1, "b64": "!!"},
                {"w": 5000, "h": 1, "b64": ""}, "text"):
        with pytest.raises(ValueError, match="press Clear and draw again"):
            decode_image(bad)


# -- AppTest ------------------------------------------------------------------------------------
def test_an_empty_canvas_asks_for_a_digit_instead_of_predicting(app):
    at = open_page(app)
    assert not at.exception and not at.error
    assert any("Draw a digit" in i.value for i in at.info)
    assert not at.get("plotly_chart") and not any("reads" in m.value for m in at.markdown)
    assert len(at.get("bidi_component")) == 1
    at = open_page(app, canvas_value(np.zeros((PIXELS, PIXELS), np.uint8)))  # after Clear
    assert any("Draw a digit" in i.value for i in at.info) and not at.get("plotly_chart")


def test_a_drawing_shows_its_input_outputs_and_hidden_units(app, sample):
    image = drawn(sample.X_test[0])
    at = open_page(app, canvas_value(image))
    assert not at.exception and not at.error
    shown = charts(at)
    assert set(shown) == {"draw_input", "draw_output", "draw_hidden"}
    np.testing.assert_allclose(plotly_values(shown["draw_input"][0]["z"]), to_mnist(image))
    probabilities = output_of(at)
    assert len(probabilities) == 10 and probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert plotly_values(shown["draw_hidden"][0]["z"]).shape == (16, 16)  # 256 units
    assert any("not been trained yet" in w.value for w in at.warning)
    reads = [m.value for m in at.markdown if "network reads" in m.value]
    assert reads and f"**{int(np.argmax(probabilities))}**" in reads[0]


def test_a_trained_network_reads_drawn_digits(app, sample, trained):
    at = app().run()
    at.file_uploader(key="model_upload").upload("trained.npz", trained.to_bytes(),
                                                "application/octet-stream").run()
    assert at.session_state["session"].net.layer_sizes == [784, 64, 10]
    right = 0
    for x, label in zip(sample.X_test[:20], sample.y_test[:20]):
        at.session_state["draw_canvas"] = canvas_value(drawn(x))
        at.switch_page(PAGE).run()
        reads = next(m.value for m in at.markdown if "network reads" in m.value)
        right += f"**{label}**" in reads
    assert right >= 17 and not at.exception
    assert not at.warning  # an uploaded network is not called untrained
    assert any("uploaded from trained.npz" in c.value for c in at.caption)


def test_the_prediction_follows_the_network_as_it_trains(app, sample):
    at = open_page(app, canvas_value(drawn(sample.X_test[1])))
    before = output_of(at)
    for _ in range(5):
        at.button(key="step").click().run()
    after = output_of(at)
    assert at.session_state["session"].trainer.step_count == 5
    assert not np.allclose(before, after) and not at.warning


def test_a_malformed_canvas_value_is_a_one_line_error(app):
    at = open_page(app, {"image": {"w": 3, "h": 3, "b64": "not base64!"}})
    assert [e.value for e in at.error] == [
        "the drawing could not be read; press Clear and draw again"]
    assert not at.exception and not at.get("plotly_chart")


# -- a real browser --------------------------------------------------------------------------
STROKES = {  # (x, y) as fractions of the canvas, one list per stroke
    "1": [[(0.5, 0.15), (0.5, 0.85)]],
    "0": [[(0.5 + 0.22 * math.sin(t * math.pi / 12), 0.5 - 0.33 * math.cos(t * math.pi / 12))
           for t in range(25)]],
    "7": [[(0.25, 0.2), (0.75, 0.2), (0.4, 0.85)]],
    "4": [[(0.35, 0.15), (0.25, 0.55), (0.75, 0.55)], [(0.6, 0.3), (0.6, 0.85)]],
}


def _wait_until_idle(page, timeout: float = 60) -> None:
    """Until the script run is over and no element is stale (the Draw page only refreshes
    on its own while training runs, and it is not waited on then)."""
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.dataset.testScriptState === "notRunning"
                && !document.querySelector('[data-stale="true"]');
        }""", timeout=timeout * 1000)


def _draw(page, strokes) -> None:
    box = page.locator("canvas#ink").bounding_box()
    for points in strokes:
        (x, y), rest = points[0], points[1:]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=8)
        page.mouse.up()
        page.wait_for_timeout(300)
        _wait_until_idle(page)


def _reading(page) -> str:
    return page.locator("h3", has_text="network reads").inner_text(timeout=30_000)


def _outputs(page) -> tuple[float, ...]:
    """The 10 bars of the output chart, as plotted."""
    return tuple(page.evaluate("""() => {
        const gd = document.querySelector('.st-key-draw_output .js-plotly-plot');
        return Array.from((gd && gd._fullData && gd._fullData[0].y) || []);
    }"""))


@pytest.mark.browser
@pytest.mark.slow
def test_upload_download_and_draw_digits_with_the_mouse(server, browser, trained,  # noqa: F811
                                                        tmp_path):
    url, log = server
    page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    js_errors = []
    page.on("pageerror", lambda e: js_errors.append(str(e)))
    model = tmp_path / "trained.npz"
    trained.save(model)
    with _screenshot_on_failure(page, log, "draw"):
        page.goto(url + "?epochs=100")  # long enough to still be training at the end
        _wait_until_idle(page)
        page.get_by_text("Model file (.npz)").click()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(model)
        page.get_by_text("Loaded trained.npz").wait_for(timeout=30_000)
        _wait_until_idle(page)
        with page.expect_download() as download:
            page.get_by_role("button", name="Download this network").click()
        saved = MLP.load(download.value.path())
        assert saved.layer_sizes == [784, 64, 10]
        np.testing.assert_array_equal(saved.weights[0], trained.weights[0])

        page.locator('[data-testid="stSidebarNav"] a', has_text="Draw a digit").click()
        page.get_by_text("Draw a digit on the black square").wait_for(timeout=30_000)
        for digit, strokes in STROKES.items():
            _draw(page, strokes)
            assert _reading(page).startswith(f"The network reads: {digit} "), digit
            page.get_by_role("button", name="Clear").click()
            page.get_by_text("Draw a digit on the black square").wait_for(timeout=30_000)

        _draw(page, STROKES["7"])  # a drawing outlives a visit to another page
        page.locator('[data-testid="stSidebarNav"] a', has_text="Train").click()
        page.get_by_text("Validation accuracy").wait_for(timeout=30_000)
        page.locator('[data-testid="stSidebarNav"] a', has_text="Draw a digit").click()
        assert _reading(page).startswith("The network reads: 7 ")
        page.get_by_role("button", name="Clear").click()
        page.get_by_text("Draw a digit on the black square").wait_for(timeout=30_000)

        page.set_viewport_size({"width": 800, "height": 900})  # a narrow window
        _wait_until_idle(page)
        _draw(page, [[(0.5, 0.5)]])  # a single click leaves a dot of ink
        assert _reading(page).startswith("The network reads: ")
        canvas = page.locator("canvas#ink").bounding_box()
        chart = page.locator(".st-key-draw_output").bounding_box()
        assert canvas["width"] < 280 and canvas["width"] == canvas["height"]
        assert canvas["x"] + canvas["width"] <= chart["x"]  # shrunk to its column, no overlap
        page.get_by_role("button", name="Clear").click()
        page.get_by_text("Draw a digit on the black square").wait_for(timeout=30_000)
        page.set_viewport_size({"width": 1400, "height": 1100})

        _draw(page, STROKES["7"])  # now train on: the outputs move while the network learns
        first = _outputs(page)
        page.locator("button", has_text="Play").first.click()
        seen = {first}
        for _ in range(10):
            page.wait_for_timeout(500)
            seen.add(_outputs(page))
        page.get_by_role("button", name="Pause").click()
        assert len(seen) > 2, "the outputs did not follow the network while it trained"
        assert _problems(page) == [] and js_errors == []
    page.close()


@pytest.mark.parametrize("query, title, hidden", [
    ({"preset": "seed"}, "Output of each unit (sigmoid)", True),
    ({"hidden": "none"}, "Probability of each digit (softmax)", False),
])
def test_other_networks_are_drawn_for_what_they_are(app, sample, query, title, hidden):
    at = app(query).run()
    at.session_state["draw_canvas"] = canvas_value(drawn(sample.X_test[2]))
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if "draw_output" in c.proto.id)
    assert spec["layout"]["title"]["text"] == title
    assert ("draw_hidden" in charts(at)) == hidden
    assert hidden or any("no hidden layer" in c.value for c in at.caption)
