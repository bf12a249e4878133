"""User text in a real browser: values from the URL and an uploaded file's name are
shown as written, never as a link, an image, maths or coloured text (a shared link must
not be able to put a phishing link in the app's own warning, or make every visitor's
browser fetch a tracking image)."""

from urllib.parse import urlencode, urlsplit

import pytest

from dashboard.markdown import JOINER

from .conftest import problems, screenshot_on_failure

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE_URL = {
    "act": "[Log in](https://example.invalid/phish)",
    "init": "![](http://127.0.0.1:9/track.png)",
    "opt": "$x^2$",
    "sched": ":red[alarm]",
    "seed": "https://example.invalid/b m@e.invalid",
    "batch": "www.example.invalid",
}
HOSTILE_FILE = "![](http://127.0.0.1:9/file.png) [here](https://example.invalid/f).npz"


def test_url_values_and_file_names_are_shown_as_text(server, browser):
    url, log = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    with screenshot_on_failure(page, log, "user_text"):
        page.goto(f"{url}/?{urlencode(HOSTILE_URL)}")
        page.get_by_text("URL: ignored act=").first.wait_for(timeout=60_000)
        alerts = page.locator('[data-testid="stAlert"]')
        text = " ".join(alerts.all_inner_texts()).replace(JOINER, "")
        for value in HOSTILE_URL.values():
            assert value in text  # shown literally, brackets and all
        page.locator('[data-testid="stExpander"]', has_text="Model file").click()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            {"name": HOSTILE_FILE, "mimeType": "application/octet-stream",
             "buffer": b"not a zip file"})
        page.get_by_text("was refused").wait_for(timeout=30_000)
        refused = page.locator('[data-testid="stAlert"]', has_text="was refused").inner_text()
        refused = refused.replace(JOINER, "")
        assert HOSTILE_FILE in refused
        app = page.locator('[data-testid="stApp"]')
        assert app.locator('[data-testid="stAlert"] a').count() == 0  # no link at all
        assert app.locator('a[href*="example.invalid"]').count() == 0
        assert app.locator('img[src*="127.0.0.1:9"]').count() == 0
        assert app.locator('[data-testid="stAlert"] .katex').count() == 0
        assert app.locator('[data-testid="stAlert"] span[style*="color"]').count() == 0
        hosts = {urlsplit(u).netloc for u in fetched}
        assert not hosts & {"127.0.0.1:9", "example.invalid"}, hosts
        assert [p for p in problems(page) if "was refused" not in p] == []
    page.close()
