"""What it learned: how accuracy holds up when test digits get noisier, shifted or
turned, and one perturbed digit with the network's answer."""

import numpy as np
import streamlit as st

from dashboard.figures.images import gallery_figure
from dashboard.figures.robustness import answer_figure, robustness_figure
from dashboard.live import digit_subset
from dashboard.page import (
    cached_view,
    figure_for,
    freshness_caption,
    live_fragment,
    not_trained_note,
    page_header,
    page_session,
)
from dashboard.sections.twins import augmentation_twins
from mnist_np.perturb import perturb, sweep

DIGITS = 1000        # test digits in the sweep
LIVE_SECONDS = 5.0   # while training runs, the curves are recomputed at most this often
NOISE_SEED = 0       # the same noise for every network, so their curves compare

session = page_session()
page_header("Robustness", session)
st.caption("The network only ever saw clean, centred, upright digits. How does its "
           "accuracy hold up when the test digits get noisier, move a few pixels or turn? "
           f"Measured on {DIGITS:,} test digits, perturbed on the fly.")


def draw(session):
    net, version = session.network_copy()
    data = session.data
    idx = digit_subset(len(data.X_test), DIGITS)
    X, y = data.X_test[idx], data.y_test[idx]
    view = cached_view(session, "robustness_cache", "sweep", version,
                       lambda: sweep(net, X, y, seed=NOISE_SEED), every=LIVE_SECONDS,
                       what="curves", max_entries=2, background=True)
    if view is None:
        return
    result, at_step = view
    not_trained_note(session, "This network is freshly initialised and not trained yet, so it is "
                     "near chance (10%) whatever the perturbation. Press ▶ Play and watch the "
                     "curves rise.")
    freshness_caption(session, at_step, LIVE_SECONDS)
    curves = st.container()

    st.subheader("One digit, perturbed")
    controls, images, answer = st.columns([1, 1, 1.3])
    n = len(data.y_test)  # any test digit, numbered as on every other page
    i = controls.number_input(f"Test digit (0 to {n - 1:,})", 0, n - 1, 0,
                              key="robustness_digit")
    sigma = controls.slider("Noise (standard deviation)", 0.0, 1.0, 0.0, 0.05,
                            key="robustness_sigma")
    dx = controls.slider("Shift right (pixels)", -6, 6, 0, key="robustness_dx")
    dy = controls.slider("Shift down (pixels)", -6, 6, 0, key="robustness_dy")
    degrees = controls.slider("Rotate counterclockwise (degrees)", -90, 90, 0, 5,
                              key="robustness_degrees")
    x = data.X_test[i:i + 1]
    changed = perturb(x, degrees=degrees, dx=dx, dy=dy, sigma=sigma, seed=i)
    images.plotly_chart(gallery_figure([x[0], changed[0]], ["original", "perturbed"],
                                       tile_px=150), key="robustness_images", width="content")
    images.caption("Rotated first, then shifted, then noise added (its pattern is fixed "
                   "per digit).")
    with np.errstate(all="ignore"):  # a diverged network overflows; the page says so
        proba = net.predict_proba(changed)[0]
    answer.plotly_chart(answer_figure(proba, int(data.y_test[i]), classes=data.classes),
                        key="robustness_answer")

    with curves:
        st.plotly_chart(figure_for("robustness_figure", result, (sigma, dx, dy, degrees),
                                   lambda: robustness_figure(result, sigma=sigma, dx=dx,
                                                             dy=dy, degrees=degrees)),
                        key="robustness_curves")
        st.caption(f"Accuracy without any change: {result.plain:.1%} (dotted line); chance "
                   "is 10% (dashed). Red lines mark the amounts chosen below. A network of "
                   "fully connected layers has no built-in notion of \"the same shape, "
                   "moved\": each pixel has its own weights, so even a shift by a few "
                   "pixels can cost a lot of accuracy.")


live_fragment(session, draw, every=LIVE_SECONDS)()
augmentation_twins(session, DIGITS, NOISE_SEED)
