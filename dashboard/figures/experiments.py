"""Tables and figures for the Experiments page: the runs table, runs compared, and a
sweep's results.

Pure functions from records and arrays to pandas frames and plotly Figures (no
Streamlit, no session), tested directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from ..runs import RunRecord
from ..sweep import PARAMS, Plan
from .base import layout, log_y_axis, smooth

PALETTE = qualitative.Plotly


def run_colour(number: int) -> str:
    return PALETTE[(number - 1) % len(PALETTE)]


# -- the runs table ---------------------------------------------------------------------
def runs_frame(runs: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per run: its settings, data, results and speed (accuracies as fractions)."""
    rows = []
    for r in runs:
        s = r.settings
        rows.append({
            "run": r.number, "from": r.origin, "status": r.status, "data": r.data_source,
            "layers": "-".join(map(str, s.layer_sizes)), "activation": s.activation,
            "output+loss": s.output_loss, "init": s.init, "optimizer": s.optimizer,
            "learning rate": s.lr, "schedule": s.schedule, "batch size": s.batch_size,
            "L2": s.l2, "training images": "all" if s.train_limit is None else s.train_limit,
            "seed": s.seed, "epochs": r.epochs, "steps": r.steps,
            "train accuracy": r.train_accuracy, "validation accuracy": r.val_accuracy,
            "test accuracy": r.test_accuracy, "final loss": r.final_loss,
            "seconds": round(r.train_seconds, 2), "samples/s": round(r.samples_per_second),
        })
    return pd.DataFrame(rows, columns=[
        "run", "from", "status", "data", "layers", "activation", "output+loss", "init",
        "optimizer", "learning rate", "schedule", "batch size", "L2", "training images",
        "seed", "epochs", "steps", "train accuracy", "validation accuracy", "test accuracy",
        "final loss", "seconds", "samples/s"])


def runs_csv(runs: Sequence[RunRecord]) -> str:
    return runs_frame(runs).to_csv(index=False)


# -- runs compared ----------------------------------------------------------------------
def accuracy_curves_figure(runs: Sequence[RunRecord]) -> go.Figure:
    """Validation (solid) and train (dotted) accuracy after each epoch, one colour a run."""
    fig = go.Figure()
    for r in runs:
        c, colour = r.epoch_curves, run_colour(r.number)
        fig.add_scatter(x=c["epoch"], y=c["val_accuracy"], mode="lines+markers",
                        name=f"run {r.number} validation", line=dict(color=colour, width=2),
                        legendgroup=str(r.number))
        fig.add_scatter(x=c["epoch"], y=c["train_accuracy"], mode="lines",
                        name=f"run {r.number} train", legendgroup=str(r.number),
                        line=dict(color=colour, dash="dot", width=1))
    fig = layout(fig, "Accuracy after each epoch", "epoch", "accuracy", height=360,
                 legend_y=-0.25)
    fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(dtick=1)
    return fig


def loss_curves_figure(runs: Sequence[RunRecord]) -> go.Figure:
    """The batch loss (moving average) against the step, one colour a run, log scale."""
    fig = go.Figure()
    for r in runs:
        steps, losses = r.loss_curve
        fig.add_scatter(x=steps, y=smooth(np.asarray(losses, float)), mode="lines",
                        name=f"run {r.number}", line=dict(color=run_colour(r.number), width=2))
    fig = layout(fig, "Training loss (moving average)", "step (mini-batches)", "loss",
                 height=360, legend_y=-0.25)
    return log_y_axis(fig, [y for trace in fig.data for y in trace.y])


# -- sweep results --------------------------------------------------------------------
def _label(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def sweep_figure(plan: Plan, records: Sequence[RunRecord]) -> go.Figure:
    """Validation accuracy of each run of a sweep: a heatmap over two hyperparameters,
    or lines (validation and test) over one. ``records[i]`` is run ``i`` of the plan;
    runs not done yet (or diverged) are blank."""
    val = np.full(plan.size, np.nan)
    test = np.full(plan.size, np.nan)
    status = ["waiting"] * plan.size
    for i, r in enumerate(records):
        val[i], test[i], status[i] = r.val_accuracy, r.test_accuracy, r.status
    labels = [[_label(v) for v in values] for _, values in plan.axes]
    titles = [PARAMS[name].label for name, _ in plan.axes]
    fig = go.Figure()
    if len(plan.axes) == 1:
        fig.add_scatter(x=labels[0], y=val, mode="lines+markers", name="validation accuracy",
                        line=dict(color="#ff7f0e", width=2))
        fig.add_scatter(x=labels[0], y=test, mode="lines+markers", name="test accuracy",
                        line=dict(color="#2ca02c", width=2, dash="dot"))
        fig = layout(fig, f"Accuracy by {titles[0]}", titles[0], "accuracy", height=360,
                     legend_y=-0.25)
        fig.update_xaxes(type="category")
    else:
        rows, cols = len(labels[0]), len(labels[1])
        z = val.reshape(rows, cols)
        text = [[f"{v:.1%}" if math.isfinite(v) else status[i * cols + j]
                 for j, v in enumerate(row)] for i, row in enumerate(z)]
        fig.add_heatmap(z=z, x=labels[1], y=labels[0], text=text, texttemplate="%{text}",
                        colorscale="Viridis", colorbar=dict(title="validation", tickformat=".0%"),
                        hovertemplate=f"{titles[0]} %{{y}}<br>{titles[1]} %{{x}}"
                                      "<br>validation accuracy %{z:.2%}<extra></extra>")
        fig = layout(fig, f"Validation accuracy by {titles[0]} and {titles[1]}",
                     titles[1], titles[0], height=120 + 60 * rows, legend_y=-0.25)
        fig.update_xaxes(type="category")
        fig.update_yaxes(type="category")
        return fig
    fig.update_yaxes(tickformat=".0%")
    return fig
