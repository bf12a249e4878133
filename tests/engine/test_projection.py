"""PCA and the class-separation score (mnist_np.projection) on tiny inputs whose answer
is known, and the layer view on a small network."""


import numpy as np
import pytest

from mnist_np import MLP
from mnist_np.projection import align, class_separation, layer_view, pca


def test_points_on_a_line_project_onto_a_line():
    t = np.linspace(-3, 5, 20)
    direction = np.array([1.0, 2.0, -2.0]) / 3.0
    X = np.array([4.0, -1.0, 0.5]) + t[:, None] * direction
    p = pca(X)
    np.testing.assert_allclose(p.scores[:, 1], 0, atol=1e-12)
    np.testing.assert_allclose(p.explained, [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(abs(p.components[0] @ direction), 1.0)
    # distances along the line are kept: the scores are t, centred, up to a sign
    np.testing.assert_allclose(np.abs(p.scores[:, 0]), np.abs(t - t.mean()), atol=1e-12)


def test_components_are_orthonormal_and_scores_reconstruct_the_points():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 2)) @ np.array([[3.0, 1.0, 0.0], [0.0, 1.0, 0.5]])
    p = pca(X)
    np.testing.assert_allclose(p.components @ p.components.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(p.scores @ p.components + p.mean, X, atol=1e-12)  # rank 2
    assert p.explained.sum() == pytest.approx(1.0) and p.explained[0] >= p.explained[1]


def test_the_first_component_follows_the_largest_spread():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 2)) * [0.1, 5.0]
    p = pca(X)
    assert abs(p.components[0, 1]) > 0.99 and p.explained[0] > 0.99


def test_sign_puts_the_long_tail_on_the_positive_side_whatever_the_input_sign():
    values = np.array([0.0, 0.0, 0.0, 1.0, 10.0])  # skewed to the right
    for sign in (1, -1):
        p = pca(np.stack([sign * values, np.zeros(5)], 1))
        assert p.scores[:, 0].max() > -p.scores[:, 0].min()
        np.testing.assert_allclose(p.scores[:, 0], values - values.mean())
    rng = np.random.default_rng(2)
    for _ in range(20):  # whatever sign the SVD returns, scores and components agree
        X = rng.exponential(size=(40, 2)) * [3.0, 1.0] @ rng.standard_normal((2, 3))
        p = pca(X)
        assert np.all(np.sum(p.scores**3, axis=0) > 0)
        np.testing.assert_allclose(p.scores @ p.components + p.mean, X, atol=1e-10)


def test_degenerate_inputs_give_zero_components_without_warnings():
    constant = pca(np.ones((5, 4)))  # no spread at all, e.g. a layer of dead ReLUs
    assert np.all(constant.scores == 0) and np.all(constant.explained == 0)
    one_unit = pca(np.arange(6.0)[:, None])  # a hidden layer of 1 unit: 1 direction only
    assert one_unit.scores.shape == (6, 2) and np.all(one_unit.scores[:, 1] == 0)
    assert one_unit.explained.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("X", [np.array([[1.0, np.nan], [0.0, 1.0]]), np.ones((1, 3)),
                               np.ones(4)])
def test_unusable_inputs_are_refused_in_words(X):
    with pytest.raises(ValueError, match="PCA needs"):
        pca(X)


def test_class_separation_from_fully_apart_to_fully_mixed():
    y = np.array([0, 0, 1, 1, 2, 2])
    on_the_means = np.array([[0.0, 0], [0, 0], [5, 1], [5, 1], [2, 7], [2, 7]])
    assert class_separation(on_the_means, y) == pytest.approx(1.0)
    same_for_each_class = np.array([[0.0], [4], [0], [4], [0], [4]])
    assert class_separation(same_for_each_class, y) == pytest.approx(0.0)
    # between 0 and 1: means 0 and 2, spread 1 around each -> between 1, total 2 (per point)
    halfway = np.array([[-1.0], [1], [1], [3]])
    assert class_separation(halfway, [0, 0, 1, 1]) == pytest.approx(0.5)
    assert class_separation(np.zeros((4, 3)), [0, 1, 0, 1]) == 0.0
    with pytest.raises(ValueError):
        class_separation(np.zeros((4, 3)), [0, 1])


def test_layer_view_maps_the_chosen_layer_and_scores_every_representation():
    net = MLP([4, 5, 3, 2], activation="tanh", seed=3)
    rng = np.random.default_rng(0)
    X, y = rng.random((30, 4)).astype(np.float32), rng.integers(0, 2, 30)
    view = layer_view(net, X, y, 2)
    fwd = net.forward(X)
    np.testing.assert_array_equal(view.predicted, net.predict(X))
    assert len(view.separation) == 4 and all(0 <= s <= 1 for s in view.separation)
    assert view.separation[0] == pytest.approx(class_separation(X, y))
    np.testing.assert_allclose(view.projection.scores, pca(fwd.activations[2]).scores)
    assert layer_view(net, X, y, None).projection is None


def test_layer_view_of_a_diverged_network_says_so():
    net = MLP([4, 3, 2])
    net.weights[0][0, 0] = np.nan
    with pytest.raises(ValueError, match="diverged"):
        layer_view(net, np.ones((3, 4)), [0, 1, 0], 1)


def test_align_undoes_a_turn_or_a_mirror_and_never_stretches():
    rng = np.random.default_rng(3)
    reference = pca(rng.standard_normal((30, 5)) * [4, 3, 1, 1, 1]).scores
    angle = 1.1
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    for moved in (reference @ turn, reference * [1, -1], reference[:, ::-1]):
        np.testing.assert_allclose(align(moved, reference), reference, atol=1e-12)
    noisy = reference @ turn + 0.01 * rng.standard_normal(reference.shape)
    aligned = align(noisy, reference)
    np.testing.assert_allclose(np.linalg.norm(aligned, axis=1), np.linalg.norm(noisy, axis=1))
    assert np.abs(aligned - reference).max() < 0.1
    np.testing.assert_array_equal(align(reference[:5], reference), reference[:5])


@pytest.mark.parametrize("shape", [(300, 20), (15, 40)])  # more points than units, fewer
def test_pca_agrees_with_the_svd_of_the_centred_points(shape):
    rng = np.random.default_rng(3)
    X = rng.exponential(size=shape) @ np.diag(np.linspace(3, 0.1, shape[1]))
    centred = X - X.mean(axis=0)
    _, S, Vt = np.linalg.svd(centred, full_matrices=False)
    p = pca(X, k=3)
    signs = np.sign(np.sum(p.components * Vt[:3], axis=1))
    np.testing.assert_allclose(p.components, Vt[:3] * signs[:, None], atol=1e-9)
    np.testing.assert_allclose(p.scores, centred @ Vt[:3].T * signs, atol=1e-9)
    np.testing.assert_allclose(p.explained, S[:3] ** 2 / np.sum(S**2), rtol=1e-9)


def test_class_separation_is_the_between_class_share_of_the_spread():
    rng = np.random.default_rng(4)
    A, y = rng.standard_normal((200, 7)) + np.arange(7), rng.integers(0, 5, 200)
    centred = A - A.mean(axis=0)
    between = sum(np.sum(y == c) * np.sum(centred[y == c].mean(axis=0) ** 2)
                  for c in np.unique(y))
    assert class_separation(A, y) == pytest.approx(between / np.sum(centred**2), rel=1e-12)
