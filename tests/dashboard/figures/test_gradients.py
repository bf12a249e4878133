"""dashboard.figures.gradients: per-layer curves, update ratios, saturation and bars."""

import numpy as np

from dashboard.figures.gradients import (
    HEALTHY_RATIO,
    layer_bars_figure,
    layer_curves_figure,
    saturation_figure,
    update_ratio_figure,
)

from .conftest import title_text


def test_layer_curves_one_line_per_layer_on_log_scale():
    steps = np.arange(1, 21)
    values = np.column_stack([np.full(20, 1e-3), np.full(20, 1.0)])
    fig = layer_curves_figure(steps, values, ["W1", "W2"], "Gradients", "norm")
    assert [t.name for t in fig.data] == ["W1", "W2"] and fig.layout.yaxis.type == "log"
    np.testing.assert_allclose(fig.data[0].y, 1e-3)
    ratio = update_ratio_figure(steps, values, ["W1", "W2"])
    assert ratio.layout.shapes[0].y0 == HEALTHY_RATIO
    assert ratio.layout.annotations[0].y == np.log10(HEALTHY_RATIO)  # log axis: log units
    sat = saturation_figure(steps, values[:, :1], ["hidden 1"], "dead")
    assert sat.layout.yaxis.type != "log" and list(sat.layout.yaxis.range) == [-0.02, 1.02]
    assert "dead" in title_text(sat)
    none = layer_curves_figure([], np.zeros((0, 2)), ["W1", "W2"], "Gradients", "norm")
    assert not none.data and none.layout.annotations[0].text == "no training steps yet"
    no_hidden = saturation_figure(steps, np.zeros((20, 0)), [], "dead")
    assert no_hidden.layout.annotations[0].text == "no hidden layers"
    assert fig.layout.yaxis.dtick == 1  # 3 decades: every power of ten labelled
    exploding = np.column_stack([np.logspace(0, 20, 20), np.logspace(1, 18, 20)])
    wide = layer_curves_figure(steps, exploding, ["W1", "W2"], "Gradients", "norm")
    assert wide.layout.yaxis.dtick == 4  # 20 decades: a label every 4, not 20 crowded


def test_layer_curves_thin_a_long_history_but_average_over_all_of_it():
    steps = np.arange(1, 2001, dtype=float)
    values = np.column_stack([np.arange(2000.0) % 2, np.full(2000, 3.0)])  # 0, 1, 0, 1, ...
    fig = layer_curves_figure(steps, values, ["W1", "W2"], "Gradients", "norm", log_y=False)
    for line in fig.data:
        assert 400 <= len(line.x) <= 501 and line.x[-1] == 2000  # the last step is kept
    # averaged over every step before thinning: a window of 10 alternating 0/1 is 0.5,
    # while every 4th point alone would be all 0
    np.testing.assert_allclose(fig.data[0].y[5:], 0.5)
    np.testing.assert_allclose(fig.data[1].y, 3.0)


def test_layer_bars_label_each_layer():
    fig = layer_bars_figure(["hidden 1", "hidden 2"], [0.25, 1.0], "Dead now", "fraction",
                            percent=True)
    assert list(fig.data[0].x) == ["hidden 1", "hidden 2"]
    assert list(fig.data[0].text) == ["25%", "100%"]
    assert layer_bars_figure([], [], "Dead now", "fraction").layout.annotations


def test_bars_for_inf_and_nan_are_drawn_at_the_top_and_labelled():
    # after "Show exploding gradients" W3 and W4 were absent with no label: read as zero
    fig = layer_bars_figure(["W1", "W2", "W3", "W4"], [1e-2, 1.0, np.inf, np.nan],
                            "Gradient magnitude now", "norm", log_y=True)
    y = [float(v) for v in fig.data[0].y]
    assert all(np.isfinite(y)) and y[2] >= 1.0 and y[3] >= 1.0  # at the top, not missing
    assert list(fig.data[0].text) == ["0.01", "1", "inf", "NaN"]
    linear = layer_bars_figure(["W1", "W2"], [2.0, -np.inf], "g", "norm")
    assert float(linear.data[0].y[1]) >= 2.0 and list(linear.data[0].text) == ["2", "-inf"]
    nothing = layer_bars_figure(["W1"], [np.nan], "g", "norm", log_y=True)
    assert np.isfinite(float(nothing.data[0].y[0])) and list(nothing.data[0].text) == ["NaN"]


def test_log_bars_start_at_a_labelled_power_of_ten_with_ticks_between():
    # Before: 0.33 and 0.15 on an auto-ranged log axis drew about 9:1 with no tick label
    fig = layer_bars_figure(["W1", "W2"], [0.33, 0.15], "Gradient magnitude now", "norm",
                            log_y=True)
    low, high = fig.layout.yaxis.range
    assert low == -1 and 0 < high - 0 < 0.5  # from 0.1, past 1 with room for the labels
    ticks = [t for t in fig.layout.yaxis.tickvals if 10 ** low <= t <= 10 ** high]
    assert {0.1, 0.2, 0.5, 1.0} <= {round(t, 6) for t in ticks}


def test_curves_draw_a_trainers_history_with_statistics_on_a_cadence(sample):
    """The trainer measures its first 100 steps and then one in stats_every: the curves
    draw at exactly the steps measured, each line finite."""
    from mnist_np import MLP, TrainConfig, Trainer

    t = Trainer(MLP([784, 16, 10], seed=0), sample.X_train, sample.y_train,
                TrainConfig(optimizer="sgd", lr=0.1, batch_size=10, steps=300,
                            schedule="constant"))
    list(t.run())
    steps, norms = t.history.array("step"), t.history.array("grad_norms")
    assert 100 < len(steps) < 300 and np.all(np.diff(steps[100:]) > 1)  # uneven spacing
    fig = layer_curves_figure(steps, norms, ["W1", "W2"], "Gradients", "norm", window=1)
    assert list(fig.data[0].x) == list(steps) and np.all(np.isfinite(fig.data[1].y))
    np.testing.assert_allclose(fig.data[1].y, norms[:, 1])
    sat = saturation_figure(steps, t.history.array("saturation"), ["hidden 1"], "dead")
    assert len(sat.data[0].x) == len(steps)
