"""The state of every layer right now, measured on a fixed batch: how large the
gradients are and how many hidden units are saturated or dead. Unlike the training
history this works for any network, trained or not."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .optimizers import norm


@dataclass
class Probe:
    """Per weight matrix (``L`` entries): ``grad_norms`` ``‖∂L/∂W_l‖`` and ``weight_norms``
    ``‖W_l‖``; per hidden layer (``L - 1``): ``saturation``, the saturated (sigmoid, tanh)
    or dead (ReLU) fraction; ``loss`` on the batch."""

    grad_norms: np.ndarray
    weight_norms: np.ndarray
    saturation: np.ndarray
    loss: float


def probe(net, X, y) -> Probe:
    """Measure ``net`` on ``X: (n, n_0)`` with labels ``y: (n,)``."""
    X = np.asarray(X, net.dtype)
    Y = np.eye(net.layer_sizes[-1], dtype=net.dtype)[np.asarray(y)]
    with np.errstate(all="ignore"):  # a diverged network measures as inf/NaN, quietly
        fwd = net.forward(X)
        saturation = np.array([net.act.saturation(a) for a in fwd.activations[1:-1]])
        loss = net.data_loss(fwd, Y) + net.l2_term()
        back = net.backward(fwd, Y)
        return Probe(np.array([norm(g) for g in back.dWs]),
                     np.array([norm(W) for W in net.weights]), saturation, float(loss))
