"""The ``default`` preset end to end: training seconds and test accuracy, 1 and 2 threads.

Trains ``PRESETS["default"]`` exactly as ``python -m mnist_np train`` does (the same
``Trainer``, validation at every epoch end included), ``--repeats`` times for each BLAS
thread count, alternating the thread counts, and prints each run, the process's CPU
seconds beside the training seconds, and the medians. The goal (issue 19, item 3): at
least 98.0% test accuracy within 1.5 s of training on one core (``--threads 1``).

    python benchmarks/default_preset.py --data-dir /path/to/mnist [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mnist_np.bench import run_preset
from mnist_np.data import load_mnist
from mnist_np.threads import set_threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--preset", default="default")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    data = load_mnist(args.data_dir)
    runs: dict[int, list[dict]] = {n: [] for n in args.threads}
    for r in range(args.repeats):
        for n in (args.threads if r % 2 == 0 else args.threads[::-1]):
            set_threads(n)
            run = run_preset(args.preset, data.X_train, data.y_train, data.X_test, data.y_test)
            runs[n].append(run)
            print(f"{args.preset}, {n} thread(s): {run['train_seconds']:.2f} s "
                  f"({run['cpu_seconds']:.2f} s CPU), "
                  f"test accuracy {run['test_accuracy']:.2%}, {run['steps']} steps, "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
    for n, rs in runs.items():
        seconds = statistics.median(r["train_seconds"] for r in rs)
        cpu = statistics.median(r["cpu_seconds"] for r in rs)
        accuracy = statistics.median(r["test_accuracy"] for r in rs)
        print(f"median, {n} thread(s): {seconds:.2f} s of training ({cpu:.2f} s CPU), "
              f"test accuracy {accuracy:.2%} (min {min(r['test_accuracy'] for r in rs):.2%})")


if __name__ == "__main__":
    main()
