"""Page switch while training: navigation click to page fully drawn, in real Chromium.

Starts `streamlit run` (on a free port, or ``--port``) with its own run database in a
temporary folder, opens the Train page in Debian's chromium (Playwright, 1400x1000) with
``?epochs=0&sched=constant`` (a run that does not finish by itself) and presses Play on the
default preset. Then, for each page (``--pages``), ``--repeats`` times: from the Train page
(from Draw for the Train page itself; Play pressed again, and said, if training stopped),
click the page's entry in the sidebar navigation and time, on the page's own clock, from
the click event to the page fully drawn:

* its title (``h1``) is there and not stale,
* as many plotly charts as the page settles on are there, not stale, and drawn
  (plotly's layout made and its SVG in place),
* the script is idle: the app's script state is "notRunning" and Streamlit's status
  widget does not show its running icon.

The figure count is learned on a first, untimed visit of each page (wait until the page
is idle and its count of drawn figures has held for 2 s); that visit's time to title and
idle is printed too, as "first". Prints each page's median and worst with the machine's
load (`uptime`) and writes JSON to benchmarks/results/ (after each page: a run cut short
keeps what it measured).

    MNIST_DIR=../shared/data/mnist python benchmarks/page_switch.py [--pages weights,mistakes]
        [--repeats 3] [--port 8631] [--app-dir /tmp/old-copy] [--label before]

``--app-dir`` runs another copy of the app (an older commit, unpacked with `git archive`)
with this same benchmark, for before/after figures from the same minutes. Prints figures
only: timings on a shared machine are noisy, so nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from math import inf
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.app_throughput import free_port, start_app, stop_app  # noqa: E402

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # said when measuring
    PlaywrightTimeout = TimeoutError  # type: ignore[misc,assignment]

# slug on the command line -> the page's title (its navigation entry and its h1)
PAGES = {
    "train": "Train",
    "weights": "Weights",
    "gradients": "Gradients",
    "mistakes": "Mistakes",
    "backprop": "Backprop, step by step",
    "network": "Network diagram & neuron lab",
    "by_hand": "Backprop by hand",
    "hidden_map": "Hidden-layer map",
    "robustness": "Robustness",
    "pixels": "Back to the pixels",
    "experiments": "Experiments",
    "draw": "Draw a digit",
}
HOME, HOME_OF_HOME = "Train", "Draw a digit"
# The charts each page draws at the default preset while training, untouched: the first
# visit waits for at least these (plotly's bundle can take seconds to load on a loaded
# machine, and a count of 0 held for 2 s then would only time title and idle).
FIGURES = {"Train": 2, "Weights": 5, "Mistakes": 3, "Hidden-layer map": 3,
           "Robustness": 3}
TIMEOUT_MS = 60_000   # a switch not done by then counts as "> 60 s" (None in the JSON)
SETTLE_MS = 2000      # a page's figure count must hold this long on the first visit
SERVER_PROBLEMS = ("Traceback", "Error")

# The page times itself: a capture listener notes when each click reaches a link or
# button, and on every animation frame (which comes only once the browser is free to
# paint, so after plotly's drawing) a check notes the first moment the awaited page is
# ready. Playwright's own click first waits for the link to hold still, which is not
# part of what a user waits for.
PAGE_WATCH = """
window.__clicks = [];
document.addEventListener('click', e => {
    const a = e.target.closest && e.target.closest('a, button');
    if (a) window.__clicks.push([performance.now(), a.innerText.trim()]);
}, true);
const fresh = el => !el.closest('[data-stale="true"]');
window.__idle = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.dataset.testScriptState === 'notRunning'
        && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
};
window.__titled = title => {
    const main = document.querySelector('[data-testid="stMain"]') || document.body;
    return [...main.querySelectorAll('h1')].filter(fresh)
        .some(h => h.innerText.trim() === title);
};
window.__drawn = () => {
    const main = document.querySelector('[data-testid="stMain"]') || document.body;
    return [...main.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(fresh)
        .filter(c => [...c.querySelectorAll('.js-plotly-plot')]
                     .some(f => f._fullLayout && f.querySelector('.main-svg'))).length;
};
window.__ready = (title, figures) =>
    window.__idle() && window.__titled(title) && window.__drawn() >= figures;
window.__watch = null;
const tick = () => {
    const w = window.__watch;
    if (w && w.done === null && window.__ready(w.title, w.figures)) {
        w.done = performance.now();
        w.drawn = window.__drawn();
    }
    requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"""


def load() -> str:
    """The machine's load averages, as `uptime` prints them."""
    return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def nav_link(page, title: str):
    side = page.locator('[data-testid="stSidebarNav"]')
    more = side.get_by_role("button", name=re.compile("View more|Show more"))
    if more.count():  # a long navigation is folded: unfold it
        more.first.click()
    return side.locator('[data-testid="stSidebarNavLink"]').filter(
        has_text=re.compile(re.escape(title) + r"\s*$")).first


def switch(page, title: str, figures: int) -> dict:
    """Click ``title``'s navigation entry; the time from the click event to the page
    ready (title, ``figures`` drawn figures, idle script), on the page's clock."""
    since = page.evaluate("performance.now()")
    page.evaluate("([title, figures]) => { window.__watch = {title, figures, done: null}; }",
                  [title, figures])
    nav_link(page, title).click()
    try:
        page.wait_for_function("() => window.__watch.done !== null", timeout=TIMEOUT_MS)
    except PlaywrightTimeout:  # never idle (its live redraws back to back), say so
        page.wait_for_function("title => window.__titled(title)", arg=title,
                               timeout=5 * TIMEOUT_MS)
        return {"seconds": None, "drawn": None, "load1": os.getloadavg()[0]}
    watch = page.evaluate("window.__watch")
    clicked = next(t for t, text in page.evaluate("window.__clicks")
                   if t >= since and title in text)
    return {"seconds": (watch["done"] - clicked) / 1000, "drawn": watch["drawn"],
            "load1": os.getloadavg()[0]}


def seconds_text(seconds: float | None) -> str:
    return f">{TIMEOUT_MS / 1000:.0f}" if seconds is None else f"{seconds:.2f}"


def settle(page, at_least: int = 0) -> int:
    """The number of drawn figures the page settles on: at least ``at_least``, held for
    ``SETTLE_MS`` while the script is idle."""
    deadline = time.monotonic() + 2 * TIMEOUT_MS / 1000
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        drawn, idle = page.evaluate("[window.__drawn(), window.__idle()]")
        if drawn != count:
            count, since = drawn, time.monotonic()
        elif idle and drawn >= at_least and time.monotonic() - since >= SETTLE_MS / 1000:
            break
        page.wait_for_timeout(200)
    return count


def measure(url: str, slugs: list[str], repeats: int, shots: Path | None,
            save: Callable[[dict], None]) -> dict:
    """Each page's switches; ``save(results so far)`` after each page."""
    from playwright.sync_api import sync_playwright

    results: dict[str, dict] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)  # a busy machine is slow to make links stable
        page.add_init_script(PAGE_WATCH)
        page.goto(f"{url}/?epochs=0&sched=constant")
        play = page.get_by_role("button", name="Play")
        play.wait_for(timeout=5 * TIMEOUT_MS)  # the first run loads the data
        play.click()
        page.get_by_role("button", name="Pause").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_timeout(3000)  # the training thread up to speed, the first redraws
        figures, current = {HOME: settle(page, FIGURES[HOME])}, HOME

        def go(title: str) -> float | None:
            """Switch to ``title`` (learning its figure count on its first visit)."""
            nonlocal current
            seconds = switch(page, title, figures.get(title, 0))["seconds"]
            if title not in figures:
                figures[title] = settle(page, FIGURES.get(title, 0))
            current = title
            return seconds

        restarts = 0

        def keep_training() -> None:
            """Press Play again when training stopped (it does when the server loses the
            browser's connection for a moment, on a loaded machine): counted."""
            nonlocal restarts
            play = page.locator('[data-testid="stSidebar"]').get_by_role("button",
                                                                       name="Play")
            if play.count():
                restarts += 1
                play.first.click()
                page.get_by_role("button", name="Pause").wait_for(timeout=TIMEOUT_MS)

        for slug in slugs:
            title = PAGES[slug]
            before = restarts
            home = HOME_OF_HOME if title == HOME else HOME
            if current != home:
                go(home)
            known = title in figures  # the Train page: learnt at the start, no first visit
            first = None if known else go(title)
            if shots is not None:
                page.screenshot(path=str(shots / f"{slug}.png"), full_page=True)
            runs = []
            for _ in range(repeats):
                go(home)
                keep_training()
                runs.append(switch(page, title, figures[title]))
                current = title
            training = page.get_by_role("button", name="Pause").count() > 0
            stopped = restarts - before
            times = [inf if r["seconds"] is None else r["seconds"] for r in runs]
            median, worst = statistics.median(times), max(times)
            results[slug] = {"title": title, "figures": figures[title],
                             "first_visit_s": first, "runs": runs,
                             "median_s": None if median == inf else median,
                             "worst_s": None if worst == inf else worst,
                             "load": load(), "still_training": training,
                             "play_pressed_again": stopped}
            print(f"{title:30s} median {seconds_text(results[slug]['median_s'])} s, worst "
                  f"{seconds_text(results[slug]['worst_s'])} s ("
                  f"{', '.join(seconds_text(r['seconds']) for r in runs)}"
                  f"; first visit {'-' if known else seconds_text(first) + ' s'}; "
                  f"{figures[title]} figures)   {load()}"
                  + ("" if training else "   NOT TRAINING any more")
                  + (f"   (training had stopped: Play pressed again {stopped}x)"
                     if stopped else ""),
                  flush=True)
            save(results)
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default=",".join(PAGES),
                        help=f"comma-separated, of: {', '.join(PAGES)} (default: all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--app-dir", type=Path, default=REPO,
                        help="the app to run (default: this checkout)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="for the run database and the server log (default: a new "
                             "temporary folder)")
    parser.add_argument("--label", default="", help="names the JSON file")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="a folder for a screenshot of each page at its first visit")
    args = parser.parse_args()
    slugs = [s.strip() for s in args.pages.split(",") if s.strip()]
    unknown = [s for s in slugs if s not in PAGES]
    if unknown:
        parser.error(f"unknown pages {unknown}; known: {', '.join(PAGES)}")
    if args.screenshots is not None:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="page-switch-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "streamlit.log"
    port = args.port or free_port()
    env = {"MNIST_NP_DB": str(workdir / "runs.sqlite3"),
           # others' edits to the checkout must not make the app rerun
           "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=args.app_dir,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    print(f"app {args.app_dir} ({commit}), port {port}, log {log}; at the start {load()}; "
          f"{os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}", flush=True)
    started = time.time()
    out = REPO / "benchmarks" / "results" / (
        f"page-switch-{args.label or time.strftime('%Y-%m-%d-%H%M', time.gmtime(started))}.json")
    head = {"app_dir": str(args.app_dir), "commit": commit,
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "repeats": args.repeats}

    def save(results: dict, problems: list[str] | None = None) -> None:
        out.write_text(json.dumps({**head, "server_problems": problems, "pages": results},
                                  indent=1) + "\n")

    app = start_app(port, args.app_dir, env, log)
    try:
        results = measure(f"http://127.0.0.1:{port}", slugs, args.repeats, args.screenshots,
                          save)
    finally:
        stop_app(app)
    problems = [line for line in log.read_text(errors="replace").splitlines()
                if any(p in line for p in SERVER_PROBLEMS)]
    print(f"server log: {len(problems)} Traceback/Error lines"
          + (f"; the first: {problems[0]}" if problems else ""))
    save(results, problems[:5])
    print(f"written: {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
