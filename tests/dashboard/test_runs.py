"""dashboard.runs: what the experiments table keeps of a real trainer's run, and the
session's run log, numbered in the order runs end, from any thread."""

import math
import sys
import threading

import numpy as np
import pytest

from dashboard.runs import RunLog, run_record
from dashboard.settings import Settings
from mnist_np import MLP, TrainConfig, Trainer

SETTINGS = Settings(hidden=(16,), optimizer="sgd", lr=0.1, batch_size=500, epochs=2,
                    schedule="constant")


def make_trainer(sample, epochs: int = 2) -> Trainer:
    """784-16-10 on the sample: 400 validation digits, 3,600 training, 8 batches an epoch."""
    return Trainer(MLP([784, 16, 10], seed=0), sample.X_train, sample.y_train,
                   TrainConfig(optimizer="sgd", lr=0.1, batch_size=500, epochs=epochs,
                               val_size=400, schedule="constant"))


@pytest.fixture(scope="module")
def finished(sample):
    trainer = make_trainer(sample)
    for _ in trainer.run():
        pass
    return trainer


def test_a_finished_run_keeps_its_numbers_and_epoch_curves(finished):
    t = finished
    r = run_record(3, t, SETTINGS, "sample", "finished", 0.81)
    assert (r.number, r.settings, r.data_source, r.status, r.origin) == (
        3, SETTINGS, "sample", "finished", "training")
    assert r.steps == t.step_count == 16 and r.epochs == 2.0
    assert r.train_seconds == t.train_seconds > 0
    assert r.samples_per_second == t.samples_per_second == pytest.approx(
        2 * 3600 / t.train_seconds)
    last = t.epoch_records[-1]
    assert (r.final_loss, r.train_accuracy, r.val_accuracy, r.test_accuracy) == (
        last.train_loss, last.train_accuracy, last.val_accuracy, 0.81)
    assert r.epoch_curves == {
        "epoch": [1, 2],
        "train_loss": [e.train_loss for e in t.epoch_records],
        "val_loss": [e.val_loss for e in t.epoch_records],
        "train_accuracy": [e.train_accuracy for e in t.epoch_records],
        "val_accuracy": [e.val_accuracy for e in t.epoch_records],
    }
    assert r.epoch_curves["train_loss"][1] < r.epoch_curves["train_loss"][0]  # it learned
    steps, losses = r.loss_curve
    assert steps == [float(s) for s in range(1, 17)]
    assert losses == [float(x) for x in t.history.columns["loss"]]
    assert all(isinstance(x, float) for x in steps + losses)
    assert run_record(1, t, SETTINGS, "MNIST", "paused", 0.5, origin="sweep 2").origin == "sweep 2"


def test_a_run_stopped_within_its_first_epoch_reports_its_last_batch_loss(sample):
    t = make_trainer(sample)
    for _ in t.run(max_steps=3):
        pass
    r = run_record(1, t, SETTINGS, "sample", "paused", 0.3)
    assert r.steps == 3 and r.epochs == round(1500 / 3600, 3) == 0.417
    assert r.final_loss == t.history.columns["loss"][-1] and math.isfinite(r.final_loss)
    assert math.isnan(r.train_accuracy) and math.isnan(r.val_accuracy)
    assert all(curve == [] for curve in r.epoch_curves.values())
    assert r.loss_curve[0] == [1.0, 2.0, 3.0]


def test_a_run_that_diverged_at_its_first_step_has_no_loss(sample):
    t = make_trainer(sample)
    t.net.weights[0].fill(np.nan)
    assert t.step() is None and t.diverged and t.step_count == 0
    r = run_record(1, t, SETTINGS, "sample", "diverged", float("nan"))
    assert r.status == "diverged" and r.steps == 0 and r.epochs == 0.0
    assert math.isnan(r.final_loss) and math.isnan(r.train_accuracy)
    assert r.loss_curve == ([], []) and r.epoch_curves["epoch"] == []


def test_the_log_numbers_runs_from_1_and_indexes_like_a_list(finished):
    log = RunLog()
    assert len(log) == 0 and list(log) == []
    first = log.add(finished, SETTINGS, "sample", "finished", 0.8)
    second = log.add(finished, SETTINGS, "sample", "reset", 0.7, origin="sweep 1")
    assert (first.number, second.number) == (1, 2) and len(log) == 2
    assert log[0] is first and log[1] is second and log[-1] is second
    assert [r.status for r in log] == ["finished", "reset"]
    assert second.origin == "sweep 1" and second.test_accuracy == 0.7


def test_iterating_the_log_reads_a_snapshot(finished):
    log = RunLog()
    log.add(finished, SETTINGS, "sample", "finished", 0.8)
    it = iter(log)
    log.add(finished, SETTINGS, "sample", "finished", 0.8)  # ends while the page reads
    assert [r.number for r in it] == [1]
    assert [r.number for r in log] == [1, 2]


def test_runs_added_from_many_threads_at_once_get_distinct_numbers_in_order(finished):
    log, threads, per_thread = RunLog(), 8, 25
    start = threading.Barrier(threads)
    errors = []

    def add_runs(k: int) -> None:
        try:
            start.wait(timeout=10)
            for _ in range(per_thread):
                log.add(finished, SETTINGS, "sample", "finished", 0.8, origin=f"sweep {k}")
        except Exception as e:  # reported below: a thread's exception would be lost
            errors.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up
    try:
        workers = [threading.Thread(target=add_runs, args=(k,)) for k in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
    finally:
        sys.setswitchinterval(interval)
    assert errors == [] and not any(w.is_alive() for w in workers)
    n = threads * per_thread
    assert len(log) == n
    assert [r.number for r in log] == list(range(1, n + 1))
    assert {k: sum(r.origin == f"sweep {k}" for r in log) for k in range(threads)} == {
        k: per_thread for k in range(threads)}


def test_a_run_log_with_a_store_outlives_the_session(sample, tmp_path):
    from dashboard.store import Store

    store = Store(tmp_path / "runs.sqlite3", 2**26, 86400)
    store.touch("ws")
    t = Trainer(MLP([784, 8, 10], seed=0), sample.X_train, sample.y_train,
                TrainConfig(steps=3, train_limit=200, val_size=50))
    for _ in t.run():
        pass
    log = RunLog(store, "ws")
    first = log.add(t, Settings(hidden=(8,)), "mnist", "finished", 0.5, weights=b"w")
    log.add(t, Settings(hidden=(8,)), "mnist", "finished", 0.6)
    log.rename(1, "mine")
    log.delete(2)
    again = RunLog(store, "ws")  # a reload: a new session on the same workspace
    assert [(r.number, r.name, r.test_accuracy) for r in again] == [(1, "mine", 0.5)]
    assert first.number == 1 and store.run_weights("ws", 1) == b"w"
    assert list(RunLog(store, "another")) == []
    assert again.add(t, Settings(hidden=(8,)), "mnist", "paused", 0.7).number == 3
