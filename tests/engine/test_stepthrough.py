"""Backpropagation for one digit: every intermediate number, checked against the seed's
equations, and the single gradient-descent step it suggests."""

import numpy as np
import pytest

from mnist_np import MLP
from mnist_np.stepthrough import one_hot, sgd_step, trace


def _batch(n=5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 12))
    y = rng.integers(0, 4, n)
    return X, y, np.eye(4)[y]


def test_trace_matches_the_network_and_the_seed_equations():
    net = MLP([12, 6, 5, 4], activation="sigmoid", output="sigmoid", loss="mse",
              init="uniform", seed=2, dtype="float64")
    X, y, Y = _batch()
    t = trace(net, X[0], y[0])
    assert [a.shape for a in t.activations] == [(12,), (6,), (5,), (4,)]
    assert [z.shape for z in t.zs] == [(6,), (5,), (4,)]
    np.testing.assert_array_equal(t.target, one_hot(y[0], 4))
    # forward: a_l = σ(a_{l-1} W_l + b_l)
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        np.testing.assert_allclose(t.zs[l], t.activations[l] @ W + b)
        np.testing.assert_allclose(t.activations[l + 1], 1 / (1 + np.exp(-t.zs[l])))
    # output delta for MSE with a sigmoid output, then the chain rule backwards
    a_L = t.output
    np.testing.assert_allclose(t.deltas[-1], (a_L - t.target) * a_L * (1 - a_L))
    for l in (2, 1):
        a = t.activations[l]
        np.testing.assert_allclose(t.deltas[l - 1], (t.deltas[l] @ net.weights[l].T) * a * (1 - a))
    for l in range(3):
        np.testing.assert_allclose(t.dWs[l], np.outer(t.activations[l], t.deltas[l]))
        np.testing.assert_allclose(t.dbs[l], t.deltas[l])
    assert t.loss == pytest.approx(net.loss(X[:1], Y[:1]))
    assert t.prediction == int(np.argmax(a_L))
    np.testing.assert_allclose(t.grad_norms, [np.linalg.norm(d) for d in t.dWs])


def test_one_update_step_lowers_this_digits_loss():
    net = MLP([12, 8, 4], seed=0)
    X, y, Y = _batch()
    loss_before = net.loss(X[:1], Y[:1])
    W0 = net.weights[0].copy()
    grad = trace(net, X[0], y[0]).dWs[0]
    before, after = sgd_step(net, X[0], y[0], lr=0.1)
    np.testing.assert_allclose(net.weights[0], W0 - np.float32(0.1) * grad, rtol=1e-6)
    assert net.loss(X[:1], Y[:1]) < loss_before
    assert after[y[0]] > before[y[0]]
    np.testing.assert_allclose(after, net.predict_proba(X[:1])[0])
