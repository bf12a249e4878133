"""Figures for the "Back to the pixels" page: a saliency map beside its digit, an
adversarial digit as original, change and result, and the input each class likes best.
Pure functions, tested without Streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .base import DIVERGING, INK, MARGIN
from .images import gallery_figure, side


def _square(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, float).ravel()
    s = side(len(x))
    return x.reshape(s, s)


def _panels(panels: Sequence[Sequence[dict]], titles: Sequence[str],
            height: int) -> go.Figure:
    """Image panels side by side, each ``panels[i]``'s traces (as dicts) on its own axes:
    square pixels, row 0 on top, no ticks, ``titles[i]`` above. Built in one go (plotly's
    make_subplots and per-axis updates took ~100 ms for three panels)."""
    k, gap = len(panels), 0.04
    width = (1 - gap * (k - 1)) / k
    data, axes, notes = [], {}, []
    for i, (traces, title) in enumerate(zip(panels, titles)):
        n = "" if i == 0 else str(i + 1)
        left = i * (width + gap)
        data += [{**t, "xaxis": f"x{n}", "yaxis": f"y{n}"} for t in traces]
        axes[f"xaxis{n}"] = dict(domain=[left, left + width], anchor=f"y{n}", visible=False,
                                 constrain="domain")
        axes[f"yaxis{n}"] = dict(anchor=f"x{n}", autorange="reversed", scaleanchor=f"x{n}",
                                 visible=False)
        notes.append(dict(text=title, x=left + width / 2, y=1, xref="paper", yref="paper",
                          xanchor="center", yanchor="bottom", showarrow=False,
                          font=dict(size=14)))
    return go.Figure(data=data, layout=dict(**axes, annotations=notes, height=height,
                                            margin={**MARGIN, "t": 60},
                                            plot_bgcolor="white"))


def _digit(x: np.ndarray, name: str) -> dict:
    return dict(type="heatmap", z=_square(x), colorscale=INK, zmin=0, zmax=1, showscale=False,
                name=name, hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>")


def _signed(z: np.ndarray, limit: float, name: str, what: str, scale: bool) -> dict:
    """Blue below 0, white at 0, red above, on ±``limit`` (a tiny limit when all is 0),
    with a colour bar on the right when ``scale``."""
    limit = float(limit) if np.isfinite(limit) and limit > 0 else 1e-12
    ticks = [-limit, -limit / 2, 0.0, limit / 2, limit]  # labelled in full: 0.00012, 5e-05
    return dict(type="heatmap", z=_square(z), colorscale=DIVERGING, zmin=-limit, zmax=limit,
                name=name, showscale=scale,
                colorbar=dict(len=0.8, thickness=12, tickvals=ticks,
                              ticktext=[f"{t:.2g}" for t in ticks]),
                hovertemplate=f"row %{{y}}, col %{{x}}: {what} %{{z:.3g}}<extra></extra>")


def saliency_figure(x: np.ndarray, gradient: np.ndarray, target: str,
                    height: int = 330) -> go.Figure:
    """The digit ``x: (784,)`` and its saliency map ``gradient: (784,)``, minus the loss's
    gradient ``-∂L/∂x`` for class ``target`` (its name): red where more ink would make the
    network more sure of ``target``, blue where less, on a scale symmetric about 0; the
    digit's outline (ink at 0.5) drawn over the map so the pixels can be found."""
    g = np.asarray(gradient, float)
    limit = float(np.nanmax(np.abs(g))) if np.isfinite(g).any() else 0.0
    outline = dict(type="contour", z=_square(x), showscale=False, hoverinfo="skip",
                   contours=dict(start=0.5, end=0.5, size=1, coloring="none"),
                   line=dict(color="black", width=1), name="outline")
    return _panels([[_digit(x, "digit")], [_signed(g, limit, "saliency", "−∂L/∂x =", True),
                                            outline]],
                   ["the digit", f"saliency for {target}: −∂L/∂x"], height)


def attack_figure(x: np.ndarray, x_adv: np.ndarray, epsilon: float,
                  before: tuple[str, float], after: tuple[str, float],
                  height: int = 300) -> go.Figure:
    """An adversarial digit in three panels: the original ``x: (784,)`` titled with the
    answer's name and probability ``before``, the change ``x_adv - x`` on ±``epsilon``
    (red: ink added, blue: ink taken away), and the result ``x_adv`` with ``after``."""
    (a0, p0), (a1, p1) = before, after
    change = np.asarray(x_adv, float) - np.asarray(x, float)
    return _panels([[_digit(x, "original")],
                    [_signed(change, epsilon, "change", "change", False)],
                    [_digit(x_adv, "result")]],
                   [f"original<br>reads {a0} ({p0:.0%})", f"change<br>at most ε = {epsilon:g}",
                    f"result<br>reads {a1} ({p1:.0%})"], height)  # two lines: narrow panels


def epsilon_figure(epsilons: np.ndarray, flipped: np.ndarray, found: float | None,
                   height: int = 150) -> go.Figure:
    """Each size ``ε`` tried as a tick, orange where the answer changed and grey where it
    did not (a legend says which), with the smallest that worked (``found``) marked."""
    eps = np.asarray(epsilons, float)
    hit = np.asarray(flipped, bool)
    # one bar width for both traces (each alone would guess its own from its few bars)
    width = 0.9 * float(np.min(np.diff(eps))) if len(eps) > 1 else None
    bars = [dict(type="bar", x=eps[hit == changed], y=np.ones(int(np.sum(hit == changed))),
                 marker_color=colour, name=name, width=width,
                 hovertemplate=f"ε = %{{x:g}}: {name}<extra></extra>")
            for changed, colour, name in ((False, "#d0d0d0", "answer unchanged"),
                                          (True, "#ff7f0e", "answer changed"))]
    marks: dict = dict(shapes=[], annotations=[])
    if found is not None:
        marks = dict(shapes=[dict(type="line", x0=found, x1=found, y0=0, y1=1, yref="paper",
                                  line=dict(color="#d62728", width=2))],
                     annotations=[dict(x=found, y=1.05, text=f"ε = {found:g}", showarrow=False,
                                       yanchor="bottom", font=dict(color="#d62728"))])
    return go.Figure(data=bars, layout=dict(
        height=height, margin={**MARGIN, "t": 10}, bargap=0.1, plot_bgcolor="white",
        showlegend=True, legend=dict(orientation="h", x=0, y=1.02, xanchor="left",
                                     yanchor="bottom"),
        yaxis=dict(visible=False, range=[0, 1.4]),
        xaxis=dict(title=dict(text="ε tried (largest change of any pixel)")), **marks))


def dreams_figure(X: np.ndarray, classes: Sequence[str], confidence: Sequence[float],
                  cols: int = 5, tile_px: int = 165) -> go.Figure:
    """The input each class likes best, ``X: (k, 784)``, each captioned with its class's
    name and the network's output for it, ``cols`` to a row; big enough to read on a
    projector (``tile_px`` screen pixels an image, captions in 16 px)."""
    captions = [f"{c} ({p:.0%})" for c, p in zip(classes, confidence)]
    fig = gallery_figure(np.asarray(X), captions, cols=cols, tile_px=tile_px)
    return fig.update_annotations(font_size=16)
