"""The finite-difference gradient check: what it reports, that it catches a wrong
gradient, that it leaves the network alone, and rounding at tiny gradients."""

import numpy as np
import pytest

from mnist_np import MLP
from mnist_np.gradcheck import Check, float64_copy, gradient_check, relative_error
from mnist_np.stepthrough import sgd_step
from mnist_np.training import dropout_masks


def _batch(n=5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 12))
    y = rng.integers(0, 4, n)
    return X, y, np.eye(4)[y]


def test_gradient_check_picks_weights_and_a_bias_of_every_layer_and_agrees():
    """Backprop itself is checked against finite differences over every parameter in
    test_network; this checks what gradient_check reports and that it finds agreement."""
    net = MLP([12, 7, 5, 4], activation="tanh", output="sigmoid", loss="mse", init="xavier",
              l2=0.01, seed=3)
    X, _, Y = _batch()
    checks = gradient_check(net, X, Y, per_layer=3)
    assert len(checks) == 3 * (3 + 1)
    assert {(c.layer, c.param) for c in checks} == {(l, p) for l in (1, 2, 3) for p in "Wb"}
    assert max(c.rel_error for c in checks) < 1e-6 and all(c.agrees for c in checks)
    assert all(c.backprop != 0 for c in checks)  # non-zero gradients are preferred
    assert len({c.index for c in checks if c.layer == 1 and c.param == "W"}) == 3


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


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu"])
def test_dropout_backward_agrees_with_finite_differences_for_a_fixed_mask(activation):
    """Dropout's mask, held fixed, makes the loss a smooth function of the weights: its
    backward pass (through the mask and f' of the unmasked activation) is checked."""
    net = MLP([12, 9, 7, 4], activation=activation, l2=0.01, seed=2)
    X, _, Y = _batch(8)
    masks = dropout_masks(net, 8, 0.4, np.random.default_rng(3))
    assert all(set(np.unique(m)) == {0, np.float32(1 / 0.6)} for m in masks)
    checks = gradient_check(net, X, Y, per_layer=4, masks=masks)
    assert all(c.agrees for c in checks), [c for c in checks if not c.agrees]
    # the masked loss differs from the plain one, so a backward that ignores the masks
    # (or an f' taken from the masked activation) would not pass
    plain = net.gradients(X, Y)[0][0]
    assert not np.allclose(net.gradients(X, Y, masks)[0][0], plain)


def test_gradient_check_catches_a_backward_that_ignores_the_masks(monkeypatch):
    net = MLP([12, 9, 4], activation="sigmoid", seed=2)
    X, _, Y = _batch(8)
    masks = dropout_masks(net, 8, 0.5, np.random.default_rng(3))
    real = MLP.backward

    def forgetful(self, fwd, Y, *args, **kwargs):
        fwd.masks = fwd.undropped = None  # as if dropout had no backward
        return real(self, fwd, Y, *args, **kwargs)

    monkeypatch.setattr(MLP, "backward", forgetful)
    assert not all(c.agrees for c in gradient_check(net, X, Y, masks=masks))
