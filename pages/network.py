"""Network diagram & neuron lab: the network reading one test digit, live while it trains;
click a unit for its card (what excites it, what it votes for, how it fires), then switch
it off, edit one of its weights, or prune its layer, and see the accuracy per digit change."""

import streamlit as st

from dashboard.page import (
    HEAVY_REFRESH_SECONDS,
    live_fragment,
    not_trained_note,
    page_header,
    page_session,
    quiet_if_diverged,
)
from dashboard.sections import lab as section

session = page_session()
page_header("Network diagram & neuron lab", session)
st.caption("Each column is a layer, each dot a unit. Big layers show their most active units "
           "for the digit, and the heading says how many of how many. Pick a unit to see "
           "what it does, then change it and see what the network loses.")
not_trained_note(session, "Not trained yet: the receptive fields are noise and the units "
                 "respond to nothing in particular. Press ▶ Play in the sidebar and watch "
                 "them change.")

digit, units, edges = st.columns(3)
index = digit.number_input("Test digit #", 0, len(session.data.X_test) - 1, 0,
                           key="network_digit")
max_units = units.slider("Units shown per layer", 4, 32, 16, key="network_units")
top_k = edges.slider("Edges into each unit", 1, 6, 3, key="network_top_k")


def draw(session):
    section.diagram(session, index, max_units, top_k)


live_fragment(session, draw, every=HEAVY_REFRESH_SECONDS)()

st.header("Neuron lab")
with quiet_if_diverged(session):
    shown = section.unit_card(session)
    if shown is not None:
        section.changes(session, *shown)
