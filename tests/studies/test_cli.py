"""``python -m mnist_np study``: bad flags and spaces are one line and exit 2; Ctrl-C
cancels the running trials, keeps the ended ones, leaves no worker behind, exit 130; a
driver killed outright loses no ended trial."""

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from dashboard.store import Store
from studies import driver as dr
from studies.cli import main

from ..conftest import REPO


@pytest.mark.parametrize("argv, message", [
    ([], "give at least one --param"),
    (["--param", "lr=fast"], "the learning rate must be a number, got 'fast'"),
    (["--param", "lr=log:1e-3..1", "--sampler", "grid"], "grid sampler needs a list"),
    (["--param", "lr=0.1", "--scheduler", "localhost"], "--scheduler must be a Dask scheduler"),
    (["--param", "lr=0.1", "--scheduler", "tcp://h:8786", "--workers", "2"],
     "--workers starts a local cluster"),
    (["--param", "lr=0.1", "--workspace", "mine"], "--workspace takes the 32-character key"),
    (["--param", "lr=0.1", "--workspace", "k" * 32], "no workspace with that key"),
    (["--param", "lr=0.1", "--epochs", "0"], "must be at least 1, got 0"),
    (["--param", "lr=0.1", "--pruner", "always"], "invalid choice: 'always'"),
])
def test_a_bad_flag_or_space_is_one_line_and_exit_2(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main([*argv, "--db", str(tmp_path / "runs.sqlite3")]))
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and err.count("\n") == 1, err


def _study_process(tmp_path, token: str, *params: str) -> tuple:
    """``python -m mnist_np study`` on the offline sample (grid sampler, 3 epochs, 2
    workers) in ``token``'s workspace of a new run database: the database's path and the
    running process, its stdout and stderr piped."""
    db = tmp_path / "runs.sqlite3"
    Store(db, 2**30, 86400).touch(token)
    env = {**os.environ, "MNIST_MIRRORS": "http://127.0.0.1:9/",
           "MNIST_CACHE": str(tmp_path / "cache")}
    env.pop("MNIST_DIR", None)  # the offline sample
    proc = subprocess.Popen(
        [sys.executable, "-m", "mnist_np", "study", *params, "--sampler", "grid",
         "--epochs", "3", "--workers", "2", "--db", str(db), "--workspace", token],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return db, proc


def test_ctrl_c_cancels_running_trials_keeps_ended_ones_and_leaves_no_worker(tmp_path):
    token = "c" * 32
    # ten points: the driver keeps two trials per worker in flight and starts the next as
    # soon as one ends, before its line is printed (a writer thread prints it)
    db, proc = _study_process(tmp_path, token, "--param",
                              "lr=0.02,0.03,0.05,0.07,0.1,0.15,0.2,0.3,0.4,0.5", "--json")
    lines = []
    try:
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("trial "):
                break
        workers = psutil.Process(proc.pid).children(recursive=True)
        assert workers, "".join(lines)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    err = "".join(lines) + err
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "cancelled: the running trials were stopped" in err
    summary = json.loads(out.strip().splitlines()[-1])
    statuses = [t["status"] for t in summary["trials"]]
    assert summary["state"] == "cancelled" and statuses[0] == "finished"
    assert set(statuses[1:]) <= {"cancelled", "finished", "pruned"} and len(statuses) < 10
    kept = Store(db, 2**30, 86400).runs(token)
    assert {r.status for r in kept} >= {"finished"}
    storage = dr.open_storage(dr.storage_path(db))
    (study,) = dr.workspace_studies(storage, token)
    assert study.state == "cancelled"
    assert all(t.state.is_finished() for t in dr.trials_of(storage, study.name))
    psutil.wait_procs(workers, timeout=20)
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]


def test_a_killed_driver_loses_no_ended_trial_and_tells_optuna_of_no_run_it_did_not_keep(
        tmp_path):
    """SIGKILL, not Ctrl-C: the driver writes an ended trial's run before it tells Optuna,
    so whatever moment it dies in, every trial Optuna knows as ended (and every trial line
    printed) has its run in the database; the files open; the study reads as
    interrupted once its heartbeat is old."""
    token = "k" * 32
    db, proc = _study_process(tmp_path, token, "--param", "lr=0.02,0.05,0.1,0.2,0.3,0.5",
                              "--param", "hidden=32,64")
    printed = []
    workers = []
    try:
        for line in proc.stderr:
            if line.startswith("trial "):
                printed.append(int(line.split()[1].rstrip(":")))
                if len(printed) == 3:  # mid-study: trials running, ended ones being written
                    break
        workers = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        proc.kill()
        for w in workers:  # the local cluster's processes lost their parent
            w.kill()
        psutil.wait_procs(workers, timeout=20)
    assert len(printed) == 3, printed
    runs = {r.number: r for r in Store(db, 2**30, 86400).runs(token)}
    storage = dr.open_storage(dr.storage_path(db))
    (study,) = dr.workspace_studies(storage, token, now=time.time() + dr.LOST_SECONDS + 1)
    assert study.state == "interrupted"
    trials = {t.number: t for t in dr.trials_of(storage, study.name)}
    told = [t for t in trials.values() if t.state.is_finished()]
    assert {t.number for t in told} >= set(printed)
    for t in told:  # Optuna knows of no run the database lost
        run = runs[t.user_attrs["run"]]
        assert run.origin == f"study 1, trial {t.number}"
        assert run.status == t.user_attrs["status"] in ("finished", "pruned")
        assert t.state.name != "COMPLETE" or run.val_accuracy == t.value
    # a run written just before the kill, not yet told: its trial is still running
    for run in runs.values():
        number = int(run.origin.rsplit(" ", 1)[1])
        assert trials[number].state.is_finished() or trials[number].state.name == "RUNNING"
