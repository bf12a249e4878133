"""Many browser sessions training at once on one server: does every page keep drawing,
how soon does Pause take effect, and how much training does the server do in total?

For each count of sessions (1, 4, 8, 16 by default) starts `streamlit run` on its own
run database (a temporary MNIST_NP_DB), opens that many sessions in ONE Chromium (each
a new browser context, so a new workspace cookie) at ``/?epochs=100`` (the default
preset, which then cannot finish meanwhile), presses Play in each, and over
``--seconds`` measures, per session, from inside the page (its own clock):

- its step counter (the sidebar's status, itself a live fragment): how far it moved and
  the longest time between two changes;
- its page: how often the main area changed (the Train page's live fragment redraws the
  curves every second) and the longest time without a change;

then the total throughput (the sum over sessions of steps x batch / time), and Pause in
every session in turn while the others go on training: the click to the Play button being
back, and the counter holding for ``--hold`` s; then Play again. Also the server's RSS,
and the CPU the clients themselves used (this script, Playwright's driver and Chromium:
the processes under this one, the server excepted). After each count, one CLI process
(``python -m mnist_np train``, same preset, one BLAS thread) trains alone for the
reference throughput.

With ``--client ws`` the sessions are not browsers but the light client of
``benchmarks/st_client.py`` (Streamlit's websocket protocol, its fragment timers, no
drawing), all in this process: the same records on its own clock (a step change is a
new step in the sidebar's progress text, a redraw a main-area element whose content
changed), Pause timed from sending the click to the Play button's delta, and the
counter checked after the hold by a fresh run of the whole page. The browsers took
1.2-1.4 of the 2 cores; the client's share is printed as "clients".

    MNIST_DIR=/work/shared/data/mnist python benchmarks/sessions.py [--counts 1,4,8,16]
        [--client ws] [--app-dir /tmp/old-copy] [--port 8661]

Prints a table and writes JSON to benchmarks/results/. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.app_throughput import (  # noqa: E402
    CONTROLS_WATCH,
    cpu_seconds,
    measure_cli,
    measure_pause,
    page_clock,
    rss_mb,
    start_app,
)
from mnist_np.presets import PRESETS  # noqa: E402

# Changes of the page's main area (not the sidebar), at most one noted per 100 ms.
MAIN_WATCH = """
window.__main = [];
new MutationObserver(records => {
    const main = document.querySelector('[data-testid="stMain"]');
    if (!main || !records.some(r => main.contains(r.target))) return;
    const now = performance.now(), m = window.__main;
    if (!m.length || now - m[m.length - 1] > 100) m.push(now);
    if (m.length > 5000) m.splice(0, 1000);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def client_cpu_seconds(server_pid: int) -> float:
    """CPU time so far of this process and everything under it but the server (Playwright's
    driver, Chromium and its helpers)."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    skip = {server_pid}
    for child in me.children(recursive=True):
        try:
            if child.pid in skip or child.ppid() in skip:
                continue
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass  # gone meanwhile
    return total


def server_cpu_split(pid: int) -> dict[str, float]:
    """CPU seconds so far of the server's training threads (the trainer pool's, named in
    the operating system by ``dashboard.pool``), of its main thread (the event loop that
    reads and writes the websockets) and of the whole process; the rest is the page
    scripts' threads (many short-lived: /proc forgets them) and the like."""
    pool = main = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            comm = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        if comm.startswith("mnist_np-pool"):
            pool += used
        elif int(task.name) == pid:
            main += used
    return {"pool": pool, "main": main, "total": cpu_seconds(pid)}


def gaps(times: list[float], start: float, end: float) -> float:
    """The longest stretch in [start, end] (ms) without an event from ``times``."""
    inside = [start, *[t for t in times if start <= t <= end], end]
    return max(b - a for a, b in itertools.pairwise(inside))


class BrowserTab:
    """A Chromium page as :func:`watch` and :func:`pause_each` read it: the same names as a
    ``st_client.Session`` (``steps`` and ``redraws`` are read from inside the page)."""

    def __init__(self, page):
        self.page = page

    def clock(self) -> float:
        return page_clock(self.page)

    @property
    def steps(self) -> list:
        return self.page.evaluate("window.__steps")

    @property
    def redraws(self) -> list:
        return self.page.evaluate("window.__main")

    def measure_pause(self, hold_seconds: float, timeout_s: float) -> dict:
        return measure_pause(self.page, hold_seconds=hold_seconds, timeout_s=timeout_s)

    def play(self) -> None:
        self.page.get_by_role("button", name="Play").click(no_wait_after=True)
        self.page.get_by_role("button", name="Pause").wait_for(timeout=600_000)


def open_sessions(browser, port: int, n: int, viewport: dict) -> list:
    pages = []
    for _ in range(n):
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(600_000)  # a busy machine: 16 pages load slowly
        page = context.new_page()
        page.add_init_script(CONTROLS_WATCH + MAIN_WATCH)
        page.goto(f"http://127.0.0.1:{port}/?epochs=100", wait_until="commit")
        pages.append(page)
    for k, page in enumerate(pages):
        page.get_by_role("button", name="Play").wait_for(timeout=600_000)
        say(f"  page {k + 1} of {n} drawn")
    for page in pages:
        page.get_by_role("button", name="Play").click(no_wait_after=True)
    for page in pages:
        page.get_by_role("button", name="Pause").wait_for(timeout=600_000)
    say(f"  all {n} training")
    return pages


def open_ws_sessions(clients, port: int, n: int, path: str = "/") -> list:
    """``n`` sessions of the light client (``benchmarks/st_client.py``) at
    ``path?epochs=100``, each pressing Play once every page is drawn (its first run
    finished: a Play pressed while a fresh server still compiles the page can hit a
    CPython 3.11 race, see BENCHMARKS.md, which is not what this measures)."""
    sessions = [clients.open(f"http://127.0.0.1:{port}{path}?epochs=100") for _ in range(n)]
    for k, session in enumerate(sessions):
        session.wait_for_button("Play", timeout=600)
        session.wait_for_full_run(since=0, timeout=600)
        say(f"  session {k + 1} of {n} drawn")
    sent = [s.click("Play") for s in sessions]
    for session, t in zip(sessions, sent):
        session.wait_until(lambda s=session, t=t: any(a > t and name == "Pause"
                                                      for a, name in list(s.appeared)), 600)
    say(f"  all {n} training")
    return sessions


def say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def watch(pages: list, seconds: float, batch_size: int) -> list[dict]:
    """Per page (a :class:`BrowserTab` or a ``st_client.Session``): steps and redraws
    over the next ``seconds``, each on the page's clock."""
    starts = [p.clock() for p in pages]
    time.sleep(seconds)
    out = []
    for page, start in zip(pages, starts):
        end = page.clock()
        steps = [s for s in page.steps if start <= s[0] <= end]
        main = [t for t in page.redraws if start <= t <= end]
        rate = 0.0
        if len(steps) >= 2:
            (t0, s0), (t1, s1) = steps[0], steps[-1]
            rate = (s1 - s0) * batch_size / ((t1 - t0) / 1000) if t1 > t0 else 0.0
        out.append({"window_s": (end - start) / 1000,
                    "step_changes": len(steps),
                    "steps_moved": (steps[-1][1] - steps[0][1]) if steps else 0,
                    "samples_per_second": rate,
                    "longest_without_step_s": gaps([t for t, _ in steps], start, end) / 1000,
                    "main_redraws": len(main),
                    "longest_without_redraw_s": gaps(main, start, end) / 1000})
    return out


def pause_each(pages: list, hold: float) -> list[dict]:
    """Pause every session in turn (the others training), then Play it again."""
    results = []
    for page in pages:
        r = page.measure_pause(hold_seconds=hold, timeout_s=120)
        say(f"  paused one: {r['play_back_ms'] / 1000:.2f} s")
        results.append({"play_back_s": r["play_back_ms"] / 1000,
                        **({"to_start_s": r["to_start_ms"] / 1000,
                            "to_first_element_s": r["to_first_element_ms"] / 1000}
                           if "to_start_ms" in r else {}),
                        "step_at_back": r["step_when_paused"],
                        "step_after_hold": r["step_after_hold"],
                        "held": r["step_when_paused"] == r["step_after_hold"]})
        page.play()
    return results


@contextmanager
def clients_of(kind: str, port: int, n: int) -> Iterator[tuple[list, list]]:
    """``n`` sessions pressing Play, opened by ``kind`` of client: "browser" (Chromium
    contexts, yielded as :class:`BrowserTab` and their Playwright pages) or "ws" (the
    light client, no pages)."""
    if kind == "ws":
        from benchmarks.st_client import Clients

        with Clients() as clients:
            yield open_ws_sessions(clients, port, n), []
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        pages = open_sessions(browser, port, n, {"width": 1400, "height": 1000})
        yield [BrowserTab(page) for page in pages], pages
        browser.close()


def traffic(tabs: list) -> dict:
    """What the light client's sessions sent and received (empty for browser tabs)."""
    if not tabs or isinstance(tabs[0], BrowserTab):
        return {}
    return {"messages_received": sum(t.messages for t in tabs),
            "mb_received": sum(t.bytes_received for t in tabs) / 1e6,
            "reruns_sent": sum(t.reruns_sent for t in tabs),
            "fragment_reruns_sent": sum(t.auto_reruns_sent for t in tabs),
            "cached_messages_referred_to": sum(t.cache.hits for t in tabs),
            "errors_shown": [e for t in tabs for e in t.errors][:5]}


def measure(n: int, port: int, app_dir: Path, seconds: float, hold: float,
            batch_size: int, shots: Path | None, client: str = "browser") -> dict:
    with tempfile.TemporaryDirectory(prefix="mnist_np-sessions-") as tmp:
        log = Path(tmp) / "server.log"
        app = start_app(port, app_dir, {"MNIST_NP_DB": str(Path(tmp) / "runs.sqlite3"),
                                        # others edit the tree: no reruns, no watch
                                        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"},
                        log=log)
        try:
            with clients_of(client, port, n) as (tabs, pages):
                time.sleep(3)  # first redraws; every worker up to speed
                t0, server0, client0 = (time.perf_counter(), server_cpu_split(app.pid),
                                        client_cpu_seconds(app.pid))
                per_page = watch(tabs, seconds, batch_size)
                wall = time.perf_counter() - t0
                server1 = server_cpu_split(app.pid)
                split = {k: (server1[k] - server0[k]) / wall for k in server1}
                server_cpu = split["total"]
                client_cpu = (client_cpu_seconds(app.pid) - client0) / wall
                rss = rss_mb(app.pid)
                if shots is not None and pages:
                    pages[-1].screenshot(path=str(shots / f"sessions-{n}-1400x1000.png"))
                    pages[-1].set_viewport_size({"width": 800, "height": 900})
                    time.sleep(2)
                    pages[-1].screenshot(path=str(shots / f"sessions-{n}-800x900.png"))
                    pages[-1].set_viewport_size({"width": 1400, "height": 1000})
                pauses = pause_each(tabs, hold)
                sent = traffic(tabs)
        finally:
            app.kill()
            app.wait()
        problems = [line for line in log.read_text(errors="replace").splitlines()
                    if "Traceback" in line or "Error" in line]
    load = os.getloadavg()[0]
    cli = measure_cli(4000)
    total = sum(p["samples_per_second"] for p in per_page)
    back = [p["play_back_s"] for p in pauses]
    return {"sessions": n, "client": client, "per_session": per_page, "pauses": pauses,
            "total_samples_per_second": total,
            "cli_samples_per_second": cli["samples_per_second"],
            "ratio_to_cli": total / cli["samples_per_second"],
            "all_steps_moved": all(p["steps_moved"] > 0 for p in per_page),
            "all_pages_redrew": all(p["main_redraws"] >= 2 for p in per_page),
            "longest_without_step_s": max(p["longest_without_step_s"] for p in per_page),
            "longest_without_redraw_s": max(p["longest_without_redraw_s"] for p in per_page),
            "pause_median_s": statistics.median(back), "pause_worst_s": max(back),
            "all_held": all(p["held"] for p in pauses),
            "server_rss_mb": rss, "server_cpu_cores": server_cpu,
            "server_training_cores": split["pool"], "server_event_loop_cores": split["main"],
            # per CPU-second of the trainer threads (checkpoints included): what the
            # server makes of the cores it gets, whatever else runs on the machine
            "samples_per_training_cpu_second": total / split["pool"] if split["pool"] else 0.0,
            "server_scripts_and_rest_cores": split["total"] - split["pool"] - split["main"],
            "client_cpu_cores": client_cpu, "load_1min_after": load,
            "server_log_problems": problems[:5], "client_traffic": sent}


# The same load without a browser or a server: n sessions in one process, each with a
# "page" thread that every second reads its progress and does ~10 ms of pure-Python work
# (as a fragment's script run would), run in a subprocess on the app in ``app_dir``.
IN_PROCESS = r"""
import json, statistics, sys, threading, time
sys.path.insert(0, sys.argv[6])  # this repo's engine for both apps: only the dashboard differs
import mnist_np
sys.path[:] = [sys.argv[1], *(p for p in sys.path if p not in ("", sys.argv[6]))]
from mnist_np.data import load_mnist
from mnist_np.threads import set_threads
from dashboard import settings as cfg
from dashboard.session import TrainingSession
set_threads(1)
n, seconds, batch = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
data = load_mnist(sys.argv[5])
sessions = [TrainingSession(data, cfg.from_query({"epochs": ["100"]})[0]) for _ in range(n)]
for s in sessions:
    s.play()
time.sleep(2)
stop, late, reads = threading.Event(), [], [0] * n
def page(k):
    due = time.perf_counter()
    while not stop.is_set():
        due += 1.0
        time.sleep(max(0.0, due - time.perf_counter()))
        p = sessions[k].progress()
        sum(i * i for i in range(60_000))  # about 10 ms of the interpreter
        late.append(time.perf_counter() - due)
        reads[k] += 1
pages = [threading.Thread(target=page, args=(k,), daemon=True) for k in range(n)]
start = [s.trainer.step_count for s in sessions]
t0 = time.perf_counter()
for t in pages:
    t.start()
time.sleep(seconds)
wall = time.perf_counter() - t0
moved = [s.trainer.step_count - a for s, a in zip(sessions, start)]
stop.set()
pauses = []
for s in sessions:
    t = time.perf_counter(); s.pause(); pauses.append(time.perf_counter() - t)
import dashboard
assert dashboard.__file__.startswith(sys.argv[1]), dashboard.__file__
print(json.dumps({"sessions": n, "samples_per_second": sum(moved) * batch / wall,
                  "fewest_steps": min(moved), "most_steps": max(moved),
                  "page_late_median_s": statistics.median(late), "page_late_worst_s": max(late),
                  "fewest_page_reads": min(reads), "pause_median_s": statistics.median(pauses),
                  "pause_worst_s": max(pauses)}))
"""


def in_process(n: int, app_dir: Path, seconds: float, batch_size: int) -> dict:
    mnist = os.environ.get("MNIST_DIR", str(REPO.parent / "shared" / "data" / "mnist"))
    argv = [str(app_dir), str(n), str(seconds), str(batch_size), mnist, str(REPO)]
    out = subprocess.run([sys.executable, "-c", IN_PROCESS, *argv], capture_output=True,
                         text=True, check=True, cwd=app_dir)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="1,4,8,16", help="session counts to measure")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--hold", type=float, default=1.5,
                        help="seconds the counter must hold after a pause")
    parser.add_argument("--port", type=int, default=8661)
    parser.add_argument("--app-dir", type=Path, default=REPO,
                        help="the app to serve (e.g. an old copy, for before/after)")
    parser.add_argument("--label", default="", help="a name for this run in the JSON file")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="a folder for screenshots of the last session's page")
    parser.add_argument("--in-process", action="store_true",
                        help="no server, no browser: sessions with page threads in one "
                        "process, alternating the app in --app-dir and --other-dir")
    parser.add_argument("--other-dir", type=Path, default=None)
    parser.add_argument("--client", choices=("browser", "ws"), default="browser",
                        help="browser: a Chromium context per session; ws: the light "
                        "websocket client (benchmarks/st_client.py), which draws nothing")
    args = parser.parse_args()
    batch_size = PRESETS["default"].train["batch_size"]
    if args.in_process:
        dirs = [args.app_dir, *([args.other_dir] if args.other_dir else [])]
        rows = []
        for n in (int(c) for c in args.counts.split(",")):
            cli = measure_cli(4000)["samples_per_second"]
            for d in dirs:
                r = {**in_process(n, d, args.seconds, batch_size), "app_dir": str(d),
                     "cli_samples_per_second": cli, "load_1min": os.getloadavg()[0]}
                rows.append(r)
                print(f"{n:>3} sessions, {d}: {r['samples_per_second']:,.0f} samples/s "
                      f"({r['samples_per_second'] / cli:.2f}x the CLI's {cli:,.0f}), steps "
                      f"per session {r['fewest_steps']}-{r['most_steps']}; page reads late "
                      f"{r['page_late_median_s']:.2f} s median, {r['page_late_worst_s']:.2f} s "
                      f"worst (fewest reads {r['fewest_page_reads']}); pause "
                      f"{r['pause_median_s']:.3f} s median, {r['pause_worst_s']:.3f} s worst; "
                      f"load {r['load_1min']:.1f}", flush=True)
        out = REPO / "benchmarks" / "results"
        out.mkdir(exist_ok=True)
        name = f"sessions-inprocess-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.json"
        (out / name).write_text(json.dumps(rows, indent=1))
        print(f"written: benchmarks/results/{name}")
        return
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    rows = []
    started = datetime.now(timezone.utc)
    print(f"load before: {os.getloadavg()}; app {args.app_dir}; client {args.client}")
    for n in (int(c) for c in args.counts.split(",")):
        r = measure(n, args.port, args.app_dir, args.seconds, args.hold, batch_size,
                    args.screenshots, args.client)
        rows.append(r)
        print(f"{n:>3} sessions: steps moved in all {r['all_steps_moved']}, pages redrew in "
              f"all {r['all_pages_redrew']} (longest without a step change "
              f"{r['longest_without_step_s']:.1f} s, without a redraw "
              f"{r['longest_without_redraw_s']:.1f} s); total {r['total_samples_per_second']:,.0f}"
              f" samples/s = {r['ratio_to_cli']:.2f}x the CLI's "
              f"{r['cli_samples_per_second']:,.0f}; Pause median {r['pause_median_s']:.2f} s, "
              f"worst {r['pause_worst_s']:.2f} s, held in all {r['all_held']}; server "
              f"{r['server_rss_mb']:,.0f} MB, {r['server_cpu_cores']:.2f} cores (training "
              f"{r['server_training_cores']:.2f}: "
              f"{r['samples_per_training_cpu_second']:,.0f} samples per CPU-second; event loop "
              f"{r['server_event_loop_cores']:.2f},"
              f" scripts and the rest {r['server_scripts_and_rest_cores']:.2f}); clients "
              f"{r['client_cpu_cores']:.2f} cores; load {r['load_1min_after']:.1f}; server log "
              f"problems: {len(r['server_log_problems'])}", flush=True)
    print("\n| sessions | steps move in all | pages redraw in all (longest gap) | total samples/s "
          "(x CLI) | Pause median / worst | server RSS | clients' CPU |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['sessions']} | {'yes' if r['all_steps_moved'] else 'no'} | "
              f"{'yes' if r['all_pages_redrew'] else 'no'} ({r['longest_without_redraw_s']:.1f} s)"
              f" | {r['total_samples_per_second']:,.0f} ({r['ratio_to_cli']:.2f}x) | "
              f"{r['pause_median_s']:.2f} / {r['pause_worst_s']:.2f} s | "
              f"{r['server_rss_mb']:,.0f} MB | {r['client_cpu_cores']:.2f} cores |")
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    kind = "-ws" if args.client == "ws" else ""
    name = f"sessions{kind}-{started:%Y%m%dT%H%M%S}{'-' + args.label if args.label else ''}.json"
    (out / name).write_text(json.dumps({"started": started.isoformat(), "label": args.label,
                                        "client": args.client, "app_dir": str(args.app_dir),
                                        "rows": rows}, indent=1))
    print(f"written: benchmarks/results/{name}")


if __name__ == "__main__":
    main()
