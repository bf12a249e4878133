"""Generated photos of handwritten digits, and hostile image files, for the tests of the
photo upload (engine preprocessing, the dashboard's reader, the Draw page)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np


def photographed(x784: np.ndarray, dark_on_light: bool = True, seed: int = 0,
                 shape: tuple[int, int] = (360, 300), scale: int = 9,
                 at: tuple[int, int] = (40, 30)) -> np.ndarray:
    """An MNIST digit as a phone would photograph it on paper: ``scale`` times larger, at
    ``at`` (top, left) in a ``shape`` grey picture with uneven lighting, sensor noise and a
    few specks of dust; dark ink on light paper (or light on dark). ``(h, w)`` uint8."""
    rng = np.random.default_rng(seed)
    h, w = shape
    digit = np.kron(np.asarray(x784, float).reshape(28, 28), np.ones((scale, scale)))
    ink = np.zeros(shape)
    top, left = at
    ink[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    rows, cols = np.mgrid[0:h, 0:w]
    paper = 0.72 + 0.15 * cols / w + 0.05 * rows / h  # lit from one side
    for r, c in rng.integers([0, 0], [h, w], (6, 2)):  # dust: single dark pixels
        ink[r, c] = max(ink[r, c], 0.9)
    picture = paper * (1 - 0.85 * ink) if dark_on_light else 0.1 + 0.8 * ink
    picture = picture + rng.normal(0, 0.02, shape)
    return np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8)


def encoded(grey: np.ndarray, fmt: str = "PNG", mode: str = "L", **save) -> bytes:
    """``grey: (h, w)`` uint8 as a PNG or JPEG file (in ``mode``: L, RGB, RGBA ...)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(grey, "L").convert(mode).save(buffer, fmt, **save)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width × height`` pixels (8-bit grey), with one
    small compressed chunk of zeros: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
