"""dashboard.sections.backprop.follow_one_weight, headless with AppTest: the section shows
the engine's numbers, starts on the largest gradient, keeps the user's pick across redraws
and clamps it when the network changes shape."""

import numpy as np
from streamlit.testing.v1 import AppTest

from dashboard import equations
from mnist_np import MLP
from mnist_np.stepthrough import largest_gradient, sgd_step, trace


def _section(net, t, lr):
    from dashboard.sections.backprop import follow_one_weight

    follow_one_weight(net, t, lr)


def _trained(sizes, seed=0):
    rng = np.random.default_rng(seed)
    X, y = rng.random((20, sizes[0])), rng.integers(0, sizes[-1], 20)
    net = MLP(sizes, seed=seed)
    for _ in range(3):
        for x, label in zip(X, y):
            sgd_step(net, x, int(label), 0.1)
    return net, X, y


def _latex(at) -> str:
    return "\n".join(e.value for e in at.latex)


def _tables(at) -> list[str]:
    """The Markdown tables the section shows (the terms of a hidden unit's δ)."""
    return [m.value for m in at.markdown if m.value.startswith("| ")]


def test_the_section_shows_the_engines_gradient_for_the_largest_entry_then_the_users_pick():
    net, X, y = _trained([16, 6, 5, 4])
    t = trace(net, X[0], int(y[0]))
    at = AppTest.from_function(_section, args=(net, t, 0.5)).run()
    assert not at.exception
    assert at.selectbox(key="backprop_follow_layer").value == 3
    i, j = largest_gradient(t, 3)
    assert (at.number_input(key="backprop_follow_row").value,
            at.number_input(key="backprop_follow_col").value) == (i, j)
    assert equations.number(float(t.dWs[2][i, j])) in _latex(at)
    assert "a_{3}[" in _latex(at) and not _tables(at)  # the output layer: no sum of terms
    at.selectbox(key="backprop_follow_layer").set_value(1).run()
    i, j = largest_gradient(t, 1)
    assert at.number_input(key="backprop_follow_row").value == i
    at.number_input(key="backprop_follow_row").set_value(7).run()
    at.number_input(key="backprop_follow_col").set_value(2).run()
    text = _latex(at)
    assert r"W_{1}[7,2]" in text and equations.number(float(t.dWs[0][7, 2])) in text
    assert equations.number(float(t.deltas[0][2])) in text
    (terms,) = _tables(at)
    assert terms.count("\n") == 1 + 4  # header, alignment, the four largest terms
    assert "more term" in " ".join(c.value for c in at.caption)
    at.run()  # a live redraw keeps the pick
    assert at.number_input(key="backprop_follow_row").value == 7
    at.button(key="backprop_follow_largest").click().run()
    assert at.number_input(key="backprop_follow_row").value == i


def test_the_pick_is_clamped_when_the_network_changes_shape_and_nan_is_shown():
    net, X, y = _trained([16, 6, 4])
    t = trace(net, X[1], int(y[1]))
    at = AppTest.from_function(_section, args=(net, t, 0.1))
    at.session_state["backprop_follow_layer"] = 1
    at.run()
    at.number_input(key="backprop_follow_row").set_value(15).run()
    at.number_input(key="backprop_follow_col").set_value(5).run()
    small = MLP([16, 3, 4], activation="sigmoid", seed=1)
    small.weights[0][:] = np.nan  # a diverged network
    at.args = (small, trace(small, X[1], int(y[1])), 0.1)
    at.run()
    assert not at.exception
    assert at.number_input(key="backprop_follow_row").value == 15
    assert at.number_input(key="backprop_follow_col").value == 2
    assert r"\mathrm{NaN}" in _latex(at)
    shallow = MLP([16, 4], seed=1)
    at.args = (shallow, trace(shallow, X[1], int(y[1])), 0.1)
    at.run()
    assert not at.exception and at.selectbox(key="backprop_follow_layer").value == 1
