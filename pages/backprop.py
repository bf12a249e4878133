"""Backprop, step by step: the equations, and the actual numbers they produce for one
digit; one update on that digit; and a finite-difference check of the gradients."""

import numpy as np
import streamlit as st

from dashboard import equations
from dashboard.figures_backprop import (
    before_after_figure,
    digit_figure,
    layer_figure,
    output_figure,
    vector_figure,
)
from dashboard.figures_weights import matrix_figure
from dashboard.plotting import layer_name
from dashboard.session import PAUSED, READY
from dashboard.ui import (
    HEAVY_REFRESH_SECONDS,
    LR_GRID,
    live_fragment,
    page_header,
    page_session,
)
from mnist_np.gradcheck import RTOL, gradient_check
from mnist_np.stepthrough import one_hot, sgd_step, trace

GRADIENT_CELLS = 20_000  # per gradient heatmap on this page, which has one per layer

session = page_session()
page_header("Backprop, step by step", session)
st.caption("Pick a test digit and follow it through the network: forward to a prediction, "
           "the loss, then backward to every weight's gradient. Each equation sits next to "
           "the numbers it produces for this digit.")
X_test, y_test = session.data.X_test, session.data.y_test
st.session_state.setdefault("backprop_index", 0)
st.session_state.setdefault("backprop_lr", session.settings.lr)
st.session_state.setdefault("backprop_draws", 0)


def _random_digit() -> None:
    draws = st.session_state.backprop_draws
    rng = np.random.default_rng([session.settings.seed, draws])
    st.session_state.backprop_index = int(rng.integers(len(y_test)))
    st.session_state.backprop_draws = draws + 1


def _apply_update() -> None:
    """One plain gradient-descent step on the chosen digit, applied to the live network."""
    i, lr = st.session_state.backprop_index, st.session_state.backprop_lr
    session.pause()
    with session.reading() as trainer:
        before, after = sgd_step(session.net, X_test[i], int(y_test[i]), lr)
        session.version += 1
        if session.state == READY:
            session.state = PAUSED  # it is no longer the fresh network
    st.session_state.backprop_result = dict(trainer=trainer, index=i, lr=lr, before=before,
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
    i = int(st.session_state.backprop_index)
    x, label = X_test[i], int(y_test[i])
    t = trace(net, x, label)
    L = len(net.weights)
    general = equations.general(net)
    if session.untrained:
        st.info("Not trained yet: this is the freshly initialised network, so its answer is a "
                "guess. Train a little (or apply updates here) and run the digit again.")
    finite = bool(np.isfinite(t.loss))

    st.header("1. Forward pass")
    st.latex(general.get("forward", general["output"]))
    left, right = st.columns([1, 2])
    left.plotly_chart(digit_figure(x, f"a₀ = x: test digit #{i} (a {label})"),
                      key="backprop_input")
    right.markdown(f"The image's 784 pixels, read row by row, are the input row vector "
                   f"$a_0$. Each layer multiplies it by its weights, adds its biases and "
                   f"applies the activation. Prediction: **{t.prediction}** "
                   f"({t.output[t.prediction]:.1%}); true digit: **{label}**.")
    for l in range(1, L + 1):
        eq, fig = st.columns([2, 3])
        eq.latex(equations.forward_layer(net, l))
        if l < L:
            eq.caption(f"Layer {l} ({layer_name(l, L)}): {net.layer_sizes[l]} units.")
            fig.plotly_chart(layer_figure(t.zs[l - 1], t.activations[l],
                                          f"Layer {l}: z and a", net.activation),
                             key=f"backprop_layer_{l}")
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
        delta.plotly_chart(vector_figure(t.deltas[l - 1], f"δ{l}: the error at layer {l}",
                                         "δ"), key=f"backprop_delta_{l}")
        grad.plotly_chart(matrix_figure(t.dWs[l - 1], f"∂L/∂W{l} = a{l - 1}ᵀ δ{l}",
                                        max_cells=GRADIENT_CELLS, colorbar="gradient"),
                          key=f"backprop_grad_{l}")
    st.caption("Read it from the bottom of the network up: δ is the loss's sensitivity to "
               "each unit's z. Each column of ∂L/∂W is the previous layer's activations "
               "scaled by one unit's δ, so inputs that were 0 (the black background) get "
               "no gradient.")

    st.header("4. One update")
    st.latex(general["update"])
    result = st.session_state.get("backprop_result")
    if result and result["trainer"] is session.trainer and result["index"] == i:
        st.plotly_chart(before_after_figure(result["before"], result["after"], label),
                        key="backprop_before_after")
        b, a = result["before"], result["after"]
        st.caption(f"With η = {result['lr']:g}, one step on this digit alone moved the "
                   f"probability of the true digit {label} from {b[label]:.1%} to "
                   f"{a[label]:.1%}; the prediction went from {int(b.argmax())} to "
                   f"{int(a.argmax())}. Press again to take another step.")
    else:
        st.caption("Press **Apply one update** above to move every weight against its "
                   "gradient for this digit and see the prediction change.")

    st.header("5. Gradient check")
    st.latex(r"\frac{\partial \mathcal{L}}{\partial w} \approx "
             r"\frac{\mathcal{L}(w + \varepsilon) - \mathcal{L}(w - \varepsilon)}{2\varepsilon}"
             r", \qquad \varepsilon = 10^{-6}")
    if not finite:
        st.caption("No gradient check for a network whose loss is not a number.")
        return
    checks = gradient_check(net, x[None, :], one_hot(label, net.layer_sizes[-1])[None, :],
                            seed=i)
    st.dataframe({
        "parameter": [f"{c.param}{c.layer}[{', '.join(map(str, c.index))}]" for c in checks],
        "backprop": [c.backprop for c in checks],
        "finite difference": [c.numeric for c in checks],
        "difference": [abs(c.backprop - c.numeric) for c in checks],
        "relative error": [c.rel_error for c in checks],
        "agree": [c.agrees for c in checks],
    }, hide_index=True, width="stretch", column_config={
        name: st.column_config.NumberColumn(format="%.3e")
        for name in ("backprop", "finite difference", "difference", "relative error")})
    worst = max(c.rel_error for c in checks)
    rounding = checks[0].rounding
    if all(c.agrees for c in checks) and worst <= RTOL:
        st.success(f"Backpropagation agrees with finite differences (computed in float64 on a "
                   f"copy of the network): largest relative error {worst:.1e}.")
    elif all(c.agrees for c in checks):
        largest = max(abs(c.backprop - c.numeric) for c in checks)
        st.success(f"Backpropagation agrees with finite differences up to rounding (computed "
                   f"in float64 on a copy of the network): the largest difference, "
                   f"{largest:.1e}, is within the ±{rounding:.0e} that rounding allows.")
        st.caption(f"The gradients here are tiny (the network is sure of this digit), so "
                   f"rounding in 𝓛(w ± ε) limits the difference quotient to about "
                   f"±{rounding:.0e}, and relative errors (up to {worst:.0e}) say nothing.")
    else:
        st.warning(f"Some gradients disagree (largest relative error {worst:.1e}). With "
                   "ReLU this can happen when ±ε moves a unit across 0, where the slope "
                   "jumps; try another digit.")

live_fragment(session, draw, every=HEAVY_REFRESH_SECONDS)()
