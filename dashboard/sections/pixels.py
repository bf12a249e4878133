"""The "Back to the pixels" page's sections: which digit (a test digit, a mistake, the
drawing from the Draw page), its saliency map, an adversarial version of it, and the input
each class likes best; each drawn from what :mod:`mnist_np.pixels` computed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import streamlit as st

from mnist_np import MLP
from mnist_np import pixels as px
from mnist_np.metrics import confident_mistakes
from mnist_np.preprocess import to_mnist

from ..canvas import decode_image
from ..figures.base import class_names
from ..figures.pixels import attack_figure, dreams_figure, epsilon_figure, saliency_figure
from ..figures.robustness import answer_figure
from ..markdown import plain
from ..page import HEAVY_REFRESH_SECONDS, cached_view, freshness_caption
from ..session import TrainingSession

TEST, MISTAKE, DRAWING = "From the test set", "A mistake", "Your drawing"
SOURCES = (TEST, MISTAKE, DRAWING)
DRAWING_KEY = "draw_canvas_kept"  # where the Draw page's canvas keeps the drawing
CACHE = "pixels_cache"
FIGURE_WIDTH, ANSWER_WIDTH = 520, 330  # pixels: side by side, the answer below when narrow


@dataclass(frozen=True)
class Digit:
    """The image the views work on: ``x: (784,)``, its ``label`` (None for a drawing),
    ``name`` for the captions (Markdown, any class names in it escaped) and ``key`` for
    the caches."""

    x: np.ndarray
    label: int | None
    name: str
    key: tuple


def thing(names: Sequence[str]) -> str:
    """What one image is called: "digit" for MNIST, "image" for other data sets."""
    return "digit" if class_names(len(names), names)[1] == "digit" else "image"


def _predictions(session: TrainingSession, net: MLP, version: int) -> np.ndarray | None:
    view = cached_view(session, CACHE, "test predictions", version,
                       lambda: net.predict_proba(session.data.X_test),
                       every=HEAVY_REFRESH_SECONDS, what="mistakes")
    return None if view is None else view[0]


def choose(session: TrainingSession, net: MLP, version: int, source: str,
           number: int) -> Digit | None:
    """The digit chosen with ``source`` and ``number`` (a test digit's index, or a
    mistake's rank from 1), or None after saying why there is none."""
    X, y, names = session.data.X_test, session.data.y_test, session.data.classes
    if source == TEST:
        i = min(max(int(number), 0), len(y) - 1)
        return Digit(X[i], int(y[i]), f"test {thing(names)} {i:,}", ("test", i))
    if source == MISTAKE:
        proba = _predictions(session, net, version)
        if proba is None:
            return None
        wrong = confident_mistakes(proba, y)
        if not len(wrong):
            st.info("The network reads every test digit right: there is no mistake to show.")
            return None
        k = min(max(int(number), 1), len(wrong))
        i = int(wrong[k - 1])
        if k < int(number):
            st.caption(f"There are only {len(wrong):,} mistakes; this is the last one.")
        true, read = plain(names[int(y[i])]), plain(names[int(proba[i].argmax())])
        return Digit(X[i], int(y[i]), f"mistake {k:,} of {len(wrong):,} (test "
                     f"{thing(names)} {i:,}: {true} read as {read})", ("test", i))
    try:
        image = decode_image(st.session_state.get(DRAWING_KEY))
        x = None if image is None else to_mnist(image)
    except ValueError as e:
        st.error(f"Your drawing cannot be used: {e}.")
        return None
    if x is None:
        st.info("Nothing drawn yet: draw a digit on the Draw a digit page, then come back "
                "here to see what the network makes of its pixels.")
        st.page_link("pages/draw.py", label="Draw a digit", icon="✏️")
        return None
    x = x.ravel()
    return Digit(x, None, "your drawing", ("drawing", x.tobytes()))


def _row():
    """A row whose charts wrap onto the next line in a narrow window (columns would
    squeeze them)."""
    return st.container(horizontal=True, gap="medium", vertical_alignment="top")


def _saliency(net: MLP, digit: Digit, target: int | None, names: Sequence[str]):
    s = px.saliency(net, digit.x, target)
    return s, saliency_figure(s.x, s.gradient, names[s.target]), answer_figure(
        s.proba, digit.label, classes=names)


def saliency_view(session: TrainingSession, net: MLP, version: int, digit: Digit,
                  target: int | None, names: Sequence[str]) -> None:
    """The digit's saliency map for ``target`` (None: the network's answer), and its
    answer (computed once per network state: see ``cached_view``)."""
    view = cached_view(session, CACHE, ("saliency", digit.key, target), version,
                       lambda: _saliency(net, digit, target, names),
                       every=HEAVY_REFRESH_SECONDS, what="saliency map")
    if view is None:  # a network that overflows: cached_view said why
        return
    s, figure, answer = view[0]
    row = _row()
    row.plotly_chart(figure, key="pixels_saliency", width=FIGURE_WIDTH)
    row.plotly_chart(answer, key="pixels_saliency_answer", width=ANSWER_WIDTH)
    named = "its answer, " if target is None else ""
    chosen = plain(names[s.target])
    st.caption(
        f"Minus the gradient of the loss with respect to each pixel of {digit.name} "
        f"(−∂L/∂x, the way down the loss), with the label set to {named}{chosen}: "
        "backpropagation carried one layer past W₁ (∂L/∂a₀ = δ₁W₁ᵀ). Red pixels: more "
        "ink there would make the network more sure of "
        f"{chosen}; blue: less sure; white pixels barely matter. The colour bar "
        "gives the size: tiny numbers when the network is already sure, as there is "
        "little loss left to lose.")


def attack_view(session: TrainingSession, net: MLP, version: int, digit: Digit,
                method: str, target: int | None, names: Sequence[str]) -> None:
    """The smallest change (of the sizes tried) that changes the answer, by ``method``."""
    view = cached_view(session, CACHE, ("attack", digit.key, method, target), version,
                       lambda: px.attack(net, digit.x, method, target),
                       every=HEAVY_REFRESH_SECONDS, what="adversarial digit")
    if view is None:
        return
    a, at = view
    before = (names[a.answer_before], float(a.before.max()))
    after = (names[a.answer_after], float(a.after.max()))
    largest = float(a.epsilons[-1])
    shown = a.epsilon if a.succeeded else largest
    row = _row()
    row.plotly_chart(attack_figure(a.x, a.x_adv, shown, before, after), key="pixels_attack",
                     width=FIGURE_WIDTH)
    row.plotly_chart(answer_figure(a.after, digit.label, title="After the change",
                                   classes=names),
                     key="pixels_attack_answer", width=ANSWER_WIDTH)
    st.plotly_chart(epsilon_figure(a.epsilons, a.flipped, a.epsilon), key="pixels_epsilons")
    _, noun = class_names(len(names), names)
    goal = f"any other {noun}" if target is None else plain(names[target])
    how = ("FGSM moves every pixel by ε, up or down, in the direction that raises the "
           "loss of the current answer (the sign of ∂L/∂x), in one step"
           if method == px.FGSM else
           f"The iterative attack takes {a.steps} such steps of {a.step_factor:g}·ε/"
           f"{a.steps} each, recomputing the gradient every time and never moving a pixel "
           "more than ε from where it started")
    if target is not None:
        how += f" (here: lowering the loss of {plain(names[target])})"
    if a.succeeded:
        result = (f"The smallest ε that works is **{a.epsilon:g}**: with no pixel changed "
                  f"by more than {a.epsilon:g}, the network reads {plain(names[a.answer_after])} "
                  f"instead of {plain(names[a.answer_before])} ({a.after.max():.0%} sure).")
    else:
        result = (f"No ε up to {largest:g} makes it read {goal}; shown is the attempt at "
                  f"ε = {largest:g}.")
    st.caption(f"{how}. Tried: ε from {float(a.epsilons[0]):g} to {largest:g} in steps of "
               f"{float(a.epsilons[1] - a.epsilons[0]):g} (each bar above: orange where the "
               f"answer changed, grey where it did not), aiming at "
               f"{goal}. {result}")
    freshness_caption(session, at, HEAVY_REFRESH_SECONDS)


def dreams_view(session: TrainingSession, net: MLP, version: int,
                names: Sequence[str]) -> None:
    """The input each class likes best (regularised gradient ascent)."""
    view = cached_view(session, CACHE, "dreams", version, lambda: px.dream(net),
                       every=HEAVY_REFRESH_SECONDS, what="pictures")
    if view is None:
        return
    d, at = view
    _, noun = class_names(len(names), names)
    st.plotly_chart(dreams_figure(d.X, [names[c] for c in d.classes], d.confidence),
                    key="pixels_dreams", width="stretch")
    st.caption(
        f"Each image starts as a faint grey ({d.start:g} in every pixel); {d.steps} steps of "
        "gradient ascent then add ink where "
        f"the gradient says it raises the network's output for that {noun} (each step moves "
        f"the most useful pixel by {d.rate:g}), while a penalty ({d.l2:g}·x) fades ink "
        f"that does not help and a slight blur (σ = {d.sigma:g} pixel) keeps strokes "
        f"smooth. Above each: the network's output for its {noun}. A network of fully "
        "connected layers has no notion of strokes or shapes, so what it likes best is a "
        "blurry sketch, not a clean example.")
    freshness_caption(session, at, HEAVY_REFRESH_SECONDS)
