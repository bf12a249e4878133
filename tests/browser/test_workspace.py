"""Work that lasts, in a real browser: train, reload, and the network, its curves and the
runs are back; a second browser does not see them; a server restart keeps them."""

import re

import pytest

from .conftest import SERVER_PROBLEMS, problems, running_app, screenshot_on_failure

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUERY = "?hidden=32&train=5000&batch=100&epochs=0&sched=constant"  # until paused


def _sidebar_step(page) -> int:
    text = page.locator('[data-testid="stSidebar"] [data-testid="stProgress"]').inner_text()
    return int(re.search(r"step ([\d,]+)", text).group(1).replace(",", ""))


def _wait_for_step(page, step: int, timeout: float = 30) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stProgress"]',
                 has_text=re.compile(rf"step {step:,}$|step {step:,} ")).wait_for(
        timeout=timeout * 1000)


def _wait_idle(page, timeout: float = 60) -> None:
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.dataset.testScriptState === "notRunning";
        }""", timeout=timeout * 1000)


def test_reload_restart_and_another_browser(sync_playwright, browser, tmp_path):
    log = tmp_path / "streamlit.log"
    log.touch()
    mine = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = mine.new_page()
    with running_app(tmp_path, log) as url, screenshot_on_failure(page, log, "workspace"):
        page.goto(url + "/" + QUERY)
        page.get_by_role("button", name="▶ Play").click()
        page.get_by_role("button", name="⏸ Pause").wait_for(timeout=30_000)
        page.wait_for_timeout(3000)
        page.get_by_role("button", name="⏸ Pause").click()
        page.get_by_role("button", name="▶ Play").wait_for(timeout=30_000)
        _wait_idle(page)
        page.get_by_role("button", name="Reset", exact=True).click()  # a run for the log
        _wait_for_step(page, 0)
        page.get_by_role("button", name="Step", exact=True).click()
        _wait_for_step(page, 1)
        page.get_by_role("button", name="Step", exact=True).click()
        _wait_for_step(page, 2)
        _wait_idle(page)

        page.reload()  # F5
        _wait_for_step(page, 2)
        assert _sidebar_step(page) == 2 and "paused" in page.locator(
            '[data-testid="stSidebar"] [data-testid="stProgress"]').inner_text()
        page.goto(url + "/experiments" + QUERY)
        page.get_by_text("Compare runs").wait_for(timeout=30_000)
        page.locator('[data-testid="stDataFrame"]').wait_for(timeout=30_000)  # one run

        stranger = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        stranger.goto(url + "/experiments" + QUERY)
        stranger.get_by_text("No runs yet").wait_for(timeout=30_000)
        assert "not trained yet" in stranger.locator(
            '[data-testid="stSidebar"] [data-testid="stProgress"]').inner_text()
        stranger.context.close()
        assert problems(page) == []

    text = log.read_text(errors="replace")
    assert not [p for p in SERVER_PROBLEMS if p in text], text[-3000:]
    with running_app(tmp_path, log) as url, screenshot_on_failure(page, log, "restart"):
        page.goto(url + "/" + QUERY)  # the same browser after a server restart
        _wait_for_step(page, 2, timeout=60)
        assert _sidebar_step(page) == 2
        page.goto(url + "/experiments" + QUERY)
        page.get_by_text("Compare runs").wait_for(timeout=30_000)
    mine.close()


def test_a_reload_while_training_keeps_every_step(sync_playwright, browser, tmp_path):
    """A reload makes a new Streamlit session; the old one's training used to be restored
    from the last periodic checkpoint, up to 5 s of training back (seen: step 2,527
    before the reload, 1,553 after). Now the new session has the old one stop and save
    first."""
    log = tmp_path / "streamlit.log"
    log.touch()
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    with running_app(tmp_path, log) as url, screenshot_on_failure(page, log, "reload"):
        page.goto(url + "/" + QUERY)
        page.get_by_role("button", name="▶ Play").click()
        page.get_by_role("button", name="⏸ Pause").wait_for(timeout=30_000)
        page.wait_for_timeout(7000)  # past the first periodic checkpoint (5 s of training)
        before = _sidebar_step(page)
        page.reload()
        page.get_by_text("Training was running when this page was last open").wait_for(
            timeout=30_000)
        after = _sidebar_step(page)
        assert after >= before > 0, f"step {before:,} before the reload, {after:,} after"
        page.get_by_role("button", name="▶ Play").wait_for(timeout=30_000)  # paused
        assert problems(page) == []
    text = log.read_text(errors="replace")
    assert not [p for p in SERVER_PROBLEMS if p in text], text[-3000:]
    page.context.close()
