"""The Hidden-layer map page's sections: the two maps side by side (raw pixels and a
hidden layer) with point selection, the separation by layer, and the selected digits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from mnist_np.projection import LayerView, Projection, align

from ..figures.images import gallery_figure
from ..figures.map import map_figure, selected_indices, separation_figure
from ..page import figure_for

MAX_SHOWN = 40  # selected digits shown as images
SELECTED_KEY = "map_selected"


def selection(size: int) -> list[int]:
    """The digits selected on a map of ``size`` digits (none after a change of size)."""
    selected_size, chosen = st.session_state.get(SELECTED_KEY, (size, []))
    return chosen if selected_size == size else []


def _keep_selection(chart_key: str, size: int) -> None:
    points = st.session_state[chart_key]["selection"]["points"]
    st.session_state[SELECTED_KEY] = (size, selected_indices(points))


def _turned_like_before(view: LayerView, projection: Projection, layer: int,
                        size: int) -> np.ndarray:
    """The view's map turned to line up with the map shown before, so it moves instead
    of flipping; the same view keeps exactly the same turn (a changed figure remounts
    the chart)."""
    shown = st.session_state.setdefault("map_shown", {})
    before_view, before_scores = shown.get((layer, size), (None, None))
    if before_view is not view:
        scores = projection.scores
        scores = scores if before_scores is None else align(scores, before_scores)
        shown[(layer, size)] = (view, scores)
    return shown[(layer, size)][1]


def maps(pixels: Projection, view: LayerView, y: np.ndarray, layer: int | None, units: int,
         size: int, chosen: list[int], classes: Sequence[str] | None = None) -> None:
    """The raw pixels' map beside hidden layer ``layer``'s (``units`` wide), both
    selectable."""
    a, b = st.columns(2)
    shown = (layer, size, tuple(chosen))  # a figure is rebuilt only when what it shows changed
    a.plotly_chart(figure_for("map_pixels_figure", view, shown, lambda: map_figure(
                       pixels.scores, y, view.predicted, "Raw pixels", pixels.explained.sum(),
                       chosen, classes)), key="map_pixels_chart",
                   on_select=lambda k="map_pixels_chart": _keep_selection(k, size),
                   selection_mode=("points", "box", "lasso"))
    a.caption("The digits as 784 pixel brightnesses: classes overlap, because "
              "the same digit can be written in many ways.")
    projection = view.projection
    if layer is None or projection is None:
        b.info("This network has no hidden layer: the pixels go straight to the output, "
               "so there is no hidden layer to map, only the raw pixels (left). Add a "
               "hidden layer in the sidebar to compare.")
        return
    scores = _turned_like_before(view, projection, layer, size)
    b.plotly_chart(figure_for("map_layer_figure", view, shown, lambda: map_figure(
                       scores, y, view.predicted, f"Hidden layer {layer}",
                       projection.explained.sum(), chosen, classes)),
                   key="map_layer_chart",
                   on_select=lambda k="map_layer_chart": _keep_selection(k, size),
                   selection_mode=("points", "box", "lasso"))
    b.caption(f"The same digits as the {units} activations of hidden layer {layer}: as the "
              "network learns, it pulls each digit towards its own region. Two dimensions "
              "keep only part of the spread, so some overlap is left on the map.")


def separation(view: LayerView, n_hidden: int) -> None:
    """How far apart the digits are in the pixels, each hidden layer and the output."""
    names = ["pixels", *[f"hidden {l}" for l in range(1, n_hidden + 1)], "output"]
    st.plotly_chart(figure_for("map_separation_figure", view, n_hidden,
                               lambda: separation_figure(names, view.separation)),
                    key="map_separation")
    st.caption("The share of all the spread between dots that comes from which digit they "
               "are (between-class variance over total variance, in all dimensions, not "
               "just the two drawn): it grows layer by layer as the network learns.")


def selected_digits(X: np.ndarray, y: np.ndarray, predicted: np.ndarray,
                    chosen: list[int], classes: Sequence[str] | None = None) -> None:
    """The selected digits as images, mistakes first."""
    st.subheader("Selected digits")
    if not chosen:
        st.caption("Click a dot, or pick *Box select* or *Lasso select* in a map's toolbar "
                   "and drag over dots, to see those digits here.")
        return
    shown = sorted(chosen, key=lambda i: bool(predicted[i] == y[i]))[:MAX_SHOWN]
    more = f", the first {MAX_SHOWN} of {len(chosen)}" if len(chosen) > MAX_SHOWN else ""
    st.caption(f"{len(shown)} digit{'s' * (len(shown) != 1)} (mistakes first{more}): "
               "true digit → the network's answer.")
    names = list(classes) if classes is not None else [str(d) for d in range(10)]
    captions = [f"{names[y[i]]} → {names[predicted[i]]}" for i in shown]
    wide = max(map(len, names)) > 2  # class names are words: fewer, wider tiles
    st.plotly_chart(gallery_figure(X[shown], captions, cols=5 if wide else 10,
                                   tile_px=150 if wide else 84),
                    key="map_gallery", width="content")
