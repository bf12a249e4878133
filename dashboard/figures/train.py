"""Figure builders for the Train page: loss and accuracy curves, live."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from mnist_np import EpochRecord

from .base import BATCH, TRAIN, VAL, Series, accuracy_axis, layout, log_y_axis, smooth, thin


def loss_figure(steps: Series, losses: Series,
                epochs: Sequence[EpochRecord], log_y: bool = True) -> go.Figure:
    """Batch loss (faint), its moving average, and per-epoch train/validation loss,
    against the step count."""
    fig = go.Figure()
    steps, losses = np.asarray(steps, float), np.asarray(losses, float)
    if len(steps):
        steps, average, losses = thin(steps, smooth(losses), losses)
        fig.add_scatter(x=steps, y=losses, name="batch loss", mode="lines",
                        line=dict(color=BATCH, width=1))
        fig.add_scatter(x=steps, y=average, name="batch loss (moving average)",
                        mode="lines", line=dict(color=TRAIN, width=2))
    if epochs:
        x = [e.step for e in epochs]
        fig.add_scatter(x=x, y=[e.train_loss for e in epochs], name="train loss (epoch mean)",
                        mode="lines+markers", line=dict(color=TRAIN, dash="dot"))
        fig.add_scatter(x=x, y=[e.val_loss for e in epochs], name="validation loss",
                        mode="lines+markers", line=dict(color=VAL, width=2))
    fig = layout(fig, "Loss", "step (mini-batches)", "loss", legend_y=-0.25)
    return log_y_axis(fig, [y for trace in fig.data for y in trace.y]) if log_y else fig


def accuracy_figure(steps: Series, accuracies: Series,
                    epochs: Sequence[EpochRecord]) -> go.Figure:
    """Batch accuracy (moving average) and per-epoch train/validation accuracy. Once an
    epoch is done, the y-axis zooms to the values from then on (the first steps' low
    accuracy would squeeze the late 97-99% into a line)."""
    fig = go.Figure()
    shown: list[float] = []
    if len(steps):
        steps, average = thin(np.asarray(steps, float), smooth(accuracies))
        since = epochs[0].step if epochs else -np.inf
        shown += list(average[steps >= since])
        fig.add_scatter(x=steps, y=average, mode="lines",
                        name="batch accuracy (moving average)", line=dict(color=TRAIN, width=2))
    if epochs:
        x = [e.step for e in epochs]
        fig.add_scatter(x=x, y=[e.train_accuracy for e in epochs], name="train accuracy",
                        mode="lines+markers", line=dict(color=TRAIN, dash="dot"))
        fig.add_scatter(x=x, y=[e.val_accuracy for e in epochs], name="validation accuracy",
                        mode="lines+markers", line=dict(color=VAL, width=2))
        shown += [v for e in epochs for v in (e.train_accuracy, e.val_accuracy)]
    fig = layout(fig, "Accuracy", "step (mini-batches)", "accuracy", legend_y=-0.25)
    return accuracy_axis(fig, shown)
