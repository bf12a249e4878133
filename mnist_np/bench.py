"""Training throughput: the engine against PyTorch on the same network, data and batches.

``python -m mnist_np bench`` trains a ReLU/softmax MLP (784-128-10 by default) with plain
SGD, once through the engine's real training loop (:meth:`Trainer.step`, with every
per-step statistic it records for the dashboard) and once with an idiomatic PyTorch loop
(``nn.Sequential`` Linear-ReLU-Linear, ``CrossEntropyLoss``, ``torch.optim.SGD``), and
prints samples per second and the ratio for each batch size and thread count.

Fairness rules: both start from the same weights, see the same batches (the trainer's
own shuffle) gathered from the same float32 array, use the same learning rate and the
same number of threads (numpy's BLAS through threadpoolctl, ``torch.set_num_threads``),
and are warmed up before timing. Timed blocks alternate between the two (engine first,
then PyTorch first, ...) so that load from other processes hits both alike; the ratio
reported is the median of the per-repeat ratios. Each PyTorch batch is gathered with
``X.index_select(0, idx)`` (the fastest way) unless ``--torch-gather`` says otherwise;
``--torch-gather index_select index`` times both that and the common ``X[idx]``.

PyTorch is imported only here and only if installed; it is never a dependency: without
it the command prints the engine's numbers alone. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from .network import MLP
from .threads import blas_threads, set_threads
from .training import TrainConfig, Trainer

LR = 0.1
SEED = 0
GOALS = {128: 1.5, 32: 2.0}  # engine / PyTorch samples per second, from the engine issue
GATHER_CODE = {"index_select": "X.index_select(0, idx)", "index": "X[idx]"}


def import_torch():
    """PyTorch if it is installed, else None (it is never a dependency)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


# -- the two training loops ----------------------------------------------------------
class EngineLoop:
    """The engine's own training loop: ``Trainer.step`` with all of its statistics."""

    name = "engine"

    def __init__(self, X: np.ndarray, y: np.ndarray, sizes: list[int], batch_size: int):
        self.net = MLP(sizes, activation="relu", output="softmax", loss="cross_entropy",
                       init="he", seed=SEED)
        config = TrainConfig(optimizer="sgd", lr=LR, batch_size=batch_size, epochs=10**6,
                             val_size=0, seed=SEED)
        self.trainer = Trainer(self.net, X, y, config, max_snapshots=2)
        self.record = None

    def set_batch_size(self, batch_size: int) -> None:
        self.trainer.batch_size = batch_size

    def run(self, steps: int) -> None:
        step = self.trainer.step
        record = self.record
        for _ in range(steps):
            record = step()
            if record is None:
                raise RuntimeError(f"the engine stopped: {self.trainer.message}")
        self.record = record

    @property
    def last_loss(self) -> float:
        """The loss of the last batch trained on."""
        return self.record.loss if self.record is not None else float("nan")


class TorchLoop:
    """An idiomatic PyTorch loop over the same array, batches and starting weights.

    ``gather`` is how a batch is taken from the training tensor: ``"index_select"``
    (``X.index_select(0, idx)``, the fastest way in PyTorch 2.x) or ``"index"``
    (``X[idx]``, the most common way to write it, about twice as slow for 784-wide rows).
    """

    def __init__(self, torch, X: np.ndarray, y: np.ndarray, net: MLP, batch_size: int,
                 gather: str = "index_select", name: str | None = None):
        nn = torch.nn
        if gather not in GATHER_CODE:
            raise ValueError(f"gather must be one of {sorted(GATHER_CODE)}, got {gather!r}")
        self.torch, self.batch_size, self.gather = torch, batch_size, gather
        self.name = name or f"pytorch_{gather}"
        layers: list = []
        for W, b in zip(net.weights, net.biases):
            linear = nn.Linear(*W.shape)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W.T.copy()))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear, nn.ReLU()]
        self.model = nn.Sequential(*layers[:-1])
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.X = torch.from_numpy(X)  # shares memory with the float32 array
        self.y = torch.from_numpy(y.astype(np.int64))
        self._rng = np.random.default_rng(SEED + 1)  # the trainer's shuffle, step for step
        self._order = torch.from_numpy(self._rng.permutation(len(X)))
        self._pos = 0
        self.loss = None

    def set_batch_size(self, batch_size: int) -> None:
        self.batch_size = batch_size

    def run(self, steps: int) -> None:
        model, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer
        X, y, n = self.X, self.y, len(self.X)
        select = self.gather == "index_select"
        loss = self.loss
        for _ in range(steps):
            idx = self._order[self._pos:self._pos + self.batch_size]
            self._pos += len(idx)
            if select:
                xb, yb = X.index_select(0, idx), y.index_select(0, idx)
            else:
                xb, yb = X[idx], y[idx]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            if self._pos >= n:
                self._pos = 0
                self._order = self.torch.from_numpy(self._rng.permutation(n))
        self.loss = loss

    @property
    def last_loss(self) -> float:
        return float(self.loss.item()) if self.loss is not None else float("nan")


# -- measuring -----------------------------------------------------------------------
@dataclass
class Result:
    """Samples per second of each loop at one batch size and thread count, per repeat:
    ``rates`` per wall-clock second, ``cpu_rates`` per CPU second of the process (all
    its threads), which leaves out the time it waited for a core on a shared machine."""

    batch_size: int
    threads: int | None
    rates: dict[str, list[float]] = field(default_factory=dict)
    cpu_rates: dict[str, list[float]] = field(default_factory=dict)

    @property
    def others(self) -> list[str]:
        return [name for name in self.rates if name != "engine"]

    def median(self, name: str) -> float:
        return statistics.median(self.rates[name])

    def ratio(self, other: str) -> float:
        """Median of the per-repeat ratios engine / ``other`` (timed back to back)."""
        return statistics.median(e / o for e, o in zip(self.rates["engine"], self.rates[other]))

    def cpu_ratio(self, other: str) -> float:
        return statistics.median(
            e / o for e, o in zip(self.cpu_rates["engine"], self.cpu_rates[other]))

    def best_ratio(self, other: str) -> float:
        """Best against best: each side's least disturbed repeat."""
        return max(self.rates["engine"]) / max(self.rates[other])

    def summary(self) -> dict:
        row = asdict(self)
        row["median"] = {name: self.median(name) for name in self.rates}
        row["ratio_median"] = {o: self.ratio(o) for o in self.others}
        row["cpu_ratio_median"] = {o: self.cpu_ratio(o) for o in self.others}
        row["best_ratio"] = {o: self.best_ratio(o) for o in self.others}
        row["goal"] = GOALS.get(self.batch_size)
        return row


def samples_per_second(loop, steps: int, batch_size: int) -> tuple[float, float]:
    """Samples per wall-clock second and per CPU second of ``steps`` steps."""
    start, cpu = time.perf_counter(), time.process_time()
    loop.run(steps)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return steps * batch_size / wall, steps * batch_size / max(cpu, 1e-9)


def measure(loops: list, batch_size: int, steps: int, repeats: int, threads: int | None,
            warmup: int | None = None, say: Callable[[str], None] = print) -> Result:
    """Time ``steps`` steps of every loop, ``repeats`` times, rotating which goes first."""
    result = Result(batch_size, threads)
    for loop in loops:
        loop.set_batch_size(batch_size)
        loop.run(warmup if warmup is not None else max(20, steps // 10))
        result.rates[loop.name], result.cpu_rates[loop.name] = [], []
    for r in range(repeats):
        order = loops[r % len(loops):] + loops[:r % len(loops)]
        for loop in order:
            wall, cpu = samples_per_second(loop, steps, batch_size)
            result.rates[loop.name].append(wall)
            result.cpu_rates[loop.name].append(cpu)
        line = f"  repeat {r + 1}: engine {result.rates['engine'][-1]:>9,.0f} samples/s"
        for other in result.others:
            e, o = result.rates["engine"][-1], result.rates[other][-1]
            ec, oc = result.cpu_rates["engine"][-1], result.cpu_rates[other][-1]
            line += (f", {other} {o:>9,.0f} samples/s, ratio {e / o:.2f}x "
                     f"(per CPU second {ec / oc:.2f}x)")
        say(line)
    return result


def describe_machine(torch, skipped: bool = False) -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [f"machine: {cpu}, {cores} cores available, Python {platform.python_version()}",
             f"numpy {np.__version__}, BLAS threads now: {blas_threads() or 'unknown'}"]
    if torch is not None:
        lines.append(f"pytorch {torch.__version__}, threads now: {torch.get_num_threads()}")
    elif skipped:
        lines.append("pytorch: skipped (--no-torch), so engine numbers only")
    else:
        lines.append("pytorch: not installed, so engine numbers only "
                     "(pip install torch to compare)")
    if hasattr(os, "getloadavg"):
        lines.append(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")
    return lines


def run_preset(name: str, X, y, X_test, y_test) -> dict:
    """Train a preset end to end as ``train`` does; its time and test accuracy."""
    from .presets import PRESETS

    net, config = PRESETS[name].build()
    trainer = Trainer(net, X, y, config)
    for _ in trainer.run():
        pass
    _, accuracy = trainer.evaluate(X_test, y_test)
    return {"preset": name, "train_seconds": trainer.train_seconds, "test_accuracy": accuracy,
            "steps": trainer.step_count, "samples_per_second": trainer.samples_per_second,
            "diverged": trainer.diverged}


def default_threads() -> list[int]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return sorted({1, cores or 1})


def bench_command(args: argparse.Namespace) -> int:
    from .cli import N_CLASSES, N_INPUTS, _load_data

    json_out = getattr(args, "json", False)
    say = (lambda text: print(text, file=sys.stderr)) if json_out else print
    skipped = getattr(args, "no_torch", False)
    torch = None if skipped else import_torch()
    data = _load_data(args.data_dir, quiet=True)
    X, y = data.X_train, data.y_train
    sizes = [N_INPUTS, *args.hidden, N_CLASSES]
    threads = args.threads or default_threads()
    for line in describe_machine(torch, skipped):
        say(line)
    say(f"network {'-'.join(map(str, sizes))} ReLU/softmax + cross-entropy, SGD lr {LR}, "
        f"{data.source} ({len(X):,} training images); engine: Trainer.step with its "
        f"per-step statistics; {args.steps} steps per timing, {args.repeats} repeats "
        f"alternating engine and pytorch, medians reported")

    engine = EngineLoop(X, y, sizes, args.batch_sizes[0])
    loops: list = [engine]
    gathers = list(dict.fromkeys(getattr(args, "torch_gather", None) or ["index_select"]))
    if torch is not None:
        for gather in gathers:
            loops.append(TorchLoop(torch, *engine.trainer.train_split(),
                                   engine.net, args.batch_sizes[0], gather,
                                   name="pytorch" if len(gathers) == 1 else None))
        say("pytorch batches: " + ", ".join(f"{loop.name} = {GATHER_CODE[loop.gather]}"
                                            for loop in loops[1:]))
    results = []
    is_goal_network = len(sizes) == 3 and sizes[1] == 128
    for n_threads in threads:
        if torch is not None:
            torch.set_num_threads(n_threads)
        if not set_threads(n_threads):
            say(f"note: threadpoolctl is not installed, so numpy's BLAS threads stay at "
                f"their start-up setting (OPENBLAS_NUM_THREADS); asked for {n_threads}")
        for batch_size in args.batch_sizes:
            label = f"batch {batch_size:>4}, {n_threads} thread{'s' if n_threads > 1 else ' '}"
            say(f"{label}:")
            result = measure(loops, batch_size, args.steps, args.repeats, n_threads, say=say)
            results.append(result)
            say(f"{label}: engine {result.median('engine'):>9,.0f} samples/s (median)")
            for other in result.others:
                goal = GOALS.get(batch_size)
                line = (f"{'':22s}{other} {result.median(other):>9,.0f} samples/s: ratio "
                        f"{result.ratio(other):.2f}x (per CPU second "
                        f"{result.cpu_ratio(other):.2f}x, best vs best "
                        f"{result.best_ratio(other):.2f}x)")
                if goal and is_goal_network:
                    line += f"; goal {goal}x {'met' if result.ratio(other) >= goal else 'NOT met'}"
                say(line)
    summary = {"network": sizes, "lr": LR, "steps": args.steps, "repeats": args.repeats,
               "data_source": data.source, "numpy": np.__version__,
               "pytorch": getattr(torch, "__version__", None),
               "pytorch_gather": {loop.name: GATHER_CODE[loop.gather] for loop in loops[1:]},
               "results": [r.summary() for r in results],
               "final_loss": {loop.name: loop.last_loss for loop in loops}}
    if getattr(args, "preset", None):
        summary["preset"] = []
        for n_threads in threads:
            if torch is not None:
                torch.set_num_threads(n_threads)
            set_threads(n_threads)
            preset = run_preset(args.preset, X, y, data.X_test, data.y_test)
            preset["threads"] = n_threads
            summary["preset"].append(preset)
            say(f"preset {args.preset}, {n_threads} thread{'s' if n_threads > 1 else ' '}: "
                f"test accuracy {preset['test_accuracy']:.2%} after "
                f"{preset['train_seconds']:.1f} s of training "
                f"({preset['samples_per_second']:,.0f} samples/s)")
    if hasattr(os, "getloadavg"):
        say(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    if json_out:
        print(json.dumps(summary))
    return 0
