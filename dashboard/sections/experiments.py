"""The Experiments page's sections: the runs table, runs compared, the sweep form, and
a sweep's live status and results."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime

import streamlit as st

from .. import sweep as sw
from ..figures.experiments import (
    MAX_NAME,
    accuracy_curves_figure,
    loss_curves_figure,
    runs_csv,
    runs_frame,
    runs_parquet,
    sweep_figure,
)
from ..runs import RunLog, RunRecord
from ..settings import Settings

NONE = "(none)"  # the second hyperparameter's "no second one"
PERCENT_COLUMNS = ("train accuracy", "validation accuracy", "test accuracy")


def _count(n: int, noun: str) -> str:
    """``1 epoch``, ``2 epochs``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _delete(log: RunLog) -> None:
    """The Delete button's callback: before the script runs, so the picker can be
    emptied."""
    for number in st.session_state.get("exp_delete", []):
        log.delete(number)
    st.session_state.exp_delete = []


def runs_table(log: RunLog) -> list[RunRecord]:
    """Every run in one sortable table whose names can be edited, runs to delete, and
    the table as CSV and Parquet. Returns the runs as they are after the edits."""
    runs = list(log)
    st.caption("Every run of this workspace: where it ended, its settings and how fast it "
               "trained. Click a column's header to sort by it; double-click a name to "
               "edit it (the comparison below uses it).")
    frame = runs_frame(runs)
    # The editor keeps its edits by row: keyed by the runs it shows, a deleted or added
    # run gives a fresh editor instead of moving a pending name to another run.
    key = "exp_table_" + hashlib.sha1(repr([r.number for r in runs]).encode()).hexdigest()[:12]
    edited = st.data_editor(
        frame, hide_index=True, key=key, disabled=[c for c in frame if c != "name"],
        column_config={"name": st.column_config.TextColumn(max_chars=MAX_NAME),
                       **{c: st.column_config.NumberColumn(format="percent")
                          for c in PERCENT_COLUMNS}})
    for number, old, new in zip(frame["run"], frame["name"], edited["name"]):
        if (new or "") != old:
            log.rename(int(number), " ".join(str(new or "").split())[:MAX_NAME])
    stamp = f"{datetime.now():%Y%m%d-%H%M}"
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
    row.download_button("Download the table (CSV)", data=runs_csv(runs),
                        file_name=f"mnist_np-runs-{stamp}.csv", mime="text/csv",
                        key="exp_csv", on_click="ignore")
    row.download_button("Download the table (Parquet)", data=runs_parquet(runs),
                        file_name=f"mnist_np-runs-{stamp}.parquet",
                        mime="application/vnd.apache.parquet", key="exp_parquet",
                        on_click="ignore")
    row.multiselect("Runs to delete", [r.number for r in runs], key="exp_delete",
                    format_func=lambda n: f"run {n}", width=260)
    row.button("Delete", key="exp_delete_button", on_click=_delete, args=(log,),
               disabled=not st.session_state.get("exp_delete"))
    return list(log)


def compare_runs(runs: list[RunRecord]) -> None:
    """The chosen runs' accuracy and loss curves overlaid (the latest three at first)."""
    st.subheader("Compare runs")
    numbers = [r.number for r in runs]
    state = st.session_state
    if ("exp_compare" not in state  # first visit, or back from another page
            or state.get("exp_compare_seen") != len(runs)):  # new runs: show the latest
        state.exp_compare_seen = len(runs)
        state.exp_compare = numbers[-3:]
    # labelled by number only: the browser sends choices back by their labels, so a label
    # that changes (a run renamed) would drop the run from the choice
    chosen = st.multiselect("Runs to overlay", numbers, key="exp_compare",
                            format_func=lambda n: f"run {n}")
    picked = [r for r in runs if r.number in chosen]
    if picked:
        left, right = st.columns(2)
        left.plotly_chart(accuracy_curves_figure(picked), key="exp_accuracy")
        right.plotly_chart(loss_curves_figure(picked), key="exp_loss")
        st.caption("Validation accuracy (solid) measures digits the run never trained on; "
                   "when train accuracy (dotted) pulls away from it, the network is "
                   "memorising. Runs that stopped before the end of an epoch have no point "
                   "for it.")


def _reset_values(axis: int) -> None:
    """A new hyperparameter starts with its example values."""
    name = st.session_state[f"exp_param_{axis}"]
    if name in sw.PARAMS:
        st.session_state[f"exp_values_{axis}"] = sw.PARAMS[name].default


def sweep_form(base: Settings, n_train: int, source: str, busy: bool) -> sw.Plan | None:
    """The sweep's hyperparameters, values, epochs and images; the plan they make, or
    None with a one-line error per mistake."""
    for axis, default in ((0, "lr"), (1, "batch_size")):
        st.session_state.setdefault(f"exp_param_{axis}", default)
        st.session_state.setdefault(f"exp_values_{axis}", sw.PARAMS[default].default)
    choices = []
    for axis, col in enumerate(st.columns(2)):
        options = list(sw.PARAMS) if axis == 0 else [NONE, *sw.PARAMS]
        name = col.selectbox(f"Hyperparameter {axis + 1}", options, key=f"exp_param_{axis}",
                             on_change=_reset_values, args=(axis,), disabled=busy,
                             format_func=lambda n: sw.PARAMS[n].label if n in sw.PARAMS else n)
        if name in sw.PARAMS:
            choices.append((str(name), col.text_input("Values, separated by commas",
                                                 key=f"exp_values_{axis}", disabled=busy)))
    left, right = st.columns(2)
    epochs = int(left.number_input("Epochs per run", 1, sw.MAX_EPOCHS, 2, key="exp_epochs",
                                   disabled=busy))
    limit = right.select_slider("Training images per run", sw.TRAIN_SIZES, value=5000,
                                key="exp_train", disabled=busy, format_func=lambda n: f"{n:,}")
    plan, problems = sw.plan_from_form(base, choices, epochs, limit)
    for problem in problems:
        st.error(problem)
    if plan is not None and not busy:
        images = sw.train_images(n_train, limit, base.seed)
        st.caption(f"{_count(plan.size, 'run')} × {_count(epochs, 'epoch')} on {images:,} "
                   f"{source} images"
                   f" ({plan.size * epochs * images:,} samples in all).")
    return plan


def sweep_status(sweep: sw.Sweep | None, was_running: bool) -> None:
    """Where the sweep is, and its results so far; one full rerun when it has just
    ended (so its runs show in the table)."""
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
        st.success(f"{sweep.origin} finished: {_count(done, 'run')}, added to the table "
                   "above.")
    if done:
        st.plotly_chart(sweep_figure(sweep.plan, sweep.records), key="exp_sweep_figure")
        scored = [r for r in sweep.records if math.isfinite(r.val_accuracy)]
        if scored:
            best = max(scored, key=lambda r: r.val_accuracy)
            st.caption(f"Best so far: run {best.number} ({best.val_accuracy:.1%} validation). "
                       "Compare validation accuracy; keep the test set for the very end.")
    if was_running and not sweep.running:
        st.rerun()  # the sweep just ended: a full run shows its runs in the table above
