"""dashboard.figures.mistakes: the confusion matrix, its clicks, per-digit accuracy and the
gallery of mistakes."""

import numpy as np

from dashboard.figures.images import CAPTION
from dashboard.figures.mistakes import (
    cell_from_selection,
    confusion_figure,
    mistakes_figure,
    per_digit_accuracy_figure,
)
from mnist_np.metrics import confusion_matrix


def test_confusion_figure_cells_carry_true_and_predicted():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], n_classes=3)
    fig = confusion_figure(cm, selected=(2, 0))
    heat, cells = fig.data
    np.testing.assert_array_equal(np.asarray(heat.z), cm)
    assert heat.zmax == 1  # the largest mistake count, not the diagonal's
    assert len(cells.customdata) == 9 and list(cells.customdata[5]) == [1, 2]
    assert (cells.x[5], cells.y[5]) == (2, 1)  # drawn where the heatmap shows cm[1, 2]
    assert cells.marker.opacity < 0.05  # invisible, but clickable
    rect = fig.layout.shapes[0]
    assert (rect.x0, rect.y0) == (-0.5, 1.5)


def test_cell_from_selection_reads_both_customdata_forms():
    assert cell_from_selection({"points": [{"curve_number": 1, "customdata": [3, 5]}]}) == (3, 5)
    assert cell_from_selection({"points": [{"customdata": {"0": 4, "1": 9}}]}) == (4, 9)
    assert cell_from_selection({"points": [{"x": 1}], "box": []}) is None
    assert cell_from_selection({"points": []}) is None and cell_from_selection(None) is None


def test_per_digit_accuracy_and_gallery():
    acc = per_digit_accuracy_figure([1.0, 0.5, 0.25])
    assert list(acc.data[0].text) == ["100.0%", "50.0%", "25.0%"]
    images = np.random.default_rng(0).random((3, 16))
    fig = mistakes_figure(images, [1, 2, 3], [7, 5, 8], [0.9, 0.8, 0.5], cols=2)
    grid = np.asarray(fig.data[0].z, float)
    np.testing.assert_allclose(grid[CAPTION:CAPTION + 4, :4], images[0].reshape(4, 4),
                               rtol=1e-6)  # under its caption
    assert [a.text for a in fig.layout.annotations] == [
        "<b>1</b> → 7 (90%)", "<b>2</b> → 5 (80%)", "<b>3</b> → 8 (50%)"]
    none = mistakes_figure(np.zeros((0, 16)), [], [], [])
    assert none.layout.annotations[0].text == "no mistakes here"


def test_per_digit_accuracy_zooms_to_the_digits_and_says_so():
    acc = per_digit_accuracy_figure([0.99, 0.985, 0.97, 0.975, 0.98, 0.972, 0.984, 0.976,
                                     0.962, 0.968])
    y = acc.layout.yaxis
    assert 0.9 <= y.range[0] < 0.962 and y.range[1] >= 0.99
    assert "not 0" in y.title.text
    low = per_digit_accuracy_figure([0.2, 0.9]).layout.yaxis
    assert low.range[0] == 0 and "not 0" not in (low.title.text or "")
