"""In-app training throughput against the CLI's, and the click-to-pause delay.

Starts `streamlit run` on a free port, opens the Train page in Debian's chromium
(Playwright) on this same machine, presses Play on the default preset and, with the page
redrawing live, measures samples per wall-clock second from the sidebar's step counter.
Then presses Pause and measures, on the page's own clock, how long after the click event
the Play button is back (training has stopped by then) and checks that the counter holds
still. Finally trains the same configuration with the CLI for the same number of steps
and prints both throughputs and their ratio.

    MNIST_DIR=../shared/data/mnist python benchmarks/app_throughput.py [--repeats 3]

Needs the test requirements (playwright) and /usr/bin/chromium. Prints figures only:
timings on a shared machine are noisy, so nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mnist_np.presets import PRESETS  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, app_dir: Path = REPO,
              env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen:
    """`streamlit run` of the app in ``app_dir`` on ``port`` (with ``env`` added to this
    process's environment), once it answers its health check; its output goes to ``log``
    (appended) when given."""
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
           "--server.headless", "true", "--server.port", str(port),
           "--browser.gatherUsageStats", "false"]
    env = {**os.environ, **(env or {})}
    if log is None:
        proc = subprocess.Popen(cmd, cwd=app_dir, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    else:
        with log.open("ab") as out:
            proc = subprocess.Popen(cmd, cwd=app_dir, env=env, stdout=out,
                                    stderr=subprocess.STDOUT)
    import urllib.request

    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the app did not start within 60 s")


def stop_app(proc: subprocess.Popen) -> None:
    """Stop a server from :func:`start_app`: asked to end, killed after 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- watching the controls from inside the page ------------------------------------------
# Playwright's own click waits for the button to hold still and be hit-testable, which on
# a busy page takes hundreds of milliseconds before the click happens at all; timing from
# the Python side would count that too. So the page times itself: a capture listener notes
# when each click event reaches a button, and an observer notes when a sidebar button
# appears, and every change of the sidebar's step counter, on the page's own clock.
CONTROLS_WATCH = """
window.__clicks = [];     // [time, button text] of every click on a button
window.__appeared = [];   // [time, label] when a sidebar Play or Pause button appears
window.__steps = [];      // [time, step] at every change of the sidebar's step counter
document.addEventListener('click', e => {
    const b = e.target.closest && e.target.closest('button');
    if (b) window.__clicks.push([performance.now(), b.innerText.trim()]);
}, true);
let shown = {Play: false, Pause: false}, lastStep = null;
new MutationObserver(() => {
    const side = document.querySelector('[data-testid="stSidebar"]');
    if (!side) return;
    const labels = [...side.querySelectorAll('button')].map(b => b.innerText);
    for (const label of ['Play', 'Pause']) {
        const now = labels.some(t => t.includes(label));
        if (now && !shown[label]) window.__appeared.push([performance.now(), label]);
        shown[label] = now;
    }
    const bar = side.querySelector('[data-testid="stProgress"]');
    const m = bar && bar.innerText.match(/step ([\\d,]+)/);
    if (m) {
        const step = parseInt(m[1].replace(/,/g, ''));
        if (step !== lastStep) { window.__steps.push([performance.now(), step]); lastStep = step; }
        if (window.__steps.length > 5000) window.__steps.splice(0, 1000);
    }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def page_clock(page) -> float:
    """The page's clock (``performance.now()``), in ms."""
    return page.evaluate("performance.now()")


def training_rate(page, seconds: float, batch_size: int) -> dict:
    """Samples per wall-clock second while training runs, from the sidebar's step counter
    over about ``seconds``: first and last change inside the window, on the page's clock
    (the redraw delay is the same at both ends, so it cancels out)."""
    start = page_clock(page)
    page.wait_for_timeout(seconds * 1000)
    steps = [s for s in page.evaluate("window.__steps") if s[0] >= start]
    if len(steps) < 2:
        raise RuntimeError("the step counter did not move while training")
    (t0, s0), (t1, s1) = steps[0], steps[-1]
    return {"samples_per_second": (s1 - s0) * batch_size / ((t1 - t0) / 1000),
            "steps": s1 - s0, "seconds": (t1 - t0) / 1000}


def measure_pause(page, hold_seconds: float = 2.0, timeout_s: float = 60) -> dict:
    """Click Pause; how long from the click event to the Play button being back, and
    whether the step counter then holds still.

    The Play button is drawn by the rerun that the click starts, after its callback has
    paused the session, which waits for the training thread to finish its step: once the
    button is back, training has stopped. So the delay is an upper bound on how long
    training went on after the click.
    """
    since = page_clock(page)
    page.get_by_role("button", name="Pause").click()
    page.wait_for_function(
        "since => window.__appeared.some(([t, l]) => l === 'Play' && t > since)",
        arg=since, timeout=timeout_s * 1000)
    clicked = next(t for t, text in page.evaluate("window.__clicks")
                   if t > since and "Pause" in text)
    back = next(t for t, label in page.evaluate("window.__appeared")
                if label == "Play" and t > since)
    # The step the paused network stays at: read once the rerun that brought Play back
    # has drawn the rest of the sidebar too (its status comes after the buttons).
    page.wait_for_function(
        """() => { const app = document.querySelector('[data-testid="stApp"]');
                   return app && app.dataset.testScriptState === "notRunning"; }""",
        timeout=timeout_s * 1000)
    step_at_back = _last_step(page)
    page.wait_for_timeout(hold_seconds * 1000)
    return {"play_back_ms": back - clicked, "step_when_paused": step_at_back,
            "step_after_hold": _last_step(page), "hold_seconds": hold_seconds}


def _last_step(page) -> int | None:
    steps = page.evaluate("window.__steps")
    return steps[-1][1] if steps else None


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def chromium_cpu_seconds() -> float:
    """CPU time of every chromium process so far (the browser runs on this machine too)."""
    total = 0.0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if b"chromium" in (proc / "cmdline").read_bytes():
                total += cpu_seconds(int(proc.name))
        except (OSError, IndexError, ValueError):
            pass  # gone meanwhile
    return total


def measure_app(port: int, server_pid: int, seconds: float, batch_size: int,
                page_path: str = "/") -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(CONTROLS_WATCH)
        page.goto(f"http://127.0.0.1:{port}{page_path}?epochs=100")
        page.get_by_role("button", name="Play").wait_for(timeout=60_000)
        page.get_by_role("button", name="Play").click()
        page.wait_for_timeout(3000)  # the first redraws, and the thread up to speed
        cpu = (time.perf_counter(), cpu_seconds(server_pid), chromium_cpu_seconds())
        rss_before = rss_mb(server_pid)
        rate = training_rate(page, seconds, batch_size)
        wall = time.perf_counter() - cpu[0]
        shares = {"server_cpu_share": (cpu_seconds(server_pid) - cpu[1]) / wall,
                  "chromium_cpu_share": (chromium_cpu_seconds() - cpu[2]) / wall,
                  "server_rss_mb": [rss_before, rss_mb(server_pid)]}
        caption = page.get_by_text(re.compile(r"[\d,]+ samples/s")).first.inner_text()
        pause = measure_pause(page)
        browser.close()
    return {**rate, **pause, **shares,
            "app_reported_samples_per_second": float(caption.split()[0].replace(",", ""))}


def measure_cli(steps: int) -> dict:
    result = subprocess.run([sys.executable, "-m", "mnist_np", "train", "--steps", str(steps),
                             "--json", "--quiet"], cwd=REPO, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_once(seconds: float, batch_size: int, page_path: str = "/") -> dict:
    port = free_port()
    app = start_app(port)
    try:
        app_side = measure_app(port, app.pid, seconds, batch_size, page_path)
    finally:
        app.kill()
        app.wait()
    cli = measure_cli(app_side["step_after_hold"])
    return {**app_side, "cli_samples_per_second": cli["samples_per_second"],
            "data_source": cli["data_source"],
            "ratio": app_side["samples_per_second"] / cli["samples_per_second"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="how long to measure the in-app speed (after 3 s of warm-up)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="whole runs (fresh server and browser each), medians at the end")
    parser.add_argument("--page", default="/",
                        help="the page open while training, e.g. /weights (default: Train)")
    parser.add_argument("--json", action="store_true", help="end with a JSON line")
    args = parser.parse_args()
    batch_size = PRESETS["default"].train["batch_size"]
    runs = []
    for r in range(args.repeats):
        m = run_once(args.seconds, batch_size, args.page)
        runs.append(m)
        print(f"run {r + 1}: in-app {m['samples_per_second']:,.0f} samples/s over "
              f"{m['seconds']:.1f} s of wall-clock time (the app's own figure, time inside "
              f"steps only: {m['app_reported_samples_per_second']:,.0f}); CLI "
              f"{m['cli_samples_per_second']:,.0f}; ratio {m['ratio']:.2f} (goal >= 0.70)")
        print(f"       Pause click -> Play button back: {m['play_back_ms']:.0f} ms (goal < 500); "
              f"step counter {m['step_when_paused']:,} then {m['step_after_hold']:,} after "
              f"{m['hold_seconds']:.0f} s; CPU while training: server "
              f"{m['server_cpu_share']:.0%} of a core, chromium {m['chromium_cpu_share']:.0%}; "
              f"server memory {m['server_rss_mb'][0]:,.0f} -> {m['server_rss_mb'][1]:,.0f} MB")
    med = {k: statistics.median(m[k] for m in runs) for k in ("ratio", "play_back_ms")}
    print(f"data: {runs[0]['data_source']}; default preset (batch {batch_size}), page "
          f"{args.page}; "
          f"{len(runs)} run(s): median ratio {med['ratio']:.2f}, median Pause-to-Play "
          f"{med['play_back_ms']:.0f} ms; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, {os.cpu_count()} CPUs")
    if args.json:
        print(json.dumps({"page": args.page, "runs": runs, "median": med}))


if __name__ == "__main__":
    main()
