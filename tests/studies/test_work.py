"""What a worker computes of a trial besides training (its test accuracy), and a trial's
channel finding an answer that was never pushed to it."""

import time

import numpy as np

from mnist_np import MLP, TrainConfig, Trainer
from studies import work as wk
from studies.channel import Channel, answers_topic, reports_topic
from studies.work import GO, PRUNE, STOP

from ..conftest import wait_for


def test_the_test_accuracy_is_the_trainers_and_reuses_its_arrays(sample):
    trainer = Trainer(MLP([784, 32, 10], seed=1), sample.X_train[:600], sample.y_train[:600],
                      TrainConfig(epochs=1, lr=0.1, batch_size=64, val_size=100))
    for _ in trainer.run():
        pass
    X, y = sample.X_test, sample.y_test
    accuracy = wk.test_accuracy_of(trainer.net, X, y)
    assert accuracy == trainer.evaluate(X, y)[1] and 0.3 < accuracy < 1
    kept = wk._test_arrays
    other = MLP([784, 32, 10], seed=2)  # the same shapes: the same arrays
    assert wk.test_accuracy_of(other, X, y) == Trainer(
        other, X, y, TrainConfig(val_size=0)).evaluate(X, y)[1]
    assert wk._test_arrays is kept
    wider = MLP([784, 48, 10], seed=2)  # another network: arrays of its shapes
    assert wk.test_accuracy_of(wider, X[:300], y[:300]) == Trainer(
        wider, X, y, TrainConfig(val_size=0)).evaluate(X[:300], y[:300])[1]
    assert wk._test_arrays is not kept
    diverged = MLP([784, 32, 10], seed=1)
    diverged.weights[0][:] = np.nan  # NaN outputs: counted as the trainer counts them
    assert wk.test_accuracy_of(diverged, X, y) == Trainer(
        diverged, X, y, TrainConfig(val_size=0)).evaluate(X, y)[1]
    assert np.isnan(wk.test_accuracy_of(trainer.net, X[:0], y[:0]))


def _settle(study: str, look_up: bool) -> tuple[str, float]:
    """On a worker: trial 7's channel reports epoch 1 and waits for its answer (without
    ``look_up``, only for one pushed to it)."""
    import studies.channel as ch

    kept = ch.LOOK_SECONDS
    ch.LOOK_SECONDS = kept if look_up else ch.ANSWER_SECONDS
    try:
        channel = Channel(study, 7, wait=True)
        channel.start()
        channel.send(1, 0.5)
        channel.settle(1)
        channel.close()
    finally:
        ch.LOOK_SECONDS = kept
    return channel.verdict, channel._answered


def test_a_channel_gets_its_answer_pushed_or_finds_it_in_the_topics_log(client):
    # the driver's side: the report reaches the reports topic, the answer is pushed (again
    # until it arrives: the worker's client may follow the topic a moment after the
    # report went out, and this channel does not look answers up)
    future = client.submit(_settle, "push-study", False, pure=False)
    while not client.get_events(reports_topic("push-study")):
        time.sleep(0.05)
    for _ in range(100):
        client.log_event(answers_topic("push-study"), [7, 1, GO])
        if future.done():
            break
        time.sleep(0.2)
    assert future.result(timeout=5) == (GO, 1)
    # logged before the worker's client follows the topic, an answer is never pushed to
    # it: the waiting channel finds it in the topic's log on the scheduler
    client.log_event(answers_topic("lookup-study"), [7, 1, PRUNE])
    assert client.submit(_settle, "lookup-study", True, pure=False).result(timeout=30) == \
        (PRUNE, 1)


_verdicts: dict[str, str] = {}  # on a worker: each study's trial 3's verdict once it ended


def _wait_unanswered(study: str) -> None:
    """On a worker: trial 3's channel reports epoch 1 and waits for an answer never sent."""
    channel = Channel(study, 3, wait=True)
    channel.start()
    channel.send(1, 0.5)
    channel.settle(1)
    channel.close()
    _verdicts[study] = channel.verdict


def _verdict(study: str) -> str | None:
    return _verdicts.get(study)


def test_a_channel_whose_task_its_driver_let_go_stops_waiting(client):
    future = client.submit(_wait_unanswered, "let-go-study", pure=False)
    while not client.get_events(reports_topic("let-go-study")):
        time.sleep(0.05)
    future.cancel()  # as a driver that dies lets go of its tasks: no answer will come
    wait_for(lambda: STOP in client.run(_verdict, "let-go-study").values(), timeout=20)
