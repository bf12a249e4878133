"""Data augmentation while training: every mini-batch is distorted afresh, so the network
never sees exactly the same digit twice.

Images are rows ``X: (n, side²)`` with pixels in [0, 1] (MNIST's ``(n, 784)``, ``side = 28``);
every function returns new rows of the same shape and dtype and never changes its input.
Pixels that come in from outside the image are 0 (background).

The geometric transforms move pixels by *inverse mapping*: each output pixel asks where
it came from, and reads that point of the input by bilinear interpolation (the 4 pixels
around it, weighted by their distances). Shifts, rotations, scalings and the elastic
distortion are composed into one such map, so a batch is resampled once however many
transforms are on. The elastic distortion is Simard, Steinkraus & Platt (2003): a random
displacement per pixel, each component uniform in [-1, 1], smoothed by a Gaussian of
standard deviation σ (a separable convolution: two small matrix products) and scaled by α.
Pixel noise is added last, and the result clipped to [0, 1].

Screen axes throughout: a positive shift ``dx`` moves right, ``dy`` down; a positive angle
turns counterclockwise; a scale factor above 1 enlarges about the image's centre.

Engine module: NumPy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ELASTIC_SIGMA = 4.0  # σ of Simard et al. (they pair it with α = 34 on 28×28 digits)

# The largest amount of each transform a run may ask for: past these the digits are
# unrecognisable (or, for scale, turned inside out).
LIMITS = {"shift": 8.0, "rotate": 90.0, "scale": 0.5, "elastic": 60.0, "noise": 1.0}


@dataclass(frozen=True)
class Augmentation:
    """How much to distort each training batch; each amount is drawn per image,
    uniformly within its range, and 0 turns that transform off.

    ``shift``: at most this many pixels along each axis; ``rotate``: at most this many
    degrees either way; ``scale``: a factor in ``[1 - scale, 1 + scale]``; ``elastic``:
    α, the displacement field's scale in pixels (σ is ``sigma``); ``noise``: the standard
    deviation of Gaussian pixel noise.
    """

    shift: float = 0.0
    rotate: float = 0.0
    scale: float = 0.0
    elastic: float = 0.0
    noise: float = 0.0
    sigma: float = ELASTIC_SIGMA

    def __post_init__(self):
        problem = check(**{k: getattr(self, k) for k in LIMITS})
        if problem:
            raise ValueError(problem)
        if not (isinstance(self.sigma, (int, float)) and math.isfinite(self.sigma)
                and self.sigma > 0):
            raise ValueError(f"the elastic σ must be a number > 0, got {self.sigma}")

    @property
    def active(self) -> bool:
        return any(getattr(self, k) for k in LIMITS)

    @property
    def geometric(self) -> bool:
        return bool(self.shift or self.rotate or self.scale or self.elastic)

    def __call__(self, X, rng: np.random.Generator) -> np.ndarray:
        """``X`` distorted with amounts drawn from ``rng`` (see :func:`augment`)."""
        return augment(X, rng, self)


def check(**amounts) -> str | None:
    """A one-line problem with the augmentation ``amounts`` (keyword per :data:`LIMITS`),
    or None when each is a number in ``[0, LIMITS[name]]``."""
    for name, value in amounts.items():
        high = LIMITS[name]
        if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value) and 0 <= value <= high):
            return f"the {name} augmentation must be a number in [0, {high:g}], got {value}"
    return None


def _images(X) -> np.ndarray:
    """``X: (n, side²)`` float as ``(n, side, side)`` (a view); ValueError otherwise."""
    X = np.asarray(X)
    if X.dtype.kind != "f":
        X = X.astype(np.float32)
    if X.ndim != 2:
        raise ValueError(f"images must be rows (n, side²), got shape {X.shape}")
    side = math.isqrt(X.shape[1])
    if side * side != X.shape[1] or side < 2:
        raise ValueError(f"a row of {X.shape[1]} pixels is not a square image")
    return X.reshape(len(X), side, side)


def _per_image(value, n: int) -> np.ndarray:
    """A number, or one per image, as ``(n,)`` float64."""
    a = np.broadcast_to(np.asarray(value, np.float64), (n,))
    if not np.all(np.isfinite(a)):
        raise ValueError("transform amounts must be finite numbers")
    return a


# -- the two building blocks: a smoothing and a resampling --------------------------------
def gaussian_matrix(size: int, sigma: float) -> np.ndarray:
    """``G: (size, size)``: ``G @ f`` convolves each column of ``f`` with a Gaussian of
    standard deviation ``sigma`` (truncated at 4σ), zeros beyond the edges. The kernel is
    normalised to sum to 1 before truncation by the edges."""
    i = np.arange(size)
    d = i[:, None] - i[None, :]
    radius = math.ceil(4 * sigma)
    taps = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (taps / sigma) ** 2)
    kernel /= kernel.sum()
    G = np.where(np.abs(d) <= radius, kernel[np.clip(d + radius, 0, 2 * radius)], 0.0)
    return G


def smooth(fields: np.ndarray, sigma: float) -> np.ndarray:
    """``fields: (n, h, w)`` each convolved with a 2-D Gaussian of standard deviation
    ``sigma`` (zero padding). The 2-D Gaussian is separable: along rows, then along
    columns, each one matrix product over the whole batch, ``G_h @ f @ G_wᵀ``."""
    n, h, w = fields.shape
    G_h = gaussian_matrix(h, sigma).astype(fields.dtype)
    G_w = gaussian_matrix(w, sigma).astype(fields.dtype)
    # one (n·h, w) @ (w, w) product, then one (n·w, h) @ (h, h) on the transposed stack:
    # two large products are far faster than n small ones
    along_w = (fields.reshape(n * h, w) @ G_w.T).reshape(n, h, w)
    along_h = along_w.transpose(0, 2, 1).reshape(n * w, h) @ G_h.T
    return along_h.reshape(n, w, h).transpose(0, 2, 1)


def bilinear(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``out[k, i, j]`` = ``images[k]`` read at the real-valued point ``(rows[k, i, j],
    cols[k, i, j])`` by bilinear interpolation, 0 outside the image.
    ``images: (n, h, w)``, ``rows``, ``cols: (n, h, w)``; the result has ``images``' dtype.

    The images get a one-pixel zero border and every point is clipped onto it, so a
    point anywhere outside reads 0 and one within a pixel of the edge blends with 0.
    """
    n, h, w = images.shape
    dtype = images.dtype
    padded = np.zeros((n, h + 2, w + 2), dtype)
    padded[:, 1:-1, 1:-1] = images
    r = np.clip(rows, -1.0, float(h)) + 1.0
    c = np.clip(cols, -1.0, float(w)) + 1.0
    r0 = np.minimum(np.floor(r), h).astype(np.intp)  # so r0 + 1 is still inside
    c0 = np.minimum(np.floor(c), w).astype(np.intp)
    fr = (r - r0).astype(dtype)
    fc = (c - c0).astype(dtype)
    width = w + 2
    flat = padded.reshape(-1)
    top_left = r0 * width + c0
    top_left += (np.arange(n) * ((h + 2) * width)).reshape(n, 1, 1)
    # the 4 neighbours, gathered through shifted views (no index arrays added up), then
    # three linear blends in place: along the top row, the bottom row, then between them
    # (a fraction of 0 leaves a pixel exactly as it was)
    out, right = flat[top_left], flat[1:][top_left]
    below, below_right = flat[width:][top_left], flat[width + 1:][top_left]
    right -= out
    right *= fc
    out += right
    below_right -= below
    below_right *= fc
    below += below_right
    below -= out
    below *= fr
    out += below
    return out


def _grid(n: int, side: int, degrees=0.0, scale=1.0, dx=0.0, dy=0.0):
    """Where each output pixel of ``n`` images comes from, ``(rows, cols)``, each
    ``(n, side, side)`` float32, for the map that scales by ``scale`` and turns by
    ``degrees`` about the centre, then shifts by ``(dx, dy)`` (each a number or ``(n,)``).

    The map takes a point ``q`` (centred screen coordinates: x right, up) to
    ``p = s·R(θ)·q + t``; the output at ``p`` reads the input at its inverse,
    ``q = R(-θ)·(p - t) / s``, which per image is ``qx = A·x + B·up + C``,
    ``qu = -B·x + A·up + D`` with ``A = cos θ / s``, ``B = sin θ / s``.
    """
    theta = np.radians(_per_image(degrees, n))
    s = _per_image(scale, n)
    tx, t_up = _per_image(dx, n), -_per_image(dy, n)  # down on screen is minus up
    cos, sin = np.cos(theta), np.sin(theta)
    A, B = cos / s, sin / s
    C, D = -(A * tx + B * t_up), B * tx - A * t_up

    def per_image(a):
        return a.astype(np.float32).reshape(n, 1, 1)

    A, B, C, D = map(per_image, (A, B, C, D))
    centre = np.float32((side - 1) / 2)
    axis = np.arange(side, dtype=np.float32) - centre
    x, up = axis.reshape(1, 1, side), -axis.reshape(1, side, 1)
    rows = centre - (A * up - B * x + D)  # centre - qu
    cols = centre + (A * x + B * up + C)  # centre + qx
    return rows, cols


def _resample(X: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``X``'s images read at ``(rows, cols)``, as rows again, in [0, 1] (bilinear
    weights sum to 1 only up to rounding)."""
    images = _images(X)
    out = bilinear(images, rows, cols).reshape(len(images), -1)
    return np.clip(out, 0.0, 1.0, out=out)


# -- each transform alone, with amounts given (one per image, or one for all) -------------
def shift(X, dx, dy) -> np.ndarray:
    """Every image moved ``dx`` pixels right and ``dy`` down (numbers or ``(n,)``;
    fractions interpolate)."""
    images = _images(X)
    n, side, _ = images.shape
    return _resample(images.reshape(n, -1), *_grid(n, side, dx=dx, dy=dy))


def rotate(X, degrees) -> np.ndarray:
    """Every image turned ``degrees`` counterclockwise about its centre."""
    images = _images(X)
    n, side, _ = images.shape
    return _resample(images.reshape(n, -1), *_grid(n, side, degrees=degrees))


def scale(X, factor) -> np.ndarray:
    """Every image enlarged by ``factor`` (below 1: shrunk) about its centre."""
    factor = _per_image(factor, len(np.asarray(X)))
    if np.any(factor <= 0):
        raise ValueError("a scale factor must be > 0")
    images = _images(X)
    n, side, _ = images.shape
    return _resample(images.reshape(n, -1), *_grid(n, side, scale=factor))


def displacement(n: int, side: int, alpha: float, sigma: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Simard's random displacement fields ``(d_rows, d_cols)``, each ``(n, side, side)``
    float32: uniform in [-1, 1] per pixel, smoothed by a Gaussian of ``sigma``, times
    ``alpha``. Draws ``2·n·side²`` numbers from ``rng``."""
    field = rng.random((2 * n, side, side), dtype=np.float32)
    field -= 0.5  # uniform in [-0.5, 0.5): the factor 2 goes into alpha
    field = smooth(field, sigma) * np.float32(2 * alpha)
    return field[:n], field[n:]


def elastic(X, alpha: float, sigma: float = ELASTIC_SIGMA,
            rng: np.random.Generator | None = None) -> np.ndarray:
    """Every image distorted by its own random displacement field (see
    :func:`displacement`); ``alpha=0`` returns the images unchanged."""
    images = _images(X)
    n, side, _ = images.shape
    rng = np.random.default_rng() if rng is None else rng
    d_rows, d_cols = displacement(n, side, alpha, sigma, rng)
    rows, cols = np.mgrid[0:side, 0:side].astype(np.float32)
    return _resample(images.reshape(n, -1), rows + d_rows, cols + d_cols)


def add_noise(X, std: float, rng: np.random.Generator) -> np.ndarray:
    """``X`` plus Gaussian noise of standard deviation ``std``, clipped to [0, 1]."""
    images = _images(X)
    X = images.reshape(len(images), -1)
    noisy = rng.standard_normal(X.shape, dtype=np.float64 if X.dtype == np.float64
                                else np.float32).astype(X.dtype, copy=False)
    noisy *= X.dtype.type(std)
    noisy += X
    return np.clip(noisy, 0.0, 1.0, out=noisy)


# -- all of them, with random amounts ------------------------------------------------------
def augment(X, rng: np.random.Generator, aug: Augmentation) -> np.ndarray:
    """``X: (n, side²)`` with each image distorted by amounts drawn from ``rng`` within
    ``aug``'s ranges: one resampling for the shift, rotation, scale and elastic
    distortion together, then the noise. With nothing active, a copy of ``X``.

    What is drawn, in this order and only when its transform is on: the angles, the
    scale factors, the shifts ``(dx, dy)`` (each ``(n,)``), the displacement fields,
    the noise. The same ``rng`` state gives the same batch.
    """
    images = _images(X)
    n, side, _ = images.shape
    X = images.reshape(n, -1)
    if aug.geometric:
        degrees = rng.uniform(-aug.rotate, aug.rotate, n) if aug.rotate else 0.0
        factors = rng.uniform(1 - aug.scale, 1 + aug.scale, n) if aug.scale else 1.0
        dx, dy = rng.uniform(-aug.shift, aug.shift, (2, n)) if aug.shift else (0.0, 0.0)
        rows, cols = _grid(n, side, degrees, factors, dx, dy)
        if aug.elastic:
            d_rows, d_cols = displacement(n, side, aug.elastic, aug.sigma, rng)
            rows += d_rows
            cols += d_cols
        X = _resample(X, rows, cols)
    if aug.noise:
        return add_noise(X, aug.noise, rng)
    return X if aug.geometric else X.copy()
