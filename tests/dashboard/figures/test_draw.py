"""dashboard.figures.draw (with the input and answer figures the Draw page shows beside it)."""

import numpy as np

from dashboard.figures.draw import activations_figure
from dashboard.figures.images import digit_figure
from dashboard.figures.robustness import answer_figure


def test_draw_figures_show_input_output_and_hidden_units():
    image = np.zeros((28, 28), np.float32)
    image[4:24, 13:15] = 1.0
    assert np.array_equal(digit_figure(image).data[0].z, image)
    out = answer_figure(np.array([0.05, 0.7, *[0.25 / 8] * 8]), title="probabilities")
    colours = out.data[0].marker.color
    assert colours[1] != colours[0] and len(set(colours)) == 2
    hidden = [np.arange(10.0), np.linspace(0, 1, 4)]
    fig = activations_figure(hidden, "relu")
    grids = [np.array(t.z, float) for t in fig.data]
    assert [g.shape for g in grids] == [(3, 4), (2, 2)]
    assert np.array_equal(grids[0].ravel()[:10], np.arange(10.0))
    assert np.isnan(grids[0].ravel()[10:]).all()
    assert fig.data[0].customdata[2][1] == 9  # unit 9 sits at row 2, column 1
