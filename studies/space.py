"""A study's search space: the hyperparameters it varies, written as on the command line
(``lr=log:1e-4..1``, ``hidden=64,128,256``, ``batch=32..256``), as Optuna distributions,
and a trial's values applied to the run's settings.

A value list is a categorical choice (the grid sampler needs those); ``LOW..HIGH`` is a
range, sampled uniformly, ``log:LOW..HIGH`` on a log scale. Every value and every end of a
range is checked as the URL's values are (``dashboard.settings.parse_field``), so a study
never trains what the sidebar would refuse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from dashboard import settings as cfg
from dashboard.settings import Settings

MAX_CHOICES = 12  # values of one categorical hyperparameter


@dataclass(frozen=True)
class Knob:
    """A hyperparameter a study can vary: its name on the command line, the field of
    :class:`Settings` it sets, its kind (``float``, ``int`` or ``choice``) and an example."""

    name: str
    field: str
    kind: str
    label: str
    example: str

    def value(self, text: str):
        """One value from its text, checked like the URL's; one-line ValueError."""
        text = text.strip()
        if self.field == "hidden":  # "128-64": two hidden layers (commas separate values)
            return "-".join(map(str, cfg.parse_field("hidden", text.replace("-", ","))))
        return cfg.parse_field(self.field, text)


KNOBS: dict[str, Knob] = {k.name: k for k in [
    Knob("lr", "lr", "float", "learning rate", "log:1e-3..1"),
    Knob("hidden", "hidden", "int", "hidden units (128-64: two layers)", "64,128,256"),
    Knob("batch", "batch_size", "int", "batch size", "32,128"),
    Knob("l2", "l2", "float", "L2 weight decay", "0,0.0001,0.001"),
    Knob("activation", "activation", "choice", "activation", "relu,tanh,sigmoid"),
    Knob("optimizer", "optimizer", "choice", "optimizer", "sgd,momentum,adam"),
    Knob("init", "init", "choice", "initialisation", "xavier,he"),
    Knob("schedule", "schedule", "choice", "learning-rate schedule", "constant,linear,cosine"),
]}


@dataclass(frozen=True)
class Param:
    """One hyperparameter of a space and its distribution."""

    knob: Knob
    distribution: BaseDistribution
    text: str  # as given, e.g. "log:1e-4..1"

    @property
    def choices(self) -> tuple | None:
        d = self.distribution
        return tuple(d.choices) if isinstance(d, CategoricalDistribution) else None


def parse_param(spec: str) -> Param:
    """``name=values`` (see the module's docstring); one-line ValueError."""
    name, sep, text = spec.partition("=")
    name, text = name.strip(), text.strip()
    if not sep or not name:
        raise ValueError(f"{spec!r}: write NAME=VALUES, e.g. lr=log:1e-4..1")
    if name not in KNOBS:
        raise ValueError(f"unknown hyperparameter {name!r}; choose from {', '.join(KNOBS)}")
    knob = KNOBS[name]
    if not text:
        raise ValueError(f"{name}: give values (e.g. {name}={knob.example})")
    log = text.startswith("log:")
    body = text[4:] if log else text
    if ".." in body:
        return Param(knob, _range(knob, body, log), f"{name}={text}")
    if log:
        raise ValueError(f"{name}: log: goes with a range, e.g. {name}=log:1e-4..1")
    values = [knob.value(v) for v in body.split(",") if v.strip()]
    values = list(dict.fromkeys(values))  # without repeats, in the given order
    if not values:
        raise ValueError(f"{name}: give at least one value")
    if len(values) > MAX_CHOICES:
        raise ValueError(f"{name}: at most {MAX_CHOICES} values, got {len(values)}")
    return Param(knob, CategoricalDistribution(values), f"{name}={text}")


def _range(knob: Knob, body: str, log: bool) -> BaseDistribution:
    if knob.kind == "choice" or (knob.field == "hidden" and "-" in body.replace("..", "")):
        raise ValueError(f"{knob.name} takes a list of values, not a range")
    low_text, _, high_text = body.partition("..")
    low, high = knob.value(low_text), knob.value(high_text)
    if knob.field == "hidden":
        low, high = int(low), int(high)
    if not low < high:
        raise ValueError(f"{knob.name}: the range's low end must be below its high end, "
                         f"got {low_text.strip()}..{high_text.strip()}")
    if log and low <= 0:
        raise ValueError(f"{knob.name}: a log range must start above 0")
    if knob.kind == "int":
        return IntDistribution(int(low), int(high), log=log)
    return FloatDistribution(float(low), float(high), log=log)


def parse_space(specs: list[str]) -> list[Param]:
    """Every ``--param``; each hyperparameter at most once; one-line ValueError."""
    if not specs:
        raise ValueError("give at least one --param, e.g. --param lr=log:1e-4..1")
    params = [parse_param(s) for s in specs]
    names = [p.knob.name for p in params]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{repeated[0]} is given twice; give each hyperparameter once")
    return params


def distributions(space: list[Param]) -> dict[str, BaseDistribution]:
    return {p.knob.name: p.distribution for p in space}


def grid(space: list[Param]) -> dict[str, list]:
    """The grid sampler's search space; ValueError when a parameter is a range."""
    ranges = [p.knob.name for p in space if p.choices is None]
    if ranges:
        raise ValueError(f"the grid sampler needs a list of values for {ranges[0]}, not a "
                         "range (or use --sampler tpe or random)")
    return {p.knob.name: list(p.choices or ()) for p in space}


def grid_size(space: list[Param]) -> int:
    return math.prod(len(p.choices or ()) for p in space)


def apply(base: Settings, params: dict) -> Settings:
    """``base`` with a trial's values (by hyperparameter name)."""
    changes = {}
    for name, value in params.items():
        knob = KNOBS[name]
        if knob.field == "hidden":
            value = cfg.parse_field("hidden", str(value).replace("-", ","))
        changes[knob.field] = value
    settings, _ = cfg.consistent(replace(base, **changes))
    return settings
