"""dashboard.twins: two networks of the same settings trained in the background with and
without augmentation, then swept; bounded, and stopped when asked."""

import numpy as np
import pytest

from dashboard import twins
from dashboard.settings import Settings
from dashboard.twins import CANCELLED, DONE, Comparison, twin_settings
from mnist_np import MLP, TrainConfig, Trainer


@pytest.fixture
def small_budget(monkeypatch):
    monkeypatch.setattr(twins, "BUDGET_STEPS", 40)


SMALL = Settings(hidden=(16,), train_limit=1000, batch_size=64)


def test_the_twins_differ_only_in_augmentation_and_stop_after_the_budget(small_budget):
    without, augmented = twin_settings(SMALL)
    assert not any(without.augmentation.values()) and without.steps == 40
    assert augmented == Settings(**{**without.__dict__, **twins.STANDARD})
    own = Settings(hidden=(16,), aug_elastic=34.0, aug_noise=0.1)
    assert twin_settings(own)[1].aug_elastic == 34.0 and twin_settings(own)[1].aug_shift == 0
    assert twin_settings(own)[0].aug_elastic == 0


def test_a_comparison_trains_both_twins_off_the_script_thread_and_sweeps_them(
        sample, small_budget):
    X, y = sample.X_test[:200], sample.y_test[:200]
    comparison = Comparison(SMALL, sample.X_train, sample.y_train, X, y).start()
    comparison.join(120)
    assert comparison.state == DONE and not comparison.error
    plain, augmented = comparison.twins
    assert plain.steps == augmented.steps == 40 and plain.seconds > 0
    assert plain.result is not None and augmented.result is not None
    assert "shift ±2 px, rotation ±15°, scale ±10%" in augmented.label
    # the twin without augmentation is exactly this run of the settings
    s = twin_settings(SMALL)[0]
    alone = Trainer(MLP(**s.net_config()), sample.X_train, sample.y_train,
                    TrainConfig(**s.train_config()))
    list(alone.run())
    np.testing.assert_array_equal(alone.net.weights[0], plain.trainer.net.weights[0])
    assert plain.test_accuracy == alone.net.accuracy(X, y)
    # same start, same batches: only the distortion differs
    assert not np.array_equal(plain.trainer.net.weights[0], augmented.trainer.net.weights[0])
    assert comparison.progress()[0] == 1.0


def test_the_progress_line_names_the_twin_as_the_bar_covers_both(sample, small_budget):
    comparison = Comparison(SMALL, sample.X_train, sample.y_train, sample.X_test[:50],
                            sample.y_test[:50])  # not started
    assert comparison.progress() == (
        0.0, "twin 1 of 2, the network without augmentation: step 0 of 40")
    comparison.twins[0].problem = "diverged"  # done, whatever its steps: half the bar
    fraction, where = comparison.progress()
    assert fraction == 0.5 and where.startswith("twin 2 of 2, the network with augmentation")
    assert where.endswith(": step 0 of 40")


def test_a_cancelled_comparison_stops_within_a_slice(sample, monkeypatch):
    monkeypatch.setattr(twins, "BUDGET_STEPS", 100_000)
    comparison = Comparison(SMALL, sample.X_train, sample.y_train, sample.X_test[:50],
                            sample.y_test[:50]).start()
    comparison.cancel()
    assert comparison.state == CANCELLED
    assert comparison.twins[0].steps < 100


def test_a_closed_browser_stops_the_twins(sample, monkeypatch):
    monkeypatch.setattr(twins, "BUDGET_STEPS", 100_000)
    comparison = Comparison(SMALL, sample.X_train, sample.y_train, sample.X_test[:50],
                            sample.y_test[:50], is_alive=lambda: False).start()
    comparison.join(30)
    assert comparison.state == CANCELLED and comparison.twins[0].steps == 0
