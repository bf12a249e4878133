"""Figures for the "Back to the pixels" page: a saliency map beside its digit, an
adversarial digit as original, change and result, and the input each class likes best.
Pure functions, tested without Streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .base import DIVERGING, INK, MARGIN
from .images import gallery_figure, side


def _square(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, float).ravel()
    s = side(len(x))
    return x.reshape(s, s)


def _panels(titles: Sequence[str], height: int) -> go.Figure:
    """Image panels side by side: square pixels, row 0 on top, no ticks."""
    fig = make_subplots(rows=1, cols=len(titles), horizontal_spacing=0.04,
                        subplot_titles=list(titles))
    for col in range(1, len(titles) + 1):
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}",
                         visible=False, row=1, col=col)
        fig.update_xaxes(visible=False, constrain="domain", row=1, col=col)
    fig.update_layout(height=height, margin={**MARGIN, "t": 60}, plot_bgcolor="white")
    return fig


def _digit(x: np.ndarray, name: str) -> go.Heatmap:
    return go.Heatmap(z=_square(x), colorscale=INK, zmin=0, zmax=1, showscale=False,
                      name=name, hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>")


def _signed(z: np.ndarray, limit: float, name: str, what: str, scale: bool) -> go.Heatmap:
    """Blue below 0, white at 0, red above, on ±``limit`` (a tiny limit when all is 0),
    with a colour bar on the right when ``scale``."""
    limit = float(limit) if np.isfinite(limit) and limit > 0 else 1e-12
    ticks = [-limit, -limit / 2, 0.0, limit / 2, limit]  # labelled in full: 0.00012, 5e-05
    return go.Heatmap(z=_square(z), colorscale=DIVERGING, zmin=-limit, zmax=limit,
                      name=name, showscale=scale,
                      colorbar=dict(len=0.8, thickness=12, tickvals=ticks,
                                    ticktext=[f"{t:.2g}" for t in ticks]),
                      hovertemplate=f"row %{{y}}, col %{{x}}: {what} %{{z:.3g}}<extra></extra>")


def saliency_figure(x: np.ndarray, gradient: np.ndarray, target: int,
                    height: int = 330) -> go.Figure:
    """The digit ``x: (784,)`` and its saliency map ``gradient: (784,)`` for class
    ``target``: red where more ink would make the network more sure of ``target``, blue
    where less, on a scale symmetric about 0; the digit's outline (ink at 0.5) drawn
    over the map so the pixels can be found."""
    g = np.asarray(gradient, float)
    limit = float(np.nanmax(np.abs(g))) if np.isfinite(g).any() else 0.0
    fig = _panels(["the digit", f"saliency for {target}"], height)
    fig.add_trace(_digit(x, "digit"), row=1, col=1)
    fig.add_trace(_signed(g, limit, "saliency", "gradient", True), row=1, col=2)
    fig.add_trace(go.Contour(z=_square(x), contours=dict(start=0.5, end=0.5, size=1,
                                                         coloring="none"),
                             line=dict(color="black", width=1), showscale=False,
                             hoverinfo="skip", name="outline"), row=1, col=2)
    return fig


def attack_figure(x: np.ndarray, x_adv: np.ndarray, epsilon: float,
                  before: tuple[int, float], after: tuple[int, float],
                  height: int = 300) -> go.Figure:
    """An adversarial digit in three panels: the original ``x: (784,)`` titled with the
    answer and its probability ``before``, the change ``x_adv - x`` on ±``epsilon``
    (red: ink added, blue: ink taken away), and the result ``x_adv`` with ``after``."""
    (a0, p0), (a1, p1) = before, after
    change = np.asarray(x_adv, float) - np.asarray(x, float)
    fig = _panels([f"original<br>reads {a0} ({p0:.0%})", f"change<br>at most ε = {epsilon:g}",
                   f"result<br>reads {a1} ({p1:.0%})"], height)  # two lines: narrow panels
    fig.add_trace(_digit(x, "original"), row=1, col=1)
    fig.add_trace(_signed(change, epsilon, "change", "change", False), row=1, col=2)
    fig.add_trace(_digit(x_adv, "result"), row=1, col=3)
    return fig


def epsilon_figure(epsilons: np.ndarray, flipped: np.ndarray, found: float | None,
                   height: int = 150) -> go.Figure:
    """Each size ``ε`` tried as a tick, orange where the answer changed and grey where it
    did not, with the smallest that worked (``found``) marked."""
    eps = np.asarray(epsilons, float)
    hit = np.asarray(flipped, bool)
    fig = go.Figure(go.Bar(x=eps.tolist(), y=np.ones(len(eps)).tolist(),
                           marker_color=np.where(hit, "#ff7f0e", "#d0d0d0").tolist(),
                           customdata=np.where(hit, "changes the answer", "does not").tolist(),
                           hovertemplate="ε = %{x:g}: %{customdata}<extra></extra>"))
    if found is not None:
        fig.add_vline(x=found, line=dict(color="#d62728", width=2))
        fig.add_annotation(x=found, y=1.05, text=f"ε = {found:g}", showarrow=False,
                           yanchor="bottom", font=dict(color="#d62728"))
    fig.update_yaxes(visible=False, range=[0, 1.4])
    fig.update_xaxes(title="ε tried (largest change of any pixel)")
    fig.update_layout(height=height, margin={**MARGIN, "t": 10}, bargap=0.1,
                      plot_bgcolor="white", showlegend=False)
    return fig


def dreams_figure(X: np.ndarray, classes: Sequence[int], confidence: Sequence[float],
                  cols: int = 5, tile_px: int = 110) -> go.Figure:
    """The input each class likes best, ``X: (k, 784)``, each captioned with its class and
    the network's output for it, ``cols`` to a row."""
    captions = [f"{c} ({p:.0%})" for c, p in zip(classes, confidence)]
    return gallery_figure(np.asarray(X), captions, cols=cols, tile_px=tile_px)
