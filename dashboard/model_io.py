"""An uploaded model file, checked: the network in it and the settings that describe it.

Pure (no Streamlit): the sidebar's model panel calls :func:`read_model`. A file that
cannot be used is refused with a one-line :class:`ModelFileError`.
"""

from __future__ import annotations

import io
from dataclasses import replace

from mnist_np import MLP, ModelFileError
from mnist_np.data import N_CLASSES, N_INPUTS

from . import settings as cfg
from .settings import Settings

# The biggest network the sidebar allows (4 x 1,024 units) is 16 MB in float32, 32 MB in
# float64: nothing an upload unpacks to, or describes, may take more than this.
MAX_MODEL_BYTES = 64 * 2**20


def settings_for_model(net: MLP, base: Settings) -> Settings:
    """``base`` with the network fields taken from ``net``; raise ModelFileError when the
    dashboard cannot use the network (not 784 in and 10 out, or beyond its limits)."""
    sizes = net.layer_sizes
    if sizes[0] != N_INPUTS or sizes[-1] != N_CLASSES:
        raise ModelFileError(f"the model takes {sizes[0]} inputs and gives {sizes[-1]} outputs;"
                             f" MNIST needs {N_INPUTS} and {N_CLASSES}")
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
    settings from ``base``); raise ModelFileError with a one-line message.

    ``MLP.load`` checks every field of the file by type and size, cheapest first, and
    repeats at most a few dozen characters of it; nothing here touches the session, so a
    refused file leaves the current network as it was."""
    net = MLP.load(io.BytesIO(raw), max_bytes=MAX_MODEL_BYTES)
    try:
        return net, settings_for_model(net, base)
    except ModelFileError:
        raise
    except Exception as e:  # a check missed: still one line, no traceback for the page
        raise ModelFileError(f"the model cannot be used here ({type(e).__name__})") from None
