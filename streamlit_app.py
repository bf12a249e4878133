"""mnist_np dashboard: `streamlit run streamlit_app.py`.

The entry point: page setup, navigation and the shared sidebar (settings and the
Play / Pause / Step / Reset controls). Every page then reads the same training session.
"""

import streamlit as st

from dashboard.sidebar import sidebar

st.set_page_config(page_title="mnist_np: watch backpropagation learn MNIST", page_icon="🧠",
                   layout="wide")

PAGES = {
    "Train": [
        st.Page("pages/train.py", title="Train", icon="📈", default=True),
    ],
    "Inside the network": [
        st.Page("pages/weights.py", title="Weights", icon="🔬"),
        st.Page("pages/gradients.py", title="Gradients", icon="📉"),
        st.Page("pages/mistakes.py", title="Mistakes", icon="❌"),
        st.Page("pages/backprop.py", title="Backprop, step by step", icon="🔁"),
        st.Page("pages/network.py", title="Network diagram & neuron lab", icon="🕸️"),
        st.Page("pages/by_hand.py", title="Backprop by hand", icon="🧮"),
    ],
    "What it learned": [
        st.Page("pages/hidden_map.py", title="Hidden-layer map", icon="🗺️"),
        st.Page("pages/robustness.py", title="Robustness", icon="🛡️"),
        st.Page("pages/pixels.py", title="Back to the pixels", icon="🎯"),
    ],
    "Experiment": [
        st.Page("pages/experiments.py", title="Experiments", icon="🧪"),
        st.Page("pages/draw.py", title="Draw a digit", icon="✏️"),
    ],
}

navigation = st.navigation(PAGES)
sidebar()
navigation.run()
