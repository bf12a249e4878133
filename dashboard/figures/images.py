"""Digits as pictures: one image, a gallery of captioned images, and the tiling and
axes they share. Every digit is drawn the same way: ink dark on white, row 0 on top."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .base import INK, empty, layout

GAP, CAPTION = 3, 9  # a gallery's gap between images, and its caption band above each


def side(n_pixels: int) -> int:
    """The side of a square image with ``n_pixels`` pixels; ValueError if not square."""
    s = math.isqrt(n_pixels)
    if s * s != n_pixels:
        raise ValueError(f"{n_pixels} inputs do not form a square image")
    return s


def tile(images: np.ndarray, cols: int, gap: int = 1) -> np.ndarray:
    """Lay ``images: (k, h, w)`` out row by row, ``cols`` per row, with ``gap`` pixels of
    NaN (drawn blank) between them: ``(rows·(h+gap) - gap, cols·(w+gap) - gap)``."""
    k, h, w = images.shape
    rows = max(1, math.ceil(k / cols))
    grid = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        grid[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = image
    return grid


def image_axes(fig: go.Figure) -> go.Figure:
    """Pixels square, row 0 at the top, no ticks."""
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False,
                     showgrid=False, zeroline=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    return fig


def digit_figure(x: np.ndarray, title: str = "a₀ = x: the input image",
                 height: int = 260) -> go.Figure:
    """One input ``x: (784,)`` or ``(28, 28)`` with values in [0, 1] as its image, ink
    dark on white."""
    x = np.asarray(x, np.float32).ravel()
    s = side(len(x))
    fig = go.Figure(go.Heatmap(z=np.asarray(x, np.float32).reshape(s, s), colorscale=INK,
                               zmin=0, zmax=1, showscale=False,
                               hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"))
    return image_axes(layout(fig, title, height=height))


def gallery_figure(images: np.ndarray, captions: Sequence[str], cols: int = 10,
                   tile_px: int = 84, nothing: str = "no digits here") -> go.Figure:
    """Images ``(m, 784)`` side by side, ``cols`` to a row, ink dark on white, each with
    its caption above it; about ``tile_px`` screen pixels per image. With no images, a
    figure that says ``nothing``."""
    images = np.asarray(images, float)
    m = len(images)
    if not m:
        return empty(layout(go.Figure(), "", height=200), nothing)
    s = side(images[0].size)
    images = images.reshape(m, s, s)
    cols = max(1, min(cols, m))
    rows = max(1, math.ceil(m / cols))
    col_step, row_step = s + GAP, s + CAPTION
    # float32: the digits' 256 grey levels lose nothing, and the figure's JSON (binary
    # arrays, base64) is half the size of float64's
    mosaic = np.full((rows * row_step, cols * col_step - GAP), np.nan, np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        top = r * row_step + CAPTION
        mosaic[top:top + s, c * col_step:c * col_step + s] = image
    fig = go.Figure(go.Heatmap(z=mosaic, colorscale=INK, zmin=0, zmax=1,
                               showscale=False, hoverinfo="skip"))
    notes = []
    for i, caption in enumerate(captions[:m]):
        r, c = divmod(i, cols)
        notes.append(dict(x=c * col_step + (s - 1) / 2, y=r * row_step + CAPTION - 1,
                          text=caption, showarrow=False, yanchor="bottom",
                          font=dict(size=11)))
    fig.update_layout(annotations=notes)  # at once: add_annotation per image is slow
    px = tile_px / s  # screen pixels per image pixel
    fig.update_layout(height=round(rows * row_step * px) + 10,
                      width=round((cols * col_step - GAP) * px) + 10,
                      margin=dict(l=5, r=5, t=5, b=5), plot_bgcolor="white")
    fig.update_xaxes(visible=False, range=[-0.5, cols * col_step - GAP - 0.5])
    fig.update_yaxes(visible=False, range=[rows * row_step - 0.5, -0.5],
                     scaleanchor="x", scaleratio=1)
    return fig
