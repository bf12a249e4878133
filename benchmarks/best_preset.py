"""The ``best`` preset end to end on one BLAS thread: training time and test accuracy.

Trains ``PRESETS["best"]`` exactly as ``python -m mnist_np train --preset best`` does (the
same ``Trainer``, dropout, validation at every epoch end) ``--repeats`` times with one
BLAS thread, and prints for each run the wall-clock training time, the CPU time the
process used meanwhile (on a shared machine the wall clock also counts the time other
processes held the core), samples per second, validation accuracy per epoch and the test
accuracy, with ``uptime`` before and after. The goal: at least 98.5% test accuracy on the
full MNIST within 60 s of training on one core.

    python benchmarks/best_preset.py --data-dir /path/to/mnist [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mnist_np.data import load_mnist
from mnist_np.presets import PRESETS
from mnist_np.threads import set_threads
from mnist_np.training import Trainer


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return f"load average {os.getloadavg()}"


def run(name: str, data) -> dict:
    net, config = PRESETS[name].build()
    trainer = Trainer(net, data.X_train, data.y_train, config)
    cpu = time.process_time()
    for _ in trainer.run():
        pass
    cpu = time.process_time() - cpu
    _, accuracy = trainer.evaluate(data.X_test, data.y_test)
    return {"seconds": trainer.train_seconds, "cpu_seconds": cpu,
            "samples_per_second": trainer.samples_per_second, "test_accuracy": accuracy,
            "epochs": trainer.epochs_done, "ending": trainer.ending,
            "val": [r.val_accuracy for r in trainer.epoch_records],
            "load": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--preset", default="best")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    data = load_mnist(args.data_dir)
    set_threads(1)
    preset = PRESETS[args.preset]
    print(f"preset {args.preset}: {preset.description}")
    print(f"data: {data.source}, {len(data.X_train):,} training / {len(data.X_test):,} test "
          "images; 1 BLAS thread")
    print(f"before: {uptime()}", flush=True)
    runs = []
    for i in range(args.repeats):
        r = run(args.preset, data)
        runs.append(r)
        print(f"run {i + 1}: {r['seconds']:.1f} s of training ({r['cpu_seconds']:.1f} s of "
              f"CPU), {r['samples_per_second']:,.0f} samples/s, {r['epochs']:.0f} epochs, "
              f"test accuracy {r['test_accuracy']:.2%}, load {r['load']:.2f}", flush=True)
        print(f"  validation per epoch: {', '.join(f'{v:.2%}' for v in r['val'])}")
        print(f"  {r['ending']}", flush=True)
    print(f"after: {uptime()}")
    seconds = statistics.median(r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    accuracy = statistics.median(r["test_accuracy"] for r in runs)
    met = accuracy >= 0.985 and seconds <= 60
    print(f"median of {len(runs)}: {seconds:.1f} s of training ({cpu:.1f} s of CPU), "
          f"test accuracy {accuracy:.2%} (min {min(r['test_accuracy'] for r in runs):.2%}); "
          f"goal >= 98.50% within 60 s: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
