"""Model files to upload: a good one (NET) and every kind of bad one (BAD: the file's bytes
and the words its one-line refusal must contain), for dashboard.model_io's checks and for
the sidebar's upload with AppTest."""

import io
import json

import numpy as np

from mnist_np import MLP


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
