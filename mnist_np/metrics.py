"""Where a classifier goes wrong: the confusion matrix, accuracy per digit, and its most
confident mistakes. Inputs are plain arrays: ``proba: (n, k)`` rows of class
probabilities (``MLP.predict_proba``) and ``y: (n,)`` integer labels."""

from __future__ import annotations

import numpy as np

from .data import N_CLASSES


def confusion_matrix(y_true, y_pred, n_classes: int = N_CLASSES) -> np.ndarray:
    """Counts ``(k, k)``: row = true class, column = predicted class."""
    y_true, y_pred = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Fraction of each true class predicted correctly, ``(k,)``; NaN for an absent class."""
    totals = cm.sum(axis=1)
    correct = np.diag(cm).astype(float)
    return np.divide(correct, totals, out=np.full(len(cm), np.nan), where=totals > 0)


def confident_mistakes(proba: np.ndarray, y, true: int | None = None,
                       predicted: int | None = None, limit: int | None = None) -> np.ndarray:
    """Row indices of misclassified samples, the most confident mistake first.

    Confidence is the probability given to the predicted (wrong) class. ``true`` and
    ``predicted`` keep only one cell of the confusion matrix; ``limit`` caps the count.
    """
    y = np.asarray(y)
    pred = proba.argmax(axis=1)
    wrong = pred != y
    if true is not None:
        wrong &= y == true
    if predicted is not None:
        wrong &= pred == predicted
    idx = np.flatnonzero(wrong)
    confidence = proba[idx, pred[idx]]
    order = np.argsort(-confidence, kind="stable")
    return idx[order[:limit]]


def next_to_learn_from(proba: np.ndarray, y, after: int = -1) -> int:
    """A digit worth learning from: the first misread one after row ``after`` (wrapping
    around), or, when every digit is read right, the one the network is least sure of
    (the lowest probability for its true class)."""
    y = np.asarray(y)
    wrong = np.flatnonzero(proba.argmax(axis=1) != y)
    if len(wrong):
        later = wrong[wrong > after]
        return int(later[0] if len(later) else wrong[0])
    return int(np.argmin(proba[np.arange(len(y)), y]))
