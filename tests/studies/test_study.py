"""studies.driver on a real LocalCluster of 2 worker processes and the offline sample: a
short study whose trials become runs, the pruner, a worker killed mid-trial, cancelling."""

import os
import signal
import threading
import time

from optuna.trial import TrialState

from studies import driver as dr

from ..conftest import wait_for
from .conftest import WORKSPACE, spec


def test_a_short_study_trains_every_trial_on_the_cluster_and_records_each_as_a_run(
        client, store, storage, sample):
    ended = []
    run = dr.StudyRun(spec(["lr=0.05,0.2", "hidden=16,32"], 4), storage, store, WORKSPACE,
                      sample, on_trial=ended.append)
    outcome = run.run(client)
    assert (outcome.state, outcome.number, outcome.count(dr.FINISHED)) == ("finished", 1, 4)
    assert sorted((t.params["lr"], t.params["hidden"]) for t in ended) == [
        (0.05, "16"), (0.05, "32"), (0.2, "16"), (0.2, "32")]  # the whole grid, once each
    runs = {r.number: r for r in store.runs(WORKSPACE)}
    assert sorted(runs) == [1, 2, 3, 4]
    trials = dr.trials_of(storage, outcome.name)
    for t in trials:
        assert t.state == TrialState.COMPLETE and t.user_attrs["status"] == "finished"
        r = runs[t.user_attrs["run"]]
        assert r.origin == f"study 1, trial {t.number}" and r.status == "finished"
        assert (r.settings.lr, r.settings.hidden) == (t.params["lr"], (int(t.params["hidden"]),))
        # the values Optuna got each epoch are the run's validation curve
        assert [t.intermediate_values[e] for e in (1, 2)] == r.epoch_curves["val_accuracy"]
        assert t.value == r.val_accuracy and 0.5 < r.val_accuracy <= 1
        assert r.epochs == 2 and 0 < r.test_accuracy <= 1
        assert store.run_weights(WORKSPACE, r.number)  # "load this network" has it
    (summary,) = dr.workspace_studies(storage, WORKSPACE)
    assert (summary.label, summary.state, summary.attrs["trials"]) == ("study 1", "finished", 4)
    assert dr.workspace_studies(storage, "x" * 32) == []  # another workspace sees none


def test_the_median_pruner_stops_a_learning_rate_that_cannot_learn(client, store, storage,
                                                                   sample):
    good = (0.1, 0.15, 0.2, 0.3)
    # every sample image and 128 hidden units: an epoch outlasts the driver's answer, so
    # the bad trial is stopped within an epoch, as on real data
    run = dr.StudyRun(spec([f"lr={','.join(map(str, good))},0.00001"], 5, epochs=4,
                           sampler="random", pruner="median", hidden=(128,),
                           train_limit=None), storage, store, WORKSPACE, sample)
    study = run.create()
    for lr in (*good, 0.00001):  # the good ones first: they set the median
        study.enqueue_trial({"lr": lr})
    outcome = run.run(client)
    by_lr = {t.params["lr"]: t for t in outcome.ended}
    # (a good one below the median of those finished before it may be pruned too)
    assert sum(by_lr[lr].status == dr.FINISHED for lr in good) >= 2
    bad = by_lr[0.00001]
    assert bad.status == dr.PRUNED and bad.epochs < 4
    (record,) = [r for r in store.runs(WORKSPACE) if r.number == bad.run]
    assert record.status == "pruned" and record.val_accuracy < 0.5
    # stopped within its next epoch, it is kept as it was when judged: one network for
    # its validation and test accuracies, its numbers up to that epoch's end
    assert record.epochs == bad.epochs == len(record.epoch_curves["epoch"])
    assert max(record.loss_curve[0]) <= record.steps
    # every trial as Optuna knows it is its run: the same epochs, the same accuracies
    runs = {r.number: r for r in store.runs(WORKSPACE)}
    for t in dr.trials_of(storage, outcome.name):
        r = runs[t.user_attrs["run"]]
        assert [t.intermediate_values[e] for e in sorted(t.intermediate_values)] == \
            r.epoch_curves["val_accuracy"]
        assert t.state != TrialState.COMPLETE or t.value == r.val_accuracy
    # every trial's channel on the workers is closed (none takes answers any more)
    assert not any(client.run(_open_channels).values())


def _open_channels() -> list[tuple[str, int]]:
    from studies import channel

    return list(channel._open)


def test_a_worker_killed_mid_trial_has_its_trial_run_again_and_the_study_goes_on(
        client, store, storage, sample):
    # every training image and 256 hidden units: an epoch lasts long enough to be caught
    run = dr.StudyRun(spec(["lr=0.05,0.1,0.2"], 3, epochs=2, hidden=(256,), train_limit=None),
                      storage, store, WORKSPACE, sample)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("o", run.run(client)))
    thread.start()
    try:
        wait_for(lambda: any(client.processing().values()), timeout=60)
        busy = next(a for a, tasks in client.processing().items() if tasks)
        pid = client.run(os.getpid, workers=[busy])[busy]
        os.kill(pid, signal.SIGKILL)
    finally:
        thread.join(120)
    outcome = result["o"]
    assert outcome.state == "finished"
    # the killed trial's task ran again elsewhere, from its first step: no trial was lost
    assert sorted(t.status for t in outcome.ended) == ["finished"] * 3, outcome.ended
    assert len(store.runs(WORKSPACE)) == 3
    wait_for(lambda: len(client.scheduler_info()["workers"]) == 2, timeout=60)  # restarted


def test_cancel_stops_the_running_trials_and_keeps_the_ended_ones(client, store, storage,
                                                                  sample):
    run = dr.StudyRun(spec(["lr=0.01,0.02,0.03,0.05,0.07,0.1,0.15,0.2,0.3,0.5"], 10,
                           epochs=3, hidden=(128,), train_limit=None),
                      storage, store, WORKSPACE, sample)
    run.on_trial = lambda end: run.cancel()  # cancel as soon as one trial has ended
    start = time.perf_counter()
    outcome = run.run(client)
    assert outcome.state == "cancelled" and time.perf_counter() - start < 60
    statuses = [t.status for t in outcome.ended]
    # the other worker's trial may end in the same moment as the first: then it is kept
    # too (CI saw that once); whatever still ran is cancelled, and no new trial starts
    assert statuses[0] == dr.FINISHED and set(statuses) <= {dr.FINISHED, dr.CANCELLED}
    assert len(statuses) < 10  # the trials never started were not asked for
    trials = {t.number: t for t in dr.trials_of(storage, outcome.name)}
    assert all(t.state != TrialState.RUNNING for t in trials.values())
    assert dr.workspace_studies(storage, WORKSPACE)[0].state == "cancelled"
    assert [r.status for r in store.runs(WORKSPACE)] == ["finished"] * statuses.count(
        dr.FINISHED)  # an ended trial is a run; a cancelled one's network stayed on its worker
