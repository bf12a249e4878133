"""Back to the pixels: backpropagation carried one layer further, to the input. Which
pixels matter to an answer, the smallest change that fools the network, and what the
network thinks each digit looks like."""

import streamlit as st

from dashboard.figures.base import class_names
from dashboard.page import (
    HEAVY_REFRESH_SECONDS,
    live_fragment,
    not_trained_note,
    page_header,
    page_session,
)
from dashboard.sections import pixels as section
from mnist_np.pixels import FGSM, ITERATIVE

SALIENCY, ATTACK, DREAMS = "saliency", "attack", "dreams"

session = page_session()
page_header("Back to the pixels", session)
names, noun = class_names(len(session.data.classes), session.data.classes)
one = section.thing(names)  # "digit", or "image" for other data sets
st.caption("Backpropagation does not have to stop at the first layer's weights: one more "
           "step of the chain rule gives the gradient of the loss with respect to every "
           "pixel of the input. It says which pixels the answer depends on, how to fool the "
           f"network, and what it looks for in each {noun}.")
VIEWS = {SALIENCY: "Saliency map", ATTACK: f"Adversarial {one}",
         DREAMS: f"What it thinks each {noun} looks like"}
view = st.radio("Show", list(VIEWS), format_func=VIEWS.get, horizontal=True, key="pixels_view")
controls = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
CLASSES = [None, *range(len(names))]
if view != DREAMS:
    source = controls.selectbox(one.capitalize(), section.SOURCES, key="pixels_source",
                                width=180)
    if source == section.TEST:
        n = len(session.data.y_test)
        number = controls.number_input(f"Test {one} (0 to {n - 1:,})", 0, n - 1, 0,
                                       key="pixels_index", width=170)
    elif source == section.MISTAKE:
        number = controls.number_input("Mistake (1 = the most confident)", 1, None, 1,
                                       key="pixels_mistake", width=230)
    else:
        number = 0
if view == SALIENCY:
    target = controls.selectbox("Saliency for", CLASSES, key="pixels_target", width=180,
                                placeholder="its answer",  # None, also once cleared
                                format_func=lambda c: "its answer" if c is None else names[c])
elif view == ATTACK:
    method = controls.radio("Attack", [FGSM, ITERATIVE], horizontal=True, key="pixels_method",
                            format_func=lambda m: "FGSM (one step)" if m == FGSM else
                            "iterative (up to 20 steps)")
    goal = controls.selectbox("Make it read", CLASSES, key="pixels_goal", width=180,
                              placeholder=f"any other {noun}",  # None, also once cleared
                              format_func=lambda c: f"any other {noun}" if c is None
                              else names[c])


def draw(session):
    net, version = session.network_copy()
    not_trained_note(session, "Not trained yet: this freshly initialised network's "
                     "gradients show what random weights respond to. Press ▶ Play in the "
                     "sidebar and watch the maps and pictures take shape.")
    if view == DREAMS:
        section.dreams_view(session, net, version, names)
        return
    digit = section.choose(session, net, version, source, number)
    if digit is None:
        return
    if view == SALIENCY:
        section.saliency_view(session, net, version, digit, target, names)
    else:
        section.attack_view(session, net, version, digit, method, goal, names)


live_fragment(session, draw, every=HEAVY_REFRESH_SECONDS)()
