"""dashboard.figures.pixels: the saliency map beside its digit, the adversarial digit's
three panels, the ε strip and the gallery of class pictures."""

import numpy as np
import pytest

from dashboard.figures.pixels import (
    attack_figure,
    dreams_figure,
    epsilon_figure,
    saliency_figure,
)


def _digit() -> np.ndarray:
    x = np.zeros((28, 28))
    x[5:23, 12:16] = 1.0
    return x.ravel()


def test_saliency_figure_is_the_digit_and_a_symmetric_signed_map_with_its_outline():
    x = _digit()
    g = np.linspace(-0.5, 2.0, 784)
    fig = saliency_figure(x, g, "7")
    digit, saliency, outline = fig.data
    np.testing.assert_array_equal(np.asarray(digit.z), x.reshape(28, 28))
    assert (digit.zmin, digit.zmax) == (0, 1)
    np.testing.assert_allclose(np.asarray(saliency.z), g.reshape(28, 28))
    assert (saliency.zmin, saliency.zmax) == (-2.0, 2.0)  # white stays at 0
    assert saliency.colorscale[0][1] != saliency.colorscale[-1][1]
    assert list(saliency.colorbar.ticktext) == ["-2", "-1", "0", "1", "2"]
    assert outline.type == "contour" and outline.contours.start == 0.5
    assert (saliency.xaxis, outline.xaxis) == ("x2", "x2")
    assert fig.layout.annotations[1].text == "saliency for 7: −∂L/∂x"  # what is drawn
    assert "−∂L/∂x = %{z" in saliency.hovertemplate
    assert fig.layout.yaxis2.scaleanchor == "x2" and fig.layout.yaxis.autorange == "reversed"


def test_a_flat_or_broken_gradient_still_draws():
    fig = saliency_figure(_digit(), np.zeros(784), "0")
    assert fig.data[1].zmax > 0 and fig.data[1].zmin == -fig.data[1].zmax
    fig = saliency_figure(_digit(), np.full(784, np.nan), "0")
    assert fig.data[1].zmax > 0


def test_attack_figure_shows_original_change_and_result_with_the_answers():
    x = _digit()
    x_adv = np.clip(x + 0.1 * np.sign(np.sin(np.arange(784))), 0, 1)
    fig = attack_figure(x, x_adv, 0.1, ("1", 0.97), ("Sneaker", 0.6))
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["original<br>reads 1 (97%)", "change<br>at most ε = 0.1",
                      "result<br>reads Sneaker (60%)"]
    original, change, result = fig.data
    np.testing.assert_array_equal(np.asarray(original.z), x.reshape(28, 28))
    np.testing.assert_allclose(np.asarray(change.z), (x_adv - x).reshape(28, 28))
    assert (change.zmin, change.zmax) == (-0.1, 0.1)
    np.testing.assert_allclose(np.asarray(result.z), x_adv.reshape(28, 28))
    assert [t.xaxis for t in fig.data] == ["x", "x2", "x3"]


def test_epsilon_figure_colours_what_flips_and_marks_the_smallest():
    eps = np.array([0.05, 0.1, 0.15, 0.2])
    fig = epsilon_figure(eps, np.array([False, False, True, True]), 0.15)
    kept, changed = fig.data
    assert list(kept.x) == pytest.approx([0.05, 0.1]) and kept.marker.color == "#d0d0d0"
    assert list(changed.x) == pytest.approx([0.15, 0.2]) and changed.marker.color == "#ff7f0e"
    assert fig.layout.showlegend and (kept.name, changed.name) == ("answer unchanged",
                                                                   "answer changed")
    assert kept.width == changed.width == pytest.approx(0.045)
    assert [s.x0 for s in fig.layout.shapes] == [0.15]
    assert fig.layout.annotations[0].text == "ε = 0.15"
    none = epsilon_figure(eps, np.zeros(4, bool), None)
    assert not none.layout.shapes and not none.layout.annotations


def test_dreams_figure_captions_each_class_with_its_output():
    X = np.random.default_rng(0).random((10, 784))
    fig = dreams_figure(X, [str(c) for c in range(10)], np.linspace(0.5, 0.99, 10))
    texts = [a.text for a in fig.layout.annotations]
    assert texts[0] == "0 (50%)" and texts[-1] == "9 (99%)" and len(texts) == 10
    assert np.asarray(fig.data[0].z).shape[1] == 5 * 28 + 4 * 3  # 5 to a row
    one_row = dreams_figure(X, list("abcdefghij"), np.ones(10), cols=10)
    assert np.asarray(one_row.data[0].z).shape[1] == 10 * 28 + 9 * 3
    assert one_row.layout.annotations[9].text == "j (100%)"
    assert fig.layout.width > 800 and fig.layout.annotations[0].font.size >= 16  # projector
