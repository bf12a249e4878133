"""TrainingSession.change_live and undo_live (the neuron lab's changes to the live
network): applied between two steps while training runs, undone exactly, kept by the
checkpoint across a reload, and recorded with the run in the run database."""

import functools
import time

import numpy as np
import pytest

from dashboard import settings as cfg
from dashboard.runs import RunLog
from dashboard.session import FINISHED, PAUSED, READY, RUNNING, TrainingSession
from dashboard.settings import Settings
from dashboard.store import Store
from mnist_np import lab
from mnist_np.checkpoint import load_training


def _session(sample, store=None, **changes):
    runs = RunLog(store, "w") if store is not None else None
    sink = functools.partial(store.save_current, "w") if store is not None else None
    return TrainingSession(sample, Settings(hidden=(16,), **changes), runs=runs,
                           checkpoint=sink)


def _params(net):
    return [a.tobytes() for a in net.weights + net.biases]


def test_a_change_while_training_lands_between_two_steps_and_training_goes_on(sample):
    session = _session(sample, steps=cfg.MAX_STEPS)
    session.play()
    time.sleep(0.2)
    version = session.version
    done = session.change_live(lambda net: lab.switch_off(net, 1, [3]))
    with session.reading():  # the same reading the page takes: no step half-done
        assert session.running and session.version > version
    assert done.units == (3,) and session.lab_changes == [done]
    steps = session.trainer.step_count
    time.sleep(0.2)
    session.pause()
    assert session.trainer.step_count > steps  # training went on
    assert session.state == PAUSED


def test_undo_puts_back_exactly_what_was_there(sample):
    session = _session(sample, steps=50)
    session.step()
    before = _params(session.net)
    version = session.version
    session.change_live(lambda net: lab.set_weight(net, 2, 5, 7, 12.5))
    session.change_live(lambda net: lab.switch_off(net, 1, [0, 1, 2]))
    assert _params(session.net) != before and session.version == version + 2
    assert session.undo_live().kind == "switch off"
    assert session.undo_live().kind == "weight"
    assert session.undo_live() is None
    assert _params(session.net) == before and session.version == version + 4


def test_a_change_to_a_fresh_network_ends_its_fresh_state_and_a_bad_one_changes_nothing(
        sample):
    session = _session(sample)
    assert session.state == READY
    before = _params(session.net)
    with pytest.raises(ValueError, match="not a hidden layer"):
        session.change_live(lambda net: lab.switch_off(net, 2, [0]))
    assert _params(session.net) == before and session.lab_changes == []
    assert session.state == READY
    session.change_live(lambda net: lab.set_bias(net, 1, 0, 1.0))
    assert session.state == PAUSED


def test_changes_outlast_a_reload_and_go_into_the_runs_record(sample, tmp_path):
    store = Store(tmp_path / "runs.sqlite3", 64 * 2**20, 86400)
    session = _session(sample, store, epochs=1, train_limit=100, batch_size=50)
    session.step()
    session.change_live(lambda net: lab.switch_off(net, 1, [4]))
    bias = f"set b2[3] from {session.net.biases[1][3]:.4g} to -0.5"
    session.change_live(lambda net: lab.set_bias(net, 2, 3, -0.5))
    session.undo_live()
    weights = _params(session.net)
    # a reload: a new session on the same workspace goes on from the checkpoint
    settings, state, raw = store.load_current("w")
    again = _session(sample, store, epochs=1, train_limit=100, batch_size=50)
    found = load_training(raw, sample.X_train, sample.y_train, sample.source)
    again.restore(found.trainer, settings, state)
    assert _params(again.net) == weights and np.all(again.net.weights[1][4] == 0)
    again.step()  # the last step of the one epoch: the run ends and is recorded
    assert again.state == FINISHED
    record = store.runs("w")[-1]
    assert [line.split(": ", 1)[1] for line in record.changes] == [
        "switched off unit 4 of hidden layer 1", bias, f"undid: {bias}"]
    assert record.changes[0].startswith("step 1: ")
    # a change after the run ended is added to its record at once
    again.change_live(lambda net: lab.switch_off(net, 1, [5]))
    assert store.runs("w")[-1].changes[-1] == "step 2: switched off unit 5 of hidden layer 1"
    assert again.runs[-1].changes == store.runs("w")[-1].changes
    assert store.load_changes("w") == []


def test_a_reset_of_a_network_that_never_trained_forgets_its_changes(sample):
    session = _session(sample)
    session.change_live(lambda net: lab.switch_off(net, 1, [0]))
    session.reset()
    assert session.lab_changes == [] and len(session.runs) == 0
    session.step()
    session.reset()
    assert session.runs[-1].changes == []
    assert session.state != RUNNING
