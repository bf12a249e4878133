"""Studies on this machine: trials per minute with 1 and 2 Dask workers, and the
scheduling overhead per trial (a trial's wall time on 1 worker, minus the same training
done in this process), on the offline sample: the study's default network (784-256-10,
momentum), 3 epochs, learning rates drawn at random, no pruning.

    python -m benchmarks.study [--trials 30] [--full] [--pruner median]

Prints the figures and the machine's load (``uptime``) before and after each, and what
the machine itself allows: the same trials trained by one plain process, then by two side
by side (``multiprocessing``, no Dask), trials per minute each way.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from dataclasses import replace

import numpy as np

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


def _train(source_full: bool, lrs: list[float], base: Settings) -> None:
    """Train one 3-epoch trial per learning rate in ``lrs``, in this process."""
    set_threads(1)
    data = load_mnist(allow_download=False) if source_full else load_sample()
    for lr in lrs:
        s = replace(base, lr=lr)
        trainer = Trainer(MLP(**s.net_config()), data.X_train, data.y_train,
                          TrainConfig(**s.train_config()), max_snapshots=1)
        for _ in trainer.run():
            pass


def plain_processes(full: bool, base: Settings, trials: int) -> dict[int, float]:
    """Trials per minute of ``trials`` trials trained by 1 process, then split between 2
    processes at once (each loads its data first, outside the timing)."""
    rates = {}
    lrs = [0.05 + 0.3 * i / max(1, trials - 1) for i in range(trials)]
    ctx = multiprocessing.get_context("spawn")
    for n in (1, 2):
        with ctx.Pool(n) as pool:
            pool.starmap(_train, [(full, [], base)] * n)  # start and import, untimed
            start = time.perf_counter()
            pool.starmap(_train, [(full, lrs[i::n], base) for i in range(n)])
            rates[n] = 60 * trials / (time.perf_counter() - start)
    return rates


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--folder", default="/tmp/mnist_np-study-bench")
    p.add_argument("--full", action="store_true",
                   help="the full MNIST (MNIST_DIR or the cache) instead of the sample")
    p.add_argument("--pruner", default="none", choices=dr.PRUNERS,
                   help="with a pruner, each epoch's answer is awaited (none is pruned: "
                        "the learning rates all learn)")
    args = p.parse_args()
    data = load_mnist(allow_download=False) if args.full else load_sample()
    print(f"data: {data.source}, {len(data.X_train):,} training images")
    base = Settings(epochs=3)  # what `python -m mnist_np study --epochs 3` trains
    set_threads(1)
    seconds = []
    for lr in (0.05, 0.05, 0.1, 0.15, 0.2, 0.3):  # the first one warms up, untimed
        s = replace(base, lr=lr)
        start = time.perf_counter()
        trainer = Trainer(MLP(**s.net_config()), data.X_train, data.y_train,
                          TrainConfig(**s.train_config()), max_snapshots=1)
        for _ in trainer.run():
            pass
        seconds.append(time.perf_counter() - start)
    direct = float(np.median(seconds[1:]))
    print(f"one 3-epoch trial trained in this process: {direct:.3f} s, the median of 5 "
          f"({min(seconds[1:]):.3f}-{max(seconds[1:]):.3f}; {load()})")
    rates, steady = {}, {}
    for workers in (1, 2):
        os.makedirs(args.folder, exist_ok=True)
        store = Store(f"{args.folder}/runs-{workers}-{time.time():.0f}.sqlite3", 2**30, 86400)
        store.touch("b" * 32)
        storage = dr.open_storage(dr.storage_path(store.path))
        spec = dr.StudySpec(parse_space(["lr=0.02..0.5"]), base, args.trials, 3, "random",
                            args.pruner, prune_after=args.trials)
        ends: list[float] = []  # when each trial ended

        def ended(end: dr.TrialEnd, ends: list[float] = ends) -> None:
            ends.append(time.perf_counter())

        with dc.connect(None, workers) as client:
            run = dr.StudyRun(spec, storage, store, "b" * 32, data, on_trial=ended)
            cpu = time.process_time()
            outcome = run.run(client)
            cpu = time.process_time() - cpu
        per_trial = outcome.seconds / args.trials
        # between the first trial's end and the last's: without the study's start (data
        # sent to the workers, their first imports), which the whole-study figure spreads
        # over the trials
        steady[workers] = (ends[-1] - ends[0]) / max(1, len(ends) - 1)
        rates[workers] = 60 * args.trials / outcome.seconds
        print(f"{workers} worker(s): {args.trials} trials in {outcome.seconds:.1f} s, "
              f"{rates[workers]:.1f} trials/minute, {per_trial:.3f} s a trial; after the "
              f"first trial {60 / steady[workers]:.1f} trials/minute, {steady[workers]:.3f} "
              f"s a trial ({outcome.count('finished')} finished, "
              f"{outcome.count('pruned')} pruned; {load()})")
        print(f"  CPU of this process (the driver and the local cluster's scheduler): "
              f"{cpu / args.trials * 1000:.0f} ms a trial")
        if workers == 1:
            for what, t in (("whole study", per_trial), ("after the first trial", steady[1])):
                print(f"scheduling overhead per trial on 1 worker ({what}): "
                      f"{t - direct:.3f} s = {(t - direct) / t:.1%} of the trial")
    print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x (whole study), "
          f"{steady[1] / steady[2]:.2f}x (after the first trial)")
    plain = plain_processes(args.full, base, args.trials)
    print(f"plain processes, no Dask: 1: {plain[1]:.1f} trials/minute, 2 side by side: "
          f"{plain[2]:.1f} trials/minute, {plain[2] / plain[1]:.2f}x ({load()})")


if __name__ == "__main__":
    main()
