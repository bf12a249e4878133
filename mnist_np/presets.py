"""Named starting points: the seed notebook's network, the fast default, and a few
configurations that each teach one thing. A preset is a network config plus a
training config; the CLI's ``--preset`` and the dashboard's preset picker read this.

A preset gives only what differs from the defaults of :class:`MLP` and
:class:`TrainConfig`, which are the ``default`` preset's values, so each number is
written once; :attr:`Preset.net` and :attr:`Preset.train` hold every setting.
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, dataclass, fields

from .data import N_CLASSES, N_INPUTS
from .network import MLP
from .training import TrainConfig


def _net_defaults() -> dict:
    return {name: p.default for name, p in inspect.signature(MLP).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _train_defaults() -> dict:
    return {f.name: f.default for f in fields(TrainConfig) if f.default is not MISSING}


@dataclass(frozen=True)
class Preset:
    """``net``: keyword arguments of :class:`MLP`, ``train``: those of
    :class:`TrainConfig`; given as the changes from their defaults, kept complete."""

    name: str
    description: str
    net: dict
    train: dict

    def __post_init__(self):
        object.__setattr__(self, "net", _net_defaults() | self.net)
        object.__setattr__(self, "train", _train_defaults() | self.train)

    def build(self) -> tuple[MLP, TrainConfig]:
        return MLP(**self.net), TrainConfig(**self.train)


PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset(
        "default",
        "Fast and accurate: 784-256-10 ReLU, softmax + cross-entropy, He init, SGD with "
        "momentum 0.9 at a learning rate of 0.2 that decays linearly to 0 over 4 epochs "
        "of batches of 128. About 98.06% test accuracy (98.00-98.15% over seeds 0-7) in "
        "two thirds of the training the 6-epoch default needed (BENCHMARKS.md).",
        dict(layer_sizes=[N_INPUTS, 256, N_CLASSES]),
        {},
    ),
    Preset(
        "best",
        "The most accurate in a minute: 784-1024-10 ReLU with dropout 0.4 on the hidden "
        "units, SGD with momentum at 0.1 decaying linearly to 0 over 14 epochs. 98.5% test "
        "accuracy in about 45-60 s of training on one core (43 s of CPU; BENCHMARKS.md), "
        "longer on a busy machine.",
        dict(layer_sizes=[N_INPUTS, 1024, N_CLASSES]),
        dict(lr=0.1, epochs=14, dropout=0.4),
    ),
    Preset(
        "seed",
        "The seed notebook: 784-16-10, sigmoid everywhere, mean squared error, weights "
        "from U[-1, 1), plain SGD at 0.1, batches of 100, 20,000 steps. About 85-90%.",
        dict(layer_sizes=[N_INPUTS, 16, N_CLASSES], activation="sigmoid", output="sigmoid",
             loss="mse", init="uniform"),
        dict(optimizer="sgd", lr=0.1, batch_size=100, epochs=1, steps=20_000,
             schedule="constant"),
    ),
    Preset(
        "vanishing",
        "Vanishing gradients: four sigmoid layers with the seed's MSE and SGD. The "
        "gradient shrinks layer by layer going back (about 40x from the last layer to the "
        "first), so the first layers barely learn and accuracy sits near chance for "
        "thousands of steps.",
        dict(layer_sizes=[N_INPUTS, 64, 64, 64, 64, N_CLASSES], activation="sigmoid",
             output="sigmoid", loss="mse", init="xavier"),
        dict(optimizer="sgd", lr=0.5, batch_size=64, epochs=3, schedule="constant"),
    ),
    Preset(
        "exploding",
        "Exploding gradients: a deep ReLU network with the seed's U[-1, 1) weights. "
        "Activations and gradients grow layer after layer and the loss becomes NaN.",
        dict(layer_sizes=[N_INPUTS, 128, 128, 128, N_CLASSES], init="uniform"),
        dict(optimizer="sgd", lr=0.1, batch_size=64, epochs=2, schedule="constant"),
    ),
    Preset(
        "dead_relu",
        "Dying ReLUs: a learning rate far too high for plain SGD knocks many hidden "
        "units into the region where they output 0 for every input, for good.",
        dict(layer_sizes=[N_INPUTS, 128, 128, N_CLASSES]),
        dict(optimizer="sgd", lr=1.0, batch_size=64, epochs=2, schedule="constant"),
    ),
]}
