"""Weight initialisations: shapes, dtypes, scales, and all randomness from the rng given."""

import numpy as np
import pytest

from mnist_np.init import INITS, he, uniform, xavier


@pytest.mark.parametrize("name", sorted(INITS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shapes_dtype_and_the_same_rng_state_gives_the_same_weights(name, dtype):
    W, b = INITS[name](30, 7, np.random.default_rng(4), dtype)
    assert W.shape == (30, 7) and b.shape == (7,)
    assert W.dtype == dtype and b.dtype == dtype
    W2, b2 = INITS[name](30, 7, np.random.default_rng(4), dtype)
    np.testing.assert_array_equal(W, W2)
    np.testing.assert_array_equal(b, b2)
    W3, _ = INITS[name](30, 7, np.random.default_rng(5), dtype)
    assert not np.array_equal(W, W3)


def test_uniform_is_the_seeds_unscaled_range_for_weights_and_biases():
    W, b = uniform(784, 16, np.random.default_rng(0), np.float32)
    assert W.min() >= -1 and W.max() < 1 and np.abs(W).max() > 0.99  # whatever the width
    assert b.min() >= -1 and b.max() < 1 and np.any(b != 0)


def test_xavier_stays_within_its_glorot_bound_with_zero_biases():
    W, b = xavier(300, 100, np.random.default_rng(0), np.float64)
    r = np.sqrt(6 / 400)
    assert np.abs(W).max() <= r and np.abs(W).max() > 0.95 * r
    assert W.std() == pytest.approx(r / np.sqrt(3), rel=0.02)  # a uniform's spread
    assert not b.any()


def test_he_has_variance_two_over_fan_in_with_zero_biases():
    W, b = he(784, 1000, np.random.default_rng(0), np.float32)
    assert W.std() == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    assert abs(W.mean()) < 0.001 and not b.any()


def test_normal_is_nielsens_standard_normal_for_weights_and_biases():
    W, b = INITS["normal"](784, 1000, np.random.default_rng(0), np.float32)
    assert W.std() == pytest.approx(1.0, rel=0.02) and abs(W.mean()) < 0.01  # any width
    assert b.std() == pytest.approx(1.0, rel=0.1) and np.any(b != 0)
