"""The Draw page headless with AppTest, the canvas's value set as the browser would."""

import base64
import json

import numpy as np
import pytest

from dashboard.canvas import PIXELS
from mnist_np.preprocess import to_mnist

from ..conftest import canvas_value

PAGE = "pages/draw.py"


def drawn(x784: np.ndarray) -> np.ndarray:
    """An MNIST digit as drawn on the canvas: 5× larger, uint8, 140×140."""
    big = np.kron(x784.reshape(28, 28), np.ones((5, 5)))
    return np.round(big * 255).astype(np.uint8)


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


# -- a photo instead of a drawing --------------------------------------------------------
def upload_photo(app, name: str, raw: bytes, mime: str = "image/png"):
    at = open_page(app)
    at.radio(key="draw_source").set_value("📷 Upload a photo").run()
    assert not at.exception
    return at.file_uploader(key="draw_photo").upload(name, raw, mime).run()


def test_a_photo_is_shown_step_by_step_then_read(app, sample):
    from ..photos import encoded, photographed

    x = sample.X_test[0]
    at = upload_photo(app, "my digit.jpg", encoded(photographed(x), "JPEG", quality=92),
                      "image/jpeg")
    assert not at.exception and not at.error
    shown = charts(at)
    steps = shown["draw_photo_steps"]
    assert len(steps) == 6  # grey, ink, cleaned, cropped, 20×20, 28×28
    field = plotly_values(steps[-1]["z"]).reshape(28, 28)
    input_image = plotly_values(shown["draw_input"][0]["z"]).reshape(28, 28)
    np.testing.assert_allclose(field, input_image)  # the network reads the last step
    net = at.session_state["session"].net
    np.testing.assert_allclose(output_of(at), net.predict_proba(field.reshape(1, -1))[0],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("raw,words", [
    (b"not an image at all", "it is not a PNG or JPEG image"),
    ("bomb", "a decompression bomb"),
    ("truncated", "the image cannot be decoded"),
])
def test_a_bad_photo_is_one_line_and_the_page_goes_on(app, raw, words):
    from ..photos import encoded, png_claiming

    if raw == "bomb":
        raw = png_claiming(30_000, 30_000)
    elif raw == "truncated":
        raw = encoded(np.random.default_rng(0).integers(0, 256, (200, 200), np.uint8))[:9000]
    at = upload_photo(app, "[evil](http://x.test).png", raw)
    assert not at.exception
    (error,) = at.error
    assert words in error.value and "\n" not in error.value
    assert "evil\\]\\(http" in error.value  # the name is shown literally, never as a link
    assert "draw_photo_steps" not in charts(at) and "draw_output" not in charts(at)
    at.radio(key="draw_source").set_value("✏️ Draw it").run()  # back to drawing
    assert not at.error and not at.exception
