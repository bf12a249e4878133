"""dashboard.equations: the backprop equations written for the network's activation, output
and loss, with and without hidden layers and L2."""

import dataclasses

import numpy as np
import pytest

from dashboard import equations
from mnist_np import ACTIVATIONS, MLP, OUTPUT_LOSSES
from mnist_np.stepthrough import follow_weight, largest_gradient, trace


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("output_loss", list(OUTPUT_LOSSES))
def test_equations_are_written_for_the_networks_activation_and_loss(activation, output_loss):
    output, loss = output_loss
    net = MLP([16, 6, 4], activation=activation, output=output, loss=loss)
    eq = equations.general(net)
    assert list(eq) == ["forward", "output", "loss", "delta_output", "gradients",
                        "delta_hidden", "update"]
    if "=" in net.act.latex:  # a definition, written beside the forward step
        assert net.act.latex in eq["forward"]
    assert net.act.latex_grad in eq["delta_hidden"]
    assert net.output_loss.latex_output in eq["output"] and eq["loss"] == net.output_loss.latex_loss
    assert net.output_loss.latex_delta in eq["delta_output"]
    assert r"a_{l-1}^{\top} \delta_l" in eq["gradients"]
    symbol = equations.activation_symbol(net)
    assert rf"{symbol}'(z_{{l-1}})" in eq["delta_hidden"]
    assert r"{(1{\times}16)}" in equations.forward_layer(net, 1)
    assert f"{symbol}(z_{{1}})" in equations.forward_layer(net, 1)
    assert r"{(6{\times}4)}" in equations.forward_layer(net, 2)
    assert r"\delta_{2}" in equations.delta_layer(net, 2) and "_L" not in \
        equations.delta_layer(net, 2)
    assert rf"{symbol}'(z_{{1}})" in equations.delta_layer(net, 1)
    assert r"{(16{\times}6)}" in equations.gradient_layer(net, 1)


def test_equations_without_hidden_layers_and_with_l2():
    plain = equations.general(MLP([16, 4]))
    assert "forward" not in plain and "delta_hidden" not in plain
    decayed = MLP([16, 6, 4], l2=0.01)
    assert r"\lambda" in equations.general(decayed)["loss"]
    assert r"\lambda W_{1}" in equations.gradient_layer(decayed, 1)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_every_part_of_the_forward_equation_is_an_equation(activation):
    # tanh's registry entry is the bare name "\tanh(z)": the equation ended in it
    forward = equations.general(MLP([16, 6, 4], activation=activation))["forward"]
    for part in forward.split(r"\qquad"):
        assert "=" in part, forward


# -- one weight, with its numbers -------------------------------------------------------
def test_numbers_are_three_significant_figures_scientific_when_tiny_and_nan_as_such():
    assert equations.number(0.41234) == "0.412" and equations.number(-0.0312) == "-0.0312"
    assert equations.number(4.1234e-7) == r"4.12 \times 10^{-7}"
    assert equations.number(-0.0) == "0" and equations.number(12345.0) == r"1.23 \times 10^{4}"
    assert equations.number(float("nan")) == r"\mathrm{NaN}"
    assert equations.number(float("-inf")) == r"-\infty"
    assert equations.number_text(float("inf")) == "inf"
    assert equations.number(0.123456, 5) == "0.12346"
    # a rounded number keeps its figures; one they hold exactly is shown as it is
    assert equations.number(-0.0029999) == "-0.00300" and equations.number(0.1) == "0.1"
    assert equations.number(1.0) == "1" and equations.number_text(1.0000001e-5) == "1.00e-05"


def _story(sizes=(12, 6, 5, 4), l2=0.0, **kwargs):
    net = MLP(list(sizes), l2=l2, seed=2, **kwargs)
    x = np.random.default_rng(0).random(sizes[0])
    t = trace(net, x, 1)
    return t, {l: follow_weight(net, t, l, *largest_gradient(t, l), lr=0.1)
               for l in range(1, len(sizes))}


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("output_loss", list(OUTPUT_LOSSES))
@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_the_lines_of_one_weight_hold_its_numbers(activation, output_loss, l2):
    output, loss = output_loss
    t, stories = _story(activation=activation, output=output, loss=loss, l2=l2)
    for l, s in stories.items():
        lines = equations.weight_story(s)
        n = equations.number
        assert rf"W_{{{l}}}[{s.i},{s.j}]" in lines.gradient
        assert n(float(t.dWs[l - 1][s.i, s.j])) in lines.gradient  # the engine's gradient
        assert n(s.a_in) in lines.gradient and n(s.delta) in lines.gradient
        assert (r"\lambda" in lines.gradient) == bool(l2)
        if l2:
            assert n(s.l2) in lines.gradient
        assert lines.delta.endswith(f"= {n(s.delta)}")
        assert n(s.weight_after, 3)[:3] in lines.update and r"\eta" in lines.update
        if s.output:
            assert n(s.a_out) in lines.delta and f"y[{s.j}]" in lines.delta
            assert ("(1 - a_{3}" in lines.delta) == (loss == "mse")
            assert lines.slope is None and lines.terms == () and lines.next_delta is None
        else:
            assert s.slope is not None and s.back_sum is not None
            assert n(s.slope) in lines.delta and n(s.back_sum) in lines.delta
            assert ACTIVATIONS[activation].latex_grad in lines.slope
            assert lines.terms == tuple((str(term.k), equations.number_text(term.weight),
                                         equations.number_text(term.delta),
                                         equations.number_text(term.product))
                                        for term in s.terms)
            assert lines.terms_header[1] == f"W{l + 1}[{s.j},k]"
            assert equations.number_text(s.back_sum) in lines.rest
            assert f"and {s.rest_count} more" in lines.rest if s.rest_count else True
            assert f"delta_{{{l + 1}}}[k]" in lines.next_delta


def test_the_update_shows_enough_digits_to_see_the_step_and_says_when_it_is_lost():
    _, stories = _story()
    s = stories[2]
    small = dataclasses.replace(s, weight_before=0.5, step=-2.5e-5, weight_after=0.499975)
    assert equations.weight_story(small).update.endswith("= 0.499975")  # not 0.5 -> 0.5
    lost = dataclasses.replace(s, weight_before=0.5, step=-1e-9, weight_after=0.5)
    assert "stays as it is" in equations.weight_story(lost).note
    assert equations.weight_story(s).note is None


def test_a_diverged_weight_is_shown_as_nan():
    _, stories = _story()
    nan = dataclasses.replace(stories[1], delta=float("nan"), grad=float("nan"),
                              step=float("nan"), weight_after=float("nan"))
    lines = equations.weight_story(nan)
    assert lines.gradient.endswith(r"= \mathrm{NaN}") and r"\mathrm{NaN}" in lines.update
