"""Backprop, step by step: the equations, and the actual numbers they produce for one
digit; one update on that digit; and a finite-difference check of the gradients."""

import numpy as np
import streamlit as st

from dashboard.explain import digit_worth
from dashboard.page import (
    HEAVY_REFRESH_SECONDS,
    live_fragment,
    not_trained_note,
    page_header,
    page_session,
)
from dashboard.sections import backprop as section
from dashboard.widgets import LR_GRID

session = page_session()
page_header("Backprop, step by step", session)
st.caption("Pick a test digit and follow it through the network: forward to a prediction, "
           "the loss, then backward to every weight's gradient. Each equation sits next to "
           "the numbers it produces for this digit.")
X_test, y_test = session.data.X_test, session.data.y_test
state = st.session_state
STEP_SIZES = sorted({*LR_GRID, session.settings.lr})


section.open_on_a_digit_worth_learning_from(session, STEP_SIZES)
state.setdefault("backprop_draws", 0)


def _random_digit() -> None:
    rng = np.random.default_rng([session.settings.seed, state.backprop_draws])
    state.backprop_index = int(rng.integers(len(y_test)))
    state.backprop_draws += 1


def _misread_digit() -> None:
    state.backprop_index = section.next_misread(session, int(state.backprop_index))


# one row that wraps in a narrow window (columns would cut the labels to "Rando…")
controls = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
controls.number_input(f"Test digit (0 to {len(y_test) - 1:,})", 0, len(y_test) - 1, step=1,
                      key="backprop_index", width=170)
controls.button("Next misread digit", key="backprop_misread", on_click=_misread_digit)
controls.button("Random digit", key="backprop_random", on_click=_random_digit)
controls.select_slider("Step size η for the update", STEP_SIZES,
                       key="backprop_lr", format_func=lambda v: f"{v:g}", width=300)
controls.button("Apply one update", key="backprop_apply", on_click=lambda: section.apply_update(
    session, int(state.backprop_index), state.backprop_lr), type="primary",
    help="Pauses training, then moves every weight by -η times its gradient for this digit "
         "alone; Undo puts them back")


def draw(session):
    found = section.traced_view(session, int(state.backprop_index))
    if found is None:
        return
    v, t = found[0], found[0].t
    not_trained_note(session, "Not trained yet: this is the freshly initialised network, so "
                     "its answer is a guess. Train a little (or apply updates here) and run "
                     "the digit again.")
    worth, why = digit_worth(t.output, t.label, t.loss, session.data.classes)
    (st.caption if worth else st.info)(why)
    section.redrawn_caption(session, v)
    section.forward_pass(v, session.data.classes)
    section.loss(v)
    section.backward_pass(v)
    section.follow_one_weight(v.net, t, state.backprop_lr)
    section.one_update(session, v.net, t, v.index)
    section.gradient_check_section(v)


live_fragment(session, draw, every=HEAVY_REFRESH_SECONDS)()
