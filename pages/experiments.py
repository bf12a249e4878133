"""Experiments: every run of this session in one table, runs compared, and sweeps."""

import math
from datetime import datetime

import streamlit as st

from dashboard import sweep as sw
from dashboard.figures.experiments import (
    accuracy_curves_figure,
    loss_curves_figure,
    runs_csv,
    runs_frame,
    sweep_figure,
)
from dashboard.page import REFRESH_SECONDS, page_header, page_session

session = page_session()
page_header("Experiments", session)

# -- the runs table -----------------------------------------------------------------
st.subheader("Runs")
runs = list(session.runs)
if not runs:
    st.info("No runs yet. A run is recorded here when it finishes, or when the network is "
            "reset or rebuilt (Reset, or a setting that changes the network); a sweep below "
            "records each of its runs.")
else:
    st.caption("Every run of this session: its settings, where it ended, and how fast it "
               "trained. Click a column's header to sort by it.")
    st.dataframe(runs_frame(runs), hide_index=True, key="exp_table", column_config={
        name: st.column_config.NumberColumn(format="percent")
        for name in ("train accuracy", "validation accuracy", "test accuracy")})
    st.download_button("Download the table (CSV)", data=runs_csv(runs),
                       file_name=f"mnist_np-runs-{datetime.now():%Y%m%d-%H%M}.csv",
                       mime="text/csv", key="exp_csv", on_click="ignore")

    st.subheader("Compare runs")
    numbers = [r.number for r in runs]
    if ("exp_compare" not in st.session_state  # first visit, or back from another page
            or st.session_state.get("exp_compare_seen") != len(runs)):  # new runs: the latest
        st.session_state.exp_compare_seen = len(runs)
        st.session_state.exp_compare = numbers[-3:]
    chosen = st.multiselect("Runs to overlay", numbers, key="exp_compare",
                            format_func=lambda n: f"run {n}")
    picked = [r for r in runs if r.number in chosen]
    if picked:
        left, right = st.columns(2)
        left.plotly_chart(accuracy_curves_figure(picked), key="exp_accuracy")
        right.plotly_chart(loss_curves_figure(picked), key="exp_loss")
        st.caption("Validation accuracy (solid) measures digits the run never trained on; "
                   "when train accuracy (dotted) pulls away from it, the network is memorising. "
                   "Runs that stopped before the end of an epoch have no point for it.")

# -- sweep --------------------------------------------------------------------------------
st.subheader("Sweep")
st.caption(f"Try a few values of one or two settings, one run after another, each starting "
           f"from the sidebar's settings with the same seed and the same data split. To "
           f"finish within a minute, a sweep trains on a part of the training set ("
           f"{', '.join(f'{n:,}' for n in sw.TRAIN_SIZES)} images), at most {sw.MAX_EPOCHS} "
           f"epochs and {sw.MAX_RUNS} runs; the main training is paused meanwhile.")

NONE = "(none)"


def _reset_values(axis: int) -> None:
    """A new hyperparameter starts with its example values."""
    name = st.session_state[f"exp_param_{axis}"]
    if name in sw.PARAMS:
        st.session_state[f"exp_values_{axis}"] = sw.PARAMS[name].default


for axis, default in ((0, "lr"), (1, "batch_size")):
    st.session_state.setdefault(f"exp_param_{axis}", default)
    st.session_state.setdefault(f"exp_values_{axis}", sw.PARAMS[default].default)

current = st.session_state.get("exp_sweep")
busy = current is not None and current.running
cols = st.columns(2)
choices = []
for axis, col in enumerate(cols):
    with col:
        options = list(sw.PARAMS) if axis == 0 else [NONE, *sw.PARAMS]
        name = st.selectbox(f"Hyperparameter {axis + 1}", options, key=f"exp_param_{axis}",
                            on_change=_reset_values, args=(axis,), disabled=busy,
                            format_func=lambda n: sw.PARAMS[n].label if n in sw.PARAMS else n)
        if name in sw.PARAMS:
            choices.append((name, st.text_input("Values, separated by commas",
                                                key=f"exp_values_{axis}", disabled=busy)))
cols = st.columns(2)
epochs = cols[0].number_input("Epochs per run", 1, sw.MAX_EPOCHS, 2, key="exp_epochs",
                              disabled=busy)
limit = cols[1].select_slider("Training images per run", sw.TRAIN_SIZES, value=5000,
                              key="exp_train", disabled=busy, format_func=lambda n: f"{n:,}")
plan, problems = sw.plan_from_form(session.settings, choices, int(epochs), limit)
for problem in problems:
    st.error(problem)
if plan is not None and not busy:
    images = sw.train_images(len(session.data.X_train), limit, session.settings.seed)
    st.caption(f"{plan.size} runs × {epochs} epochs on {images:,} {session.data.source} images"
               f" ({plan.size * int(epochs) * images:,} samples in all).")


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
    sweep = st.session_state.get("exp_sweep")
    if sweep is None:
        return
    done = len(sweep.records)
    if sweep.running:
        what = ("waiting: the main network is training (pause it to go on)" if sweep.waiting
                else f"training run {done + 1} of {sweep.plan.size}")
        st.progress(sweep.progress, text=f"{sweep.origin}: {what}")
    elif sweep.state == sw.CANCELLED:
        st.warning(f"{sweep.origin} was cancelled after {done} of {sweep.plan.size} runs.")
    elif sweep.state == sw.FAILED:
        st.error(sweep.error)
    else:
        st.success(f"{sweep.origin} finished: {done} runs, added to the table above.")
    if done:
        st.plotly_chart(sweep_figure(sweep.plan, sweep.records), key="exp_sweep_figure")
        scored = [r for r in sweep.records if math.isfinite(r.val_accuracy)]
        if scored:
            best = max(scored, key=lambda r: r.val_accuracy)
            st.caption(f"Best so far: run {best.number} ({best.val_accuracy:.1%} validation). "
                       "Compare validation accuracy; keep the test set for the very end.")
    if busy and not sweep.running:
        st.rerun()  # the sweep just ended: a full run shows its runs in the table above


st.fragment(sweep_status, run_every=REFRESH_SECONDS if busy else None)()
