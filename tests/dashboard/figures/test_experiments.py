"""dashboard.figures.experiments: the runs table, the runs' curves and the sweep figure."""

import math
from dataclasses import replace

import numpy as np
import pyarrow as pa

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
    assert [t.name for t in acc.data] == ["run 1: lr 0.1, L2 0", "run 1: lr 0.1, L2 0 train",
                                          "run 2: lr 0.5, L2 0.001",
                                          "run 2: lr 0.5, L2 0.001 train"]
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


def test_runs_frame_columns_convert_to_arrow_with_all_and_limited_runs(sample):
    # Streamlit sends a table as Arrow: a column of "all" beside 5000 made the server log
    # "ArrowTypeError ... Conversion failed for column training images" on every redraw
    limited = quick_record(sample, 1, 0.1)
    full = replace(limited, number=2, settings=replace(limited.settings, train_limit=None))
    frame = runs_frame([limited, full])
    pa.Table.from_pandas(frame)  # raises on a column of mixed types
    assert list(frame["training images"]) == ["500", "all"]
    for column in frame.columns:
        assert len({type(v) for v in frame[column]}) == 1, column


def test_runs_frame_shows_the_results_before_the_settings(sample):
    frame = runs_frame([quick_record(sample, 1, 0.1)])
    assert list(frame.columns[:8]) == ["run", "name", "from", "status", "test accuracy",
                                       "validation accuracy", "train accuracy", "seconds"]
    assert list(frame.columns) == list(runs_frame([]).columns)


def test_legends_name_runs_by_the_settings_that_differ(sample):
    a = quick_record(sample, 1, 0.1)
    b = quick_record(sample, 2, 0.5)
    c = quick_record(sample, 3, 0.5, batch_size=64)
    acc = accuracy_curves_figure([a, b, c])
    legend = [t.name for t in acc.data if t.showlegend is not False]
    assert legend == ["run 1: lr 0.1, batch 128", "run 2: lr 0.5, batch 128",
                      "run 3: lr 0.5, batch 64"]
    assert [t.name for t in loss_curves_figure([a, b]).data] == ["run 1: lr 0.1",
                                                                 "run 2: lr 0.5"]
    assert [t.name for t in loss_curves_figure([a]).data] == ["run 1"]  # nothing differs


def _fake_curves(record, number, epochs, start=0.9, status="finished", loss=None):
    e = list(range(1, epochs + 1))
    acc = list(np.linspace(start, 0.98, epochs))
    steps = [float(s) for s in range(1, 10 * epochs + 1)]
    losses = loss if loss is not None else list(np.linspace(2.0, 0.1, len(steps)))
    return replace(record, number=number, status=status,
                 epoch_curves={"epoch": e, "train_loss": acc, "val_loss": acc,
                               "train_accuracy": [a + 0.01 for a in acc],
                               "val_accuracy": acc},
                 loss_curve=(steps[:len(losses)], losses))


def test_runs_of_different_lengths_get_a_few_integer_epoch_ticks(sample):
    base = quick_record(sample, 1, 0.1)
    runs = [_fake_curves(base, 1, 2), _fake_curves(base, 2, 36)]  # the seed preset: 36
    x = accuracy_curves_figure(runs).layout.xaxis
    assert x.dtick is not None and float(x.dtick).is_integer() and 36 / x.dtick <= 10
    assert x.tick0 in (0, 1) and x.range[0] >= 0 and x.range[1] >= 36
    short = accuracy_curves_figure([_fake_curves(base, 1, 3)]).layout.xaxis
    assert short.dtick == 1 and short.range[0] >= 0


def test_a_diverged_run_does_not_flatten_the_other_loss_curves(sample):
    base = quick_record(sample, 1, 0.1)
    runs = [_fake_curves(base, 1, 2), _fake_curves(base, 2, 2),
            _fake_curves(base, 3, 2, status="diverged",
                         loss=[*np.logspace(0, 20, 15), float("inf")])]
    y = loss_curves_figure(runs).layout.yaxis
    assert y.type == "log" and y.range is not None
    assert y.range[1] <= np.log10(2.0) + 0.5  # the finite runs' range, not 1e20
    notes = " ".join(a.text for a in loss_curves_figure(runs).layout.annotations)
    assert "run 3" in notes and "off the scale" in notes
    alone = loss_curves_figure(runs[2:]).layout.yaxis  # nothing else to zoom to
    assert alone.range is None


def test_compared_accuracy_zooms_to_the_data_and_says_so(sample):
    base = quick_record(sample, 1, 0.1)
    fig = accuracy_curves_figure([_fake_curves(base, 1, 3, start=0.96)])
    y = fig.layout.yaxis
    assert 0.9 < y.range[0] < 0.96 and 0.99 <= y.range[1] <= 1.01
    assert "not 0" in y.title.text


def test_a_named_run_is_named_in_legends_with_its_html_escaped(sample):
    a = replace(quick_record(sample, 1, 0.1), name="<b>fast</b> & <a href='x'>loose</a>")
    b = quick_record(sample, 2, 0.5)
    names = [t.name for t in loss_curves_figure([a, b]).data]
    assert names == ["run 1: &lt;b&gt;fast&lt;/b&gt; &amp; &lt;a href=&#x27;x&#x27;&gt;loose"
                     "&lt;/a&gt;", "run 2: lr 0.5"]
    long = replace(a, name="x" * 500)
    assert len(loss_curves_figure([long]).data[0].name) < 80


def test_the_runs_table_as_parquet_reads_back_typed(sample):
    import io

    import pandas as pd

    from dashboard.figures.experiments import runs_parquet

    runs = [replace(quick_record(sample, 1, 0.1), name="first"), quick_record(sample, 2, 0.5)]
    back = pd.read_parquet(io.BytesIO(runs_parquet(runs)))
    assert list(back.columns) == list(runs_frame(runs).columns)
    assert list(back["name"]) == ["first", ""] and list(back["learning rate"]) == [0.1, 0.5]
    assert back["test accuracy"].dtype.kind == "f"
