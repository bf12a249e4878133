"""Noise, shifts and rotations (mnist_np.perturb) on tiny images whose answer is known, and
the accuracy sweep on a real network."""

import numpy as np
import pytest

from mnist_np import MLP, TrainConfig, Trainer
from mnist_np.perturb import (
    NOISE_LEVELS,
    ROTATION_LEVELS,
    SHIFT_LEVELS,
    add_noise,
    perturb,
    rotate,
    shift,
    sweep,
)


def _images(n=3, side=5, seed=0):
    return np.random.default_rng(seed).random((n, side * side)).astype(np.float32)


def test_a_zero_shift_changes_nothing():
    X = _images()
    np.testing.assert_array_equal(shift(X, 0, 0), X)


def test_a_shift_moves_a_pixel_right_and_down_and_brings_in_zeros():
    X = np.zeros((1, 16), np.float32)
    X[0, 1 * 4 + 2] = 1.0  # row 1, column 2 of a 4x4 image
    moved = shift(X, 1, 2).reshape(4, 4)
    assert moved[3, 3] == 1.0 and moved.sum() == 1.0
    back = shift(X, -2, -1).reshape(4, 4)
    assert back[0, 0] == 1.0 and back.sum() == 1.0
    assert shift(X, 2, 0).sum() == 0  # pushed off the right edge
    full = np.ones((1, 16), np.float32)
    left = shift(full, -1, 0).reshape(4, 4)
    assert np.all(left[:, :3] == 1) and np.all(left[:, 3] == 0)
    assert shift(full, 4, 0).sum() == 0 and shift(full, 0, -9).sum() == 0


def test_shifting_does_not_change_its_input():
    X = _images()
    before = X.copy()
    shift(X, 2, -1)
    rotate(X, 30)
    add_noise(X, 0.5)
    np.testing.assert_array_equal(X, before)


def test_rotation_by_zero_and_by_a_full_turn_changes_nothing():
    X = _images(side=6)
    np.testing.assert_array_equal(rotate(X, 0), X)
    np.testing.assert_allclose(rotate(X, 360), X, atol=1e-5)


@pytest.mark.parametrize("side", [5, 6, 28])
def test_quarter_turns_match_numpy_rot90_counterclockwise(side):
    X = _images(side=side)
    images = X.reshape(-1, side, side)
    for k in (1, 2, 3):
        expected = np.rot90(images, k, axes=(1, 2)).reshape(X.shape)
        np.testing.assert_allclose(rotate(X, 90 * k), expected, atol=1e-5)
    np.testing.assert_allclose(rotate(X, -90), np.rot90(images, -1, axes=(1, 2))
                               .reshape(X.shape), atol=1e-5)


def test_small_rotations_interpolate_and_keep_a_centred_blob():
    side = 9
    X = np.zeros((1, side * side), np.float32)
    X.reshape(side, side)[3:6, 3:6] = 1.0  # a square around the centre
    turned = rotate(X, 10).reshape(side, side)
    assert turned[4, 4] == pytest.approx(1.0)
    assert 0 < turned.max() <= 1 and np.all(turned >= 0)
    assert turned.sum() == pytest.approx(9.0, rel=0.05)  # bilinear keeps the area about
    assert np.any((turned > 0.05) & (turned < 0.95))    # and blends at the edges
    corner = np.zeros((1, 16), np.float32)
    corner[0, 0] = 1.0
    assert rotate(corner, 45).reshape(4, 4)[0, 0] == 0  # the corner turns outside


def test_noise_of_zero_changes_nothing_and_noise_is_seeded_and_clipped():
    X = _images()
    np.testing.assert_array_equal(add_noise(X, 0.0), X)
    a, b = add_noise(X, 0.3, seed=4), add_noise(X, 0.3, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, add_noise(X, 0.3, seed=5))
    assert a.min() >= 0 and a.max() <= 1 and not np.array_equal(a, X)
    heavy = add_noise(X, 5.0)
    assert {0.0, 1.0} <= set(np.unique(heavy))


def test_the_same_seed_scales_one_noise_pattern():
    X = np.full((2, 9), 0.5, np.float32)
    small, large = add_noise(X, 0.01, seed=1) - 0.5, add_noise(X, 0.02, seed=1) - 0.5
    np.testing.assert_allclose(large, 2 * small, atol=1e-6)


def test_perturb_applies_rotation_then_shift_then_noise():
    X = _images(side=6)
    np.testing.assert_array_equal(perturb(X), X)
    expected = add_noise(shift(rotate(X, 90), 1, -1), 0.2, seed=3)
    np.testing.assert_array_equal(perturb(X, degrees=90, dx=1, dy=-1, sigma=0.2, seed=3),
                                  expected)


@pytest.mark.parametrize("call", [
    lambda X: shift(X[:, :-1], 1, 0),             # 24 pixels: not a square
    lambda X: rotate(X.reshape(-1), 10),          # not rows
    lambda X: add_noise(X, -0.1),
    lambda X: add_noise(X, float("nan")),
    lambda X: rotate(X, float("inf")),
])
def test_bad_arguments_are_refused_in_words(call):
    with pytest.raises(ValueError):
        call(_images())


@pytest.fixture(scope="module")
def trained(sample):
    net = MLP([784, 32, 10], seed=0)
    trainer = Trainer(net, sample.X_train, sample.y_train,
                      TrainConfig(optimizer="momentum", lr=0.1, batch_size=64, epochs=3,
                                  schedule="constant"))
    for _ in trainer.run():
        pass
    return net


def test_sweep_at_zero_reproduces_the_plain_accuracy(trained, sample):
    X, y = sample.X_test[:300], sample.y_test[:300]
    result = sweep(trained, X, y, seed=0)
    plain = trained.accuracy(X, y)
    assert result.plain == plain > 0.8
    assert result.noise[1][list(NOISE_LEVELS).index(0.0)] == plain
    assert result.shift_x[1][list(SHIFT_LEVELS).index(0)] == plain
    assert result.shift_y[1][list(SHIFT_LEVELS).index(0)] == plain
    assert result.rotation[1][list(ROTATION_LEVELS).index(0)] == plain
    # each curve is the accuracy on the perturbed digits, seeded: the same numbers again
    assert result.noise[1][5] == trained.accuracy(add_noise(X, NOISE_LEVELS[5], seed=0), y)
    assert result.rotation[1][0] == trained.accuracy(rotate(X, ROTATION_LEVELS[0]), y)
    np.testing.assert_array_equal(sweep(trained, X, y, seed=0).noise[1], result.noise[1])
    # a trained network loses accuracy under large perturbations
    assert result.noise[1][-1] < plain - 0.1 and result.shift_x[1][0] < plain - 0.1
    assert result.rotation[1][-1] < plain - 0.1


def test_sweep_of_a_diverged_network_says_so(sample):
    net = MLP([784, 8, 10])
    net.weights[1][:] = np.inf
    with pytest.raises(ValueError, match="diverged"):
        sweep(net, sample.X_test[:20], sample.y_test[:20])
