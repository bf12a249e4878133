"""The dashboard frame and the Train page, headless with AppTest, plus the pieces under
it (settings, the training session, the Train figures) without Streamlit."""

import time
from dataclasses import replace

import numpy as np
import pytest

from dashboard import settings as cfg
from dashboard.figures.base import smooth
from dashboard.figures.train import accuracy_figure, loss_figure
from dashboard.page import Notice
from dashboard.session import DIVERGED, FINISHED, PAUSED, READY, RUNNING, TrainingSession
from dashboard.settings import Settings
from mnist_np import PRESETS, EpochRecord


# -- AppTest: the app as a user drives it -------------------------------------------
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


def test_step_advances_exactly_one_batch(app):
    at = app().run()
    at.button(key="step").click().run()
    session = at.session_state["session"]
    assert session.trainer.step_count == 1 and session.state == PAUSED
    assert len(session.trainer.history) == 1 and not at.exception


def test_play_trains_in_the_background_and_pause_stops_it(app):
    at = app().run()
    at.button(key="play").click().run()
    session = at.session_state["session"]
    assert session.state == RUNNING and "pause" in {b.key for b in at.button}
    time.sleep(1.0)
    at.run()  # a rerun (as a page switch or a widget change would do) loses nothing
    assert session.trainer.step_count > 10 and session.state == RUNNING
    at.button(key="pause").click().run()
    steps = session.trainer.step_count
    time.sleep(0.3)
    assert session.trainer.step_count == steps and session.state == PAUSED
    assert "play" in {b.key for b in at.button} and not at.exception


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_loads(app, name):
    at = app().run()
    at.selectbox(key="cfg_preset").set_value(name).run()
    session = at.session_state["session"]
    assert session.settings == cfg.from_preset(name)
    assert session.net.layer_sizes == PRESETS[name].net["layer_sizes"]
    assert at.selectbox(key="cfg_preset").value == name and not at.exception


def test_architecture_change_resets_and_says_so_lr_change_applies_live(app):
    at = app().run()
    at.button(key="step").click().run()
    at.button(key="step").click().run()
    session = at.session_state["session"]
    at.select_slider(key="cfg_lr").set_value(0.05).run()
    assert session.trainer.step_count == 2 and session.trainer.lr == 0.05
    at.number_input(key="cfg_units_0").set_value(32).run()
    assert session.trainer.step_count == 0 and session.net.layer_sizes == [784, 32, 10]
    assert any("reset" in i.value for i in at.info)
    assert len(session.runs) == 1 and session.runs[0].steps == 2


def _restore_app():
    import streamlit as st

    from dashboard.settings import Settings
    from dashboard.widgets import restore_missing_widgets

    st.session_state.setdefault("cfg_epochs", 3)  # still there: kept as the user set it
    restore_missing_widgets(Settings(hidden=(64, 32), epochs=9, lr=0.05))
    state = st.session_state
    st.markdown(f"{state.cfg_units_1} {state.cfg_epochs} {state.cfg_lr} {state.cfg_n_hidden}")


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


def test_dropped_widget_state_comes_back_from_the_session_settings():
    # A page switch can end a run before the sidebar is drawn, and Streamlit then drops
    # the sidebar widgets' state; their defaults (1 unit, 1 epoch) must not rebuild the
    # network, so what is missing is restored from the session's settings.
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_restore_app).run()
    assert at.markdown[0].value.split() == ["32", "3", "0.05", "2"] and not at.exception


def test_every_run_tells_the_browser_each_sidebar_value(app):
    # A run cut short (Play clicked while the first run still draws) leaves widgets the
    # browser never saw; drawn later without a value from the server, the browser mounts
    # them at their defaults and sends those back as if the user had chosen them.
    from dashboard.widgets import widget_values

    at = app({"hidden": "100,30", "epochs": "3", "act": "tanh", "lr": "0.05"}).run()
    at.run()
    widgets = {w.key: w for w in at.sidebar if getattr(w, "key", None) in
               widget_values(at.session_state["session"].settings)}
    expected = widget_values(at.session_state["session"].settings)
    assert set(widgets) == set(expected)
    for key, widget in widgets.items():
        assert widget.proto.set_value and widget.value == expected[key], key


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


def test_repeated_and_very_long_url_values_warn_briefly():
    settings, warnings = cfg.from_query({"lr": ["0.1", "0.05"], "hidden": "1" * 5000,
                                         "x" * 3000: "1", "act": "banana" * 500})
    assert settings == Settings(lr=0.05)
    assert warnings[0] == "'lr' was given 2 times; the last one, '0.05', is used"
    assert len(warnings) == 4 and all(len(w) < 250 for w in warnings)  # not 5,000
    assert "(5,000 characters)" in warnings[1] and "(3,000 characters)" in " ".join(warnings)


def test_a_repeated_url_parameter_warns_and_the_last_value_is_used(app):
    at = app({"lr": ["0.1", "0.05"]}).run()
    assert not at.exception and at.session_state["session"].settings.lr == 0.05
    assert any("'lr' was given 2 times" in w.value for w in at.warning)


# -- settings, without Streamlit ------------------------------------------------------
@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_round_trip_through_the_query_string(name):
    settings = cfg.from_preset(name)
    back, warnings = cfg.from_query(cfg.to_query(settings))
    assert back == settings and warnings == []
    assert cfg.matching_preset(settings) == name


def test_query_limits_protect_the_server():
    _, warnings = cfg.from_query({"hidden": "2000", "batch": "0", "epochs": "1000",
                                  "lr": "nan", "train": "5"})
    assert len(warnings) == 5
    settings, warnings = cfg.from_query({"hidden": "none", "train": "all", "steps": "0"})
    assert settings.hidden == () and settings.train_limit is None and not warnings


def test_which_changes_reset_the_network():
    base = Settings()
    assert not Settings(lr=0.01).needs_reset(base)
    assert not Settings(batch_size=32, epochs=9, steps=100).needs_reset(base)
    assert Settings(hidden=(10,)).needs_reset(base)
    assert Settings(optimizer="adam").needs_reset(base)


# -- the training session, without Streamlit -------------------------------------------
def _session(sample, **changes):
    return TrainingSession(sample, Settings(hidden=(16,), **changes))


def test_session_pause_takes_effect_quickly(sample):
    session = _session(sample, steps=cfg.MAX_STEPS)  # cannot finish by itself meanwhile
    session.play()
    time.sleep(0.5)
    start = time.perf_counter()
    session.pause()
    delay = time.perf_counter() - start
    steps = session.trainer.step_count
    time.sleep(0.2)
    print(f"pause took {delay * 1000:.1f} ms after {steps} steps")
    assert session.trainer.step_count == steps > 0 and session.state == PAUSED


def test_session_finishes_records_the_run_and_stops_when_the_user_leaves(sample):
    session = _session(sample, epochs=1, train_limit=500, batch_size=50)
    session.play()
    for _ in range(200):
        if session.state == FINISHED:
            break
        time.sleep(0.05)
    assert session.state == FINISHED and session.test_result is not None
    assert len(session.runs) == 1 and session.runs[0].steps == session.trainer.step_count
    alive = [True]
    leaving = TrainingSession(sample, Settings(hidden=(16,), steps=cfg.MAX_STEPS),
                              lambda: alive[0])
    leaving.play()
    alive[0] = False
    leaving.join(timeout=5)
    assert not leaving.training and leaving.state == PAUSED


def test_fewer_epochs_than_a_paused_run_has_done_finish_it(sample):
    # Play would do nothing on a run that is over, so the run must say it is over.
    session = _session(sample, epochs=3, train_limit=100, batch_size=50)
    for _ in range(5):  # two and a half epochs
        session.step()
    assert session.state == PAUSED
    session.apply_live(replace(session.settings, epochs=2))
    assert session.state == FINISHED and session.test_result is not None
    assert len(session.runs) == 1 and session.runs[0].status == FINISHED
    session.apply_live(replace(session.settings, epochs=4))  # more again: it can go on
    assert session.state == PAUSED
    session.step()
    assert session.trainer.step_count == 6


def test_network_copy_is_consistent_and_independent(sample):
    session = _session(sample)
    session.step()
    net, version = session.network_copy()
    assert version == session.version == 1
    net.weights[0][0, 0] += 1
    assert net.weights[0][0, 0] != session.net.weights[0][0, 0]


def test_a_session_keeps_fewer_weight_snapshots_of_a_big_network(sample):
    # 24 snapshots of a 4 x 1,024-unit network would hold ~380 MB per browser session
    small = TrainingSession(sample, Settings(hidden=(256,), epochs=30, train_limit=100))
    big = TrainingSession(sample, Settings(hidden=(1024,) * 4, epochs=30, train_limit=100,
                                           batch_size=100))  # one step an epoch
    assert small.trainer.max_snapshots == 24 and big.trainer.max_snapshots == 4
    list(big.trainer.run())  # 31 snapshots taken (the start and 30 epochs), thinned
    weights = sum(W.nbytes for W in big.net.weights)
    assert 3 <= len(big.trainer.snapshots) <= 5 and weights > 15e6
    assert big.trainer.snapshots[-1].epoch == 30


def test_session_diverges_visibly(sample):
    session = TrainingSession(sample, cfg.from_preset("exploding"))
    session.play()
    session.join(timeout=30)
    assert session.state == DIVERGED and "learning rate" in session.trainer.message


# -- Train page figures -----------------------------------------------------------------
def test_train_figures_show_batches_and_epochs():
    steps, losses = np.arange(1, 101), np.linspace(2, 0.1, 100)
    epochs = [EpochRecord(1, 50, 1.0, 0.7, 1.1, 0.68, 1.0),
              EpochRecord(2, 100, 0.5, 0.9, 0.6, 0.88, 2.0)]
    fig = loss_figure(steps, losses, epochs)
    names = [t.name for t in fig.data]
    assert names == ["batch loss", "batch loss (moving average)", "train loss (epoch mean)",
                     "validation loss"]
    assert list(fig.data[3].y) == [1.1, 0.6] and fig.layout.yaxis.type == "log"
    assert {0.05, 0.1, 0.2, 0.5, 1.0, 2.0} <= set(fig.layout.yaxis.tickvals)  # full labels
    diverging = loss_figure(steps, np.logspace(0, 30, 100), epochs)  # beyond the 1-2-5 ticks
    # 0.6 (an epoch's validation loss) to 1e30: 30.2 decades, a label every 6
    assert diverging.layout.yaxis.tickvals is None and diverging.layout.yaxis.dtick == 6
    acc = accuracy_figure(steps, np.full(100, 0.5), epochs)
    assert list(acc.data[-1].y) == [0.68, 0.88]
    assert len(loss_figure([], [], []).data) == 0
    np.testing.assert_allclose(smooth([1, 3, 5], window=2), [1, 2, 4])
    long = loss_figure(np.arange(1, 2001), np.linspace(2, 0.1, 2000), [])
    x = np.asarray(long.data[0].x)
    assert len(x) <= 501 and x[0] == 1 and x[-1] == 2000  # thinned, ends kept
    # the moving average is taken before thinning, over every step
    assert long.data[1].y[-1] == pytest.approx(np.linspace(2, 0.1, 2000)[-25:].mean())


# -- every page, with a network that diverged -------------------------------------------
def _page_files() -> list[str]:
    """The page files that streamlit_app.py registers with st.Page."""
    import re

    from .conftest import REPO

    return re.findall(r'st\.Page\("([^"]+)"', (REPO / "streamlit_app.py").read_text())


@pytest.mark.parametrize("page", _page_files())
def test_every_page_copes_with_a_diverged_network(diverged, page):
    # overflow in a forward pass is an expected outcome here, not a crash
    # (pytest turns any overflow warning into an error)
    diverged.switch_page(page).run()
    assert not diverged.exception, diverged.exception
    assert len(_page_files()) >= 9
