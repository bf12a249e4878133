"""Where the time of one training step goes: ``Trainer._step``, statement by statement.

Rewrites ``Trainer._step`` (with ``ast``) so that every top-level statement is followed by
a clock reading, runs a few thousand steps, and prints the median microseconds of each
statement. The clock is this thread's CPU time by default, which ignores the time the
thread spends descheduled (the machine may be shared) when BLAS runs in one thread.

    python benchmarks/profile_step.py --batch-size 32 --threads 1
    python benchmarks/profile_step.py --batch-size 128 --hidden 256 --optimizer momentum

Statements are timed as written in ``training.py``; calls into ``network.py`` show as
one line (``net.forward_loss(...)``, ``net.backward(...)``). ``--matmul`` adds the time
of the step's matrix products alone, measured apart, as the floor to compare with.
"""

from __future__ import annotations

import argparse
import ast
import inspect
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
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    from mnist_np.data import load_mnist

    threadpool_limits(args.threads, user_api="blas")
    data = load_mnist(args.data_dir)
    net = MLP([784, *args.hidden, 10], seed=0)
    trainer = Trainer(net, data.X_train, data.y_train,
                      TrainConfig(optimizer=args.optimizer, lr=0.1 if args.optimizer == "sgd"
                                  else 0.01, batch_size=args.batch_size, epochs=10**6,
                                  val_size=0))
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


if __name__ == "__main__":
    main()
