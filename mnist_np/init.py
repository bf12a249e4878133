"""Weight initialisations, by name.

Each takes ``(n_in, n_out, rng, dtype)`` and returns ``(W, b)`` with ``W: (n_in, n_out)``
and ``b: (n_out,)``. All randomness comes from the ``rng`` passed in
(``np.random.default_rng(seed)``), so a seed reproduces a network exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

InitFn = Callable[[int, int, np.random.Generator, np.dtype], tuple[np.ndarray, np.ndarray]]


def uniform(n_in: int, n_out: int, rng: np.random.Generator, dtype) -> tuple:
    """The seed notebook's scheme: weights and biases from U[-1, 1), whatever the width."""
    W = rng.uniform(-1.0, 1.0, size=(n_in, n_out)).astype(dtype)
    b = rng.uniform(-1.0, 1.0, size=n_out).astype(dtype)
    return W, b


def xavier(n_in: int, n_out: int, rng: np.random.Generator, dtype) -> tuple:
    """Glorot uniform: U[-r, r) with r = sqrt(6 / (n_in + n_out)); keeps the variance of
    activations and gradients about equal across sigmoid/tanh layers. Zero biases."""
    r = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-r, r, size=(n_in, n_out)).astype(dtype), np.zeros(n_out, dtype)


def he(n_in: int, n_out: int, rng: np.random.Generator, dtype) -> tuple:
    """He normal: N(0, 2 / n_in), which compensates for ReLU zeroing half its inputs."""
    W = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out)).astype(dtype)
    return W, np.zeros(n_out, dtype)


def normal(n_in: int, n_out: int, rng: np.random.Generator, dtype) -> tuple:
    """Standard normal: weights and biases from N(0, 1), whatever the width, as in
    Nielsen's *Neural Networks and Deep Learning* (chapter 1, ``network.py``). Wide layers
    start saturated with it (his chapter 3 then divides the weights by sqrt(n_in))."""
    W = rng.standard_normal((n_in, n_out)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    return W, b


INITS: dict[str, InitFn] = {"uniform": uniform, "xavier": xavier, "he": he, "normal": normal}
