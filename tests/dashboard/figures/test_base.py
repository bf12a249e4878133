"""dashboard.figures.base: the layout helper, "nothing to plot" figures and the series
helpers (moving average, thinning, log axes). Layer and weight names are tested in
test_images.py."""

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard.figures.base import (
    LOG_TICKS,
    MARGIN,
    MAX_DECADES,
    empty,
    layout,
    log_y_axis,
    smooth,
    thin,
)


def test_layout_sets_titles_height_legend_and_keeps_the_users_zoom():
    fig = go.Figure()
    assert layout(fig, "Loss", x="step", y="loss", height=420, legend_y=-0.3) is fig
    lay = fig.layout
    assert (lay.title.text, lay.xaxis.title.text, lay.yaxis.title.text) == ("Loss", "step",
                                                                           "loss")
    assert lay.height == 420 and lay.legend.orientation == "h" and lay.legend.y == -0.3
    assert lay.uirevision == "Loss"  # one per chart: a redraw with the same title keeps zoom
    assert (lay.margin.l, lay.margin.r, lay.margin.t, lay.margin.b) == (
        MARGIN["l"], MARGIN["r"], MARGIN["t"], MARGIN["b"])
    plain = layout(go.Figure(), "Accuracy").layout
    assert plain.height == 340 and plain.legend.y == -0.2 and plain.uirevision == "Accuracy"
    assert not plain.xaxis.title.text and not plain.yaxis.title.text


def test_an_empty_figure_says_why_in_its_middle():
    fig = empty(go.Figure(), "Train the network first.")
    (note,) = fig.layout.annotations
    assert note.text == "Train the network first."
    assert (note.x, note.y, note.xref, note.yref, note.showarrow) == (0.5, 0.5, "paper",
                                                                      "paper", False)
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert len(fig.data) == 0


@pytest.mark.parametrize("n, window", [(1, 25), (7, 3), (40, 25), (100, 1), (10, 50)])
def test_smooth_is_the_trailing_mean(n, window):
    values = np.random.default_rng(n).normal(size=n) * 10
    by_hand = [values[max(0, i - window + 1):i + 1].mean() for i in range(n)]
    result = smooth(list(values), window)
    assert isinstance(result, np.ndarray) and result.shape == (n,)
    np.testing.assert_allclose(result, by_hand, rtol=1e-12, atol=1e-12)


def test_smooth_of_nothing_is_nothing():
    assert smooth([]).shape == (0,)


@pytest.mark.parametrize("n, max_points", [(500, 500), (501, 500), (1000, 500), (1234, 100),
                                           (99_999, 500), (7, 3)])
def test_thin_keeps_the_ends_at_most_about_max_points_and_the_columns_aligned(n, max_points):
    steps = np.arange(1, n + 1)
    losses = [2.0 * s for s in steps]  # a list, as the engine's history gives it
    xs, ys = thin(steps, losses, max_points=max_points)
    assert isinstance(ys, np.ndarray)
    assert xs[0] == 1 and xs[-1] == n  # the newest point is always drawn
    assert len(xs) == len(ys) <= max_points + 1
    assert len(xs) >= min(n, max_points // 2)  # thinned, not emptied
    np.testing.assert_array_equal(ys, 2.0 * xs)
    assert np.all(np.diff(xs) > 0)
    strides = np.diff(xs[:-1])  # even spacing, except before the kept last point
    assert len(set(strides.tolist())) <= 1


def test_thin_leaves_short_series_alone():
    xs, ys = thin([3, 1, 2], np.array([0.5, 0.25, 1.0]))
    np.testing.assert_array_equal(xs, [3, 1, 2])
    np.testing.assert_array_equal(ys, [0.5, 0.25, 1.0])


def test_log_axes_label_1_2_5_of_each_decade_while_the_data_spans_few():
    fig = log_y_axis(go.Figure(), [0.012, 0.3, 2.4])
    y = fig.layout.yaxis
    assert y.type == "log" and list(y.tickvals) == LOG_TICKS and y.dtick is None
    assert {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0} <= set(y.tickvals)
    six = log_y_axis(go.Figure(), [1e-3, 1e3]).layout.yaxis  # MAX_DECADES exactly: still fine
    assert MAX_DECADES == 6 and list(six.tickvals) == LOG_TICKS
    coarse = log_y_axis(go.Figure(), [0.012, 0.3, 2.4], fine=False).layout.yaxis
    assert coarse.tickvals is None and coarse.dtick == 1 and coarse.exponentformat == "power"


@pytest.mark.parametrize("low, high, dtick", [
    (1e-3, 1.5e3, 2),    # 6.2 decades, all within the 1-2-5 labels: too many of them
    (1e-3, 1e20, math.ceil(23 / MAX_DECADES)),  # a diverging loss: a label every 4 powers
    (6e3, 7e4, 1),       # few decades, but past the largest 1-2-5 label (5000)
    (1e-9, 1e-8, 1),     # below the smallest
])
def test_log_axes_label_powers_of_ten_beyond_the_fine_range(low, high, dtick):
    y = log_y_axis(go.Figure(), np.array([[low, high], [low * 2, high / 2]])).layout.yaxis
    assert y.type == "log" and y.tickvals is None
    assert y.dtick == dtick and y.exponentformat == "power"


def test_log_axes_ignore_values_a_log_axis_cannot_draw():
    fine = log_y_axis(go.Figure(), [0.0, -1.0, np.nan, np.inf, 0.05, 0.5]).layout.yaxis
    assert list(fine.tickvals) == LOG_TICKS  # 0.05 to 0.5 decides, not the 0 or the inf
    for nothing in ([], [0.0, -2.0], [np.nan, np.inf, -np.inf]):
        y = log_y_axis(go.Figure(), nothing).layout.yaxis
        assert y.type == "log" and y.tickvals is None and y.dtick is None
