"""Weights: each layer's weight matrix, the first layer's receptive fields, and how the
weights' distribution changes over training."""

import plotly.graph_objects as go
import streamlit as st

from dashboard.figures.base import empty, layout, weight_name
from dashboard.figures.weights import matrix_figure, receptive_fields_figure
from dashboard.page import (
    HEAVY_REFRESH_SECONDS,
    cached_view,
    live_fragment,
    not_trained_note,
    page_header,
    page_session,
)
from dashboard.sections import weights as section

session = page_session()
page_header("Weights", session)
st.caption("A layer computes z = a W + b: every hidden unit adds up its inputs, each "
           "multiplied by a weight. Blue weights are negative, red positive, white near 0.")


def view(session, key, version, build):
    """A figure of the network at ``version``, built off the script thread while
    training runs (a page switch shows the last one at once; see ``cached_view``)."""
    found = cached_view(session, "weights_cache", key, version, build, what="figure",
                        every=HEAVY_REFRESH_SECONDS, max_entries=8, background=True)
    return found[0] if found else empty(layout(go.Figure(), ""), "no figure")


def draw(session):
    with session.reading() as t:
        net, version = session.network_copy()
        snapshots = list(t.snapshots)  # the arrays in a snapshot are never changed
        step = t.step_count
    not_trained_note(session, f"Not trained yet: these are the freshly initialised weights "
                     f"({session.settings.init} initialisation). Press ▶ Play in the sidebar "
                     "and watch them change.")
    L = len(net.weights)
    names = [weight_name(l, net.layer_sizes) for l in range(L)]

    left, right = st.columns(2)
    with left:
        st.subheader("A weight matrix")
        if st.session_state.get("weights_layer") not in range(L):
            st.session_state.weights_layer = 0  # the network has fewer layers than before
        layer = st.selectbox("Layer", range(L), format_func=names.__getitem__,
                             key="weights_layer")
        matrix = view(session, ("matrix", layer), version,
                      lambda: matrix_figure(net.weights[layer], f"W{layer + 1}"))
        st.plotly_chart(matrix, key="weights_matrix")
        st.caption("Row i holds input i's weights, column j the weights into unit j. "
                   "Early on they look like noise; with training the first layer's "
                   "columns pick up stroke shapes (see the receptive fields).")
    with right:
        st.subheader("Receptive fields of the first layer")
        st.plotly_chart(view(session, "fields", version,
                             lambda: receptive_fields_figure(net.weights[0])),
                        key="weights_fields")
        st.caption("Each square is one unit of the first layer: its 784 incoming weights "
                   "laid out as the 28×28 image they look at, each scaled to its own "
                   "largest weight. Red pixels excite the unit, blue ones inhibit it.")

    section.distribution(net, snapshots, step, layer,
                         lambda key, build: view(session, key, version, build))

live_fragment(session, draw, every=HEAVY_REFRESH_SECONDS)()
