"""Figure builders and equations of the "Inside the network" pages, on a tiny network
with 4×4-pixel inputs, without Streamlit."""

import numpy as np
import pytest

from dashboard import equations
from dashboard.figures.backprop import (
    before_after_figure,
    layer_figure,
    output_figure,
    vector_figure,
)
from dashboard.figures.base import layer_name, weight_name
from dashboard.figures.gradients import (
    HEALTHY_RATIO,
    layer_bars_figure,
    layer_curves_figure,
    saturation_figure,
    update_ratio_figure,
)
from dashboard.figures.images import CAPTION, digit_figure, side, tile
from dashboard.figures.mistakes import (
    cell_from_selection,
    confusion_figure,
    mistakes_figure,
    per_digit_accuracy_figure,
)
from dashboard.figures.weights import (
    histogram_figure,
    matrix_figure,
    receptive_fields_figure,
    spread_figure,
    units_shown,
)
from mnist_np import ACTIVATIONS, MLP, OUTPUT_LOSSES
from mnist_np.metrics import confusion_matrix
from mnist_np.stepthrough import trace


@pytest.fixture
def net():
    return MLP([16, 6, 5, 4], activation="tanh", seed=1)


def _text(fig) -> str:
    return fig.layout.title.text or ""


# -- shared pieces ---------------------------------------------------------------------
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


# -- weights -----------------------------------------------------------------------------
def test_matrix_figure_is_the_matrix_centred_at_zero(net):
    W = net.weights[0]
    fig = matrix_figure(W, "W1")
    heat = fig.data[0]
    np.testing.assert_allclose(np.asarray(heat.z), W)
    assert heat.zmid == 0 and heat.zmin == -heat.zmax == -np.abs(W).max()
    # a cell budget keeps only the first columns, and the title says so
    small = matrix_figure(W, "W1", max_cells=16 * 4)
    assert np.asarray(small.data[0].z).shape == (16, 4) and "first 4 of 6" in _text(small)
    assert units_shown(784, 256) == 100_000 // 784 and units_shown(256, 10) == 10


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
    assert "all 6 units" in _text(fig)
    capped = receptive_fields_figure(W, max_units=4)
    assert np.asarray(capped.data[0].z).shape == (9, 9) and "first 4 of 6" in _text(capped)
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


# -- gradients -------------------------------------------------------------------------
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
    assert "dead" in _text(sat)
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


# -- mistakes --------------------------------------------------------------------------
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


# -- backprop --------------------------------------------------------------------------
def test_backprop_figures_show_the_traced_numbers(net):
    x = np.linspace(0, 1, 16)
    t = trace(net, x, 2)
    img = digit_figure(x)
    np.testing.assert_allclose(np.asarray(img.data[0].z, float), x.reshape(4, 4), rtol=1e-6)
    lay = layer_figure(t.zs[0], t.activations[1], "Layer 1", "tanh")
    np.testing.assert_allclose(lay.data[0].y, t.zs[0], rtol=1e-6)
    np.testing.assert_allclose(lay.data[1].y, np.tanh(t.zs[0]), rtol=1e-5)
    assert lay.layout.yaxis2.title.text == "a = tanh(z)" and lay.data[1].yaxis == "y2"
    delta = vector_figure(t.deltas[0], "δ1", "δ")
    np.testing.assert_allclose(delta.data[0].y, t.deltas[0], rtol=1e-6)
    out = output_figure(t.output, t.target)
    assert [tr.name for tr in out.data] == ["target y", "output a_L"]
    assert list(out.data[0].y) == [0, 0, 1, 0]
    ba = before_after_figure(t.output, np.array([0.1, 0.1, 0.7, 0.1]), 2)
    assert list(ba.data[1].y) == [0.1, 0.1, 0.7, 0.1]
    assert (ba.layout.shapes[0].x0, ba.layout.shapes[0].x1) == (1.5, 2.5)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("output_loss", list(OUTPUT_LOSSES))
def test_equations_are_written_for_the_networks_activation_and_loss(activation, output_loss):
    output, loss = output_loss
    net = MLP([16, 6, 4], activation=activation, output=output, loss=loss)
    eq = equations.general(net)
    assert list(eq) == ["forward", "output", "loss", "delta_output", "gradients",
                        "delta_hidden", "update"]
    assert net.act.latex in eq["forward"] and net.act.latex_grad in eq["delta_hidden"]
    assert net.output_loss.latex_output in eq["output"] and eq["loss"] == net.output_loss.latex_loss
    assert net.output_loss.latex_delta in eq["delta_output"]
    assert r"a_{l-1}^{\top} \delta_l" in eq["gradients"]
    symbol = equations.activation_symbol(net)
    assert rf"{symbol}'(z_{{l-1}})" in eq["delta_hidden"]
    assert r"{(1{\times}16)}" in equations.forward_layer(net, 1)
    assert f"{symbol}(z_{{1}})" in equations.forward_layer(net, 1)
    assert r"{(6{\times}4)}" in equations.forward_layer(net, 2)
    assert r"\delta_{2}" in equations.delta_layer(net, 2) and "_L" not in \
        equations.delta_layer(net, 2)
    assert rf"{symbol}'(z_{{1}})" in equations.delta_layer(net, 1)
    assert r"{(16{\times}6)}" in equations.gradient_layer(net, 1)


def test_equations_without_hidden_layers_and_with_l2():
    plain = equations.general(MLP([16, 4]))
    assert "forward" not in plain and "delta_hidden" not in plain
    decayed = MLP([16, 6, 4], l2=0.01)
    assert r"\lambda" in equations.general(decayed)["loss"]
    assert r"\lambda W_{1}" in equations.gradient_layer(decayed, 1)
