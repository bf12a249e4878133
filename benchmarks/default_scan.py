"""Scan candidate recipes for the ``default`` preset: training seconds and accuracy.

Each configuration is the default network and training with some settings changed
(``key=value`` pairs; ``hidden`` sets the hidden width, ``seed`` both the network's and
the training's seed). Every run trains with the engine's own ``Trainer`` on one BLAS
thread, as ``mnist_np.bench.run_preset`` does (validation at every epoch end inside the
training seconds), and prints wall-clock training seconds, the process's CPU seconds
over the same run, the last epoch's validation accuracy (the split a recipe is chosen
on), the test accuracy (only reported) and the 1-minute load average. Issue 19, item 3.

    python benchmarks/default_scan.py --data-dir DIR --seeds 0 1 2 3 \\
        "hidden=128 epochs=3 lr=0.3" "batch_size=256 lr=0.4 epochs=3"
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mnist_np.data import N_CLASSES, N_INPUTS, load_mnist
from mnist_np.presets import PRESETS
from mnist_np.threads import set_threads
from mnist_np.training import SCHEDULES, TrainConfig, Trainer


def parse(spec: str) -> dict:
    """``"hidden=128 lr=0.3 schedule=cosine"`` → ``{"hidden": 128, "lr": 0.3, ...}``."""
    out: dict = {}
    for part in spec.split():
        key, value = part.split("=", 1)
        for kind in (int, float):
            try:
                out[key] = kind(value)
                break
            except ValueError:
                continue
        else:
            out[key] = value
    return out


def run(changes: dict, seed: int, data) -> dict:
    """Train the default preset with ``changes`` and ``seed``; its figures."""
    preset = PRESETS["default"]
    net_kw, train_kw = dict(preset.net), dict(preset.train)
    changes = dict(changes)
    if "hidden" in changes:
        net_kw["layer_sizes"] = [N_INPUTS, int(changes.pop("hidden")), N_CLASSES]
    for key in list(changes):
        if key in net_kw and key != "seed":
            net_kw[key] = changes.pop(key)
    smooth = float(changes.pop("smooth", 0.0))
    warmup = float(changes.pop("warmup", 0.0))
    X, X_test = data.X_train, data.X_test
    if changes.pop("standardize", 0):  # exploratory: MNIST's pixel mean and std, globally
        X, X_test = (X - 0.1307) / 0.3081, (X_test - 0.1307) / 0.3081
    if warmup:  # an exploratory schedule: linear rise over ``warmup``, then linear decay
        SCHEDULES["warmup"] = lambda p: p / warmup if p < warmup else (1 - p) / (1 - warmup)
        changes["schedule"] = "warmup"
    train_kw |= changes
    net_kw["seed"] = train_kw["seed"] = seed
    from mnist_np.network import MLP
    net = MLP(**net_kw)
    trainer = Trainer(net, X, data.y_train, TrainConfig(**train_kw))
    if smooth:  # exploratory label smoothing: the targets the trainer gathers
        trainer._eye = (trainer._eye * (1 - smooth) + smooth / N_CLASSES).astype(net.dtype)
    cpu = time.process_time()
    for _ in trainer.run():
        pass
    cpu = time.process_time() - cpu
    _, test = trainer.evaluate(X_test, data.y_test)
    return {"seconds": trainer.train_seconds, "cpu": cpu,
            "val": trainer.epoch_records[-1].val_accuracy if trainer.epoch_records else None,
            "test": test, "steps": trainer.step_count, "load": os.getloadavg()[0],
            "diverged": trainer.diverged}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs="+", help='e.g. "hidden=128 epochs=3 lr=0.3"')
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--json", help="append every run as a JSON line to this file")
    args = parser.parse_args()

    set_threads(1)
    data = load_mnist(args.data_dir)
    for spec in args.configs:
        runs = []
        for seed in args.seeds:
            r = run(parse(spec), seed, data) | {"config": spec, "seed": seed}
            runs.append(r)
            print(f"[{spec}] seed {seed}: {r['seconds']:.2f} s ({r['cpu']:.2f} s CPU), "
                  f"val {r['val']:.2%}, test {r['test']:.2%}, load {r['load']:.2f}"
                  f"{' DIVERGED' if r['diverged'] else ''}", flush=True)
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(r) + "\n")
        med = {k: statistics.median(r[k] for r in runs) for k in ("seconds", "cpu", "val",
                                                                     "test")}
        print(f"[{spec}] median: {med['seconds']:.2f} s ({med['cpu']:.2f} s CPU), "
              f"val {med['val']:.2%} (min {min(r['val'] for r in runs):.2%}), "
              f"test {med['test']:.2%} (min {min(r['test'] for r in runs):.2%})", flush=True)


if __name__ == "__main__":
    main()
