"""The server's memory per browser session.

Starts `streamlit run` on a free port and opens the app in Debian's chromium (Playwright)
in one fresh browser context after another (each is its own Streamlit session, as separate
users are). After each opens, it prints the server's resident memory; then it trains in
each session for a few seconds and prints it again. MNIST itself is loaded once per server
process and shared read-only, so what each session adds is its network, its trainer's
buffers, history and snapshots, and its validation images.

    MNIST_DIR=../shared/data/mnist python benchmarks/app_memory.py [--sessions 4]

Needs the test requirements (playwright) and /usr/bin/chromium. Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import pairwise
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.app_throughput import free_port, rss_mb, start_app  # noqa: E402

SETTLE_SECONDS = 3.0  # after a page is ready, for the server to finish its runs


def measure(sessions: int, train_seconds: float, query: str) -> dict:
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = start_app(port)
    opened, trained = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu",
                                              "--disable-background-networking"])
            base = rss_mb(server.pid)
            pages = []
            for _ in range(sessions):
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.goto(f"http://127.0.0.1:{port}/{query}")
                page.get_by_role("button", name="Play").wait_for(timeout=120_000)
                page.wait_for_timeout(SETTLE_SECONDS * 1000)
                pages.append(page)
                opened.append(rss_mb(server.pid))
            for page in pages:
                page.get_by_role("button", name="Play").click()
                page.wait_for_timeout(train_seconds * 1000)
                page.get_by_role("button", name="Pause").click()
                page.get_by_role("button", name="Play").wait_for(timeout=60_000)
                trained.append(rss_mb(server.pid))
            browser.close()
    finally:
        server.kill()
        server.wait()
    return {"sessions": sessions, "query": query, "train_seconds": train_seconds,
            "rss_mb_before_any_session": base, "rss_mb_opened": opened,
            "rss_mb_trained": trained}


def _steps(values: list[float]) -> str:
    return ", ".join(f"{b - a:+.0f}" for a, b in pairwise(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=4, help="browser sessions to open")
    parser.add_argument("--train-seconds", type=float, default=10.0,
                        help="how long each session trains before it is paused")
    parser.add_argument("--query", default="?epochs=100",
                        help="the settings each session opens with (default preset, long run)")
    parser.add_argument("--json", action="store_true", help="end with a JSON line")
    args = parser.parse_args()
    if args.sessions < 1 or args.train_seconds < 0:
        parser.error("--sessions must be at least 1 and --train-seconds not negative")
    started = time.perf_counter()
    m = measure(args.sessions, args.train_seconds, args.query)
    opened, trained = m["rss_mb_opened"], m["rss_mb_trained"]
    print(f"server before any session (data not loaded yet): "
          f"{m['rss_mb_before_any_session']:,.0f} MB")
    print(f"after opening 1..{args.sessions} sessions: "
          + ", ".join(f"{v:,.0f}" for v in opened) + " MB"
          + (f" (each further session: {_steps(opened)} MB)" if len(opened) > 1 else ""))
    print(f"after training {args.train_seconds:g} s in each, one after another: "
          + ", ".join(f"{v:,.0f}" for v in trained) + " MB"
          + f" (training added {_steps([opened[-1], *trained])} MB)")
    print(f"measured in {time.perf_counter() - started:.0f} s")
    if args.json:
        print(json.dumps(m))


if __name__ == "__main__":
    main()
