"""Where the time of one training step goes: ``Trainer._step``, statement by statement.

Rewrites ``Trainer._step`` (with ``ast``) so that every top-level statement is followed by
a clock reading, runs a few thousand steps, and prints the median microseconds of each
statement. The clock is this thread's CPU time by default, which ignores the time the
thread spends descheduled (the machine may be shared) when BLAS runs in one thread.

    python benchmarks/profile_step.py --batch-size 32 --threads 1
    python benchmarks/profile_step.py --batch-size 128 --hidden 256 --optimizer momentum

Statements are timed as written in ``training.py``; calls into ``network.py`` show as
one line (``net.forward(...)``, ``net.backward(...)``). ``--matmul`` adds the time
of the step's matrix products alone, measured apart, as the floor to compare with; with
PyTorch installed it also times the same products in PyTorch and PyTorch's whole step
(``benchmarks/torch_compare.py``'s loop), and prints what a step may cost to be 1.5x or
2x faster.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import itertools
import os
import sys
import textwrap
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from mnist_np import training
from mnist_np.network import MLP
from mnist_np.training import TrainConfig, Trainer


def instrumented_step(clock):
    """A copy of ``Trainer._step`` that appends ``clock()`` to ``self._marks`` after
    every top-level statement; returns it and the statements' source lines."""
    source = textwrap.dedent(inspect.getsource(Trainer._step))
    tree = ast.parse(source)
    fn = tree.body[0]
    labels, body = [], []
    mark = ast.parse("self._marks.append(_clock())").body[0]
    body.append(mark)
    for stmt in fn.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # the docstring
        labels.append(ast.get_source_segment(source, stmt).splitlines()[0].strip())
        if isinstance(stmt, ast.Return):
            body.append(mark)
            body.append(stmt)
        else:
            body.extend([stmt, mark])
    fn.body = body
    ast.fix_missing_locations(tree)
    namespace = dict(vars(training), _clock=clock)
    exec(compile(tree, "<instrumented _step>", "exec"), namespace)
    return namespace["_step"], labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, nargs="+", default=[128])
    parser.add_argument("--optimizer", default="sgd")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--wall", action="store_true", help="wall-clock time, not CPU time")
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--matmul", action="store_true",
                        help="also time the step's matrix products alone (and PyTorch's)")
    parser.add_argument("--plain", type=int, default=0, metavar="BLOCKS",
                        help="also time Trainer.train against benchmarks/plain_loop.py's "
                             "loop in BLOCKS interleaved blocks of 8 steps each (SGD, one "
                             "hidden layer) and print percentiles of their step times")
    args = parser.parse_args()

    from mnist_np.data import load_mnist
    from mnist_np.threads import set_threads

    set_threads(args.threads)
    data = load_mnist(args.data_dir)
    net = MLP([784, *args.hidden, 10], seed=0)
    trainer = Trainer(net, data.X_train, data.y_train,
                      TrainConfig(optimizer=args.optimizer, lr=0.1 if args.optimizer == "sgd"
                                  else 0.01, batch_size=args.batch_size, epochs=10**6,
                                  schedule="constant", val_size=0))
    clock = time.perf_counter if args.wall else time.thread_time
    step, labels = instrumented_step(clock)
    trainer._marks = []
    rows = []
    for i in range(args.steps + 200):
        trainer._marks = []
        with np.errstate(all="ignore"):
            step(trainer)
        if i >= 200 and len(trainer._marks) == len(labels) + 1:
            rows.append(np.diff(trainer._marks))
    median = np.median(np.array(rows), axis=0) * 1e6
    total = np.median(np.array(rows).sum(axis=1)) * 1e6
    print(f"Trainer._step, 784-{'-'.join(map(str, args.hidden))}-10, batch {args.batch_size}, "
          f"{args.optimizer}, {args.threads} BLAS thread(s), median "
          f"{'wall' if args.wall else 'CPU'} microseconds per statement over {len(rows)} steps")
    for label, us in zip(labels, median):
        if us >= 0.05:
            print(f"{us:8.1f}  {label[:90]}")
    print(f"{total:8.1f}  total per step ({args.batch_size / total * 1e6:,.0f} samples/s)")
    if args.matmul:
        matmul_floor(trainer, args.batch_size, args.threads, clock, total)
    if args.plain:
        against_plain(data.X_train, data.y_train, args.hidden, args.batch_size, args.plain,
                      clock)


def against_plain(X, y, hidden: list[int], n: int, blocks: int, clock, steps: int = 8) -> None:
    """The engine's steps (``Trainer.train``, every statistic on its cadence) against the
    plain loop's, in ``blocks`` blocks of ``steps`` steps taken in turn: percentiles of each
    one's time per step. The low percentiles are the blocks least disturbed by other work
    on a shared machine (and by the engine's measured steps and epoch ends, which the
    median and the epoch benchmark include)."""
    from benchmarks.plain_loop import EngineEpochs, PlainLoop

    engine = EngineEpochs(X, y, [784, *hidden, 10], n)
    plain = PlainLoop(X, y, engine.net, n)
    times: dict[str, list[float]] = {"engine": [], "plain": []}
    for loop in (engine, plain):
        loop.run(200)  # past the first 100 steps, all measured
    for b in range(blocks):
        for loop in (engine, plain) if b % 2 else (plain, engine):
            start = clock()
            loop.run(steps)
            times[loop.name].append((clock() - start) / steps * 1e6)
    print(f"\nTrainer.train against the plain loop, {blocks} interleaved blocks of {steps} "
          "steps, microseconds per step:")
    for q in (10, 25, 50):
        e, p = (float(np.percentile(times[name], q)) for name in ("engine", "plain"))
        print(f"  p{q}: engine {e:8.1f}  plain {p:8.1f}  engine/plain {e / p:.3f}")


def _time(fn, clock, repeats: int = 400) -> float:
    """Median microseconds of ``fn()`` over ``repeats`` calls, after a warm-up."""
    for _ in range(20):
        fn()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return float(np.median(times)) * 1e6


def matmul_floor(trainer: Trainer, n: int, threads: int, clock, step_total: float) -> None:
    """The step's matrix products alone, at its shapes, into preallocated outputs: per
    layer ``a_{l-1} W_l`` (forward), ``a_{l-1}ᵀ delta_l`` (dW) and ``delta_l W_lᵀ`` (the
    error sent back, not for the first layer). The same products in PyTorch, and its
    whole training step, when it is installed. ``step_total``: the profiled engine step
    in microseconds."""
    from benchmarks.torch_compare import TorchLoop, import_torch

    rng = np.random.default_rng(0)
    sizes, dt = trainer.net.layer_sizes, trainer.net.dtype
    products = []  # (name, A, B) with A @ B timed
    for l, (k_in, k_out) in enumerate(itertools.pairwise(sizes)):
        a = rng.random((n, k_in), dtype=dt)
        W = rng.standard_normal((k_in, k_out)).astype(dt)
        delta = rng.standard_normal((n, k_out)).astype(dt)
        products.append((f"a{l} W{l + 1}      ({n}x{k_in} @ {k_in}x{k_out})", a, W))
        products.append((f"a{l}.T delta{l + 1} ({k_in}x{n} @ {n}x{k_out})", a.T, delta))
        if l > 0:
            products.append((f"delta{l + 1} W{l + 1}.T ({n}x{k_out} @ {k_out}x{k_in})",
                             delta, W.T))
    torch = import_torch()
    if torch is not None:
        torch.set_num_threads(threads)  # numpy's BLAS threads were set in main()
    print("\nthe same step's matrix products alone, median microseconds:")
    numpy_total = torch_total = 0.0
    for name, A, B in products:
        out = np.empty((A.shape[0], B.shape[1]), dt)
        us = _time(lambda A=A, B=B, out=out: np.matmul(A, B, out=out), clock)
        numpy_total += us
        line = f"{us:8.1f}  numpy  {name}"
        if torch is not None:
            # a transposed numpy view stays a transposed tensor, as autograd would pass it
            tA = (torch.from_numpy(np.ascontiguousarray(A.T)).t() if A.base is not None
                  else torch.from_numpy(A))
            tB = torch.from_numpy(np.ascontiguousarray(B))
            t_us = _time(lambda tA=tA, tB=tB: torch.mm(tA, tB), clock)
            torch_total += t_us
            line += f"   pytorch {t_us:8.1f}"
        print(line)
    print(f"{numpy_total:8.1f}  all products (numpy)"
          + (f", {torch_total:.1f} in pytorch" if torch is not None else ""))
    if torch is None:
        print("pytorch is not installed: no comparison")
        return
    loop = TorchLoop(torch, *trainer.train_split(), trainer.net, n)
    torch_step = _time(lambda: loop.run(1), clock, repeats=2000)
    for goal in (1.5, 2.0):
        budget = torch_step / goal
        print(f"pytorch's whole step: {torch_step:.1f} us, so {goal}x its speed means a step "
              f"of at most {budget:.1f} us: {budget - numpy_total:.1f} us beside the "
              f"products (this step spends {step_total - numpy_total:.1f})")



if __name__ == "__main__":
    main()
