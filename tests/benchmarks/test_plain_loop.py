"""benchmarks/plain_loop.py: the statistics-free NumPy loop the engine's epoch is timed
against. It must be the same maths as the engine (else the ratio measures nothing), and
the script must run and print its verdicts. No timing is asserted anywhere."""

import json
import math

import numpy as np
import pytest

from benchmarks.plain_loop import EngineEpochs, PlainLoop, same_maths

from .conftest import run_script


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
@pytest.mark.parametrize("hidden", [24, 256])  # 256: the blank input columns left out
def test_the_plain_loop_trains_exactly_the_engines_weights(sample, optimizer, hidden):
    """Across an epoch's end (a new shuffle) and its short last batch, with the engine's
    statistics taken on their cadence (and momentum's flush at step 151): bitwise the
    same weights and biases."""
    X, y = sample.X_train, sample.y_train
    engine = EngineEpochs(X, y, [784, hidden, 10], 96, optimizer)
    plain = PlainLoop(X, y, engine.net, 96, mu=0.9 if optimizer == "momentum" else None)
    per_epoch = math.ceil(engine.trainer.n_train / 96)  # each epoch ends on a short batch
    epochs = math.ceil(160 / per_epoch)  # past momentum's first flush, at step 151
    steps = epochs * per_epoch + 20
    engine.run(steps)
    plain.run(steps)
    trainer = engine.trainer
    assert trainer.completed_epochs == epochs and 100 < len(trainer.history) < steps  # a cadence
    assert same_maths(engine, plain) == 0.0
    for ours, theirs in zip(engine.net.weights + engine.net.biases,
                            [plain.W1, plain.W2, plain.b1, plain.b2]):
        np.testing.assert_array_equal(ours, theirs)


def test_the_script_prints_each_shapes_ratios_on_the_sample(offline_env):
    result = run_script("plain_loop.py", "--shapes", "16x100", "--repeats", "2",
                        "--threads", "1", "--no-torch", "--json", env=offline_env)
    assert result.returncode == 0, result.stderr
    assert "engine / plain epoch time" in result.stderr and "goal <= 1.05" in result.stderr
    assert "a run's first 100 steps (all measured, once per run): engine " in result.stderr
    row = json.loads(result.stdout.strip().splitlines()[-1])["shapes"][0]
    assert (row["hidden"], row["batch"]) == (16, 100)
    assert len(row["engine_over_plain_all"]) == 2 and row["weights_differ_by"] == 0.0
    assert set(row["first_steps_cpu_seconds"]) == {"engine", "plain"}
