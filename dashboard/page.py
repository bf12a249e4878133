"""What every page does around its own content: get the user's session (made on the
first run from the URL's settings), draw the header with any one-off notice, redraw
live while training runs, and cache views of the live network.

A page reads top to bottom::

    session = page_session()
    page_header("Weights", session)
    ...widgets...
    live_fragment(session, draw)()
"""

from __future__ import annotations

import contextlib
import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import streamlit as st

from mnist_np import ModelFileError
from mnist_np.checkpoint import load_training
from mnist_np.training import Snapshot

from . import settings as cfg
from . import workspace
from .data import get_data, get_dataset
from .live import LiveCache
from .markdown import plain
from .runs import RunLog
from .session import DIVERGED, RUNNING, STALLED, TrainingSession
from .store import Store, StoreError
from .widgets import settings_to_widgets

REFRESH_SECONDS = 1.0
HEAVY_REFRESH_SECONDS = 3.0  # pages with heavy figures (see live_fragment)


# -- the user's session -----------------------------------------------------------------
def _session_alive_check() -> Callable[[], bool]:
    """A thread-safe test of whether this browser session is still open."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return lambda: True  # AppTest and bare mode: no server sessions to check
    session_id = ctx.session_id
    # AppTest installs a runtime only while a run executes: no runtime means no server.
    return lambda: not Runtime.exists() or bool(Runtime.instance().is_active_session(session_id))


def query_lists() -> dict[str, list[str]]:
    """The URL's parameters, each with every value it was given (``?lr=1&lr=2``)."""
    return {key: st.query_params.get_all(key) for key in st.query_params}


@st.cache_resource(show_spinner=False)
def get_store() -> tuple[Store | None, str | None]:
    """The run database, opened once per server process, or None and why not (the app
    then works as before, without keeping runs)."""
    try:
        return Store.from_environment(), None
    except StoreError as e:
        return None, str(e)


# Each workspace's live training session in this server process (weakly: a session goes
# when Streamlit drops its page session), so a reload can take it over: see get_session.
_LIVE: weakref.WeakValueDictionary[str, TrainingSession] = weakref.WeakValueDictionary()
_LIVE_LOCK = threading.Lock()


def _take_over(token: str, session: TrainingSession) -> None:
    """Make ``session`` the workspace's live one; the one it replaces (the same browser's
    page before a reload) stops and saves where it is first, so nothing is lost."""
    with _LIVE_LOCK:
        before = _LIVE.get(token)
        _LIVE[token] = session
    if before is not None and before is not session:
        before.hand_over()


def get_session() -> TrainingSession:
    """This user's training session, created on the first run: the browser's workspace
    (its runs, and its network where it was left) unless the URL asks for other
    settings, which then start a new network (the one left is kept as a run). A session
    released after its browser left (``TrainingSession.release``) is made again."""
    if "session" not in st.session_state or st.session_state.session.released:
        data = get_data()
        settings, warnings = cfg.from_query(query_lists())
        if settings.dataset != "mnist":  # ?data=fashion: that set, or MNIST and why not
            other, problem = get_dataset(settings.dataset)
            if other is None:
                warnings.append(f"data={settings.dataset} could not be used: {problem}; "
                                f"staying on {data.title}")
                settings = replace(settings, dataset="mnist")
            else:
                data = other
        store, _ = get_store()
        token, known = workspace.choose(workspace.cookie(),
                                        store.has_workspace if store else lambda _: False)
        sink = None
        if store is not None:
            store.touch(token)
            sink = functools.partial(store.save_current, token)
        st.session_state.workspace = token
        st.session_state.query_warnings = warnings
        session = TrainingSession(data, settings, _session_alive_check(),
                                  runs=RunLog(store, token), checkpoint=sink)
        _take_over(token, session)
        saved = store.load_current(token) if store is not None and known else None
        if saved is not None:
            _go_on(session, *saved)
            if query_lists() and settings != session.settings:
                session.reset(settings)  # a link with other settings: they win
        st.session_state.session = session
        settings_to_widgets(session.settings)
    return st.session_state.session


def _go_on(session: TrainingSession, settings: cfg.Settings, state: str, raw: bytes) -> None:
    """Restore the workspace's checkpoint; one that cannot be restored (other data, a
    file from another version) is said in one line, and the session starts afresh."""
    data = session.data
    if settings.dataset != session.settings.dataset:  # it was trained on another set
        other, problem = get_dataset(settings.dataset)
        if other is None:
            say(f"Your last network could not be restored: {problem}. This is a fresh one.")
            return
        data = other
    try:
        found = load_training(raw, data.X_train, data.y_train, data.source)
    except ModelFileError as e:
        say(f"Your last network could not be restored ({e}); this is a fresh one.")
        return
    if found.trainer is None:
        say(f"Your last network could not be restored: {found.note}")
        return
    session.restore(found.trainer, settings, state, data)
    if state == RUNNING:  # a reload or a restart stops the training thread: say so
        say(f"Training was running when this page was last open; it is paused at step "
            f"{found.trainer.step_count:,}. Press ▶ Play to go on.")


def keep_workspace(session: TrainingSession) -> None:
    """Have the browser remember its workspace (and say when runs or the network are not
    kept)."""
    store, problem = get_store()
    if store is None:
        st.caption(f"⚠️ Runs are not saved: {plain(problem or '')}")
        return
    if store.notice:
        st.caption(f"⚠️ {plain(store.notice)}")
    if session.checkpoint_error:
        st.caption(f"⚠️ {plain(session.checkpoint_error[0].upper() + session.checkpoint_error[1:])}"
                   "; a reload would go back to the last network saved.")
    workspace.remember(st.session_state.workspace, store.idle_seconds / 86400)


def _leave_pages_directory_mode() -> None:
    """The one place that touches a Streamlit internal. Streamlit runs a ``pages/``
    file on its own, as in its pre-``st.navigation`` layout, until the first
    ``st.navigation`` call of the process (a fresh server opened at a page's URL); see
    streamlit/streamlit#10276 ("a pages folder + MPAv2 ... directly access an URL path
    ... sometimes it completely switches back to MPAv1"). Leave that mode as
    ``st.navigation`` would, and rerun through the entry script."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def page_session() -> TrainingSession:
    """The session for a page (the entry script has drawn the sidebar already)."""
    _leave_pages_directory_mode()
    return get_session()


# -- one-off messages -------------------------------------------------------------------
@dataclass
class Notice:
    """A one-off message for the next page drawn ("the network was reset"). It stays
    when the app redraws the page by itself (a run that ended), and goes with the
    user's next action."""

    text: str | None = None    # to show on the next page drawn
    shown: str | None = None   # shown on the last page drawn
    redraw: bool = False       # the next run is the app's own redraw, not the user's

    def take(self) -> str | None:
        """The message for the page being drawn, if any."""
        text, self.text = self.text, None
        if text is None and self.redraw:
            text = self.shown
        self.redraw, self.shown = False, text
        return text


def notice() -> Notice:
    """This browser session's notice."""
    return st.session_state.setdefault("notice", Notice())


def say(text: str) -> None:
    """Show ``text`` once, at the top of the next page drawn (after anything said
    already for that page)."""
    n = notice()
    n.text = text if not n.text else f"{n.text} {text}"


def clear_url_warnings() -> None:
    """The URL's warnings were about the settings the app was opened with."""
    st.session_state.query_warnings = []


def page_header(title: str, session: TrainingSession) -> None:
    """The page title, and any one-off notice, URL warning or training error."""
    st.title(title)
    for warning in st.session_state.get("query_warnings", []):
        st.warning(f"URL: {plain(warning)}")  # they quote the URL's text
    text = notice().take()
    if text:
        st.info(plain(text))  # may name an uploaded file
    if session.error:
        st.error(plain(session.error))
    if session.state == DIVERGED:
        st.warning(f"💥 {session.trainer.message} Until you change the "
                   "settings or press Reset, the numbers here may be inf or NaN.")
    elif session.state == STALLED:
        st.warning(f"🧊 {plain(session.trainer.message)}")


def not_trained_note(session: TrainingSession, text: str) -> None:
    """``text`` (what this page shows of a fresh network) when it is untrained."""
    if session.untrained:
        st.info(text)


# -- live redraws -----------------------------------------------------------------------
def quiet_if_diverged(session: TrainingSession) -> contextlib.AbstractContextManager:
    """A diverged network's weights are huge: its forward passes overflow to inf/NaN,
    which the pages show as such, so that is no error there (NumPy's warnings off)."""
    if session.state == DIVERGED:
        return np.errstate(all="ignore")
    return contextlib.nullcontext()


def live_fragment(session: TrainingSession, draw: Callable[[TrainingSession], None],
                  every: float = REFRESH_SECONDS):
    """``draw(session)`` as a fragment that reruns every ``every`` seconds while training
    runs, and hands over to one full rerun when training stops by itself (so the controls
    and every page show the final state). Pages whose figures are heavy (100k-cell
    heatmaps, thousands of points) pass a longer interval: redrawn every second, they
    would keep the server busy and slow training down on a small machine."""
    was_running = session.running

    def body() -> None:
        with quiet_if_diverged(session):
            draw(session)
        if was_running and not session.running:
            notice().redraw = True  # not the user's doing: keep any notice
            st.rerun()

    body.__qualname__ = f"live_{getattr(draw, '__qualname__', 'draw')}"
    return st.fragment(body, run_every=every if was_running else None)


def cached_view(session: TrainingSession, name: str, key: Hashable, version: int,
                compute: Callable[[], Any], *, every: float, what: str,
                running: bool | None = None, max_entries: int = 6,
                background: bool = False) -> tuple[Any, int] | None:
    """``compute()``'s result for the network at ``version``, cached per network
    state (at most every ``every`` s while training runs), with the version it was
    computed on. A network that cannot be computed on (overflowing weights) gets a
    one-line warning naming ``what`` and None. With ``background``, a view shown
    before is handed back at once while training runs and recomputed off the script
    thread for the next live redraw (``LiveCache``): a page switch never waits for it;
    ``compute`` must then not call Streamlit, and must work on its own copy of the
    network (``session.network_copy()``)."""
    cache = st.session_state.setdefault(name, LiveCache(max_entries, every,
                                                        background=background))
    running = session.running if running is None else running
    try:
        value, at = cache.get(key, session.trainer, version, running,
                              lambda: (compute(), version))
    except ValueError as e:
        st.warning(f"No {what}: {e}. Reset the network (sidebar) to start again.")
        return None
    return value, at


def figure_for(name: str, source: object, key: Hashable, build: Callable[[], Any],
               keep: int = 4) -> Any:
    """``build()`` (a figure) for what it shows: ``source`` (a cached view, by identity)
    and ``key`` (the choices it depends on), kept in this browser session under ``name``
    for the last ``keep`` keys. A page switch or a live redraw that shows the same view
    reuses the figure instead of building it again (plotly's checks of every property
    cost tens to hundreds of milliseconds a figure)."""
    kept: OrderedDict = st.session_state.setdefault(name, OrderedDict())
    found = kept.get(key)
    if found is not None and found[0] is source:
        kept.move_to_end(key)
        return found[1]
    figure = build()
    kept[key] = (source, figure)
    kept.move_to_end(key)
    while len(kept) > keep:
        kept.popitem(last=False)
    return figure


def freshness_caption(session: TrainingSession, at_step: int, every: float) -> None:
    """Say which network a cached view shows, when that is not simply the current one."""
    if session.state == DIVERGED:
        st.caption("Drawn for the network as it was when training stopped.")
    elif session.running:
        st.caption(f"Redrawn at most every {every:.0f} s while training runs; this is the "
                   f"network at step {at_step:,}.")


def snapshot_label(snapshot: Snapshot) -> str:
    """A weight snapshot named by when it was taken."""
    if snapshot.step == 0:
        return "before training (step 0)"
    return f"after epoch {snapshot.epoch} (step {snapshot.step:,})"
