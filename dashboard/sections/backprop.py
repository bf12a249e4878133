"""The Backprop page's sections, for one traced digit ``t`` (a
:class:`mnist_np.stepthrough.Trace`) through the network ``net``: the forward pass, the
loss, the backward pass, one weight followed through it, one update, the gradient check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from mnist_np import MLP, lab, stepthrough
from mnist_np.gradcheck import Check, gradient_check
from mnist_np.stepthrough import Trace, follow_weight, largest_gradient, one_hot, trace

from .. import equations, explain
from ..explain import visible_step_size
from ..figures.backprop import before_after_figure, layer_figure, output_figure, vector_figure
from ..figures.base import layer_name, weight_name
from ..figures.images import digit_figure
from ..figures.weights import matrix_figure
from ..markdown import plain, table
from ..page import HEAVY_REFRESH_SECONDS, cached_view
from ..session import TrainingSession

GRADIENT_CELLS = 20_000  # per gradient heatmap on this page, which has one per layer
CACHE = "backprop_cache"


@dataclass
class Traced:
    """One test digit (``index``) through one state of the network: the network copy
    ``net`` (at training step ``step``), its trace ``t``, the page's figures of it by
    chart key, and the gradient check (None when the loss is not a number)."""

    net: MLP
    step: int
    index: int
    t: Trace
    figures: dict[str, go.Figure] = field(default_factory=dict)
    checks: list[Check] | None = None


def traced(net: MLP, step: int, x: np.ndarray, label: int, index: int,
           classes: Sequence[str] | None = None) -> Traced:
    """Everything the page draws of test digit ``index`` (``x: (784,)``) that depends on
    the network: computed once per network state, not on every redraw."""
    t = trace(net, x, label)
    names, _, image = explain.class_words(len(t.output), classes)
    L = len(net.weights)
    figures = {"backprop_input": digit_figure(
        t.activations[0], f"a₀ = x: test {image} #{index} (a {names[t.label]})")}
    for l in range(1, L):
        figures[f"backprop_layer_{l}"] = layer_figure(t.zs[l - 1], t.activations[l],
                                                      f"Layer {l}: z and a", net.activation)
    figures["backprop_output"] = output_figure(t.output, t.target, classes)
    for l in range(L, 0, -1):
        figures[f"backprop_delta_{l}"] = vector_figure(
            t.deltas[l - 1], f"δ{l}: the error at layer {l}", "δ")
        figures[f"backprop_grad_{l}"] = matrix_figure(
            t.dWs[l - 1], f"∂L/∂W{l} = a{l - 1}ᵀ δ{l}", max_cells=GRADIENT_CELLS,
            colorbar="gradient")
    checks = None
    if np.isfinite(t.loss):
        x1, y1 = t.activations[0][None, :], one_hot(t.label, net.layer_sizes[-1])[None, :]
        checks = gradient_check(net, x1, y1, seed=index)
    return Traced(net, step, index, t, figures, checks)


def traced_view(session: TrainingSession, index: int) -> tuple[Traced, int] | None:
    """Test digit ``index`` through the live network, cached per network state (while
    training runs, recomputed at most every few seconds: see ``cached_view``)."""
    with session.reading() as trainer:  # the copy and its step in one consistent reading
        net, version, step = session.net.copy(), session.version, trainer.step_count
    X, y = session.data.X_test, session.data.y_test
    return cached_view(session, CACHE, index, version,
                       lambda: traced(net, step, X[index], int(y[index]), index,
                                      session.data.classes),
                       every=HEAVY_REFRESH_SECONDS, what="trace of this digit", max_entries=2)


def redrawn_caption(session: TrainingSession, v: Traced) -> None:
    """While training runs, which network the numbers below are of."""
    if session.running:
        st.caption(f"While training runs, this page is redrawn every few seconds (at most "
                   f"every {HEAVY_REFRESH_SECONDS:.0f} s); the numbers below are the "
                   f"network's at step {v.step:,}.")


def _chart(where, v: Traced, key: str) -> None:
    where.plotly_chart(v.figures[key], key=key)


def forward_pass(v: Traced, classes: Sequence[str] | None = None) -> None:
    """1: the input, then each layer's equation beside its z and a (the classes named by
    ``classes``, default the digits)."""
    net, t = v.net, v.t
    names, noun, _ = explain.class_words(len(t.output), classes)
    general, L = equations.general(net), len(net.weights)
    st.header("1. Forward pass")
    st.latex(general.get("forward", general["output"]))
    left, right = st.columns([1, 2])
    _chart(left, v, "backprop_input")
    right.markdown(f"The image's 784 pixels, read row by row, are the input row vector "
                   f"$a_0$. Each layer multiplies it by its weights, adds its biases and "
                   f"applies the activation. Prediction: **{plain(names[t.prediction])}** "
                   f"({t.output[t.prediction]:.1%}); true {noun}: **{plain(names[t.label])}**.")
    for l in range(1, L + 1):
        eq, fig = st.columns([2, 3])
        eq.latex(equations.forward_layer(net, l))
        if l < L:
            eq.caption(f"Layer {l} ({layer_name(l, L)}): {net.layer_sizes[l]} units.")
            _chart(fig, v, f"backprop_layer_{l}")
        else:
            eq.caption("The output layer: one value per digit.")
            _chart(fig, v, "backprop_output")


def loss(v: Traced) -> None:
    """2: the loss's equation and its value for this digit."""
    st.header("2. Loss")
    eq, value = st.columns([2, 3])
    eq.latex(equations.general(v.net)["loss"])
    value.latex(rf"\mathcal{{L}} = {v.t.loss:.4f}")
    value.caption("One digit, so the mean over the batch is this digit's loss. It is small "
                  "when the output is close to the one-hot target.")


def backward_pass(v: Traced) -> None:
    """3: from the output back, each layer's δ and its weights' gradient."""
    net, t = v.net, v.t
    general = equations.general(net)
    st.header("3. Backward pass")
    st.latex(general["delta_output"])
    if len(net.weights) > 1:
        st.latex(general["delta_hidden"])
    for l in range(len(net.weights), 0, -1):
        eq, delta, grad = st.columns([2, 2, 2])
        eq.latex(equations.delta_layer(net, l))
        eq.latex(equations.gradient_layer(net, l))
        eq.metric(f"‖∂L/∂W{l}‖", f"{t.grad_norms[l - 1]:.3g}")
        _chart(delta, v, f"backprop_delta_{l}")
        _chart(grad, v, f"backprop_grad_{l}")
    st.caption("Read it from the bottom of the network up: δ is the loss's sensitivity to "
               "each unit's z. Each column of ∂L/∂W is the previous layer's activations "
               "scaled by one unit's δ, so inputs that were 0 (the black background) get "
               "no gradient.")


FOLLOW = "backprop_follow_"  # this section's widget keys
FOLLOW_LAYER, FOLLOW_ROW, FOLLOW_COL = (f"{FOLLOW}{name}" for name in ("layer", "row", "col"))
_FOLLOW_PICKED = f"{FOLLOW}picked_for"  # the digit, layer and shape the pick was made for


def _digit_of(t: Trace) -> tuple[int, int]:
    """Which digit a trace is of: its label and a hash of its pixels."""
    return t.label, hash(t.activations[0].tobytes())


def _pick_weight(net: MLP, t: Trace) -> None:
    """Set the pick's widget values before the widgets are drawn: the largest gradient of
    the layer when the digit or the layer changed; the user's pick otherwise (across live
    redraws and updates), clamped into the weights when the network changed shape."""
    state, L = st.session_state, len(net.weights)
    layer = state.get(FOLLOW_LAYER)
    if not isinstance(layer, int) or not 1 <= layer <= L:
        layer = state[FOLLOW_LAYER] = L
    picked = state.get(_FOLLOW_PICKED)
    shape = tuple(net.layer_sizes)
    if picked is None or picked[:2] != (_digit_of(t), layer):
        state[FOLLOW_ROW], state[FOLLOW_COL] = largest_gradient(t, layer)
    else:
        n_in, n_out = net.weights[layer - 1].shape
        state[FOLLOW_ROW] = min(max(int(state.get(FOLLOW_ROW, 0)), 0), n_in - 1)
        state[FOLLOW_COL] = min(max(int(state.get(FOLLOW_COL, 0)), 0), n_out - 1)
    state[_FOLLOW_PICKED] = (_digit_of(t), layer, shape)


def _largest(t: Trace) -> None:
    """The button's callback: back to this layer's largest gradient."""
    state = st.session_state
    state[FOLLOW_ROW], state[FOLLOW_COL] = largest_gradient(t, state[FOLLOW_LAYER])


def follow_one_weight(net: MLP, t: Trace, lr: float) -> None:
    """3b: one weight's gradient worked out with its numbers, from the output's δ back to
    it, and where a step of size ``lr`` takes it."""
    st.subheader("Follow one weight")
    st.caption("Pick one weight; below is every multiplication backpropagation did to find "
               "its gradient for this digit, with the numbers it used. It starts on the "
               "weight with the largest gradient of the layer.")
    _pick_weight(net, t)
    L = len(net.weights)
    controls = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
    sizes = net.layer_sizes
    chosen = controls.selectbox("Weights", range(1, L + 1), key=FOLLOW_LAYER,
                                format_func=lambda l: weight_name(l - 1, sizes), width=280)
    layer = L if chosen is None else int(chosen)
    n_in, n_out = net.weights[layer - 1].shape
    i = controls.number_input(f"Row i: input unit of a{layer - 1} (0 to {n_in - 1})", 0,
                              n_in - 1, step=1, key=FOLLOW_ROW, width=200)
    j = controls.number_input(f"Column j: unit of layer {layer} (0 to {n_out - 1})", 0,
                              n_out - 1, step=1, key=FOLLOW_COL, width=200)
    controls.button("Largest gradient", key=f"{FOLLOW}largest", on_click=_largest, args=(t,),
                    help="Go back to the weight of this layer with the largest gradient "
                         "for this digit")
    story = follow_weight(net, t, layer, int(i), int(j), lr)
    lines = equations.weight_story(story)
    st.latex(lines.gradient)
    st.latex(lines.delta)
    if lines.slope is not None:
        st.latex(lines.slope)
    if lines.terms:
        st.markdown(table(lines.terms_header, lines.terms, right=(False, True, True, True)),
                    width="content")
    if lines.rest is not None:
        st.caption(lines.rest)
    if lines.next_delta is not None:
        st.latex(lines.next_delta)
        st.caption(f"Each δ{layer + 1}[k] in the table was found the same way, one layer "
                   f"closer to the output: pick a weight of W{layer + 1} in column k to "
                   "follow it.")
    st.latex(lines.update)
    if lines.note is not None:
        st.caption(lines.note)
    st.caption("Read it from the bottom up: the update moves the weight against its "
               "gradient; the gradient is the input the weight multiplied times the error δ "
               "of the unit it feeds; a hidden unit's δ is its slope f′ times the δ of the "
               "units it feeds, each weighted by the weight between them. Every number is "
               "the one the network used, rounded to 3 significant figures, so you can "
               "check each line with a calculator (up to that rounding).")


def _test_accuracy(session: TrainingSession) -> float:
    net, _ = session.network_copy()
    with np.errstate(all="ignore"):  # a diverged network overflows: its answers are NaN
        return net.accuracy(session.data.X_test, session.data.y_test)


def apply_update(session: TrainingSession, index: int, lr: float) -> None:
    """Pause, then one plain gradient-descent step on test digit ``index`` applied to the
    live network as a change by hand (``lab.one_update``): listed with the run's changes
    and undoable. What it did goes to ``st.session_state.backprop_result``."""
    session.pause()
    x, label = session.data.X_test[index], int(session.data.y_test[index])
    accuracy_before = _test_accuracy(session)
    out: dict = {}

    def update(net: MLP) -> lab.Change:
        change, out["before"], out["after"] = lab.one_update(
            net, x, label, lr, f"one update on test digit #{index} at η = {lr:g} (Backprop page)")
        return change

    change = session.change_live(update)
    st.session_state.backprop_result = dict(
        trainer=session.trainer, index=index, lr=lr, change=change,
        accuracy=(accuracy_before, _test_accuracy(session)), **out)


def undo_update(session: TrainingSession) -> None:
    """Undo the page's last update, when it is still the newest change by hand."""
    r = st.session_state.get("backprop_result")
    if r is not None and session.lab_changes and session.lab_changes[-1] is r["change"]:
        session.undo_live()
        st.session_state.backprop_result = None


def one_update(session: TrainingSession, net: MLP, t: Trace, index: int) -> None:
    """4: the update rule, and what the page's last update on test digit ``index`` did,
    with its Undo (the network is the live one: the update changed it for every page)."""
    st.header("4. One update")
    st.latex(equations.general(net)["update"])
    r = st.session_state.get("backprop_result")
    if r is None or r["trainer"] is not session.trainer or r["index"] != index:
        st.caption("Press **Apply one update** above to move every weight against its "
                   "gradient for this digit and see the prediction change.")
        return
    classes = session.data.classes
    st.plotly_chart(before_after_figure(r["before"], r["after"], t.label, classes),
                    key="backprop_before_after")
    st.caption(explain.update_caption(r["before"], r["after"], t.label, r["lr"], classes))
    before, after = r["accuracy"]
    undoable = bool(session.lab_changes) and session.lab_changes[-1] is r["change"]
    text = (f"Test accuracy of the whole network: {before:.2%} before this update, "
            f"{after:.2%} after it.")
    if after < before - 0.005:
        text += (" One digit's step at this size pulled the network towards this digit at "
                 "the others' expense: training averages the gradient over a mini-batch "
                 "instead, and takes small steps.")
    row = st.container(horizontal=True, vertical_alignment="center", gap="medium")
    (row.warning if after < before - 0.005 else row.info)(text)
    row.button("Undo this update", key="backprop_undo", on_click=undo_update,
               args=(session,), disabled=not undoable,
               help="Puts every weight back exactly as it was before the update" if undoable
               else "Another change by hand came after it (Network page): undo that first")


def gradient_check_section(v: Traced) -> None:
    """5: backprop's gradients against finite differences, for a few weights."""
    st.header("5. Gradient check")
    st.latex(r"\frac{\partial \mathcal{L}}{\partial w} \approx \frac{\mathcal{L}(w + "
             r"\varepsilon) - \mathcal{L}(w - \varepsilon)}{2\varepsilon}, \qquad "
             r"\varepsilon = 10^{-6}")
    checks = v.checks
    if checks is None:
        st.caption("No gradient check for a network whose loss is not a number.")
        return
    columns = explain.gradient_check_table(checks)
    # five narrow columns (the absolute difference left out: the relative error says it)
    # and numbers of 4 significant digits, so the table fits beside an 800 px sidebar
    numbers = ("backprop", "finite difference", "relative error")
    rows = [[name, *(f"{v:.4g}" for v in values), "yes" if agree else "no"]
            for name, *values, agree in zip(columns["parameter"],
                                            *(columns[n] for n in numbers), columns["agree"])]
    st.markdown(table(("parameter", *numbers, "agree"), rows, right=(False, True, True, True)))
    level, message, note = explain.gradient_check_verdict(checks)
    (st.success if level == "success" else st.warning)(message)
    if note:
        st.caption(note)


def next_misread(session: TrainingSession, after: int = -1) -> int:
    """The next test digit after ``after`` that the network misreads (or the one it is
    least sure of)."""
    net, _ = session.network_copy()
    return stepthrough.next_misread(net, session.data.X_test, session.data.y_test, after)


def open_on_a_digit_worth_learning_from(session: TrainingSession,
                                        step_sizes: list[float]) -> None:
    """On the page's first visit, pick a digit the network misreads and the smallest
    step size whose update on it visibly changes its answer; on a later visit, the digit
    and step size it was left on (Streamlit forgets a widget's value, and with it the
    page's Undo, once a run of another page does not draw it)."""
    state = st.session_state
    if "backprop_index" in state:
        state.backprop_kept = (int(state.backprop_index), state.backprop_lr)
        return
    kept = state.get("backprop_kept")
    if kept is not None and kept[0] < len(session.data.y_test) and kept[1] in step_sizes:
        state.backprop_index, state.backprop_lr = kept
        return
    i = state.backprop_index = next_misread(session)
    X, y = session.data.X_test, session.data.y_test
    # the gentlest visible step: at the training rate (0.2) one digit's step took a
    # trained network from 97.6% to 58.9% test accuracy
    state.backprop_lr = visible_step_size(session.network_copy()[0], X[i], int(y[i]),
                                          step_sizes, min(step_sizes))
