"""Studies on this machine: trials per minute with 1 and 2 Dask workers, and the
scheduling overhead per trial, on the offline sample: the study's default network
(784-256-10, momentum), 3 epochs, the command line's default sampler (TPE) and pruner
(median, which asks the driver after every epoch but the last; its start-up is every
trial, so none is pruned and every trial is the same work), learning rates from 0.02..0.5.

    python -m benchmarks.study [--trials 60] [--rounds 2] [--full] [--sampler random]
                               [--pruner none]

Overhead is printed two ways, both on 1 worker after the first trial (the study's start:
data sent, first imports), from the wall time per trial (between two trials' ends as the
driver records them) and times taken inside each task on the worker:

1. The test set counted as overhead (the definition of BENCHMARKS.md's earlier issue-15
   figures, which the 5% goal was checked against): wall time per trial minus the trial's
   training and validation (from building its trainer to its last epoch's validation),
   as a fraction of that training time. It is split into the test set's accuracy, the
   network's bytes, the channel's start, the time the task waited for the driver's
   answers, and what lies between two tasks (the result's way back, the next task's
   start; also printed as the worker's own gap from a task's end to the next one's
   start, on the worker's clock). The earlier figures counted the channel's start and
   the waits as training: these count them as overhead.
2. The test set counted as the trial's work (its test accuracy is a number the trial
   needs: the Experiments table shows it): wall time per trial minus training,
   validation and the test set's accuracy, as a fraction of those.

Also printed: the CPU of the benchmark's process per trial (the driver and, on a local
cluster, the scheduler and the nannies) and of the workers' event loop threads (Dask's
side of each worker, beside the thread that trains).

Each round runs, one after another in the same minutes: a study on 1 worker, one on 2
workers (each on a fresh local cluster: process workers, one thread and one BLAS thread
each), then the same trials trained by one plain process and by two side by side
(``multiprocessing``, no Dask): what the machine itself allows. The machine's load
(``uptime``) is printed with each figure.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from dataclasses import replace
from itertools import pairwise

import numpy as np

from dashboard.settings import Settings
from dashboard.store import Store
from mnist_np import MLP, TrainConfig, Trainer
from mnist_np.data import MNIST, load_mnist, load_sample
from mnist_np.threads import set_threads
from studies import cluster as dc
from studies import driver as dr
from studies.space import parse_space


def load() -> str:
    return "load " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


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


def in_process(data: MNIST, base: Settings) -> float:
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
    return direct


def study(args, data: MNIST, base: Settings, workers: int, direct: float) -> float:
    """One study on a fresh local cluster of ``workers``; print its figures and return
    its trials per minute after the first trial."""
    os.makedirs(args.folder, exist_ok=True)
    store = Store(f"{args.folder}/runs-{workers}-{time.time():.0f}.sqlite3", 2**30, 86400)
    store.touch("b" * 32)
    storage = dr.open_storage(dr.storage_path(store.path))
    spec = dr.StudySpec(parse_space(["lr=0.02..0.5"]), base, args.trials, 3, args.sampler,
                        args.pruner, prune_after=args.trials)
    ends: list[tuple[float, dr.TrialEnd]] = []  # when each trial ended, and how

    def ended(end: dr.TrialEnd) -> None:
        ends.append((time.perf_counter(), end))

    before = load()
    with dc.connect(None, workers) as client:
        run = dr.StudyRun(spec, storage, store, "b" * 32, data, on_trial=ended)
        cpu, loops = time.process_time(), _loop_cpu(client)
        outcome = run.run(client)
        cpu, loops = time.process_time() - cpu, _loop_cpu(client) - loops
    # after the first trial: without the study's start (data sent to the workers, their
    # first imports), which the whole-study figure spreads over the trials
    steady = (ends[-1][0] - ends[0][0]) / max(1, len(ends) - 1)
    rate = 60 / steady
    print(f"{workers} worker(s): {args.trials} trials in {outcome.seconds:.1f} s, "
          f"{60 * args.trials / outcome.seconds:.1f} trials/minute; after the first trial "
          f"{rate:.1f} trials/minute, {steady * 1000:.1f} ms a trial "
          f"({outcome.count('finished')} finished, {outcome.count('pruned')} pruned; "
          f"{before} -> {load()})")
    print(f"  CPU of this process (the driver and the local cluster's scheduler): "
          f"{cpu / args.trials * 1000:.1f} ms a trial; the workers' event loops (Dask's "
          f"side of a worker, beside the training thread): "
          f"{loops / args.trials * 1000:.1f} ms a trial")
    failed = [e for _, e in ends if e.status != "finished"]
    if failed:  # every trial is the same work only when every one finished
        print(f"  {len(failed)} trials did not finish: {failed[0].status} {failed[0].error}")
    elif workers == 1:
        overhead(ends[1:], steady, direct)
    return rate


def overhead(ends: list[tuple[float, dr.TrialEnd]], steady: float, direct: float) -> None:
    """Print the overhead per trial on 1 worker both ways (see the docstring)."""
    times = [e.times for _, e in ends]
    train = float(np.mean([t["train_seconds"] for t in times]))
    test = float(np.mean([t["test_seconds"] for t in times]))
    waited = float(np.mean([t["waited"] for t in times]))
    task = float(np.mean([t["seconds"] for t in times]))
    made = float(np.mean([t["bytes_seconds"] for t in times]))
    rest = task - train - test - waited - made  # the channel's start, the data's check
    # on the worker, from one task's end to the next one's start (the same clock)
    gaps = [b["start"] - a["end"] for a, b in pairwise(times)]
    over = steady - train

    def part(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms = {seconds / train:.1%}"

    print(f"  overhead per trial on 1 worker, the test set counted as overhead (as before): "
          f"{part(over)} of the trial's training and validation on the worker "
          f"({train * 1000:.1f} ms); of which the test set's accuracy {part(test)}, the "
          f"network's bytes {part(made)}, the channel's start {part(rest)}, waiting for "
          f"the driver's answers {part(waited)}, between tasks {part(steady - task)} "
          f"(on the worker, from a task's end to the next one's start: "
          f"{float(np.median(gaps)) * 1000:.1f} ms median)")
    work = train + test
    print(f"  overhead per trial on 1 worker, the test set counted as the trial's work: "
          f"{(steady - work) * 1000:.1f} ms = {(steady - work) / work:.1%} of the trial's "
          f"training, validation and test ({work * 1000:.1f} ms)")
    print(f"  (the oldest measure, against the same training in this process before the "
          f"studies: {(steady - direct) * 1000:.1f} ms = {(steady - direct) / steady:.1%} "
          f"of the trial's wall time)")


def _thread_cpu() -> float:
    """CPU seconds of this process's event loop thread (the one running Dask's loop)."""
    import threading

    ident = threading.get_native_id()
    with open(f"/proc/self/task/{ident}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _loop_cpu(client) -> float:
    """The workers' event loop threads' CPU seconds so far, summed (0 off Linux)."""
    try:
        return sum(client.run(_thread_cpu).values())
    except OSError:
        return 0.0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=60)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--folder", default="/tmp/mnist_np-study-bench")
    p.add_argument("--full", action="store_true",
                   help="the full MNIST (MNIST_DIR or the cache) instead of the sample")
    p.add_argument("--sampler", default="tpe", choices=dr.SAMPLERS[:2])
    p.add_argument("--pruner", default="median", choices=dr.PRUNERS,
                   help="median (the default): each epoch's answer is asked for, none is "
                        "pruned (the start-up is every trial); none: nothing is asked")
    p.add_argument("--plain", action=argparse.BooleanOptionalAction, default=True,
                   help="the plain-process reference after each round")
    args = p.parse_args()
    data = load_mnist(allow_download=False) if args.full else load_sample()
    print(f"data: {data.source}, {len(data.X_train):,} training images; {args.sampler} "
          f"sampler, {args.pruner} pruner")
    base = Settings(epochs=3)  # what `python -m mnist_np study --epochs 3` trains
    direct = in_process(data, base)
    for _ in range(args.rounds):
        rates = {w: study(args, data, base, w, direct) for w in (1, 2)}
        print(f"2 workers / 1 worker after the first trial: {rates[2] / rates[1]:.2f}x "
              f"({load()})")
        if args.plain:
            plain = plain_processes(args.full, base, args.trials)
            print(f"plain processes, no Dask: 1: {plain[1]:.1f} trials/minute, 2 side by "
                  f"side: {plain[2]:.1f}, {plain[2] / plain[1]:.2f}x ({load()})")


if __name__ == "__main__":
    main()
