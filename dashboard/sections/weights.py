"""The Weights page's section on how the weights' distribution changes over training."""

from __future__ import annotations

from collections.abc import Callable, Hashable

import plotly.graph_objects as go
import streamlit as st

from mnist_np import MLP
from mnist_np.training import Snapshot

from ..figures.weights import histogram_figure, spread_figure
from ..page import snapshot_label

NOW = "now"


def distribution(net: MLP, snapshots: list[Snapshot], step: int, layer: int,
                 view: Callable[[Hashable, Callable[[], go.Figure]], go.Figure]) -> None:
    """Layer ``layer``'s weights and biases at a chosen snapshot (or now, at ``step``)
    against the start, and how far all the weights spread from 0 over training; each
    figure made by ``view(key, build)`` (the page's cache of figures)."""
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
    hist_w.plotly_chart(view(("hist_w", layer, choice), lambda: histogram_figure(
        [(when, W), ("at the start", start.weights[layer])],
        f"Weights of W{layer + 1}", "weight")), key="weights_hist_w")
    hist_b.plotly_chart(view(("hist_b", layer, choice), lambda: histogram_figure(
        [(when, b), ("at the start", start.biases[layer])],
        f"Biases of layer {layer + 1}", "bias")), key="weights_hist_b")
    steps = [s.step for s in snapshots] + [step]
    weights = [s.weights for s in snapshots] + [net.weights]
    spread.plotly_chart(view("spread", lambda: spread_figure(steps, weights)),
                        key="weights_spread")
    st.caption("Left and middle: the selected layer's weights and biases at the chosen "
               "moment, against the start (dotted). Right: how far the weights spread "
               "from 0 as they learn. Biases start at 0 and move only through training.")

