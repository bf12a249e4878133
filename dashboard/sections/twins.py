"""The Robustness page's last part: twin networks of the current settings trained with and
without augmentation (``dashboard.twins``), their accuracy under the same perturbations
side by side, and what was compared and how long it trained."""

from __future__ import annotations

import streamlit as st

from ..figures.robustness import twins_figure
from ..live import digit_subset
from ..session import TrainingSession
from ..settings import as_dict
from ..twins import BUDGET_STEPS, DONE, MAX_SECONDS, RUNNING, Comparison, twin_settings

KEY = "robustness_twins"
REFRESH_SECONDS = 1.0


def _start(session: TrainingSession, digits: int, seed: int) -> None:
    old: Comparison | None = st.session_state.get(KEY)
    if old is not None:
        old.cancel()
    data = session.data
    idx = digit_subset(len(data.X_test), digits)
    st.session_state[KEY] = Comparison(session.settings, data.X_train, data.y_train,
                                       data.X_test[idx], data.y_test[idx], seed,
                                       session.is_alive).start()


def augmentation_twins(session: TrainingSession, digits: int, seed: int) -> None:
    """The section: what it compares, a button that trains the twins in the background,
    their progress, then their curves (``digits`` test digits, ``seed``'s noise)."""
    st.subheader("Trained with and without augmentation")
    settings = session.settings
    augmented = twin_settings(settings)[1]
    st.caption(f"Two twins of the network in the sidebar (same layers, initial weights, "
               f"batches and learning rate), each trained for {BUDGET_STEPS:,} steps "
               f"(at most {MAX_SECONDS:.0f} s): one without augmentation, one with "
               f"{augmented.describe_augmentation()}"
               + ("" if any(settings.augmentation.values()) else
                  " (the sidebar's Augmentation is off, so a standard one)")
               + ". They train in the background, beside the sidebar's network (which they "
               "do not change), and are then measured as above on the same test digits.")
    comparison: Comparison | None = st.session_state.get(KEY)
    running = comparison is not None and comparison.state == RUNNING
    if running:
        st.button("Cancel the twins", key="robustness_twins_cancel",
                  on_click=comparison.cancel)  # type: ignore[union-attr]
    else:
        again = comparison is not None
        st.button("Train them again" if again else "Train the twins", type="primary",
                  key="robustness_twins_start", on_click=_start, args=(session, digits, seed))

    def body() -> None:
        if comparison is None:
            return
        if comparison.state == RUNNING:
            fraction, where = comparison.progress()
            st.progress(fraction, text=f"Twins: {where}")
            return
        if running:  # it ended since the buttons were drawn: draw them anew
            st.rerun()
        _results(comparison, settings)

    st.fragment(body, run_every=REFRESH_SECONDS if running else None)()


def _results(comparison: Comparison, settings) -> None:
    if comparison.key != as_dict(settings):
        st.info("These twins were trained for other settings than the sidebar's now; train "
                "them again to compare the current ones.")
    if comparison.state != DONE:
        st.warning(f"The twins were stopped before they were done"
                   f"{': ' + comparison.error if comparison.error else ''}.")
        return
    plain, augmented = comparison.twins
    for twin in comparison.twins:
        if twin.problem:
            st.warning(f"The twin {twin.label}: {twin.problem}")
    if plain.result is None or augmented.result is None:
        return
    st.plotly_chart(twins_figure(plain.result, augmented.result, (plain.label,
                                                                   augmented.label)),
                    key="robustness_twins_curves")
    lines = [f"**{t.label}**: {t.steps:,} steps in {t.seconds:.1f} s of training"
             + (f" (stopped at the {MAX_SECONDS:.0f} s limit)" if t.steps < BUDGET_STEPS
                else "") + f", {t.test_accuracy:.1%} on the unperturbed digits"
             for t in comparison.twins]
    st.caption(" · ".join(lines) + ". The shift panel gives the mean of the horizontal and "
               "vertical shifts by each distance. Augmentation shows the network shifted, "
               "turned and resized digits while it learns, so it has seen such changes: "
               "compare the two curves where the digits move or turn.")
