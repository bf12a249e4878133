"""A real cluster (``dask scheduler`` and ``dask worker`` processes, as the README starts
them) whose scheduler goes away mid-study: the CLI ends with one line, exit 1, and keeps
the trials that ended."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from dashboard.store import Store
from studies import driver as dr

from ..conftest import REPO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(argv, log):
    return subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def test_the_scheduler_going_away_ends_the_study_with_one_line(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    dask = str(Path(sys.executable).parent / "dask")  # the command the README uses
    log = open(tmp_path / "cluster.log", "w")  # closed below
    scheduler = _start([dask, "scheduler", "--host", "127.0.0.1",
                        "--port", address.rsplit(":", 1)[1], "--no-dashboard"], log)
    worker = _start([dask, "worker", address, "--nthreads", "1", "--no-dashboard"], log)
    db, token = tmp_path / "runs.sqlite3", "g" * 32
    Store(db, 2**30, 86400).touch(token)
    env = {**os.environ, "MNIST_MIRRORS": "http://127.0.0.1:9/",
           "MNIST_CACHE": str(tmp_path / "cache")}
    env.pop("MNIST_DIR", None)
    study = subprocess.Popen(
        [sys.executable, "-m", "mnist_np", "study", "--param", "lr=0.02,0.05,0.1,0.2,0.3",
         "--sampler", "grid", "--epochs", "3", "--pruner", "none", "--db", str(db),
         "--workspace", token, "--scheduler", address],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in study.stderr:
            lines.append(line)
            if line.startswith("trial "):
                break
        assert lines and lines[-1].startswith("trial "), "".join(lines)
        scheduler.send_signal(signal.SIGKILL)
        start = time.monotonic()
        _, err = study.communicate(timeout=90)
        waited = time.monotonic() - start
    finally:
        for p in (study, worker, scheduler):
            p.kill()
            p.wait(30)
        log.close()
    assert study.returncode == 1, err
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith(f"python -m mnist_np study: the Dask scheduler at {address} "
                           "went away"), err
    assert waited < 60
    kept = Store(db, 2**30, 86400).runs(token)
    assert len(kept) >= 1 and {r.status for r in kept} <= {"finished", "failed"}
    (summary,) = dr.workspace_studies(dr.open_storage(dr.storage_path(db)), token)
    assert summary.state == "failed" and "went away" in summary.attrs["message"]
