"""Backprop, step by step: the equations, and the actual numbers they produce for one
digit; one update on that digit; and a finite-difference check of the gradients."""

import numpy as np
import streamlit as st

from dashboard import equations, explain
from dashboard.figures.backprop import (
    before_after_figure,
    layer_figure,
    output_figure,
    vector_figure,
)
from dashboard.figures.base import layer_name
from dashboard.figures.images import digit_figure
from dashboard.figures.weights import matrix_figure
from dashboard.page import (
    HEAVY_REFRESH_SECONDS,
    live_fragment,
    not_trained_note,
    page_header,
    page_session,
)
from dashboard.widgets import LR_GRID
from mnist_np.gradcheck import gradient_check
from mnist_np.stepthrough import one_hot, sgd_step, trace

GRADIENT_CELLS = 20_000  # per gradient heatmap on this page, which has one per layer

session = page_session()
page_header("Backprop, step by step", session)
st.caption("Pick a test digit and follow it through the network: forward to a prediction, "
           "the loss, then backward to every weight's gradient. Each equation sits next to "
           "the numbers it produces for this digit.")
X_test, y_test = session.data.X_test, session.data.y_test
state = st.session_state
state.setdefault("backprop_index", 0)
state.setdefault("backprop_lr", session.settings.lr)
state.setdefault("backprop_draws", 0)


def _random_digit() -> None:
    rng = np.random.default_rng([session.settings.seed, state.backprop_draws])
    state.backprop_index = int(rng.integers(len(y_test)))
    state.backprop_draws += 1


def _apply_update() -> None:
    """One plain gradient-descent step on the chosen digit, applied to the live network."""
    i, lr = state.backprop_index, state.backprop_lr
    before, after = session.change_network(lambda net: sgd_step(net, X_test[i], int(y_test[i]), lr))
    state.backprop_result = dict(trainer=session.trainer, index=i, lr=lr, before=before,
                                 after=after)


# one row that wraps in a narrow window (columns would cut the labels to "Rando…")
controls = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
controls.number_input(f"Test digit (0 to {len(y_test) - 1:,})", 0, len(y_test) - 1, step=1,
                      key="backprop_index", width=170)
controls.button("Random digit", key="backprop_random", on_click=_random_digit)
controls.select_slider("Step size η for the update", sorted({*LR_GRID, session.settings.lr}),
                       key="backprop_lr", format_func=lambda v: f"{v:g}", width=300)
controls.button("Apply one update", key="backprop_apply", on_click=_apply_update,
                type="primary", help="Pauses training, then moves every weight by -η times "
                                     "its gradient for this digit alone")


def draw(session):
    net, _ = session.network_copy()
    i = int(state.backprop_index)
    x, label = X_test[i], int(y_test[i])
    t, L, general = trace(net, x, label), len(net.weights), equations.general(net)
    not_trained_note(session, "Not trained yet: this is the freshly initialised network, so "
                     "its answer is a guess. Train a little (or apply updates here) and run the "
                     "digit again.")

    st.header("1. Forward pass")
    st.latex(general.get("forward", general["output"]))
    left, right = st.columns([1, 2])
    left.plotly_chart(digit_figure(x, f"a₀ = x: test digit #{i} (a {label})"), key="backprop_input")
    right.markdown(f"The image's 784 pixels, read row by row, are the input row vector $a_0$. "
                   f"Each layer multiplies it by its weights, adds its biases and applies the "
                   f"activation. Prediction: **{t.prediction}** ({t.output[t.prediction]:.1%}); "
                   f"true digit: **{label}**.")
    for l in range(1, L + 1):
        eq, fig = st.columns([2, 3])
        eq.latex(equations.forward_layer(net, l))
        if l < L:
            eq.caption(f"Layer {l} ({layer_name(l, L)}): {net.layer_sizes[l]} units.")
            fig.plotly_chart(layer_figure(t.zs[l - 1], t.activations[l], f"Layer {l}: z and a",
                                          net.activation), key=f"backprop_layer_{l}")
        else:
            eq.caption("The output layer: one value per digit.")
            fig.plotly_chart(output_figure(t.output, t.target), key="backprop_output")

    st.header("2. Loss")
    eq, value = st.columns([2, 3])
    eq.latex(general["loss"])
    value.latex(rf"\mathcal{{L}} = {t.loss:.4f}")
    value.caption("One digit, so the mean over the batch is this digit's loss. It is small "
                  "when the output is close to the one-hot target.")

    st.header("3. Backward pass")
    st.latex(general["delta_output"])
    if L > 1:
        st.latex(general["delta_hidden"])
    for l in range(L, 0, -1):
        eq, delta, grad = st.columns([2, 2, 2])
        eq.latex(equations.delta_layer(net, l))
        eq.latex(equations.gradient_layer(net, l))
        eq.metric(f"‖∂L/∂W{l}‖", f"{t.grad_norms[l - 1]:.3g}")
        delta.plotly_chart(vector_figure(t.deltas[l - 1], f"δ{l}: the error at layer {l}", "δ"),
                           key=f"backprop_delta_{l}")
        grad.plotly_chart(matrix_figure(t.dWs[l - 1], f"∂L/∂W{l} = a{l - 1}ᵀ δ{l}",
                                        max_cells=GRADIENT_CELLS, colorbar="gradient"),
                          key=f"backprop_grad_{l}")
    st.caption("Read it from the bottom of the network up: δ is the loss's sensitivity to each "
               "unit's z. Each column of ∂L/∂W is the previous layer's activations scaled by "
               "one unit's δ, so inputs that were 0 (the black background) get no gradient.")

    st.header("4. One update")
    st.latex(general["update"])
    result = state.get("backprop_result")
    if result and result["trainer"] is session.trainer and result["index"] == i:
        st.plotly_chart(before_after_figure(result["before"], result["after"], label),
                        key="backprop_before_after")
        st.caption(explain.update_caption(result["before"], result["after"], label, result["lr"]))
    else:
        st.caption("Press **Apply one update** above to move every weight against its "
                   "gradient for this digit and see the prediction change.")

    st.header("5. Gradient check")
    st.latex(r"\frac{\partial \mathcal{L}}{\partial w} \approx \frac{\mathcal{L}(w + \varepsilon)"
             r" - \mathcal{L}(w - \varepsilon)}{2\varepsilon}, \qquad \varepsilon = 10^{-6}")
    if not np.isfinite(t.loss):
        st.caption("No gradient check for a network whose loss is not a number.")
        return
    checks = gradient_check(net, x[None, :], one_hot(label, net.layer_sizes[-1])[None, :], seed=i)
    st.dataframe(explain.gradient_check_table(checks), hide_index=True, width="stretch",
                 column_config={name: st.column_config.NumberColumn(format="%.3e") for name in
                                ("backprop", "finite difference", "difference", "relative error")})
    level, message, note = explain.gradient_check_verdict(checks)
    (st.success if level == "success" else st.warning)(message)
    if note:
        st.caption(note)


live_fragment(session, draw, every=HEAVY_REFRESH_SECONDS)()
