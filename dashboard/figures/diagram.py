"""The network diagram: each layer a column of nodes (the input as the digit itself, the
first layer's units as their receptive fields, deeper units coloured by their activation
for the digit) and the strongest edges between shown units, coloured and sized by weight.

Input is a :class:`mnist_np.lab.DiagramView`; the figure is pure plotly. Images are
drawn as layout images (small PNGs, square pixels whatever the chart's width) and every
unit is a marker whose ``customdata`` is ``[layer, unit]``, so a click on it selects it
(no ``dragmode`` here: with ``select`` Streamlit turns click-to-select off).
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np
import plotly.graph_objects as go

from mnist_np.lab import DiagramView

from .base import MARGIN, layer_name
from .images import side

POSITIVE, NEGATIVE = "rgba(214, 39, 40, {a})", "rgba(31, 119, 180, {a})"
WIDTHS = (0.8, 2.0, 4.0)  # edge widths: the weakest, middle and strongest third
OFF_COLOR = "#bbbbbb"
# RdBu_r's ends and middle, for receptive fields drawn as images (blue < 0 < red)
_BLUE, _WHITE, _RED = np.array([5, 48, 97]), np.array([255, 255, 255]), np.array([103, 0, 31])
PIXEL = 4  # screen pixels per image pixel in the PNGs (crisp, not blurred, when scaled)


def png(rgb: np.ndarray) -> str:
    """``rgb: (h, w, 3) uint8`` as a PNG data URI (zlib and struct, no imaging library)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + row.tobytes() for row in np.ascontiguousarray(rgb, np.uint8))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    body = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(body).decode("ascii")


def _blow_up(image: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(image, PIXEL, axis=0), PIXEL, axis=1)


def ink_rgb(x: np.ndarray) -> np.ndarray:
    """A digit ``(h, w)`` in [0, 1] as ink dark on white."""
    grey = (255 * (1 - np.clip(np.nan_to_num(x), 0, 1))).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def signed_rgb(w: np.ndarray) -> np.ndarray:
    """Weights ``(h, w)`` blue (negative), white (0), red (positive), scaled to their own
    largest magnitude."""
    w = np.nan_to_num(np.asarray(w, np.float64), posinf=0, neginf=0)
    top = np.abs(w).max()
    t = w / top if top > 0 else w
    t = t[..., None]
    rgb = np.where(t >= 0, _WHITE + t * (_RED - _WHITE), _WHITE - t * (_BLUE - _WHITE))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _ys(m: int) -> np.ndarray:
    """``m`` node heights spread over [0, 1], the first on top."""
    return 1 - (np.arange(m) + 0.5) / m


def _edge_traces(x0: float, x1: float, y0: np.ndarray, y1: np.ndarray,
                 src: np.ndarray, dst: np.ndarray, w: np.ndarray) -> list[go.Scatter]:
    """A few traces (sign × strength third) of line segments with None between them."""
    if not len(w):
        return []
    strength = np.abs(w) / max(float(np.abs(w).max()), 1e-30)
    third = np.minimum((strength * 3).astype(int), 2)
    traces = []
    for positive, color in ((True, POSITIVE), (False, NEGATIVE)):
        for t, width in enumerate(WIDTHS):
            pick = np.flatnonzero(((w > 0) == positive) & (third == t))
            if not len(pick):
                continue
            xs = np.tile([x0, x1, np.nan], len(pick))
            ys = np.column_stack([y0[src[pick]], y1[dst[pick]],
                                  np.full(len(pick), np.nan)]).ravel()
            traces.append(go.Scatter(
                x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                line=dict(color=color.format(a=0.35 + 0.2 * t), width=width)))
    return traces


TOP, BOTTOM, Y_SPAN = 90, 10, 1.12  # the margins and the y range's length


def diagram_figure(view: DiagramView, selected: tuple[int, int] | None = None,
                   slot_px: int = 30) -> go.Figure:
    """The diagram of ``view`` (see the module's docstring); ``selected`` ``(layer,
    unit)`` is ringed; about ``slot_px`` screen pixels per node of the tallest column.
    A column that shows fewer units than its layer has says so."""
    L = len(view.layers)
    tallest = max(10, *(len(layer.units) for layer in view.layers))
    height = round(tallest * slot_px * Y_SPAN) + TOP + BOTTOM
    fig = go.Figure()
    images, notes = [], []
    col_x = np.arange(L + 1, dtype=float)  # column 0: the input
    span = 0.34  # half the width an image may take in a column
    s = side(view.x.size)
    images.append(dict(source=png(_blow_up(ink_rgb(view.x.reshape(s, s)))), xref="x",
                       yref="y", x=col_x[0], y=0.5, sizex=2 * span, sizey=0.34,
                       xanchor="center", yanchor="middle", sizing="contain", layer="above"))
    heads = [f"<b>input</b><br>{view.x.size:,} pixels"]
    ys = [_ys(len(layer.units)) for layer in view.layers]
    for l, layer in enumerate(view.layers, start=1):
        m = len(layer.units)
        name = layer_name(l, L)
        heads.append(f"<b>{name}</b><br>{layer.size:,} units" if m == layer.size else
                     f"<b>{name}</b><br>the {m} most active<br>of {layer.size:,} units")
        if l == 1:  # receptive fields as thumbnails; markers on them take the clicks
            slot = 1 / m
            for field, y in zip(view.fields, ys[0]):
                images.append(dict(source=png(_blow_up(signed_rgb(field.reshape(s, s)))),
                                   xref="x", yref="y", x=col_x[1], y=y, sizex=2 * span,
                                   sizey=0.9 * slot, xanchor="center", yanchor="middle",
                                   sizing="contain", layer="below"))
    for l in range(2, L + 1):
        src, dst, w = view.edges[l - 2]
        start = col_x[1] + 0.08 if l == 2 else col_x[l - 1]  # from a thumbnail's right side
        for trace in _edge_traces(start, col_x[l], ys[l - 2], ys[l - 1], src, dst, w):
            fig.add_trace(trace)
    for l in range(1, L + 1):
        fig.add_trace(_nodes(view, l, col_x[l], ys[l - 1], selected, L,
                             0.9 * (height - TOP - BOTTOM) / Y_SPAN / len(ys[l - 1])))
    for x, text in zip(col_x, heads):
        notes.append(dict(x=x, y=1.0, xref="x", yref="y", text=text, showarrow=False,
                          yanchor="bottom", font=dict(size=12)))
    fig.update_layout(
        images=images, annotations=notes, height=height, showlegend=False,
        margin=dict(MARGIN, t=TOP, b=BOTTOM), plot_bgcolor="white", uirevision="diagram",
        title=dict(text=f"The network reading this digit: it answers {view.prediction}",
                   y=0.99, yanchor="top"))
    fig.update_xaxes(visible=False, range=[-0.5, L + 0.6], fixedrange=True)
    fig.update_yaxes(visible=False, range=[-0.02, Y_SPAN - 0.02], fixedrange=True)
    return fig


def _nodes(view: DiagramView, l: int, x: float, ys: np.ndarray,
           selected: tuple[int, int] | None, L: int, slot: float) -> go.Scatter:
    """Layer ``l``'s units as markers about ``slot`` screen pixels apart."""
    layer = view.layers[l - 1]
    m = len(layer.units)
    a = np.asarray(layer.a, np.float64)
    finite = np.abs(a[np.isfinite(a)])
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    colors = [OFF_COLOR if off else _heat(t) for off, t in zip(layer.off, np.abs(a) / top)]
    ring = [3.0 if selected == (l, int(u)) else 0.5 for u in layer.units]
    states = ["  (switched off)" if off else "" for off in layer.off]
    if l == 1:  # an open square around each receptive field
        marker = dict(symbol="square-open", size=max(8.0, slot + 2),
                      color=["black" if r > 1 else "rgba(80, 80, 80, 0.5)" for r in ring],
                      line=dict(width=ring))
    else:
        marker = dict(size=max(7.0, min(22.0, 0.7 * slot)), color=colors,
                      line=dict(width=ring, color="black"))
    label = [str(int(u)) for u in layer.units] if l == L else None
    name = layer_name(l, L)
    return go.Scatter(
        x=np.full(m, x), y=ys, mode="markers+text" if label else "markers", text=label,
        textposition="middle right", marker=marker,
        customdata=np.column_stack([np.full(m, l), layer.units]).tolist(),
        hovertext=[f"{name}, unit {int(u)}: a = {v:.3g}{st}"
                   for u, v, st in zip(layer.units, a, states)],
        hoverinfo="text", showlegend=False)


def _heat(t: float) -> str:
    """YlOrRd at ``t`` in [0, 1], for a column with switched-off units (greyed)."""
    stops = np.array([[255, 255, 204], [254, 178, 76], [240, 59, 32], [128, 0, 38]], float)
    pos = np.clip(t, 0, 1) * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    rgb = stops[i] + (pos - i) * (stops[i + 1] - stops[i])
    return f"rgb({int(rgb[0])}, {int(rgb[1])}, {int(rgb[2])})"
