"""Gradients: how large each layer's gradients and updates are, how many units are
saturated or dead, and two presets that show vanishing and exploding gradients."""

import streamlit as st

from dashboard.explain import saturation_caption, update_ratio_caption
from dashboard.figures.gradients import (
    layer_bars_figure,
    layer_curves_figure,
    saturation_figure,
    update_ratio_figure,
)
from dashboard.page import live_fragment, not_trained_note, page_header, page_session, say
from dashboard.widgets import load_preset
from mnist_np.probe import probe

PROBE_SIZE = 256  # validation images the "right now" bars are measured on

session = page_session()
if st.session_state.pop("gradients_autoplay", False):
    # The preset button's second half. The sidebar has reset the network if the preset
    # changed any setting; if it did not (the preset was loaded already), start afresh here.
    if session.play_from_start():
        say("The preset starts again from fresh random weights (the previous run is kept on "
            "the Experiments page).")
    st.rerun()  # redraw the sidebar with the Pause button
page_header("Gradients", session)


def _load_preset(name: str) -> None:
    load_preset(name)
    st.session_state.gradients_autoplay = True


st.markdown(
    "Backpropagation multiplies the error signal by every layer's weights and by the "
    "activation's slope on its way back to the input. **Vanishing gradients**: with "
    "sigmoids, each slope is at most 0.25, so the gradient shrinks layer after layer and "
    "the first layers (W1) barely learn; their lines sit far below the last layer's. "
    "**Exploding gradients**: with large weights each layer multiplies the signal up, the "
    "lines shoot upward and the loss turns into NaN.")
buttons = st.container(horizontal=True)
buttons.button("Show vanishing gradients", key="gradients_vanishing",
               on_click=_load_preset, args=("vanishing",),
               help="Loads the 'vanishing' preset (5 sigmoid layers) and starts training")
buttons.button("Show exploding gradients", key="gradients_exploding",
               on_click=_load_preset, args=("exploding",),
               help="Loads the 'exploding' preset (deep ReLU, U[-1, 1) weights) and "
                    "starts training")


def draw(session):
    with session.reading() as t:
        net, _ = session.network_copy()
        h = t.history
        steps, norms = h.array("step"), h.array("grad_norms")
        ratios, saturation = h.array("update_ratios"), h.array("saturation")
        X, y = t.X_val[:PROBE_SIZE], t.y_val[:PROBE_SIZE]
    L = len(net.weights)
    weights = [f"W{l + 1}" for l in range(L)]
    hidden = [f"hidden {l + 1}" for l in range(L - 1)]
    label = net.act.saturation_label
    not_trained_note(session, "Not trained yet: the curves start with the first step. The bars "
                     "below already measure the freshly initialised network.")

    left, right = st.columns(2)
    left.plotly_chart(layer_curves_figure(steps, norms, weights, "Gradient magnitude per layer",
                                          "‖∂L/∂W‖ (log)"), key="gradients_norms")
    right.plotly_chart(update_ratio_figure(steps, ratios, weights), key="gradients_ratios")
    st.caption(update_ratio_caption(session.settings.schedule, session.stats_every))

    now = probe(net, X, y)
    left, middle, right = st.columns(3)
    left.plotly_chart(saturation_figure(steps, saturation, hidden, label),
                      key="gradients_saturation")
    middle.plotly_chart(layer_bars_figure(weights, now.grad_norms, "Gradient magnitude now",
                                          "‖∂L/∂W‖ (log)", log_y=True), key="gradients_now")
    right.plotly_chart(layer_bars_figure(hidden, now.saturation, f"{label.capitalize()} "
                                         "units now", "fraction", percent=True),
                       key="gradients_saturation_now")
    st.caption(saturation_caption(label, len(y)))


live_fragment(session, draw)()
