"""dashboard.figures.draw (with the input and answer figures the Draw page shows beside it)."""

import numpy as np

from dashboard.figures.draw import activations_figure, photo_steps_figure
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


def test_the_photo_steps_are_six_images_the_last_what_the_network_reads(sample):
    from mnist_np.preprocess import photo_steps

    from ...photos import photographed

    steps = photo_steps(photographed(sample.X_test[1]))
    fig = photo_steps_figure(steps)
    assert len(fig.data) == 6
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:2] == ["1. photo (grey)", "2. inverted"] and titles[5] == "6. 28×28"
    h, w = steps.boxed.shape
    assert titles[4] == f"5. fit 20×20<br>(w {w}, h {h})"  # any aspect ratio
    np.testing.assert_array_equal(np.asarray(fig.data[-1].z), steps.field)
    assert fig.data[1].colorscale != fig.data[2].colorscale  # the photo as it looks, then ink
    # a large photo is thinned for the screen, never sent whole
    assert max(np.asarray(fig.data[0].z).shape) <= 140


def test_a_photo_without_a_digit_shows_the_first_three_steps():
    from mnist_np.preprocess import photo_steps

    flat = np.full((60, 50), 180, np.uint8)
    fig = photo_steps_figure(photo_steps(flat))
    assert len(fig.data) == 3
