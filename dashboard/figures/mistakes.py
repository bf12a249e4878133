"""Figure builders for the Mistakes page: the confusion matrix (clickable), accuracy per
digit, and a gallery of misclassified digits.

Plotly reports no clicks on a heatmap, so the confusion matrix carries an almost
invisible square marker on every cell; a click or box selection on those returns the
cell's ``[true, predicted]`` pair, which :func:`cell_from_selection` reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from .base import Series, accuracy_axis, class_names, layout
from .images import gallery_figure


def confusion_figure(cm: np.ndarray, selected: tuple[int, int] | None = None,
                     classes: Sequence[str] | None = None) -> go.Figure:
    """Counts ``cm: (k, k)`` (row = true digit, column = predicted). The colour scale tops
    out at the largest *mistake* count, so mistakes stand out against the correct diagonal;
    ``selected`` is outlined; ``classes`` names the rows and columns (default: digits)."""
    k = len(cm)
    names, noun = class_names(k, classes)
    off = cm[~np.eye(k, dtype=bool)]
    top = max(1, int(off.max()) if off.size else 1)
    fig = go.Figure(go.Heatmap(z=cm, x=list(range(k)), y=list(range(k)), colorscale="Reds",
                               zmin=0, zmax=top, texttemplate="%{z}", hoverinfo="skip",
                               colorbar=dict(title="count"),
                               # names as wide as words leave a narrow column little room:
                               # the counts are written in the cells, so no colour bar
                               showscale=noun == "digit"))
    true, pred = np.mgrid[0:k, 0:k]
    fig.add_scatter(
        x=pred.ravel(), y=true.ravel(), mode="markers", showlegend=False,
        marker=dict(symbol="square", size=28, opacity=0.01, color="black"),
        customdata=np.stack([true.ravel(), pred.ravel()], 1).tolist(),
        text=[f"true {names[t]}, predicted {names[p]}: {n}"
              for t, p, n in zip(true.ravel(), pred.ravel(), cm.ravel())],
        hovertemplate="%{text}<extra>click to show these</extra>")
    if selected is not None:
        t, p = selected
        fig.add_shape(type="rect", x0=p - 0.5, x1=p + 0.5, y0=t - 0.5, y1=t + 0.5,
                      line=dict(color="#1f77b4", width=3))
    fig = layout(fig, "Confusion matrix (test set)", f"predicted {noun}", f"true {noun}",
                 height=460)
    fig.update_xaxes(tickvals=list(range(k)), ticktext=names, range=[-0.5, k - 0.5],
                     showgrid=False, zeroline=False,
                     tickangle=-45 if noun == "class" else None)
    fig.update_yaxes(tickvals=list(range(k)), ticktext=names, range=[k - 0.5, -0.5],
                     showgrid=False, zeroline=False)
    return fig


def cell_from_selection(selection: Mapping | None) -> tuple[int, int] | None:
    """The ``(true, predicted)`` cell of the first selected marker, or None.

    ``selection`` is what ``st.plotly_chart(on_select=...)`` gives (``{"points": [...],
    ...}``); customdata may come back as ``[t, p]`` or as ``{"0": t, "1": p}``."""
    for point in (selection or {}).get("points", []):
        data = point.get("customdata")
        if isinstance(data, Mapping):
            data = [data.get("0"), data.get("1")]
        if isinstance(data, (list, tuple)) and len(data) == 2 and None not in data:
            return int(data[0]), int(data[1])
    return None


def per_digit_accuracy_figure(accuracy: Series,
                              classes: Sequence[str] | None = None) -> go.Figure:
    """Test accuracy of each true digit (or class of ``classes``), one bar each."""
    accuracy = np.asarray(accuracy, np.float64)
    names, noun = class_names(len(accuracy), classes)
    fig = go.Figure(go.Bar(x=list(range(len(accuracy))), y=accuracy,
                           text=[f"{a:.1%}" for a in accuracy], textposition="outside",
                           marker_color="#1f77b4"))
    fig = layout(fig, f"Accuracy per {noun} (test set)", f"true {noun}", "accuracy")
    fig.update_xaxes(tickvals=list(range(len(accuracy))), ticktext=names,
                     tickangle=-45 if noun == "class" else None)  # else the last is dropped
    return accuracy_axis(fig, accuracy, room=0.01 if accuracy.min() >= 0.5 else 0.1)


def mistakes_figure(images: np.ndarray, true: Sequence[int], predicted: Sequence[int],
                    confidence: Sequence[float], cols: int = 8,
                    classes: Sequence[str] | None = None) -> go.Figure:
    """Misclassified digits ``images: (k, 784)`` in a grid, each titled
    ``true → predicted (confidence)``, by the names in ``classes`` when given."""
    names, _ = class_names(10, classes)
    captions = [f"<b>{names[t]}</b> → {names[p]} ({c:.0%})"
                for t, p, c in zip(true, predicted, confidence)]
    if max(map(len, names)) > 2:  # "T-shirt/top → Ankle boot (100%)": fewer, wider tiles
        return gallery_figure(images, captions, cols=min(cols, 4), tile_px=180,
                              nothing="no mistakes here")
    return gallery_figure(images, captions, cols=cols, nothing="no mistakes here")
