"""End to end in a real browser: `streamlit run` on a free port, Debian's chromium driven
headless by Playwright. Press Play, watch the loss chart fill, pause, then open every page
in the navigation and check that none shows an exception or an error.

Prints (to the terminal, past pytest's capture) the in-app samples/s and how long after the
Pause click the Play button was back (timed by the page itself, as in
``benchmarks/app_throughput.py``), and checks that the step counter then holds still.
A second test clicks Play the moment it appears, while the first run still draws the
sidebar, then switches page: the settings must survive that.

The server, the browser and what happens on failure (a screenshot to ``artifacts/``, the
server's log printed) are in conftest.py.
"""

import re
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from benchmarks.app_throughput import CONTROLS_WATCH, measure_pause

from ..conftest import REPO
from .conftest import SERVER_START_TIMEOUT, app_env, problems, screenshot_on_failure

PAGE_TIMEOUT = 120  # s for a page to draw: generous, for a busy machine
# A long run, so training is still going while the test walks the pages.
START_QUERY = "?epochs=100"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


# -- reading the page ------------------------------------------------------------------
# Streamlit marks the app "running" during every script or fragment run, and the elements
# a run has not redrawn yet as stale. A fragment that refreshes every second while
# training runs leaves only short idle moments, so an observer records each of them.
IDLE_WATCH = """
window.__idle = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.dataset.testScriptState === "notRunning"
        && !document.querySelector('[data-stale="true"]');
};
window.__runAt = 0;
window.__idleAt = 0;
new MutationObserver(() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const running = !!app && app.dataset.testScriptState === "running";
    if (running && !window.__wasRunning) window.__runAt = performance.now();
    window.__wasRunning = running;
    if (window.__idle()) window.__idleAt = performance.now();
}).observe(document, {subtree: true, childList: true, attributes: true,
                      attributeFilter: ["data-test-script-state", "data-stale"]});
"""


def _now(page) -> float:
    return page.evaluate("performance.now()")


def _wait_for_run_end(page, since: float, timeout: float = PAGE_TIMEOUT) -> None:
    """Until a run that started after ``since`` (the page's clock) has ended, with
    nothing left stale."""
    page.wait_for_function(
        "since => window.__runAt > since && window.__idleAt > window.__runAt",
        arg=since, timeout=timeout * 1000)


def _wait_until_idle(page, timeout: float = PAGE_TIMEOUT) -> None:
    """Until the app is idle now, or was for a moment since this call."""
    page.wait_for_function("since => window.__idle() || window.__idleAt > since",
                           arg=_now(page), timeout=timeout * 1000)


def _loss_points(page) -> int:
    """Points plotted in the Train page's loss chart (the longest trace), 0 if none."""
    return page.evaluate("""() => {
        const gd = document.querySelector('.st-key-train_loss .js-plotly-plot');
        const traces = (gd && gd._fullData) || [];
        return Math.max(0, ...traces.map(t => t._length || 0));
    }""")


def _samples_per_second(page) -> int | None:
    """The samples/s caption under the sidebar's progress bar, while training runs."""
    captions = page.locator('[data-testid="stSidebar"] [data-testid="stCaptionContainer"]')
    for text in captions.all_inner_texts():
        match = re.fullmatch(r"\s*([\d,]+) samples/s\s*", text)
        if match:
            return int(match.group(1).replace(",", ""))
    return None


def _nav_links(page) -> list[tuple[str, str]]:
    """(title, href) of every page in the sidebar navigation, "View more" expanded.

    Streamlit draws no navigation for an app with a single page: then it is just this one.
    """
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and more.inner_text().startswith("View") and "more" in more.inner_text():
        more.click()
    links = page.locator('[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]')
    found = [(a.inner_text().split("\n")[-1].strip(), a.get_attribute("href"))
             for a in links.all()]  # the text is "icon\n\ntitle"
    return found or [("(the only page)", page.url)]


def _open(page, href: str, path: str, tries: int = 3) -> int:
    """Click the navigation link to ``href`` until the address shows ``path``; returns
    the number of clicks. (A click that lands while a slow run holds the app can be
    lost; the test says so in its output rather than fail on it.)"""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    link = page.locator(f'[data-testid="stSidebarNav"] a[href="{href}"]')
    for attempt in range(1, tries + 1):
        link.click(timeout=PAGE_TIMEOUT * 1000)
        try:
            page.wait_for_url(lambda u: urlsplit(u).path == path, wait_until="commit",
                              timeout=PAGE_TIMEOUT * 1000 / tries)
            return attempt
        except PlaywrightTimeout:
            if attempt == tries:
                raise
    return tries


def _status(page) -> str:
    """The training status line above the sidebar's progress bar."""
    bar = page.locator('[data-testid="stSidebar"] [data-testid="stProgress"]')
    return " ".join(bar.all_inner_texts()).strip()


def _infos(page) -> list[str]:
    return page.locator('[data-testid="stAlertContentInfo"]').all_inner_texts()


def _registered_pages() -> int:
    """How many ``st.Page``s streamlit_app.py registers."""
    return len(re.findall(r"\bst\.Page\(", (REPO / "streamlit_app.py").read_text()))


# -- the test ------------------------------------------------------------------------------
def test_play_pause_and_every_page_in_a_real_browser(server, browser, capsys):
    url, log = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.add_init_script(IDLE_WATCH)
    page.add_init_script(CONTROLS_WATCH)
    js_errors, plotly_warnings = [], []
    page.on("pageerror", lambda e: js_errors.append(str(e)))
    # plotly.js warns on the console about what it cannot read in a figure (a colour per
    # bar once made it warn 10,629 times a visit of Backprop, seconds of drawing); not
    # counted: its note that it stopped re-fitting the margins to changing tick labels
    # (a live figure's, now and then; seen 5 times on one CI run)
    page.on("console", lambda m: plotly_warnings.append(f"{page.url}: {m.text[:200]}")
            if m.text.startswith("WARN:") and "auto-margin" not in m.text else None)

    def say(line: str) -> None:  # into the CI log as it happens, past pytest's capture
        with capsys.disabled():
            print(f"\n[browser] {line}", end="", flush=True)

    started = time.monotonic()
    with screenshot_on_failure(page, log, "browser"):
        page.goto(url + START_QUERY)
        play = page.get_by_role("button", name="Play")
        play.wait_for(timeout=SERVER_START_TIMEOUT * 1000)
        _wait_until_idle(page)
        assert problems(page) == []
        assert _loss_points(page) == 0, "the loss chart has points before any training"

        play.click()
        page.wait_for_function(
            "() => { const gd = document.querySelector('.st-key-train_loss .js-plotly-plot');"
            " return !!(gd && gd._fullData && gd._fullData.some(t => t._length > 0)); }",
            timeout=PAGE_TIMEOUT * 1000)
        page.wait_for_timeout(2500)  # a few live refreshes
        speed = _samples_per_second(page)
        assert speed is not None and speed > 0, "no samples/s in the sidebar while training"
        say(f"in-app speed: {speed:,} samples/s (sidebar), {_loss_points(page)} points "
            "in the loss chart")

        paused = measure_pause(page, hold_seconds=3.0)
        assert problems(page) == []
        assert paused["step_after_hold"] == paused["step_when_paused"], (
            f"training went on after Pause: step {paused['step_when_paused']} when the Play "
            f"button came back, {paused['step_after_hold']} 3 s later")
        say(f"click-to-pause: Play button back {paused['play_back_ms']:.0f} ms after the "
            f"Pause click (training had stopped by then); step counter held at "
            f"{paused['step_when_paused']:,}")

        play.click()  # resume: the pages below are visited while training runs
        page.get_by_role("button", name="Pause").wait_for(timeout=PAGE_TIMEOUT * 1000)
        links = _nav_links(page)
        registered = _registered_pages()
        assert len(links) == registered, (
            f"the navigation shows {len(links)} pages, streamlit_app.py registers {registered}")
        for title, href in links:
            path = urlsplit(href).path
            clicked, opened = _now(page), time.monotonic()
            clicks = _open(page, href, path) if len(links) > 1 else 0
            _wait_for_run_end(page, since=clicked)
            drawn = time.monotonic() - opened
            assert problems(page) == [], f"page {title!r} ({href}) shows an error"
            page.wait_for_timeout(2500)  # let the live fragments refresh a couple of times
            _wait_until_idle(page)
            assert problems(page) == [], f"page {title!r} ({href}) shows an error"
            status = _status(page)
            reset = [text for text in _infos(page) if "was reset" in text]
            assert "not trained yet" not in status and not reset, (
                f"opening page {title!r} reset the network that was training "
                f"(sidebar: {status!r}; notice: {reset})")
            say(f"page {title!r} ({path}): drawn in {drawn:.1f} s while training"
                f"{f' ({clicks} clicks on the link)' if clicks > 1 else ''}, no exception, "
                f"no error; sidebar: {status}")
        assert js_errors == [], f"JavaScript errors in the page: {js_errors}"
        assert plotly_warnings == [], (f"plotly warned {len(plotly_warnings)} times, "
                                       f"first: {plotly_warnings[0]}")
        if page.get_by_role("button", name="Pause").count():
            page.get_by_role("button", name="Pause").click()
    page.close()
    say(f"done in {time.monotonic() - started:.0f} s\n")


# Clicks the sidebar's Play button the moment it appears: it is drawn before the settings
# below it, so the click cuts the page's first run short, as a quick user's does.
EARLY_PLAY = """
new MutationObserver((_, observer) => {
    const side = document.querySelector('[data-testid="stSidebar"]');
    const play = side && [...side.querySelectorAll('button')]
        .find(b => b.innerText.includes('Play') && !b.disabled);
    if (play) { observer.disconnect(); window.__earlyPlay = performance.now(); play.click(); }
}).observe(document, {subtree: true, childList: true});
"""
EARLY_QUERY = {"hidden": "100", "epochs": "100", "seed": "7"}


def test_play_clicked_while_the_page_still_draws_keeps_the_settings(server, browser, capsys):
    # The run cut short leaves sidebar widgets it never drew; the browser used to mount
    # them at their defaults (0 hidden layers, 1 epoch, ...) and send those back, and the
    # next page switch rebuilt the network from them (seen in about half the tries).
    url, log = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.add_init_script(IDLE_WATCH)
    page.add_init_script(EARLY_PLAY)
    with screenshot_on_failure(page, log, "early-play"):
        page.goto(url + "/?" + "&".join(f"{k}={v}" for k, v in EARLY_QUERY.items()))
        page.get_by_role("button", name="Pause").wait_for(timeout=SERVER_START_TIMEOUT * 1000)
        assert page.evaluate("window.__earlyPlay") is not None
        page.wait_for_timeout(3000)  # training, with live refreshes
        title, href = next((t, h) for t, h in _nav_links(page) if t == "Gradients")
        clicked = _now(page)
        _open(page, href, urlsplit(href).path)
        _wait_for_run_end(page, since=clicked)
        page.wait_for_timeout(2000)
        _wait_until_idle(page)
        status, reset = _status(page), [t for t in _infos(page) if "was reset" in t]
        query = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
        assert "training" in status and not reset and query == EARLY_QUERY, (
            f"Play clicked during the first run, then a page switch: sidebar {status!r}, "
            f"notice {reset}, settings in the URL {query}")
        assert problems(page) == []
        with capsys.disabled():
            print(f"\n[browser] Play clicked during the first run, then {title!r}: "
                  f"settings kept ({query}); sidebar: {status}", flush=True)
    page.close()


def test_memory_benchmark_prints_the_server_memory_per_session(sync_playwright, tmp_path):
    """benchmarks/app_memory.py: two sessions opened, then each trained for a second."""
    import json

    result = subprocess.run(
        [sys.executable, "benchmarks/app_memory.py", "--sessions", "2", "--train-seconds",
         "1", "--json"], cwd=REPO, env=app_env(tmp_path), capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    figures = json.loads(lines[-1])
    assert len(figures["rss_mb_opened"]) == len(figures["rss_mb_trained"]) == 2
    assert figures["rss_mb_opened"][0] > figures["rss_mb_before_any_session"] > 0
    assert any("each further session" in line for line in lines)
    assert any(line.startswith("after training 1 s in each") for line in lines)


def test_a_run_and_a_study_fill_the_experiments_table(server, browser, capsys):
    # A run on every training image ("all") beside a study trial's (2000): the table's
    # column once mixed the two, and only the server's log said so (the autouse log check).
    url, log = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.add_init_script(IDLE_WATCH)
    with screenshot_on_failure(page, log, "experiments"):
        page.goto(url + "/?steps=20")
        page.get_by_role("button", name="Play").click(timeout=SERVER_START_TIMEOUT * 1000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=\"stSidebar\"] "
            "[data-testid=\"stProgress\"]')].some(e => e.innerText.includes('finished'))",
            timeout=PAGE_TIMEOUT * 1000)
        href = next(h for t, h in _nav_links(page) if t == "Experiments")
        clicked = _now(page)
        _open(page, href, urlsplit(href).path)
        _wait_for_run_end(page, since=clicked)
        space = page.get_by_label("Search space, one hyperparameter a line", exact=True)
        space.fill("lr=0.1")
        space.press("Control+Enter")
        _wait_until_idle(page)
        trials = page.get_by_label("Trials", exact=True)
        trials.fill("1")
        trials.press("Enter")
        _wait_until_idle(page)
        page.get_by_role("button", name="Start the study").click()
        page.get_by_text("1 of 1 trials ended").wait_for(timeout=3 * PAGE_TIMEOUT * 1000)
        _wait_until_idle(page)
        assert problems(page) == []
        table = page.locator('[data-testid="stDataFrame"]')
        assert table.count() == 2  # the runs, and the study's trials
        with capsys.disabled():
            print("\n[browser] a run on all images and a study: one table, no server error",
                  flush=True)
    page.close()
