"""The network: gradients against finite differences, a hand-worked example, stability,
determinism and files."""

import io
import json
import zipfile

import numpy as np
import pytest

from mnist_np import ACTIVATIONS, MLP, OUTPUT_LOSSES, ConfigError, ModelFileError
from mnist_np.network import Buffers, brief, input_columns, parse_hidden


def _batch(n_in, n_out, n=5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    Y = np.eye(n_out)[rng.integers(0, n_out, n)]
    return X, Y


def _relative_error(a, b):
    return np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-12)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output,loss", sorted(OUTPUT_LOSSES))
@pytest.mark.parametrize("sizes", [[6, 4], [6, 5, 4], [6, 5, 3, 4], [6, 3, 5, 3, 4]])
def test_gradients_match_central_differences(activation, output, loss, sizes):
    net = MLP(sizes, activation=activation, output=output, loss=loss, init="xavier",
              l2=0.01, seed=3, dtype="float64")
    # shift the biases so that no ReLU sits at its kink, where differences are undefined
    for b in net.biases:
        b += 0.1
    X, Y = _batch(sizes[0], sizes[-1])
    dWs, dbs = net.gradients(X, Y)
    h = 1e-6
    for params, grads in ((net.weights, dWs), (net.biases, dbs)):
        for p, g in zip(params, grads):
            assert g.shape == p.shape
            numeric = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                keep = p[i]
                p[i] = keep + h
                up = net.loss(X, Y)
                p[i] = keep - h
                down = net.loss(X, Y)
                p[i] = keep
                numeric[i] = (up - down) / (2 * h)
            assert _relative_error(g, numeric) < 1e-6


def test_small_network_worked_by_hand():
    # 2-1-1, sigmoid hidden, sigmoid + MSE output: the seed's formulas on paper.
    net = MLP([2, 1, 1], activation="sigmoid", output="sigmoid", loss="mse", dtype="float64")
    net.weights = [np.array([[0.5], [-1.0]]), np.array([[2.0]])]
    net.biases = [np.array([0.0]), np.array([-1.0])]
    X, Y = np.array([[1.0, 1.0]]), np.array([[1.0]])
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    z1 = 0.5 - 1.0                     # -0.5
    a1 = s(z1)                         # 0.37754
    z2 = 2.0 * a1 - 1.0                # -0.24492
    a2 = s(z2)                         # 0.43908
    assert net.predict_proba(X)[0, 0] == pytest.approx(a2)
    assert net.loss(X, Y) == pytest.approx(0.5 * (a2 - 1) ** 2)
    delta2 = (a2 - 1) * a2 * (1 - a2)
    delta1 = delta2 * 2.0 * a1 * (1 - a1)
    dWs, dbs = net.gradients(X, Y)
    np.testing.assert_allclose(dWs[1], [[a1 * delta2]])
    np.testing.assert_allclose(dbs[1], [delta2])
    np.testing.assert_allclose(dWs[0], [[delta1], [delta1]])
    np.testing.assert_allclose(dbs[0], [delta1])


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output,loss", sorted(OUTPUT_LOSSES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extreme_inputs_stay_finite_without_warnings(activation, output, loss, dtype):
    # filterwarnings = error turns any overflow or divide warning into a failure
    net = MLP([3, 4, 2], activation=activation, output=output, loss=loss, dtype=dtype)
    net.weights[0][...] = [[1000, -1000, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    net.weights[1][...] = 1000
    for x in (1000.0, -1000.0):
        X = np.array([[x, 0.0, 0.0]])
        Y = np.array([[1.0, 0.0]])
        assert np.all(np.isfinite(net.predict_proba(X)))
        assert np.isfinite(net.loss(X, Y))
        dWs, dbs = net.gradients(X, Y)
        assert all(np.all(np.isfinite(g)) for g in dWs + dbs)


def test_weights_changed_in_place_change_the_loss():
    net = MLP([4, 3, 2], seed=0, dtype="float64")
    X, Y = _batch(4, 2)
    before = net.loss(X, Y)
    net.weights[0][1, 2] += 0.5
    assert net.loss(X, Y) != before


def test_same_seed_same_network_other_seed_other_network():
    a, b, c = (MLP([784, 32, 10], seed=s) for s in (7, 7, 8))
    for Wa, Wb, Wc in zip(a.weights, b.weights, c.weights):
        np.testing.assert_array_equal(Wa, Wb)
        assert not np.array_equal(Wa, Wc)


def test_shapes_and_dtype():
    net = MLP([784, 128, 64, 10], activation="tanh", init="xavier", dtype="float32")
    assert [W.shape for W in net.weights] == [(784, 128), (128, 64), (64, 10)]
    assert [b.shape for b in net.biases] == [(128,), (64,), (10,)]
    assert all(W.dtype == np.float32 for W in net.weights)
    proba = net.predict_proba(np.zeros((3, 784)))
    assert proba.shape == (3, 10) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert net.n_params == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert net.predict_proba(np.zeros((0, 784))).shape == (0, 10)


@pytest.mark.parametrize("kwargs,words", [
    (dict(layer_sizes=[784]), "at least"),
    (dict(layer_sizes=[784, 0, 10]), "positive"),
    (dict(layer_sizes=[784, 2.5, 10]), "positive"),
    (dict(layer_sizes=[784, 10], activation="swish"), "unknown activation"),
    (dict(layer_sizes=[784, 10], output="softmax", loss="mse"), "not supported"),
    (dict(layer_sizes=[784, 10], init="zeros"), "unknown init"),
    (dict(layer_sizes=[784, 10], l2=-1.0), "l2"),
    (dict(layer_sizes=[784, 10], dtype="int8"), "dtype"),
    (dict(layer_sizes=[784, 10], seed=-3), "seed"),
    (dict(layer_sizes=[784, 10], seed="abc"), "seed"),
    (dict(layer_sizes=[784, 10], seed=1.5), "seed"),
])
def test_bad_configs_are_refused_in_one_line(kwargs, words):
    with pytest.raises(ConfigError, match=words) as info:
        MLP(**kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kwargs,words", [
    (dict(layer_sizes=["abcd"] * 2_000_000), "got 'abcd' at position 0 of 2,000,000"),
    (dict(layer_sizes=[784, 10], activation="x" * 10_000_000), "(10,000,000 characters)"),
    (dict(layer_sizes=[784, 10], activation=["relu"] * 1000), "unknown activation ['relu'"),
    (dict(layer_sizes=[784, 10], output={"a": [1] * 10**6}), "is not supported"),
    (dict(layer_sizes=[784, 10], init=None), "unknown init None"),
    (dict(layer_sizes=[784, 10], l2=[1, 2]), "l2 must be a finite number >= 0, got [1, 2]"),
    (dict(layer_sizes=[784, 10], l2=10**400), "l2 must be"),
    (dict(layer_sizes=[784, 10], dtype=["float32"] * 10**6), "dtype must be"),
    (dict(layer_sizes=[784, 10], seed="7" * 10**6), "(1,000,000 characters)"),
    (dict(layer_sizes=[784, 10], seed=-(10**3000)), "the seed must be"),
])
def test_values_of_any_type_and_size_are_refused_in_one_short_line(kwargs, words):
    """What a model file's JSON can hold: the message repeats a few dozen characters of it
    (a 10-million-character message once kept a browser tab busy for minutes)."""
    with pytest.raises(ConfigError) as info:
        MLP(**kwargs)
    assert words in str(info.value)
    assert len(str(info.value)) < 200 and "\n" not in str(info.value)


def test_save_load_round_trip(tmp_path):
    net = MLP([784, 20, 10], activation="leaky_relu", l2=0.001, seed=5)
    net.weights[0][0, 0] = 1.25
    net.save(tmp_path / "m.npz")
    back = MLP.load(tmp_path / "m.npz")
    assert back.config == net.config
    for a, b in zip(net.weights + net.biases, back.weights + back.biases):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    back_from_bytes = MLP.load(io.BytesIO(net.to_bytes()))
    np.testing.assert_array_equal(back_from_bytes.weights[0], net.weights[0])


def _npz(tmp_path, **arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


def _config(**changes):
    net = MLP([4, 3, 2])
    return json.dumps({"format": "mnist_np/1", **net.config, **changes})


@pytest.mark.parametrize("make,words", [
    (lambda p: p.joinpath("x.npz").write_text("hello") and p / "x.npz", "not an .npz"),
    (lambda p: _npz(p, config=np.array(_config()), W0=np.array([object()], dtype=object)),
     "pickled"),
    (lambda p: _npz(p, W0=np.zeros((4, 3))), "no 'config'"),
    (lambda p: _npz(p, config=np.array("{nope")), "JSON"),
    (lambda p: _npz(p, config=np.array(_config(activation="swish"))), "not usable"),
    (lambda p: _npz(p, config=np.array(_config(extra=1))), "unknown or missing"),
    (lambda p: _npz(p, config=np.array(_config(seed=-3))), "seed must be"),
    (lambda p: _npz(p, config=np.array(_config(seed="abc"))), "seed must be"),
    (lambda p: _npz(p, config=np.array(_config(layer_sizes=[4, 10**12, 2]))), "more than"),
    (lambda p: _npz(p, config=np.array(_config(layer_sizes="abc"))), "positive whole"),
    (lambda p: _npz(p, config=np.array(_config(l2="abc"))), "not usable"),
    (lambda p: _npz(p, config=np.array(_config()), W0=np.zeros((4, 3)), b0=np.zeros(3),
                    W1=np.zeros((3, 2))), "b1 is missing"),
    (lambda p: _npz(p, config=np.array(_config()), W0=np.zeros((4, 4)), b0=np.zeros(3),
                    W1=np.zeros((3, 2)), b1=np.zeros(2)), "shape"),
    (lambda p: _npz(p, config=np.array(_config()), W0=np.full((4, 3), np.nan),
                    b0=np.zeros(3), W1=np.zeros((3, 2)), b1=np.zeros(2)), "finite"),
])
def test_bad_model_files_are_refused(tmp_path, make, words):
    path = make(tmp_path)
    with pytest.raises(ModelFileError, match=words) as info:
        MLP.load(path)
    assert "\n" not in str(info.value)


def test_a_file_that_unpacks_to_more_than_the_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, config=np.array(_config()), W0=np.zeros((2048, 2048)))
    assert path.stat().st_size < 100_000  # 32 MB of zeros, packed
    with pytest.raises(ModelFileError, match=r"unpacks to 32\.0 MB; at most 1\.0 MB"):
        MLP.load(path, max_bytes=2**20)
    small = MLP([4, 3, 2])
    assert MLP.load(io.BytesIO(small.to_bytes()), max_bytes=2**20).config == small.config


def test_truncated_model_file_is_refused(tmp_path):
    data = MLP([4, 3, 2]).to_bytes()
    with pytest.raises(ModelFileError):
        MLP.load(io.BytesIO(data[: len(data) // 2]))
    assert zipfile.is_zipfile(io.BytesIO(data))




def _float32_batch(sizes, n=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0])).astype(np.float32)
    Y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], n)]
    return X, Y


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output,loss", sorted(OUTPUT_LOSSES))
def test_buffered_and_scaled_pass_equals_the_plain_pass(activation, output, loss):
    sizes = [12, 9, 6, 5]
    net = MLP(sizes, activation=activation, output=output, loss=loss, init="xavier",
              l2=0.01, seed=1)
    X, Y = _float32_batch(sizes)
    plain = net.forward(X)
    plain_grads = net.backward(plain, Y)
    buffers = Buffers(sizes, len(X), net.dtype)
    np.copyto(buffers.activations[0], X)
    fwd, data_loss = net.forward_loss(buffers.activations[0], Y, buffers=buffers)
    assert data_loss == pytest.approx(net.data_loss(plain, Y), rel=1e-5, abs=1e-6)
    assert fwd.output is buffers.activations[-1]
    for a, b in zip(fwd.activations, plain.activations):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    grads = net.backward(fwd, Y, buffers=buffers, scale=0.3)
    for got, want in zip(grads.dWs + grads.dbs, plain_grads.dWs + plain_grads.dbs):
        np.testing.assert_allclose(got, 0.3 * want, rtol=1e-4, atol=1e-7)
    assert grads.dWs[0] is buffers.dWs[0]


@pytest.mark.parametrize("text,sizes", [("128,64", (128, 64)), ("16", (16,)), ("", ()),
                                        (" None ", ()), (" 8, 4", (8, 4))])
def test_parse_hidden_reads_layer_sizes(text, sizes):
    assert parse_hidden(text) == sizes


@pytest.mark.parametrize("text,limits,message", [
    ("1,2,3", dict(max_layers=2), "at most 2 hidden layers, got 3"),
    ("12x", {}, "a hidden layer's size must be a whole number, got '12x'"),
    ("8,,4", {}, "a hidden layer's size must be a whole number, got ''"),
    ("2.5", {}, "a hidden layer's size must be a whole number, got '2.5'"),
    ("128,0", {}, "a hidden layer's size must be at least 1, got 0"),
    ("-3", dict(max_units=64), "a hidden layer's size must be between 1 and 64, got -3"),
    ("65", dict(max_units=64), "a hidden layer's size must be between 1 and 64, got 65"),
    ("x" * 100, {}, "a hidden layer's size must be a whole number, got "
                    f"'{'x' * 40}'… (100 characters)"),
])
def test_parse_hidden_refuses_in_one_line(text, limits, message):
    with pytest.raises(ValueError) as info:
        parse_hidden(text, **limits)
    assert str(info.value) == message
    assert parse_hidden("64,64", max_layers=2, max_units=64) == (64, 64)


def test_brief_quotes_short_text_and_cuts_long_text_with_its_length():
    assert brief("abc") == "'abc'"
    assert brief("a" * 40) == repr("a" * 40)
    assert brief("a" * 5000) == f"'{'a' * 40}'… (5,000 characters)"
    assert brief("abcdef", limit=3) == "'abc'… (6 characters)"


def test_dropout_masks_scale_the_hidden_activations_and_only_when_given():
    net = MLP([6, 5, 4, 3], activation="sigmoid", seed=1)
    X = np.random.default_rng(0).random((7, 6))
    masks = [np.random.default_rng(l).integers(0, 2, (7, k)).astype(np.float32) * 2
             for l, k in enumerate((5, 4))]  # in the network's dtype, as the trainer's
    plain, dropped = net.forward(X), net.forward(X, masks=masks)
    assert plain.masks is None and plain.undropped is None
    np.testing.assert_allclose(dropped.undropped[0], plain.activations[1], rtol=1e-6)
    np.testing.assert_allclose(dropped.activations[1], plain.activations[1] * masks[0],
                               rtol=1e-6)
    assert not np.allclose(dropped.output, plain.output)
    buffers = Buffers(net.layer_sizes, 7, net.dtype)  # the training loop's arrays
    into = net.forward(X, buffers=buffers, masks=masks)
    np.testing.assert_array_equal(into.output, dropped.output)
    np.testing.assert_array_equal(net.backward(into, np.eye(3)[[0, 1, 2] * 2 + [0]],
                                               buffers=buffers).dWs[0],
                                  net.backward(dropped, np.eye(3)[[0, 1, 2] * 2 + [0]]).dWs[0])
    with pytest.raises(ValueError, match="one mask per hidden layer"):
        net.forward(X, masks=masks[:1])


def test_copy_is_independent_equal_and_draws_no_new_weights(monkeypatch):
    net = MLP([6, 4, 3], activation="tanh", l2=0.01, seed=5)
    net.weights[0] += 1.0  # trained away from its initial weights
    monkeypatch.setattr("mnist_np.network.INITS", {})  # a copy drawing new weights fails
    clone = net.copy()
    assert clone.config == net.config and type(clone) is MLP
    for a, b in zip(clone.weights + clone.biases, net.weights + net.biases):
        np.testing.assert_array_equal(a, b)
        assert a is not b and not np.shares_memory(a, b)
    clone.weights[0][0, 0] = 99.0
    clone.layer_sizes.append(7)
    assert net.weights[0][0, 0] != 99.0 and net.layer_sizes == [6, 4, 3]
    X = np.ones((2, 6))
    np.testing.assert_array_equal(net.copy().forward(X).output, net.forward(X).output)


# -- blank input columns -------------------------------------------------------------------
def _digits_like(n: int, d: int = 784, seed: int = 0) -> np.ndarray:
    """A batch whose border columns are 0 in every row, as in a batch of MNIST digits."""
    X = np.random.default_rng(seed).random((n, d)).astype(np.float32)
    X[:, : d // 3] = 0  # a third of the pixels blank in every image
    X[X < 0.5] = 0
    return X


def test_input_columns_names_the_used_columns_when_leaving_the_blank_ones_out_pays():
    X = _digits_like(128)
    used, blank = input_columns(X, 256)
    np.testing.assert_array_equal(used, np.flatnonzero(X.any(axis=0)))
    np.testing.assert_array_equal(blank, ~X.any(axis=0))
    assert input_columns(_digits_like(10), 30) is None  # too small a step to pay
    full = np.random.default_rng(1).random((128, 784)).astype(np.float32) + 0.1
    assert input_columns(full, 256) is None  # no blank column: nothing to save


@pytest.mark.parametrize("hidden", [(256,), (256, 64)])
def test_leaving_blank_columns_out_gives_the_plain_pass_to_rounding(hidden):
    sizes = [784, *hidden, 10]
    net = MLP(sizes, seed=3, l2=0.001)
    X = _digits_like(128)
    Y = np.eye(10, dtype=np.float32)[np.arange(128) % 10]
    plain = net.forward(X)
    plain_grads = net.backward(plain, Y)
    buffers = Buffers(sizes, len(X), net.dtype)
    np.copyto(buffers.activations[0], X)
    fwd = net.forward(buffers.activations[0], buffers=buffers)
    assert fwd.columns is not None  # the skip did happen
    grads = net.backward(fwd, Y, buffers=buffers)
    np.testing.assert_allclose(fwd.output, plain.output, rtol=1e-5, atol=1e-7)
    for got, want in zip(grads.dWs + grads.dbs, plain_grads.dWs + plain_grads.dbs):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)
    blank = ~X.any(axis=0)
    # exactly 0 plus the L2 term, whatever the buffer held before
    np.testing.assert_array_equal(grads.dWs[0][blank], net.l2 * net.weights[0][blank])
    assert grads.dWs[0] is buffers.dWs[0]
