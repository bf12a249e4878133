"""The sigmoid, precise in its tails (issue 18, item 8), against the former tanh form.

Times ``mnist_np.activations.sigmoid`` (1 / (1 + e^-z), z floored) and the former
``(1 + tanh(z/2)) / 2`` on batches of pre-activations, then whole training steps of
sigmoid networks with each form put in the registries in turn (interleaved, so both see
the same machine load). Prints medians; nothing is asserted.

    python benchmarks/sigmoid.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import statistics
import sys
import time

import numpy as np

if __package__ in (None, ""):  # run as a script: the engine is in the folder above
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mnist_np import MLP, TrainConfig, Trainer, activations, losses
from mnist_np.activations import sigmoid


def tanh_form(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The sigmoid as it was before: (1 + tanh(z/2)) / 2."""
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


@contextlib.contextmanager
def sigmoid_form(f):
    """Put ``f`` in as the sigmoid of the hidden layers and of the output layers."""
    act = activations.ACTIVATIONS["sigmoid"]
    outs = {k: v for k, v in losses.OUTPUT_LOSSES.items() if k[0] == "sigmoid"}
    activations.ACTIVATIONS["sigmoid"] = dataclasses.replace(act, f=f)
    for k, v in outs.items():
        losses.OUTPUT_LOSSES[k] = dataclasses.replace(v, activate=f)
    try:
        yield
    finally:
        activations.ACTIVATIONS["sigmoid"] = act
        losses.OUTPUT_LOSSES.update(outs)


def time_op(f, z: np.ndarray, out: np.ndarray, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        f(z, out=out)
    return (time.perf_counter() - start) / number


def time_steps(sizes: list[int], output_loss: tuple[str, str], f, steps: int) -> float:
    rng = np.random.default_rng(0)
    X = rng.random((4096, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], 4096).astype(np.uint8)
    with sigmoid_form(f):
        net = MLP(sizes, activation="sigmoid", output=output_loss[0], loss=output_loss[1],
                  seed=0)
        trainer = Trainer(net, X, y, TrainConfig(optimizer="sgd", lr=0.1, batch_size=128,
                                                 epochs=0, schedule="constant", val_size=0))
        trainer.step()  # buffers allocated
        start = time.perf_counter()
        for _ in range(steps):
            trainer.step()
        return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    forms = {"tanh form (before)": tanh_form, "1/(1+e^-z) (now)": sigmoid}

    print("sigmoid alone, median of", args.repeats, "(microseconds per call)")
    print(f"{'batch':>12} {'dtype':>8} " + " ".join(f"{k:>20}" for k in forms) + "   ratio")
    for shape in [(128, 16), (128, 256), (128, 1024), (10_000, 256)]:
        for dtype in (np.float32, np.float64):
            z = (np.random.default_rng(1).normal(size=shape) * 4).astype(dtype)
            out = np.empty_like(z)
            number = max(5, 4_000_000 // z.size)
            times: dict[str, list[float]] = {k: [] for k in forms}
            for _ in range(args.repeats):
                for k, f in forms.items():
                    times[k].append(time_op(f, z, out, number))
            med = [statistics.median(times[k]) * 1e6 for k in forms]
            print(f"{'x'.join(map(str, shape)):>12} {np.dtype(dtype).name:>8} "
                  + " ".join(f"{m:>20.1f}" for m in med) + f"   {med[1] / med[0]:.2f}x")

    print("\nwhole training steps (batch 128, SGD, float32), median of", args.repeats,
          "(ms per step)")
    cases = [([784, 16, 10], ("sigmoid", "mse"), "784-16-10 sigmoid, sigmoid+MSE (seed)"),
             ([784, 256, 10], ("sigmoid", "mse"), "784-256-10 sigmoid, sigmoid+MSE"),
             ([784, 64, 64, 64, 64, 10], ("sigmoid", "mse"), "784-64x4-10 (vanishing)")]
    for sizes, output_loss, label in cases:
        times = {k: [] for k in forms}
        for _ in range(args.repeats):
            for k, f in forms.items():
                times[k].append(time_steps(sizes, output_loss, f, 100))
        med = [statistics.median(times[k]) * 1e3 for k in forms]
        print(f"{label:>40} " + " ".join(f"{m:>8.3f}" for m in med)
              + f"   {med[1] / med[0]:.2f}x")


if __name__ == "__main__":
    main()
