"""Train: loss and accuracy curves, live while the network trains."""

import streamlit as st

from dashboard.explain import measured_batches
from dashboard.figures.train import accuracy_figure, loss_figure
from dashboard.page import live_fragment, page_header, page_session
from dashboard.session import FINISHED, READY, STALLED

METRIC_WIDTH = 150  # px: room for "100.00%" and "123,456"

session = page_session()
page_header("Train", session)
st.caption(f"**Network:** {session.settings.describe()} · "
           f"{session.net.n_params:,} parameters")
if session.next_settings is not None:
    st.caption(f"**Next run** (▶ Play starts it): {session.next_settings.describe()}")


def curves(session):
    with session.reading() as t:
        h = t.history
        steps, losses, accs = h.array("step"), h.array("loss"), h.array("accuracy")
        epochs = list(t.epoch_records)
        val = t.val_accuracy  # after an early stop: the best epoch's, put back
        state = session.state
    # The step, epoch and speed are the sidebar's: shown here too, the two redraws (each
    # about once a second, at different moments) showed different steps while training.
    # A row that wraps in a narrow window instead of cutting the numbers to "98.…".
    row = st.container(horizontal=True, horizontal_alignment="distribute", gap="medium")
    last = epochs[-1] if epochs else None
    row.metric("Train accuracy", f"{last.train_accuracy:.2%}" if last else "–",
               width=METRIC_WIDTH, help="On the training images of the last full epoch.")
    row.metric("Validation accuracy", f"{val:.2%}" if val is not None else "–",
               width=METRIC_WIDTH, help="On the held-out images after the last full epoch "
               "(after an early stop: the best epoch's, whose weights were put back).")
    if state in (FINISHED, STALLED):  # a stalled run's accuracy tells how stuck it is
        _, test_acc = session.test_metrics()
        row.metric("Test accuracy", f"{test_acc:.2%}", width=METRIC_WIDTH)
    else:
        row.metric("Test accuracy", "–", width=METRIC_WIDTH,
                   help=f"Measured on the {len(session.data.X_test):,} test digits when "
                        "training has finished.")
    if state == READY:
        st.info("Press ▶ Play in the sidebar to train, or Step for one mini-batch.")
    if changes := session.changes_by_hand:
        st.info(f"Changed by hand {len(changes)} time{'s' if len(changes) > 1 else ''} "
                f"(last: {changes[-1]}). The train and validation accuracies are from the "
                "last epoch's end; the test accuracy is of the network as it is now.")
    left, right = st.columns(2)
    left.plotly_chart(loss_figure(steps, losses, epochs), key="train_loss")
    right.plotly_chart(accuracy_figure(steps, accs, epochs), key="train_accuracy")
    left.caption(f"**Batch loss** (faint): the loss on {measured_batches(session.stats_every)}"
                 ", noisy because every batch holds other digits; its **moving average** "
                 "shows the trend. After each epoch: the **train loss** is the mean over "
                 "that epoch's batches, measured while the weights were still improving, so "
                 "it sits above what the network scores at the epoch's end; the **validation "
                 "loss** is measured at the end, on digits it never trains on.")
    right.caption("The same for accuracy: the share of digits read right. When train "
                  "accuracy keeps rising while validation accuracy stalls, the network is "
                  "learning its training digits by heart rather than digits in general.")


live_fragment(session, curves)()
