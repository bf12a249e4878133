"""The network diagram in a real browser: a click on a unit opens its card (Streamlit
turns click-to-select off when a figure sets dragmode 'select', which the diagram once
did), and switching it off greys it in the diagram."""

import pytest

from .conftest import problems, screenshot_on_failure

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE_TIMEOUT = 120_000  # ms: generous, for a busy machine
IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.dataset.testScriptState === "notRunning"
        && !document.querySelector('[data-stale="true"]');
}"""


def _wait_until_idle(page) -> None:
    """Until no script run is going on and nothing on the page is stale."""
    page.wait_for_timeout(300)  # the run a click starts has begun
    page.wait_for_function(IDLE, timeout=PAGE_TIMEOUT)


def test_a_click_on_a_unit_opens_its_card_and_switch_off_greys_it(server, browser):
    url, log = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    with screenshot_on_failure(page, log, "network"):
        page.goto(f"{url}/network?hidden=32,24&train=1000&epochs=0&sched=constant")
        # the whole page drawn first: a click while the first run draws may be lost
        page.locator("h3", has_text="Hidden 1, unit").wait_for(state="attached",
                                                              timeout=PAGE_TIMEOUT)
        page.get_by_role("button", name="Step", exact=True).click(timeout=PAGE_TIMEOUT)
        page.get_by_text("paused · epoch 1").wait_for(timeout=PAGE_TIMEOUT)
        _wait_until_idle(page)  # a click while the page redraws may be lost
        # the second trace of markers is hidden layer 2: click its third unit
        hidden2 = page.locator(".js-plotly-plot").first.locator(
            ".scatterlayer .trace").filter(has=page.locator("path.point")).nth(1)
        dot = hidden2.locator("path.point").nth(2)
        dot.scroll_into_view_if_needed()
        box = dot.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        card = page.locator("h3", has_text="Hidden 2, unit")
        card.wait_for(timeout=PAGE_TIMEOUT)
        unit = int(card.inner_text().split("unit ")[1].split(":")[0])
        _wait_until_idle(page)
        page.get_by_role("button", name="Switch it off").click()
        page.get_by_text("Done: switched off unit", exact=False).wait_for(
            timeout=PAGE_TIMEOUT)
        page.locator("h3", has_text="switched off").wait_for(timeout=PAGE_TIMEOUT)
        page.get_by_text(f"unit {unit} of hidden layer 2", exact=False).first.wait_for(
            timeout=PAGE_TIMEOUT)
        assert problems(page) == []
    page.close()
