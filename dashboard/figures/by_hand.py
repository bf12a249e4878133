"""The "Backprop by hand" page's tables and figures: every number of one digit's pass
through the tiny network (a :class:`mnist_np.by_hand.HandTrace`), as DataFrames of text
for ``st.dataframe``, and its accuracy over the epochs.

Each cell is a number as text: to 3 significant figures (``exact=False``, as the Backprop
page writes them), or exactly as the network holds it (``exact=True``: the shortest text
that reads back as the very same float32, so ``np.float32(cell)`` is the engine's
number). Layers are 1-based as in the equations (``l = 1`` is ``W_1``). A table of a
weight matrix has a row per input when the layer has more inputs than units (``W_1``:
49 pixels) and a row per unit otherwise (``W_2``: 10 digits), so it is tall, not wide.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from mnist_np.by_hand import HandTrace
from mnist_np.training import EpochRecord

from ..equations import number_text
from .base import LAYER_COLORS, accuracy_axis, layout
from .images import side as side_of

Columns = dict[str, Any]  # a table's columns: name -> numbers (or labels)
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def sub(n: int) -> str:
    """``n`` as subscript digits: 12 -> ``₁₂``."""
    return str(n).translate(_SUBSCRIPTS)


def cell(x: float, exact: bool = False, dtype=np.float32) -> str:
    """One number as the tables show it (see the module's docstring)."""
    if not exact or not np.isfinite(x) or x == 0:  # -0.0 too: it is written 0
        return number_text(float(x))
    return str(np.dtype(dtype).type(x))


def _frame(columns: Columns, exact: bool, dtype, labels: Sequence[str] = ()
           ) -> pd.DataFrame:
    """A table whose ``labels`` columns are text as given and the rest numbers."""
    return pd.DataFrame({name: [str(v) for v in values] if name in labels else
                         [cell(v, exact, dtype) for v in values]
                         for name, values in columns.items()})


def _pixel(i: int, side: int) -> str:
    return f"({i // side}, {i % side})"


def rows_are_inputs(ht: HandTrace, l: int) -> bool:
    """Whether layer ``l``'s tables have a row per input (more inputs than units)."""
    n_in, n_out = ht.weights[l - 1].shape
    return n_in > n_out


def _input_rows(ht: HandTrace, l: int, all_rows: bool) -> np.ndarray:
    """The inputs of layer ``l`` shown: all, or those that are not 0 (a 0 input adds
    nothing to ``z`` and its weights get no gradient)."""
    a = ht.trace.activations[l - 1]
    return np.arange(len(a)) if all_rows else np.flatnonzero(a != 0)


def _index_columns(ht: HandTrace, l: int, rows: np.ndarray) -> Columns:
    """The row labels of a row-per-input table: ``i``, and for the image the pixel."""
    columns: Columns = {"i": [int(i) for i in rows]}
    if l == 1:
        side = side_of(len(ht.trace.activations[0]))
        columns["pixel (row, col)"] = [_pixel(int(i), side) for i in rows]
    return columns


def input_grid(x: np.ndarray, exact: bool = False, dtype=np.float32) -> pd.DataFrame:
    """The input ``a_0`` as its square image of numbers: ``a_0[i]`` is at row ``i //
    side``, column ``i % side``."""
    side = side_of(len(x))
    image = np.asarray(x).reshape(side, side)
    columns: Columns = {"row": list(range(side))}
    columns |= {f"col {c}": image[:, c] for c in range(side)}
    return _frame(columns, exact, dtype, labels=("row",))


def forward_terms(ht: HandTrace, l: int, exact: bool = False, all_rows: bool = False
                  ) -> pd.DataFrame:
    """The weights of layer ``l`` and each product ``a_{l-1}[i] · W_l[i, j]`` that
    ``z_l[j]`` sums."""
    a, W, P = ht.trace.activations[l - 1], ht.weights[l - 1], ht.products[l - 1]
    n_in, n_out = W.shape
    p, q = sub(l - 1), sub(l)
    dtype = W.dtype
    if rows_are_inputs(ht, l):
        rows = _input_rows(ht, l, all_rows)
        columns = _index_columns(ht, l, rows)
        columns[f"a{p}[i]"] = a[rows]
        columns |= {f"W{q}[i,{j}]": W[rows, j] for j in range(n_out)}
        columns |= {f"a{p}[i]·W{q}[i,{j}]": P[rows, j] for j in range(n_out)}
        return _frame(columns, exact, dtype, labels=("i", "pixel (row, col)"))
    columns = {"j": list(range(n_out))}
    columns |= {f"W{q}[{i},j]": W[i] for i in range(n_in)}
    columns |= {f"a{p}[{i}]·W{q}[{i},j]": P[i] for i in range(n_in)}
    return _frame(columns, exact, dtype, labels=("j",))


def forward_units(ht: HandTrace, l: int, activation: str = "relu", exact: bool = False
                  ) -> pd.DataFrame:
    """Each unit of layer ``l``: the sum of its products, its bias, ``z`` and ``a``; for
    the softmax output also ``z - max z``, its exponential and ``a = e / Σ e``."""
    t, p, q = ht.trace, sub(l - 1), sub(l)
    z, a = t.zs[l - 1], t.activations[l]
    columns: Columns = {"j": list(range(len(z)))}
    columns[f"Σᵢ a{p}[i]·W{q}[i,j]"] = ht.sums[l - 1]
    columns[f"b{q}[j]"] = ht.biases[l - 1]
    columns[f"z{q}[j] = Σ + b"] = z
    if l < len(ht.weights):
        columns[f"a{q}[j] = {activation}(z{q}[j])"] = a
    else:
        columns[f"z{q}[j] − max z{q}"] = ht.shifted
        columns[f"e^(z{q}[j] − max)"] = ht.exps
        columns[f"a{q}[j] = e / Σe"] = a
    return _frame(columns, exact, ht.weights[0].dtype, labels=("j",))


def output_delta(ht: HandTrace, exact: bool = False) -> pd.DataFrame:
    """``δ_L[k] = a_L[k] - y[k]`` for each output ``k``."""
    t, L = ht.trace, sub(len(ht.weights))
    columns: Columns = {"k": list(range(len(t.output))), f"a{L}[k]": t.output,
                        "y[k]": t.target, f"δ{L}[k] = a{L}[k] − y[k]": t.deltas[-1]}
    return _frame(columns, exact, ht.weights[0].dtype, labels=("k",))


def hidden_delta_terms(ht: HandTrace, l: int, exact: bool = False) -> pd.DataFrame:
    """The terms ``W_{l+1}[j, k] · δ_{l+1}[k]`` that ``δ_l[j]`` sums, a row per unit
    ``k`` of layer ``l + 1``."""
    W, d, P = ht.weights[l], ht.trace.deltas[l], ht.back_products[l - 1]
    q, r = sub(l + 1), sub(l + 1)
    columns: Columns = {"k": list(range(len(d))), f"δ{r}[k]": d}
    columns |= {f"W{q}[{j},k]": W[j] for j in range(W.shape[0])}
    columns |= {f"W{q}[{j},k]·δ{r}[k]": P[j] for j in range(W.shape[0])}
    return _frame(columns, exact, W.dtype, labels=("k",))


def hidden_delta_units(ht: HandTrace, l: int, activation: str = "relu", exact: bool = False
                       ) -> pd.DataFrame:
    """Each unit ``j`` of hidden layer ``l``: the sum of its terms, its ``z``, the
    activation's slope there and ``δ_l[j] = slope · sum``."""
    t, q, r = ht.trace, sub(l), sub(l + 1)
    columns: Columns = {"j": list(range(len(t.deltas[l - 1]))),
                        f"Σₖ W{r}[j,k]·δ{r}[k]": ht.back_sums[l - 1], f"z{q}[j]": t.zs[l - 1],
                        f"{activation}′(z{q}[j])": ht.slopes[l - 1],
                        f"δ{q}[j] = {activation}′ · Σ": t.deltas[l - 1]}
    return _frame(columns, exact, ht.weights[0].dtype, labels=("j",))


def gradient_table(ht: HandTrace, l: int, exact: bool = False, all_rows: bool = False
                   ) -> pd.DataFrame:
    """``∂L/∂W_l[i, j] = a_{l-1}[i] · δ_l[j]`` (and, in a row-per-unit table,
    ``∂L/∂b_l[j] = δ_l[j]``)."""
    t, p, q = ht.trace, sub(l - 1), sub(l)
    a, d, dW = t.activations[l - 1], t.deltas[l - 1], t.dWs[l - 1]
    n_in, n_out = dW.shape
    if rows_are_inputs(ht, l):
        rows = _input_rows(ht, l, all_rows)
        columns = _index_columns(ht, l, rows)
        columns[f"a{p}[i]"] = a[rows]
        columns |= {f"∂L/∂W{q}[i,{j}]": dW[rows, j] for j in range(n_out)}
        return _frame(columns, exact, dW.dtype, labels=("i", "pixel (row, col)"))
    columns = {"j": list(range(n_out)), f"δ{q}[j]": d}
    columns |= {f"∂L/∂W{q}[{i},j]": dW[i] for i in range(n_in)}
    columns[f"∂L/∂b{q}[j]"] = t.dbs[l - 1]
    return _frame(columns, exact, dW.dtype, labels=("j",))


def unit_gradients(ht: HandTrace, l: int, exact: bool = False) -> pd.DataFrame:
    """Each unit ``j`` of layer ``l``: ``δ_l[j]``, which is ``∂L/∂b_l[j]`` too."""
    t, q = ht.trace, sub(l)
    columns: Columns = {"j": list(range(len(t.dbs[l - 1]))),
                        f"δ{q}[j] = ∂L/∂b{q}[j]": t.dbs[l - 1]}
    return _frame(columns, exact, t.dbs[l - 1].dtype, labels=("j",))


def _digits_apart(before: float, after: float) -> int:
    """Significant figures that show ``before`` and ``after`` apart, their difference to
    two figures (3 or more, at most 8: float32 holds about 7)."""
    step = after - before
    if not (math.isfinite(before) and math.isfinite(step)) or before == 0 or step == 0:
        return 3
    apart = math.floor(math.log10(abs(before))) - math.floor(math.log10(abs(step)))
    return min(8, max(3, 2 + apart))


def _before_after(columns: Columns, name: str, before: np.ndarray, after: np.ndarray,
                  exact: bool, dtype) -> None:
    """Columns ``name`` and ``new name`` as text, each pair rounded to the figures that
    show the step (unchanged weights to 3)."""
    shown = [(cell(b, True, dtype), cell(a, True, dtype)) if exact else
             (number_text(float(b), d), number_text(float(a), d))
             for b, a in zip(before, after)
             for d in [_digits_apart(float(b), float(a))]]
    columns[name] = [b for b, _ in shown]
    columns[f"new {name}"] = [a for _, a in shown]


def update_table(ht: HandTrace, l: int, exact: bool = False, all_rows: bool = False
                 ) -> pd.DataFrame:
    """Each weight of layer ``l`` before and after ``W ← W - η·∂L/∂W`` (and, in a
    row-per-unit table, the biases). A weight that moved is written with the figures
    that show how far (3 at least): 0.709 → 0.709 would hide a step of 0.0002."""
    W, new, q = ht.weights[l - 1], ht.new_weights[l - 1], sub(l)
    n_in, n_out = W.shape
    if rows_are_inputs(ht, l):
        rows = _input_rows(ht, l, all_rows)
        columns = _index_columns(ht, l, rows)
        for j in range(n_out):
            _before_after(columns, f"W{q}[i,{j}]", W[rows, j], new[rows, j], exact, W.dtype)
    else:
        columns = {"j": list(range(n_out))}
        for i in range(n_in):
            _before_after(columns, f"W{q}[{i},j]", W[i], new[i], exact, W.dtype)
        _before_after(columns, f"b{q}[j]", ht.biases[l - 1], ht.new_biases[l - 1], exact,
                      W.dtype)
    return _frame(columns, exact, W.dtype, labels=tuple(columns))


def bias_update(ht: HandTrace, l: int, exact: bool = False) -> pd.DataFrame:
    """Each bias of layer ``l``, its gradient, and the bias after the update."""
    q, b = sub(l), ht.biases[l - 1]
    columns: Columns = {"j": list(range(len(b))),
                        f"∂L/∂b{q}[j]": [cell(g, exact, b.dtype) for g in ht.trace.dbs[l - 1]]}
    _before_after(columns, f"b{q}[j]", b, ht.new_biases[l - 1], exact, b.dtype)
    order = ["j", f"b{q}[j]", f"∂L/∂b{q}[j]", f"new b{q}[j]"]
    return _frame({k: columns[k] for k in order}, exact, b.dtype, labels=tuple(order))


def epochs_figure(records: Sequence[EpochRecord], test_accuracy: float | None = None,
                  epochs: int | None = None) -> go.Figure:
    """Training and validation accuracy after each epoch (``test_accuracy``, when
    given, as a dashed line), on an axis of ``epochs`` epochs."""
    x = [r.epoch for r in records]
    train = [r.train_accuracy for r in records]
    val = [r.val_accuracy for r in records]
    fig = go.Figure([
        go.Scatter(x=x, y=train, name="training (mean over the epoch)", mode="lines+markers",
                   line=dict(color=LAYER_COLORS[0])),
        go.Scatter(x=x, y=val, name="validation", mode="lines+markers",
                   line=dict(color=LAYER_COLORS[1])),
    ])
    values = train + val
    if test_accuracy is not None:
        fig.add_hline(y=test_accuracy, line=dict(dash="dash", color=LAYER_COLORS[2]),
                      annotation_text=f"test now: {test_accuracy:.1%}")
        values.append(test_accuracy)
    layout(fig, "Accuracy after each epoch", x="epoch", height=280)
    if epochs:
        fig.update_xaxes(range=[0.5, epochs + 0.5], dtick=1)
    return accuracy_axis(fig, values)
