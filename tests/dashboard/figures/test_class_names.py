"""Figures name the classes of the data set in use (issue 18, item 5): "Sneaker", not 7;
MNIST's digits keep their "digit" axes."""

import numpy as np

from dashboard.figures.backprop import before_after_figure, output_figure
from dashboard.figures.base import class_names
from dashboard.figures.map import map_figure
from dashboard.figures.mistakes import confusion_figure, mistakes_figure, per_digit_accuracy_figure
from dashboard.figures.robustness import answer_figure
from mnist_np.data import DATASETS, DIGITS

FASHION = DATASETS["fashion"].classes


def test_class_names_and_what_they_are_called():
    assert class_names(10) == (list(DIGITS), "digit")
    assert class_names(10, DIGITS) == (list(DIGITS), "digit")
    assert class_names(10, FASHION) == (list(FASHION), "class")


def test_the_mistakes_figures_name_the_classes():
    cm = np.eye(10, dtype=int) * 5
    cm[7, 5] = 3
    fig = confusion_figure(cm, (7, 5), FASHION)
    assert list(fig.layout.xaxis.ticktext) == list(FASHION) == list(fig.layout.yaxis.ticktext)
    assert fig.layout.xaxis.title.text == "predicted class"
    assert "true Sneaker, predicted Sandal: 3" in fig.data[1].text
    bars = per_digit_accuracy_figure(np.full(10, 0.9), FASHION)
    assert bars.layout.title.text == "Accuracy per class (test set)"
    assert bars.layout.xaxis.tickangle == -45  # all ten names shown, "Ankle boot" too
    gallery = mistakes_figure(np.zeros((2, 784)), [7, 0], [5, 9], [0.9, 0.8], classes=FASHION)
    texts = [a.text for a in gallery.layout.annotations]
    assert texts == ["<b>Sneaker</b> → Sandal (90%)", "<b>T-shirt/top</b> → Ankle boot (80%)"]
    digits = confusion_figure(cm)
    assert digits.layout.xaxis.title.text == "predicted digit"
    assert list(digits.layout.xaxis.ticktext) == list(DIGITS)


def test_map_backprop_and_answer_figures_name_the_classes():
    y = np.array([7, 7, 0])
    fig = map_figure(np.zeros((3, 2)), y, np.array([7, 5, 0]), "map", classes=FASHION)
    assert [t.name for t in fig.data[:2]] == ["T-shirt/top", "Sneaker"]
    assert "true Sneaker, network says Sandal" in fig.data[2].hovertext
    assert fig.layout.legend.title.text == "true class"
    out = output_figure(np.full(10, 0.1), np.eye(10)[7], FASHION)
    assert list(out.data[0].x) == list(FASHION) and out.layout.xaxis.title.text == "class"
    update = before_after_figure(np.full(10, 0.1), np.full(10, 0.1), 7, FASHION)
    assert list(update.data[0].x) == list(FASHION)
    answer = answer_figure(np.eye(10)[7] * 0.9 + 0.01, 7, classes=FASHION)
    assert answer.layout.title.text.startswith("The network says Sneaker (91%)")
    assert answer.layout.xaxis.ticktext[7] == "Sneaker<br>(true)"
