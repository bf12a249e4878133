"""What every figure shares: the one layout helper, colours, layer names, "nothing to
plot" figures, and the series helpers (moving average, thinning, log axes)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

# Blue for negative, white at 0, red for positive: every signed quantity.
DIVERGING = "RdBu_r"
# Ink dark on white, as digits are usually drawn.
INK = "Greys"
LAYER_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
# Train in blue, validation in orange, on every page.
TRAIN, VAL, BATCH = "#1f77b4", "#ff7f0e", "rgba(31, 119, 180, 0.35)"
MARGIN = dict(l=10, r=10, t=40, b=10)
# Log-scale axes label 1, 2 and 5 of every decade in full (0.05, not plotly's bare "5")
# while the data spans at most MAX_DECADES; beyond that (a diverging run climbing to 1e20)
# one label every few powers of ten, so the labels never crowd.
LOG_TICKS = [m * 10.0**e for e in range(-8, 4) for m in (1, 2, 5)]
MAX_DECADES = 6
# An accuracy axis zooms to the data (with a note that it does not start at 0) when every
# value is above this; below it, 0 to 100% shows the data well enough.
ZOOM_ABOVE = 0.5
# A series of numbers as the engine gives them: an array or a list.
Series = Sequence[float] | np.ndarray


def class_names(k: int, classes: Sequence[str] | None = None) -> tuple[list[str], str]:
    """The names of ``k`` classes (``classes``, or the digits "0", "1", ... when None) and
    what one of them is called on an axis: "digit" for MNIST's, "class" for others'."""
    digits = [str(i) for i in range(k)]
    names = [str(c) for c in classes] if classes is not None else digits
    return names, "digit" if names == digits else "class"


def layout(fig: go.Figure, title: str, x: str = "", y: str = "", height: int = 340,
           legend_y: float = -0.2) -> go.Figure:
    """Title, axis titles, a compact margin, a legend under the plot, and ``uirevision``
    so the user's zoom survives the live redraws."""
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=height,
                      margin=MARGIN, legend=dict(orientation="h", y=legend_y),
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


def smooth(values: Series, window: int = 25) -> np.ndarray:
    """A trailing moving average (shorter at the start), same length as ``values``."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(0, idx - window)
    return (cumsum[idx] - cumsum[start]) / (idx - start)


def thin(*columns: Series, max_points: int = 500) -> list[np.ndarray]:
    """Every k-th point (the last one kept) so that at most about ``max_points`` are drawn:
    a live chart redrawn every second stays cheap to build, send and render."""
    n = len(columns[0])
    if n <= max_points:
        return [np.asarray(c) for c in columns]
    keep = np.unique(np.append(np.arange(0, n, -(-n // max_points)), n - 1))
    return [np.asarray(c)[keep] for c in columns]


def tick_label(v: float) -> str:
    """A tick value in plain decimals down to 0.0001 (0.0005, not plotly's SI "500µ"),
    in e-notation below (5e-5)."""
    if v >= 1e-4:
        return f"{v:.6f}".rstrip("0").rstrip(".")
    mantissa, exponent = f"{v:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def accuracy_axis(fig: go.Figure, values, title: str = "accuracy",
                  room: float = 0.0) -> go.Figure:
    """A y-axis of accuracies (fractions) as percentages: from 0 while any value is low,
    else zoomed to the data so that 97% and 99% look different, the axis title saying
    where it starts. ``room`` is added above the top (for bar labels)."""
    v = np.asarray(values, float).ravel()
    v = v[np.isfinite(v)]
    if not v.size or v.min() < ZOOM_ABOVE:
        return fig.update_yaxes(range=[0, 1.02 + room], tickformat=".0%", title=title)
    lo, hi = float(v.min()), float(v.max())
    pad = max(0.005, 0.15 * (hi - lo))
    low = max(0.0, math.floor((lo - pad) * 100) / 100)
    high = min(1.0, hi + pad) + 0.005 + room
    return fig.update_yaxes(range=[low, high], tickformat=".1~%",
                            title=f"{title} (axis from {low:.0%}, not 0)")


def log_y_axis(fig: go.Figure, values, fine: bool = True) -> go.Figure:
    """Make the y-axis logarithmic with labels that stay readable for ``values`` (the
    data drawn): 1, 2 and 5 of each decade (``fine``) or each power of ten; one power of
    ten every few when the data spans more than ``MAX_DECADES``."""
    v = np.asarray(values, float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return fig.update_yaxes(type="log")
    decades = float(np.log10(v.max() / v.min()))
    if fine and decades <= MAX_DECADES and LOG_TICKS[0] <= v.min() <= v.max() <= LOG_TICKS[-1]:
        return fig.update_yaxes(type="log", tickvals=LOG_TICKS,
                                ticktext=[tick_label(t) for t in LOG_TICKS])
    return fig.update_yaxes(type="log", dtick=max(1, math.ceil(decades / MAX_DECADES)),
                            exponentformat="power")
