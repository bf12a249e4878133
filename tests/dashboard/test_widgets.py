"""dashboard.widgets: sidebar widget state that Streamlit dropped comes back from the
session's settings (run inside a one-function AppTest, for a real st.session_state)."""


def _restore_app():
    import streamlit as st

    from dashboard.settings import Settings
    from dashboard.widgets import restore_missing_widgets

    st.session_state.setdefault("cfg_epochs", 3)  # still there: kept as the user set it
    restore_missing_widgets(Settings(hidden=(64, 32), epochs=9, lr=0.05))
    state = st.session_state
    st.markdown(f"{state.cfg_units_1} {state.cfg_epochs} {state.cfg_lr} {state.cfg_n_hidden}")


def test_dropped_widget_state_comes_back_from_the_session_settings():
    # A page switch can end a run before the sidebar is drawn, and Streamlit then drops
    # the sidebar widgets' state; their defaults (1 unit, 1 epoch) must not rebuild the
    # network, so what is missing is restored from the session's settings.
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_restore_app).run()
    assert at.markdown[0].value.split() == ["32", "3", "0.05", "2"] and not at.exception
