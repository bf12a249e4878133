"""In-app training throughput against the CLI's, and the click-to-pause delay.

Starts `streamlit run` on a free port, opens the Train page in Debian's chromium
(Playwright), presses Play on the default preset for a while with the page redrawing
live, reads the samples/s the app reports, presses Pause and measures how long the
step counter keeps moving. Then trains the same configuration with the CLI for the
same number of steps and prints both throughputs and their ratio.

    MNIST_DIR=../shared/data/mnist python benchmarks/app_throughput.py [--seconds 20]

Needs the test requirements (playwright) and /usr/bin/chromium. Prints figures only:
timings on a shared machine are noisy, so nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
           "--server.headless", "true", "--server.port", str(port)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import urllib.request

    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the app did not start within 60 s")


def _step_count(page) -> int:
    """The Train page's "Step" metric."""
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Step").first
    text = metric.locator('[data-testid="stMetricValue"]').inner_text()
    return int(text.replace(",", ""))


def measure_app(port: int, seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}/?epochs=100")
        page.get_by_role("button", name="Play").wait_for(timeout=60_000)
        page.get_by_role("button", name="Play").click()
        time.sleep(seconds)
        caption = page.get_by_text(re.compile(r"[\d,]+ samples/s")).first.inner_text()
        app_speed = float(caption.split()[0].replace(",", ""))
        click = time.perf_counter()
        page.get_by_role("button", name="Pause").click()
        # Poll the step counter until it has stopped changing for a second.
        last, last_change = _step_count(page), time.perf_counter()
        while time.perf_counter() - last_change < 1.5:
            time.sleep(0.05)
            now = _step_count(page)
            if now != last:
                last, last_change = now, time.perf_counter()
        page.get_by_role("button", name="Play").wait_for(timeout=10_000)
        visible = time.perf_counter() - click
        steps = last
        browser.close()
    return {"app_samples_per_second": app_speed, "steps": steps,
            "last_step_change_after_click_ms": round(max(0.0, last_change - click) * 1000),
            "play_button_back_after_ms": round(visible * 1000)}


def measure_cli(steps: int) -> dict:
    result = subprocess.run([sys.executable, "-m", "mnist_np", "train", "--steps", str(steps),
                             "--json", "--quiet"], cwd=REPO, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    port = free_port()
    app = start_app(port)
    try:
        measured = measure_app(port, args.seconds)
    finally:
        app.kill()
        app.wait()
    cli = measure_cli(measured["steps"])
    ratio = measured["app_samples_per_second"] / cli["samples_per_second"]
    print(f"data: {cli['data_source']}; default preset, {measured['steps']} steps")
    print(f"in-app:  {measured['app_samples_per_second']:>10,.0f} samples/s "
          f"(Train page open and redrawing every second)")
    print(f"CLI:     {cli['samples_per_second']:>10,.0f} samples/s")
    print(f"ratio in-app / CLI: {ratio:.2f}  (goal: >= 0.70)")
    print(f"click on Pause -> last step change: {measured['last_step_change_after_click_ms']} ms "
          f"(goal: < 500 ms); Play button back after {measured['play_button_back_after_ms']} ms")
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")


if __name__ == "__main__":
    main()
