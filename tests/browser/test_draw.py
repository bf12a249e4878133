"""The Draw page's canvas in a real browser, drawn with the mouse: a model uploaded and
downloaded, digits drawn and read, a narrow window, and the outputs while training."""

import math

import numpy as np
import pytest

from mnist_np import MLP

from .conftest import problems, screenshot_on_failure

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
def test_upload_download_and_draw_digits_with_the_mouse(server, browser, trained,
                                                        tmp_path):
    url, log = server
    page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    js_errors = []
    page.on("pageerror", lambda e: js_errors.append(str(e)))
    model = tmp_path / "trained.npz"
    trained.save(model)
    with screenshot_on_failure(page, log, "draw"):
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
        page.get_by_text("Validation accuracy", exact=True).wait_for(timeout=30_000)
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
        assert problems(page) == [] and js_errors == []
    page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_a_photo_uploaded_in_the_browser_is_read_and_a_bad_one_is_one_line(
        server, browser, trained, sample, tmp_path):
    from ..photos import encoded, photographed

    url, log = server
    labels = trained.predict(sample.X_test[:50])
    i = int(np.flatnonzero(labels == sample.y_test[:50])[0])  # a digit it reads right
    photo, bad = tmp_path / "my digit.jpg", tmp_path / "notes.png"
    photo.write_bytes(encoded(photographed(sample.X_test[i], seed=3), "JPEG", quality=90))
    bad.write_bytes(b"shopping list: milk, eggs\n" * 20)
    model = tmp_path / "trained.npz"
    trained.save(model)
    page = browser.new_page(viewport={"width": 800, "height": 900})
    with screenshot_on_failure(page, log, "draw-photo"):
        page.goto(url + "/draw")
        _wait_until_idle(page)
        page.get_by_text("Model file (.npz)").click()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(model)
        page.get_by_text("Loaded trained.npz").wait_for(timeout=30_000)
        _wait_until_idle(page)
        page.get_by_text("📷 Upload a photo").click()
        page.get_by_text("Upload a photo of one handwritten digit").wait_for(timeout=30_000)
        uploader = page.locator('.st-key-draw_photo [data-testid="stFileUploaderDropzoneInput"]')
        uploader.set_input_files(photo)
        page.get_by_text("Your photo made MNIST-like").wait_for(timeout=30_000)
        assert _reading(page).startswith(f"The network reads: {sample.y_test[i]} ")
        assert not problems(page)
        uploader.set_input_files(bad)
        page.get_by_text("notes.png cannot be used").wait_for(timeout=30_000)
        assert problems(page) == ["notes.png cannot be used: it is not a PNG or JPEG image."]
        assert page.get_by_text("Your photo made MNIST-like").count() == 0
