"""Studies on this machine: trials per minute with 1 and 2 Dask workers, and the
scheduling overhead per trial (a trial's wall time on 1 worker, minus the same training
done in this process), on the offline sample: the study's default network (784-256-10,
momentum), 3 epochs, learning rates drawn at random, no pruning.

    python -m benchmarks.study [--trials 30] [--full]

Prints the figures and the machine's load (``uptime``) before and after each.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

from dashboard.settings import Settings
from dashboard.store import Store
from mnist_np import MLP, TrainConfig, Trainer
from mnist_np.data import load_mnist, load_sample
from mnist_np.threads import set_threads
from studies import cluster as dc
from studies import driver as dr
from studies.space import parse_space


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--folder", default="/tmp/mnist_np-study-bench")
    p.add_argument("--full", action="store_true",
                   help="the full MNIST (MNIST_DIR or the cache) instead of the sample")
    args = p.parse_args()
    data = load_mnist(allow_download=False) if args.full else load_sample()
    print(f"data: {data.source}, {len(data.X_train):,} training images")
    base = Settings(epochs=3)  # what `python -m mnist_np study --epochs 3` trains
    set_threads(1)
    start = time.perf_counter()
    for lr in (0.05, 0.1, 0.2):
        s = replace(base, lr=lr)
        trainer = Trainer(MLP(**s.net_config()), data.X_train, data.y_train,
                          TrainConfig(**s.train_config()), max_snapshots=1)
        for _ in trainer.run():
            pass
    direct = (time.perf_counter() - start) / 3
    print(f"one 3-epoch trial trained in this process: {direct:.3f} s ({load()})")
    rates = {}
    for workers in (1, 2):
        os.makedirs(args.folder, exist_ok=True)
        store = Store(f"{args.folder}/runs-{workers}-{time.time():.0f}.sqlite3", 2**30, 86400)
        store.touch("b" * 32)
        storage = dr.open_storage(dr.storage_path(store.path))
        spec = dr.StudySpec(parse_space(["lr=0.02..0.5"]), base, args.trials, 3, "random",
                            "none")
        with dc.connect(None, workers) as client:
            run = dr.StudyRun(spec, storage, store, "b" * 32, data)
            outcome = run.run(client)
        per_trial = outcome.seconds / args.trials
        rates[workers] = 60 * args.trials / outcome.seconds
        print(f"{workers} worker(s): {args.trials} trials in {outcome.seconds:.1f} s, "
              f"{rates[workers]:.1f} trials/minute, {per_trial:.3f} s a trial "
              f"({outcome.count('finished')} finished; {load()})")
        if workers == 1:
            overhead = per_trial - direct
            print(f"scheduling overhead per trial on 1 worker: {overhead:.3f} s = "
                  f"{overhead / per_trial:.1%} of the trial")
    print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
