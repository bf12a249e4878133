"""Backpropagation for one digit, with every intermediate number kept, and the single
gradient-descent step that it suggests.

Shapes for a network with sizes ``[n_0, ..., n_L]`` (one sample, so no batch axis):
``x: (n_0,)``; ``zs[l]``, ``deltas[l]``, ``dbs[l]``: ``(n_{l+1},)``; ``activations[l]``:
``(n_l,)`` from ``a_0 = x`` to ``a_L``; ``dWs[l]``: like ``weights[l]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import MLP


@dataclass
class Trace:
    """Everything one forward and backward pass computes for one labelled digit."""

    label: int
    target: np.ndarray              # one-hot y, (n_L,)
    activations: list[np.ndarray]   # [a_0, ..., a_L]
    zs: list[np.ndarray]            # [z_1, ..., z_L]
    loss: float                     # data loss + L2 term
    deltas: list[np.ndarray]        # [delta_1, ..., delta_L]
    dWs: list[np.ndarray]
    dbs: list[np.ndarray]

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]

    @property
    def prediction(self) -> int:
        return int(self.output.argmax())

    @property
    def grad_norms(self) -> np.ndarray:
        """``‖∂L/∂W_l‖`` per layer, ``(L,)``."""
        return np.array([float(np.linalg.norm(dW)) for dW in self.dWs])


def one_hot(label: int, n_classes: int, dtype=np.float64) -> np.ndarray:
    target = np.zeros(n_classes, dtype)
    target[label] = 1
    return target


def trace(net: MLP, x, label: int) -> Trace:
    """Forward and backward for ``x: (n_0,)`` with its ``label``, keeping every step."""
    X = np.asarray(x, net.dtype).reshape(1, -1)
    Y = one_hot(label, net.layer_sizes[-1], net.dtype)[None, :]
    with np.errstate(all="ignore"):  # a diverged network gives NaN, shown as such
        fwd = net.forward(X, keep_z=True)
        loss = net.data_loss(fwd, Y) + net.l2_term()
        back = net.backward(fwd, Y, keep_deltas=True)
    assert fwd.zs is not None and back.deltas is not None  # kept, as asked for above
    return Trace(int(label), Y[0], [a[0] for a in fwd.activations], [z[0] for z in fwd.zs],
                 float(loss), [d[0] for d in back.deltas], back.dWs, [db for db in back.dbs])


def sgd_step(net: MLP, x, label: int, lr: float) -> tuple[np.ndarray, np.ndarray]:
    """One plain gradient-descent step on this digit alone, in place:
    ``W_l ← W_l - lr ∂L/∂W_l``, ``b_l ← b_l - lr ∂L/∂b_l``.

    Returns the output ``a_L`` before and after the step, both ``(n_L,)``.
    """
    t = trace(net, x, label)
    step = net.dtype.type(lr)
    with np.errstate(all="ignore"):
        for W, b, dW, db in zip(net.weights, net.biases, t.dWs, t.dbs):
            W -= step * dW
            b -= step * db
        after = net.predict_proba(np.asarray(x, net.dtype).reshape(1, -1))[0]
    return t.output, after
