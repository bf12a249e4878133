"""studies.space: the search space as written on the command line, checked like the URL."""

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from dashboard.settings import Settings
from studies import space as sp


def test_lists_ranges_and_log_ranges_become_optuna_distributions():
    lr, hidden, batch, act = sp.parse_space(
        ["lr=log:1e-4..1", "hidden=64,128,256-128", "batch=32..256", "activation=tanh,relu"])
    assert lr.distribution == FloatDistribution(1e-4, 1.0, log=True)
    assert hidden.distribution == CategoricalDistribution(["64", "128", "256-128"])
    assert batch.distribution == IntDistribution(32, 256)
    assert act.choices == ("tanh", "relu")
    assert sp.grid([hidden, act]) == {"hidden": ["64", "128", "256-128"],
                                      "activation": ["tanh", "relu"]}
    assert sp.grid_size([hidden, act]) == 6


def test_a_trials_values_apply_to_the_base_settings():
    base = Settings(epochs=3, train_limit=1000, seed=4)
    s = sp.apply(base, {"lr": 0.05, "hidden": "256-128", "batch": 64, "schedule": "cosine"})
    assert (s.lr, s.hidden, s.batch_size, s.schedule) == (0.05, (256, 128), 64, "cosine")
    assert (s.epochs, s.train_limit, s.seed) == (3, 1000, 4)
    assert sp.apply(base, {"hidden": 96}).hidden == (96,)  # an int range's value


@pytest.mark.parametrize("specs, message", [
    ([], "at least one --param"),
    (["lr"], "write NAME=VALUES"),
    (["depth=3"], "unknown hyperparameter 'depth'"),
    (["lr=abc"], "the learning rate must be a number, got 'abc'"),
    (["lr=log:0..1"], "between 1e-05 and 10"),
    (["lr=1..0.1"], "low end must be below its high end"),
    (["lr=log:0.1,0.2"], "log: goes with a range"),
    (["batch=0,32"], "the batch size must be between 1 and 2048, got 0"),
    (["activation=relu..tanh"], "takes a list of values, not a range"),
    (["activation=relu,swish"], "unknown"),
    (["lr=0.1", "lr=0.2"], "lr is given twice"),
    (["hidden=" + ",".join(map(str, range(1, 15)))], "at most 12 values"),
])
def test_a_bad_space_is_one_line(specs, message):
    with pytest.raises(ValueError, match=message) as e:
        sp.parse_space(specs)
    assert "\n" not in str(e.value)


def test_the_grid_sampler_needs_lists():
    with pytest.raises(ValueError, match="grid sampler needs a list of values for lr"):
        sp.grid(sp.parse_space(["lr=log:1e-3..1", "hidden=32,64"]))
