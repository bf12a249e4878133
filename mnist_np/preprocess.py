"""Hand-drawn digits made to look like MNIST's, so a network trained on MNIST can read them.

MNIST's digits were made in three steps (LeCun et al.): the ink was cropped, scaled to fit
a 20×20 box keeping its aspect ratio (anti-aliasing gives the grey edges), and placed in a
28×28 field so that its centre of mass sits at the field's centre. :func:`to_mnist` does
the same to a drawing. Measured on the MNIST test set, the centre of mass is at (14.0,
14.0) in pixel-index coordinates (standard deviation 0.3), so that is the target here.

Engine module: NumPy only.
"""

from __future__ import annotations

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
    crop = a[box]
    h, w = crop.shape
    scale = BOX / max(h, w)
    out_h, out_w = max(1, round(h * scale)), max(1, round(w * scale))
    digit = area_weights(h, out_h) @ crop @ area_weights(w, out_w).T
    digit /= digit.max()
    row, col = centre_of_mass(digit)
    top = int(np.clip(round(CENTRE - row), 0, SIZE - out_h))
    left = int(np.clip(round(CENTRE - col), 0, SIZE - out_w))
    field = np.zeros((SIZE, SIZE), np.float32)
    field[top:top + out_h, left:left + out_w] = digit
    return field
