"""Weights: each layer's weight matrix, the first layer's receptive fields, and how the
weights' distribution changes over training."""

import streamlit as st

from dashboard.figures.base import weight_name
from dashboard.figures.weights import (
    histogram_figure,
    matrix_figure,
    receptive_fields_figure,
    spread_figure,
)
from dashboard.page import (
    HEAVY_REFRESH_SECONDS,
    live_fragment,
    not_trained_note,
    page_header,
    page_session,
    snapshot_label,
)

NOW = "now"

session = page_session()
page_header("Weights", session)
st.caption("A layer computes z = a W + b: every hidden unit adds up its inputs, each "
           "multiplied by a weight. Blue weights are negative, red positive, white near 0.")


def draw(session):
    with session.reading() as t:
        net, _ = session.network_copy()
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
        st.plotly_chart(matrix_figure(net.weights[layer], f"W{layer + 1}"),
                        key="weights_matrix")
        st.caption("Row i holds input i's weights, column j the weights into unit j. "
                   "Early on they look like noise; with training the first layer's "
                   "columns pick up stroke shapes (see the receptive fields).")
    with right:
        st.subheader("Receptive fields of the first layer")
        st.plotly_chart(receptive_fields_figure(net.weights[0]), key="weights_fields")
        st.caption("Each square is one unit of the first layer: its 784 incoming weights "
                   "laid out as the 28×28 image they look at, each scaled to its own "
                   "largest weight. Red pixels excite the unit, blue ones inhibit it.")

    st.subheader("Distribution over training")
    options = [*range(len(snapshots)), NOW]
    if st.session_state.get("weights_snapshot") not in options:
        st.session_state.weights_snapshot = NOW  # the run was reset: its snapshots are gone
    choice = st.select_slider("Snapshot (taken at the start and after every epoch)",
                              options, key="weights_snapshot",
                              format_func=lambda o: o if o == NOW else
                              snapshot_label(snapshots[o]))
    if choice == NOW:
        W, b, when = net.weights[layer], net.biases[layer], f"now (step {step:,})"
    else:
        snap = snapshots[choice]
        W, b, when = snap.weights[layer], snap.biases[layer], f"step {snap.step:,}"
    start = snapshots[0]
    hist_w, hist_b, spread = st.columns(3)
    hist_w.plotly_chart(histogram_figure(
        [(when, W), ("at the start", start.weights[layer])],
        f"Weights of W{layer + 1}", "weight"), key="weights_hist_w")
    hist_b.plotly_chart(histogram_figure(
        [(when, b), ("at the start", start.biases[layer])],
        f"Biases of layer {layer + 1}", "bias"), key="weights_hist_b")
    steps = [s.step for s in snapshots] + [step]
    weights = [s.weights for s in snapshots] + [net.weights]
    spread.plotly_chart(spread_figure(steps, weights), key="weights_spread")
    st.caption("Left and middle: the selected layer's weights and biases at the chosen "
               "moment, against the start (dotted). Right: how far the weights spread "
               "from 0 as they learn. Biases start at 0 and move only through training.")


live_fragment(session, draw, every=HEAVY_REFRESH_SECONDS)()
