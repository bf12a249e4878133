"""Stalled networks (issue 18, item 9): a sigmoid + MSE network whose outputs are pinned
at the wrong end stops and says why, like a divergence; healthy slow starts go on."""

import json

import numpy as np
import pytest

from mnist_np import MLP, PRESETS, TrainConfig, Trainer
from mnist_np.training import STALL_SAMPLES, STALLED_ADVICE

from .test_cli import offline_env, run  # noqa: F401  (a fixture)

STALLING_NET = dict(layer_sizes=[784, 300, 10], activation="sigmoid", output="sigmoid",
                    loss="mse", init="xavier", seed=0)
STALLING_TRAINING = dict(optimizer="momentum", lr=3.0, batch_size=128, epochs=0,
                         schedule="constant")


def test_the_stalling_network_of_the_issue_stops_and_says_why(sample):
    trainer = Trainer(MLP(**STALLING_NET), sample.X_train, sample.y_train,
                      TrainConfig(**STALLING_TRAINING))  # until stopped: only the stall ends it
    records = list(trainer.run(max_steps=200))
    assert trainer.stalled and trainer.finished and not trainer.diverged
    assert len(records) == trainer.step_count <= STALL_SAMPLES // 128 + 5
    assert records[-1].loss == pytest.approx(0.5, abs=0.01)  # as the issue says: loss 0.5
    loss, accuracy = trainer.evaluate(sample.X_test, sample.y_test)
    assert loss == pytest.approx(0.5, abs=0.01) and accuracy <= 0.2
    assert trainer.message.startswith(f"Training stalled: by step {trainer.step_count}, ")
    assert "learning rate about 10x lower" in trainer.message and "cross-entropy" in trainer.message
    assert trainer.step() is None  # it stays stopped
    assert trainer.ending == trainer.message  # how the run ended, for the runs table

    # a checkpoint of it is still stalled (the message says so), and stays stopped
    again = Trainer.restore(trainer.net, sample.X_train, sample.y_train, trainer.state())
    assert again.stalled and again.finished and again.message == trainer.message


@pytest.mark.parametrize("preset", ["seed", "vanishing"])
def test_healthy_slow_starts_are_not_flagged(sample, preset):
    # both sit near chance for a while (the seed's 784-16-10 at 13%, the vanishing
    # gradients' five sigmoid layers at 10%, loss 0.45) with their outputs near 0.1
    p = PRESETS[preset]
    trainer = Trainer(MLP(**p.net), sample.X_train, sample.y_train,
                      TrainConfig(**{**p.train, "epochs": 0, "steps": None,
                                     "schedule": "constant"}))
    steps = 2 * STALL_SAMPLES // trainer.batch_size
    records = list(trainer.run(max_steps=steps))
    assert len(records) == steps and not trainer.stalled and not trainer.finished
    assert np.mean([r.accuracy for r in records[-20:]]) < 0.5  # still a slow start


def test_a_learning_sigmoid_mse_network_is_not_flagged(sample):
    # lr 3.0 too, but plain SGD and 64 units: it learns (78% after 80 steps), and its
    # confident mistakes (outputs pinned at the wrong end) never add up to a stall
    trainer = Trainer(MLP(**{**STALLING_NET, "layer_sizes": [784, 64, 10]}), sample.X_train,
                      sample.y_train, TrainConfig(**{**STALLING_TRAINING, "optimizer": "sgd"}))
    list(trainer.run(max_steps=2 * STALL_SAMPLES // 128))
    assert not trainer.stalled and trainer.history.array("accuracy")[-10:].mean() > 0.6


def test_only_outputs_pinned_at_the_wrong_end_count():
    net = MLP([4, 3, 10], activation="sigmoid", output="sigmoid", loss="mse", seed=0)
    X, y = np.zeros((STALL_SAMPLES * 3, 4), np.float32), np.zeros(STALL_SAMPLES * 3, np.int64)
    trainer = Trainer(net, X, y, TrainConfig(optimizer="sgd", lr=0.1, batch_size=100,
                                             epochs=0, schedule="constant", val_size=0))
    Y = np.eye(10)[np.zeros(100, int)]
    pinned_right = np.where(Y == 1, 0.99, 0.01)  # sure and right: saturated, not stuck
    pinned_wrong = np.where(Y == 1, 0.01, 0.01)  # the true class pinned at 0
    for _ in range(STALL_SAMPLES // 100 * 2):
        trainer._check_stall(pinned_right, Y, 100, 0.0)
    assert not trainer.stalled
    for i in range(STALL_SAMPLES // 100):
        trainer._check_stall(pinned_wrong, Y, 10, 0.5)
        assert trainer.stalled == (i == STALL_SAMPLES // 100 - 1)
    # an accurate network is not stalled however pinned its outputs (the accuracy test)
    trainer.stalled = False
    trainer._stuck_samples = trainer._stuck_steps = trainer._stuck_correct = 0
    for _ in range(STALL_SAMPLES // 100 * 2):
        trainer._check_stall(pinned_wrong, Y, 50, 0.5)
    assert not trainer.stalled


def test_softmax_networks_are_not_watched(sample):
    net = MLP([784, 8, 10], seed=0)
    trainer = Trainer(net, sample.X_train[:500], sample.y_train[:500],
                      TrainConfig(epochs=1, val_size=0))
    assert trainer._watch_stall is False


def test_cli_ends_a_stalled_run_with_why(offline_env):  # noqa: F811
    result = run("train", "--hidden", "300", "--activation", "sigmoid", "--output", "sigmoid",
                 "--loss", "mse", "--init", "xavier", "--optimizer", "momentum", "--lr", "3",
                 "--epochs", "0", "--schedule", "constant", "--quiet", "--json",
                 env=offline_env)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["stalled"] is True and summary["diverged"] is False
    assert lines[-2].startswith("Training stalled: by step ") and lines[-2] == summary["message"]
    assert STALLED_ADVICE.split("{what}. ")[1][:40] in lines[-2]
