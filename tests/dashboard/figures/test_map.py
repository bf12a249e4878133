"""dashboard.figures.map: the hidden-layer map, its selection and the separation bars."""

import numpy as np

from dashboard.figures.map import map_figure, selected_indices, separation_figure


def test_map_figure_colours_by_digit_rings_mistakes_and_stars_the_selection():
    scores = np.arange(12.0).reshape(6, 2)
    y = np.array([0, 1, 1, 3, 3, 3])
    predicted = np.array([0, 1, 7, 3, 0, 3])
    fig = map_figure(scores, y, predicted, "Hidden layer 1", 0.65, selected=[5, 2, 99])
    names = [t.name for t in fig.data]
    assert names == ["0", "1", "3", "misclassified (2)", "selected (2)"]
    threes = fig.data[2]
    assert list(threes.customdata) == [3, 4, 5] and list(threes.x) == [6.0, 8.0, 10.0]
    assert all(type(i) is int for i in threes.customdata)  # plain ints come back as ints
    assert list(fig.data[3].customdata) == [2, 4]
    assert "true 1, network says 7" in fig.data[3].hovertext
    assert list(fig.data[4].customdata) == [2, 5]
    assert fig.layout.title.subtitle.text == "this 2-D view keeps 65% of the spread"
    no_selection = map_figure(scores, y, y, "Raw pixels")
    assert [t.name for t in no_selection.data][-1] == "misclassified (0)"


def test_selected_indices_reads_customdata_once_each_in_order():
    points = [{"curve_number": 2, "customdata": 7}, {"curve_number": 3, "customdata": 7},
              {"curve_number": 0, "customdata": 3}, {"curve_number": 1, "customdata": [4]},
              {"curve_number": 1}, {"curve_number": 1, "customdata": {"0": 1}}]
    assert selected_indices(points) == [7, 3, 4]
    assert selected_indices([]) == []


def test_separation_figure_has_one_bar_per_representation():
    fig = separation_figure(["pixels", "hidden 1", "output"], [0.2, 0.5, 0.95])
    assert list(fig.data[0].x) == ["pixels", "hidden 1", "output"]
    assert list(fig.data[0].text) == ["20%", "50%", "95%"]
