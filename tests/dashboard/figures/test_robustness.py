"""dashboard.figures.robustness: the perturbation panels and the answer bars."""

import numpy as np

from dashboard.figures.robustness import answer_figure, robustness_figure
from mnist_np.perturb import Sweep


def _sweep() -> Sweep:
    return Sweep(plain=0.9,
                 noise=(np.array([0.0, 0.5, 1.0]), np.array([0.9, 0.6, 0.3])),
                 shift_x=(np.array([-1, 0, 1]), np.array([0.7, 0.9, 0.8])),
                 shift_y=(np.array([-1, 0, 1]), np.array([0.6, 0.9, 0.7])),
                 rotation=(np.array([-10, 0, 10]), np.array([0.8, 0.9, 0.85])))


def test_robustness_figure_has_a_panel_per_perturbation_and_marks_the_viewer():
    fig = robustness_figure(_sweep(), sigma=0.5, dx=1, dy=-1, degrees=10)
    names = [t.name for t in fig.data]
    assert names == ["noise", "horizontal shift (right +)", "vertical shift (down +)",
                     "rotation (counterclockwise +)"]
    assert [t.xaxis for t in fig.data] == ["x", "x2", "x2", "x3"]
    assert list(fig.data[2].y) == [0.6, 0.9, 0.7]
    lines = [(s.xref, s.x0) for s in fig.layout.shapes if s.x0 == s.x1]
    assert sorted(lines) == [("x", 0.5), ("x2", -1.0), ("x2", 1.0), ("x3", 10.0)]
    levels = sorted(s.y0 for s in fig.layout.shapes if s.y0 == s.y1)
    assert levels == [0.1] * 3 + [0.9] * 3  # chance and the plain accuracy in each panel
    # the same amount on both shift axes is one marker
    assert len([s for s in robustness_figure(_sweep(), dx=2, dy=2).layout.shapes
                if s.x0 == s.x1 and s.xref == "x2"]) == 1


def test_answer_figure_colours_the_answer_by_right_or_wrong():
    proba = np.full(10, 0.02)
    proba[3] = 0.82
    right, wrong = answer_figure(proba, 3), answer_figure(proba, 5)
    assert right.data[0].marker.color[3] == "#2ca02c" and "right" in right.layout.title.text
    assert wrong.data[0].marker.color[3] == "#d62728" and "wrong" in wrong.layout.title.text
    assert "The network says 3 (82%)" in wrong.layout.title.text
    assert "(true)" in wrong.layout.xaxis.ticktext[5]


def test_the_twins_figure_puts_both_networks_in_each_panel(sample, trained):
    from dashboard.figures.robustness import twins_figure
    from mnist_np.perturb import sweep

    X, y = sample.X_test[:100], sample.y_test[:100]
    result = sweep(trained, X, y)
    fig = twins_figure(result, result, ("without", "with"))
    assert len(fig.data) == 6
    assert [t.name for t in fig.data] == ["without"] * 3 + ["with"] * 3
    assert [t.showlegend for t in fig.data] == [True, False, False] * 2
    shift = np.asarray(fig.data[1].y)
    np.testing.assert_allclose(shift, (result.shift_x[1] + result.shift_y[1]) / 2)
    assert fig.data[0].line.color != fig.data[3].line.color
