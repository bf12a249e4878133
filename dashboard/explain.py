"""What the pages say about numbers: verdicts and sentences computed from results.

Pure functions (no Streamlit), so the words are tested next to the numbers they judge.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mnist_np import MLP
from mnist_np.gradcheck import RTOL, Check
from mnist_np.stepthrough import sgd_step
from mnist_np.training import STATS_EVERY_STEP_UNTIL


def gradient_check_table(checks: Sequence[Check]) -> dict[str, list]:
    """One row per checked weight: backprop's gradient, the finite difference, and how
    far apart they are."""
    return {
        "parameter": [f"{c.param}{c.layer}[{', '.join(map(str, c.index))}]" for c in checks],
        "backprop": [c.backprop for c in checks],
        "finite difference": [c.numeric for c in checks],
        "difference": [abs(c.backprop - c.numeric) for c in checks],
        "relative error": [c.rel_error for c in checks],
        "agree": [c.agrees for c in checks],
    }


def gradient_check_verdict(checks: Sequence[Check]) -> tuple[str, str, str | None]:
    """``(level, message, note)``: level is "success" or "warning"; note explains a
    result that only rounding keeps from agreeing to ``RTOL``."""
    worst = max(c.rel_error for c in checks)
    rounding = checks[0].rounding
    where = "computed in float64 on a copy of the network"
    if all(c.agrees for c in checks) and worst <= RTOL:
        return ("success", f"Backpropagation agrees with finite differences ({where}): "
                           f"largest relative error {worst:.1e}.", None)
    if all(c.agrees for c in checks):  # some only up to rounding: quote those
        tiny = [c for c in checks if c.rel_error > RTOL]
        largest = max(abs(c.backprop - c.numeric) for c in tiny)
        gradient = max(abs(c.backprop) for c in tiny)
        which = "one weight" if len(tiny) == 1 else f"{len(tiny)} of the {len(checks)} weights"
        return ("success",
                f"Backpropagation agrees with finite differences up to rounding ({where}): "
                f"for {which}, whose {'gradient is' if len(tiny) == 1 else 'gradients are'} "
                f"tiny, the difference (at most "
                f"{largest:.1e}) is within the ±{rounding:.0e} that rounding allows.",
                f"Those gradients are at most {gradient:.1e}, so rounding in "
                f"𝓛(w ± ε) limits the difference quotient to about ±{rounding:.0e}, and "
                f"their relative errors (up to {worst:.0e}) say nothing.")
    return ("warning", f"Some gradients disagree (largest relative error {worst:.1e}). With "
                       "ReLU this can happen when ±ε moves a unit across 0, where the slope "
                       "jumps; try another digit.", None)


def _names(k: int, classes: Sequence[str] | None) -> list[str]:
    """The class names (the digits "0".."9" when ``classes`` is None)."""
    return list(classes) if classes is not None else [str(d) for d in range(k)]


def class_words(k: int, classes: Sequence[str] | None) -> tuple[list[str], str, str]:
    """The names of ``k`` classes, what one is called and what an image of one is:
    ``(["0", ...], "digit", "digit")`` for MNIST's, ``(names, "class", "image")``
    otherwise."""
    names = _names(k, classes)
    digits = names == [str(d) for d in range(k)]
    return names, "digit" if digits else "class", "digit" if digits else "image"


def update_caption(before: np.ndarray, after: np.ndarray, label: int, lr: float,
                   classes: Sequence[str] | None = None) -> str:
    """What one gradient step on one image did to the network's answer (the classes
    named by ``classes``, default the digits)."""
    n, noun, image = class_words(len(before), classes)
    return (f"With η = {lr:g}, one step on this {image} alone moved the probability of the "
            f"true {noun} {n[label]} from {before[label]:.1%} to {after[label]:.1%}; the "
            f"prediction went from {n[int(before.argmax())]} to {n[int(after.argmax())]}. Press "
            "again to take another step. The update changes the live network (every page "
            "shows it; it is listed with the run's changes), but it is not a training step: "
            "the step counter and the Train page's curves count the trainer's mini-batches "
            "only.")


def saturation_caption(label: str, n_images: int) -> str:
    """What a "saturated" (sigmoid, tanh) or "dead" (ReLU) unit is, for the bars."""
    what = ("a sigmoid or tanh unit whose slope is below a tenth of its peak passes "
            "almost no gradient back" if label == "saturated" else
            "a ReLU unit that outputs 0 for every image in the batch gets no gradient "
            "and may never recover")
    return (f"{label.capitalize()} units ({what}), over training and now. "
            f"The bars measure the network as it is on {n_images} validation images.")


def measured_batches(every: int) -> str:
    """Which mini-batches the step curves show, for a trainer that measures one step in
    ``every`` after its first ones (see ``mnist_np.training.stats_every``)."""
    if every == 1:
        return "each mini-batch"
    return (f"single mini-batches (each of the first {STATS_EVERY_STEP_UNTIL}, then one in "
            f"{every})")


def update_ratio_caption(schedule: str, every: int = 1) -> str:
    """How to read the gradient and update-ratio curves under learning-rate ``schedule``
    (a decaying schedule drives every ratio towards 0 by design), measured one step in
    ``every``."""
    text = (f"Left: the size of each layer's gradient on {measured_batches(every)}. Lines "
            "far apart mean layers learn at very different speeds. Right: how much each "
            "step changes the weights, relative to their size; around 1e-3 is healthy, far "
            "below means the layer is stuck, far above that it is thrashing.")
    if schedule == "constant":
        return text
    return (f"{text} With the {schedule} schedule the learning rate falls to 0 by the end "
            "of training, and every update ratio falls with it: read the ratios early in "
            "training, or compare layers with each other rather than with 1e-3.")


def mistakes_title(cell: tuple[int, int] | None, confusion: np.ndarray,
                   classes: Sequence[str]) -> str:
    """The Mistakes gallery's title for the confusion-matrix cell ``(true, predicted)``
    clicked (None: every mistake); ``confusion: (k, k)`` counts."""
    if cell is None:
        return "The most confident mistakes"
    true, predicted = cell
    n = int(confusion[true, predicted])
    pair = f"True {classes[true]}, predicted {classes[predicted]}"
    if true == predicted:
        return f"{pair}: read right ({n:,}), no mistakes here"
    if n == 0:
        return f"{pair}: no such mistakes"
    return f"{pair}: the most confident of {n:,}"


def _loss_words(loss: float) -> str:
    """A small loss written so it never reads "0" while it is not."""
    return f"{loss:.2g}" if loss >= 1e-3 else f"{loss:.1e}" if loss > 0 else (
        "0 to float precision")


def digit_worth(output: np.ndarray, label: int, loss: float,
                classes: Sequence[str] | None = None) -> tuple[bool, str]:
    """Whether this digit has something to teach the network now, and why: ``output`` is
    the network's ``a_L`` for it (one value per class), ``loss`` its loss; ``classes``
    names the classes (default the digits)."""
    answer = int(np.argmax(output))
    n = _names(len(output), classes)
    if not np.isfinite(loss):
        return True, "The network's output is not a number here: it has diverged."
    if answer != label:
        return True, (f"The network reads this {n[label]} as a {n[answer]} "
                      f"({output[answer]:.0%}): a mistake worth learning from.")
    if output[label] < 0.9:
        return True, (f"The network reads it right, but unsure ({output[label]:.0%} for "
                      f"{n[label]}): there is something to learn.")
    return False, (f"Nothing to learn here: the network is sure ({output[label]:.2%} for "
                   f"{n[label]}) and the loss is only {_loss_words(loss)}, so every gradient "
                   "is tiny. Try the next misread digit.")


def visible_step_size(net: MLP, x: np.ndarray, label: int, sizes: Sequence[float],
                      start: float, change: float = 0.02) -> float:
    """The smallest step size in ``sizes`` from ``start`` on whose single update on this
    digit moves the probability of its true class by at least ``change`` (tried on
    copies of ``net``); the largest tried when none does."""
    tried = [lr for lr in sorted(sizes) if lr >= start][:12] or [start]
    for lr in tried:
        with np.errstate(all="ignore"):
            before, after = sgd_step(net.copy(), x, label, lr)
        if abs(after[label] - before[label]) >= change:
            return lr
    return tried[-1]
