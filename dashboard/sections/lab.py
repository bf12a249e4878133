"""The Network page's sections: the live diagram (click a unit to pick it), the chosen
unit's card, and the neuron lab's changes (switch off, edit, prune, undo) applied to the
live network through ``TrainingSession.change_live``."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_np import MLP, lab

from ..figures.base import layer_name
from ..figures.diagram import diagram_figure
from ..figures.images import gallery_figure
from ..figures.lab import (
    activation_figure,
    field_figure,
    per_digit_change_figure,
    pruning_figure,
    unit_from_selection,
    votes_figure,
)
from ..live import digit_subset
from ..markdown import plain
from ..page import HEAVY_REFRESH_SECONDS, cached_view
from ..session import TrainingSession

LAB_DIGITS = 2000  # test digits the card and the accuracies use
# the pruning curve's: 11 points on 1,000 digits take ~2 s for 4 x 1,024 (BENCHMARKS.md)
CURVE_DIGITS = 1000
TOP_DIGITS = 8
LAYER, UNIT, SHOWN_UNIT = "network_layer", "network_unit", "network_card_unit"
MESSAGE = "network_message"


def _pick(layer: int, unit: int) -> None:
    st.session_state[LAYER], st.session_state[UNIT] = layer, unit


def _on_click() -> None:
    picked = unit_from_selection(st.session_state["network_diagram"]["selection"])
    if picked is not None:
        _pick(*picked)


def chosen_unit(net: MLP) -> tuple[int, int]:
    """The unit picked (by a click on the diagram or the two widgets), kept within the
    network's shape: the default is unit 0 of the first layer."""
    L = len(net.weights)
    layer = st.session_state.get(LAYER, 1)
    if layer not in range(1, L + 1):
        layer = 1
    unit = st.session_state.get(UNIT, 0)
    if not isinstance(unit, int) or not 0 <= unit < net.layer_sizes[layer]:
        unit = 0
    if (st.session_state.get(LAYER), st.session_state.get(UNIT)) != (layer, unit):
        _pick(layer, unit)  # the network has fewer layers or units than before
    return layer, unit


def _picked_by_widget() -> None:
    st.session_state[SHOWN_UNIT] = (st.session_state[LAYER], st.session_state[UNIT])


def diagram(session: TrainingSession, index: int, max_units: int, top_k: int) -> None:
    """The network reading test digit ``index``, live; a click picks a unit."""
    net, version = session.network_copy()
    x = session.data.X_test[index]
    if LAYER not in st.session_state:  # open on the first layer's most active unit
        first = lab.diagram_view(net, x, 1, 1).layers[0]
        _pick(1, int(first.units[0]))
    layer, unit = chosen_unit(net)
    found = cached_view(
        session, "network_diagram_cache", (index, max_units, top_k, layer, unit), version,
        lambda: diagram_figure(lab.diagram_view(net, x, max_units, top_k, keep=(layer, unit)),
                               (layer, unit)),
        every=HEAVY_REFRESH_SECONDS, what="diagram", max_entries=2)
    if found is None:
        return
    st.plotly_chart(found[0], key="network_diagram", on_select=_on_click,
                    selection_mode="points")
    st.caption(
        f"Test digit #{index} (a {session.data.y_test[index]}) going through the network. "
        "First-layer units are drawn as their receptive fields (their 784 weights: red "
        "pixels excite them, blue ones inhibit them); deeper units as dots, darker the "
        "more active they are for this digit; grey ones are switched off. Between layers, "
        f"each unit's {top_k} strongest incoming weights among the units shown: red "
        "positive, blue negative, thicker when stronger. Click a unit to open its card.")
    if st.session_state.setdefault(SHOWN_UNIT, (layer, unit)) != (layer, unit):
        st.session_state[SHOWN_UNIT] = (layer, unit)
        st.rerun()  # a click in this live part: the whole page, for the card of that unit


def _card(net: MLP, X: np.ndarray, y: np.ndarray, layer: int, j: int) -> dict:
    """What the card and the pruning curve show of unit ``j`` of ``layer``, from one
    forward pass of ``X`` (its first :data:`CURVE_DIGITS` rows for the curve)."""
    a_layer = lab.activations(net, X, layer)
    a = a_layer[:, j]
    hidden = layer < len(net.weights)
    return {"a": a, "top": lab.top_activating(a, TOP_DIGITS),
            "state": lab.unit_state(net, a) if hidden else None,
            "votes": lab.votes(net, X, layer, j, a=a_layer) if hidden else None,
            "curve": _curve(net, X[:CURVE_DIGITS], y[:CURVE_DIGITS], layer,
                            a_layer[:CURVE_DIGITS]) if hidden else None}


def _subset(session: TrainingSession) -> tuple[np.ndarray, np.ndarray]:
    idx = digit_subset(len(session.data.X_test), LAB_DIGITS)
    return session.data.X_test[idx], session.data.y_test[idx]


def unit_card(session: TrainingSession) -> tuple[MLP, int, int, dict] | None:
    """The chosen unit's card: what excites it, what it votes for, how it fires. Returns
    the network, the unit and what was computed for it (its pruning curve too)."""
    net, version = session.network_copy()
    L = len(net.weights)
    layer, j = chosen_unit(net)
    st.session_state[SHOWN_UNIT] = (layer, j)
    a_col, b_col = st.columns([1, 2])
    a_col.selectbox("Layer", range(1, L + 1), key=LAYER, on_change=_picked_by_widget,
                    format_func=lambda l: f"{layer_name(l, L)} ({net.layer_sizes[l]:,} units)")
    b_col.number_input("Unit", 0, net.layer_sizes[layer] - 1, key=UNIT,
                       on_change=_picked_by_widget, help="Or click a unit in the diagram.")
    X, y = _subset(session)
    found = cached_view(session, "network_card_cache", (layer, j), version,
                        lambda: _card(net, X, y, layer, j), every=HEAVY_REFRESH_SECONDS,
                        what="card for this unit")
    if found is None:
        return None
    card = found[0]
    state = card["state"]
    name = f"{layer_name(layer, L).capitalize()}, unit {j}"
    if state is None:
        st.subheader(f"{name}: the score of digit {j}")
    else:
        part = ("under 1%" if 0 < state.share < 0.01 else
                "over 99%" if 0.99 < state.share < 1 else f"{state.share:.0%}")
        share = f"{'active' if state.kind == 'active' else 'saturated'} for {part} of the digits"
        if lab.silent(net, layer)[j]:
            st.subheader(f"{name}: switched off (still {share})")
        else:
            st.subheader(f"{name}: {state.label} ({share})")
    left, middle, right = st.columns(3)
    with left:
        if layer == 1:
            st.plotly_chart(field_figure(net.weights[0][:, j], "What excites it: its "
                                         "receptive field"), key="network_field")
        st.plotly_chart(activation_figure(card["a"], f"Its activation on {len(X):,} test "
                                          "digits"), key="network_histogram")
    with middle:
        st.markdown(f"**The {TOP_DIGITS} test digits that excite it most** (its activation "
                    "above each)")
        top = card["top"]
        st.plotly_chart(gallery_figure(X[top], [f"{card['a'][i]:.2f}" for i in top],
                                       cols=4, tile_px=70), key="network_top",
                        width="content")
    with right:
        if card["votes"] is not None and lab.silent(net, layer)[j]:
            st.markdown("**The digits it votes for**")
            st.info("None: switched off, its outgoing weights are 0, so it changes no "
                    "digit's score. Undo (below) to see its votes again.")
        elif card["votes"] is not None:
            st.plotly_chart(votes_figure(card["votes"], "The digits it votes for"),
                            key="network_votes")
            st.caption("How much each digit's score (logit) goes up with this unit, on "
                       "average over the test digits: its score with the unit minus its "
                       "score with the unit switched off.")
    return net, layer, j, card


# -- changes -----------------------------------------------------------------------------
def _apply(session: TrainingSession, make) -> None:
    try:
        done = session.change_live(make)
        st.session_state[MESSAGE] = f"Done: {done.what}."
    except ValueError as e:
        st.session_state[MESSAGE] = f"Not changed: {e}."


def _undo(session: TrainingSession) -> None:
    done = session.undo_live()
    st.session_state[MESSAGE] = "Nothing to undo." if done is None else f"Undone: {done.what}."


def _edit(session: TrainingSession, layer: int, j: int) -> None:
    value = st.session_state.network_value
    if st.session_state.network_what == "its bias":
        _apply(session, lambda net: lab.set_bias(net, layer, j, value))
    else:
        i = st.session_state.network_input
        _apply(session, lambda net: lab.set_weight(net, layer, i, j, value))


def changes(session: TrainingSession, net: MLP, layer: int, j: int, card: dict) -> None:
    """Switch the unit off, edit one of its numbers, prune its layer, undo; and what a
    change did to the accuracy per digit."""
    L = len(net.weights)
    hidden = layer < L
    st.subheader("Change it")
    st.caption("Changes apply to the live network at once, also while training runs "
               "(training then goes on from the changed network and may bring a switched-"
               "off unit back: its weights still learn). Each one is kept with the run "
               "(Experiments) and can be undone.")
    off, edit, undo = st.columns([1, 2, 1])
    with off:
        silent = hidden and bool(lab.silent(net, layer)[j])
        st.button("Switch it off", key="network_off", disabled=not hidden or silent,
                  on_click=_apply, args=(session, lambda n: lab.switch_off(n, layer, [j])),
                  help="Sets its outgoing weights to 0: the next layer no longer hears it, "
                       "whatever its activation." if hidden else
                       "An output unit has no outgoing weights to switch off.")
    with edit:
        what = st.radio("Edit", ["its bias", "one incoming weight"], key="network_what",
                        horizontal=True)
        if what == "one incoming weight":
            n_in = net.layer_sizes[layer - 1]
            if st.session_state.get("network_input", 0) >= n_in:
                st.session_state.network_input = 0  # another layer, with fewer inputs
            i = st.number_input(f"from {'pixel' if layer == 1 else 'unit'} i", 0, n_in - 1,
                                key="network_input")
            now = float(net.weights[layer - 1][min(i, n_in - 1), j])
            st.caption(f"now W{layer}[{i}, {j}] = {now:.4g}")
        else:
            st.caption(f"now b{layer}[{j}] = {float(net.biases[layer - 1][j]):.4g}")
        st.number_input("new value", -100.0, 100.0, 0.0, 0.1, key="network_value")
        st.button("Apply", key="network_apply", on_click=_edit, args=(session, layer, j))
    with undo:
        st.button("↩ Undo", key="network_undo", on_click=_undo, args=(session,),
                  disabled=not session.lab_changes, help="Undo the last change")
        if session.lab_changes:
            st.caption("Can be undone, newest last: " + "; ".join(
                plain(c.what) for c in session.lab_changes[-5:]))
        kept = session.runs.changes
        if len(kept) > len(session.lab_changes):
            st.caption(f"This run's {len(kept)} changes so far (kept with it; those made "
                       "before a reload stay in the network but cannot be undone here): "
                       + "; ".join(plain(line) for line in kept[-5:]))
    if MESSAGE in st.session_state:
        st.info(plain(st.session_state.pop(MESSAGE)))
    _before_and_after(session)
    if hidden:
        _pruning(session, net, layer, card["curve"])


def _accuracies(net: MLP, change: lab.Change, X, y) -> tuple[np.ndarray, ...]:
    before = net.copy()
    lab.undo(before, change)
    return (lab.accuracy_per_digit(before, X, y), lab.accuracy_per_digit(net, X, y),
            np.array([before.accuracy(X, y), net.accuracy(X, y)]))


def _before_and_after(session: TrainingSession) -> None:
    if not session.lab_changes:
        return
    net, version = session.network_copy()
    last = session.lab_changes[-1]
    X, y = _subset(session)
    found = cached_view(session, "network_change_cache", ("change", id(last)), version,
                        lambda: _accuracies(net, last, X, y), every=HEAVY_REFRESH_SECONDS,
                        what="accuracy per digit")
    if found is not None:
        before, after, overall = found[0]
        st.plotly_chart(per_digit_change_figure(
            before, after, f"Accuracy per digit on {len(X):,} test digits ({overall[0]:.1%} "
            f"→ {overall[1]:.1%} in all)", last.what), key="network_change")


def _curve(net: MLP, X, y, layer: int, a: np.ndarray):
    """``a``: the layer's activations for ``X``."""
    scores = lab.importance(net, X, layer, a=a)
    ks = lab.curve_points(net.layer_sizes[layer])
    return ks, lab.pruning_curve(net, X, y, layer, ks, scores, a=a), scores, len(X)


def _pruning(session: TrainingSession, net: MLP, layer: int, curve) -> None:
    n = net.layer_sizes[layer]
    st.subheader(f"Prune hidden layer {layer}")
    ks, accuracy, scores, n_digits = curve
    k = st.slider("k least important units", 0, n, min(n // 4, n), key="network_k")
    st.plotly_chart(pruning_figure(ks, accuracy, n, layer, k), key="network_pruning")
    st.caption(f"Accuracy on {n_digits:,} test digits. A unit's importance: how far it can "
               "move the next layer (its mean |activation| times the length of its outgoing "
               "weights). "
               "The curve switches off the k least important on a copy; the button does "
               "it to the live network.")
    st.button(f"Prune the {k} least important units", key="network_prune", disabled=k == 0,
              on_click=_apply, args=(session, lambda n_: lab.prune(n_, layer, k, scores)))
