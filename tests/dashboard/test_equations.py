"""dashboard.equations: the backprop equations written for the network's activation, output
and loss, with and without hidden layers and L2."""

import pytest

from dashboard import equations
from mnist_np import ACTIVATIONS, MLP, OUTPUT_LOSSES


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
