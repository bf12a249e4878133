"""The Backprop page's five sections, for one traced digit ``t`` (a
:class:`mnist_np.stepthrough.Trace`) through the network ``net``."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_np import MLP
from mnist_np.gradcheck import gradient_check
from mnist_np.stepthrough import Trace, one_hot

from .. import equations, explain
from ..figures.backprop import before_after_figure, layer_figure, output_figure, vector_figure
from ..figures.base import layer_name
from ..figures.images import digit_figure
from ..figures.weights import matrix_figure

GRADIENT_CELLS = 20_000  # per gradient heatmap on this page, which has one per layer


def forward_pass(net: MLP, t: Trace, index: int) -> None:
    """1: the input, then each layer's equation beside its z and a."""
    general, L = equations.general(net), len(net.weights)
    st.header("1. Forward pass")
    st.latex(general.get("forward", general["output"]))
    left, right = st.columns([1, 2])
    left.plotly_chart(digit_figure(t.activations[0], f"a₀ = x: test digit #{index} "
                                                     f"(a {t.label})"), key="backprop_input")
    right.markdown(f"The image's 784 pixels, read row by row, are the input row vector "
                   f"$a_0$. Each layer multiplies it by its weights, adds its biases and "
                   f"applies the activation. Prediction: **{t.prediction}** "
                   f"({t.output[t.prediction]:.1%}); true digit: **{t.label}**.")
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


def loss(net: MLP, t: Trace) -> None:
    """2: the loss's equation and its value for this digit."""
    st.header("2. Loss")
    eq, value = st.columns([2, 3])
    eq.latex(equations.general(net)["loss"])
    value.latex(rf"\mathcal{{L}} = {t.loss:.4f}")
    value.caption("One digit, so the mean over the batch is this digit's loss. It is small "
                  "when the output is close to the one-hot target.")


def backward_pass(net: MLP, t: Trace) -> None:
    """3: from the output back, each layer's δ and its weights' gradient."""
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
        delta.plotly_chart(vector_figure(t.deltas[l - 1], f"δ{l}: the error at layer {l}", "δ"),
                           key=f"backprop_delta_{l}")
        grad.plotly_chart(matrix_figure(t.dWs[l - 1], f"∂L/∂W{l} = a{l - 1}ᵀ δ{l}",
                                        max_cells=GRADIENT_CELLS, colorbar="gradient"),
                          key=f"backprop_grad_{l}")
    st.caption("Read it from the bottom of the network up: δ is the loss's sensitivity to "
               "each unit's z. Each column of ∂L/∂W is the previous layer's activations "
               "scaled by one unit's δ, so inputs that were 0 (the black background) get "
               "no gradient.")


def one_update(net: MLP, label: int, update: tuple[np.ndarray, np.ndarray, float] | None) -> None:
    """4: the update rule, and what the last update on this digit did (``update`` is
    ``(before, after, lr)``, or None when none was applied to this digit)."""
    st.header("4. One update")
    st.latex(equations.general(net)["update"])
    if update is None:
        st.caption("Press **Apply one update** above to move every weight against its "
                   "gradient for this digit and see the prediction change.")
        return
    before, after, lr = update
    st.plotly_chart(before_after_figure(before, after, label), key="backprop_before_after")
    st.caption(explain.update_caption(before, after, label, lr))


def gradient_check_section(net: MLP, t: Trace, seed: int) -> None:
    """5: backprop's gradients against finite differences, for a few weights."""
    st.header("5. Gradient check")
    st.latex(r"\frac{\partial \mathcal{L}}{\partial w} \approx \frac{\mathcal{L}(w + "
             r"\varepsilon) - \mathcal{L}(w - \varepsilon)}{2\varepsilon}, \qquad "
             r"\varepsilon = 10^{-6}")
    if not np.isfinite(t.loss):
        st.caption("No gradient check for a network whose loss is not a number.")
        return
    x, y = t.activations[0][None, :], one_hot(t.label, net.layer_sizes[-1])[None, :]
    checks = gradient_check(net, x, y, seed=seed)
    st.dataframe(explain.gradient_check_table(checks), hide_index=True, width="stretch",
                 column_config={name: st.column_config.NumberColumn(format="%.3e") for name in
                                ("backprop", "finite difference", "difference",
                                 "relative error")})
    level, message, note = explain.gradient_check_verdict(checks)
    (st.success if level == "success" else st.warning)(message)
    if note:
        st.caption(note)
