"""A running trial's line to its study's driver, through the Dask scheduler.

The task (:func:`studies.work.train_trial`) hands a :class:`Channel` each epoch's
validation accuracy and trains on at once: a thread of the channel puts
``[trial, epoch, validation accuracy]`` on the study's report queue, which the driver
reads, and, when the study prunes, waits for the driver's answer for that epoch on the
trial's own answer queue; a study that does not prune only looks whether the study was
stopped (its stop event). The answer becomes the channel's ``verdict``, which the training
loop reads after every mini-batch; at the end of the next epoch the task waits for it if
it has not come yet (:meth:`Channel.settle`), so a trial is judged at most one epoch late
and never trains past two epochs unjudged, however short they are. Everything sent is a
few numbers: the trainer stays in the worker's memory until the trial ends.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from .work import GO, STOP

ANSWER_SECONDS = 300.0  # no answer for this long: the driver is gone, the trial stops
POLL_SECONDS = 1.0  # how long one ask for an answer waits


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
    verdict: str = GO
    _sent: Any = field(default=None, repr=False)  # the epochs for the thread to send
    _answered: float = 0  # the last epoch answered (every one sent, when not waiting)
    _closed: bool = False  # the trial has ended
    _change: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def send(self, epoch: int, val_accuracy: float) -> None:
        """Report the epoch (the channel's thread sends it; the caller goes on)."""
        if self._sent is None:
            from distributed import Event, Queue  # on the worker only: see studies.work

            # made here, in the task's thread, where the worker's client is found
            if self.study not in _reports:
                _reports[self.study] = Queue(reports_name(self.study))
            answers = Queue(answers_name(self.study, self.trial)) if self.wait else None
            stopped = None if self.wait else Event(stop_name(self.study))
            self._sent = queue.SimpleQueue()
            threading.Thread(target=self._send, args=(_reports[self.study], answers, stopped),
                             name=f"trial{self.trial}-channel", daemon=True).start()
        self._sent.put((epoch, val_accuracy))

    def _send(self, reports: Any, answers: Any, stopped: Any) -> None:
        """The channel's thread: each epoch to the driver, its answer to ``verdict``."""
        try:
            while (item := self._sent.get()) is not None:
                epoch, val_accuracy = item
                reports.put([self.trial, epoch, val_accuracy])
                if answers is None:
                    self._answer(epoch, STOP if stopped.is_set() else GO)
                    continue
                verdict = self._await(answers, epoch)
                if verdict is None:  # the trial ended first: the answer is no use now
                    return
                self._answer(epoch, verdict)
        except Exception:  # no answer in time, the scheduler gone, the client closing
            self._answer(float("inf"), STOP)
        finally:
            if answers is not None:  # the scheduler drops it once the driver has let go too
                try:
                    answers.close()
                except Exception:
                    pass

    def _await(self, answers: Any, epoch: int) -> str | None:
        """The driver's answer for ``epoch``, asked for a second at a time so that a trial
        that ended meanwhile (its last report answered after its end, or never, when the
        driver had recorded it already) lets its thread go (None); TimeoutError after
        :data:`ANSWER_SECONDS` without one."""
        waited = 0.0
        while True:
            try:
                answered, verdict = answers.get(timeout=POLL_SECONDS)
            except TimeoutError:
                waited += POLL_SECONDS
                if self._closed:
                    return None
                if waited >= ANSWER_SECONDS:
                    raise
                continue
            # an answer to an earlier run of this task is passed over
            if answered == epoch or verdict == STOP:
                return str(verdict)

    def _answer(self, epoch: float, verdict: str) -> None:
        with self._change:
            self._answered = epoch
            if verdict != GO:
                self.verdict = verdict
            self._change.notify_all()

    def settle(self, epoch: int) -> None:
        """Wait, when the study prunes, until the driver has answered ``epoch`` (or said
        PRUNE or STOP); no answer in :data:`ANSWER_SECONDS`: STOP."""
        if not self.wait or self._sent is None:
            return
        with self._change:
            if not self._change.wait_for(
                    lambda: self._answered >= epoch or self.verdict != GO, ANSWER_SECONDS):
                self.verdict = STOP

    def close(self) -> None:
        """The trial has ended: the thread stops once it has sent what it has."""
        self._closed = True
        if self._sent is not None:
            self._sent.put(None)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_sent": None, "verdict": GO, "_answered": 0,
                "_change": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _change=threading.Condition())
