"""dashboard.figures.backprop: the traced numbers of one backprop step, as drawn."""

import numpy as np

from dashboard.figures.backprop import (
    before_after_figure,
    layer_figure,
    output_figure,
    vector_figure,
)
from dashboard.figures.images import digit_figure
from mnist_np.stepthrough import trace


def drawn(fig, axis: str = "y") -> np.ndarray:
    """The values of a figure's sign-coloured bars on ``axis``, in unit order."""
    bars = [b for b in fig.data if (b.yaxis or "y") == axis]
    x = np.concatenate([np.asarray(b.x, int) for b in bars])
    y = np.concatenate([np.asarray(b.y, float) for b in bars])
    assert sorted(x) == list(range(len(x)))  # every unit once
    return y[np.argsort(x)]


def test_backprop_figures_show_the_traced_numbers(net):
    x = np.linspace(0, 1, 16)
    t = trace(net, x, 2)
    img = digit_figure(x)
    np.testing.assert_allclose(np.asarray(img.data[0].z, float), x.reshape(4, 4), rtol=1e-6)
    lay = layer_figure(t.zs[0], t.activations[1], "Layer 1", "tanh")
    np.testing.assert_allclose(drawn(lay), t.zs[0], rtol=1e-6)
    np.testing.assert_allclose(drawn(lay, "y2"), np.tanh(t.zs[0]), rtol=1e-5)
    assert lay.layout.yaxis2.title.text == "a = tanh(z)"
    delta = vector_figure(t.deltas[0], "δ1", "δ")
    np.testing.assert_allclose(drawn(delta), t.deltas[0], rtol=1e-6)
    out = output_figure(t.output, t.target)
    assert [tr.name for tr in out.data] == ["target y", "output a_L"]
    assert list(out.data[0].y) == [0, 0, 1, 0]
    ba = before_after_figure(t.output, np.array([0.1, 0.1, 0.7, 0.1]), 2)
    assert list(ba.data[1].y) == [0.1, 0.1, 0.7, 0.1]
    assert (ba.layout.shapes[0].x0, ba.layout.shapes[0].x1) == (1.5, 2.5)


def test_small_deltas_are_labelled_without_si_prefixes(net):
    # plotly's default wrote 5e-5 as "50µ" on the δ axis
    delta = vector_figure(np.array([5e-5, -2e-5, 3e-5]), "δ1", "δ").layout
    layer = layer_figure(np.array([5e-5, -1e-5]), np.array([5e-5, 0.0]), "L", "relu").layout
    for axis in (delta.yaxis, layer.yaxis, layer.yaxis2):
        assert axis.tickformat == "~g"


def test_bars_are_red_when_positive_and_blue_otherwise():
    # one colour per trace (a colour per bar made plotly.js warn thousands of times)
    fig = vector_figure(np.array([0.5, -0.2, 0.0, 3.0]), "δ1", "δ")
    colours = {b.marker.color: list(np.asarray(b.x, int)) for b in fig.data}
    assert colours == {"#d62728": [0, 3], "#1f77b4": [1, 2]}
    assert all(isinstance(b.marker.color, str) for b in fig.data)
