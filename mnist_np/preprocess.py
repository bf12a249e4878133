"""Hand-drawn digits made to look like MNIST's, so a network trained on MNIST can read them.

MNIST's digits were made in three steps (LeCun et al.): the ink was cropped, scaled to fit
a 20×20 box keeping its aspect ratio (anti-aliasing gives the grey edges), and placed in a
28×28 field so that its centre of mass sits at the field's centre. :func:`to_mnist` does
the same to a drawing; :func:`photo_steps` first makes a photo of a digit on paper into
such a drawing (light ink on black, the paper at 0) and keeps every step to show.
Measured on the MNIST test set, the centre of mass is at (14.0, 14.0) in pixel-index
coordinates (standard deviation 0.3), so that is the target here.

Engine module: NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIZE = 28            # the field, in pixels
BOX = 20             # the longer side of the digit after scaling
CENTRE = 14.0        # MNIST's mean centre of mass, row and column, in index coordinates
INK = 0.1            # intensity (in [0, 1]) from which a pixel counts as ink when cropping


def as_intensity(image) -> np.ndarray:
    """A grey image, white ink on black, as float64 in [0, 1]: ``(h, w)`` uint8 in
    0..255 or floats in [0, 1]. Raise ValueError with a one-line message otherwise."""
    a = np.asarray(image)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"a drawing must be a 2-D grey image, got shape {a.shape}")
    if a.dtype == np.uint8:
        return a / 255.0
    if a.dtype.kind not in "fiu":
        raise ValueError(f"a drawing must hold numbers, got {a.dtype}")
    a = a.astype(float)
    if not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 1:
        raise ValueError("a drawing's intensities must be in [0, 1] (or uint8 0..255)")
    return a


def area_weights(n_in: int, n_out: int) -> np.ndarray:
    """``R: (n_out, n_in)``: output pixel ``i`` covers ``[i, i+1) · n_in/n_out`` of the
    input, and ``R[i, j]`` is the share of that interval which input pixel ``j`` covers.
    Rows sum to 1, so ``R @ x`` resamples by averaging areas (anti-aliased when shrinking).
    """
    edges = np.arange(n_out + 1) * (n_in / n_out)
    j = np.arange(n_in)
    overlap = (np.minimum(edges[1:, None], j + 1) - np.maximum(edges[:-1, None], j)).clip(0)
    return overlap / overlap.sum(axis=1, keepdims=True)


def ink_box(a: np.ndarray, threshold: float = INK) -> tuple[slice, slice] | None:
    """The rows and columns that hold ink (``a > threshold``), or None for none."""
    ink = a > threshold
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if len(rows) == 0:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    """``(row, column)`` of the intensity-weighted mean pixel index of ``a: (h, w)``."""
    total = a.sum()
    return (float(a.sum(axis=1) @ np.arange(a.shape[0]) / total),
            float(a.sum(axis=0) @ np.arange(a.shape[1]) / total))


def to_mnist(image) -> np.ndarray | None:
    """A drawing ``(h, w)`` (white ink on black) as MNIST would have it: ``(28, 28)``
    float32 in [0, 1], or None when there is no ink to read.

    Cropped to the ink, scaled (area averaging) so the longer side is 20 pixels, scaled
    in intensity so the darkest ink is 1, and placed so its centre of mass is at (14, 14),
    moved back inside the field if that would cut off ink (only for very lopsided shapes).
    """
    a = as_intensity(image)
    box = ink_box(a)
    if box is None:
        return None
    return place(fit_box(a[box]))


def fit_box(crop: np.ndarray) -> np.ndarray:
    """``crop: (h, w)`` scaled (area averaging) so its longer side is :data:`BOX` pixels,
    keeping its aspect ratio, and in intensity so its brightest pixel is 1."""
    h, w = crop.shape
    scale = BOX / max(h, w)
    out_h, out_w = max(1, round(h * scale)), max(1, round(w * scale))
    digit = area_weights(h, out_h) @ crop @ area_weights(w, out_w).T
    return digit / digit.max()


def place(digit: np.ndarray) -> np.ndarray:
    """``digit: (h, w)`` (at most 28×28) in a 28×28 float32 field with its centre of mass
    at (14, 14), moved back inside the field if that would cut off ink."""
    out_h, out_w = digit.shape
    row, col = centre_of_mass(digit)
    top = int(np.clip(round(CENTRE - row), 0, SIZE - out_h))
    left = int(np.clip(round(CENTRE - col), 0, SIZE - out_w))
    field = np.zeros((SIZE, SIZE), np.float32)
    field[top:top + out_h, left:left + out_w] = digit
    return field


# -- a photo of a digit on paper --------------------------------------------------------
BORDER = 0.05   # the frame (fraction of each side) whose median tells the paper's shade
SPECKS = 0.005  # ink mass left out on each side when cropping (dust and shadows)
MIN_CONTRAST = 0.08  # a photo whose shades span less than this holds no readable digit


@dataclass
class PhotoSteps:
    """What :func:`photo_steps` did to a photo, each step an image in [0, 1] (``h, w``
    the photo's size). ``field`` is None, and ``problem`` says why in one line, when no
    digit could be found."""

    grey: np.ndarray            # (h, w) float64: the photo, 0 black .. 1 white
    inverted: bool              # dark ink on light paper, turned light on dark
    ink: np.ndarray             # (h, w): ink light on a dark background
    threshold: float            # Otsu's threshold between paper and ink, on ``ink``
    cleaned: np.ndarray         # (h, w): the paper at 0, the ink stretched to [0, 1]
    cropped: np.ndarray | None  # the box holding the ink
    boxed: np.ndarray | None    # the crop scaled so its longer side is 20 pixels
    field: np.ndarray | None    # (28, 28) float32: placed by its centre of mass
    problem: str = ""


def otsu_threshold(a: np.ndarray, bins: int = 256) -> float:
    """The threshold on ``a`` (values in [0, 1]) that best splits it in two classes:
    Otsu's, the one that maximises the between-class variance of a ``bins`` histogram."""
    counts, edges = np.histogram(a, bins=bins, range=(0.0, 1.0))
    p = counts / max(1, counts.sum())
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(p)                     # weight of the class below each cut
    m0 = np.cumsum(p * centres)           # its (unnormalised) mean
    total = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total * w0 - m0) ** 2 / (w0 * (1 - w0))
    between[~np.isfinite(between)] = -1.0
    return float(edges[int(np.argmax(between)) + 1])


def mass_box(a: np.ndarray, tail: float = SPECKS) -> tuple[slice, slice] | None:
    """The rows and columns that hold all of ``a``'s mass but ``tail`` on each side
    along each axis (specks far from the digit fall outside), or None for no mass."""
    total = a.sum()
    if not total > 0:
        return None

    def span(profile: np.ndarray) -> slice:
        cum = np.cumsum(profile) / total
        first = int(np.searchsorted(cum, tail, side="right"))
        last = int(np.searchsorted(cum, 1 - tail, side="left"))
        return slice(first, max(first, min(last, len(profile) - 1)) + 1)

    return span(a.sum(axis=1)), span(a.sum(axis=0))


def photo_steps(image) -> PhotoSteps:
    """A photo of one handwritten digit ``(h, w)`` (grey uint8 0..255 or floats in
    [0, 1], 0 black) made MNIST-like step by step: inverted if its background is light
    (dark ink on paper), cut at Otsu's threshold so the paper is 0 and the ink stretched
    to [0, 1], cropped to the box holding the ink's mass, scaled to fit 20×20 and placed
    in 28×28 by its centre of mass (:func:`fit_box`, :func:`place`, as :func:`to_mnist`).
    Raise ValueError (one line) for what is not a grey image."""
    grey = as_intensity(image)
    h, w = grey.shape
    bh, bw = max(1, round(h * BORDER)), max(1, round(w * BORDER))
    frame = np.concatenate([grey[:bh].ravel(), grey[-bh:].ravel(),
                            grey[:, :bw].ravel(), grey[:, -bw:].ravel()])
    inverted = bool(np.median(frame) > 0.5)
    ink = 1.0 - grey if inverted else grey
    low, high = float(ink.min()), float(ink.max())
    if high - low < MIN_CONTRAST:
        return PhotoSteps(grey, inverted, ink, high, np.zeros_like(ink), None, None, None,
                          "the image is nearly one shade: there is no digit to see")
    threshold = otsu_threshold(ink)
    cleaned = np.clip((ink - threshold) / (high - threshold), 0.0, 1.0)
    box = mass_box(cleaned)
    if box is None:
        return PhotoSteps(grey, inverted, ink, threshold, cleaned, None, None, None,
                          "no ink stands out from the background")
    cropped = cleaned[box]
    boxed = fit_box(cropped)
    return PhotoSteps(grey, inverted, ink, threshold, cleaned, cropped, boxed, place(boxed))
