"""Confusion matrix, per-digit accuracy and the most confident mistakes."""

import numpy as np

from mnist_np.metrics import confident_mistakes, confusion_matrix, per_class_accuracy


def test_confusion_matrix_rows_are_true_columns_predicted():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], n_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_allclose(per_class_accuracy(cm), [0.5, 1.0, 2 / 3])
    cm4 = confusion_matrix([0, 1], [0, 1], n_classes=4)
    assert cm4.shape == (4, 4) and np.isnan(per_class_accuracy(cm4)[3])


def test_confident_mistakes_are_sorted_and_filtered():
    proba = np.array([
        [0.9, 0.1, 0.0],   # true 0: right
        [0.2, 0.8, 0.0],   # true 0: wrong (1), confidence .8
        [0.1, 0.3, 0.6],   # true 1: wrong (2), .6
        [0.05, 0.0, 0.95], # true 1: wrong (2), .95
        [0.4, 0.0, 0.6],   # true 2: right
        [0.7, 0.3, 0.0],   # true 2: wrong (0), .7
    ])
    y = np.array([0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(confident_mistakes(proba, y), [3, 1, 5, 2])
    np.testing.assert_array_equal(confident_mistakes(proba, y, limit=2), [3, 1])
    np.testing.assert_array_equal(confident_mistakes(proba, y, true=1, predicted=2), [3, 2])
    np.testing.assert_array_equal(confident_mistakes(proba, y, true=1), [3, 2])
    assert len(confident_mistakes(proba, y, true=0, predicted=2)) == 0


def test_next_to_learn_from_walks_the_misread_digits_then_the_least_sure():
    from mnist_np.metrics import next_to_learn_from

    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    y = np.array([0, 0, 1, 1])  # rows 1 and 2 are misread
    assert next_to_learn_from(proba, y) == 1
    assert next_to_learn_from(proba, y, after=1) == 2
    assert next_to_learn_from(proba, y, after=2) == 1  # wraps around
    right = np.array([0, 1, 0, 1])  # all read right: row 2 is the least sure (0.6)
    assert next_to_learn_from(proba, right) == 2
