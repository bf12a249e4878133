"""The server's memory as visitors come and go, in rounds.

Starts `streamlit run` on a free port (its own run database in a temporary folder), then,
round after round: notes the server's resident memory (idle), opens N fresh browser
contexts (Debian's chromium, Playwright; each is its own Streamlit session, as separate
visitors are), presses Play in each, lets them all train for a few seconds, notes the
memory (with N), closes every context while training runs (the visitors close their
browsers) and notes the memory again after a while (after they left).

Several apps can be measured in one run, one server after another, to compare a change
with what came before: ``--app LABEL=DIR`` (a copy of the repository, e.g. from
``git archive``) and ``--env LABEL:NAME=VALUE`` for the server's environment.

    MNIST_DIR=../shared/data/mnist python benchmarks/app_memory_rounds.py \
        [--sessions 8] [--rounds 3] [--app now=.] [--app before=/tmp/before]

Needs the test requirements (playwright) and /usr/bin/chromium. Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.app_throughput import free_port, rss_mb, start_app  # noqa: E402

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def one_round(browser, port: int, pid: int, sessions: int, train_seconds: float,
              linger_seconds: float, query: str) -> dict:
    idle = rss_mb(pid)
    contexts, pages = [], []
    for _ in range(sessions):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/{query}")
        page.get_by_role("button", name="Play").wait_for(timeout=120_000)
        contexts.append(context)
        pages.append(page)
    for page in pages:
        page.get_by_role("button", name="Play").click()
    for page in pages:
        page.get_by_role("button", name="Pause").wait_for(timeout=60_000)
    pages[0].wait_for_timeout(train_seconds * 1000)
    with_n = rss_mb(pid)
    for context in contexts:  # the visitors close their browsers while training runs
        context.close()
    time.sleep(linger_seconds)
    return {"idle": idle, "with_n": with_n, "after_left": rss_mb(pid)}


def measure(app_dir: Path, env: dict[str, str], sessions: int, rounds: int,
            train_seconds: float, linger_seconds: float, query: str) -> list[dict]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_app(port, app_dir, {"MNIST_NP_DB": str(Path(tmp) / "runs.sqlite"),
                                              **env})
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=BROWSER_ARGS)
                try:
                    return [one_round(browser, port, server.pid, sessions, train_seconds,
                                      linger_seconds, query) for _ in range(rounds)]
                finally:
                    browser.close()
        finally:
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=8, help="browser sessions per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--train-seconds", type=float, default=5.0,
                        help="how long all sessions train together before they close")
    parser.add_argument("--linger-seconds", type=float, default=15.0,
                        help="how long after they closed the memory is read again")
    parser.add_argument("--query", default="?epochs=100",
                        help="the settings each session opens with (default preset, long run)")
    parser.add_argument("--app", action="append", default=[], metavar="LABEL=DIR",
                        help="an app to measure (repeatable; default: this repository)")
    parser.add_argument("--env", action="append", default=[], metavar="LABEL:NAME=VALUE",
                        help="an environment variable for one app's server (repeatable)")
    parser.add_argument("--json", action="store_true", help="end with a JSON line")
    args = parser.parse_args()
    apps = [a.split("=", 1) for a in args.app] or [["now", str(REPO)]]
    envs: dict[str, dict[str, str]] = {}
    for item in args.env:
        label, assignment = item.split(":", 1)
        name, value = assignment.split("=", 1)
        envs.setdefault(label, {})[name] = value
    results = {}
    for label, folder in apps:
        started = time.perf_counter()
        env = envs.get(label, {})
        rows = measure(Path(folder).resolve(), env, args.sessions, args.rounds,
                       args.train_seconds, args.linger_seconds, args.query)
        results[label] = {"dir": folder, "env": env, "rounds": rows}
        print(f"{label} ({folder}{', ' if env else ''}"
              f"{' '.join(f'{k}={v}' for k, v in env.items())}), {args.sessions} sessions, "
              f"{args.train_seconds:g} s training, read {args.linger_seconds:g} s after "
              f"they left:")
        for i, r in enumerate(rows, 1):
            print(f"  round {i}: idle {r['idle']:,.0f} MB, with {args.sessions} "
                  f"{r['with_n']:,.0f} MB, after they left {r['after_left']:,.0f} MB")
        print(f"  measured in {time.perf_counter() - started:.0f} s", flush=True)
    if args.json:
        print(json.dumps({"sessions": args.sessions, "train_seconds": args.train_seconds,
                          "linger_seconds": args.linger_seconds, "query": args.query,
                          "results": results}))


if __name__ == "__main__":
    main()
