"""Training throughput: the engine against PyTorch on the same network, data and batches.

Trains a ReLU/softmax MLP (784-128-10 by default) with plain SGD, once through the
engine's real training loop (``mnist_np.bench.EngineLoop``: :meth:`Trainer.train`, with
every statistic it records for the dashboard, on its cadence) and once with an idiomatic PyTorch
loop (``nn.Sequential`` Linear-ReLU-Linear, ``CrossEntropyLoss``, ``torch.optim.SGD``),
and prints samples per second and the ratio for each batch size and thread count.

    python benchmarks/torch_compare.py --data-dir DIR --threads 1 2 \\
        --torch-gather index_select index --steps 300 --repeats 21 [--json]

Fairness rules: both start from the same weights, see the same batches (the trainer's
own shuffle) gathered from the same float32 array, use the same learning rate and the
same number of threads (numpy's BLAS through threadpoolctl, ``torch.set_num_threads``),
and are warmed up before timing. Timed blocks alternate between the two (engine first,
then PyTorch first, ...) so that load from other processes hits both alike; the ratio
reported is the median of the per-repeat ratios. Each PyTorch batch is gathered with
``X.index_select(0, idx)`` (the fastest way) unless ``--torch-gather`` says otherwise;
``--torch-gather index_select index`` times both that and the common ``X[idx]``.

PyTorch is imported only here and only if installed; it is never a dependency: without
it (or with ``--no-torch``) this prints the engine's numbers alone. The flags are
``python -m mnist_np bench``'s, plus ``--no-torch`` and ``--torch-gather``. No timing is
asserted anywhere.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: the repository root holds mnist_np
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mnist_np.bench import (
    LR,
    SEED,
    EngineLoop,
    Result,
    benchmark,
    default_threads,
    describe_machine,
    end_load_line,
    engine_repeat_line,
    run_presets,
)
from mnist_np.cli import OneLineParser, add_bench_arguments, load_data
from mnist_np.data import N_CLASSES, N_INPUTS
from mnist_np.network import MLP
from mnist_np.threads import set_threads

GOALS = {128: 1.5, 32: 2.0}  # engine / PyTorch samples per second, from the engine issue
GATHER_CODE = {"index_select": "X.index_select(0, idx)", "index": "X[idx]"}


def import_torch() -> Any:
    """PyTorch if it is installed, else None (it is never a dependency)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


class TorchLoop:
    """An idiomatic PyTorch loop over the same array, batches and starting weights.

    ``gather`` is how a batch is taken from the training tensor: ``"index_select"``
    (``X.index_select(0, idx)``, the fastest way in PyTorch 2.x) or ``"index"``
    (``X[idx]``, the most common way to write it, about twice as slow for 784-wide rows).
    ``momentum``: SGD's momentum μ (``None``: plain SGD, as in this file's comparison).
    """

    def __init__(self, torch: Any, X: np.ndarray, y: np.ndarray, net: MLP, batch_size: int,
                 gather: str = "index_select", name: str | None = None,
                 momentum: float | None = None):
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
        # with momentum μ, PyTorch keeps v = μv + g and steps p -= lr v: the engine's
        # v = μv - lr g; p += v, as long as the learning rate stays constant (it does here)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=momentum or 0)
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


# -- ratios of one measurement ------------------------------------------------------
def ratio(result: Result, other: str) -> float:
    """Median of the per-repeat ratios engine / ``other`` (timed back to back)."""
    return statistics.median(e / o for e, o in zip(result.rates["engine"], result.rates[other]))


def cpu_ratio(result: Result, other: str) -> float:
    return statistics.median(
        e / o for e, o in zip(result.cpu_rates["engine"], result.cpu_rates[other]))


def best_ratio(result: Result, other: str) -> float:
    """Best against best: each side's least disturbed repeat."""
    return max(result.rates["engine"]) / max(result.rates[other])


def summary_row(result: Result) -> dict:
    """:meth:`Result.summary` with the ratios against every other loop and the goal."""
    row = result.summary()
    row["ratio_median"] = {o: ratio(result, o) for o in result.others}
    row["cpu_ratio_median"] = {o: cpu_ratio(result, o) for o in result.others}
    row["best_ratio"] = {o: best_ratio(result, o) for o in result.others}
    row["goal"] = GOALS.get(result.batch_size)
    return row


def repeat_line(result: Result) -> str:
    """The last repeat: the engine's rate, then each other loop's and the ratio."""
    line = engine_repeat_line(result)
    for other in result.others:
        e, o = result.rates["engine"][-1], result.rates[other][-1]
        ec, oc = result.cpu_rates["engine"][-1], result.cpu_rates[other][-1]
        line += (f", {other} {o:>9,.0f} samples/s, ratio {e / o:.2f}x "
                 f"(per CPU second {ec / oc:.2f}x)")
    return line


def ratio_lines(result: Result, goal_network: bool) -> list[str]:
    """Each other loop's median and ratios; the goal's verdict on the goal network."""
    lines = []
    for other in result.others:
        goal = GOALS.get(result.batch_size)
        line = (f"{'':22s}{other} {result.median(other):>9,.0f} samples/s: ratio "
                f"{ratio(result, other):.2f}x (per CPU second "
                f"{cpu_ratio(result, other):.2f}x, best vs best "
                f"{best_ratio(result, other):.2f}x)")
        if goal and goal_network:
            line += f"; goal {goal}x {'met' if ratio(result, other) >= goal else 'NOT met'}"
        lines.append(line)
    return lines


def torch_line(torch: Any, skipped: bool) -> str:
    if torch is not None:
        return f"pytorch {torch.__version__}, threads now: {torch.get_num_threads()}"
    if skipped:
        return "pytorch: skipped (--no-torch), so engine numbers only"
    return "pytorch: not installed, so engine numbers only (pip install torch to compare)"


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="python benchmarks/torch_compare.py",
                           description=__doc__.split("\n\n")[0])
    add_bench_arguments(parser)
    parser.add_argument("--no-torch", action="store_true", help="engine only, even with PyTorch")
    parser.add_argument("--torch-gather", choices=["index_select", "index"], nargs="+",
                        default=["index_select"],
                        help="how PyTorch takes a batch: X.index_select(0, idx) (fastest), "
                             "X[idx], or both, timed side by side")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    say = (lambda text: print(text, file=sys.stderr)) if args.json else print
    torch = None if args.no_torch else import_torch()
    data = load_data(args.data_dir, quiet=True)
    X, y = data.X_train, data.y_train
    sizes = [N_INPUTS, *args.hidden, N_CLASSES]
    thread_counts = args.threads or default_threads()
    for line in describe_machine([torch_line(torch, args.no_torch)]):
        say(line)
    say(f"network {'-'.join(map(str, sizes))} ReLU/softmax + cross-entropy, SGD lr {LR}, "
        f"{data.source} ({len(X):,} training images); engine: Trainer.train with its "
        f"statistics on their cadence; {args.steps} steps per timing, {args.repeats} repeats "
        f"alternating engine and pytorch, medians reported")

    def set_both(n: int) -> bool:
        if torch is not None:
            torch.set_num_threads(n)
        return set_threads(n)

    engine = EngineLoop(X, y, sizes, args.batch_sizes[0])
    loops: list = [engine]
    gathers = list(dict.fromkeys(args.torch_gather))
    if torch is not None:
        for gather in gathers:
            loops.append(TorchLoop(torch, *engine.trainer.train_split(), engine.net,
                                   args.batch_sizes[0], gather,
                                   name="pytorch" if len(gathers) == 1 else None))
        say("pytorch batches: " + ", ".join(f"{loop.name} = {GATHER_CODE[loop.gather]}"
                                            for loop in loops[1:]))
    goal_network = len(sizes) == 3 and sizes[1] == 128
    results = benchmark(loops, args.batch_sizes, args.steps, args.repeats, thread_counts, say,
                        set_threads=set_both, repeat_line=repeat_line,
                        more_lines=lambda result: ratio_lines(result, goal_network))
    summary: dict = {"network": sizes, "lr": LR, "steps": args.steps, "repeats": args.repeats,
                     "data_source": data.source, "numpy": np.__version__,
                     "pytorch": getattr(torch, "__version__", None),
                     "pytorch_gather": {loop.name: GATHER_CODE[loop.gather]
                                        for loop in loops[1:]},
                     "results": [summary_row(r) for r in results],
                     "final_loss": {loop.name: loop.last_loss for loop in loops}}
    if args.preset:
        summary["preset"] = run_presets(args.preset, X, y, data.X_test, data.y_test,
                                        thread_counts, say, set_threads=set_both)
    for line in end_load_line():
        say(line)
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
