"""A hyperparameter sweep: a small grid of runs trained one after another in the
background, on the same data split and seed, each one added to the experiments log.

Like the session's training thread, the sweep's thread never calls Streamlit, stops
within one mini-batch when cancelled, stops for good when the browser session goes away,
and waits while the main network trains (the two would share the same two cores). It is
bounded: at most :data:`MAX_RUNS` runs of at most :data:`MAX_EPOCHS` epochs, on at most
:data:`MAX_TRAIN` training images.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from mnist_np import MLP, TrainConfig, Trainer
from mnist_np.training import SCHEDULES, split_indices

from . import settings as cfg
from .runs import RunRecord
from .session import TrainingSession
from .settings import Settings
from .worker import Worker

MAX_RUNS = 12
MAX_VALUES = 6       # per hyperparameter
MAX_EPOCHS = 5
TRAIN_SIZES = (1000, 2000, 5000, 10_000)
MAX_TRAIN = TRAIN_SIZES[-1]
# States of a sweep
RUNNING, DONE, CANCELLED, FAILED = "running", "done", "cancelled", "failed"


@dataclass(frozen=True)
class Param:
    """A hyperparameter a sweep can vary: ``field`` of :class:`Settings` (``units`` sets
    the width of every hidden layer) and the values the form starts with."""

    name: str
    label: str
    default: str
    log: bool = False  # plotted on a log axis

    def parse(self, text: str) -> list:
        """Comma-separated values, checked like the URL's; one-line ValueError."""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise ValueError(f"give at least one value for the {self.label}")
        if len(parts) > MAX_VALUES:
            raise ValueError(f"at most {MAX_VALUES} values for the {self.label}, got {len(parts)}")
        field = "hidden" if self.name == "units" else self.name
        values = [cfg.parse_field(field, p) for p in parts]
        if self.name == "units":
            values = [v[0] for v in values]
        return list(dict.fromkeys(values))  # without repeats, in the given order

    def apply(self, settings: Settings, value) -> Settings:
        if self.name == "units":
            return replace(settings, hidden=(value,) * max(1, len(settings.hidden)))
        return replace(settings, **{self.name: value})


PARAMS: dict[str, Param] = {p.name: p for p in [
    Param("lr", "learning rate", "0.01, 0.05, 0.2, 0.5", log=True),
    Param("batch_size", "batch size", "32, 128, 512", log=True),
    Param("units", "hidden units per layer", "16, 64, 256", log=True),
    Param("l2", "L2 weight decay", "0, 0.0001, 0.001"),
    Param("activation", "activation", "relu, tanh, sigmoid"),
    Param("optimizer", "optimizer", "sgd, momentum, adam"),
    Param("init", "initialisation", "uniform, xavier, he"),
    Param("schedule", "learning-rate schedule", ", ".join(SCHEDULES)),
]}


@dataclass(frozen=True)
class Plan:
    """The runs of a sweep: ``axes`` is ``[(param name, values), ...]`` (one or two),
    ``points[i]`` the values of run ``i`` per axis and ``settings[i]`` its settings."""

    axes: list[tuple[str, list]]
    points: list[tuple]
    settings: list[Settings]

    @property
    def size(self) -> int:
        return len(self.settings)


def plan(base: Settings, axes: list[tuple[str, list]], epochs: int, train_limit: int) -> Plan:
    """Every combination of the axes' values applied to ``base``, each trained for
    ``epochs`` on ``train_limit`` images; raise ValueError when over the bounds."""
    if not 1 <= len(axes) <= 2 or len({name for name, _ in axes}) != len(axes):
        raise ValueError("choose one hyperparameter, or two different ones")
    if not 1 <= epochs <= MAX_EPOCHS:
        raise ValueError(f"a sweep trains 1 to {MAX_EPOCHS} epochs per run, not {epochs}")
    if train_limit not in TRAIN_SIZES:
        raise ValueError(f"a sweep trains on {', '.join(map(str, TRAIN_SIZES))} images")
    n = math.prod(len(values) for _, values in axes)
    if n > MAX_RUNS:
        raise ValueError(f"{n} runs: a sweep is limited to {MAX_RUNS}, so use fewer values")
    start = replace(base, epochs=epochs, steps=None, train_limit=train_limit)
    points = list(itertools.product(*(values for _, values in axes)))
    settings = []
    for point in points:
        s = start
        for (name, _), value in zip(axes, point):
            s = PARAMS[name].apply(s, value)
        settings.append(s)
    return Plan(axes, points, settings)


def plan_from_form(base: Settings, choices: list[tuple[str, str]], epochs: int,
                   train_limit: int) -> tuple[Plan | None, list[str]]:
    """The plan for the Experiments page's form: ``choices`` is ``[(param name, its
    values as typed), ...]``. Returns the plan, or None and a one-line problem per mistake."""
    axes, problems = [], []
    for name, text in choices:
        try:
            axes.append((name, PARAMS[name].parse(text)))
        except ValueError as e:
            problems.append(str(e))
    if problems:
        return None, problems
    try:
        return plan(base, axes, epochs, train_limit), []
    except ValueError as e:
        return None, [str(e)]


def train_images(n_total: int, train_limit: int, seed: int) -> int:
    """How many images a run with ``train_limit`` really trains on (the validation
    split is held out first, so a small data set may give fewer)."""
    return len(split_indices(n_total, TrainConfig().val_size, train_limit, seed)[0])


class Sweep:
    """Trains ``plan``'s runs one after another on a background :class:`Worker`, adding
    each finished one to ``session.runs`` (and to :attr:`records`), labelled ``origin``.
    While the main network trains, the sweep waits (the two would share the cores)."""

    def __init__(self, session: TrainingSession, plan: Plan, origin: str,
                 is_alive: Callable[[], bool] | None = None):
        self.session, self.plan, self.origin = session, plan, origin
        self.records: list[RunRecord] = []  # the runs finished so far
        self.state = RUNNING
        self.waiting = False     # True while the main network trains
        self._trainer: Trainer | None = None
        self._worker = Worker(self._step, "mnist_np-sweep", is_alive or session.is_alive,
                              self._stopped)

    def start(self) -> Sweep:
        self.session.pause()  # the main network stays where it is
        self._worker.start()
        return self

    def cancel(self) -> None:
        """Stop after the current mini-batch; the runs finished so far are kept."""
        self._worker.stop(timeout=10)

    def join(self, timeout: float = 10) -> None:
        """Wait for the sweep to end by itself."""
        self._worker.join(timeout)

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def error(self) -> str:
        if not self._worker.error:
            return ""
        return f"the sweep stopped by an internal error: {self._worker.error}"

    @property
    def progress(self) -> float:
        """Fraction of the sweep done, counting the current run's progress."""
        trainer = self._trainer
        current = trainer.progress if trainer is not None and self.running else 0.0
        return min(1.0, (len(self.records) + current) / self.plan.size)

    def _step(self) -> bool:
        """One mini-batch of the current run (or a short wait while the main network
        trains); False when every run is done."""
        if self._trainer is None:
            if len(self.records) == self.plan.size:
                return False
            settings = self.plan.settings[len(self.records)]
            data = self.session.data
            self._trainer = Trainer(MLP(**settings.net_config()), data.X_train, data.y_train,
                                    TrainConfig(**settings.train_config()), max_snapshots=2)
        self.waiting = self.session.running
        if self.waiting:
            time.sleep(0.2)
            return True
        trainer = self._trainer
        trainer.step()
        if trainer.finished:
            data = self.session.data
            settings = self.plan.settings[len(self.records)]
            status = "diverged" if trainer.diverged else "finished"
            test_accuracy = trainer.evaluate(data.X_test, data.y_test)[1]
            self.records.append(self.session.runs.add(
                trainer, settings, data.source, status, test_accuracy, origin=self.origin))
            self._trainer = None
        return True

    def _stopped(self) -> None:
        if self._worker.error:
            self.state = FAILED
            return
        self._trainer = None
        self.state = DONE if len(self.records) == self.plan.size else CANCELLED
