"""Command line: ``python -m mnist_np train | bench | data``.

``train`` starts from a preset (``default`` unless ``--preset`` says otherwise) and
applies any flag on top. Progress goes to stderr; results to stdout, and with
``--json`` the last line of stdout is one JSON object. A bad flag gets one line and
exit code 2; a data problem one line and exit code 1; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import NoReturn

import numpy as np

from .activations import ACTIVATIONS
from .augment import LIMITS as AUG_LIMITS
from .augment import check as check_augmentation
from .bench import (
    LR,
    EngineLoop,
    benchmark,
    default_threads,
    describe_machine,
    end_load_line,
    run_presets,
)
from .checkpoint import load_training, save_training
from .data import (
    DATASETS,
    MNIST,
    N_CLASSES,
    N_INPUTS,
    DataError,
    load_dataset,
    load_folder,
    text_progress,
)
from .init import INITS
from .losses import OUTPUT_LOSSES
from .network import MLP, ConfigError, ModelFileError, parse_hidden
from .optimizers import OPTIMIZERS
from .presets import PRESETS
from .threads import set_threads
from .training import SCHEDULES, TrainConfig, Trainer


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2) instead of a block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int_at_least(low: int, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _int_at_least(1, text)


def _non_negative_int(text: str) -> int:
    return _int_at_least(0, text)


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = _non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _fraction_below_one(text: str) -> float:
    """A number in [0, 1): dropout, momentum, Adam's betas."""
    value = _non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be below 1, got {text}")
    return value


def _accuracy(text: str) -> float:
    """A target accuracy: a fraction in (0, 1] (``0.98``) or a percentage (``98%``)."""
    percent = text.strip().endswith("%")
    value = _positive_float(text.strip().removesuffix("%"))
    value = value / 100 if percent else value
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be a fraction up to 1 or a percentage up to "
                                         f"100%, got {text}")
    return value


def _augmentation(name: str):
    """The type of ``--aug-NAME``: a number in ``[0, AUG_LIMITS[name]]``."""
    def parse(text: str) -> float:
        value = _non_negative_float(text)
        problem = check_augmentation(**{name: value})
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value
    parse.__name__ = f"aug_{name}"
    return parse


_AUG_HELP = {"shift": "at most this many pixels along each axis",
             "rotate": "at most this many degrees either way",
             "scale": "a factor in [1 - S, 1 + S]",
             "elastic": "Simard's elastic distortion: alpha (sigma 4; they used 34)",
             "noise": "Gaussian pixel noise of this standard deviation"}


def _hidden(text: str) -> list[int]:
    """``--hidden``: ``"128,64"`` -> ``[128, 64]``; ``""`` or ``"none"`` -> no hidden layer."""
    try:
        return list(parse_hidden(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _positive_ints(text: str) -> list[int]:
    """``"128,32"`` -> ``[128, 32]``, each at least 1."""
    return [_positive_int(part) for part in text.split(",")]


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m mnist_np", description=__doc__.split("\n\n")[0],
        epilog="python -m mnist_np study --help: hyperparameter studies (Optuna searches, Dask "
               "workers train; the studies package, beside the engine)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    train = sub.add_parser("train", help="train a network on MNIST and report test accuracy")
    train.add_argument("--preset", choices=sorted(PRESETS))
    train.add_argument("--hidden", type=_hidden, help="hidden layer sizes, e.g. 128,64")
    train.add_argument("--activation", choices=sorted(ACTIVATIONS))
    train.add_argument("--output", choices=sorted({o for o, _ in OUTPUT_LOSSES}))
    train.add_argument("--loss", choices=sorted({lo for _, lo in OUTPUT_LOSSES}))
    train.add_argument("--init", choices=sorted(INITS))
    train.add_argument("--optimizer", choices=sorted(OPTIMIZERS))
    train.add_argument("--lr", type=_positive_float, help="learning rate")
    train.add_argument("--batch-size", type=_positive_int)
    train.add_argument("--epochs", type=_non_negative_int,
                       help="passes over the training set; 0: until Ctrl-C (with the constant "
                            "schedule unless --schedule says otherwise)")
    train.add_argument("--steps", type=_positive_int, help="stop after this many mini-batches")
    train.add_argument("--schedule", choices=sorted(SCHEDULES),
                       help="learning-rate schedule over the run")
    train.add_argument("--l2", type=_non_negative_float, help="L2 weight decay")
    train.add_argument("--seed", type=int)
    train.add_argument("--dropout", type=_fraction_below_one, metavar="P",
                       help="drop each hidden unit with probability P at every training step "
                            "(inverted dropout; off at evaluation)")
    train.add_argument("--patience", type=_positive_int, metavar="EPOCHS",
                       help="stop early when validation accuracy has not improved for this "
                            "many epochs, and put back the best epoch's weights")
    train.add_argument("--target-accuracy", type=_accuracy, metavar="ACC",
                       help="stop once validation accuracy reaches ACC (0.98 or 98%%)")
    train.add_argument("--momentum", type=_fraction_below_one, metavar="MU",
                       help="momentum's μ in v <- μv - lr·g, w <- w + v (default 0.9)")
    train.add_argument("--beta1", type=_fraction_below_one, help="Adam's β₁ (default 0.9)")
    train.add_argument("--beta2", type=_fraction_below_one, help="Adam's β₂ (default 0.999)")
    train.add_argument("--eps", type=_positive_float, help="Adam's ε (default 1e-8)")
    train.add_argument("--val-size", type=_non_negative_int, metavar="N",
                       help="training images held out for validation (default 5000; at most "
                            "a fifth of the training set)")
    for name, high in AUG_LIMITS.items():
        train.add_argument(f"--aug-{name}", type=_augmentation(name), metavar="X",
                           help=f"augmentation: {_AUG_HELP[name]}, drawn afresh for every "
                                f"training image (0 to {high:g}; default 0: off)")
    train.add_argument("--train-limit", type=_positive_int, metavar="N",
                       help="use only N training images")
    train.add_argument("--data-dir", metavar="DIR", help="folder with the four MNIST files")
    train.add_argument("--dataset", default="mnist", metavar="NAME|DIR", help=_DATASET_HELP)
    train.add_argument("--out", metavar="model.npz",
                       help="save the network and its training here (MLP.load reads the network)")
    train.add_argument("--resume", metavar="model.npz",
                       help="continue the run saved by --out, on the same data and settings "
                            "(--epochs or --steps may set a new end)")
    train.add_argument("--json", action="store_true", help="end stdout with a JSON summary")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--threads", type=_positive_int, default=1,
                       help="BLAS threads (default 1: see BENCHMARKS.md)")

    bench = sub.add_parser("bench", help="samples/second of the engine's training loop")
    add_bench_arguments(bench)

    data = sub.add_parser("data", help="load MNIST (downloading it if needed), say from where")
    data.add_argument("--data-dir", metavar="DIR")
    data.add_argument("--dataset", default="mnist", metavar="NAME|DIR", help=_DATASET_HELP)
    return parser


_DATASET_HELP = (f"the data set: {', '.join(DATASETS)} (default mnist; the others are "
                 "downloaded once, checked against their published SHA-256s), or a folder "
                 "of the four IDX files with classes.txt (ten class names, one a line); "
                 "--data-dir names a folder of the chosen set's own files")


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``bench``, which ``benchmarks/torch_compare.py`` shares."""
    parser.add_argument("--hidden", type=_hidden, default=[128])
    parser.add_argument("--batch-sizes", type=_positive_ints, default=[128, 32])
    parser.add_argument("--steps", type=_positive_int, default=1500)
    parser.add_argument("--repeats", type=_positive_int, default=3)
    parser.add_argument("--threads", type=_positive_int, nargs="+", default=None, metavar="N",
                        help="thread counts to measure, e.g. 1 2 (default: 1 and all cores)")
    parser.add_argument("--data-dir", metavar="DIR")
    parser.add_argument("--preset", choices=sorted(PRESETS),
                        help="also train this preset end to end: train seconds, test accuracy")
    parser.add_argument("--json", action="store_true", help="end stdout with a JSON summary")


def configs_from_args(args: argparse.Namespace) -> tuple[dict, dict]:
    """The preset's network and training settings with every given flag applied."""
    preset = PRESETS[args.preset or "default"]
    net, train = dict(preset.net), dict(preset.train)
    if args.hidden is not None:
        net["layer_sizes"] = [N_INPUTS, *args.hidden, N_CLASSES]
    for key in ("activation", "output", "loss", "init", "l2", "seed"):
        if getattr(args, key) is not None:
            net[key] = getattr(args, key)
    for key in ("optimizer", "lr", "batch_size", "epochs", "train_limit", "seed", "schedule",
                "dropout", "patience", "target_accuracy", "momentum", "beta1", "beta2", "eps",
                "val_size"):
        if getattr(args, key) is not None:
            train[key] = getattr(args, key)
    for name in AUG_LIMITS:
        if getattr(args, f"aug_{name}") is not None:
            train[f"aug_{name}"] = getattr(args, f"aug_{name}")
    if args.steps is not None:
        train["steps"] = args.steps
    elif args.epochs is not None:
        train["steps"] = None  # --epochs overrides a preset that counts steps
        if args.epochs == 0 and args.schedule is None:
            train["schedule"] = "constant"  # no end to decay towards
    return net, train


class ProgressBar:
    """A one-line bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width, self._last = stream, width, 0.0

    def draw(self, fraction: float, text: str, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        filled = round(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {fraction:4.0%} {text}\033[K")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def load_data(data_dir: str | None, quiet: bool, dataset: str = "mnist") -> MNIST:
    """MNIST as ``load_mnist`` finds it (or ``dataset``: another set's name, or a folder
    with classes.txt), saying on stderr which set it is; a problem is one line on stderr
    and exit code 1."""
    try:
        if dataset not in DATASETS and os.path.isdir(dataset):
            data = load_folder(dataset)
        else:
            data = load_dataset(dataset, data_dir, progress=None if quiet else text_progress)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    label = ("full MNIST" if data.source == "mnist" else data.title if data.notice is None
             else "SAMPLE of MNIST")
    print(f"data: {label} ({data.source}, {len(data.X_train):,} train / "
          f"{len(data.X_test):,} test images) from {data.origin}", file=sys.stderr)
    if data.notice:
        print(f"note: {data.notice}", file=sys.stderr)
    return data


# Flags that describe a run: a resumed run has its own, from its file.
_RUN_FLAGS = ("preset", "hidden", "activation", "output", "loss", "init", "optimizer", "lr",
              "batch_size", "schedule", "l2", "seed", "train_limit",
              "dropout", "patience", "target_accuracy", "momentum", "beta1", "beta2", "eps",
              "val_size")
_AUG_FLAGS = tuple(f"aug_{name}" for name in AUG_LIMITS)


def resume(args: argparse.Namespace, data: MNIST) -> Trainer:
    """The trainer saved in ``args.resume``, on ``data``, with ``--epochs``/``--steps`` as
    its new end when given; a problem is one line on stderr and exit code 1 (2 for flags)."""
    try:
        with open(args.resume, "rb") as f:
            raw = f.read()
        loaded = load_training(raw, data.X_train, data.y_train, data.source)
    except OSError as e:
        _fail(f"cannot read {args.resume}: {e.strerror or type(e).__name__}", 1)
    except ModelFileError as e:
        _fail(f"cannot resume from {args.resume}: {e}", 1)
    if loaded.trainer is None:
        _fail(f"cannot resume from {args.resume}: {loaded.note}", 1)
    trainer = loaded.trainer
    if args.steps is not None or args.epochs is not None:
        end = {"steps": args.steps} if args.steps is not None else \
            {"steps": None, "epochs": args.epochs}
        try:
            trainer.config = TrainConfig(**{**trainer.config.to_dict(), **end})
        except ConfigError as e:
            _fail(str(e), 2)
    return trainer


def _fail(message: str, code: int) -> NoReturn:
    print(f"python -m mnist_np train: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def train_command(args: argparse.Namespace) -> int:
    if args.resume:
        given = [f"--{f.replace('_', '-')}" for f in (*_RUN_FLAGS, *_AUG_FLAGS)
                 if getattr(args, f) is not None]
        if given:  # before the data is loaded: a bad flag is one line
            _fail(f"--resume continues the file's run with its own settings; drop {given[0]}", 2)
        data = load_data(args.data_dir, args.quiet, args.dataset)
        set_threads(args.threads)
        trainer = resume(args, data)
        net, config = trainer.net, trainer.config
        print(f"resumed {args.resume}: step {trainer.step_count}, "
              f"{trainer.epochs_done:.2f} epochs done", file=sys.stderr)
    else:
        net_config, train_config = configs_from_args(args)
        try:
            net = MLP(**net_config)
            config = TrainConfig(**train_config)
        except ConfigError as e:
            print(f"python -m mnist_np train: error: {e}", file=sys.stderr)
            return 2
        except MemoryError:
            print(f"python -m mnist_np train: error: not enough memory for a network of "
                  f"layers {net_config['layer_sizes']}", file=sys.stderr)
            return 2
        data = load_data(args.data_dir, args.quiet, args.dataset)
        set_threads(args.threads)
        trainer = Trainer(net, data.X_train, data.y_train, config)
    bar = None if args.quiet else ProgressBar()
    interrupted = False
    loss = float("nan")  # the last measured step's (the others' records hold NaN)
    try:
        for record in trainer.run():
            if record.measured:
                loss = record.loss
            if bar:
                bar.draw(trainer.progress, f"epoch {record.epoch + 1} step {record.step} "
                                           f"loss {loss:.4f}")
    except KeyboardInterrupt:
        interrupted = True
    if bar:
        bar.draw(trainer.progress, f"step {trainer.step_count}", force=True)
        bar.close()
    test_loss, test_accuracy = trainer.evaluate(data.X_test, data.y_test)
    last = trainer.history.columns["loss"][-1] if len(trainer.history) else float("nan")
    summary = {
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "val_accuracy": trainer.val_accuracy,  # the best epoch's after an early stop
        "final_loss": trainer.epoch_records[-1].train_loss if trainer.epoch_records else last,
        "train_seconds": round(trainer.train_seconds, 3),
        "samples_per_second": round(trainer.samples_per_second, 1),
        "epochs": round(trainer.epochs_done, 3),
        "steps": trainer.step_count,
        "diverged": trainer.diverged,
        "message": trainer.message,
        "stalled": trainer.stalled,
        "stop_reason": trainer.stop_reason,
        "interrupted": interrupted,
        "data_source": data.source,
        "data_origin": data.origin,
        "n_train": trainer.n_train,
        "n_val": len(trainer.X_val),
        "preset": args.preset or ("default" if not args.resume else None),
        "resumed_from": args.resume,
        "config": {"network": net.config, "training": config.to_dict()},
    }
    if trainer.diverged:
        print(trainer.message)
    print(f"{net!r}: test accuracy {test_accuracy:.2%} after {trainer.step_count} steps "
          f"({trainer.epochs_done:.2f} epochs) in {trainer.train_seconds:.1f} s of training, "
          f"{trainer.samples_per_second:,.0f} samples/s, on {data.source}")
    if trainer.stop_reason:  # a stopping rule ended it: say which, last (before --out/--json)
        print(trainer.stop_reason)
    if trainer.stalled:  # it stopped by itself: say why, last (before --out/--json)
        print(trainer.message)
    if args.out:
        try:
            with open(args.out, "wb") as f:
                f.write(save_training(trainer, data.source))
        except OSError as e:
            print(f"error: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
            return 1
        print(f"saved to {args.out}")
    if args.json:
        print(json.dumps(summary))
    return 1 if trainer.diverged or trainer.stalled else 0


def data_command(args: argparse.Namespace) -> int:
    data = load_data(args.data_dir, quiet=False, dataset=args.dataset)
    print(f"{data.source}: {len(data.X_train)} train, {len(data.X_test)} test, {data.origin}")
    return 0


def bench_command(args: argparse.Namespace) -> int:
    say = _stderr if args.json else print
    data = load_data(args.data_dir, quiet=True)
    sizes = [N_INPUTS, *args.hidden, N_CLASSES]
    thread_counts = args.threads or default_threads()
    for line in describe_machine():
        say(line)
    say(f"network {'-'.join(map(str, sizes))} ReLU/softmax + cross-entropy, SGD lr {LR}, "
        f"{data.source} ({len(data.X_train):,} training images); engine: Trainer.step with "
        f"its per-step statistics; {args.steps} steps per timing, {args.repeats} repeats, "
        f"medians reported")
    engine = EngineLoop(data.X_train, data.y_train, sizes, args.batch_sizes[0])
    results = benchmark([engine], args.batch_sizes, args.steps, args.repeats, thread_counts,
                        say)
    summary: dict = {"network": sizes, "lr": LR, "steps": args.steps, "repeats": args.repeats,
                     "data_source": data.source, "numpy": np.__version__,
                     "results": [r.summary() for r in results],
                     "final_loss": {engine.name: engine.last_loss}}
    if args.preset:
        summary["preset"] = run_presets(args.preset, data.X_train, data.y_train, data.X_test,
                                        data.y_test, thread_counts, say)
    for line in end_load_line():
        say(line)
    if args.json:
        print(json.dumps(summary))
    return 0


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "train":
        return train_command(args)
    if args.command == "data":
        return data_command(args)
    return bench_command(args)
