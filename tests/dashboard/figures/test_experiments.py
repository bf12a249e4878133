"""dashboard.figures.experiments: the runs table, the runs' curves, a study's trials and
Optuna's figures."""

from dataclasses import replace

import numpy as np
import optuna
import plotly.graph_objects as go
import pyarrow as pa
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

from dashboard.figures.experiments import (
    STUDY_FIGURES,
    accuracy_curves_figure,
    loss_curves_figure,
    runs_frame,
    study_figures,
    trials_frame,
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


def _study():
    """A study told by hand: two finished trials, one pruned after its first epoch."""
    study = optuna.create_study(direction="maximize")
    dists = {"lr": FloatDistribution(1e-3, 1, log=True), "hidden": CategoricalDistribution(
        ["32", "64"])}
    for lr, hidden, curve in ((0.1, "32", [0.8, 0.9]), (0.3, "64", [0.85, 0.92]),
                              (0.001, "32", [0.2])):
        study.enqueue_trial({"lr": lr, "hidden": hidden})
        trial = study.ask(dists)
        for epoch, value in enumerate(curve, 1):
            trial.report(value, epoch)
        trial.set_user_attr("run", 7 if lr == 0.1 else None)
        if len(curve) == 2:
            study.tell(trial, curve[-1])
        else:
            trial.set_user_attr("status", "pruned")
            study.tell(trial, state=TrialState.PRUNED)
    return study


def test_trials_frame_has_one_typed_row_a_trial():
    frame = trials_frame(_study().trials)
    pa.Table.from_pandas(frame)  # one type a column: Streamlit sends it as Arrow
    assert list(frame["status"]) == ["complete", "complete", "pruned"]
    assert list(frame["validation accuracy"]) == [0.9, 0.92, 0.2]
    assert list(frame["epochs"]) == [2, 2, 1] and frame["run"].iloc[0] == 7
    assert frame["run"].isna().tolist() == [False, True, True]


def test_study_figures_are_optunas_or_say_why_not():
    figures = study_figures(_study())
    assert isinstance(figures["history"], go.Figure) and isinstance(figures["parallel"],
                                                                   go.Figure)
    assert figures["history"].layout.title.text == STUDY_FIGURES["history"]
    assert "needs 3 finished trials" in figures["importance"]  # 2 so far
    lines = figures["intermediate"]
    assert len(lines.data) == 3 and lines.layout.xaxis.title.text == "epoch"
    empty = study_figures(optuna.create_study(direction="maximize"))
    assert empty["history"] == "no trial has finished yet"


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


def test_runs_frame_lists_dropout_stopping_and_optimizer_knobs_and_how_a_run_ended(sample):
    plain = quick_record(sample, 1, 0.1)
    stopped = quick_record(sample, 2, 0.1, dropout=0.2, target_accuracy=0.5, val_size=600,
                           epochs=10, momentum=0.8)
    frame = runs_frame([plain, stopped])
    pa.Table.from_pandas(frame)  # one type a column
    assert list(frame["dropout"]) == [0.0, 0.2] and list(frame["target"]) == ["off", "50.00%"]
    assert list(frame["patience"]) == ["off", "off"]
    assert list(frame["validation images"]) == [5000, 600]
    assert list(frame["momentum μ"]) == [0.9, 0.8] and list(frame["Adam ε"]) == [1e-8, 1e-8]
    assert frame.loc[0, "how it ended"] == "Finished: 2 epochs done."
    assert frame.loc[1, "how it ended"].startswith("Target reached at epoch ")
    assert stopped.epochs < 10
    labels = [t.name for t in accuracy_curves_figure([plain, stopped]).data]
    assert labels[0].startswith("run 1: epochs 2, dropout 0, target off")
