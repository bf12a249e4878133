"""Figures for the Draw page: the hidden layers' activations for a drawn digit and the
preprocessing of a photo step by step (the digit itself and the answer use :mod:`.images`
and :mod:`.robustness`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnist_np.preprocess import PhotoSteps

from .base import INK, MARGIN


def _grid(a: np.ndarray) -> np.ndarray:
    """``a: (n,)`` laid out row by row in a near-square grid, padded with NaN."""
    cols = math.ceil(math.sqrt(len(a)))
    rows = math.ceil(len(a) / cols)
    grid = np.full(rows * cols, np.nan)
    grid[:len(a)] = a
    return grid.reshape(rows, cols)


def activations_figure(hidden: Sequence[np.ndarray], activation: str) -> go.Figure:
    """Each hidden layer's activations ``a_l: (n_l,)`` for one input, as a grid of units
    (unit ``k`` at row ``k // cols``, column ``k % cols``), on one colour scale:
    brighter is more active."""
    fig = make_subplots(rows=1, cols=len(hidden), horizontal_spacing=0.06,
                        subplot_titles=[f"hidden layer {l + 1} ({len(a)} units)"
                                        for l, a in enumerate(hidden)])
    for l, a in enumerate(hidden):
        grid = _grid(np.asarray(a, float))
        cols = grid.shape[1]
        units = np.arange(grid.size).reshape(grid.shape)
        fig.add_heatmap(z=grid, customdata=units, coloraxis="coloraxis", row=1, col=l + 1,
                        hovertemplate="unit %{customdata}: %{z:.3f}<extra></extra>",
                        xgap=1, ygap=1)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{l + 1 if l else ''}",
                         visible=False, row=1, col=l + 1)
        fig.update_xaxes(visible=False, range=[-0.5, cols - 0.5], row=1, col=l + 1)
    fig.update_layout(title="Hidden layers' activations for this input", height=320,
                      coloraxis=dict(colorscale="Viridis", colorbar=dict(title=activation)),
                      margin={**MARGIN, "t": 70})
    return fig


PHOTO_TILE = 150  # screen pixels per step's image, about
_SHOWN = 140      # a step's image is shown with at most this many pixels a side


def _shown(a: np.ndarray) -> np.ndarray:
    """``a: (h, w)`` thinned to at most :data:`_SHOWN` pixels a side (every k-th row and
    column): the figure stays small however large the photo."""
    k = max(1, math.ceil(max(a.shape) / _SHOWN))
    return np.asarray(a, np.float32)[::k, ::k]


def photo_steps_figure(steps: PhotoSteps) -> go.Figure:
    """The preprocessing of a photo (``mnist_np.preprocess.PhotoSteps``), one image per
    step, left to right: the photo in grey as it is, then the ink (inverted or not), both
    in grey as they look (0 black); then the paper cut at the threshold, the crop, the
    20×20 box and the 28×28 field, drawn as every digit here (ink dark on white). Steps
    that did not happen (no digit found) are left out."""
    # short titles: six of them share a row on a narrow screen
    panels = [("1. photo (grey)", steps.grey, "gray"),
              ("2. inverted" if steps.inverted else "2. not inverted", steps.ink, "gray"),
              (f"3. cut at {steps.threshold:.2f}", steps.cleaned, INK)]
    if steps.cropped is not None and steps.boxed is not None and steps.field is not None:
        h, w = steps.boxed.shape
        panels += [("4. cropped", steps.cropped, INK),
                   (f"5. fit 20×20<br>(w {w}, h {h})", steps.boxed, INK),
                   ("6. 28×28", steps.field, INK)]
    fig = make_subplots(rows=1, cols=len(panels), horizontal_spacing=0.02,
                        subplot_titles=[title for title, _, _ in panels])
    for i, (title, image, colours) in enumerate(panels):
        shown = _shown(image)
        fig.add_heatmap(z=shown, colorscale=colours, zmin=0, zmax=1, showscale=False,
                        hovertemplate=f"{title.replace('<br>', ' ')}: %{{z:.2f}}<extra></extra>",
                        row=1, col=i + 1)
        axis = f"x{i + 1 if i else ''}"
        fig.update_yaxes(autorange="reversed", scaleanchor=axis, visible=False,
                         row=1, col=i + 1)
        fig.update_xaxes(visible=False, constrain="domain", row=1, col=i + 1)
    fig.update_annotations(font_size=11)
    fig.update_layout(height=PHOTO_TILE + 60, margin={**MARGIN, "t": 40, "b": 5},
                      plot_bgcolor="white")
    return fig
