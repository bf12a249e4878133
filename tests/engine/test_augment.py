"""Augmentation while training (mnist_np.augment): each transform on images whose answer is
known, vectorised over a batch (per-image amounts equal one image at a time), deterministic
for a seed; and the trainer's use of it."""

import numpy as np
import pytest

from mnist_np import MLP, ConfigError, TrainConfig, Trainer
from mnist_np.augment import (
    LIMITS,
    Augmentation,
    add_noise,
    augment,
    bilinear,
    displacement,
    elastic,
    gaussian_matrix,
    rotate,
    scale,
    shift,
    smooth,
)
from mnist_np.preprocess import centre_of_mass

ALL = Augmentation(shift=2, rotate=15, scale=0.1, elastic=34, noise=0.1)


def blob(n=3, side=28, seed=0):
    """Smooth blobs well inside the field (so shifts and turns lose no mass)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:side, 0:side]
    out = []
    for _ in range(n):
        r, c = rng.uniform(11, 16, 2)
        out.append(np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / 6.0))
    return np.array(out, np.float32).reshape(n, -1)


def com(row: np.ndarray) -> np.ndarray:
    side = int(np.sqrt(row.size))
    return np.array(centre_of_mass(row.reshape(side, side)))


@pytest.mark.parametrize("dx,dy", [(1, 0), (0, 1), (-3, 2), (4, -4)])
def test_a_shift_by_k_moves_the_centre_of_mass_by_k(dx, dy):
    X = blob()
    moved = shift(X, dx, dy)
    for before, after in zip(X, moved):
        np.testing.assert_allclose(com(after) - com(before), [dy, dx], atol=1e-4)
        np.testing.assert_allclose(after.sum(), before.sum(), rtol=1e-5)


def test_a_whole_pixel_shift_moves_pixels_exactly():
    X = blob(2)
    images = X.reshape(-1, 28, 28)
    moved = shift(X, 3, -2).reshape(-1, 28, 28)
    np.testing.assert_array_equal(moved[:, :-2, 3:], images[:, 2:, :-3])
    assert not moved[:, :, :3].any() and not moved[:, -2:, :].any()  # came from outside: 0


def test_a_fractional_shift_interpolates():
    X = blob(2)
    half = shift(X, 0.5, 0)
    np.testing.assert_allclose(half, (X + shift(X, 1, 0)) / 2, atol=1e-6)


def test_rotation_scale_and_elastic_of_zero_are_the_identity():
    X = blob(4)
    np.testing.assert_array_equal(rotate(X, 0), X)
    np.testing.assert_array_equal(shift(X, 0, 0), X)
    np.testing.assert_array_equal(scale(X, 1), X)
    np.testing.assert_array_equal(elastic(X, 0, rng=np.random.default_rng(1)), X)


def test_rotations_by_quarter_turns_are_exact_and_counterclockwise():
    X = np.random.default_rng(2).random((3, 28 * 28), dtype=np.float32)
    images = X.reshape(-1, 28, 28)
    np.testing.assert_allclose(rotate(X, 90).reshape(-1, 28, 28), np.rot90(images, 1, (1, 2)),
                               atol=1e-5)
    np.testing.assert_allclose(rotate(X, -90).reshape(-1, 28, 28),
                               np.rot90(images, -1, (1, 2)), atol=1e-5)


def test_a_rotation_keeps_the_centre_of_mass_of_a_centred_shape():
    rows, cols = np.mgrid[0:28, 0:28]
    bar = ((abs(rows - 13.5) < 6) & (abs(cols - 13.5) < 2)).astype(np.float32).reshape(1, -1)
    turned = rotate(bar, 30)
    np.testing.assert_allclose(com(turned[0]), [13.5, 13.5], atol=1e-3)
    # the bar now leans left at the top (counterclockwise on screen)
    top = turned.reshape(28, 28)[8]
    assert top[:14].sum() > top[14:].sum()


def test_scaling_spreads_the_mass_about_the_centre():
    X = blob(3)
    for factor in (0.8, 1.25):
        out = scale(X, factor)
        for before, after in zip(X, out):
            # a point at distance d from the centre moves to factor·d
            np.testing.assert_allclose(com(after) - 13.5, factor * (com(before) - 13.5),
                                       atol=0.05)
            # the mass grows with the area (pixels of the same brightness, factor² as many)
            np.testing.assert_allclose(after.sum(), before.sum() * factor ** 2, rtol=0.02)
    with pytest.raises(ValueError, match="> 0"):
        scale(X, 0)


def test_per_image_amounts_equal_one_image_at_a_time():
    X = blob(3)
    angles, dx, factors = [10.0, -20.0, 5.0], [1.5, -2.0, 0.0], [0.9, 1.1, 1.0]
    batch_r, batch_s, batch_f = rotate(X, angles), shift(X, dx, 0), scale(X, factors)
    for i in range(3):
        np.testing.assert_array_equal(batch_r[i], rotate(X[i:i + 1], angles[i])[0])
        np.testing.assert_array_equal(batch_s[i], shift(X[i:i + 1], dx[i], 0)[0])
        np.testing.assert_array_equal(batch_f[i], scale(X[i:i + 1], factors[i])[0])


def test_bilinear_reads_pixels_corners_and_zero_outside():
    images = np.arange(2 * 9, dtype=np.float64).reshape(2, 3, 3)
    rows = np.array([[[0.0, 1.0, 0.5]], [[2.0, -5.0, 0.5]]])
    cols = np.array([[[0.0, 2.0, 0.5]], [[2.0, 1.0, 10.0]]])
    out = bilinear(images, rows, cols)
    np.testing.assert_allclose(out[0, 0], [0.0, 5.0, (0 + 1 + 3 + 4) / 4])
    np.testing.assert_allclose(out[1, 0], [17.0, 0.0, 0.0])
    # half a pixel beyond the edge blends with the zero outside
    edge = bilinear(images, np.array([[[1.0]]] * 2), np.array([[[2.5]]] * 2))
    np.testing.assert_allclose(edge[:, 0, 0], [5 / 2, 14 / 2])


def test_the_smoothing_is_a_normalised_separable_gaussian():
    G = gaussian_matrix(41, 2.0)
    np.testing.assert_allclose(G.sum(axis=1)[15:26], 1.0, atol=1e-6)  # away from the edges
    np.testing.assert_allclose(G, G.T)
    impulse = np.zeros((1, 41, 41))
    impulse[0, 20, 20] = 1.0
    out = smooth(impulse, 2.0)[0]
    np.testing.assert_allclose(out, np.outer(G[20], G[20]), atol=1e-12)  # separable
    np.testing.assert_allclose(out.sum(), 1.0, atol=1e-6)
    rows = np.mgrid[0:41, 0:41][0]
    variance = (out * (rows - 20.0) ** 2).sum()
    np.testing.assert_allclose(variance, 4.0, rtol=1e-3)  # σ²
    np.testing.assert_allclose((out * rows).sum(), 20.0, atol=1e-9)


def test_displacement_fields_are_smooth_and_scale_with_alpha():
    d_rows, d_cols = displacement(64, 28, 1.0, 4.0, np.random.default_rng(3))
    assert d_rows.shape == d_cols.shape == (64, 28, 28)
    again = displacement(64, 28, 10.0, 4.0, np.random.default_rng(3))
    np.testing.assert_allclose(again[0], 10 * d_rows, rtol=1e-5, atol=1e-6)
    # smooth: neighbours move together (a raw uniform field's neighbours are uncorrelated)
    a, b = d_rows[:, 10:18, 10:17].ravel(), d_rows[:, 10:18, 11:18].ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.95


def test_elastic_distortion_moves_pixels_about_a_pixel_at_simards_settings():
    # uniform [-1, 1] has σ = 1/√3; a 2-D Gaussian of σ = 4 divides that by 2√π·4 ≈ 14.2,
    # so α = 34 moves a pixel by about 34 / (√3 · 14.2) ≈ 1.4 pixels (less near the edges)
    d_rows, d_cols = displacement(200, 28, 34, 4.0, np.random.default_rng(4))
    middle = np.concatenate([d_rows[:, 8:20, 8:20], d_cols[:, 8:20, 8:20]])
    assert 1.2 < middle.std() < 1.6 and abs(middle.mean()) < 0.05
    X = blob(50)
    out = elastic(X, 34, 4.0, np.random.default_rng(4))
    assert not np.allclose(out, X, atol=0.05)
    # it squeezes some places and stretches others: the ink's amount holds on average
    np.testing.assert_allclose(out.sum() / X.sum(), 1.0, atol=0.1)


def test_noise_is_gaussian_and_clipped():
    X = np.full((50, 784), 0.5, np.float32)
    noisy = add_noise(X, 0.1, np.random.default_rng(5))
    assert noisy.dtype == np.float32 and noisy.shape == X.shape
    np.testing.assert_allclose((noisy - X).std(), 0.1, rtol=0.02)
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert add_noise(X, 3.0, np.random.default_rng(5)).min() == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("aug", [Augmentation(shift=3), Augmentation(rotate=30),
                                 Augmentation(scale=0.3), Augmentation(elastic=40),
                                 Augmentation(noise=0.5), ALL], ids=repr)
def test_every_transform_keeps_shape_dtype_and_range_and_leaves_the_input(sample, aug, dtype):
    X = sample.X_train[:64].astype(dtype)
    kept = X.copy()
    out = aug(X, np.random.default_rng(6))
    assert out.shape == X.shape and out.dtype == dtype
    assert out.min() >= 0 and out.max() <= 1 and np.all(np.isfinite(out))
    np.testing.assert_array_equal(X, kept)
    assert not np.shares_memory(out, X)


def test_the_same_seed_gives_the_same_batch_and_another_seed_another(sample):
    X = sample.X_train[:32]
    a = augment(X, np.random.default_rng(7), ALL)
    b = augment(X, np.random.default_rng(7), ALL)
    c = augment(X, np.random.default_rng(8), ALL)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # each image gets its own amounts: two copies of one digit come out different
    twins = augment(np.repeat(X[:1], 2, axis=0), np.random.default_rng(7), ALL)
    assert not np.array_equal(twins[0], twins[1])


def test_nothing_on_is_a_copy(sample):
    X = sample.X_train[:8]
    out = augment(X, np.random.default_rng(0), Augmentation())
    np.testing.assert_array_equal(out, X)
    assert not Augmentation().active and ALL.active and not Augmentation(noise=0.1).geometric


@pytest.mark.parametrize("field,value", [("shift", -1), ("rotate", 91), ("scale", 0.6),
                                         ("elastic", float("nan")), ("noise", "0.1"),
                                         ("noise", True)])
def test_amounts_out_of_range_are_refused_in_one_line(field, value):
    with pytest.raises(ValueError, match=f"the {field} augmentation must be a number in "
                                         rf"\[0, {LIMITS[field]:g}\]"):
        Augmentation(**{field: value})
    with pytest.raises(ConfigError, match=field):
        TrainConfig(**{f"aug_{field}": value})


def test_images_that_are_not_square_rows_are_refused():
    with pytest.raises(ValueError, match="not a square image"):
        shift(np.zeros((2, 10), np.float32), 1, 0)
    with pytest.raises(ValueError, match="rows"):
        rotate(np.zeros((2, 28, 28), np.float32), 10)


def make(sample, **aug):
    config = TrainConfig(lr=0.05, batch_size=64, epochs=2, train_limit=256, val_size=100,
                         seed=3, **aug)
    return Trainer(MLP([784, 16, 10], seed=1), sample.X_train, sample.y_train, config)


def test_training_with_augmentation_sees_distorted_batches_and_keeps_its_data(sample):
    X_before = sample.X_train.copy()
    plain, augmented = make(sample), make(sample, aug_rotate=20, aug_noise=0.2)
    a, b = plain.step(), augmented.step()
    assert a.loss != b.loss  # the same batch (the same shuffle), distorted
    np.testing.assert_array_equal(sample.X_train, X_before)
    list(augmented.run())
    assert augmented.finished and not augmented.diverged
    again = make(sample, aug_rotate=20, aug_noise=0.2)
    list(again.run())
    for x, y in zip(augmented.net.weights, again.net.weights):
        np.testing.assert_array_equal(x, y)  # a seed repeats a run exactly
    # the shuffle is its own: augmentation does not change which images come when
    np.testing.assert_array_equal(plain._order, make(sample, aug_shift=2)._order)
