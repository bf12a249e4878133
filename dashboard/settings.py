"""The dashboard's settings: one flat, validated record that maps to the engine's
network and training configs, to presets, and to the URL's query string.

Pure Python (no Streamlit), so the round trip through the query string is tested directly.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace

from mnist_np import ACTIVATIONS, INITS, MLP, OPTIMIZERS, OUTPUT_LOSSES, PRESETS, TrainConfig
from mnist_np.augment import LIMITS as AUG_LIMITS
from mnist_np.data import DATASETS, N_CLASSES, N_INPUTS, folder_datasets
from mnist_np.network import BRIEF, brief, parse_hidden
from mnist_np.training import SCHEDULES

_NET = inspect.signature(MLP).parameters  # the engine's defaults are the default preset's

# Limits that protect a shared server (and keep every page interactive).
MAX_HIDDEN_LAYERS = 4
MAX_UNITS = 1024
LR_RANGE = (1e-5, 10.0)
MAX_BATCH = 2048
MAX_EPOCHS = 100
MAX_STEPS = 200_000
MAX_L2 = 1.0
MIN_TRAIN = 100
MAX_SEED = 2**31 - 1

OUTPUT_LOSS_NAMES = [f"{o}+{lo}" for o, lo in OUTPUT_LOSSES]

# Augmentation (while training): the fields, what each is called in a message and in
# a run's description; their limits are the engine's (mnist_np.augment.LIMITS).
AUG_FIELDS = ("aug_shift", "aug_rotate", "aug_scale", "aug_elastic", "aug_noise")
AUG_WHAT = {"aug_shift": "the shift augmentation (pixels)",
            "aug_rotate": "the rotation augmentation (degrees)",
            "aug_scale": "the scale augmentation (a fraction)",
            "aug_elastic": "the elastic distortion's α",
            "aug_noise": "the pixel-noise augmentation (standard deviation)"}
AUG_WORDS = {"aug_shift": "shift ±{:g} px", "aug_rotate": "rotation ±{:g}°",
             "aug_scale": "scale ±{:.0%}", "aug_elastic": "elastic α={:g}",
             "aug_noise": "noise σ={:g}"}

# Dropout, early stopping, the optimizer's hyperparameters and the validation split.
MAX_DROPOUT = 0.9
MAX_PATIENCE = MAX_EPOCHS
MAX_VAL = 12_000  # the engine holds out at most a fifth of the 60,000 training images
ONE_MINUS = 0.99999  # momentum's μ and Adam's betas are below 1
TRAINING_FIELDS = ("dropout", "patience", "target_accuracy", "val_size", "momentum", "beta1",
                   "beta2", "eps")

# Settings whose change rebuilds the network; the others apply to the running one.
LIVE_FIELDS = ("lr", "batch_size", "epochs", "steps")


@dataclass(frozen=True)
class Settings:
    """Everything that defines a run. ``steps`` (when not None) replaces ``epochs``;
    ``epochs`` 0 (without ``steps``) trains until paused; ``train_limit`` None means the
    whole training split. The defaults are the engine's
    (the ``default`` preset): each is written once, in ``mnist_np``."""

    dataset: str = "mnist"  # a key of mnist_np.data.DATASETS, or a folder's (data_sets())
    hidden: tuple[int, ...] = tuple(PRESETS["default"].net["layer_sizes"][1:-1])
    activation: str = _NET["activation"].default
    output_loss: str = f"{_NET['output'].default}+{_NET['loss'].default}"
    init: str = _NET["init"].default
    optimizer: str = TrainConfig.optimizer
    lr: float = TrainConfig.lr
    batch_size: int = TrainConfig.batch_size
    epochs: int = TrainConfig.epochs
    steps: int | None = TrainConfig.steps
    schedule: str = TrainConfig.schedule
    l2: float = _NET["l2"].default
    train_limit: int | None = TrainConfig.train_limit
    seed: int = _NET["seed"].default
    aug_shift: float = TrainConfig.aug_shift
    aug_rotate: float = TrainConfig.aug_rotate
    aug_scale: float = TrainConfig.aug_scale
    aug_elastic: float = TrainConfig.aug_elastic
    aug_noise: float = TrainConfig.aug_noise
    dropout: float = TrainConfig.dropout
    patience: int | None = TrainConfig.patience
    target_accuracy: float | None = TrainConfig.target_accuracy
    val_size: int = TrainConfig.val_size
    momentum: float = TrainConfig.momentum
    beta1: float = TrainConfig.beta1
    beta2: float = TrainConfig.beta2
    eps: float = TrainConfig.eps

    @property
    def layer_sizes(self) -> list[int]:
        return [N_INPUTS, *self.hidden, N_CLASSES]

    def net_config(self) -> dict:
        output, loss = self.output_loss.split("+")
        return dict(layer_sizes=self.layer_sizes, activation=self.activation, output=output,
                    loss=loss, init=self.init, l2=self.l2, seed=self.seed)

    def train_config(self) -> dict:
        return dict(optimizer=self.optimizer, lr=self.lr, batch_size=self.batch_size,
                    epochs=self.epochs, steps=self.steps, train_limit=self.train_limit,
                    seed=self.seed, schedule=self.schedule, **self.augmentation,
                    **self.regularisation)

    @property
    def regularisation(self) -> dict:
        """Dropout, the stopping rules on validation, the validation size and the
        optimizer's hyperparameters: TrainConfig's fields of the same names."""
        return {f: getattr(self, f) for f in TRAINING_FIELDS}

    @property
    def augmentation(self) -> dict[str, float]:
        """The augmentation settings, ``{"aug_shift": ..., ...}`` (all 0: none)."""
        return {f: getattr(self, f) for f in AUG_FIELDS}

    def describe_augmentation(self) -> str:
        """``"shift ±2 px, rotation ±15°"``: the augmentation in words ("none")."""
        parts = [AUG_WORDS[f].format(getattr(self, f)) for f in AUG_FIELDS if getattr(self, f)]
        return ", ".join(parts) or "none"

    def needs_reset(self, other: Settings) -> bool:
        """True when going from ``other`` to ``self`` changes more than the live fields."""
        live = {f: getattr(self, f) for f in LIVE_FIELDS}
        return as_dict(replace(other, **live)) != as_dict(self)

    @property
    def until_paused(self) -> bool:
        return self.steps is None and self.epochs == 0

    def describe(self) -> str:
        sizes = "-".join(map(str, self.layer_sizes))
        stop = (f"{self.steps} steps" if self.steps else "until paused"
                if self.until_paused else f"{self.epochs} epochs")
        return (f"{sizes} {self.activation}, {self.output_loss}, {self.init} init, "
                f"{self.optimizer} lr={self.lr:g} ({self.schedule}), batch {self.batch_size}, "
                f"{stop}, L2={self.l2:g}, seed {self.seed}"
                + (f", augmented ({self.describe_augmentation()})"
                   if any(self.augmentation.values()) else "")
                + (f", dropout {self.dropout:g}" if self.dropout else "")
                + (f", patience {self.patience}" if self.patience else "")
                + (f", target {self.target_accuracy:.2%}" if self.target_accuracy else ""))


def from_preset(name: str) -> Settings:
    preset = PRESETS[name]
    net, train = preset.net, preset.train
    return Settings(
        hidden=tuple(net["layer_sizes"][1:-1]), activation=net["activation"],
        output_loss=f"{net['output']}+{net['loss']}", init=net["init"],
        optimizer=train["optimizer"], lr=train["lr"], batch_size=train["batch_size"],
        epochs=train["epochs"], steps=train["steps"], schedule=train["schedule"],
        l2=net["l2"], train_limit=train["train_limit"], seed=train["seed"],
        **{f: float(train[f]) for f in AUG_FIELDS},  # type: ignore[arg-type]
        **{f: train[f] for f in TRAINING_FIELDS},
    )


def data_sets() -> dict[str, str]:
    """The data sets a user can pick, ``{key: title}``: MNIST, Fashion-MNIST, KMNIST and
    the folders the server offers (``MNIST_NP_DATASETS``)."""
    return {**{k: d.title for k, d in DATASETS.items()}, **{k: k for k in folder_datasets()}}


def matching_preset(settings: Settings) -> str | None:
    """The name of the preset these settings equal (on any data set), if any."""
    settings = replace(settings, dataset=Settings.dataset)  # presets say nothing of data
    for name in PRESETS:
        if from_preset(name) == settings:
            return name
    return None


# -- query string ---------------------------------------------------------------------
# URL parameter names, short and readable: ?hidden=128,64&act=relu&lr=0.01 ...
_PARAM_OF_FIELD = {
    "hidden": "hidden", "activation": "act", "output_loss": "out", "init": "init",
    "optimizer": "opt", "lr": "lr", "batch_size": "batch", "epochs": "epochs",
    "steps": "steps", "schedule": "sched", "l2": "l2", "train_limit": "train", "seed": "seed",
    "dataset": "data",
}
_PARAM_OF_FIELD |= {"aug_shift": "shift", "aug_rotate": "rot", "aug_scale": "scale",
                    "aug_elastic": "elastic", "aug_noise": "noise"}
_PARAM_OF_FIELD |= {"dropout": "dropout", "patience": "patience",
                    "target_accuracy": "target", "val_size": "val", "momentum": "mu",
                    "beta1": "beta1", "beta2": "beta2", "eps": "eps"}
_FIELD_OF_PARAM = {p: f for f, p in _PARAM_OF_FIELD.items()}
PARAMS = frozenset(_FIELD_OF_PARAM) | {"preset"}


def to_query(settings: Settings) -> dict[str, str]:
    """The settings as query parameters (only those that differ from the defaults)."""
    default = Settings()
    out = {}
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if value == getattr(default, f.name):
            continue
        if f.name == "hidden":
            text = ",".join(map(str, value)) if value else "none"
        elif value is None:
            text = "all" if f.name == "train_limit" else "0"
        else:
            text = f"{value:g}" if isinstance(value, float) else str(value)
        out[_PARAM_OF_FIELD[f.name]] = text
    return out


def _int(text: str, low: int, high: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{what} must be a whole number, got {brief(text)}") from None
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {low} and {high}, got "
                         f"{value if len(text) <= BRIEF else brief(text)}")
    return value


def _float(text: str, low: float, high: float, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {brief(text)}") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{what} must be between {low:g} and {high:g}, got "
                         f"{text if len(text) <= BRIEF else brief(text)}")
    return value


def _choice(text: str, options, what: str) -> str:
    if text not in options:
        raise ValueError(f"{what} {brief(text)} is unknown; choose from {', '.join(options)}")
    return text


def parse_field(name: str, text: str):
    """One setting from its text form; raise ValueError with a one-line message."""
    if name == "hidden":
        return parse_hidden(text, MAX_HIDDEN_LAYERS, MAX_UNITS)
    if name == "activation":
        return _choice(text, list(ACTIVATIONS), "activation")
    if name == "output_loss":
        return _choice(text, OUTPUT_LOSS_NAMES, "output+loss")
    if name == "init":
        return _choice(text, list(INITS), "init")
    if name == "optimizer":
        return _choice(text, list(OPTIMIZERS), "optimizer")
    if name == "schedule":
        return _choice(text, list(SCHEDULES), "schedule")
    if name == "lr":
        return _float(text, *LR_RANGE, "the learning rate")
    if name == "l2":
        return _float(text, 0.0, MAX_L2, "L2")
    if name == "batch_size":
        return _int(text, 1, MAX_BATCH, "the batch size")
    if name == "epochs":
        return _int(text, 0, MAX_EPOCHS, "epochs (0: until paused)")
    if name == "steps":
        value = _int(text, 0, MAX_STEPS, "steps")
        return value or None
    if name == "train_limit":
        if text.strip().lower() in ("all", ""):
            return None
        return _int(text, MIN_TRAIN, 60_000, "the training-set size")
    if name == "seed":
        return _int(text, 0, MAX_SEED, "the seed")
    if name == "dataset":
        return _choice(text, list(data_sets()), "data set")
    if name == "dropout":
        return _float(text, 0.0, MAX_DROPOUT, "dropout")
    if name == "patience":
        return _int(text, 0, MAX_PATIENCE, "patience (0: off)") or None
    if name == "target_accuracy":
        # to a millionth: the sidebar shows it in percent, and must give back the same
        return round(_float(text, 0.0, 1.0, "the target accuracy (a fraction; 0: off)"),
                     6) or None
    if name == "val_size":
        return _int(text, 0, MAX_VAL, "the validation size")
    if name in ("momentum", "beta1", "beta2"):
        return _float(text, 0.0, ONE_MINUS, {"momentum": "momentum's μ", "beta1": "Adam's β1",
                                             "beta2": "Adam's β2"}[name])
    if name == "eps":
        return _float(text, 1e-12, 1.0, "Adam's ε")
    if name in AUG_FIELDS:
        return _float(text, 0.0, AUG_LIMITS[name.removeprefix("aug_")], AUG_WHAT[name])
    raise KeyError(name)


def from_query(params: Mapping[str, str | list[str]]) -> tuple[Settings, list[str]]:
    """Settings from query parameters, plus a warning per parameter that was ignored.

    A parameter given more than once (a list of values) takes its last value, with a
    warning. ``preset`` is applied first; every other known parameter overrides it.
    Unknown names and invalid values are ignored, each with a one-line warning.
    """
    warnings: list[str] = []
    last = {}
    for key, value in params.items():
        values = [value] if isinstance(value, str) else list(value)
        last[key] = str(values[-1])
        if len(values) > 1:
            warnings.append(f"{brief(key)} was given {len(values)} times; the last one, "
                            f"{brief(last[key])}, is used")
    settings = Settings()
    preset = last.get("preset")
    if preset is not None:
        if preset in PRESETS:
            settings = from_preset(preset)
        else:
            warnings.append(f"ignored preset={brief(preset)}: choose from {', '.join(PRESETS)}")
    changes = {}
    for key, text in last.items():
        if key == "preset":
            continue
        if key not in _FIELD_OF_PARAM:
            warnings.append(f"ignored unknown URL parameter {brief(key)}")
            continue
        try:
            changes[_FIELD_OF_PARAM[key]] = parse_field(_FIELD_OF_PARAM[key], text)
        except ValueError as e:
            warnings.append(f"ignored {key}={brief(text)}: {e}")
    settings, fixed = consistent(replace(settings, **changes))
    return settings, [*warnings, *([fixed] if fixed else [])]


def consistent(settings: Settings) -> tuple[Settings, str | None]:
    """``settings`` made trainable, and what was changed: a run until paused has no end
    for a decaying learning-rate schedule to reach, so it takes the constant one."""
    if settings.until_paused and settings.schedule != "constant":
        return (replace(settings, schedule="constant"),
                f"training until paused (epochs 0) uses the constant learning-rate "
                f"schedule: the {settings.schedule} one needs an end to decay towards")
    if settings.val_size == 0 and (settings.patience or settings.target_accuracy):
        return (replace(settings, patience=None, target_accuracy=None),
                "early stopping and the target accuracy watch validation accuracy, so "
                "with no validation images they are off")
    return settings, None


def as_dict(settings: Settings) -> dict:
    d = asdict(settings)
    d["hidden"] = list(settings.hidden)
    return d
