"""Hostile model files, built here byte by byte: each is refused by MLP.load with one short
line (no traceback, no server path, no echo of the file's long text), and the costly ones
before their members are read. Good files, and the older ways of writing them, still load.

CASES maps a name to ``(make, words)``: ``make(net)`` builds the file's bytes around the
network ``net`` and ``words`` must be in the refusal. tests/dashboard/test_model_io.py runs
the same cases through the dashboard's read_model."""

import functools
import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mnist_np import MLP, ModelFileError
from mnist_np import network as network_module

SMALL = MLP([4, 3, 2], activation="tanh", seed=3)
LIMIT = 64 * 2**20  # what the dashboard accepts (MLP.load's own default is 1 GB)


# -- building files --------------------------------------------------------------------
def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)  # object arrays too: the files are hostile
    return buffer.getvalue()


def npy_header(descr: str, shape: tuple, data: bytes = b"") -> bytes:
    """An .npy header that says whatever it likes, followed by ``data``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + data


def zip_of(members: dict[str, bytes] | list[tuple[str, bytes]],
           compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with warnings.catch_warnings():  # "Duplicate name": that is the point of one case
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in items:
                archive.writestr(name, data)
    return buffer.getvalue()


def config_of(net: MLP, **changes) -> dict:
    return {"format": "mnist_np/1", **net.config, **changes}


def members_of(net: MLP, config: str | None = None) -> dict[str, bytes]:
    """The members MLP.save writes, with the config's JSON text replaced when given."""
    text = json.dumps(config_of(net)) if config is None else config
    members = {"config.npy": npy(np.array(text))}
    for i, (W, b) in enumerate(zip(net.weights, net.biases)):
        members[f"W{i}.npy"], members[f"b{i}.npy"] = npy(W), npy(b)
    return members


def with_text(text: str):
    return lambda net: zip_of(members_of(net, text))


def with_config(**changes):
    return lambda net: zip_of(members_of(net, json.dumps(config_of(net, **changes))))


def with_member(name: str, data: bytes | None):
    """The good file with one member replaced (or, with ``None``, left out)."""
    def make(net):
        members = members_of(net)
        if data is None:
            del members[name]
        else:
            members[name] = data
        return zip_of(members)
    return make


def with_array(name: str, array_of):
    return lambda net: with_member(f"{name}.npy", npy(array_of(net)))(net)


def first_data_offset(raw: bytes, name: str) -> int:
    info = zipfile.ZipFile(io.BytesIO(raw)).getinfo(name)
    return info.header_offset + 30 + len(info.filename) + len(info.extra)


def flipped_in(name: str, compression: int = zipfile.ZIP_STORED):
    """One byte of member ``name``'s stored data changed (the CRC no longer matches)."""
    def make(net):
        raw = bytearray(zip_of(members_of(net), compression))
        raw[first_data_offset(bytes(raw), name) + 5] ^= 0xFF
        return bytes(raw)
    return make


def cut_inside(name: str):
    """100 bytes taken out of member ``name``: the directory after it points astray."""
    def make(net):
        raw = zip_of(members_of(net))
        at = first_data_offset(raw, name) + 10
        return raw[:at] + raw[at + 100:]
    return make


def truncated(fraction: float | None = None, minus: int = 0):
    def make(net):
        raw = net.to_bytes()
        return raw[:int(len(raw) * fraction)] if fraction is not None else raw[:len(raw) - minus]
    return make


def bzip2_member(net):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members_of(net).items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_BZIP2 if name == "W0.npy"
                             else zipfile.ZIP_STORED)
    return buffer.getvalue()


@functools.cache
def many_entries(n: int) -> bytes:
    """``n`` empty entries: past 65,535 the zip needs a zip64 end record."""
    return zip_of([(f"x{i}", b"") for i in range(n)])


@functools.cache
def packed(text: str) -> bytes:
    """A config of ``text``, deflated: megabytes of JSON in a few hundred kilobytes."""
    return zip_of({"config.npy": npy(np.array(text))}, zipfile.ZIP_DEFLATED)


@functools.cache
def bomb() -> bytes:
    return zip_of({"config.npy": npy(np.array("{}")), "W0.npy": npy(np.zeros((3000, 3000)))},
                  zipfile.ZIP_DEFLATED)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# Refused before any member is unpacked (the directory alone says no).
BY_DIRECTORY = {
    "5,000 entries": (lambda net: many_entries(5000), "the zip holds 5,000 entries"),
    "70,000 entries (zip64 end record)": (lambda net: many_entries(70_000),
                                          "the zip holds 70,000 entries"),
    "layer_sizes of two million strings": (
        lambda net: packed(json.dumps(config_of(net, layer_sizes=["abcd"] * 2_000_000))),
        "the model's config unpacks to"),
    "activation of ten million characters": (
        lambda net: packed(json.dumps(config_of(net, activation="x" * 10_000_000))),
        "the model's config unpacks to"),
    "a 1,000,000-layer config": (
        lambda net: packed(json.dumps(config_of(net, layer_sizes=[1] * 1_000_000))),
        "the model's config unpacks to"),
    "JSON nested 100,000 deep": (lambda net: packed(nested(100_000)),
                                 "the model's config unpacks to"),
    "members unpacking past the limit": (lambda net: bomb(), "unpacks to 68.7 MB"),
}

CASES = BY_DIRECTORY | {
    # the zip itself
    "empty file": (lambda net: b"", "not an .npz file"),
    "text file": (lambda net: b"layer_sizes = [784, 10]", "not an .npz file"),
    "zip magic only": (lambda net: b"PK\x03\x04", "zip directory is missing"),
    "truncated to 10%": (truncated(0.1), "zip directory is missing"),
    "truncated to half": (truncated(0.5), "zip directory is missing"),
    "last byte cut": (truncated(minus=1), "zip directory is missing"),
    "end record cut": (truncated(minus=22), "zip directory is missing"),
    "100 bytes cut inside W0": (cut_inside("W0.npy"), "damaged"),
    "flipped byte in W0 (stored)": (flipped_in("W0.npy"), "member W0.npy is damaged"),
    "flipped byte in W0 (deflated)": (flipped_in("W0.npy", zipfile.ZIP_DEFLATED),
                                      "member W0.npy is damaged"),
    "bzip2 member": (bzip2_member, "compression method 12"),
    "unexpected member": (lambda net: zip_of(members_of(net) | {"notes.txt": b"hi"}),
                          "unexpected member 'notes.txt'"),
    "path as a member name": (lambda net: zip_of(members_of(net) | {"../../etc/passwd": b""}),
                              "unexpected member '../../etc/passwd'"),
    "long member name": (lambda net: zip_of(members_of(net) | {"n" * 5000: b""}),
                         "(5,000 characters)"),
    "W0 without .npy": (lambda net: zip_of(members_of(net) | {"W0": npy(net.weights[0])}),
                        "unexpected member 'W0'"),
    "W0 twice": (lambda net: zip_of([*members_of(net).items(), ("W0.npy", b"x")]),
                 "W0.npy appears twice"),
    "W beyond the layer limit": (lambda net: zip_of(members_of(net) | {"W1000.npy": b""}),
                                 "beyond the 1,000 layers"),
    "no config": (with_member("config.npy", None), "no 'config' entry"),
    # members that are not arrays, or not honest ones
    "W0 not an .npy array": (with_member("W0.npy", b"just some bytes"),
                             "member W0.npy is not an .npy array"),
    "config not an .npy array": (lambda net: zip_of(
        members_of(net) | {"config.npy": json.dumps(config_of(net)).encode()}),
        "member config.npy is not an .npy array"),
    "W0 .npy without its last 4 bytes": (lambda net: with_member(
        "W0.npy", npy(net.weights[0])[:-4])(net), "bytes of data; its header promises"),
    "W0 .npy cut inside its header": (lambda net: with_member(
        "W0.npy", npy(net.weights[0])[:40])(net), "damaged .npy header"),
    "W0 .npy magic only": (with_member("W0.npy", b"\x93NUMPY"), "damaged .npy header"),
    "W0 .npy version 9": (with_member("W0.npy", b"\x93NUMPY\x09\x00" + b"\0" * 80),
                          "damaged .npy header"),
    "W0 .npy garbage header": (with_member("W0.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': evil"),
                               "damaged .npy header"),
    "W0 header claims 10**12 floats": (with_member("W0.npy", npy_header("<f4", (10**12,))),
                                       "holds 0 bytes of data; its header promises 4,000,"),
    "W0 header claims 10**300 floats": (with_member("W0.npy", npy_header("<f4", (10**300,))),
                                        "its header promises more than 10**18"),
    "W0 header claims extra bytes": (with_member("W0.npy", npy_header("<f4", (1,), b"\0" * 9)),
                                     "bytes of data"),
    "W0 pickled objects": (with_array("W0", lambda net: np.array([{"a": 1}], dtype=object)),
                           "refused: the file holds pickled objects"),
    "W0 structured with an object field": (
        with_array("W0", lambda net: np.zeros(2, dtype=[("a", "f4"), ("b", "O")])),
        "refused: the file holds pickled objects"),
    "W0 of ints": (with_array("W0", lambda net: net.weights[0].astype(np.int64)),
                   "not floating-point numbers"),
    "W0 of complex": (with_array("W0", lambda net: net.weights[0].astype(np.complex64)),
                      "not floating-point numbers"),
    "W0 of text": (with_array("W0", lambda net: net.weights[0].astype(str)),
                   "finite floating-point"),
    "W0 of bytes": (with_array("W0", lambda net: np.zeros(3, "S5")), "not floating-point numbers"),
    "W0 structured": (with_array("W0", lambda net: np.zeros(3, [("a", "f4")])),
                      "not floating-point numbers"),
    "W0 wrong shape": (with_array("W0", lambda net: np.zeros((7, 7), np.float32)),
                       "array W0 has shape (7, 7)"),
    "W0 of 20 dimensions": (with_array("W0", lambda net: np.zeros((1,) * 20, np.float32)),
                            "array W0 has shape"),
    "W0 a scalar": (with_array("W0", lambda net: np.float32(1)), "array W0 has shape ()"),
    "W0 with NaN": (with_array("W0", lambda net: np.full_like(net.weights[0], np.nan)),
                    "finite"),
    "b0 with inf": (with_array("b0", lambda net: np.full_like(net.biases[0], np.inf)),
                    "finite"),
    "b1 missing": (with_member("b1.npy", None), "array b1 is missing"),
    "an extra layer's arrays": (lambda net: zip_of(members_of(net) | {
        f"W{len(net.weights)}.npy": npy(np.zeros((2, 2), np.float32))}), "unexpected arrays"),
    # the config: not a JSON object
    "config of floats": (with_member("config.npy", npy(np.zeros(3))),
                         "config is not a text"),
    "config a list of texts": (lambda net: with_member(
        "config.npy", npy(np.array([json.dumps(config_of(net))] * 2)))(net),
        "config is not a text"),
    "config as bytes": (lambda net: with_member(
        "config.npy", npy(np.array(json.dumps(config_of(net)).encode())))(net),
        "not floating-point numbers"),
    "config not JSON": (with_text("{nope"), "not valid JSON"),
    "config a JSON list": (with_text("[1, 2]"), "not an object"),
    "config a JSON string": (with_text('"mnist_np/1"'), "not an object"),
    "config null": (with_text("null"), "not an object"),
    "config empty": (with_text(""), "not valid JSON"),
    "config of 66,000 characters": (with_text(" " * 66_000 + "{}"), "66,002 characters long"),
    "JSON nested 20,000 deep": (with_text(nested(20_000)), "20,000 brackets"),
    "layer_sizes nested 5,000 deep": (
        lambda net: with_text(json.dumps(config_of(net))
                              .replace(json.dumps(net.layer_sizes), nested(5000)))(net),
        "brackets"),
    "an int of 5,000 digits": (with_text('{"seed": ' + "9" * 5000 + "}"), "not valid JSON"),
    # the config's keys and format
    "unknown format": (with_config(format="other/9"), "unknown model format"),
    "format a list": (with_config(format=["mnist_np/1"]), "unknown model format"),
    "no format": (with_text('{"layer_sizes": [4, 2]}'), "unknown model format"),
    "an extra key": (with_config(extra=1), "unknown or missing keys: 'extra'"),
    "a thousand long extra keys": (
        lambda net: with_text(json.dumps(config_of(net) | {
            f"{i:04}" + "k" * 40: i for i in range(1000)}))(net), "and 997 more"),
    "a missing key": (lambda net: with_text(json.dumps(
        {k: v for k, v in config_of(net).items() if k != "l2"}))(net),
        "unknown or missing keys: 'l2'"),
    # each field, wrong types and sizes
    "layer_sizes a string": (with_config(layer_sizes="abc"), "positive whole"),
    "layer_sizes a number": (with_config(layer_sizes=784), "positive whole"),
    "layer_sizes an object": (with_config(layer_sizes={"a": 1}), "positive whole"),
    "layer_sizes with a string": (with_config(layer_sizes=[4, "3", 2]), "got '3' at position 1"),
    "layer_sizes with a float": (with_config(layer_sizes=[4, 3.0, 2]), "positive whole"),
    "layer_sizes with true": (with_config(layer_sizes=[4, True, 2]), "positive whole"),
    "layer_sizes with a list": (with_config(layer_sizes=[4, [3], 2]), "positive whole"),
    "layer_sizes with zero": (with_config(layer_sizes=[4, 0, 2]), "positive whole"),
    "layer_sizes with -1": (with_config(layer_sizes=[4, -1, 2]), "positive whole"),
    "layer_sizes with null": (with_config(layer_sizes=[4, None, 2]), "positive whole"),
    "layer_sizes of one": (with_config(layer_sizes=[4]), "at least an input and an output"),
    "layer_sizes empty": (with_config(layer_sizes=[]), "at least an input and an output"),
    "1,001 layers": (with_config(layer_sizes=[1] * 1002), "1,001 layers; at most 1,000"),
    "5,000 strings in layer_sizes": (with_config(layer_sizes=["ab"] * 5000), "4,999 layers"),
    "900 long strings in layer_sizes": (with_config(layer_sizes=["x" * 50] * 900),
                                        "at position 0 of 900"),
    "huge layers": (with_config(layer_sizes=[4, 10**12, 2]), "more than the"),
    "activation a number": (with_config(activation=5), "unknown activation 5"),
    "activation null": (with_config(activation=None), "unknown activation None"),
    "activation a list": (with_config(activation=["relu"]), "unknown activation ['relu']"),
    "activation an object": (with_config(activation={"relu": 1}), "unknown activation"),
    "activation of 60,000 characters": (with_config(activation="x" * 60_000),
                                        "(60,000 characters)"),
    "activation unknown": (with_config(activation="swish"), "unknown activation 'swish'"),
    "output a list": (with_config(output=["softmax"]), "is not supported"),
    "loss a long list": (with_config(loss=list(range(900))), "is not supported"),
    "output and loss mismatched": (with_config(output="softmax", loss="mse"),
                                   "is not supported"),
    "init a dict": (with_config(init={}), "unknown init"),
    "init of 50,000 characters": (with_config(init="i" * 50_000), "(50,000 characters)"),
    "l2 a list": (with_config(l2=[1, 2]), "l2 must be a finite number >= 0, got [1, 2]"),
    "l2 a string": (with_config(l2="abc"), "l2 must be"),
    "l2 null": (with_config(l2=None), "l2 must be"),
    "l2 true": (with_config(l2=True), "l2 must be"),
    "l2 negative": (with_config(l2=-1.0), "l2 must be"),
    "l2 NaN": (with_config(l2=float("nan")), "l2 must be"),
    "l2 Infinity": (with_config(l2=float("inf")), "l2 must be"),
    "l2 1e999": (with_text('{"format": "mnist_np/1", "layer_sizes": [4, 2], "activation": '
                           '"relu", "output": "softmax", "loss": "cross_entropy", "init": '
                           '"he", "l2": 1e999, "seed": 0, "dtype": "float32"}'), "l2 must be"),
    "l2 an int of 400 digits": (with_config(l2=10**400), "l2 must be"),
    "seed negative": (with_config(seed=-3), "the seed must be a whole number >= 0"),
    "seed a string": (with_config(seed="abc"), "the seed must be a whole number"),
    "seed a float": (with_config(seed=1.5), "the seed must be"),
    "seed true": (with_config(seed=True), "the seed must be"),
    "seed a list": (with_config(seed=[1]), "the seed must be"),
    "seed of 60,000 characters": (with_config(seed="7" * 60_000), "(60,000 characters)"),
    "seed an int of 4,000 digits": (with_config(seed=-(10**3999)), "the seed must be"),
    "dtype int8": (with_config(dtype="int8"), "dtype must be"),
    "dtype a list": (with_config(dtype=["float32"]), "dtype must be"),
    "dtype object": (with_config(dtype="object"), "dtype must be"),
    "dtype a number": (with_config(dtype=32), "dtype must be"),
}


def load(file, **limits) -> MLP:
    return MLP.load(file, **({"max_bytes": LIMIT} | limits))


def refusal(file, load=load) -> str:
    with pytest.raises(ModelFileError) as info:
        load(file)
    return str(info.value)


def assert_one_short_line(message: str, words: str) -> None:
    assert words in message
    assert len(message) < 300 and "\n" not in message and "\r" not in message
    assert "Traceback" not in message and str(Path(__file__).parents[2]) not in message
    assert str(Path(np.__file__).parent) not in message


@pytest.fixture
def np_load_unused(monkeypatch):
    """MLP.load must never hand a file to np.load (it would unpickle or trust a member)."""
    def refuse(*args, **kwargs):
        raise AssertionError("np.load was called")
    monkeypatch.setattr(np, "load", refuse)


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_file_is_refused_in_one_short_line(case, np_load_unused):
    make, words = CASES[case]
    raw = make(SMALL)
    assert_one_short_line(refusal(io.BytesIO(raw)), words)


@pytest.mark.parametrize("case", list(BY_DIRECTORY))
def test_costly_files_are_refused_by_the_directory_before_members_are_read(case, monkeypatch):
    make, words = CASES[case]
    raw = make(SMALL)
    opened, built = [], []
    real_open, real_zipfile = zipfile.ZipFile.open, zipfile.ZipFile

    def recording_open(self, *args, **kwargs):
        opened.append(args[0] if args else None)
        return real_open(self, *args, **kwargs)

    def recording_zipfile(*args, **kwargs):
        built.append(1)
        return real_zipfile(*args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording_open)
    monkeypatch.setattr(network_module.zipfile, "ZipFile", recording_zipfile)
    assert_one_short_line(refusal(io.BytesIO(raw)), words)
    assert opened == []  # no member unpacked, not even the config
    if "entries" in case:  # and the directory not even parsed: the end record said no
        assert built == []


def test_the_entry_count_comes_from_the_end_record_even_in_zip64():
    raw = many_entries(70_000)
    assert b"PK\x06\x06" in raw[-200:]  # the zip64 end record is there
    assert network_module._zip_directory_size(raw)[0] == 70_000


def test_a_fuzzed_good_file_loads_or_is_refused_in_one_line():
    """Random byte changes and cuts of a good file: each loads a network of the saved
    shape or is refused with a ModelFileError of one short line, nothing else."""
    rng = np.random.default_rng(11)
    good = SMALL.to_bytes()
    refused = 0
    for _ in range(400):
        raw = bytearray(good)
        for at in rng.integers(0, len(raw), rng.integers(1, 4)):
            raw[at] = rng.integers(0, 256)
        if rng.random() < 0.3:
            raw = raw[:rng.integers(0, len(raw))]
        try:
            net = MLP.load(io.BytesIO(bytes(raw)))
        except ModelFileError as e:
            refused += 1
            assert_one_short_line(str(e), "")
        else:
            assert net.layer_sizes == SMALL.layer_sizes
    assert refused > 100


@pytest.mark.parametrize("net", [SMALL, MLP([784, 16, 10], dtype="float64", l2=0.5, seed=9),
                                 MLP([3, 5, 5, 5, 2], activation="sigmoid", init="uniform")])
def test_good_files_load_unchanged_in_every_way_they_were_written(net, tmp_path, monkeypatch):
    """MLP.save's own files (path, bytes, open file), and the same arrays as np.savez and
    np.savez_compressed write them, Fortran-ordered or in float64 for a float32 network."""
    net.save(tmp_path / "m.npz")
    members = members_of(net)
    fortran = {name: npy(np.asfortranarray(np.load(io.BytesIO(data))))
               if name != "config.npy" else data for name, data in members.items()}
    as_float64 = {name: npy(np.load(io.BytesIO(data)).astype(np.float64))
                  if name != "config.npy" else data for name, data in members.items()}
    with open(tmp_path / "m.npz", "rb") as f:
        sources = [tmp_path / "m.npz", str(tmp_path / "m.npz"), io.BytesIO(net.to_bytes()), f,
                   io.BytesIO(zip_of(members)),
                   io.BytesIO(zip_of(members, zipfile.ZIP_DEFLATED)),
                   io.BytesIO(zip_of(fortran)), io.BytesIO(zip_of(as_float64))]
        monkeypatch.setattr(np, "load", None)  # MLP.load reads without it
        for source in sources:
            back = MLP.load(source)
            assert back.config == net.config
            for a, b in zip(net.weights + net.biases, back.weights + back.biases):
                np.testing.assert_array_equal(a, b)
                assert a.dtype == b.dtype and b.flags.writeable and b.flags.c_contiguous


def test_a_model_at_the_layer_limit_loads():
    net = MLP([2] * 31, activation="tanh")
    assert MLP.load(io.BytesIO(net.to_bytes()), max_layers=30).layer_sizes == [2] * 31
    message = refusal(io.BytesIO(net.to_bytes()), lambda f: load(f, max_layers=29))
    assert_one_short_line(message, "member W29.npy is beyond the 29 layers accepted")
    # the entry count allows 15 training members beside config, W and b
    message = refusal(io.BytesIO(net.to_bytes()), lambda f: load(f, max_layers=22))
    assert_one_short_line(message, "the zip holds 61 entries; a model file has at most 60")


def test_a_missing_file_is_refused_without_its_path(tmp_path):
    message = refusal(tmp_path / "secret" / "nothing.npz")
    assert_one_short_line(message, "cannot read the model file: No such file")
    assert str(tmp_path) not in message
