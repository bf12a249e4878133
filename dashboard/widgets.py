"""The sidebar's widgets and the settings they show, kept in step both ways.

Every setting has a widget key (``cfg_lr`` ...). :func:`settings_to_widgets` sets the
widgets from a :class:`Settings` (on start, for a preset, for an uploaded model);
:func:`settings_from_widgets` reads them back. The option grids of the select sliders
live here too, with :func:`with_value` to show a value from a URL that is not on them.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from mnist_np import PRESETS

from . import settings as cfg
from .settings import Settings

PRESET_KEY = "cfg_preset"
DATASET_KEY = "cfg_dataset"
CUSTOM = "custom"  # the preset picker's entry when the settings match no preset
DEFAULT_UNITS = 64  # a hidden layer added with the slider starts with this many units
LR_GRID = sorted({m * 10.0**e for e in range(-5, 1) for m in (1, 2, 3, 5)} | {7e-3, 10.0})
BATCH_GRID = [1, 2, 4, 8, 16, 32, 64, 100, 128, 256, 512, 1024, 2048]
L2_GRID = [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
TRAIN_GRID: list[int | None] = [cfg.MIN_TRAIN, 500, 1000, 2000, 5000, 10_000, 20_000,
                                30_000, None]
DROPOUT_GRID = [0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
VAL_GRID = [0, 1000, 2000, 5000, 10_000, cfg.MAX_VAL]
MOMENTUM_GRID = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99]
BETA1_GRID = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99]
BETA2_GRID = [0.9, 0.99, 0.995, 0.999, 0.9999]
EPS_GRID = [1e-10, 1e-8, 1e-7, 1e-6, 1e-4, 1e-3, 1e-2, 0.1, 1.0]


def units_key(layer: int) -> str:
    return f"cfg_units_{layer}"


def widget_values(s: Settings) -> dict:
    """The sidebar widgets' values (by key) that show ``s``."""
    values: dict = {units_key(i): units for i, units in enumerate(s.hidden)}
    values |= {
        "cfg_n_hidden": len(s.hidden), "cfg_activation": s.activation,
        "cfg_output_loss": s.output_loss, "cfg_init": s.init, "cfg_optimizer": s.optimizer,
        "cfg_lr": s.lr, "cfg_batch_size": s.batch_size, "cfg_epochs": s.epochs,
        "cfg_steps": s.steps or 0, "cfg_schedule": s.schedule, "cfg_l2": s.l2,
        "cfg_train_limit": s.train_limit, "cfg_seed": s.seed, DATASET_KEY: s.dataset,
    }
    values |= {f"cfg_{f}": float(getattr(s, f)) for f in cfg.AUG_FIELDS}
    values |= {"cfg_dropout": s.dropout, "cfg_patience": s.patience or 0,
               # the target in percent: 98.5 on screen is 0.985 here, both ways exactly
               "cfg_target": round((s.target_accuracy or 0.0) * 100, 6),
               "cfg_val_size": s.val_size, "cfg_momentum": s.momentum, "cfg_beta1": s.beta1,
               "cfg_beta2": s.beta2, "cfg_eps": s.eps}
    return values


def settings_to_widgets(s: Settings) -> None:
    """Show ``s`` in the sidebar's widgets."""
    st.session_state.update(widget_values(s))


def restore_missing_widgets(s: Settings) -> None:
    """Streamlit drops a widget's state when a run ends without drawing it (a page
    switch can interrupt a run early); a dropped sidebar widget would come back at its
    default and silently rebuild the network. Put back what is missing from ``s``."""
    for key, value in widget_values(s).items():
        if key not in st.session_state:
            st.session_state[key] = value


def settings_from_widgets() -> Settings:
    """The settings the sidebar's widgets show."""
    state = st.session_state
    n = state.cfg_n_hidden
    return Settings(
        hidden=tuple(int(state.get(units_key(i), DEFAULT_UNITS)) for i in range(n)),
        activation=state.cfg_activation, output_loss=state.cfg_output_loss,
        init=state.cfg_init, optimizer=state.cfg_optimizer, lr=float(state.cfg_lr),
        batch_size=int(state.cfg_batch_size), epochs=int(state.cfg_epochs),
        steps=int(state.cfg_steps) or None, schedule=state.cfg_schedule,
        l2=float(state.cfg_l2), train_limit=state.cfg_train_limit, seed=int(state.cfg_seed),
        dataset=state.get(DATASET_KEY, Settings.dataset),
        **{f: float(state[f"cfg_{f}"]) for f in cfg.AUG_FIELDS},
        dropout=float(state.cfg_dropout), patience=int(state.cfg_patience) or None,
        target_accuracy=round(float(state.cfg_target) / 100, 8) or None,
        val_size=int(state.cfg_val_size), momentum=float(state.cfg_momentum),
        beta1=float(state.cfg_beta1), beta2=float(state.cfg_beta2), eps=float(state.cfg_eps),
    )


def apply_preset() -> None:
    """The preset picker's callback: show the chosen preset's settings."""
    name = st.session_state[PRESET_KEY]
    if name in PRESETS:  # on the data set in use: a preset says nothing of the data
        settings_to_widgets(replace(cfg.from_preset(name),
                                    dataset=st.session_state.get(DATASET_KEY, "mnist")))


def load_preset(name: str) -> None:
    """Pick preset ``name`` as if chosen in the sidebar (from a callback, before the
    sidebar is drawn): the next run rebuilds the network from it."""
    st.session_state[PRESET_KEY] = name
    apply_preset()


def show_preset(settings: Settings) -> None:
    """Set the preset picker to the preset ``settings`` equal, or to custom."""
    st.session_state[PRESET_KEY] = cfg.matching_preset(settings) or CUSTOM


def with_value(grid: list, value) -> list:
    """``grid`` plus ``value`` (from a URL or preset), so a select slider can show it."""
    if value in grid:
        return grid
    return sorted([*grid, value], key=lambda v: float("inf") if v is None else v)
