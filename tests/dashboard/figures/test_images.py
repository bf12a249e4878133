"""dashboard.figures.images (and the layer names of .base): sides, tiles and the gallery."""

import numpy as np
import pytest

from dashboard.figures.base import layer_name, weight_name
from dashboard.figures.images import gallery_figure, side, tile


def test_names_sides_and_tiles():
    assert weight_name(0, [784, 256, 10]) == "W1: input → hidden 1 (784×256)"
    assert weight_name(1, [784, 256, 10]) == "W2: hidden 1 → output (256×10)"
    assert [layer_name(l, 2) for l in range(3)] == ["input", "hidden 1", "output"]
    assert side(784) == 28
    with pytest.raises(ValueError):
        side(10)
    grid = tile(np.ones((5, 2, 3)), cols=2, gap=1)
    assert grid.shape == (3 * 3 - 1, 2 * 4 - 1)
    assert np.nansum(grid) == 5 * 6 and np.isnan(grid[2, 0]) and np.isnan(grid[0, 3])


def test_gallery_places_each_image_under_its_caption():
    images = np.zeros((3, 784))
    images[1, 0] = 1.0  # the top-left pixel of the second image
    fig = gallery_figure(images, ["a", "b", "c"], cols=2)
    z = np.array(fig.data[0].z, dtype=float)
    assert z.shape == (2 * (28 + 9), 2 * 28 + 3)
    assert z[9, 31] == 1.0 and np.nansum(z) == 1.0  # row 0 after the caption band, column 1
    assert np.isnan(z[0, 0]) and np.isnan(z[40, 40])  # caption band, empty 4th place
    assert [a.text for a in fig.layout.annotations] == ["a", "b", "c"]
