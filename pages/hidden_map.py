"""What it learned: a 2-D map (PCA) of a hidden layer's activations, beside the same
map of the raw pixels; selected points are shown as images."""

import streamlit as st

from dashboard.figures.images import gallery_figure
from dashboard.figures.map import map_figure, selected_indices, separation_figure
from dashboard.live import digit_subset
from dashboard.page import (
    cached_view,
    freshness_caption,
    live_fragment,
    not_trained_note,
    page_header,
    page_session,
    snapshot_label,
)
from mnist_np.projection import align, layer_view, pca

SIZES = [1000, 2000, 5000]   # test digits on the map
LIVE_SECONDS = 3.0           # while training runs, the map is recomputed at most this often
MAX_SHOWN = 40               # selected digits shown as images
NOW = "now"

session = page_session()
page_header("Hidden-layer map", session)
st.caption("Each dot is a test digit, placed by what a layer of the network makes of it, "
           "flattened to 2-D with PCA (the two directions along which the dots spread the "
           "most). Colour is the true digit; a ring means the network gets it wrong.")


@st.cache_resource(max_entries=4, show_spinner=False)
def pixel_projection(source: str, size: int, _X):
    """The raw-pixel map: it does not depend on the network, so it is computed once."""
    return pca(_X)


def _keep_selection(chart_key: str, size: int) -> None:
    event = st.session_state[chart_key]
    points = event["selection"]["points"]
    st.session_state.map_selected = (size, selected_indices(points))


def draw(session):
    net, version = session.network_copy()
    with session.reading() as trainer:
        snapshots = {snapshot_label(s): s for s in trainer.snapshots}
    n_hidden = len(net.layer_sizes) - 2
    data = session.data

    # one row that wraps in a narrow window (columns cut "2,000" to "2,0")
    controls = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
    layers = list(range(1, n_hidden + 1))
    layer = controls.selectbox(
        "Hidden layer", layers, key="map_layer", width=240,
        format_func=lambda l: f"hidden layer {l} ({net.layer_sizes[l]} units)") if layers \
        else None
    sizes = sorted({min(n, len(data.X_test)) for n in SIZES})  # the offline sample has 1,000
    size = controls.selectbox("Digits on the map", sizes, index=min(1, len(sizes) - 1),
                              key="map_size", format_func=lambda n: f"{n:,}", width=140)
    moment = controls.select_slider(
        "Network at", [*snapshots, NOW], value=NOW, key="map_at",
        help="Saved copies of the network from the start and the end of each epoch, "
             "or the network as it is now.")

    past = session.network_at(snapshots[moment]) if moment != NOW else None
    if past is not None:
        net, key, state, running = past, (layer, size, snapshots[moment].step), 0, False
    else:
        key, state, running = (layer, size, NOW), version, session.running
    idx = digit_subset(len(data.X_test), size)
    X, y = data.X_test[idx], data.y_test[idx]
    view = cached_view(session, "map_cache", key, state, lambda: layer_view(net, X, y, layer),
                       every=LIVE_SECONDS, what="map", running=running)
    if view is None:
        return
    view, at_step = view
    if moment == NOW and layer is not None:
        not_trained_note(session, "This network is freshly initialised and not trained yet: its "
                         "hidden layer is a random mix of the pixels, so the digits are as mixed "
                         "up as in the pixels. Press ▶ Play and watch the colours pull apart.")
    if moment == NOW:
        freshness_caption(session, at_step, LIVE_SECONDS)

    selected_size, chosen = st.session_state.get("map_selected", (size, []))
    chosen = chosen if selected_size == size else []
    pixels = pixel_projection(data.source, size, X)
    pixel_fig = map_figure(pixels.scores, y, view.predicted, "Raw pixels",
                           pixels.explained.sum(), chosen)
    select = dict(on_select=lambda k="map_pixels_chart": _keep_selection(k, size),
                  selection_mode=("points", "box", "lasso"))
    a, b = st.columns(2)
    a.plotly_chart(pixel_fig, key="map_pixels_chart", **select)
    a.caption("The digits as 784 pixel brightnesses: classes overlap, because "
              "the same digit can be written in many ways.")
    if layer is None:
        b.info("This network has no hidden layer: the pixels go straight to the output, "
               "so there is no hidden layer to map, only the raw pixels (left). Add a "
               "hidden layer in the sidebar to compare.")
    else:
        # turned to line up with the map shown before, so it moves instead of flipping;
        # the same view keeps exactly the same turn (a changed figure remounts the chart)
        shown = st.session_state.setdefault("map_shown", {})
        before_view, before_scores = shown.get((layer, size), (None, None))
        if before_view is not view:
            scores = view.projection.scores
            scores = scores if before_scores is None else align(scores, before_scores)
            shown[(layer, size)] = (view, scores)
        scores = shown[(layer, size)][1]
        b.plotly_chart(
            map_figure(scores, y, view.predicted, f"Hidden layer {layer}",
                       view.projection.explained.sum(), chosen),
            key="map_layer_chart",
            on_select=lambda k="map_layer_chart": _keep_selection(k, size),
            selection_mode=("points", "box", "lasso"))
        b.caption(f"The same digits as the {net.layer_sizes[layer]} activations of hidden "
                  f"layer {layer}: as the network learns, it pulls each digit towards its "
                  "own region. Two dimensions keep only part of the spread, so some "
                  "overlap is left on the map.")

    names = ["pixels", *[f"hidden {l}" for l in layers], "output"]
    st.plotly_chart(separation_figure(names, view.separation), key="map_separation")
    st.caption("The share of all the spread between dots that comes from which digit they "
               "are (between-class variance over total variance, in all dimensions, not "
               "just the two drawn): it grows layer by layer as the network learns.")

    st.subheader("Selected digits")
    if not chosen:
        st.caption("Click a dot, or pick *Box select* or *Lasso select* in a map's toolbar "
                   "and drag over dots, to see those digits here.")
        return
    mistakes_first = sorted(chosen, key=lambda i: bool(view.predicted[i] == y[i]))
    shown = mistakes_first[:MAX_SHOWN]
    more = f", the first {MAX_SHOWN} of {len(chosen)}" if len(chosen) > MAX_SHOWN else ""
    st.caption(f"{len(shown)} digit{'s' * (len(shown) != 1)} (mistakes first{more}): "
               "true digit → the network's answer.")
    captions = [f"{y[i]} → {view.predicted[i]}" for i in shown]
    st.plotly_chart(gallery_figure(X[shown], captions), key="map_gallery", width="content")


live_fragment(session, draw, every=LIVE_SECONDS)()
