"""A running trial's line to its study's driver, through the Dask scheduler.

The task (:func:`studies.work.train_trial`) calls a :class:`Channel` after each epoch:
it puts ``[trial, epoch, validation accuracy]`` on the study's report queue, which the
driver reads, and, when the study prunes, waits for the driver's answer for that epoch on
the trial's own answer queue. A study that does not prune only looks whether the study was
stopped (its stop event) and goes on. Everything sent is a few numbers: the trainer stays
in the worker's memory until the trial ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .work import GO, STOP

ANSWER_SECONDS = 300.0  # no answer for this long: the driver is gone, the trial stops


def reports_name(study: str) -> str:
    return f"{study}-reports"


def answers_name(study: str, trial: int) -> str:
    return f"{study}-trial{trial}-answers"


def stop_name(study: str) -> str:
    return f"{study}-stop"


_reports: dict[str, Any] = {}  # a worker's handle on each study's report queue


@dataclass
class Channel:
    """Trial ``trial`` of study ``study``; ``wait``: the driver answers each report."""

    study: str
    trial: int
    wait: bool
    _answers: Any = field(default=None, repr=False)

    def __call__(self, epoch: int, val_accuracy: float) -> str:
        from distributed import Event, Queue  # on the worker only: see studies.work

        try:
            if self.study not in _reports:
                _reports[self.study] = Queue(reports_name(self.study))
            _reports[self.study].put([self.trial, epoch, val_accuracy])
            if not self.wait:
                return STOP if Event(stop_name(self.study)).is_set() else GO
            if self._answers is None:
                self._answers = Queue(answers_name(self.study, self.trial))
            while True:  # an answer to an earlier run of this task is passed over
                answered, verdict = self._answers.get(timeout=ANSWER_SECONDS)
                if answered == epoch or verdict == STOP:
                    return str(verdict)
        except (TimeoutError, OSError):  # the driver or the scheduler is gone
            return STOP

    def close(self) -> None:
        """Let go of the trial's answer queue (the scheduler drops it once the driver
        has let go too)."""
        if self._answers is not None:
            try:
                self._answers.close()
            except (RuntimeError, OSError):
                pass
            self._answers = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_answers": None}
