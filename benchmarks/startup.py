"""Start-up: `streamlit run streamlit_app.py` to the first page drawn (issue 19, item 4).

Each repeat starts a fresh server (``--server.headless true``, MNIST_DIR as set, its own
run database and data cache in a temporary folder) while a headless Chromium (Playwright,
launched beforehand: a visitor's browser is already open) waits. Times from the moment
the process is started to:

- ``port``: the server's port accepts a connection (polled every 10 ms);
- ``page``: the Train page fully drawn: its title, both figures (``.js-plotly-plot``)
  present and the script idle (``stApp``'s ``data-test-script-state`` is "notRunning",
  no status widget saying it runs). The browser opens the URL as soon as the port is open.

The first start of a series fills the data cache (``--cache`` folder, fresh unless given);
the figure that counts ("with the data cached") is the repeats after it. With ``--old
<folder>`` the same is measured, alternately, for another copy of the app (``git archive
<commit> | tar -x -C <folder>``, same venv), so that before and after share the minutes
and the load; ``--new <folder>`` measures a copy instead of this working tree. Streamlit
watches the app's folder, so give each copy what this folder holds (``cp -al .venv``).
Each start opens a new tab in a fresh browser context (an empty cache: a first visit);
``--warm`` keeps one context and one port per copy for all its starts, so from the
second start on the browser's cache holds the scripts (a returning visitor: a teacher
restarting the server). ``--breakdown`` times the parts in separate processes: Python's
``-X importtime`` of the app's imports, loading the dataset, and the first script run
(``AppTest`` of the app, imports done, data cached in the process).

    MNIST_DIR=../shared/data/mnist python benchmarks/startup.py [--repeats 5] \
        [--old /tmp/old] [--breakdown] [--warm] [--ports 8651-8659]

Prints medians, worst and ``uptime``'s load beside them, and writes JSON into
benchmarks/results/. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.app_throughput import cpu_seconds, stop_app  # noqa: E402

PAGE_DRAWN = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.dataset.testScriptState !== 'notRunning') return false;
    const title = document.querySelector('h1');
    if (!title || !title.innerText.includes('Train')) return false;
    if (document.querySelectorAll('.js-plotly-plot').length < 2) return false;
    const status = document.querySelector('[data-testid="stStatusWidget"]');
    return !(status && /running/i.test(status.innerText));
}"""


def load() -> str:
    """``uptime``'s load averages (1, 5, 15 minutes)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def port_in(ports: range) -> int:
    """A free port of ``ports`` (each helper has its own range)."""
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {ports.start}-{ports.stop - 1}")


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def descendants(pid: int) -> list[int]:
    """The processes under ``pid`` (children, theirs, ...), from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def browser_cpu(server_pid: int) -> float:
    """CPU seconds so far of this process's own browser (Playwright's driver and its
    chromium processes), not the server's."""
    total = 0.0
    for pid in descendants(os.getpid()):
        if pid != server_pid:
            try:
                total += cpu_seconds(pid)
            except (OSError, IndexError, ValueError):
                pass  # gone meanwhile
    return total


def one_start(new_tab, app_dir: Path, port: int, env: dict[str, str], log: Path) -> dict:
    """Start the app in ``app_dir``; seconds to its port open and to the Train page drawn
    in the tab ``new_tab()`` opens."""
    page = new_tab()
    command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
               "--server.headless", "true", "--server.port", str(port),
               "--server.address", "127.0.0.1"]
    with log.open("ab") as out:
        browser_before = browser_cpu(-1)
        t0 = time.perf_counter()
        proc = subprocess.Popen(command, cwd=app_dir, env={**os.environ, **env},
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        while not _port_open(port):
            if proc.poll() is not None:
                raise SystemExit(f"streamlit exited with {proc.returncode}; see {log}")
            if time.perf_counter() - t0 > 120:
                raise SystemExit(f"the port did not open within 120 s; see {log}")
            time.sleep(0.01)
        t_port = time.perf_counter() - t0
        page.goto(f"http://127.0.0.1:{port}/", wait_until="commit", timeout=300_000)
        page.wait_for_function(PAGE_DRAWN, polling=50, timeout=300_000)
        t_page = time.perf_counter() - t0
        server_cpu = cpu_seconds(proc.pid)
        browser_s = browser_cpu(proc.pid) - browser_before
    finally:
        page.close()
        stop_app(proc)
    return {"port_s": round(t_port, 3), "page_s": round(t_page, 3),
            "server_cpu_s": round(server_cpu, 2), "browser_cpu_s": round(browser_s, 2),
            "load": load()}


def summary(times: list[dict]) -> dict:
    out: dict = {"n": len(times)}
    for key in ("port_s", "page_s", "server_cpu_s", "browser_cpu_s"):
        values = [t[key] for t in times]
        out[key] = {"median": round(statistics.median(values), 3),
                    "worst": round(max(values), 3), "best": round(min(values), 3)}
    out["loads"] = [t["load"] for t in times]
    return out


def measure(apps: dict[str, Path], repeats: int, ports: range, tmp: Path,
            cache: Path | None, warm: bool = False) -> dict:
    """Alternate the apps' starts: one first (cold) start each, then ``repeats`` each.
    ``warm``: every start of an app opens its tab in one browser context on one port (a
    returning visitor: the browser's cache holds Streamlit's and plotly's scripts from the
    visits before); otherwise each start has a fresh context (a first visit)."""
    from playwright.sync_api import sync_playwright

    results: dict[str, dict] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        size = {"viewport": {"width": 1400, "height": 1000}}
        tabs = {name: browser.new_context(**size).new_page if warm
                else lambda: browser.new_page(**size) for name in apps}
        for name in apps:
            results[name] = {"first": None, "cached": []}
        for i in range(repeats + 1):
            for k, (name, app_dir) in enumerate(apps.items()):
                folder = tmp / name
                folder.mkdir(exist_ok=True)
                env = {"MNIST_NP_DB": str(folder / f"runs-{i}.sqlite3"),
                       "MNIST_CACHE": str(cache / name if cache else folder / "cache"),
                       "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
                port = ports.start + k if warm else port_in(ports)  # the cache is per origin
                t = one_start(tabs[name], app_dir, port, env, folder / "server.log")
                label = "first (cache empty)" if i == 0 else f"repeat {i}"
                print(f"{name:>5} {label:>20}: port {t['port_s']:6.2f} s  page "
                      f"{t['page_s']:6.2f} s  CPU: server {t['server_cpu_s']:5.2f} s, "
                      f"browser {t['browser_cpu_s']:5.2f} s  load {t['load']}", flush=True)
                if i == 0:
                    results[name]["first"] = t
                else:
                    results[name]["cached"].append(t)
        browser.close()
    for name in apps:
        results[name]["summary"] = summary(results[name]["cached"])
    return results


# -- the breakdown ----------------------------------------------------------------------
IMPORTS = ("import streamlit, dashboard.sidebar, dashboard.page, "
           "dashboard.figures.train, dashboard.session")
HEAVY = ("optuna", "dask", "distributed", "pandas", "scipy", "PIL", "studies", "sklearn",
         "torch", "matplotlib", "pyarrow")


def import_breakdown(app_dir: Path, env: dict[str, str]) -> dict:
    """``python -X importtime`` of what the Train page's run imports: total, the largest
    top-level packages, and which heavy packages get imported at all."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", IMPORTS], cwd=app_dir,
                          env={**os.environ, **env, "PYTHONPATH": str(app_dir)},
                          capture_output=True, text=True, check=True)
    packages: dict[str, int] = {}
    total = 0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith("  ") or not cumulative.strip().isdigit():
            continue  # only the top-level imports (one space before the name)
        us = int(cumulative)
        top = name.strip().split(".")[0]
        packages[top] = packages.get(top, 0) + us
        total += us
    loaded = [m for m in HEAVY if any(
        line.split("|")[-1].strip().split(".")[0] == m for line in done.stderr.splitlines()
        if "|" in line)]
    largest = dict(sorted(packages.items(), key=lambda kv: -kv[1])[:8])
    return {"total_s": round(total / 1e6, 3),
            "largest_s": {k: round(v / 1e6, 3) for k, v in largest.items()},
            "heavy_imported": loaded}


DATA_LOAD = """
import time, sys
t = time.perf_counter()
from mnist_np.data import load_mnist
t_import = time.perf_counter() - t
t = time.perf_counter()
data = load_mnist()
t_load = time.perf_counter() - t
print(f"{t_import:.3f} {t_load:.3f} {len(data.X_train)} {data.public_origin}")
"""

FIRST_RUN = """
import time, sys
t = time.perf_counter()
from streamlit.testing.v1 import AppTest
import dashboard.sidebar, dashboard.page, dashboard.figures.train, dashboard.session
t_imports = time.perf_counter() - t
from dashboard.data import _load
t = time.perf_counter()
_load()
t_data = time.perf_counter() - t
at = AppTest.from_file("streamlit_app.py", default_timeout=120)
t = time.perf_counter()
at.run()
t_run = time.perf_counter() - t
assert not at.exception, at.exception
t = time.perf_counter()
at.run()
t_rerun = time.perf_counter() - t
print(f"{t_imports:.3f} {t_data:.3f} {t_run:.3f} {t_rerun:.3f}")
"""


def breakdown(app_dir: Path, tmp: Path, cache: Path) -> dict:
    env = {"MNIST_CACHE": str(cache), "MNIST_NP_DB": str(tmp / "breakdown.sqlite3"),
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "PYTHONPATH": str(app_dir)}
    out: dict = {"load_before": load(), "imports": import_breakdown(app_dir, env)}
    loads = []
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", DATA_LOAD], cwd=app_dir,
                              env={**os.environ, **env}, capture_output=True, text=True,
                              check=True)
        t_import, t_load, n, origin = done.stdout.split(maxsplit=3)
        loads.append({"import_s": float(t_import), "load_s": float(t_load), "n_train": int(n),
                      "origin": origin.strip()})
    out["dataset"] = loads
    done = subprocess.run([sys.executable, "-c", FIRST_RUN], cwd=app_dir,
                          env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode:
        out["first_run"] = {"error": done.stderr.strip().splitlines()[-1:]}
    else:
        t_imports, t_data, t_run, t_rerun = map(float, done.stdout.split())
        out["first_run"] = {"imports_s": t_imports, "data_s": t_data,
                            "first_run_s": t_run, "second_run_s": t_rerun}
    out["load_after"] = load()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5,
                        help="starts with the data cached, after the first (default 5)")
    parser.add_argument("--old", type=Path, help="another copy of the app, measured alternately")
    parser.add_argument("--new", type=Path, default=REPO,
                        help="the copy of the app to measure (default: this one)")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the imports, the data load and the first run")
    parser.add_argument("--ports", default="8651-8659", help="ports to use (default 8651-8659)")
    parser.add_argument("--cache", type=Path,
                        help="data cache folder (default: a fresh one, filled by the first start)")
    parser.add_argument("--warm", action="store_true",
                        help="a returning visitor: one browser context (its cache) and one "
                             "port per app for all starts (default: a fresh context each)")
    parser.add_argument("--out", type=Path,
                        default=REPO / "benchmarks" / "results" / "startup.json")
    args = parser.parse_args()
    low, high = map(int, args.ports.split("-"))
    apps = {"new": args.new.resolve()}
    if args.old:
        apps = {"old": args.old.resolve(), "new": args.new.resolve()}
    print(f"MNIST_DIR={os.environ.get('MNIST_DIR', '(not set)')}  load {load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="mnist_np_startup_") as tmp_name:
        tmp = Path(tmp_name)
        result: dict = {"mnist_dir_set": bool(os.environ.get("MNIST_DIR")),
                        "load_before": load(),
                        "browser_cache": "warm" if args.warm else "cold",
                        "starts": measure(apps, args.repeats, range(low, high + 1), tmp,
                                          args.cache, args.warm)}
        if args.breakdown:
            result["breakdown"] = {}
            for name, app_dir in apps.items():
                cache = args.cache / name if args.cache else tmp / name / "cache"
                result["breakdown"][name] = b = breakdown(app_dir, tmp, cache)
                print(f"\n{name}: breakdown (load {b['load_before']} -> {b['load_after']})")
                print(f"  imports of the Train page's modules (-X importtime, top level): "
                      f"{b['imports']['total_s']:.2f} s; largest "
                      + ", ".join(f"{k} {v:.2f}" for k, v in b["imports"]["largest_s"].items()))
                heavy = ", ".join(b["imports"]["heavy_imported"]) or "none"
                print(f"  heavy packages imported: {heavy}")
                for d in b["dataset"]:
                    print(f"  dataset: import {d['import_s']:.2f} s, load {d['load_s']:.2f} s "
                          f"({d['n_train']:,} train, {d['origin']})")
                f = b["first_run"]
                if "error" in f:
                    print(f"  first run (AppTest): failed: {f['error']}")
                else:
                    print(f"  AppTest, one process: imports {f['imports_s']:.2f} s, data "
                          f"{f['data_s']:.2f} s, first script run {f['first_run_s']:.2f} s, "
                          f"second {f['second_run_s']:.2f} s")
    result["load_after"] = load()
    result["apps"] = {name: str(folder) for name, folder in apps.items()}
    print()
    for name, r in result["starts"].items():
        s = r["summary"]
        first = r["first"]
        print(f"{name}: first start (cache empty) port {first['port_s']:.2f} s, page "
              f"{first['page_s']:.2f} s; cached x{s['n']}: port median "
              f"{s['port_s']['median']:.2f} s (worst {s['port_s']['worst']:.2f}), page median "
              f"{s['page_s']['median']:.2f} s (worst {s['page_s']['worst']:.2f}); server CPU "
              f"median {s['server_cpu_s']['median']:.2f} s, browser CPU median "
              f"{s['browser_cpu_s']['median']:.2f} s; loads "
              f"{', '.join(x.split()[0] for x in s['loads'])}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
