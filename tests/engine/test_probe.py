"""The per-layer probe: gradient and weight norms, saturation and loss on a fixed batch."""

import numpy as np
import pytest

from mnist_np import MLP
from mnist_np.probe import probe


def _batch(n=5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 12))
    y = rng.integers(0, 4, n)
    return X, y, np.eye(4)[y]


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
