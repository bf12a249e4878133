"""dashboard.figures.train: the Train page's loss and accuracy charts."""

import numpy as np
import pytest

from dashboard.figures.base import smooth
from dashboard.figures.train import accuracy_figure, loss_figure
from mnist_np import EpochRecord


def test_train_figures_show_batches_and_epochs():
    steps, losses = np.arange(1, 101), np.linspace(2, 0.1, 100)
    epochs = [EpochRecord(1, 50, 1.0, 0.7, 1.1, 0.68, 1.0),
              EpochRecord(2, 100, 0.5, 0.9, 0.6, 0.88, 2.0)]
    fig = loss_figure(steps, losses, epochs)
    names = [t.name for t in fig.data]
    assert names == ["batch loss", "batch loss (moving average)", "train loss (epoch mean)",
                     "validation loss"]
    assert list(fig.data[3].y) == [1.1, 0.6] and fig.layout.yaxis.type == "log"
    assert {0.05, 0.1, 0.2, 0.5, 1.0, 2.0} <= set(fig.layout.yaxis.tickvals)  # full labels
    diverging = loss_figure(steps, np.logspace(0, 30, 100), epochs)  # beyond the 1-2-5 ticks
    # 0.6 (an epoch's validation loss) to 1e30: 30.2 decades, a label every 6
    assert diverging.layout.yaxis.tickvals is None and diverging.layout.yaxis.dtick == 6
    acc = accuracy_figure(steps, np.full(100, 0.5), epochs)
    assert list(acc.data[-1].y) == [0.68, 0.88]
    assert len(loss_figure([], [], []).data) == 0
    np.testing.assert_allclose(smooth([1, 3, 5], window=2), [1, 2, 4])
    long = loss_figure(np.arange(1, 2001), np.linspace(2, 0.1, 2000), [])
    x = np.asarray(long.data[0].x)
    assert len(x) <= 501 and x[0] == 1 and x[-1] == 2000  # thinned, ends kept
    # the moving average is taken before thinning, over every step
    assert long.data[1].y[-1] == pytest.approx(np.linspace(2, 0.1, 2000)[-25:].mean())


def test_loss_ticks_write_small_numbers_plainly():
    # plotly's default SI prefixes labelled 5e-4 "500µ"
    fig = loss_figure(np.arange(1, 101), np.linspace(0.5, 3e-4, 100), [])
    y = fig.layout.yaxis
    labels = dict(zip(y.tickvals, y.ticktext))
    assert labels[5e-4] == "0.0005" and labels[0.05] == "0.05" and labels[2.0] == "2"
    assert not any("µ" in t or "m" in t for t in y.ticktext)


def test_accuracy_axis_zooms_to_the_epochs_and_says_it_does_not_start_at_0():
    steps = np.arange(1, 201)
    accs = np.concatenate([np.linspace(0.1, 0.97, 100), np.full(100, 0.98)])
    epochs = [EpochRecord(1, 100, 0.1, 0.975, 0.1, 0.972, 1.0),
              EpochRecord(2, 200, 0.05, 0.99, 0.08, 0.978, 2.0)]
    y = accuracy_figure(steps, accs, epochs).layout.yaxis
    assert 0.8 <= y.range[0] < 0.972 and 0.99 <= y.range[1] <= 1.01  # the steps from epoch 1
    assert "not 0" in y.title.text
    early = accuracy_figure(steps[:50], accs[:50], []).layout.yaxis  # 10% to 50%: from 0
    assert early.range[0] == 0 and "not 0" not in (early.title.text or "")
