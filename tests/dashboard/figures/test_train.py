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
