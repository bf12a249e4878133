"""Presets: the default preset is the engine's defaults, every preset builds what it says,
the CLI starts from the preset it is given, and (slow) the seed and default presets reach
their accuracy on the full MNIST."""

import pytest

from mnist_np import MLP, PRESETS, TrainConfig, Trainer
from mnist_np.cli import build_parser, configs_from_args
from mnist_np.data import N_CLASSES, N_INPUTS
from mnist_np.presets import Preset


def test_the_default_preset_is_the_defaults_of_the_network_and_the_training():
    net, config = PRESETS["default"].build()
    assert config == TrainConfig()
    assert (config.optimizer, config.lr, config.epochs, config.schedule) == (
        "momentum", 0.2, 4, "linear")
    assert net.config == MLP([N_INPUTS, 256, N_CLASSES]).config
    assert net.layer_sizes == [784, 256, 10]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_the_cli_without_flags_trains_the_preset_as_it_is(name):
    flags = ["train"] if name == "default" else ["train", "--preset", name]
    net, train = configs_from_args(build_parser().parse_args(flags))
    assert net == PRESETS[name].net and train == PRESETS[name].train


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_holds_every_setting_and_builds_it(name):
    preset = PRESETS[name]
    net, config = preset.build()
    assert preset.net == net.config  # complete: every argument of MLP, none left implicit
    assert preset.train == config.to_dict()
    assert net.layer_sizes[0] == N_INPUTS and net.layer_sizes[-1] == N_CLASSES


def test_a_preset_states_only_its_changes_and_keeps_them():
    preset = Preset("x", "", dict(layer_sizes=[4, 3, 2], activation="tanh"), dict(lr=0.5))
    net, config = preset.build()
    assert net.activation == "tanh" and net.init == MLP([4, 2]).init
    assert config.lr == 0.5 and config.optimizer == TrainConfig().optimizer


def test_the_teaching_presets_keep_a_constant_learning_rate():
    """They were tuned without a schedule; the default's linear decay must not leak in."""
    for name in ("seed", "vanishing", "exploding", "dead_relu"):
        assert PRESETS[name].build()[1].schedule == "constant"
    assert PRESETS["seed"].build()[1].steps == 20_000


@pytest.mark.slow
def test_seed_preset_reaches_85_percent_like_the_notebook(mnist):
    net, cfg = PRESETS["seed"].build()
    t = Trainer(net, mnist.X_train, mnist.y_train, cfg)
    list(t.run())
    accuracy = net.accuracy(mnist.X_test, mnist.y_test)
    print(f"seed preset: {accuracy:.4f} test accuracy, {t.train_seconds:.1f} s")
    assert t.step_count == 20_000 and accuracy >= 0.85


@pytest.mark.slow
def test_default_preset_reaches_98_percent(mnist):
    net, cfg = PRESETS["default"].build()
    t = Trainer(net, mnist.X_train, mnist.y_train, cfg)
    list(t.run())
    accuracy = net.accuracy(mnist.X_test, mnist.y_test)
    # the time goal (issue 19: 1.5 s on one core) is measured by the benchmark
    # (benchmarks/default_preset.py, BENCHMARKS.md), not asserted here
    print(f"default preset: {accuracy:.4f} test accuracy, {t.train_seconds:.1f} s")
    assert accuracy >= 0.98


def test_the_best_preset_is_wide_with_dropout_and_within_the_dashboards_limits():
    """Its accuracy and time (>= 98.5% within 60 s on one core) are measured by
    benchmarks/best_preset.py (BENCHMARKS.md), not asserted here: a minute of training."""
    net, config = PRESETS["best"].build()  # (its URL round trip: tests/dashboard)
    assert net.layer_sizes == [784, 1024, 10] and config.dropout > 0
    assert config.steps is None and config.epochs * 55_000 / 60 < 15_000  # samples/s needed
