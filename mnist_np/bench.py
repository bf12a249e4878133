"""Training throughput of the engine: samples per second of its real training loop.

``python -m mnist_np bench`` trains a ReLU/softmax MLP (784-128-10 by default) with plain
SGD through :meth:`Trainer.train`, with every per-step statistic it records for the
dashboard, and prints samples per second for each batch size and thread count. Each
timing is preceded by a warm-up. ``--preset`` also trains a preset end to end.

The same measuring runs other loops beside the engine's, timed block by block in turn
(engine first, then the next one first, ...) so that load from other processes hits all
of them alike: ``benchmarks/torch_compare.py`` adds PyTorch this way. No timing is
asserted anywhere.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np

from .network import MLP
from .presets import PRESETS
from .threads import blas_threads, set_threads
from .training import TrainConfig, Trainer

LR = 0.1
SEED = 0


class Loop(Protocol):
    """A training loop that can be timed: ``run(steps)`` trains that many batches."""

    name: str

    def set_batch_size(self, batch_size: int) -> None: ...

    def run(self, steps: int) -> None: ...

    @property
    def last_loss(self) -> float: ...


class EngineLoop:
    """The engine's own training loop: ``Trainer.train`` with all of its statistics."""

    name = "engine"

    def __init__(self, X: np.ndarray, y: np.ndarray, sizes: list[int], batch_size: int):
        self.net = MLP(sizes, activation="relu", output="softmax", loss="cross_entropy",
                       init="he", seed=SEED)
        config = TrainConfig(optimizer="sgd", lr=LR, batch_size=batch_size, epochs=10**6,
                             schedule="constant", val_size=0, seed=SEED)
        self.trainer = Trainer(self.net, X, y, config, max_snapshots=2)

    def set_batch_size(self, batch_size: int) -> None:
        self.trainer.batch_size = batch_size

    def run(self, steps: int) -> None:
        start = self.trainer.step_count
        self.trainer.train(max_steps=steps)
        if self.trainer.step_count - start < steps:
            raise RuntimeError(f"the engine stopped: {self.trainer.message}")

    @property
    def last_loss(self) -> float:
        """The loss of the last measured batch (see ``training.stats_every``)."""
        losses = self.trainer.history.columns["loss"]
        return losses[-1] if losses else float("nan")


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
        """The loops measured beside the engine."""
        return [name for name in self.rates if name != "engine"]

    def median(self, name: str) -> float:
        return statistics.median(self.rates[name])

    def summary(self) -> dict:
        """The rates and each loop's median, JSON-ready."""
        return asdict(self) | {"median": {name: self.median(name) for name in self.rates}}


def samples_per_second(loop: Loop, steps: int, batch_size: int) -> tuple[float, float]:
    """Samples per wall-clock second and per CPU second of ``steps`` steps."""
    start, cpu = time.perf_counter(), time.process_time()
    loop.run(steps)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return steps * batch_size / wall, steps * batch_size / max(cpu, 1e-9)


def engine_repeat_line(result: Result) -> str:
    """The engine's rate in the last repeat, for the progress output."""
    return f"engine {result.rates['engine'][-1]:>9,.0f} samples/s"


def measure(loops: Sequence[Loop], batch_size: int, steps: int, repeats: int,
            threads: int | None, warmup: int | None = None,
            say: Callable[[str], None] = print,
            repeat_line: Callable[[Result], str] = engine_repeat_line) -> Result:
    """Time ``steps`` steps of every loop, ``repeats`` times, rotating which goes first;
    ``say`` one line per repeat, ``repeat_line(result)`` after its ``"  repeat k: "``."""
    result = Result(batch_size, threads)
    loops = list(loops)
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
        say(f"  repeat {r + 1}: {repeat_line(result)}")
    return result


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def describe_machine(more: Sequence[str] = ()) -> list[str]:
    """Lines about the CPU, numpy and its BLAS threads, then ``more``, then the load."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    lines = [f"machine: {cpu}, {cores()} cores available, Python {platform.python_version()}",
             f"numpy {np.__version__}, BLAS threads now: {blas_threads() or 'unknown'}",
             *more]
    if hasattr(os, "getloadavg"):
        lines.append(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")
    return lines


def run_preset(name: str, X: np.ndarray, y: np.ndarray, X_test: np.ndarray,
               y_test: np.ndarray) -> dict:
    """Train a preset end to end as ``train`` does; its time and test accuracy.
    ``train_seconds`` is the trainer's own (wall-clock, validation at epoch ends
    included); ``cpu_seconds`` the process's CPU time over the same loop (all threads),
    which leaves out the time spent waiting for a core on a shared machine."""
    net, config = PRESETS[name].build()
    trainer = Trainer(net, X, y, config)
    cpu = time.process_time()
    trainer.train()
    cpu = time.process_time() - cpu
    _, accuracy = trainer.evaluate(X_test, y_test)
    return {"preset": name, "train_seconds": trainer.train_seconds, "cpu_seconds": cpu,
            "test_accuracy": accuracy,
            "steps": trainer.step_count, "samples_per_second": trainer.samples_per_second,
            "diverged": trainer.diverged}


def default_threads() -> list[int]:
    """1 and all cores (once when there is one)."""
    return sorted({1, cores()})


def thread_label(n: int) -> str:
    return f"{n} thread{'s' if n > 1 else ' '}"


def benchmark(loops: Sequence[Loop], batch_sizes: Sequence[int], steps: int, repeats: int,
              thread_counts: Sequence[int], say: Callable[[str], None] = print,
              set_threads: Callable[[int], bool] = set_threads,
              repeat_line: Callable[[Result], str] = engine_repeat_line,
              more_lines: Callable[[Result], list[str]] = lambda result: []) -> list[Result]:
    """:func:`measure` every loop at each thread count and batch size, in that order.

    ``set_threads(n)`` sets the thread count (numpy's BLAS by default; False when it
    cannot). Per measurement ``say`` gets the repeats, the engine's median and
    ``more_lines(result)``, which a comparison uses for its other loops.
    """
    results = []
    for n_threads in thread_counts:
        if not set_threads(n_threads):
            say(f"note: threadpoolctl is not installed, so numpy's BLAS threads stay at "
                f"their start-up setting (OPENBLAS_NUM_THREADS); asked for {n_threads}")
        for batch_size in batch_sizes:
            label = f"batch {batch_size:>4}, {thread_label(n_threads)}"
            say(f"{label}:")
            result = measure(loops, batch_size, steps, repeats, n_threads, say=say,
                             repeat_line=repeat_line)
            results.append(result)
            say(f"{label}: engine {result.median('engine'):>9,.0f} samples/s (median)")
            for line in more_lines(result):
                say(line)
    return results


def run_presets(name: str, X: np.ndarray, y: np.ndarray, X_test: np.ndarray,
                y_test: np.ndarray, thread_counts: Sequence[int],
                say: Callable[[str], None] = print,
                set_threads: Callable[[int], bool] = set_threads) -> list[dict]:
    """:func:`run_preset` once per thread count, saying each result."""
    runs = []
    for n_threads in thread_counts:
        set_threads(n_threads)
        run = run_preset(name, X, y, X_test, y_test) | {"threads": n_threads}
        runs.append(run)
        say(f"preset {name}, {thread_label(n_threads)}: "
            f"test accuracy {run['test_accuracy']:.2%} after {run['train_seconds']:.1f} s "
            f"of training ({run['samples_per_second']:,.0f} samples/s)")
    return runs


def end_load_line() -> list[str]:
    """The load average now, as a closing line (none where the OS cannot tell)."""
    if hasattr(os, "getloadavg"):
        return [f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}"]
    return []
