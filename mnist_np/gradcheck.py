"""Checking backpropagation against finite differences, on a few weights.

For one parameter ``w`` the central difference ``(L(w + ε) - L(w - ε)) / 2ε`` agrees with
``∂L/∂w`` up to ``O(ε²)``. It is computed in float64 on a copy of the network, so the
rounding error of float32 (about 1e-7 relative) does not drown the comparison, and the
network being checked is never touched.

Rounding still limits the difference quotient: ``L(w ± ε)`` carry an absolute error of a
few ``eps·max(1, |L|)`` (``eps`` = 2.2e-16), which the division by ``2ε`` turns into about
``eps·max(1, |L|) / ε`` ≈ 1e-10 in the numeric gradient. When the loss is already tiny (a
confident right answer) the gradients themselves are that small, so their *relative* error
looks large although both agree to within rounding; :attr:`Check.agrees` allows for that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import MLP

EPSILON = 1e-6
RTOL = 1e-5  # agreement expected when rounding is not in the way
_EPS64 = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Check:
    """One parameter: ``layer`` is 1-based (``W_1`` is ``weights[0]``), ``param`` is
    ``"W"`` or ``"b"``, ``index`` its position in that array."""

    layer: int
    param: str
    index: tuple[int, ...]
    backprop: float
    numeric: float
    rel_error: float
    rounding: float  # the numeric gradient's rounding error bound, 10·eps·max(1, |L|) / ε

    @property
    def agrees(self) -> bool:
        """Equal up to ``RTOL`` relative error, or up to rounding."""
        diff = abs(self.backprop - self.numeric)
        return bool(diff <= RTOL * max(abs(self.backprop), abs(self.numeric)) + self.rounding)


def float64_copy(net: MLP) -> MLP:
    """The same network in float64 (same config otherwise, copied weights)."""
    clone = MLP(**net.config | {"dtype": "float64"})
    clone.weights = [W.astype(np.float64) for W in net.weights]
    clone.biases = [b.astype(np.float64) for b in net.biases]
    return clone


def relative_error(a: float, b: float) -> float:
    """``|a - b| / max(|a|, |b|)``, 0 when both are 0, NaN when either is not finite."""
    if not (np.isfinite(a) and np.isfinite(b)):
        return float("nan")
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale > 0 else 0.0


def _pick(grad: np.ndarray, k: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """``k`` random positions in ``grad``, preferring ones where the gradient is not 0
    (an input pixel that is 0 gives an exact 0 = 0 that checks nothing)."""
    nonzero = np.flatnonzero(grad)
    pool = nonzero if len(nonzero) >= k else np.arange(grad.size)
    flat = rng.choice(pool, size=min(k, len(pool)), replace=False)
    return [tuple(int(i) for i in np.unravel_index(f, grad.shape)) for f in np.sort(flat)]


def gradient_check(net: MLP, X, Y, per_layer: int = 2, eps: float = EPSILON,
                   seed: int = 0, masks: list[np.ndarray] | None = None) -> list[Check]:
    """Compare backprop with central differences on ``per_layer`` weights and one bias of
    every layer, for the loss of ``X: (n, n_0)`` against one-hot ``Y: (n, n_L)``.
    ``masks``: dropout masks (:func:`training.dropout_masks`), held fixed for every
    evaluation, so the loss is a smooth function of the weights and dropout's backward
    is checked."""
    net64 = float64_copy(net)
    X = np.asarray(X, np.float64)
    Y = np.asarray(Y, np.float64)
    if masks is not None:
        masks = [np.asarray(m, np.float64) for m in masks]
    # (a subclass's gradients(X, Y) that knows no masks is still checked without them)
    dWs, dbs = net64.gradients(X, Y) if masks is None else net64.gradients(X, Y, masks)
    rounding = 10 * _EPS64 * max(1.0, abs(net64.loss(X, Y, masks))) / eps
    rng = np.random.default_rng(seed)
    checks = []
    for l in range(len(net64.weights)):
        picks = [("W", i) for i in _pick(dWs[l], per_layer, rng)]
        picks += [("b", i) for i in _pick(dbs[l], 1, rng)]
        for param, index in picks:
            array = (net64.weights if param == "W" else net64.biases)[l]
            grad = (dWs if param == "W" else dbs)[l]
            original = array[index]
            array[index] = original + eps
            up = net64.loss(X, Y, masks)
            array[index] = original - eps
            down = net64.loss(X, Y, masks)
            array[index] = original
            numeric = (up - down) / (2 * eps)
            backprop = float(grad[index])
            checks.append(Check(l + 1, param, index, backprop, numeric,
                                relative_error(backprop, numeric), rounding))
    return checks
