"""What dropout costs per training step: the same network and batches with and without it.

Times ``Trainer.step`` on the full MNIST for 784-H-10 ReLU networks (batch 128, SGD with
momentum, 1 BLAS thread), with dropout 0 and 0.4 in alternating blocks of ``--steps``
steps, ``--repeats`` times, and prints the median milliseconds per step of each and their
ratio, with the load average. Dropout draws one uniform number per hidden unit and row
(``Generator.random`` in the network's dtype), compares, scales, multiplies the
activations, and multiplies the backward error by the same mask.

    python benchmarks/dropout_cost.py --data-dir /path/to/mnist [--hidden 256 1024]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mnist_np import MLP, TrainConfig, Trainer
from mnist_np.data import load_mnist
from mnist_np.threads import set_threads


def block(trainer: Trainer, steps: int) -> float:
    """Milliseconds per step over ``steps`` steps (the trainer never finishes: epochs=0)."""
    start = time.perf_counter()
    for _ in range(steps):
        trainer.step()
    return (time.perf_counter() - start) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    data = load_mnist(args.data_dir)
    set_threads(1)
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    for hidden in args.hidden:
        trainers = {p: Trainer(MLP([784, hidden, 10]), data.X_train, data.y_train,
                               TrainConfig(epochs=0, schedule="constant", dropout=p))
                    for p in (0.0, 0.4)}
        for t in trainers.values():
            block(t, 20)  # warm up: buffers, caches
        times: dict[float, list[float]] = {p: [] for p in trainers}
        for r in range(args.repeats):
            for p in (trainers if r % 2 == 0 else list(trainers)[::-1]):
                times[p].append(block(trainers[p], args.steps))
        plain, dropped = (statistics.median(times[p]) for p in (0.0, 0.4))
        print(f"784-{hidden}-10, batch 128: {plain:.2f} ms/step without dropout, "
              f"{dropped:.2f} ms/step with dropout 0.4 ({dropped / plain:.2f}x; medians of "
              f"{args.repeats} blocks of {args.steps} steps)", flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
