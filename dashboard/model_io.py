"""Models in and out: download the current network as ``.npz``, upload one to inspect.

The checks are pure functions (:func:`read_model`); :func:`model_io_panel` is the
sidebar's small panel around them. An uploaded file that cannot be used is refused with
a one-line message and the current network stays; one that can replaces the network on
every page, and the sidebar's settings follow it.
"""

from __future__ import annotations

import io
import weakref
from dataclasses import replace

import streamlit as st

from mnist_np import MLP, ModelFileError

from . import settings as cfg
from .session import TrainingSession
from .settings import Settings

UPLOAD_KEY = "model_upload"
ERROR_KEY = "model_upload_error"
LOADED_KEY = "model_uploaded"
# The biggest network the sidebar allows (4 x 1,024 units) is 16 MB in float32, 32 MB in
# float64: nothing an upload unpacks to, or describes, may take more than this.
MAX_MODEL_BYTES = 64 * 2**20


def settings_for_model(net: MLP, base: Settings) -> Settings:
    """``base`` with the network fields taken from ``net``; raise ModelFileError when the
    dashboard cannot use the network (not 784 in and 10 out, or beyond its limits)."""
    sizes = net.layer_sizes
    if sizes[0] != cfg.N_INPUTS or sizes[-1] != cfg.N_CLASSES:
        raise ModelFileError(f"the model takes {sizes[0]} inputs and gives {sizes[-1]} outputs;"
                             f" MNIST needs {cfg.N_INPUTS} and {cfg.N_CLASSES}")
    hidden = tuple(sizes[1:-1])
    if len(hidden) > cfg.MAX_HIDDEN_LAYERS:
        raise ModelFileError(f"the model has {len(hidden)} hidden layers; the dashboard "
                             f"allows at most {cfg.MAX_HIDDEN_LAYERS}")
    if any(units > cfg.MAX_UNITS for units in hidden):
        raise ModelFileError(f"the model's hidden layers {list(hidden)} exceed the dashboard's "
                             f"limit of {cfg.MAX_UNITS} units per layer")
    output_loss = f"{net.output_name}+{net.loss_name}"
    if output_loss not in cfg.OUTPUT_LOSS_NAMES:
        raise ModelFileError(f"the model's output and loss {output_loss!r} are not offered here")
    if net.l2 > cfg.MAX_L2:
        raise ModelFileError(f"the model's L2 of {net.l2:g} exceeds the limit of {cfg.MAX_L2:g}")
    if not 0 <= net.seed <= cfg.MAX_SEED:
        raise ModelFileError(f"the model's seed {net.seed} is outside 0..{cfg.MAX_SEED}")
    return replace(base, hidden=hidden, activation=net.activation, output_loss=output_loss,
                   init=net.init, l2=net.l2, seed=net.seed)


def read_model(raw: bytes, base: Settings) -> tuple[MLP, Settings]:
    """The network in an uploaded file and the settings that describe it (training
    settings from ``base``); raise ModelFileError with a one-line message."""
    net = MLP.load(io.BytesIO(raw), max_bytes=MAX_MODEL_BYTES)
    return net, settings_for_model(net, base)


def _on_upload() -> None:
    """Runs before the script, so the sidebar's widgets can still be set."""
    from .ui import _settings_to_widgets  # here, not at the top: ui imports this module

    state = st.session_state
    state.pop(ERROR_KEY, None)
    upload = state.get(UPLOAD_KEY)
    if upload is None:
        return
    session: TrainingSession = state.session
    try:
        net, settings = read_model(upload.getvalue(), session.settings)
    except ModelFileError as e:
        state[ERROR_KEY] = f"{upload.name} was refused: {e}. The current network is kept."
        return
    session.load_network(net, settings, source=f"{upload.name} (uploaded)")
    state[LOADED_KEY] = (upload.name, weakref.ref(session.trainer))
    _settings_to_widgets(settings)
    state.query_warnings = []  # about the URL the app was opened with: no longer current
    state.notice = (f"Loaded {upload.name}: {settings.describe()}. Every page now shows this "
                    "network; ▶ Play trains it further with the sidebar's settings.")


def uploaded_from(session: TrainingSession) -> str | None:
    """The name of the file the current network was uploaded from, if it was (and has
    not been reset since)."""
    loaded = st.session_state.get(LOADED_KEY)
    if loaded is not None and loaded[1]() is session.trainer:
        return loaded[0]
    return None


def model_io_panel(session: TrainingSession) -> None:
    """Sidebar panel: download the current network, upload one."""
    with st.expander("Model file (.npz)"):
        st.download_button(
            "Download this network", data=lambda: session.network_copy()[0].to_bytes(),
            file_name=f"mnist_np-{'-'.join(map(str, session.settings.layer_sizes))}.npz",
            mime="application/octet-stream", key="model_download", on_click="ignore",
            width="stretch", help="Its weights, biases and configuration, in one .npz file.")
        st.file_uploader("Upload a network saved by mnist_np", type=["npz"], key=UPLOAD_KEY,
                         on_change=_on_upload,
                         help="It replaces the current network on every page.")
        if ERROR_KEY in st.session_state:
            st.error(st.session_state[ERROR_KEY])
