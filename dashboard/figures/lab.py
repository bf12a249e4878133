"""Figure builders for the neuron lab: one unit's receptive field, its votes for each
digit, its activations, accuracy per digit before and after a change, and accuracy as
the least important units are pruned. Inputs are plain arrays (``mnist_np.lab``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .base import DIVERGING, TRAIN, VAL, Series, accuracy_axis, empty, layout
from .images import image_axes, side
from .mistakes import cell_from_selection
from .weights import histogram_figure

POSITIVE, NEGATIVE = "#d62728", "#1f77b4"


# The diagram's units carry ``[layer, unit]`` as the confusion matrix's cells carry
# ``[true, predicted]``: a selection is read the same way.
unit_from_selection = cell_from_selection


def field_figure(w: np.ndarray, title: str) -> go.Figure:
    """One first-layer unit's incoming weights ``w: (784,)`` as the 28×28 image it
    looks at: red pixels excite it, blue ones inhibit it."""
    w = np.asarray(w, np.float64)
    s = side(w.size)
    finite = np.abs(w[np.isfinite(w)])
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    fig = go.Figure(go.Heatmap(z=w.reshape(s, s), colorscale=DIVERGING, zmid=0, zmin=-top,
                               zmax=top, colorbar=dict(title="weight", thickness=12),
                               hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>"))
    return image_axes(layout(fig, title, height=300))


def votes_figure(votes: Series, title: str) -> go.Figure:
    """``votes: (10,)``: how much the unit raises each digit's score (red) or lowers it
    (blue)."""
    v = np.asarray(votes, np.float64)
    fig = go.Figure(go.Bar(x=list(range(len(v))), y=v,
                           marker_color=[POSITIVE if x >= 0 else NEGATIVE for x in v],
                           hovertemplate="digit %{x}: %{y:+.3f}<extra></extra>"))
    fig = layout(fig, title, "digit", "change of its score (logit)", height=300)
    return fig.update_xaxes(tickmode="linear", dtick=1)


def activation_figure(a: np.ndarray, title: str) -> go.Figure:
    """The unit's activations over the test digits, as a histogram."""
    return histogram_figure([("this unit", a)], title, "activation a", bins=40)


def per_digit_change_figure(before: Series, after: Series, title: str,
                            change: str = "") -> go.Figure:
    """Accuracy per digit ``(10,)`` before and after a change (``change`` says which,
    under the title), side by side, with the change in points written above each pair."""
    before, after = np.asarray(before, np.float64), np.asarray(after, np.float64)
    digits = list(range(len(before)))
    fig = go.Figure([
        go.Bar(x=digits, y=before, name="before", marker_color=TRAIN,
               hovertemplate="digit %{x}: %{y:.1%}<extra>before</extra>"),
        go.Bar(x=digits, y=after, name="after", marker_color=VAL,
               hovertemplate="digit %{x}: %{y:.1%}<extra>after</extra>")])
    diff = (after - before) * 100
    top = np.fmax(before, after)
    fig.add_scatter(x=digits, y=top, mode="text", showlegend=False, hoverinfo="skip",
                    cliponaxis=False,  # a label above a 100% bar, over the axis's top
                    text=[f"{d:+.1f}" if np.isfinite(d) else "" for d in diff],
                    textposition="top center")
    fig = layout(fig, title, "true digit", "accuracy", height=320)
    # the title at the very top, so the labels above 100% bars (over the axis's top)
    # stay clear of it and of the subtitle
    fig.update_layout(barmode="group", title=dict(subtitle=dict(text=change), yref="container",
                                                  y=1, yanchor="top", pad=dict(t=8)),
                      margin=dict(t=85 if change else 60))
    fig.update_xaxes(tickmode="linear", dtick=1)
    fig = accuracy_axis(fig, np.concatenate([before, after]), room=0.04)
    low, high = fig.layout.yaxis.range
    return fig.update_yaxes(range=[low, min(high, 1.0)])  # no accuracy above 100%


def pruning_figure(ks: Sequence[int], accuracy: Series, n_units: int, layer: int,
                   chosen: int | None = None) -> go.Figure:
    """Accuracy against ``k``, the number of least important units of hidden layer
    ``layer`` (of ``n_units``) switched off; ``chosen`` is marked."""
    fig = go.Figure()
    title = f"Pruning hidden layer {layer}: accuracy as its least important units go"
    if not len(ks):
        return empty(layout(fig, title), "nothing to prune")
    acc = np.asarray(accuracy, np.float64)
    fig.add_scatter(x=list(ks), y=acc, mode="lines+markers", line=dict(color=TRAIN),
                    hovertemplate="%{x} units off: %{y:.1%}<extra></extra>")
    if chosen is not None:
        fig.add_vline(x=chosen, line=dict(color="gray", dash="dot"))
    fig = layout(fig, title, f"units switched off (of {n_units:,})", "accuracy", height=320)
    fig.update_xaxes(range=[0, n_units])
    return fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
