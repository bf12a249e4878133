"""The engine's inside views: the finite-difference gradient check, the one-digit
backprop trace with its single update, and the per-layer probe."""

import numpy as np
import pytest

from mnist_np import ACTIVATIONS, MLP, OUTPUT_LOSSES
from mnist_np.gradcheck import Check, float64_copy, gradient_check, relative_error
from mnist_np.probe import probe
from mnist_np.stepthrough import one_hot, sgd_step, trace


def _batch(n=5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 12))
    y = rng.integers(0, 4, n)
    return X, y, np.eye(4)[y]


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("output_loss", list(OUTPUT_LOSSES))
def test_backprop_agrees_with_finite_differences(activation, output_loss):
    output, loss = output_loss
    net = MLP([12, 7, 5, 4], activation=activation, output=output, loss=loss, init="xavier",
              l2=0.01, seed=3)
    X, _, Y = _batch()
    checks = gradient_check(net, X, Y, per_layer=3)
    assert len(checks) == 3 * (3 + 1)
    assert {(c.layer, c.param) for c in checks} == {(l, p) for l in (1, 2, 3) for p in "Wb"}
    assert max(c.rel_error for c in checks) < 1e-6 and all(c.agrees for c in checks)
    assert all(c.backprop != 0 for c in checks)  # non-zero gradients are preferred


def test_gradient_check_catches_a_wrong_gradient(monkeypatch):
    """The check is not a tautology: a network whose backward pass is off fails it."""
    net = MLP([12, 6, 4], activation="tanh", seed=0, dtype="float64")

    class Broken(MLP):
        def gradients(self, X, Y):
            dWs, dbs = super().gradients(X, Y)
            return [2 * dW for dW in dWs], dbs

    X, _, Y = _batch()
    broken = float64_copy(net)
    broken.__class__ = Broken
    monkeypatch.setattr("mnist_np.gradcheck.float64_copy", lambda _: broken)
    checks = gradient_check(net, X, Y)
    assert all(c.rel_error == pytest.approx(1 / 2) for c in checks if c.param == "W")
    assert not any(c.agrees for c in checks if c.param == "W")
    assert all(c.rel_error < 1e-6 and c.agrees for c in checks if c.param == "b")


def test_gradient_check_leaves_the_network_alone_and_uses_float64():
    net = MLP([12, 6, 4], seed=0)
    before = [W.copy() for W in net.weights]
    copy = float64_copy(net)
    assert copy.dtype == np.float64 and copy.weights[0].dtype == np.float64
    np.testing.assert_array_equal(copy.weights[0], net.weights[0])
    X, _, Y = _batch()
    gradient_check(net, X, Y)
    for W, W0 in zip(net.weights, before):
        np.testing.assert_array_equal(W, W0)
    assert net.weights[0].dtype == np.float32


def test_relative_error_and_check_fields():
    assert relative_error(0.0, 0.0) == 0.0
    assert relative_error(1.0, 0.5) == 0.5
    assert relative_error(-1e-9, 1e-9) == 2.0
    assert np.isnan(relative_error(float("nan"), 1.0))
    assert np.isnan(relative_error(1.0, float("inf")))
    X, _, Y = _batch()
    c = gradient_check(MLP([12, 4], seed=0), X, Y, per_layer=1)[0]
    assert isinstance(c, Check) and c.layer == 1 and c.param == "W" and len(c.index) == 2


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


def test_probe_measures_every_layer():
    net = MLP([12, 6, 5, 4], activation="relu", seed=0)
    X, y, _ = _batch(20)
    p = probe(net, X, y)
    assert p.grad_norms.shape == (3,) and p.weight_norms.shape == (3,)
    assert p.saturation.shape == (2,) and np.all((p.saturation >= 0) & (p.saturation <= 1))
    dWs, _ = net.gradients(X, np.eye(4)[y])
    np.testing.assert_allclose(p.grad_norms, [np.linalg.norm(d) for d in dWs], rtol=1e-5)
    assert p.loss == pytest.approx(net.loss(X, np.eye(4)[y]), rel=1e-5)
    # dead ReLUs: push every first-layer bias far below zero
    net.biases[0][:] = -100
    assert probe(net, X, y).saturation[0] == 1.0
    assert probe(MLP([12, 4]), X, y).saturation.shape == (0,)


def test_inside_modules_are_numpy_only():
    import subprocess
    import sys
    code = ("import sys, mnist_np.gradcheck, mnist_np.metrics, mnist_np.probe, "
            "mnist_np.stepthrough; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('streamlit', 'plotly', 'pandas')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_tiny_gradients_agree_within_rounding():
    """After the network is sure of a digit its loss and gradients are ~1e-8: the
    difference quotient is then limited by rounding, and the check says so instead of
    reporting a failure."""
    net = MLP([12, 8, 4], seed=0, dtype="float64")
    X, y, Y = _batch(1)
    for _ in range(40):  # many big steps on this one digit
        sgd_step(net, X[0], y[0], lr=2.0)
    assert net.loss(X, Y) < 1e-6
    checks = gradient_check(net, X, Y, per_layer=3)
    assert max(c.rel_error for c in checks) > 1e-3  # relative error alone would cry wolf
    assert all(c.agrees for c in checks)
    assert all(abs(c.backprop - c.numeric) <= c.rounding + 1e-5 * abs(c.backprop)
               for c in checks)
    assert checks[0].rounding == pytest.approx(10 * np.finfo(float).eps / 1e-6)
