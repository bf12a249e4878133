"""Figure builders for the Weights page: a weight matrix as a heatmap, the first layer's
weights as 28×28 receptive fields, and weight/bias histograms and spread over training.

Inputs are plain arrays (``W: (n_in, n_out)``, ``b: (n_out,)``), so tests build them from
a tiny network without Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .base import DIVERGING, LAYER_COLORS, empty, layout
from .images import image_axes, side, tile

# About 100k numbers per heatmap keep a redraw every second light for the browser.
MAX_CELLS = 100_000
MAX_FIELDS = 64


def units_shown(n_in: int, n_out: int, max_cells: int = MAX_CELLS) -> int:
    """How many columns (units) of an ``(n_in, n_out)`` matrix fit the cell budget (about:
    5% over it, so that the first 128 of 256 show, not 127)."""
    fits = max(1, max_cells // max(1, n_in))
    if fits >= n_out:
        return n_out
    share = max(d for d in range(1, n_out + 1) if n_out % d == 0 and d <= fits * 1.05)
    return max(share, fits)


def _symmetric_range(values: np.ndarray) -> float:
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


def matrix_figure(W: np.ndarray, title: str, max_cells: int = MAX_CELLS,
                  colorbar: str = "weight") -> go.Figure:
    """``W: (n_in, n_out)`` as in ``z = a W + b``: row ``i`` is input ``i``, column ``j``
    the unit it feeds. Blue negative, red positive, white 0. Wide matrices show their
    first columns only (the title says how many)."""
    n_in, n_out = W.shape
    k = units_shown(n_in, n_out, max_cells)
    shown = np.asarray(W[:, :k], np.float32)
    limit = _symmetric_range(shown)
    if k < n_out:
        title = f"{title}: first {k} of {n_out} columns"
    fig = go.Figure(go.Heatmap(
        z=shown, colorscale=DIVERGING, zmid=0, zmin=-limit, zmax=limit,
        colorbar=dict(title=colorbar),
        hovertemplate="input %{y} → unit %{x}: %{z:.4f}<extra></extra>"))
    fig = layout(fig, title, "unit j (column of W)", "input i (row of W)", height=420)
    fig.update_yaxes(autorange="reversed")
    return fig


def receptive_fields_figure(W: np.ndarray, max_units: int = MAX_FIELDS) -> go.Figure:
    """The first layer's weights, one image per unit: column ``j`` of ``W: (784, n)``
    reshaped to 28×28 and scaled by its own largest ``|w|``, so every unit's pattern is
    visible. Red pixels push the unit up, blue ones push it down."""
    n_in, n_out = W.shape
    s = side(n_in)
    k = min(n_out, max_units)
    fields = np.asarray(W[:, :k].T, np.float64).reshape(k, s, s)
    with np.errstate(all="ignore"):  # inf weights (a diverged network) become NaN
        scale = np.abs(fields).max(axis=(1, 2), keepdims=True)
        fields = np.divide(fields, scale, out=np.zeros_like(fields), where=scale > 0)
    cols = math.ceil(math.sqrt(k))
    rows = math.ceil(k / cols)
    grid = tile(fields, cols)
    fig = go.Figure(go.Heatmap(z=grid, colorscale=DIVERGING, zmid=0, zmin=-1, zmax=1,
                               colorbar=dict(title="w / max|w|", thickness=12, len=0.7),
                               hovertemplate="%{z:.2f}<extra></extra>"))
    title = f"Receptive fields of the first {k} of {n_out} units" if k < n_out else \
        f"Receptive fields of all {n_out} units"
    fig = image_axes(layout(fig, title, height=max(320, 50 * rows + 80)))
    # Unit numbers along the edges: the tile in row r, column c is unit r·cols + c.
    step = s + 1
    fig.update_xaxes(showticklabels=True, tickvals=[c * step + s / 2 for c in range(cols)],
                     ticktext=[f"+{c}" for c in range(cols)], side="top")
    fig.update_yaxes(showticklabels=True, tickvals=[r * step + s / 2 for r in range(rows)],
                     ticktext=[f"unit {r * cols}" for r in range(rows)])
    return fig


def histogram_figure(series: Sequence[tuple[str, np.ndarray]], title: str, x: str,
                     bins: int = 60) -> go.Figure:
    """Overlaid histograms on shared bins, one step line per ``(name, values)``; the
    first is filled. NaN and inf values are left out (a diverged network has them)."""
    series = [(name, np.asarray(v, np.float64).ravel()) for name, v in series]
    finite = [v[np.isfinite(v)] for _, v in series]
    fig = go.Figure()
    if not any(v.size for v in finite):
        return empty(layout(fig, title, x, "count"), "no finite values")
    lo = min(v.min() for v in finite if v.size)
    hi = max(v.max() for v in finite if v.size)
    if lo == hi:  # all values equal (biases at the start): a bin around them
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    for i, ((name, _), v) in enumerate(zip(series, finite)):
        counts, _ = np.histogram(v, bins=edges)
        fig.add_scatter(x=centres, y=counts, name=name, mode="lines", line_shape="hvh",
                        fill="tozeroy" if i == 0 else None,
                        line=dict(color=LAYER_COLORS[i % len(LAYER_COLORS)],
                                  width=2 if i == 0 else 1.5, dash=None if i == 0 else "dot"))
    return layout(fig, title, x, "count")


def spread_figure(steps: Sequence[float],
                  weights: Sequence[Sequence[np.ndarray]]) -> go.Figure:
    """The standard deviation of each layer's weights against the step, from
    ``weights[i]``: the list ``[W_1, ..., W_L]`` at ``steps[i]``. Weights that learn
    spread out."""
    with np.errstate(all="ignore"):  # a diverged network's inf weights give NaN
        stds = np.array([[float(np.std(W)) for W in ws] for ws in weights])
    fig = go.Figure()
    for l in range(stds.shape[1]):
        name = f"W{l + 1}"
        fig.add_scatter(x=list(steps), y=stds[:, l], name=name, mode="lines+markers",
                        line=dict(color=LAYER_COLORS[l % len(LAYER_COLORS)]))
    return layout(fig, "Spread of the weights over training", "step (mini-batches)",
                  "standard deviation of W")
