"""Figure builders for the Robustness page: accuracy against perturbation size, and the
network's answer for one perturbed digit. Pure functions, tested without Streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnist_np.perturb import Sweep

from .base import MARGIN, Series, class_names, layout

ACCURACY, HORIZONTAL, VERTICAL, PLAIN, MARK = "#1f77b4", "#1f77b4", "#ff7f0e", "#555", "#d62728"
RIGHT, WRONG, OTHER, ANSWER = "#2ca02c", "#d62728", "#b0b0b0", "#ff7f0e"

Curve = tuple[str, tuple[np.ndarray, np.ndarray], str]  # name, (levels, accuracies), colour

def robustness_figure(sweep: Sweep, sigma: float = 0.0, dx: int = 0, dy: int = 0,
                      degrees: float = 0.0) -> go.Figure:
    """Three panels of accuracy: against noise, against shifts (horizontal and
    vertical), against rotation; a dotted line at the unperturbed accuracy, a dashed
    one at chance (10%), and a red marker at the amounts the viewer shows."""
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=("Gaussian noise", "Shift", "Rotation"))
    panels: list[tuple[int, list[Curve], str, list[float]]] = [
        (1, [("noise", sweep.noise, ACCURACY)], "noise standard deviation", [sigma]),
        (2, [("horizontal shift (right +)", sweep.shift_x, HORIZONTAL),
             ("vertical shift (down +)", sweep.shift_y, VERTICAL)], "pixels", [dx, dy]),
        (3, [("rotation (counterclockwise +)", sweep.rotation, ACCURACY)], "degrees",
         [degrees]),
    ]
    for col, curves, x_title, marks in panels:
        for name, (levels, accuracy), colour in curves:
            fig.add_scatter(x=np.asarray(levels).tolist(), y=np.asarray(accuracy).tolist(),
                            name=name, mode="lines+markers", line=dict(color=colour),
                            showlegend=col == 2,
                            hovertemplate=f"{name}: %{{x}} → %{{y:.1%}}<extra></extra>",
                            row=1, col=col)
        fig.add_hline(y=sweep.plain, line=dict(color=PLAIN, dash="dot", width=1),
                      row=1, col=col)
        fig.add_hline(y=0.1, line=dict(color=PLAIN, dash="dash", width=1), row=1, col=col)
        for mark in sorted({float(m) for m in marks}):
            fig.add_vline(x=mark, line=dict(color=MARK, width=1.5), row=1, col=col)
        fig.update_xaxes(title_text=x_title, row=1, col=col)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=1,
                     title_text="accuracy")
    fig.update_layout(height=360, margin=MARGIN,
                      legend=dict(orientation="h", y=-0.3), uirevision="robustness")
    return fig


def answer_figure(proba: Series, label: int | None = None,
                  title: str | None = None, classes: Sequence[str] | None = None) -> go.Figure:
    """The network's output for one digit as 10 bars with their values. Its answer (the
    tallest) is green when right and red when wrong, with the true digit named on the
    axis; orange when the true digit is not known (a drawing)."""
    proba = np.asarray(proba, float)
    answer = int(np.argmax(proba))
    colours = [OTHER] * len(proba)
    colours[answer] = ANSWER if label is None else RIGHT if answer == label else WRONG
    names, noun = class_names(len(proba), classes)
    ticks = [f"{names[d]}<br>(true)" if d == label else names[d] for d in range(len(proba))]
    fig = go.Figure(go.Bar(x=list(range(len(proba))), y=proba.tolist(),
                           marker_color=colours, text=[f"{v:.0%}" for v in proba],
                           textposition="outside", cliponaxis=False,
                           customdata=names,
                           hovertemplate="%{customdata}: %{y:.1%}<extra></extra>"))
    if title is None:
        verdict = "" if label is None else ": right" if answer == label else ": wrong"
        title = f"The network says {names[answer]} ({proba[answer]:.0%}){verdict}"
    fig = layout(fig, title, noun, "output", height=300)
    fig.update_yaxes(range=[0, 1.1], tickformat=".0%")
    fig.update_xaxes(tickvals=list(range(len(proba))), ticktext=ticks,
                     tickangle=-45 if noun == "class" else None)
    return fig


WITHOUT, WITH = "#7f7f7f", "#2ca02c"  # the twin trained without augmentation, and with it


def twins_figure(without: Sweep, augmented: Sweep,
                 names: tuple[str, str] = ("without augmentation", "with augmentation")
                 ) -> go.Figure:
    """Two networks' accuracy side by side, in three panels: against noise, against
    shifts (the mean of horizontal and vertical at each distance) and against rotation;
    grey for the one trained without augmentation, green for the one trained with it,
    and a dashed line at chance (10%)."""
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=("Noise", "Shift (x and y)", "Rotation"))
    for result, name, colour in ((without, names[0], WITHOUT), (augmented, names[1], WITH)):
        levels, x_acc = result.shift_x
        curves = [result.noise,
                  (levels, (np.asarray(x_acc) + np.asarray(result.shift_y[1])) / 2),
                  result.rotation]
        for col, (levels, accuracy) in enumerate(curves, start=1):
            fig.add_scatter(x=np.asarray(levels).tolist(), y=np.asarray(accuracy).tolist(),
                            name=name, legendgroup=name, mode="lines+markers",
                            line=dict(color=colour), showlegend=col == 1,
                            hovertemplate=f"{name}: %{{x}} → %{{y:.1%}}<extra></extra>",
                            row=1, col=col)
    for col, x_title in enumerate(("noise standard deviation", "pixels", "degrees"), start=1):
        fig.add_hline(y=0.1, line=dict(color=PLAIN, dash="dash", width=1), row=1, col=col)
        fig.update_xaxes(title_text=x_title, row=1, col=col)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=1, title_text="accuracy")
    fig.update_layout(height=360, margin=MARGIN, legend=dict(orientation="h", y=-0.3),
                      uirevision="robustness_twins")
    return fig
