"""Experiments: every run of this session in one table, runs compared, and sweeps."""

import streamlit as st

from dashboard import sweep as sw
from dashboard.page import REFRESH_SECONDS, page_header, page_session
from dashboard.sections import experiments as section

session = page_session()
page_header("Experiments", session)

st.subheader("Runs")
runs = list(session.runs)
if not runs:
    st.info("No runs yet. A run is recorded here when it finishes, or when the network is "
            "reset or rebuilt (Reset, or a setting that changes the network); a sweep below "
            "records each of its runs.")
else:
    runs = section.runs_table(session.runs)
    if runs:
        section.compare_runs(runs)

st.subheader("Sweep")
st.caption(f"Try a few values of one or two settings, one run after another, each starting "
           f"from the sidebar's settings with the same seed and the same data split. To "
           f"finish within a minute, a sweep trains on a part of the training set ("
           f"{', '.join(f'{n:,}' for n in sw.TRAIN_SIZES)} images), at most {sw.MAX_EPOCHS} "
           f"epochs and {sw.MAX_RUNS} runs; the main training is paused meanwhile.")
current = st.session_state.get("exp_sweep")
busy = current is not None and current.running
plan = section.sweep_form(session.settings, len(session.data.X_train), session.data.source,
                          busy)


def _start() -> None:
    count = st.session_state.get("exp_sweep_count", 0) + 1
    st.session_state.exp_sweep_count = count
    st.session_state.exp_sweep = sw.Sweep(session, plan, f"sweep {count}").start()


def _cancel() -> None:
    st.session_state.exp_sweep.cancel()


if busy:
    st.button("Cancel the sweep", key="exp_cancel", on_click=_cancel)
else:
    st.button("Run the sweep", key="exp_run", type="primary", disabled=plan is None,
              on_click=_start)


def sweep_status() -> None:
    section.sweep_status(st.session_state.get("exp_sweep"), busy)


st.fragment(sweep_status, run_every=REFRESH_SECONDS if busy else None)()
