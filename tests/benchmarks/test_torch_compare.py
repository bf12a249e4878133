"""benchmarks/torch_compare.py: the engine against PyTorch. The PyTorch parts skip when it
is not installed (it is never a dependency); the script itself runs either way. No timing
is asserted anywhere."""

import json

import numpy as np
import pytest

from benchmarks.torch_compare import (
    TorchLoop,
    best_ratio,
    cpu_ratio,
    import_torch,
    ratio,
    ratio_lines,
    summary_row,
)
from mnist_np.bench import EngineLoop, Result, measure

from .conftest import run_script

torch = import_torch()
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def compare(*args, env):
    return run_script("torch_compare.py", *args, env=env)


def test_compare_prints_both_rates_and_the_ratio_when_pytorch_is_there(offline_env):
    result = compare("--steps", "20", "--repeats", "1", "--threads", "1", "--json",
                     env=offline_env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    engine_lines = [line for line in lines if line.startswith("batch ") and "engine" in line
                    and "samples/s" in line]
    assert len(engine_lines) == 2  # batch 128 and batch 32
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert [r["batch_size"] for r in summary["results"]] == [128, 32]
    assert [r["goal"] for r in summary["results"]] == [1.5, 2.0]
    if torch is None:
        assert "not installed" in result.stderr and summary["pytorch"] is None
        assert all(r["ratio_median"] == {} for r in summary["results"])
    else:
        ratio_lines = [line for line in lines if "pytorch" in line and "ratio" in line
                       and "samples/s:" in line]
        assert len(ratio_lines) == 2
        assert all(row["ratio_median"]["pytorch"] > 0 for row in summary["results"])


def test_compare_without_torch_reports_the_engine_alone(offline_env):
    result = compare("--steps", "10", "--repeats", "1", "--threads", "1", "--batch-sizes", "64",
                     "--hidden", "32", "--no-torch", env=offline_env)
    assert result.returncode == 0, result.stderr
    assert "engine" in result.stdout and "samples/s" in result.stdout
    assert "ratio" not in result.stdout and "skipped (--no-torch)" in result.stdout


def test_compare_bad_flag_is_one_line(offline_env):
    result = compare("--torch-gather", "take", env=offline_env)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "invalid choice" in result.stderr and "Traceback" not in result.stderr


def test_ratios_are_medians_of_back_to_back_repeats_and_say_whether_the_goal_is_met():
    result = Result(128, 1, rates={"engine": [300.0, 100.0, 250.0], "pytorch": [100.0, 100.0,
                                                                                125.0]},
                    cpu_rates={"engine": [30.0, 30.0, 30.0], "pytorch": [10.0, 20.0, 30.0]})
    assert ratio(result, "pytorch") == 2.0        # per repeat 3, 1, 2
    assert cpu_ratio(result, "pytorch") == 1.5    # per repeat 3, 1.5, 1
    assert best_ratio(result, "pytorch") == 2.4   # 300 / 125
    row = summary_row(result)
    assert row["goal"] == 1.5 and row["ratio_median"] == {"pytorch": 2.0}
    assert row["median"] == {"engine": 250.0, "pytorch": 100.0}
    [line] = ratio_lines(result, goal_network=True)
    assert "ratio 2.00x" in line and line.endswith("goal 1.5x met")
    assert "goal" not in ratio_lines(result, goal_network=False)[0]
    result.rates["engine"] = [120.0, 120.0, 120.0]
    assert ratio_lines(result, goal_network=True)[0].endswith("goal 1.5x NOT met")


@needs_torch
def test_compare_times_both_pytorch_gathers_side_by_side(offline_env):
    result = compare("--steps", "10", "--repeats", "2", "--threads", "1", "--batch-sizes", "32",
                     "--torch-gather", "index_select", "index", "--json", env=offline_env)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout.strip().splitlines()[-1])["results"][0]
    assert set(row["ratio_median"]) == {"pytorch_index_select", "pytorch_index"}
    assert all(len(rates) == 2 for rates in row["rates"].values())


@needs_torch
@pytest.mark.parametrize("gather", ["index_select", "index"])
def test_engine_and_pytorch_train_the_same_network_on_the_same_batches(sample, gather):
    engine = EngineLoop(sample.X_train, sample.y_train, [784, 32, 10], batch_size=50)
    ref = TorchLoop(torch, *engine.trainer.train_split(), engine.net, 50, gather)
    torch.set_num_threads(1)
    result = measure([engine, ref], 50, steps=100, repeats=1, threads=1, warmup=0,
                     say=lambda _: None)  # 100 steps of 50: more than one epoch of 4,000
    assert len(result.rates["engine"]) == len(result.rates[ref.name]) == 1
    # same start, data, order and learning rate: the same weights, up to float32 rounding
    W_torch = ref.model[0].weight.detach().numpy().T
    np.testing.assert_allclose(engine.net.weights[0], W_torch, atol=2e-4)
    assert engine.last_loss == pytest.approx(ref.last_loss, rel=1e-3, abs=1e-4)
