"""Small pieces shared by the "Inside the network" figure builders: the common layout,
the diverging colour scale, layer names, and tiling many 28×28 images into one."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

# Blue for negative, white at 0, red for positive: every signed quantity on these pages.
DIVERGING = "RdBu_r"
# Ink dark on white, as digits are usually drawn.
INK = "Greys"
LAYER_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def layout(fig: go.Figure, title: str, x: str = "", y: str = "", height: int = 340) -> go.Figure:
    """Title, axis titles, a compact margin, and ``uirevision`` so the user's zoom
    survives the live redraws."""
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=height,
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2),
                      uirevision=title)
    return fig


def empty(fig: go.Figure, message: str) -> go.Figure:
    """A figure with nothing to plot says why, in its middle."""
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper",
                       showarrow=False, font=dict(size=14, color="gray"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def layer_name(l: int, n_layers: int) -> str:
    """The name of activation layer ``l`` (0 is the input, ``n_layers`` the output)."""
    if l == 0:
        return "input"
    return "output" if l == n_layers else f"hidden {l}"


def weight_name(l: int, sizes: Sequence[int]) -> str:
    """``W_{l+1}``, what it connects and its shape, e.g. ``W1: input → hidden 1 (784×256)``."""
    L = len(sizes) - 1
    return (f"W{l + 1}: {layer_name(l, L)} → {layer_name(l + 1, L)} "
            f"({sizes[l]}×{sizes[l + 1]})")


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
