"""Running a study: Optuna asks for trials, Dask trains each in one task, and the driver
(the CLI process, or the app's study thread) reports each epoch's validation accuracy,
which the task sends through the scheduler's event topics (:mod:`studies.channel`), to
Optuna, answers whether to prune, and writes every ended trial as a run of the workspace.

The driver is the only writer: of Optuna's storage and of the run database. Workers only
compute (:mod:`studies.work`), so a real cluster never needs the driver's files.

Optuna's storage is a journal file beside the run database
(``mnist_np-runs.studies.journal``), not an SQLite RDB: appending a line per change is all
one writer needs, any number of readers (every app process watching) replay it
incrementally without taking SQLite's write lock from the run database's writers, and it
needs no SQLAlchemy schema migrations. It outlives the app and the CLI.

A study belongs to one workspace: its name starts with a hash of the workspace's token
(never the token itself), and only that workspace's pages list it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import optuna
from distributed import Client, Future
from distributed.client import FutureCancelledError
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock
from optuna.trial import FrozenTrial, TrialState

from dashboard.runs import run_record
from dashboard.settings import Settings
from dashboard.store import Store
from mnist_np import Trainer
from mnist_np.data import MNIST

from . import space as sp
from .channel import ALL, Channel, answers_topic, reports_topic
from .work import GO, PRUNE, STOP, TrialResult, TrialTask, train_trial

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "halving", "none")
POLL_SECONDS = 0.25
PER_THREAD = 2  # trials in flight per worker thread: the next one waits on the worker
HEARTBEAT_SECONDS = 5.0
LOST_SECONDS = 30.0  # a running study not heard from for this long has lost its driver
SCHEDULER_GRACE_SECONDS = 10.0  # the client reconnecting for longer: the scheduler is gone
# How an ended trial's run is named in the Experiments table
ORIGIN = "study {study}, trial {trial}"
# Trial outcomes (the run's status in the Experiments table)
FINISHED, DIVERGED, PRUNED, FAILED, CANCELLED = (
    "finished", "diverged", "pruned", "failed", "cancelled")

optuna.logging.set_verbosity(optuna.logging.WARNING)  # the driver says what happens


class StudyError(Exception):
    """A one-line reason a study cannot start or go on."""


class SchedulerGone(StudyError):
    pass


def storage_path(db_path: str | Path) -> Path:
    """Optuna's journal beside the run database."""
    return Path(db_path).with_suffix(".studies.journal")


class Journal(JournalFileBackend):
    """Optuna's journal file, each append written under Optuna's lock file but not
    fsynced: :meth:`sync` makes the appends so far durable at once (the writer thread
    calls it after each batch of ended trials, and the study at its end). An append is in
    the operating system's hands as soon as it is written, so a driver that dies loses
    none of it; only a machine that stops before the next :meth:`sync` may lose the
    epochs reported since (never a run: those are in the run database, synced, before
    Optuna is told). Each of a trial's seven appends was fsynced on its own: 3.6 ms
    each at load 12, and at the worst on the thread that answers a waiting task."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._file_lock = JournalFileSymlinkLock(path)  # Optuna's own default lock
        super().__init__(path, lock_obj=self._file_lock)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        # Optuna's line format: one compact JSON object per line
        text = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs)
        self._file_lock.acquire()
        try:
            with open(self._path, "ab") as f:
                f.write(text.encode("utf-8"))
        finally:
            self._file_lock.release()

    def sync(self) -> None:
        fd = os.open(self._path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class StudyStorage(JournalStorage):
    """Optuna's storage on a :class:`Journal`, which it keeps at hand to sync."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        super().__init__(journal)


def open_storage(path: str | Path) -> JournalStorage:
    try:
        return StudyStorage(Journal(str(path)))
    except Exception as e:  # a damaged or unreadable journal: one line
        raise StudyError(f"cannot open the study journal {Path(path).name}: "
                         f"{type(e).__name__}: {str(e)[:200]}") from None


def workspace_key(workspace: str) -> str:
    """What a study's name says of its workspace: a hash, not the token."""
    return hashlib.sha256(workspace.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class StudySpec:
    """What to search: ``space`` from ``base`` settings, ``trials`` trials of ``epochs``
    epochs each, with ``sampler`` and ``pruner`` (by name). A pruner judges a trial once
    ``prune_after`` trials have finished."""

    space: list[sp.Param]
    base: Settings
    trials: int
    epochs: int
    sampler: str = "tpe"
    pruner: str = "median"
    seed: int = 0
    prune_after: int = 3

    def check(self) -> None:
        """ValueError, one line, for a spec that cannot run."""
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose from "
                             f"{', '.join(SAMPLERS)}")
        if self.pruner not in PRUNERS:
            raise ValueError(f"unknown pruner {self.pruner!r}; choose from {', '.join(PRUNERS)}")
        if self.sampler == "grid":
            sp.grid(self.space)
        if self.trials < 1 or self.epochs < 1:
            raise ValueError("a study needs at least one trial of at least one epoch")

    @property
    def planned(self) -> int:
        """Trials to run: ``trials``, and no more than the grid has points."""
        if self.sampler == "grid":
            return min(self.trials, sp.grid_size(self.space))
        return self.trials

    def settings(self, params: dict) -> Settings:
        return sp.apply(self.base, params)


def make_sampler(spec: StudySpec) -> optuna.samplers.BaseSampler:
    """The sampler by name. The grid is its points enqueued one by one as trials start
    (``StudyRun._launch``): Optuna's ``GridSampler`` stops its study when the grid is
    done, which only works inside ``Study.optimize``, not with ask and tell."""
    if spec.sampler in ("random", "grid"):
        return optuna.samplers.RandomSampler(seed=spec.seed)
    return optuna.samplers.TPESampler(seed=spec.seed)


def make_pruner(spec: StudySpec) -> optuna.pruners.BasePruner:
    if spec.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=spec.prune_after, n_warmup_steps=0)
    if spec.pruner == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    return optuna.pruners.NopPruner()


@dataclass
class TrialEnd:
    """One ended trial, as the CLI prints it."""

    number: int               # Optuna's trial number, from 0
    params: dict
    status: str
    value: float | None       # validation accuracy, for finished and diverged trials
    epochs: int
    run: int | None           # its run in the workspace, when recorded
    error: str = ""
    times: dict[str, float] = field(default_factory=dict)  # its task's, on the worker


@dataclass
class Outcome:
    """How a study run ended: ``state`` is finished, cancelled or failed (``message``)."""

    name: str
    number: int
    state: str
    message: str
    seconds: float
    ended: list[TrialEnd] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(t.status == status for t in self.ended)


@dataclass
class _Running:
    trial: optuna.trial.Trial
    settings: Settings
    task: TrialTask
    epoch: int = 0
    result: TrialResult | None = None  # what its task sent back
    reported: int = 0            # the last epoch reported to Optuna


class StudyRun:
    """One study of ``spec`` in the workspace ``workspace`` of ``store`` (None: runs are
    not recorded), trained on ``data``. :meth:`create` names it; :meth:`run` runs it on a
    Dask client until done, :meth:`cancel` (from another thread) or Ctrl-C."""

    def __init__(self, spec: StudySpec, storage: JournalStorage, store: Store | None,
                 workspace: str, data: MNIST, origin: str = "cli",
                 on_trial: Callable[[TrialEnd], None] | None = None):
        spec.check()
        self.spec, self.storage, self.store = spec, storage, store
        self.workspace, self.data, self.origin = workspace, data, origin
        self.on_trial = on_trial or (lambda end: None)
        self._stop = threading.Event()
        self.study: optuna.Study | None = None
        self.number = 0
        self.ended: list[TrialEnd] = []
        self._beat = 0.0
        self._cut_off: float | None = None  # when the client lost its scheduler
        self._ready = threading.Event()  # a task has ended
        self._lock = threading.Lock()  # the running trials' reports: one thread at a time
        self._by_number: dict[int, _Running] = {}
        # ended trials for the writer thread: (trial, future or None, status, error); None
        self._ended: queue.SimpleQueue[tuple[_Running, Future | None, str, str] | None] = \
            queue.SimpleQueue()
        self._counted = (-1e9, 1)  # when the workers were counted, and the trials at once
        self._grid: list[dict] = []  # the grid's points still to try, the next one last
        if spec.sampler == "grid":  # every point once, in an order the seed shuffles
            grid = sp.grid(spec.space)
            points = list(itertools.product(*grid.values()))
            order = np.random.default_rng(spec.seed).permutation(len(points))[::-1]
            self._grid = [dict(zip(grid, points[i])) for i in order]

    # -- naming ------------------------------------------------------------------------
    def create(self, where: str = "") -> optuna.Study:
        """The study in the storage, numbered after the workspace's others."""
        key = workspace_key(self.workspace)
        taken = [s.user_attrs.get("number", 0) for s in self.storage.get_all_studies()
                 if s.user_attrs.get("workspace") == key]
        number = max(taken, default=0) + 1
        for attempt in range(20):  # another driver may take a number meanwhile
            try:
                study = optuna.create_study(
                    storage=self.storage, study_name=f"{key}-{number + attempt}",
                    direction="maximize", sampler=make_sampler(self.spec),
                    pruner=make_pruner(self.spec))
                break
            except optuna.exceptions.DuplicatedStudyError:
                continue
        else:
            raise StudyError("could not name a new study")
        self.number = number + attempt
        spec = self.spec
        attrs = {"workspace": key, "number": self.number, "origin": self.origin,
                 "params": [p.text for p in spec.space], "sampler": spec.sampler,
                 "pruner": spec.pruner, "trials": spec.planned, "epochs": spec.epochs,
                 "train_limit": spec.base.train_limit, "data": self.data.source,
                 "base": spec.base.describe(), "where": where, "started": time.time(),
                 "heartbeat": time.time(), "state": "running", "message": ""}
        for k, v in attrs.items():
            study.set_user_attr(k, v)
        self.study = study
        return study

    @property
    def name(self) -> str:
        return self.study.study_name if self.study is not None else ""

    def cancel(self) -> None:
        """Stop: cancel the running trials, keep the ended ones (safe from another
        thread, and from a signal handler)."""
        self._stop.set()
        self._ready.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    # -- running -----------------------------------------------------------------------
    def run(self, client: Client) -> Outcome:
        """Run every trial on ``client``'s cluster. Ctrl-C and :meth:`cancel` end it as
        cancelled; a scheduler that goes away ends it as failed. The trials that ended
        are kept either way."""
        study = self.study or self.create()
        start = time.perf_counter()
        running: dict[Future, _Running] = {}
        state, message = "finished", ""
        reports: queue.SimpleQueue[list | None] = queue.SimpleQueue()
        listening = False
        writer = threading.Thread(target=self._write_ended, name=f"{self.name}-writer",
                                  daemon=True)
        writer.start()
        try:
            d = self.data
            data = client.scatter((d.X_train, d.y_train, d.X_test, d.y_test), broadcast=True,
                                  hash=False)
            # followed before any task is submitted (the same stream to the scheduler)
            client.subscribe_topic(reports_topic(self.name), lambda e: reports.put(e[1]))
            listening = True
            self._listen(client, reports)
            asked = 0
            while True:
                while (not self.cancelled and asked < self.spec.planned
                       and len(running) < self._slots(client)):
                    asked += 1
                    self._launch(client, data, running)
                if self.cancelled or not running:
                    break
                self._ready.wait(POLL_SECONDS)
                self._ready.clear()
                self._heartbeat()
                self._check_scheduler(client)
                for future in [f for f in running if f.done()]:
                    if future.status != "finished":  # lost with the scheduler, or failed
                        self._check_scheduler(client, now=True)
                    self._ended.put((running.pop(future), future, FAILED, ""))
        except KeyboardInterrupt:
            self._stop.set()
        except (SchedulerGone, OSError) as e:
            state, message = "failed", _scheduler_message(client, e)
        if self.cancelled and state == "finished":
            state, message = "cancelled", "cancelled: the running trials were stopped"
        if running and state == "cancelled":  # the tasks stop within a mini-batch
            _quietly(lambda: client.log_event(answers_topic(self.name), [ALL, 0, STOP]))
        for future, r in running.items():
            future.cancel()
            self._ended.put((r, None, CANCELLED if state == "cancelled" else FAILED, message))
        self._ended.put(None)
        writer.join()  # every ended trial written
        if listening:
            _quietly(lambda: client.unsubscribe_topic(reports_topic(self.name)))
        reports.put(None)
        seconds = time.perf_counter() - start
        self._set(study, state=state, message=message, seconds=seconds,
                  heartbeat=time.time())
        self._sync()
        return Outcome(study.study_name, self.number, state, message, seconds, self.ended)

    def _slots(self, client: Client) -> int:
        """Trials at once: two per worker thread, so that while the driver handles one
        trial (records it, asks for the next) the worker trains another. The workers are
        counted once a second (asking the scheduler took 4 ms, once per loop)."""
        now = time.monotonic()
        if now - self._counted[0] >= 1.0:
            workers = client.scheduler_info().get("workers", {})
            threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
            self._counted = (now, max(1, PER_THREAD * threads))
        return self._counted[1]

    def _launch(self, client: Client, data: Future, running: dict) -> None:
        assert self.study is not None
        if self._grid:  # the next point, enqueued only now: none is left waiting
            self.study.enqueue_trial(self._grid.pop())
        trial = self.study.ask(sp.distributions(self.spec.space))
        settings = self.spec.settings(trial.params)
        r = _Running(trial, settings,
                     TrialTask(settings.net_config(), settings.train_config(),
                               self.data.source))
        self._submit(client, data, r, running)

    def _submit(self, client: Client, data: Future, r: _Running, running: dict) -> None:
        number = r.trial.number
        channel = Channel(self.name, number, wait=self.spec.pruner != "none")
        self._by_number[number] = r  # before its task can report
        future = client.submit(train_trial, data, r.task, channel, pure=False,
                               key=f"{self.name}-trial{number}")
        running[future] = r
        future.add_done_callback(lambda _: self._ready.set())

    def _listen(self, client: Client, reports: queue.SimpleQueue) -> None:
        """A thread that reports the tasks' epochs (pushed to ``reports`` by the client's
        event loop; None: the last) to Optuna as they come and, when the study prunes,
        answers each task at once, even while the writer records an ended trial."""
        def listen() -> None:
            while (item := reports.get()) is not None:
                self._answer(client, *item)

        threading.Thread(target=listen, name=f"{self.name}-reports", daemon=True).start()

    def _answer(self, client: Client, number: int, epoch: int, val_accuracy: float) -> None:
        """Report trial ``number``'s epoch to Optuna and, when the study prunes, answer
        its task whether to go on (go on, when Optuna's storage fails)."""
        with self._lock:
            r = self._by_number.get(number)
            if r is None:  # ended meanwhile
                return
            verdict = GO
            try:
                self._report(r, epoch, val_accuracy)
                if self.spec.pruner != "none" and r.trial.should_prune():
                    verdict = PRUNE
            except Exception:  # a full disk: the trial's end says it
                pass
        if self.spec.pruner != "none":
            _quietly(lambda: client.log_event(answers_topic(self.name),
                                              [number, epoch, verdict]))

    @staticmethod
    def _report(r: _Running, epoch: int, val_accuracy: float) -> None:
        """Epoch ``epoch``'s accuracy to Optuna, once (a task run again reports again)."""
        if epoch > r.reported:
            r.trial.report(val_accuracy, epoch)
            r.reported = r.epoch = epoch

    def _write_ended(self) -> None:
        """The writer thread: the ended trials the run loop hands over (``(trial, its
        future or None, status when it has no result, error)``; None: the last), each
        batch of those waiting written at once: their runs in one transaction of the run
        database, then, once they are there, Optuna told how each ended. The run loop
        meanwhile starts the next trials: it never waits for a write. A driver that dies
        loses only the trials handed over and not yet written: it never tells Optuna of
        a run the database does not have."""
        last = False
        while not last:
            batch = [self._ended.get()]
            while not self._ended.empty():
                batch.append(self._ended.get())
            last = None in batch
            ends = [self._outcome(*item) for item in batch if item is not None]
            runs = self._record(ends)
            for (r, status, value, error), (run, problem) in zip(ends, runs):
                try:
                    self._end(r, status, value, error, run, problem)
                except Exception as e:  # the journal cannot be written: say it, go on
                    self.ended.append(TrialEnd(
                        r.trial.number, dict(r.trial.params), status, value, r.epoch, run,
                        f"not told to Optuna: {type(e).__name__}: {str(e)[:120]}"))
            self._sync()

    def _outcome(self, r: _Running, future: Future | None, status: str, error: str
                 ) -> tuple[_Running, str, float | None, str]:
        """How trial ``r`` ended: ``(r, status, value, error)``, its task's result fetched
        from its worker."""
        if future is None:
            return r, status, None, error
        if future.status != "finished":
            return r, FAILED, None, _task_error(future)
        try:
            result: TrialResult = future.result()
        except Exception as e:  # lost between done and fetched
            return r, FAILED, None, f"its result was lost ({type(e).__name__})"
        with self._lock:
            self._by_number.pop(r.trial.number, None)
            for epoch, val_accuracy in result.curve:  # those its reports have not brought
                self._report(r, epoch, val_accuracy)
        r.result, r.epoch = result, result.epoch
        if result.finished:
            return r, DIVERGED if result.diverged else FINISHED, result.val_accuracy, ""
        return r, PRUNED if result.verdict == PRUNE else CANCELLED, None, ""

    def _check_scheduler(self, client: Client, now: bool = False) -> None:
        """SchedulerGone once the client has been cut off from its scheduler for
        :data:`SCHEDULER_GRACE_SECONDS` (at once with ``now`` when it is not running)."""
        if client.status == "running":
            self._cut_off = None
            return
        since = self._cut_off or time.monotonic()
        self._cut_off = since
        if now or time.monotonic() - since > SCHEDULER_GRACE_SECONDS \
                or client.status in ("closed", "failed"):
            raise SchedulerGone("no answer" if client.status != "closed" else "closed")

    def _end(self, r: _Running, status: str, value: float | None, error: str,
             run: int | None, problem: str) -> None:
        """Tell Optuna how the trial ended (its run, if any, is in the database)."""
        assert self.study is not None
        with self._lock:
            self._by_number.pop(r.trial.number, None)
        trial = r.trial
        # one journal append each (~6 ms): only what there is to say
        for key, v in (("status", status), ("run", run), ("error", error or problem)):
            if v not in (None, ""):
                trial.set_user_attr(key, v)
        if status in (FINISHED, DIVERGED):
            self.study.tell(trial, value)
        else:
            self.study.tell(trial, state=TrialState.PRUNED if status == PRUNED
                            else TrialState.FAIL)
        end = TrialEnd(trial.number, dict(trial.params), status, value, r.epoch, run,
                       error or problem, r.result.times if r.result is not None else {})
        self.ended.append(end)
        self.on_trial(end)

    def _record(self, ends: list[tuple[_Running, str, float | None, str]]
                ) -> list[tuple[int | None, str]]:
        """The trials as runs of the workspace, in one transaction: for each, ``(run
        number, "")`` or ``(None, why not)``. A trial whose task never ended has no network
        to keep. The numbers come from the worker (:class:`studies.work.TrainedRun`): the
        driver only writes."""
        kept = [(i, r) for i, (r, *_) in enumerate(ends) if r.result is not None]
        runs: list[tuple[int | None, str]] = [(None, "")] * len(ends)
        if self.store is None or not kept:
            return runs
        try:
            records = self.store.add_runs(self.workspace, [
                # a TrainedRun has every attribute run_record reads of a Trainer
                (run_record(0, cast(Trainer, r.result.run), r.settings, self.data.source,
                            ends[i][1], r.result.test_accuracy,
                            ORIGIN.format(study=self.number, trial=r.trial.number)),
                 r.result.weights) for i, r in kept if r.result is not None])
        except Exception as e:  # a full disk, a locked file: the study goes on
            problem = f"not saved as a run: {type(e).__name__}: {str(e)[:120]}"
            return [(None, problem if r.result is not None else "") for r, *_ in ends]
        for (i, _), record in zip(kept, records):
            runs[i] = (record.number, "")
        return runs

    def _sync(self) -> None:
        """The journal's appends so far made durable (see :class:`Journal`)."""
        if isinstance(self.storage, StudyStorage):
            _quietly(self.storage.journal.sync)

    def _heartbeat(self) -> None:
        now = time.time()
        if self.study is not None and now - self._beat >= HEARTBEAT_SECONDS:
            self._beat = now
            self._set(self.study, heartbeat=now)

    @staticmethod
    def _set(study: optuna.Study, **attrs) -> None:
        for k, v in attrs.items():
            study.set_user_attr(k, v)


def _quietly(call: Callable[[], object]) -> None:
    """``call()``, whose failure (a scheduler gone) changes nothing."""
    try:
        call()
    except Exception:
        pass


def _task_error(future: Future) -> str:
    """Why a task failed, in one line."""
    if future.status == "cancelled":
        return "its task was cancelled by the cluster"
    try:
        exc = future.exception(timeout=5)
    except (FutureCancelledError, TimeoutError, OSError) as e:
        return f"its task was lost ({type(e).__name__})"
    if type(exc).__name__ == "KilledWorker":
        return "its worker died while training it, twice (killed, or out of memory)"
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _scheduler_message(client: Client, e: Exception) -> str:
    address = getattr(client.scheduler, "address", "") if client.scheduler else ""
    where = f" at {address}" if address and not address.startswith("inproc") else ""
    return f"the Dask scheduler{where} went away ({str(e).splitlines()[0][:120]})"


# -- watching ------------------------------------------------------------------------------
@dataclass(frozen=True)
class StudySummary:
    """A study of a workspace as a page lists it."""

    name: str
    number: int
    attrs: dict
    state: str  # running, finished, cancelled, failed, or "interrupted" (driver gone)

    @property
    def label(self) -> str:
        return f"study {self.number}"


def workspace_studies(storage: JournalStorage, workspace: str,
                      now: float | None = None) -> list[StudySummary]:
    """The workspace's studies, newest first."""
    key, now = workspace_key(workspace), time.time() if now is None else now
    found = []
    for s in storage.get_all_studies():
        attrs = s.user_attrs
        if attrs.get("workspace") != key:
            continue
        state = str(attrs.get("state", "running"))
        if state == "running" and now - float(attrs.get("heartbeat", 0)) > LOST_SECONDS:
            state = "interrupted"
        found.append(StudySummary(s.study_name, int(attrs.get("number", 0)), attrs, state))
    return sorted(found, key=lambda s: -s.number)


def trials_of(storage: JournalStorage, name: str) -> list[FrozenTrial]:
    study_id = storage.get_study_id_from_name(name)
    return storage.get_all_trials(study_id, deepcopy=False)


def load_study(storage: JournalStorage, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=storage)
