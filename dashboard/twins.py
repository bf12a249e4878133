"""Twin networks for the Robustness page: the current settings trained twice from the same
initial weights on the same batches and the same budget, once without augmentation and
once with it, then both swept by the same perturbations.

The twins train on a :class:`~.worker.Worker` (never the script thread; it never calls
Streamlit), a few steps per call, so a cancel or a closed browser stops them within
:data:`SLICE` steps. Bounded: :data:`BUDGET_STEPS` mini-batches each, and at most
:data:`MAX_SECONDS` of training each (a slow network stops there, and the page says so).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mnist_np import MLP, TrainConfig, Trainer
from mnist_np.perturb import Sweep, sweep

from .settings import AUG_FIELDS, Settings, as_dict
from .worker import Worker

BUDGET_STEPS = 1000  # mini-batches per twin (about 2 epochs of 60,000 in batches of 128)
MAX_SECONDS = 60.0   # training seconds per twin, at most
SLICE = 10           # steps per call of the worker's step
# The augmentation the "with" twin gets when the current settings have none.
STANDARD: dict[str, Any] = {"aug_shift": 2.0, "aug_rotate": 15.0, "aug_scale": 0.1}
RUNNING, DONE, CANCELLED, FAILED = "running", "done", "cancelled", "failed"


@dataclass
class Twin:
    """One of the two networks: its settings, and once trained, its sweep."""

    label: str
    settings: Settings
    trainer: Trainer | None = None
    result: Sweep | None = None
    test_accuracy: float = float("nan")
    problem: str = ""  # a twin that diverged, said in one line

    @property
    def steps(self) -> int:
        return 0 if self.trainer is None else self.trainer.step_count

    @property
    def seconds(self) -> float:
        return 0.0 if self.trainer is None else self.trainer.train_seconds

    @property
    def done(self) -> bool:
        return self.result is not None or bool(self.problem)


def twin_settings(settings: Settings) -> tuple[Settings, Settings]:
    """``(without, with)``: ``settings`` with no augmentation, and with its own (or, when
    it has none, :data:`STANDARD`), both stopped after :data:`BUDGET_STEPS` steps."""
    budget: dict[str, Any] = {"steps": BUDGET_STEPS}
    off: dict[str, Any] = {f: 0.0 for f in AUG_FIELDS}
    without = replace(settings, **off, **budget)
    augmented = settings if any(settings.augmentation.values()) else replace(settings,
                                                                             **STANDARD)
    return without, replace(augmented, **budget)


class Comparison:
    """Trains the two twins of ``settings`` on ``X_train, y_train`` one after the other
    in the background, then sweeps each on ``X, y`` (test digits) with ``seed``'s noise."""

    def __init__(self, settings: Settings, X_train: np.ndarray, y_train: np.ndarray,
                 X: np.ndarray, y: np.ndarray, seed: int = 0,
                 is_alive: Callable[[], bool] = lambda: True):
        without, augmented = twin_settings(settings)
        self.key = as_dict(settings)  # the settings it was made for
        self.twins = [Twin("without augmentation", without),
                      Twin(f"with augmentation ({augmented.describe_augmentation()})",
                           augmented)]
        self._data = (X_train, y_train, X, y, seed)
        self.state = RUNNING
        self.started = time.time()
        self._worker = Worker(self._step, "mnist_np-twins", is_alive, self._stopped)

    def start(self) -> Comparison:
        self._worker.start()
        return self

    def cancel(self) -> None:
        self._worker.stop()

    def join(self, timeout: float = 120) -> None:
        self._worker.join(timeout)

    @property
    def error(self) -> str:
        return self._worker.error

    def progress(self) -> tuple[float, str]:
        """The fraction done over both twins (a twin that diverged counts as done) and a
        line saying which twin trains, at which step: "twin 1 of 2, ...", as the fraction
        covers both."""
        done = sum(BUDGET_STEPS if t.problem else min(t.steps, BUDGET_STEPS)
                   for t in self.twins)
        k = next((k for k, t in enumerate(self.twins) if not t.done), None)
        where = ("measuring both" if k is None else
                 f"twin {k + 1} of {len(self.twins)}, the network {self.twins[k].label}: "
                 f"step {self.twins[k].steps:,} of {BUDGET_STEPS:,}")
        return min(1.0, done / (len(self.twins) * BUDGET_STEPS)), where

    def _step(self) -> bool:
        twin = next((t for t in self.twins if not t.done), None)
        if twin is None:
            return False
        X_train, y_train, X, y, seed = self._data
        if twin.trainer is None:
            s = twin.settings
            twin.trainer = Trainer(MLP(**s.net_config()), X_train, y_train,
                                   TrainConfig(**s.train_config()))
        trainer = twin.trainer
        list(trainer.run(max_steps=SLICE))
        if trainer.diverged:
            twin.problem = trainer.message
        elif trainer.finished or trainer.train_seconds >= MAX_SECONDS:
            try:
                twin.result = sweep(trainer.net, X, y, seed=seed)
                twin.test_accuracy = twin.result.plain
            except ValueError as e:
                twin.problem = str(e)
        if all(t.done for t in self.twins):
            self.state = DONE
            return False
        return True

    def _stopped(self) -> None:
        if self.state == RUNNING:
            self.state = FAILED if self._worker.error else CANCELLED
