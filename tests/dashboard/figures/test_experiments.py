"""dashboard.figures.experiments: the runs table, the runs' curves and the sweep figure."""

import math

import numpy as np

from dashboard import sweep as sw
from dashboard.figures.experiments import (
    accuracy_curves_figure,
    loss_curves_figure,
    runs_frame,
    sweep_figure,
)
from dashboard.runs import run_record
from dashboard.settings import Settings
from mnist_np import MLP, TrainConfig, Trainer


def quick_record(sample, number: int, lr: float, **kw):
    settings = Settings(**{"hidden": (16,), "lr": lr, "epochs": 2, "train_limit": 500, **kw})
    net = MLP(**settings.net_config())
    trainer = Trainer(net, sample.X_train, sample.y_train, TrainConfig(**settings.train_config()))
    for _ in trainer.run():
        pass
    status = "diverged" if trainer.diverged else "finished"
    test_acc = trainer.evaluate(sample.X_test, sample.y_test)[1]
    return run_record(number, trainer, settings, sample.source, status, test_acc, "sweep 1")


def test_runs_frame_has_one_row_of_settings_and_results_per_run(sample):
    records = [quick_record(sample, 1, 0.1), quick_record(sample, 2, 0.5, l2=1e-3)]
    frame = runs_frame(records)
    assert list(frame["run"]) == [1, 2] and list(frame["L2"]) == [0.0, 1e-3]
    assert list(frame["epochs"]) == [2.0, 2.0] and list(frame["from"]) == ["sweep 1"] * 2
    assert frame.loc[1, "validation accuracy"] == records[1].val_accuracy
    assert runs_frame([]).empty and "test accuracy" in runs_frame([]).columns
    acc = accuracy_curves_figure(records)
    assert [t.name for t in acc.data] == ["run 1 validation", "run 1 train",
                                          "run 2 validation", "run 2 train"]
    assert list(acc.data[0].y) == records[0].epoch_curves["val_accuracy"]
    loss = loss_curves_figure(records)
    assert len(loss.data) == 2 and loss.layout.yaxis.type == "log"


def test_sweep_figure_is_a_heatmap_for_two_settings_and_lines_for_one(sample):
    plan2 = sw.plan(Settings(), [("lr", [0.1, 10.0]), ("batch_size", [32, 64])], 1, 1000)
    records = [quick_record(sample, 1, 0.1, optimizer="sgd"),
               quick_record(sample, 2, 0.1, optimizer="sgd"),
               quick_record(sample, 3, 10.0, optimizer="sgd", init="uniform",
                            hidden=(128, 128, 128))]  # the "exploding" preset, 100x the lr
    assert records[2].status == "diverged" and math.isnan(records[2].val_accuracy)
    heat = sweep_figure(plan2, records)  # the fourth run is still to come
    (trace,) = heat.data
    assert trace.type == "heatmap" and np.shape(trace.z) == (2, 2)
    assert list(trace.y) == ["0.1", "10"] and list(trace.x) == ["32", "64"]
    assert trace.z[0][1] == records[1].val_accuracy
    assert list(trace.text[1]) == ["diverged", "waiting"]
    plan1 = sw.plan(Settings(), [("activation", ["relu", "tanh"])], 1, 1000)
    lines = sweep_figure(plan1, records[:1])
    assert [t.name for t in lines.data] == ["validation accuracy", "test accuracy"]
    assert list(lines.data[0].x) == ["relu", "tanh"] and math.isnan(lines.data[0].y[1])
