"""The training loop: it learns, it pauses and resumes exactly, it reports its inside,
it stops on divergence, and its memory stays bounded."""

import time

import numpy as np
import pytest

from mnist_np import MLP, PRESETS, ConfigError, TrainConfig, Trainer
from mnist_np.optimizers import norm
from mnist_np.training import STATS_EVERY_STEP_UNTIL, History, split_indices, stats_every


def _trainer(sample, steps=None, epochs=1, **kw):
    net = MLP([784, 32, 10], activation=kw.pop("activation", "relu"), seed=0)
    cfg = TrainConfig(optimizer=kw.pop("optimizer", "sgd"), lr=kw.pop("lr", 0.1),
                      batch_size=kw.pop("batch_size", 32), epochs=epochs, steps=steps,
                      schedule=kw.pop("schedule", "constant"), **kw)
    return Trainer(net, sample.X_train, sample.y_train, cfg)


def test_a_short_run_lowers_the_loss(sample):
    t = _trainer(sample, steps=300)
    before, _ = t.evaluate(t.X_val, t.y_val)
    records = list(t.run())
    after, accuracy = t.evaluate(t.X_val, t.y_val)
    assert len(records) == 300 and t.finished and not t.diverged
    assert after < before / 2 and accuracy > 0.8


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_pause_and_resume_equals_one_run(sample, optimizer):
    straight = _trainer(sample, steps=60, optimizer=optimizer, lr=0.01, schedule="linear")
    list(straight.run())
    paused = _trainer(sample, steps=60, optimizer=optimizer, lr=0.01, schedule="linear")
    for chunk in (7, 23, 100):
        list(paused.run(max_steps=chunk))
    assert paused.step_count == straight.step_count == 60
    for a, b in zip(straight.net.weights, paused.net.weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(straight.history.array("loss"), paused.history.array("loss"))


def test_records_report_the_inside(sample):
    t = _trainer(sample, steps=5, activation="sigmoid")
    t.net = MLP([784, 16, 8, 10], activation="sigmoid", seed=0)
    record = t.step()
    assert record.step == 1 and record.epoch == 0 and np.isfinite(record.loss)
    assert record.grad_norms.shape == (3,) and np.all(record.grad_norms > 0)
    assert record.update_ratios.shape == (3,) and np.all(record.update_ratios > 0)
    assert record.saturation.shape == (2,)
    assert np.all((record.saturation >= 0) & (record.saturation <= 1))
    # SGD: the update is lr * gradient, so the ratio is lr * |g| / |W| (W after the step)
    W = t.net.weights[0]
    expected = 0.1 * record.grad_norms[0] / np.sqrt((W.astype(float) ** 2).sum())
    assert record.update_ratios[0] == pytest.approx(expected, rel=1e-4)


def test_trainer_gathers_batches_from_the_images_it_is_given_without_a_copy(sample):
    # The dashboard's images are shared by every browser session: a copy of the training
    # split per trainer would cost each session ~170 MB on full MNIST.
    import tracemalloc

    config = TrainConfig(optimizer="sgd", lr=0.1, batch_size=50, steps=30, val_size=200)
    tracemalloc.start()
    try:
        shared = Trainer(MLP([784, 16, 10], seed=1), sample.X_train, sample.y_train, config)
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert shared.n_train == 3800 and kept < sample.X_train.nbytes / 4
    # a float64 network converts (so copies) the split: the same batches, the same run
    copied = Trainer(MLP([784, 16, 10], seed=1, dtype="float64"), sample.X_train,
                     sample.y_train, config)
    losses = [(a.loss, b.loss) for a, b in zip(shared.run(), copied.run())]
    assert len(losses) == 30
    np.testing.assert_allclose(*zip(*losses), rtol=1e-4)
    X, y = shared.train_split()
    assert X.shape == (3800, 784) and np.array_equal(copied.train_split()[1], y)


def test_epochs_validation_split_and_snapshots(sample):
    t = _trainer(sample, epochs=2, train_limit=640, val_size=200, batch_size=64)
    list(t.run())
    assert t.n_train == 640 and len(t.X_val) == 200
    assert t.step_count == 20 and [e.epoch for e in t.epoch_records] == [1, 2]
    assert all(0 <= e.val_accuracy <= 1 and np.isfinite(e.train_loss) for e in t.epoch_records)
    assert [s.epoch for s in t.snapshots] == [0, 1, 2]
    assert not np.array_equal(t.snapshots[0].weights[0], t.snapshots[-1].weights[0])
    train, val = split_indices(5000, 500, None, seed=3)
    assert len(val) == 500 and len(train) == 4500 and not set(train) & set(val)


def test_learning_rate_and_batch_size_apply_to_a_running_network(sample):
    t = _trainer(sample, steps=20)
    list(t.run(max_steps=2))
    t.lr, t.batch_size = 0.05, 10
    record = t.step()
    assert t.optimizer.lr == 0.05 and t.samples_seen == 2 * 32 + 10 and record.step == 3
    with pytest.raises(ConfigError):
        t.lr = -1.0
    with pytest.raises(ConfigError):
        t.batch_size = 0


def test_linear_schedule_decays_to_zero(sample):
    t = _trainer(sample, steps=10, schedule="linear", lr=0.1)
    list(t.run())
    assert t.optimizer.lr == pytest.approx(0.01)  # step 10 of 10 ran at (1 - 9/10) * 0.1


def test_divergence_stops_with_advice_and_no_warning(sample):
    net, cfg = PRESETS["exploding"].build()
    t = Trainer(net, sample.X_train, sample.y_train, cfg)
    records = list(t.run(max_steps=500))
    assert t.diverged and t.finished and len(records) < 500
    assert "diverged" in t.message and "learning rate" in t.message
    assert t.step() is None  # a diverged run stays stopped


def test_same_seed_same_run(sample):
    runs = []
    for _ in range(2):
        t = _trainer(sample, steps=30, seed=4)
        list(t.run())
        runs.append(t.history.array("loss"))
    np.testing.assert_array_equal(*runs)


def test_history_is_bounded_and_evenly_downsampled():
    h = History(max_points=50)
    for step in range(1, 1001):  # every value tells the step it was recorded at
        h.add(type("R", (), dict(step=step, loss=step / 10, accuracy=step / 1000,
                                 grad_norms=[step, -step], update_ratios=[step / 2],
                                 saturation=[step % 7]))())
    steps = h.array("step")
    assert len(h) <= 50 and np.all(np.diff(steps) == h.stride) and steps[-1] > 900
    # thinned together: each value still belongs to its step
    np.testing.assert_array_equal(h.array("loss"), steps / 10)
    np.testing.assert_array_equal(h.array("accuracy"), steps / 1000)
    np.testing.assert_array_equal(h.array("grad_norms"), np.stack([steps, -steps], axis=1))
    np.testing.assert_array_equal(h.array("update_ratios")[:, 0], steps / 2)
    np.testing.assert_array_equal(h.array("saturation")[:, 0], steps % 7)


def test_snapshots_are_bounded(sample):
    t = _trainer(sample, epochs=30, train_limit=64, batch_size=64, val_size=0)
    t.max_snapshots = 8
    list(t.run())
    assert len(t.snapshots) <= 8 and t.snapshots[0].epoch == 0 and t.snapshots[-1].epoch == 30


def test_run_stops_after_the_time_slice(sample):
    t = _trainer(sample, epochs=50)
    start = time.perf_counter()
    list(t.run(seconds=0.2))
    assert 0 < t.step_count and time.perf_counter() - start < 5 and not t.finished


@pytest.mark.parametrize("changes,words", [
    (dict(lr=0.0), "learning rate"), (dict(lr=float("nan")), "learning rate"),
    (dict(batch_size=0), "batch size"), (dict(epochs=0), "epochs"),
    (dict(optimizer="rmsprop"), "optimizer"), (dict(schedule="step"), "schedule"),
    (dict(train_limit=3), "training-set size"), (dict(steps=0), "steps"),
    (dict(seed=-1), "seed"), (dict(seed="7"), "seed"),
])
def test_bad_training_settings_are_refused(changes, words):
    with pytest.raises(ConfigError, match=words):
        TrainConfig(**changes)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_trainer_records_match_a_step_done_by_hand(sample, optimizer):
    net = MLP([784, 16, 10], seed=3)
    reference = net.copy()
    t = Trainer(net, sample.X_train, sample.y_train,
                TrainConfig(optimizer=optimizer, lr=0.05, batch_size=20, steps=5,
                            schedule="constant"))
    record = t.step()
    X, labels = sample.X_train[t._order[:20]], sample.y_train[t._order[:20]]
    Y = np.eye(10, dtype=np.float32)[labels]
    fwd = reference.forward(X)
    grads = reference.backward(fwd, Y)
    assert record.loss == pytest.approx(reference.data_loss(fwd, Y), rel=1e-5)
    assert record.accuracy == np.mean(fwd.output.argmax(axis=1) == labels)
    np.testing.assert_allclose(record.grad_norms, [norm(g) for g in grads.dWs], rtol=1e-4)
    dead = [np.mean(~(a > 0).any(axis=0)) for a in fwd.activations[1:-1]]
    np.testing.assert_array_equal(record.saturation, dead)
    before = [W.copy() for W in reference.weights]
    ref_opt = type(t.optimizer)(lr=0.05)
    updates = ref_opt.step(reference.weights + reference.biases, grads.dWs + grads.dbs)
    for W, W_ref, W0 in zip(net.weights, reference.weights, before):
        np.testing.assert_allclose(W - W0, W_ref - W0, rtol=1e-3, atol=1e-7)
    ratios = [u / norm(W) for u, W in zip(updates, reference.weights)]
    np.testing.assert_allclose(record.update_ratios, ratios, rtol=1e-4)


def test_epochs_0_trains_until_stopped_with_bounded_records(sample, monkeypatch):
    from mnist_np import training

    with pytest.raises(ConfigError, match="needs an end to decay towards"):
        TrainConfig(epochs=0, schedule="linear")
    monkeypatch.setattr(training, "MAX_EPOCH_RECORDS", 8)
    config = TrainConfig(epochs=0, schedule="constant", train_limit=100, batch_size=50,
                         val_size=50)
    assert config.until_stopped and not TrainConfig(epochs=0, steps=5,
                                                    schedule="constant").until_stopped
    t = Trainer(MLP([784, 8, 10], seed=0), sample.X_train, sample.y_train, config,
                max_snapshots=4)
    for _ in range(41):  # two steps an epoch: 20 epochs and a half
        t.step()
    assert not t.finished and t.completed_epochs == 20
    assert t.progress == pytest.approx(0.5)  # of the current epoch: there is no end
    assert len(t.epoch_records) <= 8 and t.epoch_records[-1].epoch == 20
    epochs = [e.epoch for e in t.epoch_records]
    assert epochs == sorted(epochs) and epochs[0] == 1  # evenly thinned, ends kept
    assert len(t.snapshots) <= 4


# -- dropout, early stopping, the optimizer's hyperparameters (issue 18) -----------------
def test_a_dropout_step_is_the_step_done_by_hand_with_the_trainers_masks(sample):
    from mnist_np.training import dropout_masks
    net = MLP([784, 24, 16, 10], seed=3)
    reference = net.copy()
    t = Trainer(net, sample.X_train, sample.y_train,
                TrainConfig(optimizer="sgd", lr=0.05, batch_size=20, steps=5,
                            schedule="constant", dropout=0.3, seed=7))
    record = t.step()
    masks = dropout_masks(reference, 20, 0.3, np.random.default_rng([7, 2]))
    X, labels = sample.X_train[t._order[:20]], sample.y_train[t._order[:20]]
    Y = np.eye(10, dtype=np.float32)[labels]
    fwd = reference.forward(X, masks=masks)
    assert record.loss == pytest.approx(reference.data_loss(fwd, Y), rel=1e-5)
    assert record.loss != pytest.approx(reference.loss(X, Y), rel=1e-3)  # masks were used
    dead = [np.mean(~(a > 0).any(axis=0)) for a in fwd.undropped]  # of f(z), not masked
    np.testing.assert_array_equal(record.saturation, dead)
    grads = reference.backward(fwd, Y)
    for W, W_ref, dW in zip(net.weights, reference.weights, grads.dWs):
        np.testing.assert_allclose(W, W_ref - 0.05 * dW, rtol=1e-4, atol=1e-6)


def test_dropout_keeps_the_batches_and_is_off_at_evaluation(sample):
    plain = _trainer(sample, steps=40, dropout=0.0)
    dropped = _trainer(sample, steps=40, dropout=0.5)
    np.testing.assert_array_equal(plain._order, dropped._order)  # its own generator
    list(plain.run())
    list(dropped.run())
    assert not np.array_equal(plain.net.weights[0], dropped.net.weights[0])
    # evaluation, predict and accuracy use every unit, unscaled: the same numbers twice,
    # and those of the plain forward pass
    loss, accuracy = dropped.evaluate(dropped.X_val, dropped.y_val)
    assert (loss, accuracy) == dropped.evaluate(dropped.X_val, dropped.y_val)
    assert accuracy == dropped.net.accuracy(dropped.X_val, dropped.y_val) > 0.5
    assert dropped.net.forward(dropped.X_val[:5]).masks is None


def test_dropout_without_a_hidden_layer_has_nothing_to_drop(sample):
    t = _trainer(sample, steps=3, dropout=0.5)
    t.net = MLP([784, 10], seed=0)
    assert t.step() is not None and t.step_count == 1


def _stopper(sample, **kw):
    net = MLP([784, 32, 10], seed=0)
    cfg = TrainConfig(optimizer="sgd", lr=kw.pop("lr", 0.1), batch_size=50, epochs=30,
                      train_limit=200, val_size=300, schedule="constant", **kw)
    return Trainer(net, sample.X_train, sample.y_train, cfg)


def test_early_stopping_puts_the_best_weights_back_and_says_why(sample):
    t = _stopper(sample, patience=2, lr=0.5)
    list(t.run())
    accuracies = [r.val_accuracy for r in t.epoch_records]
    best = int(np.argmax(accuracies)) + 1
    assert t.completed_epochs == best + 2 < 30 and t.finished and not t.diverged
    assert t.best is not None and t.best.epoch == best
    for W, kept in zip(t.net.weights, t.best.weights):
        np.testing.assert_array_equal(W, kept)
    assert t.evaluate(t.X_val, t.y_val)[1] == max(accuracies)  # the best epoch's network
    assert t.val_accuracy == max(accuracies) != accuracies[-1]
    assert t.stop_reason == t.ending
    assert f"weights of epoch {best} ({max(accuracies):.2%}) were put back" in t.ending
    assert t.step() is None


def test_a_target_accuracy_stops_the_run_once_validation_reaches_it(sample):
    t = _stopper(sample, target_accuracy=0.6)
    list(t.run())
    accuracies = [r.val_accuracy for r in t.epoch_records]
    assert accuracies[-1] >= 0.6 and all(a < 0.6 for a in accuracies[:-1])
    assert t.ending.startswith(f"Target reached at epoch {len(accuracies)}: validation")
    assert t.val_accuracy == accuracies[-1] and _stopper(sample).val_accuracy is None
    done = _trainer(sample, steps=2)
    list(done.run())
    assert done.ending == "Finished: 2 steps done." and _trainer(sample, 2).ending == ""


def test_optimizer_hyperparameters_reach_the_optimizer(sample):
    t = _trainer(sample, steps=2, optimizer="momentum", momentum=0.5)
    assert t.optimizer.mu == 0.5
    t = _trainer(sample, steps=2, optimizer="adam", beta1=0.8, beta2=0.9, eps=1e-3)
    assert (t.optimizer.beta1, t.optimizer.beta2, t.optimizer.eps) == (0.8, 0.9, 1e-3)


@pytest.mark.parametrize("changes,words", [
    (dict(dropout=1.0), "dropout"), (dict(dropout=-0.1), "dropout"),
    (dict(dropout="0.5"), "dropout"), (dict(patience=0), "patience"),
    (dict(patience=True), "patience"), (dict(target_accuracy=0.0), "target accuracy"),
    (dict(target_accuracy=1.5), "target accuracy"), (dict(momentum=1.0), "momentum"),
    (dict(beta1=-0.5), "beta1"), (dict(beta2=float("nan")), "beta2"), (dict(eps=0.0), "eps"),
    (dict(momentum=10**400), "momentum"),
    (dict(patience=3, val_size=0), "validation size above 0"),
])
def test_bad_dropout_stopping_and_optimizer_settings_are_refused(changes, words):
    with pytest.raises(ConfigError, match=words):
        TrainConfig(**changes)


@pytest.mark.parametrize("field", ["aug_shift", "aug_rotate", "aug_scale", "aug_elastic",
                                   "aug_noise", None])
def test_augments_says_what_the_augmentation_says(field):
    """The step checks the cheap ``augments`` instead of building ``augmentation``."""
    config = TrainConfig(**({field: 0.1} if field else {}))
    assert config.augments == config.augmentation.active == (field is not None)


# -- statistics on a cadence (issue 19) --------------------------------------------------
def test_statistics_are_taken_on_their_cadence_and_equal_a_direct_computation(sample):
    first = STATS_EVERY_STEP_UNTIL
    every = stats_every([784, 16, 10], 10)
    assert every > 1 and every & (every - 1) == 0  # a tiny network: not every step
    t = Trainer(MLP([784, 16, 10], seed=3), sample.X_train, sample.y_train,
                TrainConfig(optimizer="momentum", lr=0.05, batch_size=10, epochs=5,
                            schedule="linear"))
    end = (first // every + 2) * every  # a measured step past the first ones, all measured
    records = list(t.run(max_steps=end - 1))
    measured = [r.step for r in records if r.measured]
    assert measured == [*range(1, first + 1), *range(first // every * every + every, end,
                                                      every)]
    assert all(r.grad_norms is None and r.update_ratios is None and r.saturation is None
               for r in records if r.step not in measured)
    assert all(np.isfinite(r.loss) and 0 <= r.accuracy <= 1 for r in records if r.measured)
    assert all(np.isnan(r.loss) and np.isnan(r.accuracy) for r in records if not r.measured)
    # the next step is measured: its statistics are those of the step done by hand
    reference = t.net.copy()
    velocity = [v.copy() for v in t.optimizer.velocity]
    idx = t._order[t._pos:t._pos + 10]
    X, labels = sample.X_train[idx], sample.y_train[idx]
    Y = np.eye(10, dtype=np.float32)[labels]
    fwd = reference.forward(X)
    grads = reference.backward(fwd, Y)
    record = t.step()
    assert record.step == end and record.measured
    np.testing.assert_allclose(record.grad_norms, [norm(g) for g in grads.dWs], rtol=1e-4)
    dead = [np.mean(~(a > 0).any(axis=0)) for a in fwd.activations[1:-1]]
    np.testing.assert_array_equal(record.saturation, dead)
    lr = t.optimizer.lr
    updates = [norm(0.9 * v - lr * g) for v, g in zip(velocity, grads.dWs)]
    np.testing.assert_allclose(record.update_ratios,
                               [u / norm(W) for u, W in zip(updates, t.net.weights)], rtol=1e-3)
    assert list(t.history.array("step")) == [*measured, end]
    np.testing.assert_array_equal(t.history.array("grad_norms")[-1], record.grad_norms)


def test_statistics_every_step_when_asked_and_training_is_the_same_either_way(sample):
    def run(every):
        t = _trainer(sample, steps=160, batch_size=16, optimizer="momentum", lr=0.05)
        t.stats_every = every
        records = list(t.run())
        return t, records
    each, each_records = run(1)
    auto, auto_records = run(None)
    assert all(r.measured for r in each_records) and len(each.history) == 160
    assert len(auto.history) < 160 and not all(r.measured for r in auto_records)
    for a, b in zip(each.net.weights + each.net.biases, auto.net.weights + auto.net.biases):
        np.testing.assert_array_equal(a, b)  # measuring changes nothing in the training
    assert [r.loss for r in auto_records if r.measured] == \
        [r.loss for r in each_records if r.step in auto.history.columns["step"]]
    for bad in (0, 3, -4, 2.0, "8"):
        with pytest.raises(ConfigError, match="power of two"):
            each.stats_every = bad


@pytest.mark.parametrize("l2", [0.0, 1e-3])
@pytest.mark.parametrize("output,loss", [("softmax", "cross_entropy"), ("sigmoid", "mse"),
                                         ("sigmoid", "cross_entropy")])
def test_epoch_figures_count_every_row_of_every_step(sample, output, loss, l2):
    """The epoch's loss and accuracy, counted from the logits the trainer keeps, are the
    batches' own (every step measured here) weighted by their rows, and do not depend
    on how often the statistics are taken."""
    def run(every):
        t = Trainer(MLP([784, 16, 10], output=output, loss=loss, l2=l2, seed=2),
                    sample.X_train, sample.y_train,
                    TrainConfig(optimizer="sgd", lr=0.1, batch_size=48, epochs=2,
                                train_limit=500, val_size=100, schedule="constant"))
        t.stats_every = every
        return t, list(t.run())
    each, records = run(1)
    auto, _ = run(32)
    assert all(r.measured for r in records) and len(each.epoch_records) == 2
    for epoch in (0, 1):
        mine = [r for r in records if r.epoch == epoch]
        rows = [min(48, 500 - 48 * i) for i in range(len(mine))]
        record = each.epoch_records[epoch]
        assert record.train_loss == pytest.approx(
            sum(r.loss * n for r, n in zip(mine, rows)) / 500, rel=1e-6)
        assert record.train_accuracy == pytest.approx(
            sum(round(r.accuracy * n) for r, n in zip(mine, rows)) / 500, abs=1e-12)
    assert [(e.train_loss, e.train_accuracy) for e in auto.epoch_records] == \
        [(e.train_loss, e.train_accuracy) for e in each.epoch_records]


def test_train_is_run_without_the_records(sample):
    """``train`` takes the same steps as ``run`` (history, epochs, weights, counters), stops
    at ``max_steps`` and when finished or diverged, and returns the last step's record."""
    ran, trained = (_trainer(sample, epochs=2, batch_size=64, optimizer="momentum",
                             lr=0.05, schedule="linear") for _ in range(2))
    records = list(ran.run())
    assert trained.train(max_steps=7).step == 7 and trained.step_count == 7
    last = trained.train()
    assert last is not None and last.step == records[-1].step == trained.step_count
    assert trained.finished and trained.train() is None
    for a, b in zip(ran.net.weights + ran.net.biases, trained.net.weights + trained.net.biases):
        np.testing.assert_array_equal(a, b)
    for f in History.FIELDS:
        np.testing.assert_array_equal(ran.history.array(f), trained.history.array(f))
    assert [(e.train_loss, e.train_accuracy, e.val_loss) for e in ran.epoch_records] == \
        [(e.train_loss, e.train_accuracy, e.val_loss) for e in trained.epoch_records]
    assert trained.train_seconds > 0 and trained.epoch_records[-1].seconds <= \
        trained.train_seconds
    net, cfg = PRESETS["exploding"].build()
    exploding = Trainer(net, sample.X_train, sample.y_train, cfg)
    assert exploding.train(max_steps=500) is not None and exploding.diverged
    assert exploding.step_count < 500 and exploding.train() is None


@pytest.mark.parametrize("output,loss", [("softmax", "cross_entropy"),
                                         ("sigmoid", "cross_entropy"), ("sigmoid", "mse")])
def test_an_unmeasured_step_decides_divergence_as_a_measured_one(sample, output, loss):
    """Past the first 100 steps most steps take no statistics and no loss: logits that
    become infinite there stop the run at that very step exactly when they would at a
    measured step (softmax and binary cross-entropy: the loss is infinite; a sigmoid
    with the MSE saturates, its loss and gradients stay finite), with the weights as they
    were before it."""
    def blow_up(every):
        t = Trainer(MLP([784, 16, 10], output=output, loss=loss, seed=0), sample.X_train,
                    sample.y_train, TrainConfig(optimizer="sgd", lr=0.1, batch_size=10,
                                                steps=1000, schedule="constant"))
        t.stats_every = every
        t.train(max_steps=STATS_EVERY_STEP_UNTIL + 1)
        t.net.weights[-1][...] = 3e38  # every logit overflows to inf
        before = [W.copy() for W in t.net.weights]
        record = t.step()
        assert (record is None) == t.diverged
        assert record is None or record.measured == (every == 1)
        if t.diverged:
            assert t.step_count == STATS_EVERY_STEP_UNTIL + 1
            assert f"at step {STATS_EVERY_STEP_UNTIL + 2}" in t.message
            for W, was in zip(t.net.weights, before):
                np.testing.assert_array_equal(W, was)
        return t.diverged, t.message
    unmeasured, measured = blow_up(256), blow_up(1)
    assert unmeasured == measured and unmeasured[0] == (loss == "cross_entropy")
