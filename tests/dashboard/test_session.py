"""dashboard.session without Streamlit: the training session's states, its background
thread, the runs it records and the snapshots it keeps."""

import time
from dataclasses import replace
from itertools import pairwise

from dashboard import settings as cfg
from dashboard.session import DIVERGED, FINISHED, PAUSED, READY, TrainingSession
from dashboard.settings import Settings


def _session(sample, **changes):
    return TrainingSession(sample, Settings(hidden=(16,), **changes))


def test_session_pause_takes_effect_quickly(sample):
    session = _session(sample, steps=cfg.MAX_STEPS)  # cannot finish by itself meanwhile
    session.play()
    time.sleep(0.5)
    start = time.perf_counter()
    session.pause()
    delay = time.perf_counter() - start
    steps = session.trainer.step_count
    time.sleep(0.2)
    print(f"pause took {delay * 1000:.1f} ms after {steps} steps")
    assert session.trainer.step_count == steps > 0 and session.state == PAUSED


def test_session_finishes_records_the_run_and_stops_when_the_user_leaves(sample):
    session = _session(sample, epochs=1, train_limit=500, batch_size=50)
    session.play()
    for _ in range(200):
        if session.state == FINISHED:
            break
        time.sleep(0.05)
    assert session.state == FINISHED and session.test_result is not None
    assert len(session.runs) == 1 and session.runs[0].steps == session.trainer.step_count
    alive = [True]
    leaving = TrainingSession(sample, Settings(hidden=(16,), steps=cfg.MAX_STEPS),
                              lambda: alive[0])
    leaving.play()
    alive[0] = False
    leaving.join(timeout=5)
    assert not leaving.training and leaving.state == PAUSED


def test_fewer_epochs_than_a_paused_run_has_done_finish_it(sample):
    # Play would do nothing on a run that is over, so the run must say it is over.
    session = _session(sample, epochs=3, train_limit=100, batch_size=50)
    for _ in range(5):  # two and a half epochs
        session.step()
    assert session.state == PAUSED
    session.apply_live(replace(session.settings, epochs=2))
    assert session.state == FINISHED and session.test_result is not None
    assert len(session.runs) == 1 and session.runs[0].status == FINISHED
    session.apply_live(replace(session.settings, epochs=4))  # more again: it can go on
    assert session.state == PAUSED
    session.step()
    assert session.trainer.step_count == 6


def test_network_copy_is_consistent_and_independent(sample):
    session = _session(sample)
    session.step()
    net, version = session.network_copy()
    assert version == session.version == 1
    net.weights[0][0, 0] += 1
    assert net.weights[0][0, 0] != session.net.weights[0][0, 0]


def test_a_session_keeps_fewer_weight_snapshots_of_a_big_network(sample):
    # 24 snapshots of a 4 x 1,024-unit network would hold ~380 MB per browser session
    small = TrainingSession(sample, Settings(hidden=(256,), epochs=30, train_limit=100))
    big = TrainingSession(sample, Settings(hidden=(1024,) * 4, epochs=30, train_limit=100,
                                           batch_size=100))  # one step an epoch
    assert small.trainer.max_snapshots == 24 and big.trainer.max_snapshots == 4
    list(big.trainer.run())  # 31 snapshots taken (the start and 30 epochs), thinned
    weights = sum(W.nbytes for W in big.net.weights)
    assert 3 <= len(big.trainer.snapshots) <= 5 and weights > 15e6
    assert big.trainer.snapshots[-1].epoch == 30


def test_session_diverges_visibly(sample):
    session = TrainingSession(sample, cfg.from_preset("exploding"))
    session.play()
    session.join(timeout=30)
    assert session.state == DIVERGED and "learning rate" in session.trainer.message


def test_an_internal_error_stops_training_says_why_and_goes_with_reset(sample, monkeypatch):
    session = TrainingSession(sample, Settings(hidden=(16,)))

    def broken_step():
        raise RuntimeError("out of cheese")

    monkeypatch.setattr(session.trainer, "step", broken_step)
    session.play()
    session.join(timeout=10)
    assert session.state == PAUSED and not session.training
    assert session.error == ("training stopped by an internal error: "
                             "RuntimeError: out of cheese")
    session.reset()  # a fresh network and trainer: the old error is no longer true
    assert session.error == "" and session.state == READY


def test_play_from_start_resets_only_a_network_that_has_trained(sample):
    session = TrainingSession(sample, Settings(hidden=(16,), steps=3))
    assert session.play_from_start() is False  # fresh: nothing to reset
    session.join(timeout=30)
    assert session.trainer.step_count == 3 and len(session.runs) == 1
    assert session.play_from_start() is True  # trained: reset, then play
    session.join(timeout=30)
    assert session.trainer.step_count == 3 and len(session.runs) == 2


def test_progress_is_one_consistent_reading(sample):
    session = TrainingSession(sample, Settings(hidden=(16,), epochs=2, train_limit=1000,
                                               batch_size=100))
    for _ in range(15):  # one and a half epochs of 10 steps
        session.step()
    p = session.progress()
    assert (p.state, p.step, p.completed_epochs, p.planned_epochs) == (PAUSED, 15, 1, 2)
    assert p.fraction == p.epochs_done / 2 and 1.4 < p.epochs_done < 1.6


def test_reset_and_play_from_start_take_the_planned_next_run(sample):
    # Before: after a run ended, "Show exploding gradients" planned the preset as the
    # next run, but play_from_start's reset rebuilt the old settings and trained those.
    session = TrainingSession(sample, Settings(hidden=(16,), steps=3, train_limit=1000))
    for _ in range(3):
        session.step()
    assert session.ended
    session.plan_next(replace(session.settings, hidden=(8,)))
    assert session.play_from_start() is True
    session.join(timeout=30)
    assert session.settings.hidden == (8,) and session.net.layer_sizes == [784, 8, 10]
    assert [r.settings.hidden for r in session.runs] == [(16,), (8,)]
    session.plan_next(replace(session.settings, hidden=(4,)))
    session.reset()  # the sidebar's Reset: fresh weights with the settings it shows
    assert session.net.layer_sizes == [784, 4, 10] and session.next_settings is None


def test_a_session_whose_browser_left_lets_go_of_its_network_once_saved(sample):
    """Issue 20, item 13: the trainer and network of a visitor who closed the browser were
    kept as long as Streamlit kept the session; once saved they are released."""
    import gc
    import weakref

    saved, alive = [], [True]
    session = TrainingSession(sample, Settings(hidden=(16,), steps=cfg.MAX_STEPS),
                              lambda: alive[0], checkpoint=lambda *a: saved.append(a))
    session.play()
    time.sleep(0.2)
    trainer, net = weakref.ref(session.trainer), weakref.ref(session.net)
    alive[0] = False
    session.join(timeout=5)
    assert not session.training and session.released and saved
    assert saved[-1][1] == "running"  # it left while training: the next page says so
    assert trainer() is None and net() is None  # freed at once, no collection needed
    gc.collect()
    # without a place to save it (no run database), the network is kept for a reconnect
    alive[0] = True
    unsaved = TrainingSession(sample, Settings(hidden=(16,), steps=cfg.MAX_STEPS),
                              lambda: alive[0])
    unsaved.play()
    alive[0] = False
    unsaved.join(timeout=5)
    assert not unsaved.released and unsaved.trainer is not None


def test_checkpoints_come_after_seconds_of_the_sessions_own_training(sample, monkeypatch):
    """Two sessions taking turns on one thread each train half the time: each checkpoints
    after CHECKPOINT_SECONDS of its own training, not of the wall clock (16 sessions on
    2 cores wrote a checkpoint each every 5 s of wall time, 28% of the pool's time)."""
    import dashboard.session as session_module
    from dashboard.pool import TrainerPool

    monkeypatch.setattr(session_module, "CHECKPOINT_SECONDS", 0.1)
    pool = TrainerPool(size=1, slice_seconds=0.02)
    saves: list[list[float]] = [[], []]
    sessions = [TrainingSession(sample, Settings(hidden=(64,), steps=cfg.MAX_STEPS),
                                checkpoint=lambda *a, k=k: saves[k].append(
                                    sessions[k].trainer.train_seconds),
                                pool=pool) for k in range(2)]
    started = time.monotonic()
    for s in sessions:
        s.play()
    time.sleep(1.5)
    for s in sessions:
        s.pause()
    wall = time.monotonic() - started
    for s, saved in zip(sessions, saves):
        periodic = saved[:-1]  # the last one is the pause's
        gaps = [b - a for a, b in pairwise(periodic)]
        assert len(periodic) >= 3 and min(gaps) >= 0.1
        # half the wall time each: a wall-clock rule would have saved about twice as often
        assert len(periodic) <= s.trainer.train_seconds / 0.1 + 1 < wall / 0.1


def test_hand_over_stops_and_saves_this_step_as_running(sample):
    saved = []
    session = TrainingSession(sample, Settings(hidden=(16,), steps=cfg.MAX_STEPS),
                              checkpoint=lambda settings, state, raw: saved.append(state))
    session.play()
    time.sleep(0.3)
    session.hand_over()  # a reload's new page session takes the workspace over
    assert not session.training and saved[-1] == "running"
    step = session.trainer.step_count
    time.sleep(0.2)
    assert session.trainer.step_count == step and session.state == PAUSED
    count = len(saved)
    session.hand_over()  # paused already, and saved when it paused: nothing to do
    assert len(saved) == count and session.state == PAUSED
