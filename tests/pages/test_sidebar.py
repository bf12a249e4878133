"""The sidebar headless with AppTest: Play / Pause / Step, presets, settings that reset the
network or apply live, the values it sends the browser, and the model file panel (download,
and upload of a good file and of every kind of bad one)."""

import io
import time

import numpy as np
import pytest

from dashboard import settings as cfg
from dashboard.markdown import plain
from dashboard.session import FINISHED, PAUSED, RUNNING
from mnist_np import MLP, PRESETS

from ..dashboard.model_files import BAD, NET


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


def upload(at, raw: bytes, name: str = "model.npz"):
    return at.file_uploader(key="model_upload").upload(name, raw, "application/octet-stream").run()


def test_uploading_a_network_replaces_it_everywhere_and_sets_the_sidebar(app):
    at = app({"colour": "red"}).run()
    assert any("colour" in w.value for w in at.warning)
    at.button(key="step").click().run()
    session = at.session_state["session"]
    upload(at, NET.to_bytes(), "mine.npz")
    assert not at.exception and not at.error
    assert session.net.layer_sizes == [784, 32, 16, 10]
    np.testing.assert_array_equal(session.net.weights[1], NET.weights[1])
    assert session.settings.hidden == (32, 16) and session.settings.activation == "tanh"
    assert at.slider(key="cfg_n_hidden").value == 2
    assert [at.number_input(key=f"cfg_units_{i}").value for i in (0, 1)] == [32, 16]
    assert at.selectbox(key="cfg_activation").value == "tanh"
    assert any("Loaded mine.npz" in i.value for i in at.info)
    assert not at.warning  # the URL's warning was about the network just replaced
    assert len(session.runs) == 1  # the run it replaced is in the experiments log
    for page in ("weights", "gradients", "mistakes", "backprop", "hidden_map", "robustness"):
        at.switch_page(f"pages/{page}.py").run()  # a loaded network is not a fresh one
        assert not at.exception and not any("ot trained yet" in i.value for i in at.info)
    at.switch_page("pages/experiments.py").run()  # other pages use it, nothing is reset
    assert session.net.layer_sizes == [784, 32, 16, 10] and session.trainer.step_count == 0
    np.testing.assert_array_equal(session.net.weights[0], NET.weights[0])
    at.button(key="step").click().run()  # and it trains on from the uploaded weights
    assert session.trainer.step_count == 1
    assert not np.array_equal(session.net.weights[0], NET.weights[0]) and not at.exception


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_upload_is_refused_and_the_network_kept(app, case):
    raw, message = BAD[case]
    at = app().run()
    session = at.session_state["session"]
    net, weights = session.net, session.net.weights[0].copy()
    upload(at, raw, "bad.npz")
    assert not at.exception
    (error,) = at.sidebar.error
    assert plain(message) in error.value and "bad.npz was refused" in error.value
    assert "current network is kept" in error.value
    assert session.net is net and np.array_equal(session.net.weights[0], weights)
    upload(at, NET.to_bytes())  # a good file afterwards is taken, and the message goes
    assert session.net.layer_sizes == NET.layer_sizes and not at.sidebar.error


def test_the_download_is_the_current_network(app, downloads):
    at = app().run()
    at.button(key="step").click().run()
    session = at.session_state["session"]
    (name,) = [n for n in downloads if n and n.endswith(".npz")]
    assert name == "mnist_np-784-256-10.npz"
    saved = MLP.load(io.BytesIO(downloads[name]()))
    assert saved.config == session.net.config
    for a, b in zip(saved.weights + saved.biases, session.net.weights + session.net.biases):
        np.testing.assert_array_equal(a, b)


def test_a_huge_file_name_is_cut_in_the_messages(app):
    at = app().run()
    name = "x" * 5000 + ".npz"
    upload(at, b"not a zip", name)
    (error,) = at.sidebar.error
    assert len(error.value) < 400 and "5,004 characters" in error.value
    upload(at, NET.to_bytes(), name)
    (notice,) = [i for i in at.info if "Loaded" in i.value]
    assert len(notice.value) < 600 and "5,004 characters" in notice.value


def test_a_downloaded_training_file_uploaded_again_goes_on_where_it_stopped(app,
                                                                             downloads):
    at = app({"hidden": "16", "opt": "adam", "lr": "0.003", "train": "1000",
              "batch": "100", "epochs": "3"}).run()
    session = at.session_state["session"]
    for _ in range(6):
        at.button(key="step").click().run()
    (name,) = [n for n in downloads if n and n.endswith(".npz")]
    raw = downloads[name]()
    at.button(key="reset").click().run()
    at.select_slider(key="cfg_lr").set_value(0.05).run()  # other settings meanwhile
    upload(at, raw, "mine.npz")
    assert not at.exception and not at.sidebar.error
    assert session.trainer.step_count == 6 and session.settings.lr == 0.003
    assert session.settings.optimizer == "adam" and at.query_params["lr"] == "0.003"
    assert at.select_slider(key="cfg_lr").value == 0.003
    assert any("trained 6 steps" in i.value for i in at.info)
    assert len(session.trainer.history) == 6  # the curves are back
    at.button(key="step").click().run()
    assert session.trainer.step_count == 7


def test_augmentation_from_the_url_shows_in_its_sliders_trains_and_resets_when_changed(app):
    at = app({"rot": "15", "elastic": "34", "hidden": "16", "train": "500"}).run()
    session = at.session_state["session"]
    assert at.slider(key="cfg_aug_rotate").value == 15.0
    assert at.slider(key="cfg_aug_elastic").value == 34.0
    assert session.trainer.config.aug_rotate == 15.0
    assert session.trainer.config.augmentation.active
    at.button(key="step").click().run()
    assert session.trainer.step_count == 1
    at.slider(key="cfg_aug_noise").set_value(0.1).run()
    assert session.trainer.step_count == 0 and session.trainer.config.aug_noise == 0.1
    assert at.query_params["noise"] == "0.1" and at.query_params["rot"] == "15"
    assert not at.exception


def test_dropout_stopping_and_optimizer_knobs_from_the_url_show_train_and_reset(app):
    at = app({"dropout": "0.3", "patience": "2", "target": "0.995", "val": "1000",
              "mu": "0.8", "eps": "1e-06", "hidden": "16", "train": "500"}).run()
    session = at.session_state["session"]
    assert at.select_slider(key="cfg_dropout").value == 0.3
    assert at.number_input(key="cfg_patience").value == 2
    assert at.number_input(key="cfg_target").value == 99.5
    assert at.select_slider(key="cfg_val_size").value == 1000
    assert at.select_slider(key="cfg_momentum").value == 0.8
    assert at.select_slider(key="cfg_eps").value == 1e-6
    c = session.trainer.config
    assert (c.dropout, c.patience, c.target_accuracy, c.val_size) == (0.3, 2, 0.995, 1000)
    assert session.trainer.optimizer.mu == 0.8 and len(session.trainer.X_val) == 1000
    at.button(key="step").click().run()
    assert session.trainer.step_count == 1
    at.select_slider(key="cfg_dropout").set_value(0.5).run()  # a new run: reset
    assert session.trainer.step_count == 0 and session.trainer.config.dropout == 0.5
    assert at.query_params["dropout"] == "0.5" and at.query_params["target"] == "0.995"
    at.number_input(key="cfg_target").set_value(0.0).run()  # off
    assert session.trainer.config.target_accuracy is None and "target" not in at.query_params
    assert not at.exception


def test_a_run_stopped_by_its_target_says_so_in_the_sidebar_and_the_runs_table(app):
    at = app({"target": "0.5", "val": "1000", "hidden": "32", "train": "1000",
              "epochs": "30"}).run()
    session = at.session_state["session"]
    at.button(key="play").click().run()
    session.join(60)
    at.run()
    assert session.state == FINISHED and session.trainer.completed_epochs < 30
    caption = " ".join(c.value for c in at.sidebar.caption)
    assert "Target reached at epoch" in caption, caption
    assert session.runs[0].ending.startswith("Target reached at epoch")
    assert not at.exception
