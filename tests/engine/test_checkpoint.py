"""Training files (mnist_np/checkpoint.py): a trainer saved and loaded continues exactly as
if it had never stopped; older and foreign files load their network with a note; every
malformed training state is refused in one short line; the file stays bounded."""

import io

import numpy as np
import pytest

from mnist_np import MLP, TrainConfig, Trainer
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
