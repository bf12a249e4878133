"""Backpropagation to the pixels: the gradient of the loss with respect to the input, and
what it shows: saliency maps, adversarial digits, and the input each class likes best.

The backward pass (:meth:`MLP.backward`) stops at ``delta_1 = ∂loss/∂z_1``; one more step
of the chain rule through ``z_1 = a_0 W_1 + b_1`` gives the input's gradient::

    ∂loss/∂a_0 = delta_1 W_1ᵀ

Shapes: ``X: (n, n_0)`` rows of pixels in [0, 1] (MNIST's ``(n, 784)``); ``x: (n_0,)``
one digit; every gradient is shaped like the input it belongs to. The input and the
network are never changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .network import MLP

FGSM, ITERATIVE = "fgsm", "iterative"
METHODS = (FGSM, ITERATIVE)
EPSILONS = np.round(np.arange(1, 101) * 0.005, 3)  # the sizes an attack tries: 0.005 to 0.5
ITERATIVE_STEPS = 20          # steps of the iterative attack, each of STEP_FACTOR·ε/steps
STEP_FACTOR = 2.5             # Madry et al.'s step: enough to reach the ball's edge and move
DREAM_STEPS = 80              # gradient-ascent steps for a class's favourite input
DREAM_RATE = 0.1              # how far a step moves the pixel with the largest gradient
DREAM_L2 = 0.1                # λ of the λ/2·‖x‖² that keeps away ink it does not need
DREAM_BLUR = 0.5              # σ in pixels of the blur after each step: smooth strokes
DREAM_START = 0.1             # the starting image: faint grey everywhere (see dream)


def _targets(net: MLP, labels, n: int) -> np.ndarray:
    """One-hot rows ``(n, n_L)`` for ``labels`` (one int for every row, or one per row)."""
    labels = np.broadcast_to(np.asarray(labels, np.intp), (n,))
    k = net.layer_sizes[-1]
    if np.any((labels < 0) | (labels >= k)):
        raise ValueError(f"a class must be between 0 and {k - 1}")
    Y = np.zeros((n, k), net.dtype)
    Y[np.arange(n), labels] = 1
    return Y


NOT_FINITE = "the network's outputs are not finite numbers (it has diverged)"


def _finite(proba: np.ndarray) -> np.ndarray:
    """``proba`` itself; ValueError when a diverged network made it inf or NaN (then every
    gradient is meaningless too)."""
    if not np.all(np.isfinite(proba)):
        raise ValueError(NOT_FINITE)
    return proba


def _rows(net: MLP, X) -> np.ndarray:
    X = np.asarray(X, net.dtype)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    if X.ndim != 2 or X.shape[1] != net.layer_sizes[0]:
        raise ValueError(f"the network reads rows of {net.layer_sizes[0]} pixels, "
                         f"got shape {X.shape}")
    return X


def input_gradient(net: MLP, X, labels) -> tuple[np.ndarray, np.ndarray]:
    """``(∂L_i/∂x_i, a_L)``: each row's own loss against its label (one-hot), differentiated
    with respect to that row's pixels, ``(n, n_0)``, and the outputs ``(n, n_L)``.

    The engine's backward pass gives ``delta_1`` of the batch's mean loss; carried one
    layer further, ``delta_1 W_1ᵀ`` is the gradient of the mean, so ``n`` times it is each
    row's own. The L2 term does not depend on the input and drops out.
    """
    X = _rows(net, X)
    Y = _targets(net, labels, len(X))
    fwd = net.forward(X)
    back = net.backward(fwd, Y, keep_deltas=True)
    assert back.deltas is not None  # kept, as asked for
    # chain rule through z_1 = a_0 W_1 + b_1: ∂loss/∂a_0 = delta_1 W_1ᵀ (the 1/n undone)
    grad = back.deltas[0] @ net.weights[0].T
    grad *= len(X)
    return grad, fwd.output


@dataclass(frozen=True)
class Saliency:
    """How each pixel of one digit moves the network towards class ``target``.

    ``gradient = -∂L/∂x: (n_0,)`` with the label set to ``target``: positive where more
    ink would make the network more sure of ``target`` (for softmax + cross-entropy it is
    ``∂ log p_target/∂x`` exactly), negative where it would make it less sure.
    ``proba``: the outputs for the digit, ``(n_L,)``; ``answer``: their argmax.
    """

    x: np.ndarray
    target: int
    gradient: np.ndarray
    proba: np.ndarray

    @property
    def answer(self) -> int:
        return int(np.argmax(self.proba))


def saliency(net: MLP, x, target: int | None = None) -> Saliency:
    """The saliency map of digit ``x: (n_0,)`` for class ``target`` (default: the
    network's own answer)."""
    X = _rows(net, x)[:1]
    if target is None:
        target = int(np.argmax(_finite(net.forward(X).output)[0]))
    grad, proba = input_gradient(net, X, target)
    return Saliency(X[0].copy(), int(target), -grad[0], _finite(proba)[0])


@dataclass(frozen=True)
class Attack:
    """The smallest change of one digit, among ``epsilons``, that changes the answer.

    ``method``: ``"fgsm"`` (one step of ``ε · sign(∂L/∂x)``) or ``"iterative"`` (up to
    ``steps`` steps of ``step_factor · ε / steps`` each, kept within ``ε`` of the original
    pixel by pixel, stopping once the answer changes); pixels always stay in [0, 1].
    ``target``: the class it pushes towards, or ``None`` (away from the answer
    ``before.argmax()``, to anything else).
    ``epsilon``: the smallest ``ε`` tried that worked (``None``: none of them did, and
    ``x_adv`` is the attempt at the largest); ``x_adv`` the changed digit, ``after`` its
    outputs; ``flipped[i]``: whether ``epsilons[i]`` worked.
    """

    method: str
    x: np.ndarray
    x_adv: np.ndarray
    before: np.ndarray
    after: np.ndarray
    epsilon: float | None
    target: int | None
    epsilons: np.ndarray
    flipped: np.ndarray
    steps: int
    step_factor: float

    @property
    def change(self) -> np.ndarray:
        """``x_adv - x``, ``(n_0,)``: at most ``ε`` at every pixel."""
        return self.x_adv - self.x

    @property
    def answer_before(self) -> int:
        return int(np.argmax(self.before))

    @property
    def answer_after(self) -> int:
        return int(np.argmax(self.after))

    @property
    def succeeded(self) -> bool:
        return self.epsilon is not None


def _check_epsilons(epsilons) -> np.ndarray:
    eps = np.asarray(epsilons, np.float64).ravel()
    if not eps.size or not np.all(np.isfinite(eps)) or np.any(eps <= 0):
        raise ValueError("the attack sizes ε must be positive numbers")
    return np.sort(eps)


def _step_direction(grad: np.ndarray, toward: bool) -> np.ndarray:
    """``sign(∂L/∂x)`` per row: up the loss of the label (away from it), or down it when
    ``toward``."""
    direction = np.sign(grad)
    return -direction if toward else direction


def attack(net: MLP, x, method: str = FGSM, target: int | None = None,
           epsilons=EPSILONS, steps: int = ITERATIVE_STEPS,
           step_factor: float = STEP_FACTOR) -> Attack:
    """Change digit ``x: (n_0,)`` by at most ``ε`` per pixel (the L∞ norm) so that the
    network's answer changes (or becomes ``target``), for every ``ε`` in ``epsilons`` at
    once (one row each), and keep the smallest that works.

    FGSM (Goodfellow et al., 2015): ``x' = clip(x + ε · sign(∂L/∂x), 0, 1)`` with ``L`` the
    loss against the current answer (with a ``target``: ``x - ε · sign(∂L_target/∂x)``).
    Iterative (Kurakin et al., 2017; Madry et al., 2018, without the random start): that
    step up to ``steps`` times with size ``step_factor · ε / steps``, each time projected
    back within ``ε`` of ``x`` and into [0, 1], stopping for each ``ε`` at the first step
    whose digit works (every step is within ``ε``, and the rows that stop early cost
    nothing more).
    """
    if method not in METHODS:
        raise ValueError(f"unknown attack {method!r}; choose from {METHODS}")
    if method == ITERATIVE and (not isinstance(steps, int) or steps < 1):
        raise ValueError(f"the iterative attack needs at least 1 step, got {steps!r}")
    X0 = _rows(net, x)[:1]
    eps = _check_epsilons(epsilons)
    before = _finite(net.forward(X0).output)[0]
    answer = int(np.argmax(before))
    toward = target is not None
    label = answer if target is None else int(target)
    _targets(net, label, 1)  # the class is checked before any work
    E = eps.astype(net.dtype)[:, None]
    low, high = np.clip(X0 - E, 0, 1), np.clip(X0 + E, 0, 1)  # where each row may go

    def worked(proba: np.ndarray) -> np.ndarray:
        answers = proba.argmax(axis=1)
        return answers == label if toward else answers != answer

    if method == FGSM:
        grad, _ = input_gradient(net, X0, label)
        X = np.clip(X0 + E * _step_direction(grad, toward), 0, 1)
        steps_taken = 1
    else:
        X = np.repeat(X0, len(eps), axis=0)
        size = E * net.dtype.type(step_factor / steps)
        done = np.zeros(len(eps), bool)  # rows that worked already stay where they are
        for _ in range(steps):
            rows = np.flatnonzero(~done)
            # the forward pass of the gradient tells which rows work as they are
            grad, proba = input_gradient(net, X[rows], label)
            hit = worked(proba)
            done[rows[hit]] = True
            rows, grad = rows[~hit], grad[~hit]
            if not len(rows):
                break
            X[rows] = np.clip(X[rows] + size[rows] * _step_direction(grad, toward),
                              low[rows], high[rows])
        steps_taken = steps
    proba = _finite(net.forward(X).output)
    flipped = worked(proba)
    if target is not None and target == answer:
        flipped = np.zeros(len(eps), bool)  # already the answer: nothing to flip to
    first = int(np.argmax(flipped)) if flipped.any() else len(eps) - 1
    return Attack(method, X0[0].copy(), X[first].copy(), before, proba[first].copy(),
                  float(eps[first]) if flipped.any() else None, target, eps, flipped,
                  steps_taken, float(step_factor) if method == ITERATIVE else 1.0)


def _blur_kernel(sigma: float) -> np.ndarray:
    radius = max(1, math.ceil(3 * sigma))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def blur(X, sigma: float) -> np.ndarray:
    """Square images as rows ``X: (n, side²)`` blurred by a Gaussian of ``sigma`` pixels
    (separable: rows, then columns; zeros beyond the edges); ``sigma = 0`` copies."""
    X = np.asarray(X)
    if sigma <= 0:
        return X.copy()
    side = math.isqrt(X.shape[1])
    if side * side != X.shape[1]:
        raise ValueError(f"a row of {X.shape[1]} pixels is not a square image")
    k = _blur_kernel(sigma).astype(X.dtype)
    r = len(k) // 2
    images = np.pad(X.reshape(-1, side, side), ((0, 0), (r, r), (r, r)))
    # a weighted sum of shifted copies: 2 × len(k) array operations, no Python per pixel
    rows = sum(w * images[:, :, i:i + side] for i, w in enumerate(k))
    out = sum(w * rows[:, i:i + side, :] for i, w in enumerate(k))
    return np.asarray(out, X.dtype).reshape(X.shape)


@dataclass(frozen=True)
class Dreams:
    """For each class ``classes[i]``, the input ``X[i]: (n_0,)`` that gradient ascent found
    to maximise the network's output for it, and the outputs ``proba[i]: (n_L,)`` for it.
    ``steps``, ``rate``, ``l2``, ``sigma``, ``start``: how it was found (:func:`dream`)."""

    classes: np.ndarray
    X: np.ndarray
    proba: np.ndarray
    steps: int
    rate: float
    l2: float
    sigma: float
    start: float

    @property
    def confidence(self) -> np.ndarray:
        """Each image's output for its own class, ``(k,)``."""
        return self.proba[np.arange(len(self.classes)), self.classes]


def dream(net: MLP, classes=None, steps: int = DREAM_STEPS, rate: float = DREAM_RATE,
          l2: float = DREAM_L2, sigma: float = DREAM_BLUR, start: float = DREAM_START) -> Dreams:
    """What the network thinks each class looks like: regularised gradient ascent on the
    input, all classes at once (one row each).

    From a faint grey image (every pixel ``start``), ``steps`` times: ``x ← x - rate · (g / max|g|
    + l2 · x)`` with ``g = ∂L_c/∂x``, where ``L_c`` is the loss with the label set to class
    ``c`` (so the output for ``c`` goes up, and for softmax the others down), then blur by
    ``sigma`` pixels and clip to [0, 1]. Dividing by ``max|g|`` makes every step move the
    most useful pixel by ``rate``, so the ascent keeps going once ``c`` is nearly sure
    (the loss's own gradient then vanishes). The L2 term and the blur are the
    regularisers: without them the ascent finds speckled noise that scores as high. The
    start is not blank: at ``x = 0`` a fresh ReLU network (biases 0) has every hidden
    unit at exactly 0, inactive, so every gradient is 0 and the ascent could not begin.
    """
    k = net.layer_sizes[-1]
    classes = np.arange(k) if classes is None else np.asarray(classes, np.intp).ravel()
    _targets(net, classes, len(classes))
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"the number of steps must be a whole number >= 0, got {steps!r}")
    for name, value in (("rate", rate), ("l2", l2), ("sigma", sigma), ("start", start)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    X = np.full((len(classes), net.layer_sizes[0]), start, net.dtype)
    _finite(net.forward(X).output)  # a diverged network: said before 80 passes of NaN
    side = math.isqrt(X.shape[1])
    smooth = sigma > 0 and side * side == X.shape[1]
    step, decay = net.dtype.type(rate), net.dtype.type(1 - rate * l2)
    for _ in range(steps):
        grad, _ = input_gradient(net, X, classes)
        largest = np.abs(grad).max(axis=1, keepdims=True)
        grad /= np.where(largest > 0, largest, 1)  # a flat gradient stays 0
        X *= decay                # the L2 term's gradient, l2 · x
        X -= step * grad
        if smooth:
            X = blur(X, sigma)
        np.clip(X, 0, 1, out=X)
    proba = _finite(net.forward(X).output)
    return Dreams(classes, X, proba, steps, float(rate), float(l2), float(sigma), float(start))
