"""dashboard.page without Streamlit: the one-off notice's life across runs of the app, and
the names of weight snapshots. (What a page draws is tested with AppTest in tests/pages.)"""

from dashboard.page import Notice, snapshot_label
from mnist_np import MLP, TrainConfig, Trainer
from mnist_np.training import Snapshot


def test_a_notice_is_shown_once():
    n = Notice()
    assert n.take() is None  # nothing to say
    n.text = "The network was reset."
    assert n.take() == "The network was reset."
    assert n.take() is None  # the user's next run


def test_a_notice_stays_through_the_apps_own_redraws_and_goes_with_the_users_next_run():
    n = Notice(text="The network was reset.")
    assert n.take() == "The network was reset."
    for _ in range(2):  # training ended twice, say: the app redrew the page by itself
        n.redraw = True
        assert n.take() == "The network was reset."
    assert n.take() is None
    n.redraw = True  # a redraw after the notice went brings nothing back
    assert n.take() is None


def test_a_new_notice_replaces_the_one_shown():
    n = Notice(text="first")
    assert n.take() == "first"
    n.text, n.redraw = "second", True
    assert n.take() == "second"
    n.redraw = True
    assert n.take() == "second"


def test_an_app_redraw_with_nothing_shown_shows_nothing():
    assert Notice(redraw=True).take() is None


def test_snapshot_labels_say_when_the_weights_were_taken(sample):
    trainer = Trainer(MLP([784, 8, 10], seed=0), sample.X_train, sample.y_train,
                      TrainConfig(optimizer="sgd", lr=0.1, batch_size=250, epochs=2,
                                  train_limit=1000, val_size=0, schedule="constant"))
    for _ in trainer.run():
        pass
    assert [snapshot_label(s) for s in trainer.snapshots] == [
        "before training (step 0)", "after epoch 1 (step 4)", "after epoch 2 (step 8)"]
    assert snapshot_label(Snapshot(12_345, 7, [], [])) == "after epoch 7 (step 12,345)"
