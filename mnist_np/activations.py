"""Hidden-layer activations: a registry of (function, derivative) pairs.

Every derivative is written in terms of the activation's *output* ``a`` (cached by
the forward pass), so backpropagation never needs ``z`` and never re-evaluates an
exponential: for the sigmoid ``σ'(z) = a (1 - a)``, for tanh ``1 - a²``.

Functions work in place when given ``out`` (the training loop passes ``z`` itself),
which keeps the hot path free of temporaries. All forms are stable for any input:
the sigmoid is computed as ``1 / (1 + e^-z)`` with ``z`` floored where ``e^-z`` would
overflow, precise to a few ulps in both tails (see :func:`sigmoid`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.01
# A unit counts as saturated when its derivative is below a tenth of its peak value:
# sigmoid a(1-a) < 0.025, tanh 1-a² < 0.1. For (leaky) ReLU a unit is "dead" when it
# is inactive for every sample of the batch.
_SIGMOID_SATURATED = 0.025
_TANH_SATURATED = 0.1


def _exp_floor(dtype: np.dtype) -> float:
    """The lowest whole ``z`` whose ``e^-z`` is finite in the float ``dtype`` (-88 in
    float32, -709 in float64)."""
    floor = _EXP_FLOORS.get(dtype)
    if floor is None:
        floor = _EXP_FLOORS[dtype] = -math.floor(math.log(float(np.finfo(dtype).max)))
    return floor


_EXP_FLOORS: dict = {}


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """σ(z) = 1 / (1 + e^-z), with ``z`` floored at :func:`_exp_floor` so e^-z never
    overflows.

    Precise to a few ulps, relatively, in both tails: e^-z is computed without a
    cancellation (the former ``(1 + tanh(z/2)) / 2`` subtracted two numbers near 1 for
    z < 0: exactly 0 at z = -40 in float64, where σ is 4.2e-18, and 3% off at z = -15 in
    float32). Below the floor σ is smaller than the dtype's smallest normal number, and
    the floor's value (6e-39 in float32, 1e-308 in float64) is returned. NaN stays NaN.
    """
    if not (isinstance(z, np.ndarray) and z.dtype.kind == "f"):
        z = np.asarray(z, dtype=np.float64)  # whole numbers, lists: as float64
    out = np.maximum(z, _exp_floor(z.dtype), out=np.empty_like(z) if out is None else out)
    np.negative(out, out=out)
    np.exp(out, out=out)  # in (0, e^-floor]: no overflow, and no cancellation below
    out += 1
    return np.reciprocal(out, out=out)


def _sigmoid_grad(a: np.ndarray) -> np.ndarray:
    return a * (1 - a)


def _tanh(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.tanh(z, out=out)


def _tanh_grad(a: np.ndarray) -> np.ndarray:
    return 1 - a * a


_ZEROS: dict = {}


def _zeros_like(z: np.ndarray) -> np.ndarray | float:
    """A read-only array of zeros shaped like ``z``, kept for reuse (0.0 for big arrays).

    ``np.maximum(z, zeros)`` runs numpy's SIMD loop, while ``np.maximum(z, 0)`` takes a
    slower path for the scalar (numpy 2.4: 3x slower on a 128x128 batch), and ReLU runs
    at every training step.
    """
    if not isinstance(z, np.ndarray) or z.size > 1 << 20:
        return 0.0
    key = (z.shape, z.dtype)
    zeros = _ZEROS.get(key)
    if zeros is None:
        if len(_ZEROS) >= 8:
            _ZEROS.clear()
        zeros = np.zeros(z.shape, z.dtype)
        zeros.flags.writeable = False
        _ZEROS[key] = zeros
    return zeros


def _relu(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(z, _zeros_like(z), out=out)


def _relu_backprop(delta: np.ndarray, a: np.ndarray) -> np.ndarray:
    # multiplying by the boolean mask is exactly delta * [a > 0], with one bool temporary
    return np.multiply(delta, a > 0, out=delta)


def _leaky_relu(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    # max(z, slope*z) equals z for z > 0 and slope*z otherwise (0 < slope < 1).
    return np.maximum(z, LEAKY_SLOPE * z, out=out)


def _leaky_relu_backprop(delta: np.ndarray, a: np.ndarray) -> np.ndarray:
    # delta * slope where a <= 0, delta itself elsewhere
    return np.multiply(delta, LEAKY_SLOPE, out=delta, where=~(a > 0))


def _saturated_sigmoid(a: np.ndarray) -> float:
    return float(np.mean(a * (1 - a) < _SIGMOID_SATURATED))


def _saturated_tanh(a: np.ndarray) -> float:
    return float(np.mean(1 - a * a < _TANH_SATURATED))


def _dead_units(a: np.ndarray) -> float:
    # the fraction of columns with no a > 0; ufunc calls directly, as the trainer runs
    # this every step
    alive = np.logical_or.reduce(np.greater(a, 0), axis=0)
    return (alive.size - np.count_nonzero(alive)) / alive.size if alive.size else float("nan")


@dataclass(frozen=True)
class Activation:
    """One hidden-layer nonlinearity.

    ``f(z, out=None)`` maps ``z: (n, units)`` to ``a``; ``grad(a)`` is ``f'(z)`` from the
    output ``a``; ``saturation(a)`` is the fraction of saturated (sigmoid, tanh) or dead
    (ReLU family) units in a batch, a number in [0, 1]; ``latex`` names it in formulas.
    ``backprop(delta, a)`` multiplies ``delta`` by ``f'(z)`` in place and returns it: the
    backward pass's step through this layer. Build entries with :func:`activation`,
    which derives whichever of ``grad`` and ``backprop`` is not given from the other.
    """

    name: str
    f: Callable[..., np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    saturation: Callable[[np.ndarray], float]
    saturation_label: str
    latex: str
    latex_grad: str
    backprop: Callable[[np.ndarray, np.ndarray], np.ndarray]


def activation(name: str, f: Callable[..., np.ndarray],
               saturation: Callable[[np.ndarray], float], saturation_label: str, latex: str,
               latex_grad: str, *, grad: Callable[[np.ndarray], np.ndarray] | None = None,
               backprop: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
               ) -> Activation:
    """An :class:`Activation` from ``grad`` or ``backprop`` (or both).

    Given ``grad`` only, ``backprop`` is ``delta *= grad(a)`` (with ``grad(a)`` as a
    temporary); given ``backprop`` only (a fused form, as for ReLU), ``grad(a)`` is
    ``backprop(ones, a)``, so every entry still carries its derivative.
    """
    if backprop is None:
        if grad is None:
            raise ValueError(f"activation {name!r} needs grad or backprop")
        backprop = _times(grad)
    if grad is None:
        grad = _slope_of(backprop)
    return Activation(name, f, grad, saturation, saturation_label, latex, latex_grad, backprop)


def _times(grad: Callable[[np.ndarray], np.ndarray]
           ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def backprop(delta: np.ndarray, a: np.ndarray) -> np.ndarray:
        return np.multiply(delta, grad(a), out=delta)
    return backprop


def _slope_of(backprop: Callable[[np.ndarray, np.ndarray], np.ndarray]
              ) -> Callable[[np.ndarray], np.ndarray]:
    def grad(a: np.ndarray) -> np.ndarray:
        return backprop(np.ones_like(a), a)
    return grad


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": activation(
        "sigmoid", sigmoid, _saturated_sigmoid, "saturated",
        r"\sigma(z) = \frac{1}{1 + e^{-z}}", r"\sigma'(z) = a\,(1 - a)", grad=_sigmoid_grad,
    ),
    "tanh": activation(
        "tanh", _tanh, _saturated_tanh, "saturated",
        r"\tanh(z)", r"\tanh'(z) = 1 - a^2", grad=_tanh_grad,
    ),
    "relu": activation(
        "relu", _relu, _dead_units, "dead",
        r"\mathrm{relu}(z) = \max(0, z)", r"\mathrm{relu}'(z) = [z > 0]",
        backprop=_relu_backprop,
    ),
    "leaky_relu": activation(
        "leaky_relu", _leaky_relu, _dead_units, "dead",
        rf"\mathrm{{lrelu}}(z) = \max({LEAKY_SLOPE}z, z)",
        rf"\mathrm{{lrelu}}'(z) = 1 \text{{ if }} z > 0 \text{{ else }} {LEAKY_SLOPE}",
        backprop=_leaky_relu_backprop,
    ),
}
