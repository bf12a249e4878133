"""The backpropagation equations as LaTeX, written for a given network: its hidden
activation, its output layer and loss, its L2 term, and (per layer) its shapes.

Notation as in the seed notebook and ``mnist_np.network``: rows are samples,
``z_l = a_{l-1} W_l + b_l``, ``a_l = f(z_l)``, ``delta_l = ∂L/∂z_l``; layers count from 1.
"""

from __future__ import annotations

from mnist_np import MLP

D_LOSS = r"\frac{\partial \mathcal{L}}{\partial %s}"


def activation_symbol(net: MLP) -> str:
    """The hidden activation's symbol, e.g. ``\\sigma`` or ``\\mathrm{relu}``."""
    return net.act.latex.split("(z)")[0]


def general(net: MLP) -> dict[str, str]:
    """The equations for any layer ``l``, keyed by step: ``forward``, ``output``, ``loss``,
    ``delta_output``, ``gradients``, ``delta_hidden``, ``update``. A network without
    hidden layers has no ``forward`` or ``delta_hidden``."""
    f = activation_symbol(net)
    L = len(net.weights)
    l2_loss = r" + \frac{\lambda}{2}\sum_l \lVert W_l \rVert^2" if net.l2 else ""
    l2_grad = r" + \lambda W_l" if net.l2 else ""
    eq = {
        "output": rf"z_L = a_{{L-1}} W_L + b_L, \qquad {net.output_loss.latex_output}",
        "loss": net.output_loss.latex_loss + l2_loss,
        "delta_output": rf"\delta_L \equiv {D_LOSS % 'z_L'}: \qquad {net.output_loss.latex_delta}",
        "gradients": rf"{D_LOSS % 'W_l'} = a_{{l-1}}^{{\top}} \delta_l{l2_grad}, \qquad "
                     rf"{D_LOSS % 'b_l'} = \textstyle\sum_{{i}} \delta_l^{{(i)}}",
        "update": rf"W_l \leftarrow W_l - \eta\,{D_LOSS % 'W_l'}, \qquad "
                  rf"b_l \leftarrow b_l - \eta\,{D_LOSS % 'b_l'}",
    }
    if L > 1:
        eq["forward"] = rf"a_l = {f}(a_{{l-1}} W_l + b_l)"
        if "=" in net.act.latex:  # its definition (tanh's entry is its bare name)
            eq["forward"] += rf", \qquad {net.act.latex}"
        eq["delta_hidden"] = (rf"\delta_{{l-1}} = \big(\delta_l W_l^{{\top}}\big) \odot "
                              rf"{f}'(z_{{l-1}}), \qquad {net.act.latex_grad}")
    return {k: eq[k] for k in ("forward", "output", "loss", "delta_output", "gradients",
                               "delta_hidden", "update") if k in eq}


def _shape(rows: int, cols: int) -> str:
    return rf"({rows}{{\times}}{cols})"


def forward_layer(net: MLP, l: int) -> str:
    """Layer ``l`` (1-based) of the forward pass for one digit, with its shapes."""
    n_in, n_out = net.layer_sizes[l - 1], net.layer_sizes[l]
    shapes = rf"\underbrace{{a_{{{l - 1}}}}}_{{{_shape(1, n_in)}}}" \
             rf"\underbrace{{W_{{{l}}}}}_{{{_shape(n_in, n_out)}}} + " \
             rf"\underbrace{{b_{{{l}}}}}_{{{_shape(1, n_out)}}}"
    if l < len(net.weights):
        activation = rf"a_{{{l}}} = {activation_symbol(net)}(z_{{{l}}})"
    else:
        activation = net.output_loss.latex_output.replace("_L", f"_{{{l}}}")
    return rf"\begin{{gathered}} z_{{{l}}} = {shapes} \\ {activation} \end{{gathered}}"


def delta_layer(net: MLP, l: int) -> str:
    """How ``delta_l`` (1-based ``l``) is computed for one digit."""
    L = len(net.weights)
    if l == L:
        return net.output_loss.latex_delta.replace("_L", f"_{{{l}}}")
    f = activation_symbol(net)
    return (rf"\delta_{{{l}}} = \big(\underbrace{{\delta_{{{l + 1}}}}}_"
            rf"{{{_shape(1, net.layer_sizes[l + 1])}}}\,"
            rf"\underbrace{{W_{{{l + 1}}}^{{\top}}}}_"
            rf"{{{_shape(net.layer_sizes[l + 1], net.layer_sizes[l])}}}\big) \odot "
            rf"{f}'(z_{{{l}}})")


def gradient_layer(net: MLP, l: int) -> str:
    """The gradients of layer ``l`` (1-based) for one digit, with their shapes."""
    n_in, n_out = net.layer_sizes[l - 1], net.layer_sizes[l]
    l2 = rf" + \lambda W_{{{l}}}" if net.l2 else ""
    return (rf"\underbrace{{{D_LOSS % f'W_{{{l}}}'}}}_{{{_shape(n_in, n_out)}}} = "
            rf"a_{{{l - 1}}}^{{\top}} \delta_{{{l}}}{l2}, \qquad "
            rf"{D_LOSS % f'b_{{{l}}}'} = \delta_{{{l}}}")
