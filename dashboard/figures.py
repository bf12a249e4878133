"""Figure builders for the Train page: pure functions from engine data to plotly Figures.

They take plain arrays and records (no Streamlit, no session), so tests check their
traces directly. Colours: train in blue, validation in orange, as on every page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from mnist_np import EpochRecord

TRAIN, VAL, BATCH = "#1f77b4", "#ff7f0e", "rgba(31, 119, 180, 0.35)"
# Log-scale axes label 1, 2 and 5 of every decade in full (0.05, not plotly's bare "5")
# while the data spans at most MAX_DECADES; beyond that (a diverging run climbing to 1e20)
# one label every few powers of ten, so the labels never crowd.
LOG_TICKS = [m * 10.0**e for e in range(-8, 4) for m in (1, 2, 5)]
MAX_DECADES = 6


def smooth(values: np.ndarray, window: int = 25) -> np.ndarray:
    """A trailing moving average (shorter at the start), same length as ``values``."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(0, idx - window)
    return (cumsum[idx] - cumsum[start]) / (idx - start)


def thin(*columns: np.ndarray, max_points: int = 500) -> list[np.ndarray]:
    """Every k-th point (the last one kept) so that at most about ``max_points`` are drawn:
    a live chart redrawn every second stays cheap to build, send and render."""
    n = len(columns[0])
    if n <= max_points:
        return [np.asarray(c) for c in columns]
    keep = np.unique(np.append(np.arange(0, n, -(-n // max_points)), n - 1))
    return [np.asarray(c)[keep] for c in columns]


def log_y_axis(fig: go.Figure, values, fine: bool = True) -> go.Figure:
    """Make the y-axis logarithmic with labels that stay readable for ``values`` (the
    data drawn): 1, 2 and 5 of each decade (``fine``) or each power of ten; one power of
    ten every few when the data spans more than ``MAX_DECADES``."""
    v = np.asarray(values, float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return fig.update_yaxes(type="log")
    decades = float(np.log10(v.max() / v.min()))
    if fine and decades <= MAX_DECADES and LOG_TICKS[0] <= v.min() <= v.max() <= LOG_TICKS[-1]:
        return fig.update_yaxes(type="log", tickvals=LOG_TICKS)
    return fig.update_yaxes(type="log", dtick=max(1, math.ceil(decades / MAX_DECADES)),
                            exponentformat="power")


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=340,
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25),
                      uirevision=title)  # keep the user's zoom while the figure updates live
    return fig


def loss_figure(steps: Sequence[float], losses: Sequence[float],
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
    fig = _layout(fig, "Loss", "step (mini-batches)", "loss")
    return log_y_axis(fig, [y for trace in fig.data for y in trace.y]) if log_y else fig


def accuracy_figure(steps: Sequence[float], accuracies: Sequence[float],
                    epochs: Sequence[EpochRecord]) -> go.Figure:
    """Batch accuracy (moving average) and per-epoch train/validation accuracy."""
    fig = go.Figure()
    if len(steps):
        steps, average = thin(np.asarray(steps, float), smooth(accuracies))
        fig.add_scatter(x=steps, y=average, mode="lines",
                        name="batch accuracy (moving average)", line=dict(color=TRAIN, width=2))
    if epochs:
        x = [e.step for e in epochs]
        fig.add_scatter(x=x, y=[e.train_accuracy for e in epochs], name="train accuracy",
                        mode="lines+markers", line=dict(color=TRAIN, dash="dot"))
        fig.add_scatter(x=x, y=[e.val_accuracy for e in epochs], name="validation accuracy",
                        mode="lines+markers", line=dict(color=VAL, width=2))
    fig = _layout(fig, "Accuracy", "step (mini-batches)", "accuracy")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return fig
