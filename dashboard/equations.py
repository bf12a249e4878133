"""The backpropagation equations as LaTeX, written for a given network: its hidden
activation, its output layer and loss, its L2 term, and (per layer) its shapes.

Notation as in the seed notebook and ``mnist_np.network``: rows are samples,
``z_l = a_{l-1} W_l + b_l``, ``a_l = f(z_l)``, ``delta_l = ∂L/∂z_l``; layers count from 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mnist_np import ACTIVATIONS, MLP
from mnist_np.stepthrough import WeightStory

D_LOSS = r"\frac{\partial \mathcal{L}}{\partial %s}"


def activation_symbol(net: MLP) -> str:
    """The hidden activation's symbol, e.g. ``\\sigma`` or ``\\mathrm{relu}``."""
    return _symbol(net.act.latex)


def _symbol(latex: str) -> str:
    return latex.split("(z)")[0]


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


# -- one weight, with its numbers -------------------------------------------------------
def number_text(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant figures as plain text: ``-0.0128``, ``4.12e-05``,
    ``NaN``, ``inf``. A rounded number keeps its trailing zeros (``-0.00300``); one that
    the figures hold exactly does not (``1``, ``0.5``)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    short = f"{x:.{digits}g}"
    return short if float(short) == x else f"{x:#.{digits}g}"


def number(x: float, digits: int = 3) -> str:
    r"""``x`` to ``digits`` significant figures in LaTeX, scientific when tiny or huge
    (``4.12 \times 10^{-5}``); NaN as ``\mathrm{NaN}``, infinities as ``\infty``."""
    if math.isnan(x):
        return r"\mathrm{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    text = number_text(x, digits)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def _factor(x: float, digits: int = 3) -> str:
    """:func:`number` as one factor of a product: in brackets when negative or scientific."""
    text = number(x, digits)
    return f"({text})" if text.startswith("-") or r"\times" in text else text


def _digits_to_show_a_step(before: float, step: float) -> int:
    """Significant figures that show ``before`` and ``before + step`` apart, the step to
    two figures (3 or more, at most 8: float32 holds about 7)."""
    if not (math.isfinite(before) and math.isfinite(step)) or before == 0 or step == 0:
        return 3
    apart = math.floor(math.log10(abs(before))) - math.floor(math.log10(abs(step)))
    return min(8, max(3, 2 + apart))


@dataclass(frozen=True)
class WeightLines:
    """What the "Follow one weight" section shows for one :class:`WeightStory`.

    ``gradient``, ``delta``, ``update``: LaTeX lines, each its equation then its numbers;
    ``slope``: the activation's derivative at this unit (hidden layers), else None;
    ``terms_header`` and ``terms``: the table of the largest terms of the sum (plain text,
    empty for the output layer); ``rest``: the other terms in words (None when none);
    ``next_delta``: where the δ in the table come from (None for the output layer);
    ``note``: a remark on the update (None when there is nothing to say).
    """

    gradient: str
    delta: str
    slope: str | None
    terms_header: tuple[str, str, str, str]
    terms: tuple[tuple[str, str, str, str], ...]
    rest: str | None
    next_delta: str | None
    update: str
    note: str | None


def weight_story(s: WeightStory) -> WeightLines:
    """The arithmetic of ``s`` as LaTeX lines and a table, with its numbers to 3
    significant figures (the weight before and after with as many more as the step needs
    to show)."""
    l, i, j, n = s.layer, s.i, s.j, number
    w = f"W_{{{l}}}[{i},{j}]"
    a_in, z, a_out = f"a_{{{l - 1}}}[{i}]", f"z_{{{l}}}[{j}]", f"a_{{{l}}}[{j}]"
    delta = rf"\delta_{{{l}}}[{j}]"
    l2_rule = rf" + \lambda\,{w}" if s.l2 else ""
    l2_numbers = rf" + {_factor(s.l2)} \times {_factor(s.weight_before)}" if s.l2 else ""
    gradient = (rf"{D_LOSS % w} = {a_in} \cdot {delta}{l2_rule} = "
                rf"{_factor(s.a_in)} \times {_factor(s.delta)}{l2_numbers} = {n(s.grad)}")
    slope = None
    terms: tuple[tuple[str, str, str, str], ...] = ()
    rest = next_delta = None
    if s.output:
        error = rf"{a_out} - y[{j}]"
        assert s.target is not None
        error_numbers = rf"{n(s.a_out)} - {n(s.target)}"
        if s.slope is None:
            delta_line = rf"{delta} = {error} = {error_numbers} = {n(s.delta)}"
        else:
            g = rf"{a_out}\,(1 - {a_out})" if s.output_name == "sigmoid" else f"g({a_out})"
            delta_line = (rf"{delta} = ({error}) \cdot {g} = ({error_numbers}) \times "
                          rf"{_factor(s.slope)} = {n(s.delta)}")
    else:
        assert s.slope is not None and s.back_sum is not None
        f = _symbol(ACTIVATIONS[s.activation].latex)
        rule = ACTIVATIONS[s.activation].latex_grad
        slope = (rf"{f}'({z}) = {n(s.slope)} \qquad \text{{with }} {z} = {n(s.z)},\ "
                 rf"{a_out} = {n(s.a_out)}; \qquad {rule}")
        total = rf"\sum_k W_{{{l + 1}}}[{j},k]\,\delta_{{{l + 1}}}[k]"
        delta_line = (rf"{delta} = {f}'({z}) \cdot {total} = {_factor(s.slope)} \times "
                      rf"{_factor(s.back_sum)} = {n(s.delta)}")
        terms = tuple((str(t.k), number_text(t.weight), number_text(t.delta),
                       number_text(t.product)) for t in s.terms)
        if s.rest_count:
            more = "term" if s.rest_count == 1 else "terms"
            rest = (f"… and {s.rest_count} more {more} summing to "
                    f"{number_text(s.rest_sum)}; all {len(s.terms) + s.rest_count} sum to "
                    f"{number_text(s.back_sum)}.")
        else:
            rest = f"All {len(s.terms)} terms sum to {number_text(s.back_sum)}."
        if l + 1 == s.n_layers:
            next_delta = (rf"\delta_{{{l + 1}}}[k] = a_{{{l + 1}}}[k] - y[k]"
                          if s.loss_name == "cross_entropy" else
                          rf"\delta_{{{l + 1}}}[k] = (a_{{{l + 1}}}[k] - y[k])\,"
                          rf"a_{{{l + 1}}}[k]\,(1 - a_{{{l + 1}}}[k])")
        else:
            next_delta = (rf"\delta_{{{l + 1}}}[k] = {f}'(z_{{{l + 1}}}[k]) \cdot "
                          rf"\sum_m W_{{{l + 2}}}[k,m]\,\delta_{{{l + 2}}}[m]")
    digits = _digits_to_show_a_step(s.weight_before, s.step)
    sign = "-" if s.step < 0 else "+"
    update = (rf"{w} \leftarrow {w} - \eta\,g = {n(s.weight_before, digits)} - "
              rf"{_factor(s.lr)} \times {_factor(s.grad)} = {n(s.weight_before, digits)} "
              rf"{sign} {_factor(abs(s.step))} = {n(s.weight_after, digits)}")
    note = None
    if s.weight_after == s.weight_before and s.step != 0 and math.isfinite(s.step):
        note = (f"The step, {number_text(s.step)}, is below the precision of this weight "
                f"({number_text(s.weight_before)}) in the network's numbers: it stays as it is.")
    header = ("k", f"W{l + 1}[{j},k]", f"δ{l + 1}[k]", "product") if not s.output else \
        ("k", "W", "δ", "product")
    return WeightLines(gradient, delta_line, slope, header, terms, rest, next_delta, update,
                       note)
