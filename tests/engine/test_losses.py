"""Output layers fused with their losses: each delta is the loss's gradient, the fused
forms equal the plain ones, and everything is stable for any logits."""

import numpy as np
import pytest

from mnist_np import MLP
from mnist_np.losses import OUTPUT_LOSSES, softmax


def test_softmax_cross_entropy_of_huge_logits_is_exact_on_both_paths():
    """Logits of +-1000 overflow a naive softmax; the loss (plain path) and the fused
    softmax + cross-entropy of the training loop are both exact and finite."""
    net = MLP([1, 2], activation="relu", output="softmax", loss="cross_entropy",
              dtype="float64")
    net.weights[0][...] = [[1000.0, -1000.0]]
    net.biases[0][...] = 0
    X = np.array([[1.0]])
    for Y, want in (([[1.0, 0.0]], 0.0), ([[0.0, 1.0]], 2000.0)):
        assert net.loss(X, np.array(Y)) == pytest.approx(want, abs=1e-9)
        fwd, loss = net.forward_loss(X, np.array(Y))
        assert loss == pytest.approx(want, abs=1e-9) and np.all(np.isfinite(fwd.output))


@pytest.mark.parametrize("pair", sorted(OUTPUT_LOSSES))
def test_delta_is_the_gradient_of_the_mean_loss_times_n(pair):
    """``delta(a, y)`` is one sample's ∂loss/∂z: n times the gradient of the batch mean."""
    out = OUTPUT_LOSSES[pair]
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 4)) * 2
    y = np.eye(4)[[0, 3, 1]]

    def mean_loss(z):
        return out.loss(z, out.activate(z), y)

    h = 1e-6
    numeric = np.zeros_like(z)
    for i in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (mean_loss(up) - mean_loss(down)) / (2 * h)
    np.testing.assert_allclose(out.delta(out.activate(z), y), len(z) * numeric, rtol=1e-5,
                               atol=1e-8)


@pytest.mark.parametrize("pair", sorted(OUTPUT_LOSSES))
def test_activate_loss_is_activate_then_loss(pair):
    out = OUTPUT_LOSSES[pair]
    z = np.random.default_rng(1).normal(size=(5, 3))
    y = np.eye(3)[[0, 1, 2, 2, 0]]
    a, loss = out.activate_loss(z.copy(), y)
    np.testing.assert_allclose(a, out.activate(z))
    assert loss == pytest.approx(out.loss(z, out.activate(z), y), rel=1e-12)


def test_softmax_rows_sum_to_one_even_for_huge_logits():
    z = np.array([[1e4, 0.0, -1e4], [3.0, 3.0, 3.0]])
    a = softmax(z)
    np.testing.assert_allclose(a.sum(axis=1), 1)
    np.testing.assert_allclose(a, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_binary_cross_entropy_is_finite_and_right_for_huge_logits():
    out = OUTPUT_LOSSES[("sigmoid", "cross_entropy")]
    z = np.array([[1000.0, -1000.0]])
    a = out.activate(z)  # rounds to exactly 1 and 0: a log of a would be -inf
    assert out.loss(z, a, np.array([[1.0, 0.0]])) == pytest.approx(0.0, abs=1e-12)
    assert out.loss(z, a, np.array([[0.0, 1.0]])) == pytest.approx(2000.0)


@pytest.mark.parametrize("pair", list(OUTPUT_LOSSES))
def test_rows_give_each_rows_loss_and_hit_whichever_rows_they_come_with(pair):
    """``rows``: the mean of the row losses is ``loss``, a hit is ``argmax a == label``
    (ties included: a tie goes to the first class, as argmax says), and a row's figures
    are bitwise the same computed alone, in a part or with all the others (the trainer's
    epoch loss is the same whether counted in one go or across a checkpoint)."""
    pair = OUTPUT_LOSSES[pair]
    rng = np.random.default_rng(5)
    z = (rng.standard_normal((97, 10)) * 4).astype(np.float32)
    z[3] = 1.0                  # every class ties
    z[4, [2, 7]] = z[4].max() + 1  # two tie for the largest
    labels = rng.integers(0, 10, 97)
    labels[3], labels[4] = 0, 7
    y = np.eye(10, dtype=np.float32)[labels]
    losses, hits = pair.rows(z, labels)
    assert losses.shape == hits.shape == (97,)
    a = pair.activate(z.copy())
    assert float(losses.mean()) == pytest.approx(pair.loss(z, a, y), rel=1e-5)
    np.testing.assert_array_equal(hits, a.argmax(axis=1) == labels)
    assert hits[3] and not hits[4]
    for start, end in ((0, 1), (1, 40), (40, 97), (5, 6)):
        part_losses, part_hits = pair.rows(z[start:end], labels[start:end])
        np.testing.assert_array_equal(part_losses, losses[start:end])
        np.testing.assert_array_equal(part_hits, hits[start:end])
