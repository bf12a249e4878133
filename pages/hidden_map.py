"""What it learned: a 2-D map (PCA) of a hidden layer's activations, beside the same
map of the raw pixels; selected points are shown as images."""

import streamlit as st

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
from dashboard.sections import hidden_map as section
from mnist_np.projection import layer_view, pca

SIZES = [1000, 2000, 5000]   # test digits on the map
LIVE_SECONDS = 3.0           # while training runs, the map is recomputed at most this often
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
                       every=LIVE_SECONDS, what="map", running=running, background=True)
    if view is None:
        return
    view, at_step = view
    if moment == NOW and layer is not None:
        not_trained_note(session, "This network is freshly initialised and not trained yet: its "
                         "hidden layer is a random mix of the pixels, so the digits are as mixed "
                         "up as in the pixels. Press ▶ Play and watch the colours pull apart.")
    if moment == NOW:
        freshness_caption(session, at_step, LIVE_SECONDS)

    chosen = section.selection(size)
    section.maps(pixel_projection(data.source, size, X), view, y, layer,
                 net.layer_sizes[layer] if layer else 0, size, chosen, data.classes)
    section.separation(view, n_hidden)
    section.selected_digits(X, y, view.predicted, chosen, data.classes)


live_fragment(session, draw, every=LIVE_SECONDS)()
