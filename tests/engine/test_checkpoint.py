"""Training files (mnist_np/checkpoint.py): a trainer saved and loaded continues exactly as
if it had never stopped; older and foreign files load their network with a note; every
malformed training state is refused in one short line; the file stays bounded."""

import io
import json
import zipfile

import numpy as np
import pytest

from mnist_np import MLP, ModelFileError, TrainConfig, Trainer
from mnist_np.checkpoint import NETWORK_ONLY_NOTE, load_training, save_training


def make(sample, optimizer="momentum", schedule="linear", epochs=3, layers=(784, 16, 10),
         **kw):
    config = TrainConfig(optimizer=optimizer, lr=0.05 if optimizer != "adam" else 0.003,
                         batch_size=kw.pop("batch_size", 64), epochs=epochs,
                         train_limit=kw.pop("train_limit", 300), val_size=200,
                         schedule=schedule, seed=4, **kw)
    return Trainer(MLP(list(layers), seed=1), sample.X_train, sample.y_train, config)


def reload(trainer, sample, source=None):
    source = sample.source if source is None else source
    return load_training(save_training(trainer, source), sample.X_train, sample.y_train,
                         source)


def assert_same(a: Trainer, b: Trainer) -> None:
    assert (a.step_count, a.completed_epochs, a.samples_seen) == \
        (b.step_count, b.completed_epochs, b.samples_seen)
    for x, y in zip(a.net.weights + a.net.biases, b.net.weights + b.net.biases):
        assert np.array_equal(x, y) and x.dtype == y.dtype
    for f in a.history.FIELDS:
        assert np.array_equal(a.history.array(f), b.history.array(f)), f
    assert a.history.stride == b.history.stride
    strip = [(r.epoch, r.step, r.train_loss, r.train_accuracy, r.val_loss, r.val_accuracy)
             for r in a.epoch_records]
    assert strip == [(r.epoch, r.step, r.train_loss, r.train_accuracy, r.val_loss,
                      r.val_accuracy) for r in b.epoch_records]
    assert [(s.step, s.epoch) for s in a.snapshots] == [(s.step, s.epoch) for s in b.snapshots]
    for s, t in zip(a.snapshots, b.snapshots):
        for x, y in zip(s.weights + s.biases, t.weights + t.biases):
            assert np.array_equal(x, y)
    assert (a.diverged, a.message, a.finished) == (b.diverged, b.message, b.finished)


# 300 images in batches of 64: 5 steps an epoch (the last of 44), 15 in all.
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("schedule", ["constant", "linear", "cosine"])
@pytest.mark.parametrize("cut", [0, 3, 5, 7, 10, 15], ids=lambda n: f"after{n}")
def test_saved_loaded_and_continued_equals_one_run(sample, optimizer, schedule, cut):
    straight = make(sample, optimizer, schedule)
    list(straight.run())
    first = make(sample, optimizer, schedule)
    list(first.run(max_steps=cut))
    loaded = reload(first, sample)
    assert loaded.note is None and loaded.trainer is not None
    assert loaded.config == first.config and loaded.data_source == sample.source
    assert loaded.saved_on is not None and loaded.saved_on.endswith("Z")
    resumed = loaded.trainer
    assert_same(first, resumed)
    assert resumed.net is loaded.net
    list(resumed.run())
    assert straight.step_count == 15
    assert_same(straight, resumed)


AUGMENTED = dict(aug_shift=2, aug_rotate=15, aug_scale=0.1, aug_elastic=34, aug_noise=0.1)


@pytest.mark.parametrize("cut", [0, 3, 5, 11], ids=lambda n: f"after{n}")
def test_augmented_training_saved_loaded_and_continued_equals_one_run(sample, cut):
    """The augmentation's generator is part of the state: the distortions after a reload
    are those the run would have drawn."""
    straight = make(sample, "momentum", **AUGMENTED)
    list(straight.run())
    first = make(sample, "momentum", **AUGMENTED)
    list(first.run(max_steps=cut))
    loaded = reload(first, sample)
    assert loaded.config == first.config and loaded.config.aug_elastic == 34
    resumed = loaded.trainer
    list(resumed.run())
    assert_same(straight, resumed)
    # without the generator's state the same file would go on differently
    plain = make(sample, "momentum", **AUGMENTED)
    list(plain.run(max_steps=cut))
    plain._aug_rng = np.random.default_rng(99)
    list(plain.run())
    assert not np.array_equal(plain.net.weights[0], straight.net.weights[0])


def test_a_file_from_before_augmentation_loads_and_goes_on(sample):
    """Files written before augmentation have no aug_rng and no aug_* settings."""
    straight = make(sample)
    list(straight.run())
    t = make(sample)
    list(t.run(max_steps=4))
    good = members(save_training(t, sample.source))
    meta = state_of(good)
    del meta["aug_rng"]
    for key in AUGMENTED:
        del meta["config"][key]
    old = zipped(good | {"training.npy": npy(np.array(json.dumps(meta)))})
    loaded = load_training(old, sample.X_train, sample.y_train, sample.source)
    assert not loaded.config.augmentation.active
    list(loaded.trainer.run())
    assert_same(straight, loaded.trainer)


def test_saved_twice_in_a_run_and_with_history_thinned(sample):
    """A checkpoint of a checkpoint, with the history past its limit (stride 4)."""
    straight = make(sample, "adam", epochs=6, batch_size=10)
    straight.history = type(straight.history)(max_points=40)
    list(straight.run())
    t = make(sample, "adam", epochs=6, batch_size=10)
    t.history = type(t.history)(max_points=40)
    for chunk in (17, 60):
        list(t.run(max_steps=chunk))
        t = reload(t, sample).trainer
    list(t.run())
    assert t.history.stride > 1
    assert_same(straight, t)


def test_the_network_alone_loads_with_mlp_load(sample):
    t = make(sample)
    list(t.run(max_steps=4))
    net = MLP.load(io.BytesIO(save_training(t, sample.source)))
    assert net.config == t.net.config
    for x, y in zip(net.weights + net.biases, t.net.weights + t.net.biases):
        assert np.array_equal(x, y)


def test_a_diverged_trainer_comes_back_diverged(sample):
    t = make(sample, "sgd", "constant", layers=(784, 64, 64, 10))
    t.config.lr = 1e4
    list(t.run())
    assert t.diverged
    loaded = reload(t, sample).trainer
    assert loaded.diverged and loaded.finished and loaded.message == t.message
    assert loaded.step() is None
    assert_same(t, loaded)


def test_a_network_only_file_has_no_trainer_and_says_so(sample):
    net = MLP([784, 16, 10])
    loaded = load_training(net.to_bytes(), sample.X_train, sample.y_train, sample.source)
    assert loaded.trainer is None and loaded.saved_on is None and loaded.config is None
    assert loaded.note == NETWORK_ONLY_NOTE and "\n" not in loaded.note
    assert "unknown" in loaded.note
    assert loaded.net.config == net.config


@pytest.mark.parametrize("other", ["source", "size"])
def test_a_file_trained_on_other_data_loads_its_network_only(sample, other):
    t = make(sample)
    list(t.run(max_steps=3))
    raw = save_training(t, sample.source)
    X, y, source = sample.X_train, sample.y_train, sample.source
    if other == "source":
        source = "mnist"
    else:
        X, y = X[:-10], y[:-10]
    loaded = load_training(raw, X, y, source)
    assert loaded.trainer is None and "\n" not in loaded.note
    assert "its training cannot continue" in loaded.note and sample.source in loaded.note
    assert loaded.config == t.config  # the settings are still known
    assert np.array_equal(loaded.net.weights[0], t.net.weights[0])


def test_the_file_stays_bounded_however_long_the_run(sample):
    """784-256-10 for 1,200 epochs of one batch: the history, epoch records and snapshots
    are thinned, so the file holds the network, the velocity and at most 24 snapshots."""
    t = make(sample, "momentum", "constant", epochs=0, layers=(784, 256, 10),
             batch_size=100, train_limit=100)
    list(t.run(max_steps=1200))
    raw = save_training(t, sample.source)
    params = t.net.n_params * 4
    assert len(t.snapshots) <= 24 and len(t.epoch_records) <= 1000
    assert len(raw) < (1 + 1 + 24) * params + 2**20  # 21.2 MB
    loaded = reload(t, sample).trainer
    assert_same(t, loaded)


# -- hostile training states: each refused in one short line ----------------------------
def members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zipped(items: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in items.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=True)
    return buffer.getvalue()


def state_of(good: dict[str, bytes]) -> dict:
    return json.loads(str(np.load(io.BytesIO(good["training.npy"]))[()]))


def json_set(path: str, value):
    """The good file with one JSON field set (``a.b``), or removed (value ``...``)."""
    def change(good):
        meta = state_of(good)
        *parents, key = path.split(".")
        obj = meta
        for p in parents:
            obj = obj[p]
        if value is ...:
            del obj[key]
        else:
            obj[key] = value
        return good | {"training.npy": npy(np.array(json.dumps(meta)))}
    return change


def member(name: str, data):
    """The good file with member ``name`` replaced (bytes or an array) or removed (None)."""
    def change(good):
        out = dict(good)
        if data is None:
            out.pop(f"{name}.npy")
        else:
            out[f"{name}.npy"] = data if isinstance(data, bytes) else npy(data)
        return out
    return change


def text(value: str):
    return member("training", np.array(value))


HOSTILE = {
    "JSON not JSON": (text("{nope"), "not valid JSON"),
    "JSON a list": (text("[1]"), "not an object"),
    "JSON 20,000 characters": (text(" " * 20_000 + "{}"), "20,002 characters long"),
    "JSON 100,000 characters": (text(" " * 100_000), "its training state unpacks to"),
    "JSON nested": (text("[" * 50 + "]" * 50), "50 brackets"),
    "JSON of floats": (member("training", np.zeros(3)), "holds '<f8' values, not text"),
    "JSON a list of texts": (member("training", np.array(["{}", "{}"])), "not a text"),
    "format other": (json_set("format", "other/2"), "unknown training-state format"),
    "extra key": (json_set("extra", 1), "unknown or missing keys: 'extra'"),
    "missing key": (json_set("message", ...), "unknown or missing keys: 'message'"),
    "counters missing a key": (json_set("counters.position", ...), "'position'"),
    "step_count a string": (json_set("counters.step_count", "abc"), "step_count must be"),
    "step_count true": (json_set("counters.step_count", True), "step_count must be"),
    "step_count 1.5": (json_set("counters.step_count", 1.5), "step_count must be"),
    "step_count -1": (json_set("counters.step_count", -1), "step_count must be"),
    "step_count 10**400": (json_set("counters.step_count", 10**400), "step_count must be"),
    "samples_seen off by one": (json_set("counters.samples_seen", 401), "samples_seen 401"),
    "position past the split": (json_set("counters.position", 10**6), "position must be"),
    "train_seconds NaN": (json_set("counters.train_seconds", float("nan")), "train_seconds"),
    "lr a string": (json_set("config.lr", "x"), "config.lr must be"),
    "optimizer a list": (json_set("config.optimizer", ["adam"]), "config.optimizer must be"),
    "optimizer of 5,000 characters": (json_set("config.optimizer", "o" * 5000),
                                      "(5,000 characters)"),
    "schedule unknown": (json_set("config.schedule", "step"), "config.schedule must be one of"),
    "train_limit changed": (json_set("config.train_limit", 500), "does not follow"),
    "rng generator other": (json_set("rng.bit_generator", "MT19937"), "rng.bit_generator"),
    "rng state negative": (json_set("rng.state.state", -1), "rng.state.state must be"),
    "rng state huge": (json_set("rng.state.inc", 2**200), "rng.state.inc must be"),
    "aug_rng a number": (json_set("aug_rng", 5), "aug_rng must be an object"),
    "aug_rng state huge": (json_set("aug_rng.state.state", 2**130), "aug_rng.state.state"),
    "aug_rotate 200": (json_set("config.aug_rotate", 200), "config.aug_rotate must be"),
    "aug_noise a string": (json_set("config.aug_noise", "0.1"), "config.aug_noise must be"),
    "optimizer name other": (json_set("optimizer.name", "sgd"), "optimizer.name must be"),
    "mu a list": (json_set("optimizer.mu", [0.9]), "optimizer.mu must be"),
    "diverged a string": (json_set("diverged", "yes"), "diverged must be true or false"),
    "message 5,000 characters": (json_set("message", "m" * 5000), "message must be"),
    "data source a list": (json_set("data.source", ["x"]), "data.source must be"),
    "history stride 3": (json_set("history.stride", 3), "power of 2"),
    "max_snapshots 0": (json_set("max_snapshots", 0), "max_snapshots must be"),
    "no order": (member("order", None), "array order is missing"),
    "order too short": (member("order", np.arange(10)), "array order has shape (10,)"),
    "order of floats": (member("order", np.zeros(300)), "not whole numbers"),
    "order repeats a row": (member("order", np.zeros(300, np.int64)), "a permutation"),
    "order huge": (member("order", np.zeros(300 * 20, np.int64)), "unpacks to"),
    "order pickled": (member("order", np.array([{}], object)), "pickled objects"),
    "velocity too short": (member("optimizer_velocity", np.zeros(5, np.float32)),
                           "array optimizer_velocity"),
    "velocity with inf": (lambda good: member("optimizer_velocity", np.full(
        12_730, np.inf, np.float32))(good), "finite"),
    "Adam's moments in a momentum file": (member("optimizer_m", np.zeros(3)),
                                          "does not belong to momentum"),
    "history widths": (member("history_grad_norms", np.zeros((7, 5))),
                       "array history_grad_norms has shape (7, 5), (rows, 2) expected"),
    "history lengths": (member("history_loss", np.zeros(3)), "has 3 rows"),
    "history loss NaN": (member("history_loss", np.full(7, np.nan)), "finite"),
    "epochs of 6 columns": (member("epochs", np.zeros((1, 6))), "(rows, 7) expected"),
    "no snapshots": (member("snapshot_steps", np.zeros((0, 2), np.int64)), "at least one"),
    "snapshots of another width": (member("snapshots", np.zeros((2, 9), np.float32)),
                                   "array snapshots"),
    "snapshot steps falling": (member("snapshot_steps", np.array([[5, 1], [0, 0]])),
                               "must rise"),
    "an unknown member": (lambda good: good | {"training2.npy": b""},
                          "unexpected member 'training2.npy'"),
    "training arrays, no state": (member("training", None), "but no training state"),
}


@pytest.fixture(scope="module")
def good(sample):
    t = make(sample, "momentum")
    list(t.run(max_steps=7))  # 1 epoch and 2 steps; 300 training images; 7 history points
    return members(save_training(t, sample.source))


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_training_state_is_refused_in_one_short_line(case, good, sample):
    change, words = HOSTILE[case]
    raw = zipped(change(good))
    with pytest.raises(ModelFileError) as info:
        load_training(raw, sample.X_train, sample.y_train, sample.source)
    message = str(info.value)
    assert words in message, message
    assert len(message) < 300 and "\n" not in message and "Traceback" not in message


def test_the_unchanged_members_load(good, sample):
    loaded = load_training(zipped(good), sample.X_train, sample.y_train, sample.source)
    assert loaded.trainer is not None and loaded.trainer.step_count == 7


def test_a_fuzzed_training_file_loads_or_is_refused_in_one_line(sample):
    t = make(sample, "adam", layers=(784, 4, 10))
    list(t.run(max_steps=7))
    good = save_training(t, sample.source)
    rng = np.random.default_rng(5)
    refused = 0
    for _ in range(300):
        raw = bytearray(good)
        for at in rng.integers(0, len(raw), rng.integers(1, 4)):
            raw[at] = rng.integers(0, 256)
        if rng.random() < 0.3:
            raw = raw[:rng.integers(0, len(raw))]
        try:
            loaded = load_training(bytes(raw), sample.X_train, sample.y_train, sample.source)
        except ModelFileError as e:
            refused += 1
            assert len(str(e)) < 300 and "\n" not in str(e)
        else:
            assert loaded.net.layer_sizes == [784, 4, 10]
    assert refused > 100


def test_mlp_load_still_refuses_what_is_not_a_training_member(good):
    raw = zipped(good | {"optimizer_w.npy": b""})
    with pytest.raises(ModelFileError, match=r"unexpected member 'optimizer_w\.npy'"):
        MLP.load(io.BytesIO(raw))
    assert MLP.load(io.BytesIO(zipped(good))).layer_sizes == [784, 16, 10]


def test_snapshots_can_be_thinned_to_a_byte_budget_without_changing_training(sample):
    t = make(sample, "momentum", "constant", epochs=9, train_limit=300)
    list(t.run(max_steps=33))  # 6 full epochs: 7 snapshots
    assert len(t.snapshots) == 7
    size = sum(W.nbytes + b.nbytes for W, b in zip(t.net.weights, t.net.biases))
    full = save_training(t, sample.source)
    slim = save_training(t, sample.source, max_snapshot_bytes=3 * size)
    assert len(slim) < len(full) - 3 * size
    back = load_training(slim, sample.X_train, sample.y_train, sample.source).trainer
    assert [s.step for s in back.snapshots] == [t.snapshots[i].step for i in (0, 3, 6)]
    only = load_training(save_training(t, sample.source, max_snapshot_bytes=1),
                         sample.X_train, sample.y_train, sample.source).trainer
    assert [s.step for s in only.snapshots] == [0]  # the start is always kept
    list(t.run())
    list(back.run())
    for x, y in zip(t.net.weights, back.net.weights):
        assert np.array_equal(x, y)  # training went on exactly as before


# -- dropout, early stopping, the optimizer's hyperparameters (issue 18) -----------------
# 300 images in batches of 64, 8 epochs: patience 1 with lr 0.4 stops early, and dropout
# draws masks from its own generator, which the file carries.
@pytest.mark.parametrize("cut", [0, 3, 7, 12, 40], ids=lambda n: f"after{n}")
def test_dropout_and_early_stopping_continue_bitwise(sample, cut):
    def build():
        return make(sample, "momentum", "constant", epochs=8, layers=(784, 24, 12, 10),
                    dropout=0.3, patience=1, momentum=0.8)
    straight = build()
    list(straight.run())
    first = build()
    list(first.run(max_steps=cut))
    loaded = reload(first, sample)
    assert loaded.config == first.config
    resumed = loaded.trainer
    assert resumed is not None and resumed.optimizer.mu == 0.8
    assert_same(first, resumed)
    assert (resumed.best is None) == (first.best is None)
    list(resumed.run())
    assert_same(straight, resumed)
    assert resumed.stop_reason == straight.stop_reason
    assert straight.stop_reason.startswith("Stopped early"), straight.stop_reason


def test_adam_hyperparameters_and_a_target_are_kept(sample):
    t = make(sample, "adam", epochs=5, beta1=0.8, beta2=0.99, eps=1e-6, target_accuracy=0.5)
    list(t.run())
    assert t.stop_reason.startswith("Target reached") and t.completed_epochs < 5
    loaded = reload(t, sample)
    assert loaded.config.beta1 == 0.8 and loaded.config.eps == 1e-6
    assert loaded.trainer is not None and loaded.trainer.finished
    assert loaded.trainer.optimizer.beta2 == 0.99
    assert loaded.trainer.ending == t.ending


def test_a_file_from_before_dropout_and_early_stopping_loads_with_the_defaults(good, sample):
    meta = state_of(good)
    for key in ("dropout", "patience", "target_accuracy", "momentum", "beta1", "beta2", "eps"):
        del meta["config"][key]
    for key in ("dropout_rng", "best", "stop_reason"):
        del meta[key]
    old = good | {"training.npy": npy(np.array(json.dumps(meta)))}
    loaded = load_training(zipped(old), sample.X_train, sample.y_train, sample.source)
    assert loaded.trainer is not None and loaded.trainer.step_count == 7
    c = loaded.config
    assert (c.dropout, c.patience, c.target_accuracy, c.momentum) == (0.0, None, None, 0.9)
    again = load_training(zipped(good), sample.X_train, sample.y_train, sample.source).trainer
    list(loaded.trainer.run())
    list(again.run())
    assert_same(again, loaded.trainer)


HOSTILE_LATER = {
    "dropout 1": (json_set("config.dropout", 1), "config.dropout must be"),
    "dropout a string": (json_set("config.dropout", "0.5"), "config.dropout must be"),
    "patience 0": (json_set("config.patience", 0), "config.patience must be"),
    "target above 1": (json_set("config.target_accuracy", 1.5), "config.target_accuracy"),
    "momentum 1": (json_set("config.momentum", 1.0), "config.momentum must be"),
    "eps 0": (json_set("config.eps", 0), "config.eps must be"),
    "dropout_rng other": (json_set("dropout_rng", {"bit_generator": "MT19937"}),
                          "dropout_rng has unknown or missing keys"),
    "best without patience": (json_set("best", {"epoch": 1, "accuracy": 0.5}),
                              "only with patience"),
    "best_params alone": (member("best_params", np.zeros(3)), "has no best epoch"),
    "stop_reason a list": (json_set("stop_reason", ["x"]), "stop_reason must be"),
}


@pytest.mark.parametrize("case", list(HOSTILE_LATER))
def test_hostile_dropout_and_stopping_state_is_refused(case, good, sample):
    change, words = HOSTILE_LATER[case]
    with pytest.raises(ModelFileError) as info:
        load_training(zipped(change(good)), sample.X_train, sample.y_train, sample.source)
    message = str(info.value)
    assert words in message, message
    assert len(message) < 300 and "\n" not in message
