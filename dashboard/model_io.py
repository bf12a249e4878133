"""An uploaded model file, checked: the network in it and the settings that describe it.

Pure (no Streamlit): the sidebar's model panel calls :func:`read_model`. A file that
cannot be used is refused with a one-line :class:`ModelFileError`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mnist_np import MLP, ModelFileError, TrainConfig, Trainer
from mnist_np.checkpoint import load_training
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


@dataclass
class Upload:
    """A checked model file: its network, the settings that describe it, the trainer to
    go on with (None when the file has none that fits here) and a one-line note when
    something could not be restored."""

    net: MLP
    settings: Settings
    trainer: Trainer | None
    note: str | None


def settings_for_training(net: MLP, config: TrainConfig, base: Settings) -> Settings:
    """The dashboard settings of ``net`` trained with ``config``; raise ModelFileError
    when a training setting is beyond what the sidebar offers."""
    s = replace(settings_for_model(net, base), optimizer=config.optimizer, lr=config.lr,
                batch_size=config.batch_size, epochs=config.epochs, steps=config.steps,
                schedule=config.schedule, train_limit=config.train_limit,
                **{f: getattr(config, f) for f in (*cfg.TRAINING_FIELDS, *cfg.AUG_FIELDS)})
    again, problems = cfg.from_query(cfg.to_query(s))  # the URL's checks and limits
    if problems or again != s:
        raise ModelFileError(f"its training settings are beyond this dashboard's: "
                             f"{problems[0] if problems else 'they do not round-trip'}")
    return s


def read_model(raw: bytes, base: Settings, X: np.ndarray, y: np.ndarray,
               data_source: str) -> Upload:
    """The network in an uploaded file, how it was trained when the file says so (its
    trainer rebuilt on ``X, y`` to go on exactly where it stopped), and the settings
    that describe it (from ``base`` where the file says nothing); raise ModelFileError
    with a one-line message.

    The file's every field is checked by type and size, cheapest first, and at most a
    few dozen characters of it are repeated; nothing here touches the session, so a
    refused file leaves the current network as it was."""
    try:
        found = load_training(raw, X, y, data_source, max_bytes=MAX_MODEL_BYTES)
        if found.config is None:
            return Upload(found.net, settings_for_model(found.net, base), None, found.note)
        try:
            settings = settings_for_training(found.net, found.config, base)
        except ModelFileError as e:
            return Upload(found.net, settings_for_model(found.net, base), None,
                          f"The network was loaded, but not how it was trained: {e}.")
        return Upload(found.net, settings, found.trainer, found.note)
    except ModelFileError:
        raise
    except Exception as e:  # a check missed: still one line, no traceback for the page
        raise ModelFileError(f"the model cannot be used here ({type(e).__name__})") from None
