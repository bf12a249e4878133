"""Optimizers: they apply gradients that the network computed, in place.

Keeping the update apart from the gradient computation is what lets the gradient
check, the gradient plots and the backprop step-through look at gradients without
changing the network. ``params`` and ``grads`` are matching lists of arrays
(weights first, then biases); ``step`` returns the norm of each update, which the
training loop divides by the weight norm to get the update/weight ratio, or nothing
(``[]``) with ``measure=False``: the training loop measures only some steps (see
``training.stats_every``), and each norm is one more pass over the parameters.

SGD and momentum first multiply the gradient by the learning rate. Their class attribute
``takes_scaled_grads`` says that they can be given ``lr * g`` directly
(``step(..., scaled=True)``): the training loop folds ``lr`` into backpropagation, where
it multiplies the small output-layer error instead of every gradient array, and passes
the norms of the gradients it has already computed (``grad_norms``) so that SGD does
not compute them twice.

Every optimizer's state can be taken out and put back (``state()`` / ``load_state()``),
so a checkpoint continues a run exactly: ``state()`` gives a JSON-ready dict of numbers
and, under the names in the class attribute ``state_arrays``, lists of arrays shaped like
``params`` (or ``None`` before the first step). The learning rate is not state: the
training loop sets it before every step from its schedule.

``flush(step)``, which the training loop calls after every step, sets to exactly 0 the
entries of the optimizer's state that have decayed too small to move any weight, every so
many steps, before they become subnormal floats (see :func:`flush_tiny`).
"""

from __future__ import annotations

import functools
import math

import numpy as np


def norm(x: np.ndarray) -> float:
    """Frobenius norm of any array, as one BLAS dot product (no temporary squares).

    ``np.vdot`` flattens by itself, so this is a single numpy call: the trainer takes
    several norms per step, and on small layers the call overhead is most of the cost.
    """
    return math.sqrt(np.vdot(x, x))


# -- subnormal numbers ------------------------------------------------------------------
# A velocity entry whose gradient stays 0 (a pixel blank in every image of the batches, a
# dead unit) shrinks by μ each step, down through the subnormal floats (below
# ``finfo.tiny``, 1.2e-38 in float32) on its way to 0. The CPU multiplies those about 60x
# slower than normal numbers (``v *= μ`` on a 784x256 array: 14 us, 108 us with one row
# in eight subnormal) and NumPy cannot switch on the CPU's flush-to-zero. In the default
# run 4% of the velocity was subnormal from the third epoch on, and ``v *= μ`` was 13% of
# the training time.

def flush_floor(dtype) -> float:
    """``tiny / eps`` of ``dtype`` (9.9e-32 in float32): a ``v`` below it in magnitude moves
    no weight above ``2 tiny / eps²`` (1.7e-24) at all, being under half its spacing."""
    info = np.finfo(dtype)
    return float(info.tiny / info.eps)


@functools.lru_cache(maxsize=64)  # asked after every step: 0.06 us cached, 0.46 us not
def flush_period(decay: float, dtype) -> int:
    """How often to flush an array that shrinks by ``decay`` a step, so that no entry gets
    from ``flush_floor`` down to ``tiny`` in between: ``log(eps) / log(decay)`` steps
    (151 for μ = 0.9 in float32); 0 (never) when it does not shrink."""
    if not 0 < decay < 1:
        return 0
    return max(1, int(math.log(np.finfo(dtype).eps) / math.log(decay)))


def flush_tiny(arrays: list[np.ndarray]) -> None:
    """Set the entries of each array below :func:`flush_floor` in magnitude to exactly 0,
    in place: the weights they would have moved stay as they are, and the arrays hold no
    subnormal number that an earlier step did not put there."""
    for a in arrays:
        np.copyto(a, 0, where=np.abs(a) < flush_floor(a.dtype))


class SGD:
    """Plain stochastic gradient descent: ``p -= lr * g``."""

    takes_scaled_grads = True
    state_arrays: tuple[str, ...] = ()

    def __init__(self, lr: float = 0.1):
        self.lr = lr

    def state(self) -> dict:
        """Plain SGD keeps nothing between steps: ``{}``."""
        return {}

    def load_state(self, state: dict) -> None:
        """Nothing to restore (``state`` is what :meth:`state` gave)."""

    def flush(self, step: int) -> None:
        """Nothing decays between steps here."""

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], scaled: bool = False,
             grad_norms: list[float | None] | None = None,
             measure: bool = True) -> list[float]:
        """Update ``params`` in place; ``grads`` are ``lr * g`` already when ``scaled``.
        ``grad_norms[i]``, when given, is ``norm(grads[i])`` as passed in."""
        if scaled and not measure:  # most training steps: the update alone
            for p, g in zip(params, grads):
                p -= g
            return []
        norms: list[float] = []
        for i, (p, g) in enumerate(zip(params, grads)):
            if not scaled:
                g *= self.lr  # the gradient buffer is scratch space: reuse it for the update
            p -= g
            if not measure:
                continue
            known = grad_norms[i] if grad_norms is not None else None
            if known is None:
                norms.append(norm(g))
            else:  # the update is g itself (scaled) or lr * g
                norms.append(known if scaled else abs(self.lr) * known)
        return norms


class Momentum:
    """SGD with (heavy-ball) momentum: ``v = μ v - lr g;  p += v``.

    The classic form (Polyak; Sutskever et al. 2013): the learning rate multiplies the
    gradient as it enters the velocity, so a step of the schedule changes only what is
    added from then on. PyTorch's ``SGD(momentum=μ)`` keeps ``v = μ v + g`` and steps
    ``p -= lr v``: the same for a constant learning rate, but there a change of ``lr``
    rescales the whole velocity at once.
    """

    takes_scaled_grads = True
    state_arrays: tuple[str, ...] = ("velocity",)

    def __init__(self, lr: float = 0.01, mu: float = 0.9):
        self.lr, self.mu = lr, mu
        self.velocity: list[np.ndarray] | None = None

    def state(self) -> dict:
        """``{"mu": float, "velocity": [v_i shaped like params[i]] or None}`` (copies)."""
        velocity = None if self.velocity is None else [v.copy() for v in self.velocity]
        return {"mu": self.mu, "velocity": velocity}

    def load_state(self, state: dict) -> None:
        """Put back what :meth:`state` gave (the arrays are copied)."""
        self.mu = float(state["mu"])
        velocity = state["velocity"]
        self.velocity = None if velocity is None else [np.array(v) for v in velocity]

    def flush(self, step: int) -> None:
        """Every :func:`flush_period` steps (by the training step's number, so a resumed
        run flushes at the same steps), :func:`flush_tiny` the velocity."""
        if self.velocity is None:
            return
        period = flush_period(self.mu, self.velocity[0].dtype)
        if period and step % period == 0:
            flush_tiny(self.velocity)

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], scaled: bool = False,
             grad_norms: list[float | None] | None = None,
             measure: bool = True) -> list[float]:
        """Update ``params`` in place; ``grads`` are ``lr * g`` already when ``scaled``.
        (``grad_norms`` is accepted for a common signature; the update is ``v``.)"""
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        norms = []
        for p, g, v in zip(params, grads, self.velocity):
            v *= self.mu
            if not scaled:
                g *= self.lr
            v -= g
            p += v
            if measure:
                norms.append(norm(v))
        return norms


class Adam:
    """Adam (Kingma & Ba): per-weight step sizes from running moments of the gradient,
    with bias correction: ``p -= lr · m̂ / (sqrt(v̂) + ε)``. It needs ``g`` itself, so it
    does not take scaled gradients."""

    takes_scaled_grads = False

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m: list[np.ndarray] | None = None
        self.v: list[np.ndarray] | None = None
        self.t = 0

    state_arrays: tuple[str, ...] = ("m", "v")

    def state(self) -> dict:
        """``{"beta1", "beta2", "eps": float, "t": int (steps taken), "m", "v": [arrays
        shaped like params[i]] or None}``: the moments are copies."""
        def copies(arrays):
            return None if arrays is None else [a.copy() for a in arrays]
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps, "t": self.t,
                "m": copies(self.m), "v": copies(self.v)}

    def load_state(self, state: dict) -> None:
        """Put back what :meth:`state` gave (the arrays are copied)."""
        self.beta1, self.beta2 = float(state["beta1"]), float(state["beta2"])
        self.eps, self.t = float(state["eps"]), int(state["t"])
        m, v = state["m"], state["v"]
        self.m = None if m is None else [np.array(a) for a in m]
        self.v = None if v is None else [np.array(a) for a in v]

    def flush(self, step: int) -> None:
        """Every :func:`flush_period` steps of ``beta1``, :func:`flush_tiny` the first
        moments ``m``, which decay by ``beta1`` where the gradient is 0 (in the default
        network trained with Adam, 1% of ``m`` was subnormal after 4 epochs). ``v`` stays:
        it decays 100x more slowly and held none. A flushed ``m`` changes the update
        ``lr_t m / (sqrt(v) + eps_t)`` by less than ``1e-23 lr``, under half the spacing
        of any weight above ``2e-16 lr``."""
        if self.m is not None:
            period = flush_period(self.beta1, self.m[0].dtype)
            if period and step % period == 0:
                flush_tiny(self.m)

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], scaled: bool = False,
             grad_norms: list[float | None] | None = None,
             measure: bool = True) -> list[float]:
        if scaled:
            raise ValueError("Adam needs the gradients themselves, not lr * g")
        if self.m is None or self.v is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        # Fold both bias corrections into one step size (as in the paper, section 2).
        # Python floats, not numpy float64 scalars: those would upcast every float32
        # update to float64 and back.
        lr_t = self.lr * math.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
        eps_t = self.eps * math.sqrt(1 - self.beta2**self.t)
        norms = []
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            g *= g
            g *= 1 - self.beta2
            v += g
            # g is scratch from here on: it becomes the update.
            np.sqrt(v, out=g)
            g += eps_t
            np.divide(m, g, out=g)
            g *= lr_t
            p -= g
            if measure:
                norms.append(norm(g))
        return norms


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


# The hyperparameters each optimizer takes beyond the learning rate, by their names in
# TrainConfig (momentum's ``mu`` is TrainConfig.momentum).
HYPERPARAMETERS = {"sgd": {}, "momentum": {"momentum": "mu"},
                   "adam": {"beta1": "beta1", "beta2": "beta2", "eps": "eps"}}


def make_optimizer(name: str, lr: float, **hyper: float):
    """The optimizer registered under ``name`` with learning rate ``lr``; ``hyper`` may
    hold any of TrainConfig's ``momentum``, ``beta1``, ``beta2``, ``eps``: each is passed
    to the optimizers that use it, and ignored by the others."""
    names = HYPERPARAMETERS[name]
    return OPTIMIZERS[name](lr=lr, **{names[k]: v for k, v in hyper.items() if k in names})
