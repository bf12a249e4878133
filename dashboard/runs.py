"""The runs of one browser session: a record of each run that ended (finished, diverged,
reset or rebuilt, or trained by a study), for the Experiments page."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from mnist_np import Trainer

from .settings import Settings


@dataclass
class RunRecord:
    """A finished or reset run, for the experiments table."""

    number: int
    settings: Settings
    data_source: str
    status: str
    steps: int
    epochs: float
    train_seconds: float
    samples_per_second: float
    final_loss: float
    train_accuracy: float
    val_accuracy: float
    test_accuracy: float
    epoch_curves: dict[str, list[float]] = field(repr=False)
    loss_curve: tuple[list[float], list[float]] = field(repr=False)
    origin: str = "training"  # or the study trial that made it, e.g. "study 2, trial 5"
    name: str = ""            # the user's name for it (the Experiments table)
    # the neuron lab's changes to its network, one line each ("step 120: switched off ...")
    changes: list[str] = field(default_factory=list)
    ending: str = ""  # how it ended (Trainer.ending): its epochs, early stopping, a target


def run_record(number: int, trainer: Trainer, settings: Settings, data_source: str,
               status: str, test_accuracy: float, origin: str = "training",
               changes: Sequence[str] = ()) -> RunRecord:
    """What the experiments table keeps of a trainer's run."""
    t = trainer
    epochs = t.epoch_records
    last = epochs[-1] if epochs else None
    h = t.history
    return RunRecord(
        number=number, settings=settings, data_source=data_source, status=status,
        steps=t.step_count, epochs=round(t.epochs_done, 3),
        train_seconds=t.train_seconds, samples_per_second=t.samples_per_second,
        final_loss=last.train_loss if last else float(h.columns["loss"][-1]) if len(h)
        else float("nan"),  # a run that diverged at its first step has no loss
        train_accuracy=last.train_accuracy if last else float("nan"),
        val_accuracy=last.val_accuracy if last else float("nan"),
        test_accuracy=test_accuracy,
        epoch_curves={
            "epoch": [e.epoch for e in epochs],
            "train_loss": [e.train_loss for e in epochs],
            "val_loss": [e.val_loss for e in epochs],
            "train_accuracy": [e.train_accuracy for e in epochs],
            "val_accuracy": [e.val_accuracy for e in epochs],
        },
        loss_curve=(list(np.asarray(h.columns["step"], float)),
                    list(np.asarray(h.columns["loss"], float))),
        origin=origin,
        changes=list(changes),
        ending=t.ending,
    )


class RunStore(Protocol):
    """Where a :class:`RunLog` keeps its runs (``dashboard.store.Store``)."""

    def add_run(self, workspace: str, record: RunRecord,
                weights: bytes | None = None) -> RunRecord: ...
    def runs(self, workspace: str) -> list[RunRecord]: ...
    def rename_run(self, workspace: str, number: int, name: str) -> None: ...
    def delete_run(self, workspace: str, number: int) -> None: ...
    def add_run_changes(self, workspace: str, number: int, lines: list[str]) -> None: ...
    def save_changes(self, workspace: str, lines: list[str]) -> None: ...
    def load_changes(self, workspace: str) -> list[str]: ...


class RunLog:
    """The runs of one workspace, numbered from 1 in the order they ended. The training
    thread, a sweep's thread and the page may all add or read at once. With a ``store``
    the runs are kept there too (and read from it at the start), so they outlast the
    browser session."""

    def __init__(self, store: RunStore | None = None, workspace: str = "") -> None:
        self._lock = threading.Lock()
        self._store, self.workspace = store, workspace
        self._runs: list[RunRecord] = store.runs(workspace) if store is not None else []
        # the current run's neuron-lab changes, until it is recorded (kept in the store too)
        self._changes: list[str] = store.load_changes(workspace) if store is not None else []

    def add(self, trainer: Trainer, settings: Settings, data_source: str, status: str,
            test_accuracy: float, origin: str = "training",
            weights: bytes | None = None, changes: Sequence[str] = ()) -> RunRecord:
        """Record ``trainer``'s run as the next one (with its final ``weights``, kept by
        the store, and the neuron lab's ``changes``), and return its record."""
        with self._lock:
            number = self._runs[-1].number + 1 if self._runs else 1
            record = run_record(number, trainer, settings, data_source, status,
                                test_accuracy, origin, changes)
            if self._store is not None:
                record = self._store.add_run(self.workspace, record, weights)
            self._runs.append(record)
        return record

    def sync(self) -> None:
        """Read the runs again from the store: a study (the app's thread, or the command
        line in another process) adds its trials there directly."""
        if self._store is not None:
            runs = self._store.runs(self.workspace)
            with self._lock:
                self._runs = runs

    def rename(self, number: int, name: str) -> None:
        with self._lock:
            for r in self._runs:
                if r.number == number:
                    r.name = name
            if self._store is not None:
                self._store.rename_run(self.workspace, number, name)

    def delete(self, number: int) -> None:
        with self._lock:
            self._runs = [r for r in self._runs if r.number != number]
            if self._store is not None:
                self._store.delete_run(self.workspace, number)

    def note_change(self, line: str) -> None:
        """A neuron-lab change to the current run's network, kept until it is recorded."""
        with self._lock:
            self._changes.append(line)
            if self._store is not None:
                self._store.save_changes(self.workspace, self._changes)

    @property
    def changes(self) -> list[str]:
        """The current run's neuron-lab changes so far (not yet in a record)."""
        with self._lock:
            return list(self._changes)

    def take_changes(self) -> list[str]:
        """The current run's changes, for its record; the list starts again empty."""
        with self._lock:
            taken, self._changes = self._changes, []
            if taken and self._store is not None:
                self._store.save_changes(self.workspace, [])
            return taken

    def attach_changes(self, number: int | None) -> None:
        """Add the changes kept so far to run ``number``'s record (a run that ended
        before they were made; None: the newest run trained here, not by a sweep)."""
        lines = self.take_changes()
        with self._lock:
            runs = [r for r in self._runs if r.number == number or (
                number is None and r.origin == "training")]
            if not lines or not runs:
                return
            record = runs[-1]
            record.changes = [*record.changes, *lines]
            if self._store is not None:
                self._store.add_run_changes(self.workspace, record.number, lines)

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self) -> Iterator[RunRecord]:
        with self._lock:
            return iter(list(self._runs))

    def __getitem__(self, i: int) -> RunRecord:
        return self._runs[i]
