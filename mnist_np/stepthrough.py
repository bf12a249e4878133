"""Backpropagation for one digit, with every intermediate number kept, and the single
gradient-descent step that it suggests.

Shapes for a network with sizes ``[n_0, ..., n_L]`` (one sample, so no batch axis):
``x: (n_0,)``; ``zs[l]``, ``deltas[l]``, ``dbs[l]``: ``(n_{l+1},)``; ``activations[l]``:
``(n_l,)`` from ``a_0 = x`` to ``a_L``; ``dWs[l]``: like ``weights[l]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import MLP


@dataclass
class Trace:
    """Everything one forward and backward pass computes for one labelled digit."""

    label: int
    target: np.ndarray              # one-hot y, (n_L,)
    activations: list[np.ndarray]   # [a_0, ..., a_L]
    zs: list[np.ndarray]            # [z_1, ..., z_L]
    loss: float                     # data loss + L2 term
    deltas: list[np.ndarray]        # [delta_1, ..., delta_L]
    dWs: list[np.ndarray]
    dbs: list[np.ndarray]

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]

    @property
    def prediction(self) -> int:
        return int(self.output.argmax())

    @property
    def grad_norms(self) -> np.ndarray:
        """``‖∂L/∂W_l‖`` per layer, ``(L,)``."""
        return np.array([float(np.linalg.norm(dW)) for dW in self.dWs])


def one_hot(label: int, n_classes: int, dtype=np.float64) -> np.ndarray:
    target = np.zeros(n_classes, dtype)
    target[label] = 1
    return target


def trace(net: MLP, x, label: int) -> Trace:
    """Forward and backward for ``x: (n_0,)`` with its ``label``, keeping every step."""
    X = np.asarray(x, net.dtype).reshape(1, -1)
    Y = one_hot(label, net.layer_sizes[-1], net.dtype)[None, :]
    with np.errstate(all="ignore"):  # a diverged network gives NaN, shown as such
        fwd = net.forward(X, keep_z=True)
        loss = net.data_loss(fwd, Y) + net.l2_term()
        back = net.backward(fwd, Y, keep_deltas=True)
    assert fwd.zs is not None and back.deltas is not None  # kept, as asked for above
    return Trace(int(label), Y[0], [a[0] for a in fwd.activations], [z[0] for z in fwd.zs],
                 float(loss), [d[0] for d in back.deltas], back.dWs, [db for db in back.dbs])


def sgd_step(net: MLP, x, label: int, lr: float) -> tuple[np.ndarray, np.ndarray]:
    """One plain gradient-descent step on this digit alone, in place:
    ``W_l ← W_l - lr ∂L/∂W_l``, ``b_l ← b_l - lr ∂L/∂b_l``.

    Returns the output ``a_L`` before and after the step, both ``(n_L,)``.
    """
    t = trace(net, x, label)
    step = net.dtype.type(lr)
    with np.errstate(all="ignore"):
        for W, b, dW, db in zip(net.weights, net.biases, t.dWs, t.dbs):
            W -= step * dW
            b -= step * db
        after = net.predict_proba(np.asarray(x, net.dtype).reshape(1, -1))[0]
    return t.output, after


@dataclass(frozen=True)
class BackTerm:
    """One term ``W_{l+1}[j,k] · δ_{l+1}[k]`` of the sum that carries δ back to unit ``j``."""

    k: int
    weight: float   # W_{l+1}[j, k]
    delta: float    # δ_{l+1}[k]
    product: float  # weight · delta


@dataclass(frozen=True)
class WeightStory:
    """The arithmetic behind one weight's gradient and update, for one traced digit.

    The weight is ``W_l[i, j]`` (``layer`` = ``l``, 1-based like ``W_l``; ``i`` indexes
    ``a_{l-1}``, ``j`` the units of layer ``l``). Every number is a Python float (float64)
    taken from the trace and the network the trace was made with, so NaN and inf of a
    diverged network come through as such.

    - ``a_in = a_{l-1}[i]``, ``z = z_l[j]``, ``a_out = a_l[j]``, ``delta = δ_l[j]`` (the
      engine's own δ, as backpropagation computed it);
    - a hidden layer (``output`` False): ``slope = f'(z_l[j])`` from the activation's
      ``grad`` on ``a_l[j]``; ``back_sum = Σ_k W_{l+1}[j,k] δ_{l+1}[k]``; ``terms``: the
      ``top`` terms of largest ``|product|``, largest first; ``rest_sum`` and ``rest_count``:
      the other terms, summed. ``δ_l[j] = slope · back_sum`` up to the engine's rounding.
    - the output layer (``output`` True): ``target = y[j]``; ``δ_L[j] = (a_L[j] - y[j]) ·
      slope``, where ``slope`` is ``None`` for the pairs whose δ is ``a_L - y`` (the
      cross-entropy ones) and ``a_L[j](1 - a_L[j])`` for sigmoid + MSE; no terms.
    - ``data_grad = a_in · delta``; ``l2_grad = l2 · W_l[i,j]`` (0 without L2);
      ``grad = data_grad + l2_grad``, which is ``t.dWs[l-1][i, j]`` up to rounding;
    - ``lr`` = η, ``step = -η · grad``, ``weight_before = W_l[i,j]`` and ``weight_after``:
      the weight after one plain gradient-descent step, rounded to the network's dtype as
      :func:`sgd_step` rounds it (so a step below the weight's precision leaves it as it was).
    """

    layer: int
    i: int
    j: int
    n_layers: int
    activation: str
    output_name: str
    loss_name: str
    a_in: float
    z: float
    a_out: float
    delta: float
    output: bool
    slope: float | None
    target: float | None
    back_sum: float | None
    terms: tuple[BackTerm, ...]
    rest_sum: float
    rest_count: int
    data_grad: float
    l2: float
    l2_grad: float
    grad: float
    lr: float
    step: float
    weight_before: float
    weight_after: float


def _output_slope(net: MLP, a: float) -> float | None:
    """``g(a)`` in ``δ_L = (a_L - y) · g(a_L)``, the form of every registered output pair;
    ``None`` when ``g`` is 1 whatever ``a`` (the cross-entropy pairs' ``δ_L = a_L - y``).
    The pair's own ``delta`` gives it: with ``y = a - 1``, ``δ_L = g(a)``."""
    delta = net.output_loss.delta
    probes = np.array([[0.1, 0.5, 0.9]])
    if np.all(delta(probes, probes - 1) == 1):
        return None
    arr = np.array([[a]], np.float64)
    return float(delta(arr, arr - 1)[0, 0])


def follow_weight(net: MLP, t: Trace, layer: int, i: int, j: int, lr: float,
                  top: int = 4) -> WeightStory:
    """How backpropagation arrived at ``∂L/∂W_l[i, j]`` (``l`` = ``layer``, 1-based) for the
    digit of trace ``t`` (made by :func:`trace` on this ``net``), and where one step of
    size ``lr`` takes that weight. See :class:`WeightStory` for what each number is."""
    L = len(net.weights)
    if not 1 <= layer <= L:
        raise ValueError(f"layer must be between 1 and {L}, got {layer}")
    n_in, n_out = net.weights[layer - 1].shape
    if not (0 <= i < n_in and 0 <= j < n_out):
        raise ValueError(f"W{layer} is {n_in}×{n_out}; there is no entry [{i}, {j}]")
    if top < 0:
        raise ValueError(f"top must be at least 0, got {top}")
    W = net.weights[layer - 1]
    a_out = float(t.activations[layer][j])
    delta = float(t.deltas[layer - 1][j])
    output = layer == L
    terms: tuple[BackTerm, ...] = ()
    rest_sum, rest_count = 0.0, 0
    back_sum = target = None
    with np.errstate(all="ignore"):  # a diverged network: NaN and inf, shown as such
        if output:
            target = float(t.target[j])
            slope = _output_slope(net, a_out)
        else:
            slope = float(net.act.grad(np.array([a_out], np.float64))[0])
            # δ_l[j] gathers every unit k of layer l+1 that W_{l+1}[j, k] feeds
            row = net.weights[layer][j].astype(np.float64)
            deltas = t.deltas[layer].astype(np.float64)
            products = row * deltas
            order = np.argsort(-np.abs(products), kind="stable")  # NaN sorts last
            shown, rest = order[:top], order[top:]
            terms = tuple(BackTerm(int(k), float(row[k]), float(deltas[k]),
                                   float(products[k])) for k in shown)
            rest_sum, rest_count = float(products[rest].sum()), len(rest)
            back_sum = float(products.sum())
        a_in = float(t.activations[layer - 1][i])
        data_grad = a_in * delta  # ∂L/∂W_l[i,j] = ∂L/∂z_l[j] · ∂z_l[j]/∂W_l[i,j]
        before = float(W[i, j])
        l2_grad = net.l2 * before
        grad = data_grad + l2_grad
        # the update as sgd_step makes it, in the network's dtype
        after = W[i, j] - net.dtype.type(lr) * t.dWs[layer - 1][i, j]
    return WeightStory(
        layer=layer, i=i, j=j, n_layers=L, activation=net.activation,
        output_name=net.output_name, loss_name=net.loss_name, a_in=a_in,
        z=float(t.zs[layer - 1][j]), a_out=a_out, delta=delta, output=output, slope=slope,
        target=target, back_sum=back_sum, terms=terms, rest_sum=rest_sum,
        rest_count=rest_count, data_grad=data_grad, l2=net.l2, l2_grad=l2_grad, grad=grad,
        lr=float(lr), step=-float(lr) * grad, weight_before=before, weight_after=float(after))


def next_misread(net: MLP, X, y, after: int = -1, chunk: int = 500) -> int:
    """The first row after ``after`` (wrapping around) of ``X: (n, n_0)`` whose answer is
    not its label ``y: (n,)``, or, when the network reads every row right, the row with
    the lowest probability for its label: :func:`mnist_np.metrics.next_to_learn_from`'s
    answer, found ``chunk`` rows at a time from ``after`` on, so a network that misreads
    one of the next few hundred rows is not run on all of them."""
    y = np.asarray(y)
    n = len(y)
    start = min(max(int(after) + 1, 0), n)
    order = np.r_[np.arange(start, n), np.arange(0, start)]  # rows in the order looked at
    proba = np.empty((n, net.layer_sizes[-1]), net.dtype)
    for s in range(0, n, chunk):
        rows = order[s:s + chunk]
        with np.errstate(all="ignore"):  # a diverged network overflows: NaN, misread
            proba[rows] = net.predict_proba(X[rows])
        wrong = rows[proba[rows].argmax(axis=1) != y[rows]]
        if len(wrong):
            return int(wrong[0])
    return int(np.argmin(proba[np.arange(n), y]))


def largest_gradient(t: Trace, layer: int) -> tuple[int, int]:
    """``(i, j)`` of the entry of ``∂L/∂W_l`` (``l`` = ``layer``, 1-based) largest in
    absolute value among the finite ones; ``(0, 0)`` when none is finite."""
    dW = t.dWs[layer - 1]
    with np.errstate(all="ignore"):
        size = np.where(np.isfinite(dW), np.abs(dW), -1.0)
    i, j = np.unravel_index(int(np.argmax(size)), dW.shape)
    return int(i), int(j)
