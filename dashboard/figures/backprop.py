"""Figure builders for the Backprop page: the numbers that flow through the network for
one digit (input image, ``z`` and ``a`` of a layer, output against target, ``delta``) and
the prediction before and after one update. Vectors are 1-D arrays, one value per unit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .base import class_names, layout

BEFORE, AFTER, TARGET = "#9e9e9e", "#d62728", "#2ca02c"
# Tick labels as plain numbers (0.00005, 2e-8), not plotly's SI prefixes ("50µ").
PLAIN = "~g"


POSITIVE, NEGATIVE = "#d62728", "#1f77b4"


def _sign_bars(fig: go.Figure, v: np.ndarray, name: str, hover: str, **axes) -> None:
    """One bar per unit of ``v``: the positive ones red, the others blue, as two traces of
    one colour each. (A colour per bar costs: plotly.py checks a list of colour strings one
    by one, 50 ms for 256 bars, and plotly.js reads an array of numbers on a colour scale as
    colours at every bar, thousands of warnings and 1-2 s of drawing for the page.)"""
    units, v = np.arange(len(v)), np.asarray(v, np.float64)
    for keep, color in ((v > 0, POSITIVE), (~(v > 0), NEGATIVE)):
        fig.add_bar(x=units[keep], y=v[keep], marker_color=color, name=name,
                    showlegend=False, hovertemplate=hover, **axes)


def layer_figure(z: np.ndarray, a: np.ndarray, title: str, activation: str) -> go.Figure:
    """A layer's pre-activations ``z`` (top) and activations ``a = f(z)`` (bottom), one bar
    per unit; red positive, blue negative."""
    fig = go.Figure()
    for axis, v, name in (("", z, "z"), ("2", a, "a")):
        _sign_bars(fig, v, name, f"unit %{{x}}: {name} = %{{y:.4f}}<extra></extra>",
                   xaxis=f"x{axis}", yaxis=f"y{axis}")
    fig = layout(fig, title, height=360)
    # two stacked panels by hand (make_subplots costs more than the rest of the figure)
    fig.update_layout(
        bargap=0.1, barmode="overlay",
        xaxis=dict(anchor="y", matches="x2", showticklabels=False),
        yaxis=dict(domain=[0.56, 1], title="z (before the activation)", tickformat=PLAIN),
        xaxis2=dict(anchor="y2", title="unit"),
        yaxis2=dict(domain=[0, 0.44], title=f"a = {activation}(z)", tickformat=PLAIN))
    return fig


def vector_figure(v: np.ndarray, title: str, y: str) -> go.Figure:
    """One value per unit as bars (red positive, blue negative)."""
    fig = go.Figure()
    _sign_bars(fig, v, y, "unit %{x}: %{y:.3g}<extra></extra>")
    fig = layout(fig, title, "unit", y, height=260)
    fig.update_layout(bargap=0.1, barmode="overlay")
    fig.update_yaxes(tickformat=PLAIN)
    return fig


def output_figure(a: np.ndarray, target: np.ndarray, labels: Sequence[str] | None = None,
                  title: str = "Output a_L against the target y") -> go.Figure:
    """The network's output per class next to the one-hot target."""
    labels, noun = class_names(len(a), labels)
    fig = go.Figure()
    fig.add_bar(x=labels, y=np.asarray(target, np.float64), name="target y",
                marker_color=TARGET, opacity=0.45)
    fig.add_bar(x=labels, y=np.asarray(a, np.float64), name="output a_L", marker_color=AFTER,
                text=[f"{v:.2f}" for v in a], textposition="outside")
    fig = layout(fig, title, noun, "value", height=300)
    fig.update_layout(barmode="group", bargap=0.2)
    fig.update_xaxes(type="category", tickangle=-45 if noun == "class" else None)
    fig.update_yaxes(range=[0, 1.15])
    return fig


def before_after_figure(before: np.ndarray, after: np.ndarray, label: int,
                        classes: Sequence[str] | None = None) -> go.Figure:
    """Output probabilities before and after one update, the true digit (or class of
    ``classes``) marked."""
    digits, noun = class_names(len(before), classes)
    fig = go.Figure()
    fig.add_bar(x=digits, y=np.asarray(before, np.float64), name="before the update",
                marker_color=BEFORE, text=[f"{v:.2f}" for v in before], textposition="outside")
    fig.add_bar(x=digits, y=np.asarray(after, np.float64), name="after the update",
                marker_color=AFTER, text=[f"{v:.2f}" for v in after], textposition="outside")
    fig.add_vrect(x0=label - 0.5, x1=label + 0.5, fillcolor=TARGET, opacity=0.15, line_width=0,
                  annotation_text=f"true {noun}", annotation_position="top left")
    fig = layout(fig, "Output before and after one update on this image", noun,
                 "output a_L", height=320)
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category", tickangle=-45 if noun == "class" else None)
    fig.update_yaxes(range=[0, 1.2])
    return fig

