"""Maps of what a layer represents: principal component analysis and a class-separation score.

PCA finds the directions along which a set of points ``X: (n, d)`` spreads the most; the
first two give a 2-D map of the points that keeps as much of that spread as any flat
view can. The hidden-layer map projects the activations ``a_l: (n, n_l)`` of test digits
(or their raw pixels ``a_0``) this way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Projection:
    """The result of :func:`pca` on ``X: (n, d)`` with ``k`` components.

    ``scores: (n, k)``: each point's coordinates along the components;
    ``components: (k, d)``: unit directions, orthogonal to each other;
    ``mean: (d,)``: the centre the points were measured from;
    ``explained: (k,)``: the fraction of the total variance along each component.
    """

    scores: np.ndarray
    components: np.ndarray
    mean: np.ndarray
    explained: np.ndarray


def pca(X, k: int = 2) -> Projection:
    """Project the rows of ``X: (n, d)`` onto its ``k`` principal components.

    The components are the eigenvectors of the largest eigenvalues of ``Cᵀ C: (d, d)``,
    ``C = X - mean`` the centred data (what its SVD ``C = U S Vᵀ`` gives as the rows of
    ``Vᵀ``, with ``S²`` the eigenvalues), and the scores are ``C`` times them. When
    ``n < d`` the smaller ``C Cᵀ: (n, n)`` is decomposed instead, whose eigenvectors are
    the columns of ``U``: scores ``U S``, components ``Cᵀ U / S``. Either is several times
    cheaper than the SVD of ``C`` (2,000 digits of 256 units, one thread: 0.02 s against
    0.12 s). Squaring ``C`` squares its condition number, which costs precision only in
    the smallest eigenvalues; a map uses the largest. When ``X`` has fewer than ``k``
    directions (``d < k`` or ``n < k``) the missing components are zero.

    Each component's sign is arbitrary in the maths; it is fixed so that the scores have
    a positive third moment (their long tail on the positive side), which changes
    smoothly with ``X``, so a map redrawn as a network trains does not flip over.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        raise ValueError(f"PCA needs a 2-D array of at least 2 points, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("PCA needs finite numbers, and these points contain NaN or infinity")
    n, d = X.shape
    mean = X.mean(axis=0)
    centred = X - mean
    m = min(k, n, d)
    scores = np.zeros((n, k))
    components = np.zeros((k, d))
    if d <= n:
        eigenvalues, V = np.linalg.eigh(centred.T @ centred)  # ascending
        top = V[:, ::-1][:, :m]
        components[:m] = top.T
        scores[:, :m] = centred @ top
    else:
        eigenvalues, U = np.linalg.eigh(centred @ centred.T)
        top, S = U[:, ::-1][:, :m], np.sqrt(np.maximum(eigenvalues[::-1][:m], 0.0))
        scores[:, :m] = top * S
        spread = S > S[0] * 1e-12 if S[0] > 0 else np.zeros(m, bool)
        components[:m][spread] = (centred.T @ top[:, spread] / S[spread]).T
    skew_sign = np.where(np.sum(scores**3, axis=0) < 0, -1.0, 1.0)
    scores *= skew_sign
    components *= skew_sign[:, None]
    total = float(np.sum(centred**2))
    explained = np.zeros(k)
    if total > 0:
        explained[:m] = np.maximum(eigenvalues[::-1][:m], 0.0) / total
    return Projection(scores, components, mean, explained)


def align(scores, reference) -> np.ndarray:
    """``scores: (n, k)`` turned (rotated or mirrored, never stretched) to lie as close as
    possible to ``reference: (n, k)``, the same points as mapped before.

    Orthogonal Procrustes: with ``scoresᵀ reference = U S Vᵀ``, the best turn is ``U Vᵀ``.
    Successive maps of a training network then move smoothly instead of swapping or
    flipping axes whenever two components trade places. Shapes that differ: unchanged.
    """
    scores, reference = np.asarray(scores, float), np.asarray(reference, float)
    if scores.shape != reference.shape:
        return scores
    U, _, Vt = np.linalg.svd(scores.T @ reference)
    return scores @ (U @ Vt)


def class_separation(A, y) -> float:
    """The share of the spread of ``A: (n, d)`` explained by the class labels ``y: (n,)``.

    ``Σ_c n_c ‖mean_c - mean‖² / Σ_i ‖a_i - mean‖²``: 1 when every point sits on its
    class's mean (classes fully apart), near 0 when the classes overlap completely.
    A representation with no spread at all scores 0.
    """
    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y)
    if A.ndim != 2 or len(A) != len(y):
        raise ValueError(f"need points (n, d) and n labels, got {A.shape} and {y.shape}")
    centred = A - A.mean(axis=0)
    total = float(np.sum(centred**2))
    if total == 0:
        return 0.0
    classes, members = np.unique(y, return_inverse=True)
    one_hot = np.zeros((len(classes), len(y)))
    one_hot[members, np.arange(len(y))] = 1.0
    sums = one_hot @ centred  # (classes, d): each class's sum of centred points
    # n_c ‖mean_c‖² = ‖sum_c‖² / n_c
    return float(np.sum(np.sum(sums**2, axis=1) / one_hot.sum(axis=1))) / total


@dataclass
class LayerView:
    """What the map shows of one network on digits ``X: (n, 784)`` with labels ``y``.

    ``predicted: (n,)``: the network's answers; ``separation``: :func:`class_separation`
    of each representation ``[a_0 (pixels), a_1, ..., a_L (output)]``; ``projection``:
    the PCA of the chosen layer's activations (``None`` when no layer was chosen).
    """

    predicted: np.ndarray
    separation: list[float]
    projection: Projection | None


def layer_view(net, X, y, layer: int | None) -> LayerView:
    """One forward pass of ``X`` through ``net``, and the map of ``a_layer``.

    Raises ValueError when the activations are not finite (a diverged network).
    """
    with np.errstate(all="ignore"):  # overflow is detected below and reported in words
        activations = net.forward(X).activations
    if not all(np.all(np.isfinite(a)) for a in activations):
        raise ValueError("the network's activations are not finite numbers "
                         "(it has diverged), so there is nothing to map")
    return LayerView(
        predicted=activations[-1].argmax(axis=1),
        separation=[class_separation(a, y) for a in activations],
        projection=None if layer is None else pca(activations[layer]),
    )
