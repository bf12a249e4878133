"""Shared by the real-browser tests: `streamlit run` on a free localhost port (``server``),
Debian's chromium driven headless by Playwright (``browser``), and what every test does on
failure (a screenshot to ``artifacts/``, gitignored, and the server's log printed)."""

import os
import re
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks.app_throughput import free_port

from ..conftest import REPO, mnist_dir

CHROMIUM = Path("/usr/bin/chromium")


ARTIFACTS = REPO / "artifacts"


SERVER_START_TIMEOUT = 90  # s: the first run loads MNIST
# A server-side failure the browser may never show: a traceback, an error, Streamlit's
# fallback for a table Arrow refused (a column of "all" beside 5000 logged that unseen).
SERVER_PROBLEMS = ("Traceback", "Error",
                   "Serialization of dataframe to Arrow table was unsuccessful")


def _require(ok: bool, reason: str) -> None:
    """Skip when the browser tooling is missing, except in CI, which installs it."""
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI=true: .ci/run should have installed it")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require(False, "playwright is not installed (pip install -r requirements-test.txt)")
    _require(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install -y chromium)")
    return sync_playwright


@contextmanager
def running_app(tmp: Path, log: Path):
    """`streamlit run` on a free localhost port with its data (and run database) in
    ``tmp``, logging to ``log`` (appended): yields the URL, stops the server after."""
    env = app_env(tmp)
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
               "--server.headless", "true", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer within {SERVER_START_TIMEOUT} s:\n"
                            f"{_tail(log)}")
            time.sleep(0.25)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def server(sync_playwright, tmp_path_factory):
    """The app under `streamlit run` on a free localhost port: yields (url, log path)."""
    tmp = tmp_path_factory.mktemp("server")
    log = tmp / "streamlit.log"
    log.touch()
    with running_app(tmp, log) as url:
        yield url, log


@pytest.fixture(autouse=True)
def server_log_is_clean(request):
    """After each test that used the server: fail on a line of its log, written during the
    test, that shows a problem (``SERVER_PROBLEMS``)."""
    if "server" not in request.fixturenames:
        yield
        return
    _, log = request.getfixturevalue("server")
    start = log.stat().st_size
    yield
    time.sleep(1)  # what the last interactions made the server write
    written = log.read_bytes()[start:].decode(errors="replace").splitlines()
    bad = [i for i, line in enumerate(written) if any(p in line for p in SERVER_PROBLEMS)]
    if bad:
        first = bad[0]
        pytest.fail(f"the server logged {len(bad)} problem lines during the test; the "
                    f"first, with what follows:\n" + "\n".join(written[first:first + 25]),
                    pytrace=False)


def app_env(tmp: Path) -> dict:
    """The environment for `streamlit run`, data as in CI: the official files from
    MNIST_DIR (or ../shared) when present, else the offline sample; an empty cache in
    ``tmp``, and a mirror that refuses connections."""
    env = {k: v for k, v in os.environ.items() if k != "MNIST_DIR"}
    env.update(MNIST_CACHE=str(tmp / "cache"), MNIST_MIRRORS="http://127.0.0.1:9/")
    folder = mnist_dir()
    if folder is not None:
        env["MNIST_DIR"] = str(folder)
    return env


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def browser(sync_playwright):
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@contextmanager
def screenshot_on_failure(page, log: Path, name: str):
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot}")
        except Exception as e:  # the page itself may be what broke
            print(f"no screenshot ({e})")
        print(f"--- streamlit log ({log}) ---\n{_tail(log)}")
        raise


def problems(page) -> list[str]:
    """The text of every exception box, error alert and error dialog (such as Streamlit's
    "Connection error") on the page."""
    boxes = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    dialogs = page.locator('[role="dialog"]').filter(has_text=re.compile("error", re.I))
    return [text.strip()[:300]
            for text in boxes.all_inner_texts() + dialogs.all_inner_texts()]
