"""Figures for the Draw page: the hidden layers' activations for a drawn digit (the
digit itself and the answer use :mod:`.images` and :mod:`.robustness`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .base import MARGIN


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
