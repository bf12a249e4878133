"""Output layers and their losses, registered as pairs.

Each pairing gives the output activation, the loss, and ``delta``: the gradient of one
sample's loss with respect to the output layer's pre-activation ``z_L``. Fusing them
is what makes the formulas simple and stable: for softmax + cross-entropy and for
sigmoid + cross-entropy ``delta = a - y``; for the seed's sigmoid + MSE
``delta = (a - y) ⊙ a (1 - a)``.

Losses are computed from the logits ``z`` where a log is involved (log-softmax and
softplus), so they stay finite even when ``a`` rounds to exactly 0 or 1.
Shapes: ``z, a, y: (n, k)``; losses return the mean over the ``n`` rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .activations import sigmoid


def softmax(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Row-wise softmax with the row max subtracted first, so exp never overflows."""
    out = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _mse(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
    d = a - y
    return float(0.5 * np.einsum("ij,ij->", d, d) / len(a))


def _mse_delta(a: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    out = np.subtract(a, y, out=out)
    out *= a
    out *= 1 - a
    return out


def _softmax_cross_entropy(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
    return float(-np.einsum("ij,ij->", y, _log_softmax(z)) / len(z))


def _softmax_with_cross_entropy(z: np.ndarray, y: np.ndarray,
                                out: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """``softmax(z)`` (into ``out``) and its mean cross-entropy against ``y`` in one go.

    The shifted logits ``s = z - max`` and the row sums ``Σ e^s`` serve both: with rows
    of ``y`` summing to 1 (one-hot targets), ``-Σ y log a = Σ_rows log Σ e^s - Σ y s``.
    No log-softmax array, and as stable as it: ``s <= 0`` and ``Σ e^s >= 1``.
    """
    shifted = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    picked = np.vdot(y, shifted)
    np.exp(shifted, out=shifted)
    sums = shifted.sum(axis=1, keepdims=True)
    shifted /= sums
    return shifted, float((np.log(sums).sum() - picked) / len(z))


def _row_sums(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=1)`` added column by column, left to right: each row's sum is the
    same whichever rows it is computed with."""
    total = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        total += x[:, j]
    return total


def _softmax_cross_entropy_rows(z: np.ndarray,
                                labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's cross-entropy ``log Σ e^s - s_label`` (``s = z - max``) and whether its
    label is the row's ``argmax``, ``(n,)`` each.

    Computed on the transpose ``(k, n)``, where the max and the sum over the classes are
    k - 1 whole-array operations in a fixed order (three times faster than reducing rows
    of 10; and a row's figures are the same whichever rows it is computed with).
    """
    shifted = np.ascontiguousarray(z.T)
    top = shifted[0].copy()
    for row in shifted[1:]:
        np.maximum(top, row, out=top)
    shifted -= top
    picked = shifted[labels, np.arange(len(labels))]
    hits = picked == 0  # the label's logit is the largest ...
    if np.count_nonzero(shifted == 0) != len(labels):  # ... but another one may tie with it
        hits = z.argmax(axis=1) == labels
    np.exp(shifted, out=shifted)
    return np.log(_row_sums(shifted.T)) - picked, hits


def _one_hot(labels: np.ndarray, k: int, dtype) -> np.ndarray:
    return np.eye(k, dtype=dtype)[labels]


def _mse_rows(z: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = sigmoid(z) - _one_hot(labels, z.shape[1], z.dtype)
    return 0.5 * _row_sums(d * d), z.argmax(axis=1) == labels


def _binary_cross_entropy_rows(z: np.ndarray,
                               labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = _one_hot(labels, z.shape[1], z.dtype)
    losses = _row_sums(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z))
    return losses, z.argmax(axis=1) == labels


def _binary_cross_entropy(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
    # -log σ(z) = softplus(-z) and -log(1 - σ(z)) = softplus(z), both via logaddexp.
    loss = y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)
    return float(loss.sum() / len(z))


def _a_minus_y(a: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.subtract(a, y, out=out)


@dataclass(frozen=True)
class OutputLoss:
    """An output activation fused with its loss.

    ``activate(z, out=None)`` gives ``a_L``; ``loss(z, a, y)`` the batch mean;
    ``delta(a, y, out=None)`` the per-sample ``∂loss/∂z_L`` of shape ``(n, k)``;
    ``fused(z, y, out=None)``, when given, computes ``(a_L, loss)`` for one-hot ``y`` at
    once, sharing the work of the two (softmax + cross-entropy does).
    ``rows(z, labels)``: from the logits and the labels (``(n,)`` ints), each row's loss
    (their mean is ``loss``) and whether the row's largest output is its label's, ``(n,)``
    each: the trainer counts an epoch's loss and accuracy this way from the logits it
    kept, after the steps (the outputs are increasing functions of the logits).
    """

    output: str
    loss_name: str
    activate: Callable[..., np.ndarray]
    loss: Callable[[np.ndarray, np.ndarray, np.ndarray], float]
    delta: Callable[..., np.ndarray]
    latex_output: str
    latex_loss: str
    latex_delta: str
    fused: Callable[..., tuple[np.ndarray, float]] | None = None
    rows: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] = field(
        kw_only=True)

    def activate_loss(self, z: np.ndarray, y: np.ndarray,
                      out: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """``(a_L, loss)`` for one-hot ``y`` in one pass (``fused`` when there
        is one, else ``activate`` then ``loss``)."""
        if self.fused is not None:
            return self.fused(z, y, out=out)
        a = self.activate(z, out=out)
        return a, self.loss(z, a, y)


OUTPUT_LOSSES: dict[tuple[str, str], OutputLoss] = {
    ("sigmoid", "mse"): OutputLoss(
        "sigmoid", "mse", sigmoid, _mse, _mse_delta,
        r"a_L = \sigma(z_L)",
        r"\mathcal{L} = \frac{1}{n}\sum_{i}\tfrac{1}{2}\lVert a_L^{(i)} - y^{(i)}\rVert^2",
        r"\delta_L = (a_L - y) \odot a_L \odot (1 - a_L)", rows=_mse_rows,
    ),
    ("softmax", "cross_entropy"): OutputLoss(
        "softmax", "cross_entropy", softmax, _softmax_cross_entropy, _a_minus_y,
        r"a_L = \mathrm{softmax}(z_L)",
        r"\mathcal{L} = -\frac{1}{n}\sum_{i}\sum_k y^{(i)}_k \log a^{(i)}_{L,k}",
        r"\delta_L = a_L - y", _softmax_with_cross_entropy,
        rows=_softmax_cross_entropy_rows,
    ),
    ("sigmoid", "cross_entropy"): OutputLoss(
        "sigmoid", "cross_entropy", sigmoid, _binary_cross_entropy, _a_minus_y,
        r"a_L = \sigma(z_L)",
        r"\mathcal{L} = -\frac{1}{n}\sum_{i}\sum_k \big[y_k \log a_{L,k}"
        r" + (1 - y_k)\log(1 - a_{L,k})\big]",
        r"\delta_L = a_L - y", rows=_binary_cross_entropy_rows,
    ),
}
