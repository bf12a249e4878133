"""Figure builders for the hidden-layer map: pure functions from arrays to plotly Figures.

A map is a scatter of 2-D coordinates (PCA scores), one colour per true digit, with the
digits the network gets wrong ringed. Every point carries its index into the page's
subset of test digits as ``customdata``, so a plotly selection maps back to digits
(:func:`selected_indices`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from .base import MARGIN, class_names

DIGIT_COLOURS = qualitative.D3  # 10 colours, one per digit 0-9
WRONG, SELECTED = "rgba(0, 0, 0, 0.55)", "#000000"


def map_figure(scores: np.ndarray, y: np.ndarray, predicted: np.ndarray, title: str,
               kept: float | None = None, selected: Iterable[int] = (),
               classes: Sequence[str] | None = None) -> go.Figure:
    """Points ``scores: (n, 2)`` coloured by true digit ``y: (n,)``; the ones where
    ``predicted: (n,)`` differs are ringed, the ``selected`` indices starred; ``kept``:
    the fraction of the spread that the 2-D view keeps, in the subtitle."""
    scores, y, predicted = np.asarray(scores, float), np.asarray(y), np.asarray(predicted)
    index = np.arange(len(y))
    names, noun = class_names(10, classes)  # (the map's classes are named in ``classes``)
    fig = go.Figure()
    for digit in range(10):
        mask = y == digit
        if not mask.any():
            continue
        fig.add_scattergl(
            x=scores[mask, 0], y=scores[mask, 1], mode="markers", name=names[digit],
            marker=dict(color=DIGIT_COLOURS[digit], size=5, opacity=0.75),
            customdata=index[mask].tolist(),
            hovertext=[f"true {names[digit]}, network says {names[p]}" for p in predicted[mask]],
            hovertemplate="%{hovertext} · #%{customdata}<extra></extra>")
    wrong = predicted != y
    fig.add_scattergl(
        x=scores[wrong, 0], y=scores[wrong, 1], mode="markers",
        name=f"misclassified ({int(wrong.sum())})",
        marker=dict(symbol="circle-open", color=WRONG, size=8, line=dict(width=1)),
        customdata=index[wrong].tolist(),
        hovertext=[f"true {names[t]}, network says {names[p]}"
                   for t, p in zip(y[wrong], predicted[wrong])],
        hovertemplate="%{hovertext} · #%{customdata}<extra></extra>")
    chosen = np.array(sorted({int(i) for i in selected if 0 <= int(i) < len(y)}), dtype=int)
    if len(chosen):
        fig.add_scattergl(
            x=scores[chosen, 0], y=scores[chosen, 1], mode="markers",
            name=f"selected ({len(chosen)})",
            marker=dict(symbol="star", color=SELECTED, size=11,
                        line=dict(color="white", width=1)),
            customdata=chosen.tolist(), hoverinfo="skip")
    subtitle = "" if kept is None else f"this 2-D view keeps {kept:.0%} of the spread"
    fig.update_layout(
        title=dict(text=title, subtitle=dict(text=subtitle)), height=520,
        margin=dict(l=10, r=10, t=60, b=10),
        legend=dict(title=f"true {noun}", itemsizing="constant", orientation="h", y=-0.18),
        uirevision=title)
    fig.update_yaxes(scaleanchor="x", scaleratio=1)  # equal scales: distances are honest
    return fig


def selected_indices(points: Iterable[dict]) -> list[int]:
    """The digit indices in a plotly selection's ``points`` (their ``customdata``), in
    order, each once."""
    seen: dict[int, None] = {}
    for point in points:
        value = point.get("customdata")
        if isinstance(value, list):  # a point of a trace with per-point lists
            value = value[0] if value else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seen.setdefault(int(value), None)
    return list(seen)


def separation_figure(names: Sequence[str], values: Sequence[float]) -> go.Figure:
    """One bar per representation (pixels, each layer): how much of its spread the
    class explains."""
    fig = go.Figure(go.Bar(x=list(names), y=list(values), marker_color="#1f77b4",
                           text=[f"{v:.0%}" for v in values], textposition="outside",
                           hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.update_layout(title="How far apart the digits are, layer by layer", height=300,
                      margin=MARGIN,
                      yaxis=dict(title="spread explained by the digit", tickformat=".0%",
                                 range=[0, 1.1]))
    return fig
