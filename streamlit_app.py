"""mnist_np dashboard: `streamlit run streamlit_app.py`.

The entry point: page setup, navigation and the shared sidebar (settings and the
Play / Pause / Step / Reset controls). Every page then reads the same training session.
"""

import streamlit as st
import streamlit.delta_generator
from streamlit import runtime

from dashboard.sidebar import sidebar

if runtime.exists():  # under `streamlit run`, not a Python REPL
    # The first element a process draws asks inspect.stack() whether it runs in a REPL,
    # to print a hint there, which resolves the path of every loaded module: 0.1 s on a
    # quiet machine, 0.5-0.7 s on a busy one, before the first page can be sent
    # (benchmarks/startup.py). A private flag of Streamlit 1.67: if it goes, this is moot.
    streamlit.delta_generator._use_warning_has_been_displayed = True

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
