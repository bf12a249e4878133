"""Models in and out: the checks on an uploaded file, and the sidebar's download and
upload with AppTest (a good file, and every kind of bad one)."""

import io
import json

import numpy as np
import pytest

from dashboard.model_io import read_model
from dashboard.settings import Settings
from mnist_np import MLP, ModelFileError

from .test_experiments import downloads  # noqa: F401 (a fixture)


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def npz_compressed(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def arrays_of(net: MLP) -> dict:
    with np.load(io.BytesIO(net.to_bytes())) as f:
        return {k: f[k] for k in f.files}


def with_config(net: MLP, **changes) -> bytes:
    arrays = arrays_of(net)
    config = json.loads(str(arrays["config"])) | changes
    arrays["config"] = np.array(json.dumps(config))
    return npz(**arrays)


def without(net: MLP, name: str) -> bytes:
    arrays = arrays_of(net)
    del arrays[name]
    return npz(**arrays)


def reshaped(net: MLP, name: str, shape) -> bytes:
    arrays = arrays_of(net)
    arrays[name] = np.zeros(shape, np.float32)
    return npz(**arrays)


NET = MLP([784, 32, 16, 10], activation="tanh", init="xavier", l2=1e-4, seed=5)
BAD = {
    "not an npz": (b"this is a text file, not a model", "not an .npz file"),
    "pickled objects": (npz(config=np.array("{}"), W0=np.array([{"a": 1}], dtype=object)),
                        "refused: the file holds pickled objects"),
    "no config": (npz(W0=np.zeros((784, 10))), "no 'config' entry"),
    "missing array": (without(NET, "b1"), "array b1 is missing"),
    "wrong shape": (reshaped(NET, "W1", (32, 17)), "array W1 has shape (32, 17)"),
    "unknown activation": (with_config(NET, activation="swish"), "unknown activation 'swish'"),
    "unknown format": (with_config(NET, format="other/9"), "unknown model format"),
    "not MNIST-sized": (MLP([100, 16, 3]).to_bytes(),
                        "takes 100 inputs and gives 3 outputs; MNIST needs 784 and 10"),
    "too wide": (MLP([784, 2000, 10]).to_bytes(), "exceed the dashboard's limit of 1024"),
    "too deep": (MLP([784, 8, 8, 8, 8, 8, 10]).to_bytes(), "5 hidden layers"),
    "L2 too large": (MLP([784, 8, 10], l2=5.0).to_bytes(), "L2 of 5 exceeds"),
    "negative seed": (with_config(NET, seed=-3), "the seed must be a whole number >= 0"),
    "seed not a number": (with_config(NET, seed="abc"), "the seed must be a whole number"),
    "huge layers": (with_config(NET, layer_sizes=[784, 10**12, 10]), "more than the 64.0 MB"),
    "packed too big": (npz_compressed(config=np.array("{}"), W0=np.zeros((3000, 3000))),
                       "unpacks to 68.7 MB; at most 64.0 MB"),
}


# -- the checks, without Streamlit -----------------------------------------------------------
def test_a_saved_network_is_read_back_with_settings_that_describe_it():
    base = Settings(lr=0.05, batch_size=64, epochs=3)
    net, settings = read_model(NET.to_bytes(), base)
    for W, W_saved in zip(net.weights + net.biases, NET.weights + NET.biases):
        np.testing.assert_array_equal(W, W_saved)
    assert settings == Settings(hidden=(32, 16), activation="tanh", init="xavier", l2=1e-4,
                                seed=5, lr=0.05, batch_size=64, epochs=3)
    assert settings.net_config() == {k: v for k, v in NET.config.items() if k != "dtype"}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_file_is_refused_with_one_line(case):
    raw, message = BAD[case]
    with pytest.raises(ModelFileError) as e:
        read_model(raw, Settings())
    assert message in str(e.value) and "\n" not in str(e.value)


# -- AppTest ---------------------------------------------------------------------------------
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
    assert message in error.value and "bad.npz was refused" in error.value
    assert "current network is kept" in error.value
    assert session.net is net and np.array_equal(session.net.weights[0], weights)
    upload(at, NET.to_bytes())  # a good file afterwards is taken, and the message goes
    assert session.net.layer_sizes == NET.layer_sizes and not at.sidebar.error


def test_the_download_is_the_current_network(app, downloads):  # noqa: F811
    at = app().run()
    at.button(key="step").click().run()
    session = at.session_state["session"]
    (name,) = [n for n in downloads if n and n.endswith(".npz")]
    assert name == "mnist_np-784-256-10.npz"
    saved = MLP.load(io.BytesIO(downloads[name]()))
    assert saved.config == session.net.config
    for a, b in zip(saved.weights + saved.biases, session.net.weights + session.net.biases):
        np.testing.assert_array_equal(a, b)
