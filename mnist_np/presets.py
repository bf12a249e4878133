"""Named starting points: the seed notebook's network, the fast default, and a few
configurations that each teach one thing. A preset is a network config plus a
training config; the CLI's ``--preset`` and the dashboard's preset picker read this."""

from __future__ import annotations

from dataclasses import dataclass

from .network import MLP
from .training import TrainConfig


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    net: dict
    train: dict

    def build(self) -> tuple[MLP, TrainConfig]:
        return MLP(**self.net), TrainConfig(**self.train)


PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset(
        "default",
        "Fast and accurate: 784-256-10 ReLU, softmax + cross-entropy, He init, SGD with "
        "momentum and a learning rate that decays linearly to 0. About 98.2% test "
        "accuracy after 6 epochs, under 10 seconds of training on 2 cores.",
        dict(layer_sizes=[784, 256, 10], activation="relu", output="softmax",
             loss="cross_entropy", init="he", l2=0.0, seed=0),
        dict(optimizer="momentum", lr=0.2, batch_size=128, epochs=6, schedule="linear",
             seed=0),
    ),
    Preset(
        "seed",
        "The seed notebook: 784-16-10, sigmoid everywhere, mean squared error, weights "
        "from U[-1, 1), plain SGD at 0.1, batches of 100, 20,000 steps. About 85-90%.",
        dict(layer_sizes=[784, 16, 10], activation="sigmoid", output="sigmoid", loss="mse",
             init="uniform", l2=0.0, seed=0),
        dict(optimizer="sgd", lr=0.1, batch_size=100, epochs=1, steps=20_000, seed=0),
    ),
    Preset(
        "vanishing",
        "Vanishing gradients: four sigmoid layers with the seed's MSE and SGD. The "
        "gradient shrinks layer by layer going back (about 40x from the last layer to the "
        "first), so the first layers barely learn and accuracy sits near chance for "
        "thousands of steps.",
        dict(layer_sizes=[784, 64, 64, 64, 64, 10], activation="sigmoid",
             output="sigmoid", loss="mse", init="xavier", l2=0.0, seed=0),
        dict(optimizer="sgd", lr=0.5, batch_size=64, epochs=3, seed=0),
    ),
    Preset(
        "exploding",
        "Exploding gradients: a deep ReLU network with the seed's U[-1, 1) weights. "
        "Activations and gradients grow layer after layer and the loss becomes NaN.",
        dict(layer_sizes=[784, 128, 128, 128, 10], activation="relu", output="softmax",
             loss="cross_entropy", init="uniform", l2=0.0, seed=0),
        dict(optimizer="sgd", lr=0.1, batch_size=64, epochs=2, seed=0),
    ),
    Preset(
        "dead_relu",
        "Dying ReLUs: a learning rate far too high for plain SGD knocks many hidden "
        "units into the region where they output 0 for every input, for good.",
        dict(layer_sizes=[784, 128, 128, 10], activation="relu", output="softmax",
             loss="cross_entropy", init="he", l2=0.0, seed=0),
        dict(optimizer="sgd", lr=1.0, batch_size=64, epochs=2, seed=0),
    ),
]}
