"""Train: loss and accuracy curves, live while the network trains."""

import streamlit as st

from dashboard.figures import accuracy_figure, loss_figure
from dashboard.session import FINISHED, READY
from dashboard.ui import live_fragment, page_header, page_session

session = page_session()
page_header("Train", session)
st.caption(f"**Network:** {session.settings.describe()} · "
           f"{session.net.n_params:,} parameters")


def curves(session):
    with session.reading() as t:
        h = t.history
        steps, losses, accs = h.array("step"), h.array("loss"), h.array("accuracy")
        epochs = list(t.epochs)
        epoch, step, speed = t.epochs_done, t.step_count, t.samples_per_second
        state = session.state
    cols = st.columns(5)
    cols[0].metric("Epoch", f"{epoch:.2f}")
    cols[1].metric("Step", f"{step:,}")
    cols[2].metric("Samples / s", f"{speed:,.0f}")
    cols[3].metric("Validation accuracy", f"{epochs[-1].val_accuracy:.2%}" if epochs else "–")
    if state == FINISHED:
        _, test_acc = session.test_metrics()
        cols[4].metric("Test accuracy", f"{test_acc:.2%}")
    else:
        cols[4].metric("Test accuracy", "at the end")
    if state == READY:
        st.info("Press ▶ Play in the sidebar to train, or Step for one mini-batch.")
    left, right = st.columns(2)
    left.plotly_chart(loss_figure(steps, losses, epochs), key="train_loss")
    right.plotly_chart(accuracy_figure(steps, accs, epochs), key="train_accuracy")


live_fragment(session, curves)()
