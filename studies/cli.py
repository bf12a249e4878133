"""``python -m mnist_np study``: a hyperparameter study from the command line.

Example::

    python -m mnist_np study --param lr=log:1e-4..1 --param hidden=64,128,256 \\
        --param batch=32,128 --sampler tpe --trials 30 --epochs 3 --pruner median

Trials run on a local Dask cluster (one worker per free core) or on the one at
``--scheduler`` / ``MNIST_NP_DASK_SCHEDULER``. Every ended trial is a run in the run
database (``--db``, else the app's), in the workspace ``--workspace`` names (the key on the
app's Experiments page) or in a new one. One line per trial on stderr; the summary on
stdout, and with ``--json`` the last line of stdout is one JSON object. A bad flag or
search space: one line, exit code 2; data, database or cluster problems: one line, exit
code 1; Ctrl-C: the running trials are cancelled, the ended ones kept, exit code 130.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import secrets
import signal
import sys
import threading
from dataclasses import replace

from dashboard.settings import Settings
from dashboard.store import Store, StoreError
from mnist_np.cli import OneLineParser, load_data

from . import cluster as dc
from . import driver as dr
from . import space as sp

PROG = "python -m mnist_np study"
DEFAULT_TRIALS = 20
DEFAULT_EPOCHS = 3
INTERRUPTED = 130  # the shell's code for Ctrl-C
_WORKSPACE = re.compile(r"[A-Za-z0-9_-]{32}")


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0])
    knobs = ", ".join(sp.KNOBS)
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUES",
                   help=f"a hyperparameter to search ({knobs}): a list 64,128,256, a range "
                        "1e-3..1 or a log range log:1e-4..1; repeat for each")
    p.add_argument("--sampler", choices=dr.SAMPLERS, default="tpe")
    p.add_argument("--trials", type=int,
                   help=f"trials to run (default {DEFAULT_TRIALS}; grid: every point, "
                        "at most this many)")
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS,
                   help="epochs per trial")
    p.add_argument("--pruner", choices=dr.PRUNERS, default="median",
                   help="stop hopeless trials early, from their validation accuracy after "
                        "each epoch")
    p.add_argument("--prune-after", type=int, default=3, metavar="N",
                   help="trials that finish before the pruner judges any (median)")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help=f"a Dask scheduler (default ${dc.SCHEDULER_ENV}, else a local "
                        "cluster)")
    p.add_argument("--workers", type=int,
                   help="local cluster's worker processes (default: one per free core)")
    p.add_argument("--db", metavar="FILE",
                   help="the run database (default: the app's, $MNIST_NP_DB or the cache)")
    p.add_argument("--workspace", metavar="KEY",
                   help="write into this workspace (the key on the app's Experiments page)")
    p.add_argument("--train-limit", type=int, metavar="N",
                   help="use only N training images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", metavar="DIR")
    p.add_argument("--json", action="store_true", help="end stdout with a JSON summary")
    p.add_argument("--origin", choices=("cli", "app"), default="cli",
                   help=argparse.SUPPRESS)  # the app's own studies say they are
    p.add_argument("--quiet", action="store_true", help="no line per trial")
    return p


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def _value(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def describe(end: dr.TrialEnd) -> str:
    params = " ".join(f"{k}={_value(v)}" for k, v in end.params.items())
    what = f"{end.status} after {end.epochs} epoch{'s' * (end.epochs != 1)}"
    if end.value is not None and math.isfinite(end.value):
        what = f"{end.value:.2%} validation" + ("" if end.status == dr.FINISHED
                                                 else f" ({what})")
    run = f", run {end.run}" if end.run is not None else ""
    error = f": {end.error}" if end.error else ""
    return f"trial {end.number}: {params} -> {what}{run}{error}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for flag, low in (("trials", 1), ("epochs", 1), ("prune_after", 0), ("workers", 1),
                      ("train_limit", 10), ("seed", 0)):
        value = getattr(args, flag)
        if value is not None and value < low:
            parser.error(f"argument --{flag.replace('_', '-')}: must be at least {low}, "
                         f"got {value}")
    try:
        space = sp.parse_space(args.param)
        base = replace(Settings(), epochs=args.epochs, steps=None,
                       train_limit=args.train_limit, seed=args.seed)
        trials = args.trials or DEFAULT_TRIALS
        if args.sampler == "grid" and args.trials is None:
            trials = sp.grid_size(space)
        spec = dr.StudySpec(space, base, trials, args.epochs, args.sampler, args.pruner,
                            args.seed, args.prune_after)
        spec.check()
        address = dc.scheduler_address(args.scheduler)
    except (ValueError, dc.ClusterError) as e:
        return _fail(str(e), 2)
    if address is not None and args.workers is not None:
        return _fail("--workers starts a local cluster; a real cluster has its own workers "
                     "(drop --workers or --scheduler)", 2)
    if args.workspace is not None and not _WORKSPACE.fullmatch(args.workspace):
        return _fail("--workspace takes the 32-character key shown on the Experiments page",
                     2)
    try:
        store = Store.from_environment(args.db)
    except StoreError as e:
        return _fail(str(e), 1)
    workspace = args.workspace
    if workspace is not None and not store.has_workspace(workspace):
        return _fail(f"no workspace with that key in {store.path.name}: copy the key from the "
                     "Experiments page, and give --db the app's database if it has its own", 2)
    data = load_data(args.data_dir, quiet=True)
    if workspace is None:
        workspace = _new_workspace(store)
    try:
        storage = dr.open_storage(dr.storage_path(store.path))
    except dr.StudyError as e:
        return _fail(str(e), 1)
    workers = args.workers or dc.free_cores()
    say = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    run = dr.StudyRun(spec, storage, store, workspace, data, args.origin,
                      on_trial=lambda end: say(describe(end)))
    try:
        with dc.connect(address, workers) as client:
            where = address or f"a local cluster of {dc.worker_count(client)} workers"
            run.create(where)
            say(f"study {run.number}: {spec.planned} trials of {spec.epochs} epochs, "
                f"{spec.sampler} sampler, {spec.pruner} pruner, on {where} "
                f"({run.name} in {storage_path_name(store)})")
            outcome = _run_until_ctrl_c(run, client)
    except dc.ClusterError as e:
        return _fail(str(e), 1)
    except KeyboardInterrupt:  # during the cluster's start or stop
        print(f"{PROG}: interrupted", file=sys.stderr)
        return INTERRUPTED
    return report(outcome, run, workspace, args.json)


def _run_until_ctrl_c(run: dr.StudyRun, client) -> dr.Outcome:
    """Run the study; the first Ctrl-C cancels it (the driver stops between two of its
    own writes, so no trial is left half-recorded), a second one interrupts at once."""

    def first(signum, frame) -> None:
        print(f"{PROG}: cancelling (Ctrl-C again to stop at once)", file=sys.stderr)
        run.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    if threading.current_thread() is not threading.main_thread():
        return run.run(client)
    previous = signal.signal(signal.SIGINT, first)
    try:
        return run.run(client)
    finally:
        signal.signal(signal.SIGINT, previous)


def storage_path_name(store: Store) -> str:
    return dr.storage_path(store.path).name


def _new_workspace(store: Store) -> str:
    token = secrets.token_urlsafe(24)
    store.touch(token)
    print(f"note: a new workspace {token}; the app shows a workspace's runs to the browser "
          "that owns it, so pass --workspace with the key from your Experiments page",
          file=sys.stderr)
    return token


def report(outcome: dr.Outcome, run: dr.StudyRun, workspace: str, as_json: bool) -> int:
    counts = {s: outcome.count(s) for s in (dr.FINISHED, dr.PRUNED, dr.DIVERGED, dr.FAILED,
                                            dr.CANCELLED)}
    scored = [t for t in outcome.ended if t.value is not None and math.isfinite(t.value)
              and t.status == dr.FINISHED]
    best = max(scored, key=lambda t: t.value or 0.0) if scored else None
    minutes = outcome.seconds / 60
    ended = len(outcome.ended) - counts[dr.CANCELLED]
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    print(f"study {outcome.number}: {ended} trials ended ({parts or 'none'}) in "
          f"{outcome.seconds:.1f} s, {ended / minutes if minutes else 0:.1f} trials/minute")
    if best is not None:
        print(f"best: {describe(best)}")
    if outcome.state != "finished":
        print(f"{PROG}: {outcome.message}", file=sys.stderr)
    if as_json:
        print(json.dumps({
            "study": outcome.name, "number": outcome.number, "state": outcome.state,
            "message": outcome.message, "seconds": round(outcome.seconds, 3),
            "trials_per_minute": round(ended / minutes, 3) if minutes else None,
            "counts": counts, "workspace": workspace,
            "best": None if best is None else {"trial": best.number, "params": best.params,
                                               "val_accuracy": best.value, "run": best.run},
            "trials": [{"trial": t.number, "params": t.params, "status": t.status,
                        "val_accuracy": t.value, "epochs": t.epochs, "run": t.run,
                        "error": t.error} for t in outcome.ended],
        }))
    if outcome.state == "cancelled":
        return INTERRUPTED
    return 0 if outcome.state == "finished" else 1
