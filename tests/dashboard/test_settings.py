"""dashboard.settings without Streamlit: the query string both ways, its limits, presets,
and which changes reset the network."""

import pytest

from dashboard import settings as cfg
from dashboard.settings import Settings
from mnist_np import PRESETS, TrainConfig


def test_repeated_and_very_long_url_values_warn_briefly():
    settings, warnings = cfg.from_query({"lr": ["0.1", "0.05"], "hidden": "1" * 5000,
                                         "x" * 3000: "1", "act": "banana" * 500})
    assert settings == Settings(lr=0.05)
    assert warnings[0] == "'lr' was given 2 times; the last one, '0.05', is used"
    assert len(warnings) == 4 and all(len(w) < 250 for w in warnings)  # not 5,000
    assert "(5,000 characters)" in warnings[1] and "(3,000 characters)" in " ".join(warnings)


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


def test_epochs_0_means_until_paused_with_the_constant_schedule():
    settings, warnings = cfg.from_query({"epochs": "0"})
    assert settings.until_paused and settings.schedule == "constant"
    assert warnings == ["training until paused (epochs 0) uses the constant learning-rate "
                        "schedule: the linear one needs an end to decay towards"]
    assert "until paused" in settings.describe()
    assert cfg.to_query(settings) == {"epochs": "0", "sched": "constant"}
    again, none = cfg.from_query(cfg.to_query(settings))
    assert again == settings and none == []
    counted, _ = cfg.from_query({"epochs": "0", "steps": "50"})  # steps are an end
    assert not counted.until_paused and counted.schedule == "linear"
    assert cfg.from_query({"epochs": "-1"})[1][0].startswith("ignored epochs='-1'")


def test_augmentation_round_trips_through_the_query_string_and_resets_the_network():
    settings = Settings(aug_shift=2.0, aug_rotate=15.0, aug_scale=0.1, aug_elastic=34.0,
                        aug_noise=0.05)
    query = cfg.to_query(settings)
    assert query == {"shift": "2", "rot": "15", "scale": "0.1", "elastic": "34",
                     "noise": "0.05"}
    back, warnings = cfg.from_query(query)
    assert back == settings and warnings == []
    assert settings.train_config()["aug_elastic"] == 34.0
    assert settings.needs_reset(Settings())
    assert settings.describe().endswith(
        ", augmented (shift ±2 px, rotation ±15°, scale ±10%, elastic α=34, noise σ=0.05)")
    assert "augmented" not in Settings().describe()
    assert Settings().describe_augmentation() == "none"


def test_augmentation_out_of_range_in_the_url_is_ignored_in_one_line():
    settings, warnings = cfg.from_query({"rot": "400", "shift": "-1", "noise": "x",
                                         "elastic": "inf"})
    assert settings == Settings()
    assert warnings == [
        "ignored rot='400': the rotation augmentation (degrees) must be between 0 and 90, "
        "got 400",
        "ignored shift='-1': the shift augmentation (pixels) must be between 0 and 8, got -1",
        "ignored noise='x': the pixel-noise augmentation (standard deviation) must be a "
        "number, got 'x'",
        "ignored elastic='inf': the elastic distortion's α must be between 0 and 60, got inf"]


def test_dropout_stopping_and_optimizer_knobs_round_trip_through_the_query_string():
    settings = Settings(dropout=0.5, patience=3, target_accuracy=0.985, val_size=1000,
                        momentum=0.95, beta1=0.8, beta2=0.99, eps=1e-6)
    query = cfg.to_query(settings)
    assert query == {"dropout": "0.5", "patience": "3", "target": "0.985", "val": "1000",
                     "mu": "0.95", "beta1": "0.8", "beta2": "0.99", "eps": "1e-06"}
    back, warnings = cfg.from_query(query)
    assert back == settings and warnings == []
    train = settings.train_config()
    assert (train["dropout"], train["patience"], train["target_accuracy"]) == (0.5, 3, 0.985)
    assert (train["val_size"], train["momentum"], train["eps"]) == (1000, 0.95, 1e-6)
    assert settings.needs_reset(Settings())
    assert settings.describe().endswith(", dropout 0.5, patience 3, target 98.50%")
    # 0 turns the stopping rules off
    assert cfg.from_query({"patience": "0", "target": "0"}) == (Settings(), [])


def test_dropout_stopping_and_optimizer_knobs_out_of_range_are_ignored_in_one_line():
    settings, warnings = cfg.from_query({"dropout": "0.95", "patience": "x", "target": "1.5",
                                         "mu": "1", "eps": "0", "val": "99999",
                                         "beta2": "nan"})
    assert settings == Settings()
    assert warnings == [
        "ignored dropout='0.95': dropout must be between 0 and 0.9, got 0.95",
        "ignored patience='x': patience (0: off) must be a whole number, got 'x'",
        "ignored target='1.5': the target accuracy (a fraction; 0: off) must be between 0 "
        "and 1, got 1.5",
        "ignored mu='1': momentum's μ must be between 0 and 0.99999, got 1",
        "ignored eps='0': Adam's ε must be between 1e-12 and 1, got 0",
        "ignored val='99999': the validation size must be between 0 and 12000, got 99999",
        "ignored beta2='nan': Adam's β2 must be between 0 and 0.99999, got nan"]


def test_stopping_rules_without_validation_images_are_turned_off_and_said():
    settings, warnings = cfg.from_query({"val": "0", "patience": "3", "target": "0.9"})
    assert (settings.val_size, settings.patience, settings.target_accuracy) == (0, None, None)
    assert warnings == ["early stopping and the target accuracy watch validation accuracy, "
                        "so with no validation images they are off"]
    TrainConfig(**settings.train_config())  # trainable as it is
