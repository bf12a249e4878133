"""A network small enough to follow by hand: each digit averaged down to 7×7 = 49 pixels,
4 ReLU hidden units and 10 softmax outputs (49-4-10, 250 parameters), and one digit's
pass through it with every number a person needs to redo it with a calculator.

Shapes: ``X: (n, 784)`` images become ``(n, 49)`` (:func:`pool`). A :class:`HandTrace`
is one digit (no batch axis): with ``L`` weight layers and sizes ``n_0, ..., n_L``,
``products[l]: (n_l, n_{l+1})`` holds ``a_l[i] · W_{l+1}[i, j]`` (0-based lists, as
``MLP.weights``), ``sums[l]``, ``slopes[l]``, ``back_sums[l]``: ``(n_{l+1},)``;
``back_products[l]: (n_{l+1}, n_{l+2})`` holds ``W_{l+2}[j, k] · δ_{l+2}[k]`` (none for
the output layer). The rest comes from :class:`mnist_np.stepthrough.Trace`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .data import N_CLASSES, SIDE
from .network import MLP
from .stepthrough import Trace, trace
from .training import TrainConfig

BLOCK = 4                     # each pooled pixel is the mean of a 4×4 block
POOLED_SIDE = SIDE // BLOCK   # 7
N_POOLED = POOLED_SIDE ** 2   # 49 inputs
HIDDEN = 4
# The tiny network's training: plain SGD, so a training step is exactly the page's
# "W ← W - η·∂L/∂W", averaged over a batch of 32 digits. Measured on full MNIST: 82.1%
# test accuracy after the 10 epochs with seed 0 (80.4-83.1% over seeds 0-3), 3 s of
# training on an idle 2-core machine (7-9 s with its load at 13); on the 4,000-digit
# offline sample 68.7%.
TRAINING: dict[str, Any] = dict(optimizer="sgd", lr=0.2, batch_size=32, epochs=10,
                                schedule="linear")


def pool(X, block: int = BLOCK) -> np.ndarray:
    """Average ``X: (n, side²)`` images over ``block × block`` squares: ``(n, (side /
    block)²)``, in ``X``'s float dtype (float32 stays float32). Pixel ``(r, c)`` of the
    result is the mean of rows ``r·block ... r·block + block - 1`` and the same columns."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"pool takes (n, pixels) images, got an array of shape {X.shape}")
    side = math.isqrt(X.shape[1])
    if side * side != X.shape[1] or side % block:
        raise ValueError(f"{X.shape[1]} pixels are not a square image whose side divides "
                         f"into blocks of {block}")
    dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float32
    k = side // block
    blocks = X.reshape(len(X), k, block, k, block).astype(dtype, copy=False)
    return blocks.mean(axis=(2, 4), dtype=np.float64).astype(dtype).reshape(len(X), k * k)


def tiny_network(seed: int = 0) -> MLP:
    """The 49-4-10 network: ReLU hidden units (their slope is 0 or 1, so the hand
    arithmetic stays short), softmax + cross-entropy (so ``δ_L = a_L - y``), He init."""
    return MLP([N_POOLED, HIDDEN, N_CLASSES], activation="relu", output="softmax",
               loss="cross_entropy", init="he", seed=seed)


def tiny_training(seed: int = 0) -> TrainConfig:
    """How the tiny network trains (see :data:`TRAINING`)."""
    return TrainConfig(**TRAINING, seed=seed)


@dataclass
class HandTrace:
    """One digit through the network, forward and back, with the pieces of every sum
    (see the module's docstring for shapes). ``trace`` holds the engine's own numbers;
    the rest are the same numbers taken apart, each computed the way the engine
    computes its whole, so they agree with it to the last bit:

    - ``products[l][i, j] = a_l[i] · W_{l+1}[i, j]``; ``sums[l] = a_l W_{l+1}`` (so
      ``z_{l+1} = sums[l] + b_{l+1}``);
    - the softmax: ``shifted = z_L - max z_L``, ``exps = e^shifted``, ``exp_sum = Σ
      exps``, ``a_L = exps / exp_sum``;
    - ``back_products[l][j, k] = W_{l+2}[j, k] · δ_{l+2}[k]``, ``back_sums[l] = δ_{l+2}
      W_{l+2}ᵀ`` and ``slopes[l] = f'(z_{l+1})`` (hidden layers), so ``δ_{l+1} =
      back_sums[l] · slopes[l]``;
    - ``lr``: η, and ``new_weights``, ``new_biases``: ``W - η·∂L/∂W`` and ``b -
      η·∂L/∂b`` as :func:`mnist_np.stepthrough.sgd_step` makes them.
    """

    index: int
    trace: Trace
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    products: list[np.ndarray]
    sums: list[np.ndarray]
    shifted: np.ndarray
    exps: np.ndarray
    exp_sum: float
    back_products: list[np.ndarray]
    back_sums: list[np.ndarray]
    slopes: list[np.ndarray]
    lr: float
    new_weights: list[np.ndarray]
    new_biases: list[np.ndarray]


def hand_trace(net: MLP, x, label: int, lr: float, index: int = 0) -> HandTrace:
    """Everything :class:`HandTrace` lists for ``x: (n_0,)`` (training digit ``index``)
    with its ``label``, through a softmax + cross-entropy ``net``, and the step of size
    ``lr`` it suggests."""
    if net.output_name != "softmax":
        raise ValueError(f"the by-hand trace takes a softmax output, not {net.output_name}")
    t = trace(net, x, label)
    dtype = net.dtype
    with np.errstate(all="ignore"):  # a diverged network: NaN and inf, shown as such
        products, sums = [], []
        for a, W in zip(t.activations, net.weights):
            products.append(a[:, None] * W)
            sums.append((a[None, :] @ W)[0])  # the engine's own matmul for z - b
        z = t.zs[-1][None, :]
        # softmax as mnist_np.losses.softmax computes it, kept apart
        shifted = z - z.max(axis=1, keepdims=True)
        exps = np.exp(shifted)
        exp_sum = exps.sum(axis=1, keepdims=True)
        back_products, back_sums, slopes = [], [], []
        for l in range(len(net.weights) - 1):
            W_next, delta_next = net.weights[l + 1], t.deltas[l + 1]
            back_products.append(W_next * delta_next[None, :])
            back_sums.append((delta_next[None, :] @ W_next.T)[0])  # as backward does
            slopes.append(net.act.grad(t.activations[l + 1]).astype(dtype))
        step = dtype.type(lr)
        new_weights = [W - step * dW for W, dW in zip(net.weights, t.dWs)]
        new_biases = [b - step * db for b, db in zip(net.biases, t.dbs)]
    return HandTrace(int(index), t, [W.copy() for W in net.weights],
                     [b.copy() for b in net.biases], products, sums, shifted[0], exps[0],
                     float(exp_sum[0, 0]), back_products, back_sums, slopes, float(lr),
                     new_weights, new_biases)
