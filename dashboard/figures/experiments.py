"""Tables and figures for the Experiments page: the runs table, runs compared, and a
study's trials and Optuna's figures of it.

Pure functions from records and arrays to pandas frames and plotly Figures (no
Streamlit, no session), tested directly.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence

import numpy as np
import optuna
import optuna.visualization as vis
import pandas as pd
import plotly.graph_objects as go
from optuna.importance import FanovaImportanceEvaluator
from optuna.trial import FrozenTrial, TrialState
from plotly.colors import qualitative

from ..runs import RunRecord
from .base import MARGIN, accuracy_axis, layout, log_y_axis, smooth

PALETTE = qualitative.Plotly


def run_colour(number: int) -> str:
    return PALETTE[(number - 1) % len(PALETTE)]


# -- the runs table ---------------------------------------------------------------------
# Results first (they are what a reader compares), then the settings, then the speed.
COLUMNS = ["run", "name", "from", "status", "test accuracy", "validation accuracy",
           "train accuracy", "seconds", "data", "layers", "activation", "output+loss", "init",
           "optimizer", "learning rate", "schedule", "batch size", "L2", "training images", "seed",
           "epochs", "steps", "final loss", "samples/s"]
# dropout, the stopping rules and the optimizer's hyperparameters (issue 18), and how the
# run ended; "patience" and "target" are text ("off" or the value), like "training images"
COLUMNS += ["dropout", "patience", "target", "validation images", "momentum μ", "Adam β1",
            "Adam β2", "Adam ε", "how it ended"]


def runs_frame(runs: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per run: its results, settings, data and speed (accuracies as fractions).
    Every column holds one type (Streamlit sends the table as Arrow): "training images" is
    text, "all" or the limit."""
    rows = []
    for r in runs:
        s = r.settings
        rows.append({
            "run": r.number, "name": r.name, "from": r.origin, "status": r.status,
            "test accuracy": r.test_accuracy, "validation accuracy": r.val_accuracy,
            "train accuracy": r.train_accuracy, "seconds": round(r.train_seconds, 2),
            "data": r.data_source,
            "layers": "-".join(map(str, s.layer_sizes)), "activation": s.activation,
            "output+loss": s.output_loss, "init": s.init, "optimizer": s.optimizer,
            "learning rate": s.lr, "schedule": s.schedule, "batch size": s.batch_size,
            "L2": s.l2, "training images": "all" if s.train_limit is None else str(s.train_limit),
            "seed": s.seed, "epochs": r.epochs, "steps": r.steps, "final loss": r.final_loss,
            "samples/s": round(r.samples_per_second),
            "dropout": s.dropout, "patience": "off" if s.patience is None else str(s.patience),
            "target": "off" if s.target_accuracy is None else f"{s.target_accuracy:.2%}",
            "validation images": s.val_size, "momentum μ": s.momentum, "Adam β1": s.beta1,
            "Adam β2": s.beta2, "Adam ε": s.eps, "how it ended": r.ending,
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def runs_csv(runs: Sequence[RunRecord]) -> str:
    return runs_frame(runs).to_csv(index=False)


def runs_parquet(runs: Sequence[RunRecord]) -> bytes:
    """The runs table as Parquet: typed columns, for pandas, Polars or DuckDB."""
    buffer = io.BytesIO()
    runs_frame(runs).to_parquet(buffer, index=False)
    return buffer.getvalue()


# -- runs compared ----------------------------------------------------------------------
# How a legend names a setting that differs between the runs drawn, e.g. "lr 0.05"; the
# ones a sweep varies most often first.
SETTING_NAMES = {"lr": "lr", "batch_size": "batch", "hidden": "hidden",
                 "activation": "act", "optimizer": "opt", "init": "init", "l2": "L2",
                 "schedule": "schedule", "epochs": "epochs", "steps": "steps",
                 "train_limit": "images", "output_loss": "out", "seed": "seed",
                 "dropout": "dropout", "patience": "patience", "target_accuracy": "target",
                 "val_size": "val", "momentum": "μ", "beta1": "β1", "beta2": "β2",
                 "eps": "ε"}
MAX_NAMED = 3  # settings named in a legend entry; more end in "…"
MAX_NAME = 60  # characters of a run's name shown
# A run whose smoothed loss passes this (or is inf/NaN) has diverged: cross-entropy
# starts near 2.3 and MSE below 1.
LOSS_CEILING = 1e3


def _value(name: str, value) -> str:
    if value is None:
        return "all" if name == "train_limit" else "off"
    if isinstance(value, tuple):
        return "-".join(map(str, value)) or "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def run_labels(runs: Sequence[RunRecord]) -> dict[int, str]:
    """Each run's legend name: its number and the user's name for it, else the settings
    in which the runs differ, e.g. ``run 2: lr 0.05`` (just ``run 2`` when nothing
    differs). A user's name is escaped: plotly reads HTML tags in legends."""
    differ = [name for name in SETTING_NAMES
              if len({_value(name, getattr(r.settings, name)) for r in runs}) > 1]
    labels = {}
    for r in runs:
        if r.name:
            labels[r.number] = f"run {r.number}: {html.escape(r.name[:MAX_NAME])}"
            continue
        parts = [f"{SETTING_NAMES[n]} {_value(n, getattr(r.settings, n))}"
                 for n in differ[:MAX_NAMED]]
        more = ", …" if len(differ) > MAX_NAMED else ""
        labels[r.number] = f"run {r.number}: {', '.join(parts)}{more}" if parts else \
            f"run {r.number}"
    return labels


def _epoch_step(last: float) -> int:
    """A tick every 1, 2, 5, 10, 20, ... epochs: at most about ten labels."""
    for scale in (1, 10, 100, 1000):
        for m in (1, 2, 5):
            if last / (m * scale) <= 10:
                return m * scale
    return 10_000


def accuracy_curves_figure(runs: Sequence[RunRecord]) -> go.Figure:
    """Validation (solid) and train (dotted) accuracy after each epoch, one colour a run,
    named by what differs; integer epoch ticks and an accuracy axis zoomed to the data."""
    fig = go.Figure()
    labels = run_labels(runs)
    values: list[float] = []
    last = 1.0
    for r in runs:
        c, colour, label = r.epoch_curves, run_colour(r.number), labels[r.number]
        fig.add_scatter(x=c["epoch"], y=c["val_accuracy"], mode="lines+markers",
                        name=label, line=dict(color=colour, width=2),
                        legendgroup=str(r.number))
        fig.add_scatter(x=c["epoch"], y=c["train_accuracy"], mode="lines",
                        name=f"{label} train", legendgroup=str(r.number), showlegend=False,
                        line=dict(color=colour, dash="dot", width=1))
        values += c["val_accuracy"] + c["train_accuracy"]
        last = max([last, *c["epoch"]])
    fig = layout(fig, "Accuracy after each epoch (solid: validation, dotted: train)",
                 "epoch", "accuracy", height=360, legend_y=-0.25)
    fig.update_xaxes(tick0=0, dtick=_epoch_step(last), range=[0, last + 0.5], tickangle=0)
    return accuracy_axis(fig, values)


def loss_curves_figure(runs: Sequence[RunRecord]) -> go.Figure:
    """The batch loss (moving average) against the step, one colour a run, log scale. A
    diverged run (inf, NaN or past ``LOSS_CEILING``) leaves the y-range to the others,
    with a note that it is off the scale."""
    fig = go.Figure()
    labels = run_labels(runs)
    kept: list[float] = []
    off: list[str] = []
    for r in runs:
        steps, losses = r.loss_curve
        y = smooth(np.asarray(losses, float))
        fig.add_scatter(x=steps, y=y, mode="lines", name=labels[r.number],
                        line=dict(color=run_colour(r.number), width=2))
        finite = y[np.isfinite(y)]
        if (r.status == "diverged" or finite.size < y.size
                or (finite.size and finite.max() > LOSS_CEILING)):
            off.append(f"run {r.number}")
        else:
            kept += list(finite)
    fig = layout(fig, "Training loss (moving average)", "step (mini-batches)", "loss",
                 height=360, legend_y=-0.25)
    positive = np.asarray([v for v in kept if v > 0])
    if not off or not positive.size:
        return log_y_axis(fig, [y for trace in fig.data for y in trace.y])
    fig = log_y_axis(fig, positive)
    low, high = np.log10(positive.min()), np.log10(positive.max())
    pad = max(0.05, 0.05 * (high - low))
    fig.update_yaxes(range=[low - pad, high + pad])
    fig.add_annotation(text=f"{', '.join(off)} diverged: off the scale", x=1, y=1,
                       xref="paper", yref="paper", xanchor="right", yanchor="top",
                       showarrow=False, font=dict(color="gray"))
    return fig


# -- studies ----------------------------------------------------------------------------
STUDY_FIGURES = {
    "history": "Validation accuracy, trial after trial",
    "parallel": "Each finished trial's values",
    "importance": "Which values mattered most (fANOVA)",
    "intermediate": "Accuracy after each epoch (pruned: stopped)",
}
MIN_FOR_IMPORTANCE = 3  # finished trials before importances mean anything


def _trial_value(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def trials_frame(trials: Sequence[FrozenTrial]) -> pd.DataFrame:
    """One row per trial of a study: its number, values, status, validation accuracy after
    its last epoch, epochs done and its run in the table above (text or numbers, one type
    per column)."""
    names = sorted({k for t in trials for k in t.params})
    rows = []
    for t in trials:
        last = max(t.intermediate_values) if t.intermediate_values else None
        status = t.user_attrs.get("status") or t.state.name.lower()
        rows.append({
            "trial": t.number, **{n: _trial_value(t.params.get(n, "")) for n in names},
            "status": str(status),
            "validation accuracy": t.intermediate_values[last] if last is not None
            else float("nan"),
            "epochs": int(last or 0), "run": t.user_attrs.get("run") or pd.NA,
            "note": str(t.user_attrs.get("error") or ""),
        })
    frame = pd.DataFrame(rows, columns=["trial", *names, "status", "validation accuracy",
                                        "epochs", "run", "note"])
    frame["run"] = frame["run"].astype("Int64")
    return frame


def study_figures(study: optuna.Study) -> dict[str, go.Figure | str]:
    """Optuna's plotly figures of ``study`` (by the keys of :data:`STUDY_FIGURES`), each
    titled for this page, or a one-line reason it cannot be drawn yet."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    varied = {k for t in complete for k in t.params
              if len({repr(u.params.get(k)) for u in complete}) > 1}
    target = "validation accuracy"
    out: dict[str, go.Figure | str] = {}
    if complete:
        out["history"] = vis.plot_optimization_history(study, target_name=target)
        out["parallel"] = vis.plot_parallel_coordinate(study, target_name=target)
    else:
        out["history"] = out["parallel"] = "no trial has finished yet"
    if len(complete) < MIN_FOR_IMPORTANCE or not varied:
        out["importance"] = (f"needs {MIN_FOR_IMPORTANCE} finished trials with different "
                             f"values ({len(complete)} so far)")
    else:
        out["importance"] = vis.plot_param_importances(
            study, evaluator=FanovaImportanceEvaluator(seed=0), target_name=target)
    if any(t.intermediate_values for t in study.get_trials(deepcopy=False)):
        fig = vis.plot_intermediate_values(study)
        fig.update_xaxes(title_text="epoch", dtick=1)
        fig.update_yaxes(title_text=target)
        out["intermediate"] = fig
    else:
        out["intermediate"] = "no trial has finished an epoch yet"
    for key, fig in out.items():
        if isinstance(fig, go.Figure):  # Optuna's axis titles kept: not base.layout
            fig.update_layout(title=STUDY_FIGURES[key], height=360, margin=MARGIN,
                              uirevision=key, legend=dict(orientation="h", y=-0.25))
    return out
