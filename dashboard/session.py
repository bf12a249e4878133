"""One user's network and its training: a state machine, and a background worker that
trains mini-batch after mini-batch while the user switches pages (in turns with the other
sessions, on the server's trainer pool: :mod:`.pool`).

Pages never write the session's fields: they call its methods (play, pause, step,
reset, load a network, change the network by hand) and read under :meth:`reading`,
which the training thread lets in between two steps. Nothing here calls Streamlit.
"""

from __future__ import annotations

import ctypes
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from mnist_np import MLP, TrainConfig, Trainer, lab
from mnist_np.checkpoint import save_training
from mnist_np.data import MNIST
from mnist_np.training import Snapshot, stats_every

from .pool import TrainerPool
from .runs import RunLog
from .settings import Settings
from .worker import Worker

# States a session can be in, as shown to the user.
READY, RUNNING, PAUSED, FINISHED, DIVERGED = "ready", "running", "paused", "finished", "diverged"
STALLED = "stalled"  # outputs pinned at the wrong end (Trainer.stalled): stopped, advice given
# The weights kept once per epoch (thinned) for the Weights and map pages: at most about
# this much per session, so a 4 x 1,024-unit network (16 MB of weights) keeps 4, not 24.
SNAPSHOT_BUDGET_BYTES = 64 * 2**20
MAX_SNAPSHOTS, MIN_SNAPSHOTS = 24, 3
# Snapshots kept in a downloaded file or a checkpoint: they only show the weights over
# training, and the biggest network (16 MB) then still fits the 64 MB upload limit.
FILE_SNAPSHOT_BYTES = 16 * 2**20

T = TypeVar("T")
# While training runs, the network and its trainer are checkpointed after this many
# seconds of the session's own training, so a crash or a restart loses at most this much
# of it; every user action saves at once. Counted in training time, not on the wall
# clock: with 16 sessions taking turns on 2 cores each trains an eighth of the time, and
# a 5 MB checkpoint every 5 s of wall time per session took 28% of the trainer pool's
# time (py-spy, the light-client sessions benchmark).
CHECKPOINT_SECONDS = 5.0


@dataclass(frozen=True)
class Progress:
    """One reading of where training is (the sidebar's status)."""

    state: str
    step: int
    epochs_done: float          # passes over the training split, with the current fraction
    completed_epochs: int
    planned_epochs: int
    planned_steps: int | None   # the stopping rule when set, instead of epochs
    fraction: float             # of the planned training, in [0, 1]
    samples_per_second: float   # this network's speed while it trains (its turns)
    ending: str = ""            # how the run ended (Trainer.ending), "" while it can go on
    sharing: int = 0            # other networks training on the server's pool now
    cores: int = 1              # the pool's threads: one per usable core


def return_freed_memory() -> bool:
    """Hand memory that Python freed back to the system (glibc's ``malloc_trim``; a no-op
    elsewhere). Freed arrays otherwise stay in the training threads' malloc arenas: with
    rounds of visitors the server kept growing (BENCHMARKS.md, memory as visitors leave)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):  # not glibc (macOS, musl, Windows)
        return False
    return bool(trim(0))


def snapshots_for(net: MLP) -> int:
    """How many weight snapshots a session keeps for ``net``."""
    size = sum(W.nbytes + b.nbytes for W, b in zip(net.weights, net.biases))
    return max(MIN_SNAPSHOTS, min(MAX_SNAPSHOTS, SNAPSHOT_BUDGET_BYTES // size))


class TrainingSession:
    """The network, its trainer and the worker that trains it, for one user.

    ``data`` is shared read-only between sessions; everything else is this session's.
    ``version`` counts the changes of the network (per-state caches key on it), and
    ``runs`` keeps every run that ended.
    """

    def __init__(self, data: MNIST, settings: Settings,
                 is_alive: Callable[[], bool] = lambda: True, runs: RunLog | None = None,
                 checkpoint: Callable[[Settings, str, bytes], None] | None = None,
                 pool: TrainerPool | None = None):
        self.data = data
        self.is_alive = is_alive
        self.lock = threading.RLock()
        self._reader_waiting = threading.Event()
        self._worker = Worker(self._train_one, "mnist_np-trainer", is_alive, self._stopped,
                              pool)  # None: the server's pool
        self.runs = runs if runs is not None else RunLog()
        self._sink = checkpoint
        # the trainer of the last checkpoint (a weak reference: release() frees it) and
        # its training seconds then
        self._checkpointed: tuple[Callable[[], Trainer | None], float] = (lambda: None, 0.0)
        self.checkpoint_error = ""
        self.released = False  # the browser session is gone: see release()
        self._handing_over = False  # see hand_over()
        self._build(settings)

    # -- building ------------------------------------------------------------------
    def _build(self, settings: Settings, net: MLP | None = None,
               file_name: str | None = None, trainer: Trainer | None = None,
               recorded: bool = False) -> None:
        """A network from ``settings`` (or ``net``, or ``trainer`` with its network and
        everything it did so far) with its state: ready, paused, finished or diverged."""
        self.settings = settings
        self.uploaded_file = file_name  # None: not from a file
        if trainer is None:
            self.net = net if net is not None else MLP(**settings.net_config())
            trainer = Trainer(self.net, self.data.X_train, self.data.y_train,
                              TrainConfig(**settings.train_config()),
                              max_snapshots=snapshots_for(self.net))
        self.trainer, self.net = trainer, trainer.net
        self.test_result: tuple[float, float] | None = None
        self._test_version = -1
        self.state = (DIVERGED if trainer.diverged else STALLED if trainer.stalled
                      else FINISHED if trainer.finished
                      else PAUSED if trainer.step_count else READY)
        self.next_settings: Settings | None = None  # chosen after the run ended
        self._recorded = recorded
        self._worker.error = ""
        self.version = 0
        self.lab_changes: list[lab.Change] = []  # the neuron lab's, newest last: for Undo
        self._run_number: int | None = None  # this run's number in runs, once recorded

    def reset(self, settings: Settings | None = None) -> None:
        """A fresh network from ``settings`` (default: the next run's when planned, else
        the current ones); the old run, if it trained at all, goes into :attr:`runs`."""
        self.pause()
        with self.lock:
            self._record_run()
            self._build(settings or self.next_settings or self.settings)
        self.save_checkpoint()

    def use_data(self, data: MNIST, settings: Settings) -> None:
        """Train on ``data`` (another data set) from now on: a fresh network from
        ``settings``; the old run, if it trained at all, goes into :attr:`runs`."""
        self.pause()
        with self.lock:
            self._record_run()
            self.data = data
            self._build(settings)
        self.save_checkpoint()

    def load_network(self, net: MLP, settings: Settings, file_name: str,
                     trainer: Trainer | None = None) -> None:
        """Replace the network by ``net`` (uploaded from ``file_name``), with ``trainer``
        when the file says how it was trained (its curves, and training goes on exactly
        where it stopped), ready to inspect or train."""
        self.pause()
        with self.lock:
            self._record_run()
            self._build(settings, net, file_name, trainer)
        self.save_checkpoint()

    def restore(self, trainer: Trainer, settings: Settings, state: str,
                data: MNIST | None = None) -> None:
        """Go on from a checkpoint of this workspace (after a reload or a restart):
        ``trainer`` with its network, as it was in ``state`` (on ``data`` when given: the
        data set it was trained on)."""
        self.pause()
        with self.lock:
            self.data = data or self.data
            self._build(settings, trainer=trainer,
                        recorded=state in (FINISHED, DIVERGED, STALLED))

    def save_checkpoint(self, state: str | None = None) -> None:
        """Hand the network and its trainer as they are now to the checkpoint sink (the
        run database), so a reload or a restart loses nothing, with the session's state
        (or ``state``: "running" for a page that left while training, which the next page
        then says). A failing sink does not stop training; :attr:`checkpoint_error` says
        why."""
        if self._sink is None:
            return
        with self.reading():
            raw = self._training_file()
            settings, state = self.settings, state or self.state
            self._checkpointed = (weakref.ref(self.trainer), self.trainer.train_seconds)
        try:
            self._sink(settings, state, raw)
            self.checkpoint_error = ""
        except Exception as e:  # a full disk, a locked file: training goes on regardless
            self.checkpoint_error = f"the network could not be saved: {type(e).__name__}: {e}"

    @property
    def network_source(self) -> str | None:
        """Where the network came from, when not from fresh random weights."""
        return None if self.uploaded_file is None else f"{self.uploaded_file} (uploaded)"

    def apply_live(self, settings: Settings) -> None:
        """Learning rate, batch size and the stopping rule, applied to the running run."""
        with self.lock:
            self.trainer.lr = settings.lr
            self.trainer.batch_size = settings.batch_size
            self.trainer.config.epochs = settings.epochs
            self.trainer.config.steps = settings.steps
            self.settings = settings
            if self.state == FINISHED and not self.trainer.finished:
                self.state = PAUSED
            elif self.state == PAUSED and self.trainer.finished:
                self._after_step()  # fewer epochs than done already: the run has ended
        if not self.running:  # a running session is saved by its worker
            self.save_checkpoint()

    def plan_next(self, settings: Settings) -> None:
        """Settings chosen after the run ended are the next run's, never the ended run's
        (whose numbers they did not produce): :meth:`play` or :meth:`step` starts it."""
        self.next_settings = None if settings == self.settings else settings

    def _start_next(self) -> None:
        if self.next_settings is not None:
            self.reset(self.next_settings)

    def change_live(self, change: Callable[[MLP], lab.Change]) -> lab.Change:
        """Apply ``change(net)`` (a change by hand, ``mnist_np.lab``: the neuron lab's, the
        Backprop page's one update) to the live network without stopping training:
        between two steps (under :meth:`reading`), the version bumped so every view
        redraws, kept for :meth:`undo_live` and in the run's log of changes (:attr:`runs`),
        then checkpointed so a reload keeps it.
        ValueError (one line) when the change is not possible; nothing is changed then."""
        with self.reading() as t:
            done = change(self.net)
            self.lab_changes.append(done)
            self._note(f"step {t.step_count:,}: {done.what}")
            self.version += 1
            if self.state == READY:
                self.state = PAUSED
        self.save_checkpoint()
        return done

    def undo_live(self) -> lab.Change | None:
        """Undo the newest neuron-lab change still undoable: its overwritten values go
        back exactly (while training runs, training's updates to those same numbers since
        the change go with them). None when there is nothing to undo."""
        with self.reading() as t:
            if not self.lab_changes:
                return None
            done = self.lab_changes.pop()
            lab.undo(self.net, done)
            self._note(f"step {t.step_count:,}: undid: {done.what}")
            self.version += 1
        self.save_checkpoint()
        return done

    @property
    def changes_by_hand(self) -> list[str]:
        """This run's changes by hand so far, one line each ("step 120: switched off
        ..."): those already added to its record when it had ended, then the rest."""
        recorded = next((r.changes for r in self.runs if r.number == self._run_number), [])
        return [*recorded, *self.runs.changes] if self._recorded else self.runs.changes

    def _note(self, line: str) -> None:
        """A change goes into the run's log: kept until the run is recorded, or added to
        its record at once when it was recorded already (a run that ended)."""
        self.runs.note_change(line)
        if self._recorded:
            self.runs.attach_changes(self._run_number)

    # -- control -------------------------------------------------------------------
    @property
    def stats_every(self) -> int:
        """Every how many steps, after its first ones, the trainer measures a batch's loss,
        accuracy and per-layer statistics (the step curves' points)."""
        t = self.trainer
        return t.stats_every or stats_every(t.net.layer_sizes, t.config.batch_size)

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def ended(self) -> bool:
        """The run is over (finished, diverged or stalled): Play needs new settings."""
        return self.state in (FINISHED, DIVERGED, STALLED)

    @property
    def training(self) -> bool:
        """True while the worker trains or waits for its turn (a pause may still be
        ending it)."""
        return self._worker.alive

    @property
    def untrained(self) -> bool:
        """Fresh random weights, not a step taken: not an uploaded network."""
        return self.state == READY and self.network_source is None

    @property
    def error(self) -> str:
        """Why training stopped, when an internal error stopped it (cleared by a reset)."""
        if not self._worker.error:
            return ""
        return f"training stopped by an internal error: {self._worker.error}"

    def play(self) -> None:
        """Start (or resume) training in the background; after a run ended with new
        settings chosen, start the next run with them."""
        self._start_next()
        if not self.running:  # a worker still ending (its checkpoint) ends first, unlocked
            self._worker.join()
        with self.lock:
            if self.running or self.trainer.finished:
                return
            self.state = RUNNING
            self._worker.start()

    def play_from_start(self) -> bool:
        """Play from fresh random weights: reset first when a step was taken already (the
        old run goes into :attr:`runs`) or a next run is planned. True when it reset."""
        restarted = self.trainer.step_count > 0 or self.next_settings is not None
        if restarted:
            self.reset()
        self.play()
        return restarted

    def pause(self) -> None:
        """Stop the background training after its current step, and wait for that."""
        self._worker.stop()
        with self.lock:
            if self.state == RUNNING:
                self.state = PAUSED

    def hand_over(self) -> None:
        """Another page session of this workspace takes over (the browser reloaded the
        page, which makes a new Streamlit session): stop training and save the network
        as it is now, its checkpoint saying it was running, so the new session restores
        this very step instead of the last periodic checkpoint (up to 5 s of training
        older) and says that training was running."""
        if self.released:
            return
        self._handing_over = True
        try:
            self.pause()  # the worker's exit saves the checkpoint (see _stopped)
        finally:
            self._handing_over = False

    def step(self) -> None:
        """Pause, then train exactly one mini-batch (of the next run, when one is
        planned)."""
        self._start_next()
        self.pause()
        with self.lock:
            self.trainer.step()
            self.version += 1
            self._after_step()
            if self.state in (READY, RUNNING):
                self.state = PAUSED if not self.trainer.finished else self.state
        self.save_checkpoint()

    def close(self) -> None:
        self.pause()

    def join(self, timeout: float = 60) -> None:
        """Wait (at most ``timeout`` s) for background training to end by itself."""
        self._worker.join(timeout)

    def _train_one(self) -> bool:
        """The worker's step: one mini-batch; False when training has come to an end."""
        if self._reader_waiting.is_set():
            time.sleep(0.001)  # let a page read between two steps
        with self.lock:
            if self._worker.stopping:
                return False
            self.trainer.step()
            self.version += 1
            going_on = not self._after_step()
        if going_on and self._training_since_checkpoint() > CHECKPOINT_SECONDS:
            self.save_checkpoint()
        return going_on

    def _training_since_checkpoint(self) -> float:
        """Seconds this session's trainer has trained since the last checkpoint (all of
        its training when the last checkpoint was of another trainer)."""
        trainer, seconds = self._checkpointed
        t = self.trainer
        return t.train_seconds - (seconds if trainer() is t else 0.0)

    def _stopped(self) -> None:
        gone = not self.is_alive()
        with self.lock:
            left_running = (gone or self._handing_over) and self.state == RUNNING
            if self.state == RUNNING:
                self.state = PAUSED
        # paused, finished, diverged or left: keep where it is; a page that left while
        # training (a reload, a closed tab, a hand-over) saves "running", so the next
        # page says so
        self.save_checkpoint(RUNNING if left_running else None)
        if gone and self._sink is not None and not self.checkpoint_error:
            self.release()

    def release(self) -> None:
        """The browser session is gone and the network is saved: let go of the network,
        its trainer and their arrays (about 20 MB on the default preset), and return
        the freed memory. A page session that comes back after all (a reconnect) goes
        on from the checkpoint in a new session (``page.get_session``)."""
        with self.lock:
            self.trainer = self.net = None  # type: ignore[assignment]
            self.test_result = None
            self.released = True
        return_freed_memory()

    def _after_step(self) -> bool:
        """Update the state after a step; True when training has come to an end."""
        if self.trainer.diverged:
            self.state = DIVERGED
            return True
        if self.trainer.stalled:  # a finite network: its test accuracy is kept
            self.state = STALLED
            self._record_run()
            return True
        if self.trainer.finished:  # its test result first: FINISHED is read unlocked
            self.test_result = self.trainer.evaluate(self.data.X_test, self.data.y_test)
            self._test_version = self.version
            self.state = FINISHED
            self._record_run()
            return True
        return False

    # -- reading -------------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[Trainer]:
        """Hold the state still while a page copies what it draws."""
        self._reader_waiting.set()
        try:
            with self.lock:
                self._reader_waiting.clear()
                yield self.trainer
        finally:
            self._reader_waiting.clear()

    def progress(self) -> Progress:
        """Where training is, in one consistent reading (the sidebar's status)."""
        pool = self._worker.pool
        others = max(0, pool.jobs() - 1) if self.running else 0
        with self.reading() as t:
            return Progress(self.state, t.step_count, t.epochs_done, t.completed_epochs,
                            t.config.epochs, t.config.steps,
                            1.0 if t.stop_reason else t.progress,  # stopped early: done
                            t.samples_per_second, t.ending, others, pool.size)

    def training_file(self) -> bytes:
        """The network and how it was trained, as a file (``mnist_np.checkpoint``), its
        weight snapshots thinned to :data:`FILE_SNAPSHOT_BYTES` (a 784-256-10 network
        after 4 epochs: about 6 MB)."""
        with self.reading():
            return self._training_file()

    def _training_file(self) -> bytes:
        return save_training(self.trainer, self.data.source,
                             max_snapshot_bytes=FILE_SNAPSHOT_BYTES)

    def network_copy(self) -> tuple[MLP, int]:
        """A consistent copy of the live network and its version, safe to compute on
        while training continues (the thread changes the original in place)."""
        with self.reading():
            return self.net.copy(), self.version

    def network_at(self, snapshot: Snapshot) -> MLP | None:
        """A copy of the network with ``snapshot``'s weights (taken earlier in this run),
        or None when the snapshot's shapes no longer fit the network."""
        net, _ = self.network_copy()
        if [W.shape for W in snapshot.weights] != [W.shape for W in net.weights]:
            return None
        net.weights, net.biases = list(snapshot.weights), list(snapshot.biases)
        return net

    def test_metrics(self) -> tuple[float, float]:
        """``(loss, accuracy)`` on the test set, computed once per network state."""
        with self.reading():
            if self.test_result is None or self._test_version != self.version:
                self.test_result = self.trainer.evaluate(self.data.X_test, self.data.y_test)
                self._test_version = self.version
            return self.test_result

    # -- experiments log -------------------------------------------------------------
    def _record_run(self) -> None:
        t = self.trainer
        if t.step_count == 0 or self._recorded:
            self.runs.take_changes()  # attached already, or no run to keep them with
            return
        self._recorded = True
        if self.test_result is None:
            self.test_result = t.evaluate(self.data.X_test, self.data.y_test)
        self._run_number = self.runs.add(
            t, self.settings, self.data.source, self.state if self.state != RUNNING else PAUSED,
            self.test_result[1], weights=self.net.to_bytes(),
            changes=self.runs.take_changes()).number
