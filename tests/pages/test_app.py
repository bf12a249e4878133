"""The entry script headless with AppTest: the app as it opens, its settings from the URL
and back, a notice's lifetime, and every registered page with a diverged network."""

import pytest

from dashboard import settings as cfg
from dashboard.page import Notice
from dashboard.session import READY
from dashboard.settings import Settings


def _params(at) -> dict:
    """The URL's query parameters after a run, as single strings."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def test_app_opens_with_controls_data_and_charts(app):
    at = app().run()
    assert not at.exception and not at.error
    assert {"play", "step", "reset"} <= {b.key for b in at.button}
    assert any("Data:" in c.value for c in at.sidebar.caption) or at.sidebar.warning
    assert len(at.get("plotly_chart")) == 2
    assert at.session_state["session"].state == READY


def test_a_notice_outlives_the_redraw_when_training_ends_but_not_the_next_click(app):
    at = app().run()
    at.session_state["notice"] = Notice("Settings changed the network, so it was reset")
    at.run()
    assert "Settings changed the network, so it was reset" in [i.value for i in at.info]
    at.session_state["notice"].redraw = True  # what the live fragment sets when a run ends
    at.run()
    assert "Settings changed the network, so it was reset" in [i.value for i in at.info]
    at.button(key="step").click().run()  # the user's next action: the notice has been read
    assert not any("so it was reset" in i.value for i in at.info)


def test_settings_come_from_the_url_and_go_back_into_it(app):
    query = {"hidden": "64,32", "act": "tanh", "lr": "0.05", "batch": "64", "seed": "7"}
    at = app(query).run()
    session = at.session_state["session"]
    assert session.settings.hidden == (64, 32) and session.settings.activation == "tanh"
    assert session.settings.lr == 0.05 and session.settings.seed == 7
    assert at.number_input(key="cfg_units_1").value == 32
    assert _params(at) == query
    at.selectbox(key="cfg_activation").set_value("sigmoid").run()
    assert _params(at)["act"] == "sigmoid"
    assert cfg.from_query(_params(at))[0] == at.session_state["session"].settings


def test_invalid_url_values_warn_and_do_not_crash(app):
    at = app({"lr": "fast", "hidden": "0", "colour": "red", "preset": "nope"}).run()
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    for words in ("lr=", "hidden=", "colour", "preset="):
        assert words in text
    assert at.session_state["session"].settings == Settings()


def test_a_repeated_url_parameter_warns_and_the_last_value_is_used(app):
    at = app({"lr": ["0.1", "0.05"]}).run()
    assert not at.exception and at.session_state["session"].settings.lr == 0.05
    assert any("'lr' was given 2 times" in w.value for w in at.warning)


def _page_files() -> list[str]:
    """The page files that streamlit_app.py registers with st.Page."""
    import re

    from ..conftest import REPO

    return re.findall(r'st\.Page\("([^"]+)"', (REPO / "streamlit_app.py").read_text())


@pytest.mark.parametrize("page", _page_files())
def test_every_page_copes_with_a_diverged_network(diverged, page):
    # overflow in a forward pass is an expected outcome here, not a crash
    # (pytest turns any overflow warning into an error)
    diverged.switch_page(page).run()
    assert not diverged.exception, diverged.exception
    assert len(_page_files()) >= 9
