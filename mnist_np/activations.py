"""Hidden-layer activations: a registry of (function, derivative) pairs.

Every derivative is written in terms of the activation's *output* ``a`` (cached by
the forward pass), so backpropagation never needs ``z`` and never re-evaluates an
exponential: for the sigmoid ``σ'(z) = a (1 - a)``, for tanh ``1 - a²``.

Functions work in place when given ``out`` (the training loop passes ``z`` itself),
which keeps the hot path free of temporaries. All forms are stable for any input:
the sigmoid is computed as ``(1 + tanh(z / 2)) / 2``, which cannot overflow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.01
# A unit counts as saturated when its derivative is below a tenth of its peak value:
# sigmoid a(1-a) < 0.025, tanh 1-a² < 0.1. For (leaky) ReLU a unit is "dead" when it
# is inactive for every sample of the batch.
_SIGMOID_SATURATED = 0.025
_TANH_SATURATED = 0.1


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """σ(z) = 1 / (1 + e^-z), computed as (1 + tanh(z/2)) / 2: no overflow at any z."""
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


def _sigmoid_grad(a: np.ndarray) -> np.ndarray:
    return a * (1 - a)


def _tanh(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.tanh(z, out=out)


def _tanh_grad(a: np.ndarray) -> np.ndarray:
    return 1 - a * a


def _relu(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(z, 0, out=out)


def _relu_grad(a: np.ndarray) -> np.ndarray:
    return (a > 0).astype(a.dtype)


def _leaky_relu(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    # max(z, slope*z) equals z for z > 0 and slope*z otherwise (0 < slope < 1).
    return np.maximum(z, LEAKY_SLOPE * z, out=out)


def _leaky_relu_grad(a: np.ndarray) -> np.ndarray:
    # The sign of a equals the sign of z, so the output is enough.
    return np.where(a > 0, a.dtype.type(1), a.dtype.type(LEAKY_SLOPE))


def _saturated_sigmoid(a: np.ndarray) -> float:
    return float(np.mean(a * (1 - a) < _SIGMOID_SATURATED))


def _saturated_tanh(a: np.ndarray) -> float:
    return float(np.mean(1 - a * a < _TANH_SATURATED))


def _dead_units(a: np.ndarray) -> float:
    return float(np.mean(~(a > 0).any(axis=0)))


@dataclass(frozen=True)
class Activation:
    """One hidden-layer nonlinearity.

    ``f(z, out=None)`` maps ``z: (n, units)`` to ``a``; ``grad(a)`` is ``f'(z)`` from the
    output ``a``; ``saturation(a)`` is the fraction of saturated (sigmoid, tanh) or dead
    (ReLU family) units in a batch, a number in [0, 1]; ``latex`` names it in formulas.
    """

    name: str
    f: Callable[..., np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    saturation: Callable[[np.ndarray], float]
    saturation_label: str
    latex: str
    latex_grad: str


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(
        "sigmoid", sigmoid, _sigmoid_grad, _saturated_sigmoid, "saturated",
        r"\sigma(z) = \frac{1}{1 + e^{-z}}", r"\sigma'(z) = a\,(1 - a)",
    ),
    "tanh": Activation(
        "tanh", _tanh, _tanh_grad, _saturated_tanh, "saturated",
        r"\tanh(z)", r"\tanh'(z) = 1 - a^2",
    ),
    "relu": Activation(
        "relu", _relu, _relu_grad, _dead_units, "dead",
        r"\mathrm{relu}(z) = \max(0, z)", r"\mathrm{relu}'(z) = [z > 0]",
    ),
    "leaky_relu": Activation(
        "leaky_relu", _leaky_relu, _leaky_relu_grad, _dead_units, "dead",
        rf"\mathrm{{lrelu}}(z) = \max({LEAKY_SLOPE}z, z)",
        rf"\mathrm{{lrelu}}'(z) = 1 \text{{ if }} z > 0 \text{{ else }} {LEAKY_SLOPE}",
    ),
}
