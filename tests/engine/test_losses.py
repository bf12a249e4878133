"""Output layers fused with their losses: stable for any logits."""

import numpy as np
import pytest

from mnist_np import MLP


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
