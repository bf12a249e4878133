"""dashboard.figures.lab: a unit's card, accuracy before and after, the pruning curve."""

import numpy as np

from dashboard.figures.lab import (
    activation_figure,
    field_figure,
    per_digit_change_figure,
    pruning_figure,
    unit_from_selection,
    votes_figure,
)

from .conftest import title_text


def test_unit_from_selection_reads_both_customdata_forms():
    assert unit_from_selection({"points": [{"customdata": [2, 17]}]}) == (2, 17)
    assert unit_from_selection({"points": [{"customdata": {"0": 1, "1": 3}}]}) == (1, 3)
    assert unit_from_selection({"points": [{"x": 1}, {"customdata": [1, 5]}]}) == (1, 5)
    assert unit_from_selection({"points": []}) is None
    assert unit_from_selection(None) is None
    assert unit_from_selection({"points": [{"customdata": ["a", None]}]}) is None


def test_field_figure_is_the_units_weights_as_an_image(net):
    w = net.weights[0][:, 2]
    fig = field_figure(w, "unit 2")
    np.testing.assert_allclose(np.asarray(fig.data[0].z), w.reshape(4, 4))
    assert fig.data[0].zmid == 0 and fig.data[0].zmax == np.abs(w).max()


def test_votes_are_red_up_and_blue_down():
    fig = votes_figure(np.array([0.5, -0.25, 0.0]), "votes")
    assert list(fig.data[0].y) == [0.5, -0.25, 0.0]
    assert list(fig.data[0].marker.color) == ["#d62728", "#1f77b4", "#d62728"]
    assert title_text(fig) == "votes"


def test_activation_histogram_counts_every_digit():
    a = np.array([0.0, 0.0, 0.5, 1.0, 2.0])
    fig = activation_figure(a, "activations")
    assert sum(fig.data[0].y) == 5


def test_per_digit_change_shows_both_and_the_difference_in_points():
    before = np.array([0.9, 0.8, 0.7])
    after = np.array([0.9, 0.6, 0.75])
    fig = per_digit_change_figure(before, after, "accuracy", "switched off unit 3")
    assert [t.name for t in fig.data[:2]] == ["before", "after"]
    assert fig.layout.title.subtitle.text == "switched off unit 3"
    np.testing.assert_allclose(fig.data[1].y, after)
    assert list(fig.data[2].text) == ["+0.0", "-20.0", "+5.0"]


def test_per_digit_change_axis_stops_at_100_percent():
    for before in (np.array([0.99, 0.996, 0.97]), np.array([0.3, 1.0, 0.5])):
        fig = per_digit_change_figure(before, before, "accuracy")
        low, high = fig.layout.yaxis.range
        assert high == 1.0 and low < before.min()
        assert fig.data[2].cliponaxis is False  # the labels above a 100% bar still show


def test_pruning_figure_plots_accuracy_against_k():
    fig = pruning_figure([0, 4, 8], [0.9, 0.85, 0.1], 8, 1, chosen=4)
    assert list(fig.data[0].x) == [0, 4, 8] and list(fig.data[0].y) == [0.9, 0.85, 0.1]
    assert "hidden layer 1" in title_text(fig) and "of 8" in fig.layout.xaxis.title.text
    assert len(fig.layout.shapes) == 1
    assert "nothing to prune" in pruning_figure([], [], 0, 1).layout.annotations[0].text
