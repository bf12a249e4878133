"""Perturbed digits, and how accuracy falls as the perturbation grows.

Every function takes images as rows ``X: (n, side²)`` with pixels in [0, 1] (MNIST's
``(n, 784)``, ``side = 28``) and returns new float32 rows of the same shape; the input is
never changed. Pixels that come in from outside the image are 0 (background).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NOISE_LEVELS = np.round(np.linspace(0.0, 1.0, 11), 2)  # standard deviation of the noise
SHIFT_LEVELS = np.arange(-4, 5)                         # pixels
ROTATION_LEVELS = np.arange(-45, 46, 5)                 # degrees, counterclockwise


def _side(X: np.ndarray) -> int:
    if X.ndim != 2:
        raise ValueError(f"images must be rows (n, side²), got shape {X.shape}")
    side = math.isqrt(X.shape[1])
    if side * side != X.shape[1]:
        raise ValueError(f"a row of {X.shape[1]} pixels is not a square image")
    return side


def add_noise(X, sigma: float, seed: int = 0) -> np.ndarray:
    """``X`` plus Gaussian noise of standard deviation ``sigma``, clipped to [0, 1].

    The noise comes from ``np.random.default_rng(seed)``: the same seed gives the same
    noise pattern at every ``sigma``, so a sweep over ``sigma`` scales one pattern.
    """
    X = np.asarray(X, dtype=np.float32)
    _side(X)
    return _scaled_noise(X, sigma, lambda: _pattern(X.shape, seed))


def _pattern(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def _scaled_noise(X: np.ndarray, sigma: float, pattern) -> np.ndarray:
    """``clip(X + sigma · pattern(), 0, 1)``; ``pattern`` is only drawn when needed."""
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"the noise level must be a number >= 0, got {sigma}")
    if sigma == 0:
        return X.copy()
    noisy = pattern() * np.float32(sigma)
    noisy += X
    return np.clip(noisy, 0.0, 1.0, out=noisy)


def shift(X, dx: int, dy: int) -> np.ndarray:
    """Move every image ``dx`` pixels right and ``dy`` pixels down (negative: left, up)."""
    X = np.asarray(X, dtype=np.float32)
    side = _side(X)
    dx, dy = int(dx), int(dy)
    images = X.reshape(-1, side, side)
    out = np.zeros_like(images)
    if abs(dx) < side and abs(dy) < side:
        out[:, max(dy, 0):side + min(dy, 0), max(dx, 0):side + min(dx, 0)] = \
            images[:, max(-dy, 0):side - max(dy, 0), max(-dx, 0):side - max(dx, 0)]
    return out.reshape(X.shape)


def rotate(X, degrees: float) -> np.ndarray:
    """Turn every image ``degrees`` counterclockwise about its centre, with bilinear
    interpolation.

    Each output pixel looks up where it came from, the inverse rotation of its position,
    and blends the 4 input pixels around that point by their distances.
    """
    X = np.asarray(X, dtype=np.float32)
    side = _side(X)
    if not np.isfinite(degrees):
        raise ValueError(f"the rotation must be a finite angle, got {degrees}")
    theta = math.radians(degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    centre = (side - 1) / 2
    rows, cols = np.mgrid[0:side, 0:side].astype(np.float64)
    x, up = cols - centre, centre - rows  # screen axes: x to the right, up is up
    # the inverse rotation (by -theta) of each output position gives its source
    r_in = centre - (-sin * x + cos * up)
    c_in = centre + (cos * x + sin * up)
    # a one-pixel zero border: sources beyond it are clipped onto it and read 0
    r_in = np.clip(r_in, -1.0, float(side)) + 1.0
    c_in = np.clip(c_in, -1.0, float(side)) + 1.0
    r0 = np.minimum(np.floor(r_in), side).astype(np.intp)
    c0 = np.minimum(np.floor(c_in), side).astype(np.intp)
    fr = (r_in - r0).astype(np.float32).ravel()
    fc = (c_in - c0).astype(np.float32).ravel()
    padded = np.zeros((len(X), side + 2, side + 2), np.float32)
    padded[:, 1:-1, 1:-1] = X.reshape(-1, side, side)
    flat = padded.reshape(len(X), -1)
    width = side + 2
    top_left = (r0 * width + c0).ravel()
    out = flat[:, top_left] * ((1 - fr) * (1 - fc))
    out += flat[:, top_left + 1] * ((1 - fr) * fc)
    out += flat[:, top_left + width] * (fr * (1 - fc))
    out += flat[:, top_left + width + 1] * (fr * fc)
    return out


def perturb(X, *, degrees: float = 0.0, dx: int = 0, dy: int = 0, sigma: float = 0.0,
            seed: int = 0) -> np.ndarray:
    """Rotate, then shift, then add noise (each skipped when its amount is 0)."""
    X = np.asarray(X, dtype=np.float32)
    if degrees:
        X = rotate(X, degrees)
    if dx or dy:
        X = shift(X, dx, dy)
    return add_noise(X, sigma, seed)


@dataclass
class Sweep:
    """Accuracy of one network under growing perturbations of the same digits.

    ``plain``: accuracy on the digits as they are; every other field is
    ``(levels, accuracies)``, two arrays of the same length.
    """

    plain: float
    noise: tuple[np.ndarray, np.ndarray]
    shift_x: tuple[np.ndarray, np.ndarray]
    shift_y: tuple[np.ndarray, np.ndarray]
    rotation: tuple[np.ndarray, np.ndarray]


def sweep(net, X, y, seed: int = 0) -> Sweep:
    """Accuracy of ``net`` on ``X: (n, 784)``, ``y: (n,)`` with noise of each of
    ``NOISE_LEVELS`` (seeded), horizontal and vertical shifts by ``SHIFT_LEVELS`` and
    rotations by ``ROTATION_LEVELS``. Costs about 45 forward passes over ``X``.

    Raises ValueError when the network's outputs are not finite (a diverged network).
    """
    X = np.asarray(X, dtype=np.float32)
    _side(X)
    # a diverged network overflows; that is detected below and reported in words, and its
    # perturbed accuracies are still plain counts of argmax hits
    with np.errstate(all="ignore"):
        proba = net.predict_proba(X)
        if not np.all(np.isfinite(proba)):
            raise ValueError("the network's outputs are not finite numbers (it has "
                             "diverged), so its accuracy means nothing")
        pattern = _pattern(X.shape, seed)  # drawn once: every level scales the same noise

        def curve(levels, make) -> tuple[np.ndarray, np.ndarray]:
            return levels, np.array([net.accuracy(make(level), y) for level in levels])

        return Sweep(
            plain=float(np.mean(proba.argmax(axis=1) == np.asarray(y))),
            noise=curve(NOISE_LEVELS, lambda s: _scaled_noise(X, s, lambda: pattern)),
            shift_x=curve(SHIFT_LEVELS, lambda d: shift(X, d, 0)),
            shift_y=curve(SHIFT_LEVELS, lambda d: shift(X, 0, d)),
            rotation=curve(ROTATION_LEVELS, lambda a: rotate(X, a)),
        )
