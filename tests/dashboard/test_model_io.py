"""dashboard.model_io without Streamlit: a saved network read back, and every kind of bad
file refused with one line; the hostile files of tests/engine/test_model_files.py too, with
the current network and settings left as they were."""

import numpy as np
import pytest

from dashboard.model_io import read_model
from dashboard.settings import Settings
from mnist_np import ModelFileError

from ..engine.test_model_files import CASES, assert_one_short_line
from .model_files import BAD, NET

X, Y = np.zeros((20, 784), np.float32), np.zeros(20, np.int64)  # the server's data


def read(raw: bytes, base: Settings):
    """The network and settings of an uploaded file (network-only files here)."""
    upload = read_model(raw, base, X, Y, "mnist")
    return upload.net, upload.settings


def test_a_saved_network_is_read_back_with_settings_that_describe_it():
    base = Settings(lr=0.05, batch_size=64, epochs=3)
    net, settings = read(NET.to_bytes(), base)
    for W, W_saved in zip(net.weights + net.biases, NET.weights + NET.biases):
        np.testing.assert_array_equal(W, W_saved)
    assert settings == Settings(hidden=(32, 16), activation="tanh", init="xavier", l2=1e-4,
                                seed=5, lr=0.05, batch_size=64, epochs=3)
    assert settings.net_config() == {k: v for k, v in NET.config.items() if k != "dtype"}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_file_is_refused_with_one_line(case):
    raw, message = BAD[case]
    with pytest.raises(ModelFileError) as e:
        read(raw, Settings())
    assert message in str(e.value) and "\n" not in str(e.value)


@pytest.fixture(scope="module")
def current():
    """A network already loaded in the session, and the settings it came with."""
    return read(NET.to_bytes(), Settings(lr=0.05))


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_file_is_refused_in_one_short_line_and_the_network_kept(case, current,
                                                                            monkeypatch):
    make, words = CASES[case]
    raw = make(NET)
    net, settings = current
    weights = [a.copy() for a in net.weights + net.biases]
    monkeypatch.setattr(np, "load", None)  # never handed to np.load (pickles, raw members)
    with pytest.raises(ModelFileError) as e:
        read(raw, settings)
    assert_one_short_line(str(e.value), words)
    assert settings == Settings(hidden=(32, 16), activation="tanh", init="xavier", l2=1e-4,
                                seed=5, lr=0.05)
    for a, b in zip(net.weights + net.biases, weights):
        np.testing.assert_array_equal(a, b)


def test_a_file_the_dashboard_cannot_use_is_refused_in_one_line_without_a_traceback(
        monkeypatch):
    import dashboard.model_io as model_io

    def broken(net, base):
        raise KeyError("a check this module forgot")
    monkeypatch.setattr(model_io, "settings_for_model", broken)
    with pytest.raises(ModelFileError, match=r"^the model cannot be used here \(KeyError\)$"):
        read(NET.to_bytes(), Settings())


def _trained_file(sample, **config):
    from mnist_np import MLP, TrainConfig, Trainer
    from mnist_np.checkpoint import save_training

    net = MLP([784, 16, 10], activation="tanh", seed=3)
    trainer = Trainer(net, sample.X_train, sample.y_train,
                      TrainConfig(**{"optimizer": "adam", "lr": 0.003, "epochs": 2,
                                     "schedule": "constant", "train_limit": 500, **config}))
    for _ in range(7):
        trainer.step()
    return save_training(trainer, sample.source), trainer


def test_a_training_file_brings_its_trainer_and_training_settings(sample):
    raw, trainer = _trained_file(sample)
    found = read_model(raw, Settings(lr=0.2), sample.X_train, sample.y_train, sample.source)
    assert found.note is None and found.trainer is not None
    assert found.trainer.step_count == 7
    assert found.settings == Settings(hidden=(16,), activation="tanh", optimizer="adam",
                                      lr=0.003, epochs=2, schedule="constant",
                                      train_limit=500, seed=3)
    found.trainer.step()
    trainer.step()  # goes on exactly as the original would
    np.testing.assert_array_equal(found.net.weights[0], trainer.net.weights[0])


def test_a_training_file_from_other_data_or_beyond_the_limits_loads_its_network(sample):
    raw, _ = _trained_file(sample)
    other = read_model(raw, Settings(), sample.X_train[:3000], sample.y_train[:3000],
                       sample.source)
    assert other.trainer is None and other.note and "\n" not in other.note
    big, _ = _trained_file(sample, batch_size=4096)
    beyond = read_model(big, Settings(), sample.X_train, sample.y_train, sample.source)
    assert beyond.trainer is None and "beyond this dashboard's" in beyond.note
    assert beyond.settings.batch_size == Settings().batch_size  # the sidebar's, not 4096
    old = read_model(NET.to_bytes(), Settings(), X, Y, "mnist")
    assert old.trainer is None and "training settings are unknown" in old.note


def test_a_training_file_brings_back_dropout_stopping_and_optimizer_settings(sample):
    from mnist_np import MLP, TrainConfig, Trainer
    from mnist_np.checkpoint import save_training

    settings = Settings(hidden=(16,), dropout=0.3, patience=2, target_accuracy=0.97,
                        val_size=1000, optimizer="adam", lr=0.003, beta1=0.8, beta2=0.99,
                        eps=1e-6, train_limit=500)
    trainer = Trainer(MLP(**settings.net_config()), sample.X_train, sample.y_train,
                      TrainConfig(**settings.train_config()))
    list(trainer.run(max_steps=3))
    upload = read_model(save_training(trainer, sample.source), Settings(), sample.X_train,
                        sample.y_train, sample.source)
    assert upload.settings == settings and upload.trainer is not None
    assert upload.trainer.step_count == 3 and upload.note is None


def test_an_uploaded_training_file_brings_its_augmentation_to_the_sidebar(sample):
    from mnist_np import MLP, TrainConfig, Trainer
    from mnist_np.checkpoint import save_training

    settings = Settings(hidden=(16,), train_limit=300, aug_rotate=15.0, aug_elastic=34.0)
    trainer = Trainer(MLP(**settings.net_config()), sample.X_train, sample.y_train,
                      TrainConfig(**settings.train_config()))
    list(trainer.run(max_steps=2))
    upload = read_model(save_training(trainer, sample.source), Settings(), sample.X_train,
                        sample.y_train, sample.source)
    assert upload.settings == settings  # not augmentation 0 beside a trainer that augments
    assert upload.trainer is not None and upload.trainer.config.aug_rotate == 15.0
