"""Figure builders for the Gradients page: per-layer curves over training (gradient
norms, update/weight ratios, saturation) and per-layer bars for the network as it is now.

Curves take the trainer's history columns: ``steps: (points,)`` and ``values:
(points, layers)``; bars take one value per layer. The steps need not be evenly spaced:
the trainer measures its first 100 steps and then one in ``stats_every`` (see
``mnist_np.training.stats_every``), and the curves draw at the steps given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .base import LAYER_COLORS, Series, empty, layout, log_y_axis, smooth, thin

# Karpathy's rule of thumb: an update of about 1/1000 of the weight per step is healthy.
HEALTHY_RATIO = 1e-3


def layer_curves_figure(steps: Series, values: np.ndarray, names: Sequence[str],
                        title: str, y: str, log_y: bool = True,
                        window: int = 10) -> go.Figure:
    """One line per layer (a trailing moving average over ``window`` points), drawn with
    at most about 500 points per line (see ``thin``): the page redraws every second."""
    steps = np.asarray(steps, np.float64)
    grid = np.asarray(values, np.float64).reshape(len(steps), -1) if len(steps) else None
    fig = layout(go.Figure(), title, "step (mini-batches)", y)
    if grid is None or not names:
        return empty(fig, "no training steps yet" if names else "no hidden layers")
    x, *lines = thin(steps, *(smooth(grid[:, l], window) for l in range(len(names))))
    for l, (name, line) in enumerate(zip(names, lines)):
        fig.add_scatter(x=x, y=line, name=name, mode="lines",
                        line=dict(color=LAYER_COLORS[l % len(LAYER_COLORS)], width=2))
    return log_y_axis(fig, lines, fine=False) if log_y else fig


def update_ratio_figure(steps: Series, ratios: np.ndarray,
                        names: Sequence[str]) -> go.Figure:
    """``‖ΔW_l‖ / ‖W_l‖`` per step and layer, with the 1e-3 rule of thumb marked."""
    fig = layer_curves_figure(steps, ratios, names, "Update / weight ratio per step",
                              "‖ΔW‖ / ‖W‖ (log)")
    if len(steps):
        fig.add_hline(y=HEALTHY_RATIO, line=dict(color="gray", dash="dash"))
        # annotations on a log axis take log10 of the value (shapes take the value)
        fig.add_annotation(x=1, xref="paper", xanchor="right", y=np.log10(HEALTHY_RATIO),
                           yanchor="top", text="≈ 1e-3: healthy", showarrow=False,
                           font=dict(color="gray"))
    return fig


def saturation_figure(steps: Series, saturation: np.ndarray, names: Sequence[str],
                      label: str) -> go.Figure:
    """Fraction of saturated (or dead) units per hidden layer, in [0, 1]."""
    fig = layer_curves_figure(steps, saturation, names, f"Fraction of {label} units",
                              f"{label} fraction", log_y=False)
    if len(steps) and names:
        fig.update_yaxes(range=[-0.02, 1.02], tickformat=".0%")
    return fig


def layer_bars_figure(names: Sequence[str], values: Series, title: str, y: str,
                      log_y: bool = False, percent: bool = False) -> go.Figure:
    """One bar per layer, its value written on it. An inf or NaN value (an exploding
    network's) is a grey hatched bar up to the top, labelled "inf" or "NaN": a missing bar
    would read as zero."""
    values = np.asarray(values, np.float64)
    fig = layout(go.Figure(), title, "", y)
    if not len(names):
        return empty(fig, "no hidden layers")
    ok = np.isfinite(values)
    text = [f"{v:.0%}" if percent else f"{v:.2g}" for v in values]
    text = [t if good else "NaN" if np.isnan(v) else "inf" if v > 0 else "-inf"
            for t, v, good in zip(text, values, ok)]
    shown = np.where(ok, values, _top(values[ok], log_y, percent))
    colours = [LAYER_COLORS[l % len(LAYER_COLORS)] if good else "#9e9e9e"
               for l, good in enumerate(ok)]
    fig.add_bar(x=list(names), y=shown, text=text, textposition="outside",
                marker=dict(color=colours, pattern_shape=["" if good else "/" for good in ok]),
                hovertext=[f"{name}: {t}" for name, t in zip(names, text)],
                hoverinfo="text")
    if percent:
        fig.update_yaxes(range=[0, 1.1], tickformat=".0%")
    if not log_y:
        return fig
    # Bars on a log axis start at its bottom: from a labelled power of ten, with labelled
    # ticks between, a bar's height reads in decades. (Auto-ranged, 0.33 beside 0.15 drew
    # about 9:1 with no tick at all.)
    positive = shown[shown > 0]
    if positive.size:
        low = math.floor(math.log10(positive.min()))
        high = max(math.ceil(math.log10(positive.max())), low + 1)
        fig.update_yaxes(range=[low, high + 0.15 * (high - low)])  # room for the labels
    return log_y_axis(fig, shown, fine=True)


def _top(finite: np.ndarray, log_y: bool, percent: bool) -> float:
    """Where a bar for inf or NaN ends: above every finite bar (a power of ten above on a
    log axis)."""
    if percent:
        return 1.0
    if log_y:
        positive = finite[finite > 0]
        return float(positive.max()) * 10 if positive.size else 1.0
    largest = float(np.abs(finite).max()) if finite.size else 0.0
    return largest * 1.2 if largest > 0 else 1.0
