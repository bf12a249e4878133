"""Statistics for free: the engine's epoch against a plain NumPy loop of the same maths.

``PlainLoop`` is the reference: a 784-H-10 ReLU/softmax network trained with SGD (or
momentum) on mini-batches of full MNIST, written as a plain NumPy loop with none of the
engine's statistics: no loss, accuracy, gradient norms, update ratios, saturation or
records. It is not a naive loop: it does exactly the engine's maths the efficient way
(float32, the engine's He initialisation from the same seed, the trainer's shuffle drawn
from the same generator and gathered with ``take`` into preallocated buffers, the
softmax with the row max subtracted, the output error ``a - y`` scaled by ``lr / n`` as
the engine folds it, bias gradients as ``ones @ delta``, updates in place), so that the
time between the two is what the statistics and the engine's generality cost. The
benchmark checks that it is the same maths: after the same steps on the same batches,
the two networks' weights must agree (they come out bitwise equal).

The benchmark times whole epochs at each shape, the engine (``Trainer.train`` through
``mnist_np.bench.EngineLoop``, every statistic it keeps for the dashboard), this loop
and PyTorch (``benchmarks/torch_compare.py``'s ``TorchLoop``, when installed) in one
run, interleaved (``mnist_np.bench.measure`` rotates which goes first), after the
engine's first ``STATS_EVERY_STEP_UNTIL`` steps (all of them measured, a cost a run's
first epoch pays once: timed on their own, engine and plain loop, and printed), and prints per
shape the medians of the per-repeat ratios, per wall-clock second and per CPU second
(which leaves out time spent waiting for a core on a shared machine), with the load
average before and after.

    python benchmarks/plain_loop.py --data-dir DIR --shapes 128x128 128x32 30x10 512x256 \\
        --repeats 7 [--threads 1] [--optimizer momentum] [--no-torch] [--json]

No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np

if __package__ in (None, ""):  # run as a script: the repository root holds mnist_np
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.torch_compare import TorchLoop, import_torch, torch_line
from mnist_np.bench import LR, SEED, EngineLoop, Result, describe_machine, measure
from mnist_np.cli import load_data
from mnist_np.data import N_CLASSES, N_INPUTS
from mnist_np.network import MLP, input_columns
from mnist_np.optimizers import flush_period, flush_tiny
from mnist_np.threads import set_threads
from mnist_np.training import STATS_EVERY_STEP_UNTIL, TrainConfig, Trainer

SHAPES = ("128x128", "128x32", "30x10", "512x256")  # hidden units x batch size (issue 19)
MOMENTUM = TrainConfig.momentum  # μ, when the comparison uses momentum


class PlainLoop:
    """SGD (``mu=None``) or momentum on a 784-H-10 ReLU/softmax network, statistics-free.

    ``net`` gives the starting weights (copied) and the dtype; ``X: (n, 784)``, ``y:
    (n,)`` are the training split the trainer numbers its shuffle over; the shuffle comes
    from ``np.random.default_rng(seed + 1)``, the trainer's, one permutation per epoch.
    """

    name = "plain"

    def __init__(self, X: np.ndarray, y: np.ndarray, net: MLP, batch_size: int,
                 lr: float = LR, mu: float | None = None, seed: int = SEED):
        if len(net.weights) != 2:
            raise ValueError("the plain loop is written for one hidden layer (784-H-10)")
        self.X, self.y, self.batch_size, self.lr, self.mu = X, y, batch_size, lr, mu
        self.W1, self.W2 = (W.copy() for W in net.weights)
        self.b1, self.b2 = (b.copy() for b in net.biases)
        self.dtype = self.W1.dtype
        self.velocity = [np.zeros_like(p) for p in (self.W1, self.b1, self.W2, self.b2)]
        self.eye = np.eye(self.W2.shape[1], dtype=self.dtype)
        self._rng = np.random.default_rng(seed + 1)
        self._order = self._rng.permutation(len(X))
        self._pos = self._step = 0
        self._buffers: dict[int, dict[str, np.ndarray]] = {}

    def set_batch_size(self, batch_size: int) -> None:
        self.batch_size = batch_size

    def _buffers_for(self, n: int) -> dict[str, np.ndarray]:
        """The arrays one step writes into, for ``n`` rows (the last batch is shorter)."""
        if n not in self._buffers:
            (k_in, h), k = self.W1.shape, self.W2.shape[1]
            dt = self.dtype
            self._buffers[n] = {
                "X": np.empty((n, k_in), self.X.dtype), "Y": np.empty((n, k), dt),
                "a1": np.empty((n, h), dt), "a2": np.empty((n, k), dt),
                "d1": np.empty((n, h), dt), "d2": np.empty((n, k), dt),
                "dW1": np.empty((k_in, h), dt), "db1": np.empty(h, dt),
                "dW2": np.empty((h, k), dt), "db2": np.empty(k, dt),
                "zero": np.zeros((n, h), dt), "ones": np.ones(n, dt)}
        return self._buffers[n]

    def run(self, steps: int) -> None:
        W1, b1, W2, b2 = self.W1, self.b1, self.W2, self.b2
        params = (W1, b1, W2, b2)
        X_all, y_all, n_all, lr, mu = self.X, self.y, len(self.X), self.lr, self.mu
        for _ in range(steps):
            idx = self._order[self._pos:self._pos + self.batch_size]
            n = len(idx)
            buf = self._buffers_for(n)
            X = X_all.take(idx, 0, buf["X"], "clip")
            Y = self.eye.take(y_all[idx], 0, buf["Y"], "clip")
            # forward: a1 = relu(X W1 + b1), a2 = softmax(a1 W2 + b2), row max subtracted;
            # the columns blank in every row left out of X W1 when that pays, as the engine
            columns = input_columns(X, W1.shape[1])
            if columns is None:
                a1 = np.matmul(X, W1, out=buf["a1"])
            else:
                used, blank = columns
                X_used = X[:, used]
                a1 = np.matmul(X_used, W1[used], out=buf["a1"])
            a1 += b1
            np.maximum(a1, buf["zero"], out=a1)
            a2 = np.matmul(a1, W2, out=buf["a2"])
            a2 += b2
            np.subtract(a2, a2.max(axis=1, keepdims=True), out=a2)
            np.exp(a2, out=a2)
            a2 /= a2.sum(axis=1, keepdims=True)
            # backward: the cross-entropy's output error a2 - Y, times lr / n (the mean)
            d2 = np.subtract(a2, Y, out=buf["d2"])
            d2 *= lr / n
            dW2 = np.matmul(a1.T, d2, out=buf["dW2"])
            db2 = np.dot(buf["ones"], d2, out=buf["db2"])
            d1 = np.matmul(d2, W2.T, out=buf["d1"])
            np.multiply(d1, a1 > 0, out=d1)
            if columns is None:
                dW1 = np.matmul(X.T, d1, out=buf["dW1"])
            else:  # the blank columns' rows of dW1 are 0
                dW1 = buf["dW1"]
                dW1[blank] = 0
                dW1[used] = X_used.T @ d1
            db1 = np.dot(buf["ones"], d1, out=buf["db1"])
            # the update: p -= lr g (SGD), or v = mu v - lr g; p += v (momentum)
            if mu is None:
                for p, g in zip(params, (dW1, db1, dW2, db2)):
                    p -= g
            else:
                for p, g, v in zip(params, (dW1, db1, dW2, db2), self.velocity):
                    v *= mu
                    v -= g
                    p += v
                self._step += 1  # and v's entries too small to move a weight set to 0
                period = flush_period(mu, self.dtype)  # before they become subnormal
                if period and self._step % period == 0:
                    flush_tiny(self.velocity)
            self._pos += n
            if self._pos >= n_all:
                self._pos = 0
                self._order = self._rng.permutation(n_all)

    @property
    def last_loss(self) -> float:
        """The mean cross-entropy of the network now on the first 10,000 images (the loop
        itself computes no loss)."""
        net = MLP([self.W1.shape[0], self.W1.shape[1], self.W2.shape[1]], dtype=self.dtype.name)
        net.weights, net.biases = [self.W1, self.W2], [self.b1, self.b2]
        return net.loss(self.X[:10_000], self.eye[self.y[:10_000]])


class EngineEpochs(EngineLoop):
    """``EngineLoop`` (the trainer with every statistic), with momentum when asked for."""

    def __init__(self, X: np.ndarray, y: np.ndarray, sizes: list[int], batch_size: int,
                 optimizer: str = "sgd"):
        super().__init__(X, y, sizes, batch_size)
        if optimizer != "sgd":
            config = TrainConfig(**{**self.trainer.config.to_dict(), "optimizer": optimizer,
                                    "momentum": MOMENTUM})
            self.trainer = Trainer(self.net, X, y, config, max_snapshots=2)


def parse_shape(text: str) -> tuple[int, int]:
    """``"128x32"`` -> ``(128, 32)``: hidden units, batch size."""
    try:
        hidden, batch = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a shape is HIDDENxBATCH, e.g. 128x32, got {text!r}") from None
    if hidden < 1 or batch < 1:
        raise argparse.ArgumentTypeError(f"hidden units and batch size must be >= 1: {text!r}")
    return hidden, batch


def load() -> str:
    """The load averages over 1, 5 and 15 minutes, as ``uptime`` prints them."""
    one, five, fifteen = os.getloadavg()
    return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


def ratios(result: Result, a: str, b: str, cpu: bool = False) -> list[float]:
    """Per repeat: ``a``'s samples per second over ``b``'s (timed back to back)."""
    rates = result.cpu_rates if cpu else result.rates
    return [x / y for x, y in zip(rates[a], rates[b])]


def same_maths(engine: EngineEpochs, plain: PlainLoop) -> float:
    """The largest difference between the engine's and the plain loop's weights and
    biases, relative to the largest weight: 0 when the maths are exactly the same."""
    ours = [*engine.net.weights, *engine.net.biases]
    theirs = [plain.W1, plain.W2, plain.b1, plain.b2]
    scale = max(float(np.abs(W).max()) for W in ours)
    return max(float(np.abs(a - b).max()) for a, b in zip(ours, theirs)) / scale


def compare(X, y, hidden: int, batch: int, repeats: int, optimizer: str, torch, say) -> dict:
    """One shape: every loop timed for whole epochs, interleaved; the per-shape summary."""
    sizes = [N_INPUTS, hidden, N_CLASSES]
    engine = EngineEpochs(X, y, sizes, batch, optimizer)
    # the trainer's split is all of X (val_size=0), in order: the loops share the array
    assert np.array_equal(engine.trainer._rows, np.arange(len(X)))
    mu = MOMENTUM if optimizer == "momentum" else None
    plain = PlainLoop(X, y, engine.net, batch, LR, mu)
    loops: list = [engine, plain]
    if torch is not None:
        loops.append(TorchLoop(torch, X, y, engine.net, batch, name="pytorch", momentum=mu))
    steps = math.ceil(len(X) / batch)  # one epoch per timed block, for every loop
    start = load()
    # a run's first STATS_EVERY_STEP_UNTIL steps are all measured: a cost its first epoch
    # pays once, timed here on its own (CPU seconds); the epochs timed next come after it
    first = {}
    for loop in (engine, plain):
        cpu = time.process_time()
        loop.run(STATS_EVERY_STEP_UNTIL)
        first[loop.name] = time.process_time() - cpu
    result = measure(loops, batch, steps, repeats, 1, say=say,
                     repeat_line=lambda r: ", ".join(
        f"{name} {r.rates[name][-1]:,.0f}/s" for name in r.rates))
    end = load()
    row = {"hidden": hidden, "batch": batch, "steps_per_epoch": steps,
           "epoch_seconds": {name: statistics.median(len(X) / r for r in rates)
                             for name, rates in result.rates.items()},
           "engine_over_plain": statistics.median(ratios(result, "plain", "engine")),
           "engine_over_plain_cpu": statistics.median(ratios(result, "plain", "engine", True)),
           "engine_over_plain_all": ratios(result, "plain", "engine"),
           "weights_differ_by": same_maths(engine, plain),
           "first_steps_cpu_seconds": first,
           "load_start": start, "load_end": end}
    if torch is not None:
        row["faster_than_pytorch"] = statistics.median(ratios(result, "engine", "pytorch"))
        row["faster_than_pytorch_cpu"] = statistics.median(
            ratios(result, "engine", "pytorch", True))
        row["faster_than_pytorch_all"] = ratios(result, "engine", "pytorch")
    return row


def shape_lines(row: dict) -> list[str]:
    """The per-shape verdict: the engine's epoch time over the plain loop's (goal <= 1.05)
    and its speed over PyTorch's (goal >= 1.2)."""
    seconds = ", ".join(f"{name} {s:.3f} s" for name, s in row["epoch_seconds"].items())
    lines = [f"H{row['hidden']} B{row['batch']}: epoch (median) {seconds}",
             f"  engine / plain epoch time {row['engine_over_plain']:.3f}x (per CPU second "
             f"{row['engine_over_plain_cpu']:.3f}x; repeats "
             f"{', '.join(f'{r:.2f}' for r in row['engine_over_plain_all'])}); goal <= 1.05"]
    if "faster_than_pytorch" in row:
        lines.append(
            f"  engine faster than pytorch {row['faster_than_pytorch']:.2f}x (per CPU second "
            f"{row['faster_than_pytorch_cpu']:.2f}x; repeats "
            f"{', '.join(f'{r:.2f}' for r in row['faster_than_pytorch_all'])}); goal >= 1.2")
    first = row["first_steps_cpu_seconds"]
    lines.append(f"  a run's first {STATS_EVERY_STEP_UNTIL} steps (all measured, once per run): "
                 f"engine {first['engine'] * 1e3:.1f} ms, plain {first['plain'] * 1e3:.1f} ms "
                 "of CPU")
    lines.append(f"  same maths: weights differ by {row['weights_differ_by']:.1e} of the "
                 f"largest; {row['load_start']} before, {row['load_end']} after")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/plain_loop.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--shapes", type=parse_shape, nargs="+",
                        default=[parse_shape(s) for s in SHAPES], metavar="HxB")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads of numpy and PyTorch (1: the issue's comparison)")
    parser.add_argument("--optimizer", choices=["sgd", "momentum"], default="sgd")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--json", action="store_true", help="end stdout with a JSON summary")
    args = parser.parse_args(argv)
    say = (lambda text: print(text, file=sys.stderr, flush=True)) if args.json else (
        lambda text: print(text, flush=True))
    torch = None if args.no_torch else import_torch()
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if torch is not None:
        torch.set_num_threads(args.threads)
    set_threads(args.threads)
    data = load_data(args.data_dir, quiet=True)
    X, y = data.X_train, data.y_train
    for line in describe_machine([torch_line(torch, args.no_torch)]):
        say(line)
    say(f"784-H-10 ReLU/softmax + cross-entropy, {args.optimizer} lr {LR}"
        + (f" momentum {MOMENTUM}" if args.optimizer == "momentum" else "")
        + f", {len(X):,} training images, {args.threads} BLAS thread(s); each timing one epoch, "
        f"{args.repeats} repeats rotating engine, plain, pytorch; medians of per-repeat ratios")
    rows = []
    for hidden, batch in args.shapes:
        say(f"H{hidden} B{batch}:")
        rows.append(compare(X, y, hidden, batch, args.repeats, args.optimizer, torch, say))
    say("")
    for row in rows:
        for line in shape_lines(row):
            say(line)
    if args.json:
        print(json.dumps({"optimizer": args.optimizer, "lr": LR, "repeats": args.repeats,
                          "numpy": np.__version__,
                          "pytorch": getattr(torch, "__version__", None), "shapes": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
