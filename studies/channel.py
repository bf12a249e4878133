"""A running trial's line to its study's driver, through the Dask scheduler's event topics.

The task (:func:`studies.work.train_trial`) opens a :class:`Channel` when it starts, hands
it each epoch's validation accuracy and trains on at once: ``send`` logs
``[trial, epoch, validation accuracy]`` on the study's reports topic (the worker's batched
stream to the scheduler, which pushes it to the driver's client: no round trip, no thread,
nothing polled). The driver tells Optuna and, when the study prunes, logs its answer
``[trial, epoch, verdict]`` on the study's answers topic, which the worker's own client
follows from the moment the channel opens: the scheduler pushes the answer to it and it
becomes the channel's ``verdict``, which the training loop reads after every mini-batch.
At the end of the next epoch the task waits for the answer if it has not come yet
(:meth:`Channel.settle`), so a trial is judged at most one epoch late and never trains
past two epochs unjudged, however short they are. A STOP for every trial of the study
(:data:`ALL`: Cancel, Ctrl-C) comes the same way, whether the study prunes or not.

Everything sent is a few numbers: the trainer stays in the worker's memory until the trial
ends. Before, each report was a ``distributed.Queue`` put and each answer a second queue
that a thread of the task asked once a second: four scheduler round trips an epoch.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .work import GO, STOP

ANSWER_SECONDS = 300.0  # no answer for this long: the driver is gone, the trial stops
LOOK_SECONDS = 2.0  # an answer not pushed by then is looked for in the topic's log
ALL = -1  # the trial number of an answer for every trial of the study (STOP)


def reports_topic(study: str) -> str:
    return f"{study}-reports"


def answers_topic(study: str) -> str:
    return f"{study}-answers"


# On a worker: its open channels, the studies told to stop, the answers topics its client
# follows. Changed in tasks' threads and read in the worker's event loop (the answers).
_lock = threading.Lock()
_open: dict[tuple[str, int], Channel] = {}
_stopped: set[str] = set()
_followed: set[str] = set()


@dataclass
class Channel:
    """Trial ``trial`` of study ``study``; ``wait``: the driver answers each report."""

    study: str
    trial: int
    wait: bool
    verdict: str = GO
    waited: float = 0.0  # seconds spent in settle, waiting for the driver
    _answered: float = 0  # the last epoch answered
    _worker: Any = field(default=None, repr=False)
    _key: Any = field(default=None, repr=False)  # its task's key on the worker
    _change: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def start(self) -> None:
        """Open the channel, in the task's thread on the worker: from now on the study's
        answers reach it (the topic is followed before the first report goes out)."""
        from distributed import get_client, get_worker  # on the worker only: studies.work

        self._worker = get_worker()
        self._key = self._worker.get_current_task()
        with _lock:
            _open[self.study, self.trial] = self
            if self.study in _stopped:
                self.verdict = STOP
            if self.study not in _followed:
                try:
                    _follow(get_client(), self.study)
                except Exception:  # no client: settle looks the answers up in the log
                    pass

    def send(self, epoch: int, val_accuracy: float) -> None:
        """Report the epoch (queued for the worker's batched stream; the caller goes on)."""
        if self._worker is not None:
            self._worker.log_event(reports_topic(self.study),
                                   [self.trial, epoch, float(val_accuracy)])

    def answer(self, epoch: float, verdict: str) -> None:
        """The driver's answer for ``epoch`` (an earlier one, from a run of this task
        before its worker died, changes nothing; STOP always stops)."""
        with self._change:
            if verdict == STOP or epoch > self._answered:
                self._answered = max(self._answered, epoch)
                if verdict != GO:
                    self.verdict = verdict
                self._change.notify_all()

    def settle(self, epoch: int) -> None:
        """Wait, when the study prunes, until the driver has answered ``epoch`` (or said
        PRUNE or STOP). An answer not pushed within :data:`LOOK_SECONDS` is looked for in
        the topic's log on the scheduler; none in :data:`ANSWER_SECONDS`, or the task
        released meanwhile (its driver gone, or the scheduler): STOP."""
        if not self.wait or self._worker is None:
            return
        start = last_look = time.monotonic()
        while True:
            with self._change:
                answered = self._change.wait_for(
                    lambda: self._answered >= epoch or self.verdict != GO, 1.0)
            now = time.monotonic()
            if answered:
                self.waited += now - start
                return
            if now - start >= ANSWER_SECONDS or self._released():
                self.waited += now - start
                self.answer(float("inf"), STOP)
                return
            if now - last_look >= LOOK_SECONDS:
                last_look = now
                self._look_up()

    def _look_up(self) -> None:
        from distributed import get_client

        try:
            events = get_client().get_events(answers_topic(self.study))
        except Exception:  # the scheduler away: the next second decides
            return
        for _, msg in events:
            trial, epoch, verdict = msg
            if trial in (self.trial, ALL):
                self.answer(epoch, verdict)

    def _released(self) -> bool:
        """The worker no longer runs this task for anyone, or has lost its scheduler."""
        task = self._worker.state.tasks.get(self._key)
        return task is None or task.state != "executing" or \
            self._worker.status.name not in ("running", "paused")

    def close(self) -> None:
        """The trial has ended: the channel takes no more answers."""
        with _lock:
            if _open.get((self.study, self.trial)) is self:
                del _open[self.study, self.trial]

    def __getstate__(self) -> dict:
        return {"study": self.study, "trial": self.trial, "wait": self.wait}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)  # type: ignore[misc]


def _follow(client: Any, study: str) -> None:
    """This worker's client follows ``study``'s answers (and stops following those of
    studies with no channel open here: a worker of a long-lived cluster follows few).
    Called under ``_lock``."""
    for old in [s for s in _followed if not any(k[0] == s for k in _open)]:
        _followed.discard(old)
        try:
            client.unsubscribe_topic(answers_topic(old))
        except Exception:
            pass
    client.subscribe_topic(answers_topic(study), partial(_on_answer, study))
    _followed.add(study)


def _on_answer(study: str, event: tuple[float, list]) -> None:
    """An answer to ``study`` pushed to this worker's client (in its event loop)."""
    _, (trial, epoch, verdict) = event
    with _lock:
        if trial == ALL:
            _stopped.add(study)
        targets = [c for (s, t), c in _open.items() if s == study and trial in (t, ALL)]
    for channel in targets:
        channel.answer(epoch, verdict)
