"""dashboard.figures.weights on a tiny network with 4×4-pixel inputs."""

import numpy as np
import pytest

from dashboard.figures.weights import (
    histogram_figure,
    matrix_figure,
    receptive_fields_figure,
    spread_figure,
    units_shown,
)

from .conftest import title_text


def test_matrix_figure_is_the_matrix_centred_at_zero(net):
    W = net.weights[0]
    fig = matrix_figure(W, "W1")
    heat = fig.data[0]
    np.testing.assert_allclose(np.asarray(heat.z), W)
    assert heat.zmid == 0 and heat.zmin == -heat.zmax == -np.abs(W).max()
    # a cell budget keeps only the first columns, and the title says so
    small = matrix_figure(W, "W1", max_cells=16 * 4)
    assert np.asarray(small.data[0].z).shape == (16, 4) and "first 4 of 6" in title_text(small)
    assert units_shown(784, 256) == 128 and units_shown(256, 10) == 10


def test_receptive_fields_are_each_units_weights_as_an_image(net):
    W = net.weights[0]  # (16, 6): six 4×4 fields in a 3×3 grid
    fig = receptive_fields_figure(W)
    z = np.asarray(fig.data[0].z, float)
    assert z.shape == (2 * 5 - 1, 3 * 5 - 1)
    for j in range(6):
        r, c = divmod(j, 3)
        field = z[r * 5:r * 5 + 4, c * 5:c * 5 + 4]
        np.testing.assert_allclose(field, W[:, j].reshape(4, 4) / np.abs(W[:, j]).max(),
                                   rtol=1e-6)
    assert "all 6 units" in title_text(fig)
    capped = receptive_fields_figure(W, max_units=4)
    assert np.asarray(capped.data[0].z).shape == (9, 9) and "first 4 of 6" in title_text(capped)
    with pytest.raises(ValueError):
        receptive_fields_figure(net.weights[1])  # 6 inputs are no image


def test_histograms_share_bins_and_count_every_finite_value():
    a, b = np.linspace(-1, 1, 100), np.array([0.0, 0.5, np.nan, np.inf])
    fig = histogram_figure([("now", a), ("start", b)], "Weights", "weight", bins=10)
    assert [t.name for t in fig.data] == ["now", "start"]
    assert list(fig.data[0].x) == list(fig.data[1].x) and len(fig.data[0].x) == 10
    assert sum(fig.data[0].y) == 100 and sum(fig.data[1].y) == 2
    assert fig.data[0].fill == "tozeroy"
    empty = histogram_figure([("now", np.array([np.nan]))], "Weights", "weight")
    assert not empty.data and empty.layout.annotations[0].text == "no finite values"
    zeros = histogram_figure([("biases", np.zeros(5))], "Biases", "bias")  # all equal
    assert sum(zeros.data[0].y) == 5


def test_spread_figure_gives_each_layers_std(net):
    later = [2 * W for W in net.weights]
    fig = spread_figure([0, 100], [net.weights, later])
    assert [t.name for t in fig.data] == ["W1", "W2", "W3"]
    np.testing.assert_allclose(fig.data[1].y, [np.std(net.weights[1]), 2 * np.std(net.weights[1])],
                               rtol=1e-6)


def test_a_wide_matrix_shows_a_round_share_of_its_columns():
    # 100,000 cells of 784 rows made "W1: first 127 of 256 columns", read as a bug
    assert units_shown(784, 256) == 128 and units_shown(784, 512) == 128
    assert units_shown(784, 100) == 100 and units_shown(784, 127) == 127
    assert units_shown(16, 6, max_cells=64) == 4
