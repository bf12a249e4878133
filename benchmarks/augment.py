"""Augmentation's cost: milliseconds per batch of 128 for each transform alone and all
together, and the training step of the default network (784-256-10) with and without it.

Each timing is the median of ``--repeats`` runs of ``--batches`` batches (one BLAS thread,
as the app and the CLI train). The machine's load (``uptime``) is printed before and after:
on a shared 2-core machine the numbers move with it.

    python benchmarks/augment.py --data-dir /path/to/mnist [--batches 200 --repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mnist_np import MLP, PRESETS, TrainConfig, Trainer
from mnist_np.augment import Augmentation
from mnist_np.data import load_mnist
from mnist_np.threads import set_threads

BATCH = 128
TRANSFORMS = {
    "shift ±2 px": Augmentation(shift=2),
    "rotation ±15°": Augmentation(rotate=15),
    "scale ±10%": Augmentation(scale=0.1),
    "elastic α=34, σ=4": Augmentation(elastic=34),
    "noise σ=0.1": Augmentation(noise=0.1),
    "shift+rotation+scale": Augmentation(shift=2, rotate=15, scale=0.1),
    "all five": Augmentation(shift=2, rotate=15, scale=0.1, elastic=34, noise=0.1),
}


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "uptime: not available"


def median_ms(run, batches: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batches):
            run()
        times.append((time.perf_counter() - start) / batches * 1e3)
    return statistics.median(times)


def step_ms(X, y, aug: dict, batches: int, repeats: int) -> float:
    """The default preset's Trainer.step (batch 128), with ``aug`` (TrainConfig aug_*)."""
    preset = PRESETS["default"]
    trainer = Trainer(MLP(**preset.net), X, y,
                      TrainConfig(**{**preset.train, "epochs": 0, "schedule": "constant",
                                     **aug}))
    for _ in range(20):  # warm up the buffers
        trainer.step()
    return median_ms(trainer.step, batches, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    set_threads(1)
    data = load_mnist(args.data_dir)
    print(f"before: {uptime()}")
    print(f"numpy {np.__version__}; {data.source}, {len(data.X_train):,} training images; "
          f"median of {args.repeats} x {args.batches} batches of {BATCH}")
    X = data.X_train[:BATCH].copy()
    rng = np.random.default_rng(0)
    print(f"{'transform':<24} {'ms / batch of 128':>18}")
    for name, aug in TRANSFORMS.items():
        print(f"{name:<24} {median_ms(lambda a=aug: a(X, rng), args.batches, args.repeats):>18.2f}")
    plain = step_ms(data.X_train, data.y_train, {}, args.batches, args.repeats)
    print(f"\ntraining step, 784-256-10, batch {BATCH} (Trainer.step):")
    print(f"{'without augmentation':<36} {plain:>8.2f} ms")
    for name, aug in [("with shift+rotation+scale", dict(aug_shift=2, aug_rotate=15,
                                                         aug_scale=0.1)),
                      ("with all five", dict(aug_shift=2, aug_rotate=15, aug_scale=0.1,
                                             aug_elastic=34, aug_noise=0.1))]:
        ms = step_ms(data.X_train, data.y_train, aug, args.batches, args.repeats)
        print(f"{name:<36} {ms:>8.2f} ms  ({ms / plain:.1f}x)")
    print(f"after: {uptime()}")


if __name__ == "__main__":
    main()
