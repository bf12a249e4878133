"""Backprop by hand: a 49-4-10 network small enough that every number of one digit's
forward pass, δs, gradients and update fits on the screen; it also trains."""

import numpy as np
import streamlit as st

from dashboard.explain import digit_worth
from dashboard.page import page_header, page_session
from dashboard.sections import by_hand as section

session = page_session()
page_header("Backprop by hand", session)
st.caption("A network you can check with a calculator: each digit averaged down to 7×7 = 49 "
           "pixels, 4 hidden ReLU units, 10 softmax outputs. It is this page's own network, "
           "apart from the sidebar's: Play and the settings do not touch it.")
run = section.tiny_run(session)
state, n = st.session_state, len(run.data.y_train)
if not 0 <= int(state.get("by_hand_index", -1)) < n:
    state.by_hand_index = section.next_misread(run)
if "by_hand_lr" not in state:  # a step that visibly moves the opening digit's answer
    state.by_hand_lr = section.visible_step(run, int(state.by_hand_index))
state.setdefault(section.STAGE, 1)
state.setdefault("by_hand_draws", 0)


def _random_digit() -> None:
    state.by_hand_index = int(np.random.default_rng([0, state.by_hand_draws]).integers(n))
    state.by_hand_draws += 1


def _go(change: int) -> None:
    state[section.STAGE] = min(max(state[section.STAGE] + change, 1), len(section.STAGES))


section.train_it(run)

st.header("One digit, by hand")
controls = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
i = int(controls.number_input(f"Training digit (0 to {n - 1:,})", 0, n - 1, step=1,
                              key="by_hand_index", width=190))
controls.button("Next misread digit", key="by_hand_misread", on_click=lambda: state.update(
    by_hand_index=section.next_misread(run, int(state.by_hand_index))))
controls.button("Random digit", key="by_hand_random", on_click=_random_digit)
lr = controls.select_slider("Step size η", section.STEP_SIZES, key="by_hand_lr", width=260)
controls.button("One update on this digit", key="by_hand_update", type="primary",
                on_click=section.update_on_digit, args=(run, i, lr),
                help="Moves every weight by -η times its gradient for this digit alone")
section.update_result(run, i)
ht = section.trace_digit(run, i, lr)
worth, why = digit_worth(ht.trace.output, ht.trace.label, ht.trace.loss)
(st.caption if worth else st.info)(why)

steps = st.container(horizontal=True, vertical_alignment="center", gap="medium")
steps.button("◀ Back", key="by_hand_back", on_click=_go, args=(-1,))
steps.button("Next step ▶", key="by_hand_next", on_click=_go, args=(1,))
steps.button("All steps", key="by_hand_all_steps", on_click=_go, args=(len(section.STAGES),))
exact = steps.toggle("Exact values", key="by_hand_exact",
                     help="The numbers exactly as the network holds them (float32), not "
                          "rounded to 3 significant figures")
all_rows = steps.toggle("All 49 pixels", key="by_hand_all_rows")
shown = state[section.STAGE]
section.draw_stages(run, ht, session.data.X_train[i], shown, exact, all_rows)
if shown < len(section.STAGES):
    st.button("Next step ▶", key="by_hand_next_below", on_click=_go, args=(1,))
