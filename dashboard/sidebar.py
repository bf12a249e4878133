"""The sidebar every page shares: which data, Play / Pause / Step / Reset with live
progress, the preset picker, every setting, and the model file panel.

Changing the architecture (or anything but the learning rate, batch size and stopping
rule) resets the network and says so; those three apply to the running one.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from mnist_np import ACTIVATIONS, INITS, OPTIMIZERS, PRESETS, ModelFileError
from mnist_np.augment import ELASTIC_SIGMA
from mnist_np.augment import LIMITS as AUG_LIMITS
from mnist_np.training import SCHEDULES

from . import settings as cfg
from . import widgets as w
from .data import data_badge, get_dataset
from .markdown import plain
from .model_io import read_model
from .page import (
    clear_url_warnings,
    get_session,
    keep_workspace,
    live_fragment,
    query_lists,
    say,
)
from .session import DIVERGED, FINISHED, PAUSED, READY, RUNNING, STALLED, TrainingSession

STATE_LABELS = {READY: "⏹ ready (not trained yet)", RUNNING: "▶ training", PAUSED: "⏸ paused",
                FINISHED: "✅ finished", DIVERGED: "💥 diverged", STALLED: "🧊 stalled"}
UPLOAD_KEY = "model_upload"
UPLOAD_ERROR_KEY = "model_upload_error"


def sidebar() -> TrainingSession:
    """Draw the sidebar, first applying what the user changed in it since the last run."""
    session = get_session()
    _apply_widgets(session)
    with st.sidebar:
        _controls(session)  # first, so Play is in view under the page list at 1280x720
        data_badge(session.data)
        _settings()
        _model_file(session)
        keep_workspace(session)
    return session


def _apply_widgets(session: TrainingSession) -> None:
    shown = session.next_settings or session.settings
    w.restore_missing_widgets(shown)
    new, fixed = cfg.consistent(w.settings_from_widgets())
    if fixed:
        say(fixed[0].upper() + fixed[1:] + ".")
    if new.dataset != session.settings.dataset:
        new = _switch_data(session, new)
    # compared as plain values: a reloaded module (while developing) makes a new class
    if cfg.as_dict(new) != cfg.as_dict(shown):
        clear_url_warnings()
        if session.ended:
            session.plan_next(new)  # never relabel the run that ended
        elif new.needs_reset(session.settings):
            session.reset(new)
            say("Settings changed the network, so it was reset (the previous run is kept "
                "on the Experiments page).")
        else:
            session.apply_live(new)
    # Told on every full run, the browser never keeps a value of its own: a run cut short
    # by a click (Play right after the page opened) leaves widgets it never drew, which
    # the browser then mounts at their defaults and sends back on the next run, as if the
    # user had set 0 hidden layers, 1 epoch, ... (that silently rebuilt the network).
    w.settings_to_widgets(session.next_settings or session.settings)
    # The URL describes the network on screen, not settings planned for the next run.
    query = cfg.to_query(session.settings)
    if query_lists() != {key: [value] for key, value in query.items()}:
        st.query_params.from_dict(query)
    w.show_preset(session.next_settings or session.settings)


def _switch_data(session: TrainingSession, new: cfg.Settings) -> cfg.Settings:
    """Train on the data set ``new`` names, from fresh weights; when it cannot be had,
    say so in one line and stay on the current one. Returns the settings now in use."""
    data, problem = get_dataset(new.dataset)
    if data is None:
        say(f"{problem}. Staying on {session.data.title}.")  # names the set and why
        return replace(new, dataset=session.settings.dataset)
    clear_url_warnings()
    session.use_data(data, new)
    say(f"Now on {data.title}: a fresh network learns its classes ({', '.join(data.classes)}). "
        "The previous run is kept on the Experiments page.")
    return new


# -- Play / Pause / Step / Reset --------------------------------------------------------
def _on_reset() -> None:
    st.session_state.session.reset()
    say("The network was reset to fresh random weights.")


def _controls(session: TrainingSession) -> None:
    play, step, reset = st.columns([1.4, 1, 1])  # room for "⏸ Pause" in a narrow sidebar
    ended = session.ended and session.next_settings is None
    if session.running:
        play.button("⏸ Pause", key="pause", on_click=session.pause, width="stretch")
    else:
        play.button("▶ Play", key="play", on_click=session.play, width="stretch",
                    disabled=ended, type="primary")
    step.button("Step", key="step", on_click=session.step, width="stretch", disabled=ended,
                help="Train one mini-batch")
    reset.button("Reset", key="reset", on_click=_on_reset, width="stretch",
                 help="Fresh random weights (same settings)")
    live_fragment(session, _status)()
    if session.next_settings is not None:
        st.info("The run has ended, so these settings are for the next run: ▶ Play starts "
                "it from fresh weights (the ended run stays on the Experiments page).")


def _status(session: TrainingSession) -> None:
    p = session.progress()
    if p.planned_steps:
        where = f"step {p.step:,} of {p.planned_steps:,}"
    elif p.planned_epochs == 0:
        where = f"epoch {p.completed_epochs + 1} (until you pause) · step {p.step:,}"
    else:
        # a finished run is at its last epoch (an early stop's too), not the next one
        epoch = min(p.completed_epochs + (p.state != FINISHED), p.planned_epochs)
        where = f"epoch {epoch} of {p.planned_epochs} · step {p.step:,}"
    label = STATE_LABELS[p.state]
    if p.state == READY and session.network_source:
        label = f"⏹ ready · {plain(session.network_source)}"
    st.progress(p.fraction, text=f"{label} · {where}")
    if p.state == STALLED:
        st.caption("🧊 Training stopped: the outputs are pinned at the wrong end and can no "
                   "longer learn. Why, and what to change, is at the top of the page.")
    if p.state == FINISHED and p.ending:
        st.caption(p.ending)  # how it ended: its epochs, early stopping or the target
    if p.samples_per_second:
        st.caption(f"{p.samples_per_second:,.0f} samples/s")
    if note := sharing_note(p.sharing, p.cores):  # the speed above is this network's own
        st.caption(note)


def sharing_note(others: int, cores: int) -> str:
    """What the sidebar says when ``others`` other networks train on the server's
    ``cores`` trainer threads: nothing while each has a core of its own."""
    if others + 1 <= cores:
        return ""
    return (f"Taking turns: sharing {cores} core{'s' * (cores > 1)} with {others} other "
            f"network{'s' * (others > 1)} in training")


# -- settings ---------------------------------------------------------------------------
def _settings() -> None:
    state = st.session_state
    sets = cfg.data_sets()
    st.selectbox("Data set", list(sets), key=w.DATASET_KEY, format_func=sets.__getitem__,
                 help="What the network learns to tell apart: MNIST's handwritten digits, "
                 "Fashion-MNIST's clothes (T-shirt, trouser, ..., ankle boot) or "
                 "Kuzushiji-MNIST's cursive hiragana, all 28x28 grey images of 10 classes. "
                 "Another set starts a fresh network; it is downloaded once (checked against "
                 "its published checksums) or, offline, not available.")
    st.selectbox("Preset", [*PRESETS, w.CUSTOM], key=w.PRESET_KEY, on_change=w.apply_preset,
                 help="\n\n".join([*(f"**{p.name}**: {p.description}" for p in PRESETS.values()),
                                   f"**{w.CUSTOM}**: shown when the settings below match no "
                                   "preset; change them to get it."]))
    with st.expander("Network", expanded=True):
        st.slider("Hidden layers", 0, cfg.MAX_HIDDEN_LAYERS, key="cfg_n_hidden")
        for i in range(state.cfg_n_hidden):
            state.setdefault(w.units_key(i), w.DEFAULT_UNITS)
            st.number_input(f"Units in hidden layer {i + 1} (1-{cfg.MAX_UNITS:,})", 1,
                            cfg.MAX_UNITS, step=1, key=w.units_key(i))
        st.selectbox("Activation", list(ACTIVATIONS), key="cfg_activation")
        st.selectbox("Output + loss", cfg.OUTPUT_LOSS_NAMES, key="cfg_output_loss")
        st.selectbox("Initialisation", list(INITS), key="cfg_init",
                     help="**he**: N(0, 2/n_in) weights (for ReLU); **xavier**: Glorot "
                     "uniform (for sigmoid and tanh); **uniform**: the seed notebook's U[-1, 1) "
                     "weights and biases; **normal**: N(0, 1) weights and biases, as in "
                     "Nielsen's book (chapter 1), whatever the layer's width. Biases are 0 "
                     "for he and xavier.")
        _grid_slider("L2 weight decay", w.L2_GRID, "cfg_l2")
        st.number_input("Random seed", 0, cfg.MAX_SEED, step=1, key="cfg_seed")
    with st.expander("Training", expanded=True):
        st.selectbox("Optimizer", list(OPTIMIZERS), key="cfg_optimizer")
        _grid_slider("Learning rate (log scale)", w.LR_GRID, "cfg_lr",
                     help="Applies to the running network.")
        st.selectbox("Learning-rate schedule", list(SCHEDULES), key="cfg_schedule")
        _grid_slider("Batch size", w.BATCH_GRID, "cfg_batch_size",
                     help="Applies to the running network.")
        st.number_input(f"Epochs (0: until you pause; at most {cfg.MAX_EPOCHS})", 0,
                        cfg.MAX_EPOCHS, step=1, key="cfg_epochs")
        st.number_input(f"Stop after steps (0: use epochs; at most {cfg.MAX_STEPS:,})", 0,
                        cfg.MAX_STEPS, step=100, key="cfg_steps")
        _grid_slider("Training images", w.TRAIN_GRID, "cfg_train_limit",
                     format_func=lambda v: "all" if v is None else f"{v:,}")
    _augmentation()
    _dropout_and_stopping()
    _optimizer_details()


def _g(v: float) -> str:
    return f"{v:g}"


def _grid_slider(label: str, grid, key: str, format_func=_g, **kwargs) -> None:
    """A select slider over ``grid``, with the value already in ``st.session_state[key]``
    added (a URL or preset may hold a value off the grid)."""
    st.select_slider(label, w.with_value(grid, st.session_state[key]), key=key,
                     format_func=format_func, **kwargs)


def _dropout_and_stopping() -> None:
    """Dropout, early stopping, a target accuracy and the validation split, folded away."""
    with st.expander("Dropout and early stopping"):
        _grid_slider("Dropout (each hidden unit, per step)", w.DROPOUT_GRID, "cfg_dropout",
                     format_func=lambda v: "off" if v == 0 else f"{v:g}",
                     help="Inverted dropout: at every training step each hidden unit is "
                     "switched off with this probability and the others are scaled by "
                     "1/(1 - p), so validation, test and every page use all units as "
                     "they are. Changing it resets the network.")
        st.number_input(f"Early stopping: patience in epochs (0: off; at most "
                        f"{cfg.MAX_PATIENCE})", 0, cfg.MAX_PATIENCE, step=1,
                        key="cfg_patience",
                        help="Stop when validation accuracy has not improved for this many "
                        "epochs, and put back the weights of the best epoch.")
        st.number_input("Stop at validation accuracy (%; 0: off)", 0.0, 100.0, step=0.1,
                        key="cfg_target", format="%.2f",
                        help="Stop after the first epoch whose validation accuracy reaches it.")
        _grid_slider("Validation images (held out of training)", w.VAL_GRID, "cfg_val_size",
                     format_func=lambda v: f"{v:,}",
                     help="Taken from the training set before training; at most a fifth "
                     "of it. Early stopping and the target need some.")


def _optimizer_details() -> None:
    """Momentum's μ and Adam's β₁, β₂, ε: for reproducing published set-ups."""
    with st.expander("Optimizer details (μ, β₁, β₂, ε)"):
        _grid_slider("Momentum μ (momentum only)", w.MOMENTUM_GRID, "cfg_momentum",
                     help="The classic form: v ← μv − η·g, then w ← w + v, with η the "
                     "learning rate of this step. PyTorch's SGD keeps v ← μv + g and "
                     "steps w ← w − η·v: the same while η is constant, but with a "
                     "decaying schedule a change of η rescales its whole velocity, here "
                     "only the new gradients.")
        _grid_slider("Adam β₁ (adam only)", w.BETA1_GRID, "cfg_beta1",
                     help="How long Adam remembers the gradient (its running mean).")
        _grid_slider("Adam β₂ (adam only)", w.BETA2_GRID, "cfg_beta2",
                     help="How long Adam remembers the squared gradient (its scale).")
        _grid_slider("Adam ε (adam only)", w.EPS_GRID, "cfg_eps",
                     help="Added to the root of the squared-gradient average: larger "
                     "values damp the steps of weights with tiny gradients.")


def _augmentation() -> None:
    """Augmentation's sliders, folded away: most runs train without it."""
    lim = AUG_LIMITS
    with st.expander("Augmentation (while training)"):
        st.caption("Every training batch is distorted afresh by random amounts up to these "
                   "(0: off); validation and test digits never are. Changing them resets "
                   "the network.")
        st.slider("Shift (± pixels)", 0.0, lim["shift"], step=0.5, key="cfg_aug_shift")
        st.slider("Rotation (± degrees)", 0.0, lim["rotate"], step=1.0, key="cfg_aug_rotate")
        st.slider("Scale (± fraction)", 0.0, lim["scale"], step=0.05, key="cfg_aug_scale")
        st.slider("Elastic distortion α", 0.0, lim["elastic"], step=1.0, key="cfg_aug_elastic",
                  help="Simard et al. (2003): each pixel moves by a random displacement "
                       f"field smoothed by a Gaussian of σ = {ELASTIC_SIGMA:g} pixels, times "
                       "α; they used α = 34.")
        st.slider("Pixel noise (standard deviation)", 0.0, lim["noise"], step=0.05,
                  key="cfg_aug_noise")


# -- model file -------------------------------------------------------------------------
def _short(name: str, limit: int = 80) -> str:
    """A file name as the user gave it, cut when long (a name can be kilobytes)."""
    return name if len(name) <= limit else f"{name[:limit]}… ({len(name):,} characters)"


def _on_upload() -> None:
    """Runs before the script, so the sidebar's widgets can still be set."""
    state = st.session_state
    state.pop(UPLOAD_ERROR_KEY, None)
    file = state.get(UPLOAD_KEY)
    if file is None:
        return
    session: TrainingSession = state.session
    name, data = _short(file.name), session.data
    try:
        found = read_model(file.getvalue(), session.settings, data.X_train, data.y_train,
                           data.source)
    except ModelFileError as e:
        state[UPLOAD_ERROR_KEY] = f"{name} was refused: {e}. The current network is kept."
        return
    session.load_network(found.net, found.settings, file_name=name, trainer=found.trainer)
    w.settings_to_widgets(found.settings)
    clear_url_warnings()
    trained = (f", trained {found.trainer.step_count:,} steps (its curves and settings are "
               "back, and ▶ Play goes on where it stopped)" if found.trainer else "")
    say(f"Loaded {name}: {found.settings.describe()}{trained}. Every page now shows this "
        f"network.{' ' + found.note if found.note else ''}")


def _model_file(session: TrainingSession) -> None:
    """Download the current network, upload one."""
    with st.expander("Model file (.npz)"):
        st.download_button(
            "Download this network", data=session.training_file,
            file_name=f"mnist_np-{'-'.join(map(str, session.settings.layer_sizes))}.npz",
            mime="application/octet-stream", key="model_download", on_click="ignore",
            width="stretch", help="Its weights and how it was trained (settings, curves, "
            "optimizer state), in one .npz file; uploaded again, training goes on exactly "
            "where it stopped.")
        st.file_uploader("Upload a network saved by mnist_np", type=["npz"], key=UPLOAD_KEY,
                         on_change=_on_upload,
                         help="It replaces the current network on every page.")
        if UPLOAD_ERROR_KEY in st.session_state:
            st.error(plain(st.session_state[UPLOAD_ERROR_KEY]))  # names the user's file
