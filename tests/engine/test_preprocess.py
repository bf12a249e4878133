"""Drawn digits to MNIST's format, as a pure function: crop, 20×20 box, centre of mass."""

import numpy as np
import pytest

from mnist_np.preprocess import (
    BOX,
    CENTRE,
    area_weights,
    as_intensity,
    centre_of_mass,
    ink_box,
    to_mnist,
)


def disk(size: int, row: float, col: float, radius: float) -> np.ndarray:
    """A white disk on black, uint8 ``(size, size)``, as the canvas sends it."""
    r, c = np.mgrid[0:size, 0:size]
    return np.where((r - row) ** 2 + (c - col) ** 2 <= radius**2, 255, 0).astype(np.uint8)


def extent(a: np.ndarray) -> tuple[int, int]:
    rows, cols = ink_box(a, threshold=0.0)
    return rows.stop - rows.start, cols.stop - cols.start


def near_centre(row: float, col: float) -> bool:
    """Within half a pixel of MNIST's centre: shifts are whole pixels, as in MNIST."""
    return abs(row - CENTRE) <= 0.5 + 1e-5 and abs(col - CENTRE) <= 0.5 + 1e-5


def test_an_empty_canvas_gives_no_digit():
    assert to_mnist(np.zeros((140, 140), np.uint8)) is None
    faint = np.full((140, 140), 20, np.uint8)  # below the ink threshold everywhere
    assert to_mnist(faint) is None


def test_a_centred_blob_stays_centred_and_fills_the_box():
    out = to_mnist(disk(140, 69.5, 69.5, 30))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == pytest.approx(1.0)
    row, col = centre_of_mass(out)
    assert near_centre(row, col)
    assert extent(out) == (BOX, BOX)
    np.testing.assert_allclose(out, out.T, atol=1e-6)  # a disk stays round


def test_an_off_centre_digit_is_recentred():
    corner = to_mnist(disk(140, 25, 110, 12))
    centred = to_mnist(disk(140, 70, 70, 12))  # the same disk, pixel for pixel
    row, col = centre_of_mass(corner)
    assert near_centre(row, col)
    np.testing.assert_allclose(corner, centred, atol=0.05)


def test_the_aspect_ratio_is_kept():
    bar = np.zeros((140, 140), np.uint8)
    bar[20:120, 60:80] = 255  # 100 tall, 20 wide: a "1"
    out = to_mnist(bar)
    assert extent(out) == (20, 4)
    row, col = centre_of_mass(out)
    assert near_centre(row, col)


def test_lopsided_ink_is_moved_back_inside_rather_than_cut():
    shape = np.zeros((100, 100), np.uint8)
    shape[0:100, 0:30] = 255   # a thick bar on the left ...
    shape[50, 30:100] = 255    # ... and a hair-thin line to the right
    out = to_mnist(shape)
    scaled = area_weights(100, 20) @ (shape / 255.0) @ area_weights(100, 20).T
    scaled /= scaled.max()
    _, col = centre_of_mass(out)
    assert col < CENTRE - 3  # its centre of mass cannot reach 14 without cutting ink
    assert out[:, -1].sum() > 0  # pushed against the right edge ...
    assert out.sum() == pytest.approx(scaled.sum(), rel=1e-5)  # ... with all its ink


def test_uint8_and_float_input_agree_and_bad_input_is_refused():
    drawing = disk(60, 20, 35, 9)
    np.testing.assert_allclose(to_mnist(drawing), to_mnist(drawing / 255.0), atol=1e-6)
    for bad, words in [(np.zeros((3, 4, 4)), "2-D"), (np.full((5, 5), np.nan), "[0, 1]"),
                       (np.full((5, 5), 2.0), "[0, 1]"), (np.array([["a"]]), "numbers")]:
        with pytest.raises(ValueError, match=r"\S") as e:
            as_intensity(bad)
        assert words in str(e.value)


def test_area_weights_average_areas():
    R = area_weights(10, 5)
    np.testing.assert_allclose(R.sum(axis=1), 1.0)
    x = np.arange(10.0)
    np.testing.assert_allclose(R @ x, [0.5, 2.5, 4.5, 6.5, 8.5])
    np.testing.assert_allclose(area_weights(7, 3) @ np.ones(7), 1.0)
    up = area_weights(2, 4) @ np.array([0.0, 1.0])
    np.testing.assert_allclose(up, [0, 0, 1, 1])


def _drawn_like(x28: np.ndarray, shift: tuple[int, int]) -> np.ndarray:
    """An MNIST digit as someone might draw it: 5× larger, somewhere on a 200×200 canvas."""
    big = np.kron(x28.reshape(28, 28), np.ones((5, 5)))
    canvas = np.zeros((200, 200))
    canvas[shift[0]:shift[0] + 140, shift[1]:shift[1] + 140] = big
    return canvas


def test_mnist_digits_drawn_large_and_off_centre_come_back_as_they_were(sample):
    X = sample.X_test[:200]
    back = np.array([to_mnist(_drawn_like(x, (55, 3))).ravel() for x in X])
    corr = [np.corrcoef(a, b)[0, 1] for a, b in zip(X, back)]
    assert np.median(corr) > 0.95 and min(corr) > 0.8


def test_a_trained_network_reads_preprocessed_digits_as_well_as_raw_ones(sample, trained):
    net = trained  # tests/conftest.py: 784-64-10, 4 epochs on the sample
    X, y = sample.X_test[:300], sample.y_test[:300]
    shifts = [(0, 60), (60, 0), (30, 30), (59, 59)]
    drawn = np.array([to_mnist(_drawn_like(x, shifts[i % 4])).ravel() for i, x in enumerate(X)])
    raw_acc, drawn_acc = net.accuracy(X, y), net.accuracy(drawn, y)
    assert raw_acc > 0.85
    assert drawn_acc > raw_acc - 0.04


# -- photos (mnist_np.preprocess.photo_steps) ---------------------------------------------
from mnist_np.preprocess import mass_box, otsu_threshold, photo_steps  # noqa: E402

from ..photos import photographed  # noqa: E402


def test_otsu_splits_two_shades_between_them():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.normal(0.2, 0.03, 5000), rng.normal(0.7, 0.05, 1000)]).clip(0, 1)
    assert 0.3 < otsu_threshold(a) < 0.55


def test_the_mass_box_leaves_a_speck_far_away_out():
    a = np.zeros((100, 100))
    a[40:60, 45:55] = 1.0
    a[2, 97] = 0.5  # dust: 0.25% of the mass
    rows, cols = mass_box(a)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (40, 60, 45, 55)
    assert mass_box(np.zeros((5, 5))) is None


@pytest.mark.parametrize("dark_on_light", [True, False], ids=["dark ink", "light ink"])
def test_a_photographed_digit_comes_back_as_the_digit_it_was(sample, dark_on_light):
    for i in range(5):
        x = sample.X_test[i]
        steps = photo_steps(photographed(x, dark_on_light, seed=i))
        assert steps.inverted == dark_on_light and not steps.problem
        assert steps.field.shape == (28, 28) and steps.field.dtype == np.float32
        assert steps.field.min() >= 0 and steps.field.max() == 1
        assert near_centre(*centre_of_mass(steps.field))
        assert max(steps.boxed.shape) == BOX
        assert steps.cleaned.shape == steps.grey.shape == (360, 300)
        # the paper (lit unevenly, noisy, dusty) is gone: the digit is what is left
        again = to_mnist(x.reshape(28, 28))
        assert np.corrcoef(steps.field.ravel(), again.ravel())[0, 1] > 0.8, i


def test_a_trained_network_reads_photographed_digits(sample, trained):
    X = sample.X_test[:40]
    fields = np.array([photo_steps(photographed(x, seed=i)).field.ravel()
                       for i, x in enumerate(X)])
    photo_acc = float(np.mean(trained.predict(fields) == sample.y_test[:40]))
    raw_acc = float(np.mean(trained.predict(X) == sample.y_test[:40]))
    assert photo_acc >= raw_acc - 0.1, (photo_acc, raw_acc)


def test_a_blank_photo_says_there_is_no_digit():
    rng = np.random.default_rng(1)
    blank = np.round(200 + rng.normal(0, 2, (100, 80))).astype(np.uint8)
    steps = photo_steps(blank)
    assert steps.field is None and steps.cropped is None
    assert steps.problem == "the image is nearly one shade: there is no digit to see"
    with pytest.raises(ValueError, match="2-D grey image"):
        photo_steps(np.zeros((4, 4, 3), np.uint8))
