"""Mistakes: the test-set confusion matrix (click a cell to filter), accuracy per digit,
and the misclassified digits the network was most sure about."""

import streamlit as st

from dashboard.explain import mistakes_title
from dashboard.figures.mistakes import (
    cell_from_selection,
    confusion_figure,
    mistakes_figure,
    per_digit_accuracy_figure,
)
from dashboard.live import LiveCache
from dashboard.page import (
    figure_for,
    live_fragment,
    not_trained_note,
    page_header,
    page_session,
)
from mnist_np.metrics import confident_mistakes, confusion_matrix, per_class_accuracy

GALLERY = 32  # digits shown

session = page_session()
page_header("Mistakes", session)
st.caption("Which digits does the network confuse, and how sure was it when it was wrong? "
           "Everything here is measured on the test set, which the network never trains on.")


def _on_select() -> None:
    cell = cell_from_selection(st.session_state.mistakes_confusion["selection"])
    if cell is not None:
        st.session_state.mistakes_cell = cell


def _show_all() -> None:
    st.session_state.mistakes_cell = None


def draw(session):
    data = session.data
    net, version = session.network_copy()
    cache = st.session_state.setdefault("mistakes_cache",
                                        LiveCache(1, min_seconds=0.0, background=True))
    proba = cache.get("predictions", session.trainer, version, session.running,
                      lambda: net.predict_proba(data.X_test))
    shown = cache.version_of("predictions")
    not_trained_note(session, "Not trained yet: a freshly initialised network guesses, so about "
                     "90% of the test digits are mistakes. Press ▶ Play in the sidebar and "
                     "watch them go.")
    lag = st.empty()  # always there, so live redraws keep every element in its place
    if shown != version:
        lag.caption("While training runs, the test predictions refresh every few seconds; "
                    f"these are {version - shown} steps old.")
    y = data.y_test
    predicted = proba.argmax(axis=1)
    cm = confusion_matrix(y, predicted, proba.shape[1])
    cell = st.session_state.get("mistakes_cell")

    left, right = st.columns([1, 1])
    with left:
        st.plotly_chart(figure_for("mistakes_confusion_figure", proba, cell,
                                   lambda: confusion_figure(cm, cell, data.classes)),
                        key="mistakes_confusion", on_select=_on_select,
                        selection_mode=("points", "box"))
        st.caption("Row: the true digit; column: the network's answer. The diagonal holds "
                   "the correct answers; colour shows how often each mistake happens. "
                   "Click a cell to see those digits below.")
    with right:
        st.plotly_chart(figure_for("mistakes_per_digit_figure", proba, None, lambda:
                                   per_digit_accuracy_figure(per_class_accuracy(cm),
                                                             data.classes)),
                        key="mistakes_per_digit")
        wrong = int((predicted != y).sum())
        st.metric("Test accuracy", f"{1 - wrong / len(y):.2%}",
                  help=f"{wrong:,} of {len(y):,} test digits are misclassified")

    true, pred = cell if cell is not None else (None, None)
    idx = confident_mistakes(proba, y, true=true, predicted=pred, limit=GALLERY)
    # the same elements whether filtered or not, so live redraws replace them in place
    title, reset = st.columns([4, 1], vertical_alignment="bottom")
    title.subheader(mistakes_title(cell, cm, data.classes))
    reset.button("Show all mistakes", key="mistakes_show_all", on_click=_show_all,
                 disabled=cell is None)
    st.plotly_chart(figure_for("mistakes_gallery_figure", proba, cell, lambda:
                               mistakes_figure(data.X_test[idx], y[idx], predicted[idx],
                                               proba[idx, predicted[idx]],
                                               classes=data.classes)),
                    key="mistakes_gallery")
    st.caption("Each digit is titled **true** → predicted (the probability the network gave "
               "its wrong answer). Confident mistakes are often digits a person would also "
               "hesitate over, or labels that look wrong.")


live_fragment(session, draw)()
