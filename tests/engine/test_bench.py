"""The engine's benchmark: ``python -m mnist_np bench`` runs and reports, and the
measuring times every loop in turn. No timing is asserted anywhere."""

import json
import os
import subprocess
import sys

import pytest

from mnist_np.bench import EngineLoop, Result, benchmark, measure

from ..conftest import REPO


@pytest.fixture
def offline_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MNIST_DIR"}
    return env | {"MNIST_CACHE": str(tmp_path / "cache"), "MNIST_MIRRORS": "http://127.0.0.1:9/"}


def bench(*args, env):
    return subprocess.run([sys.executable, "-m", "mnist_np", "bench", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


def test_bench_command_prints_samples_per_second(offline_env):
    result = bench("--steps", "20", "--repeats", "1", "--threads", "1", "--json",
                   env=offline_env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    engine_lines = [line for line in lines if line.startswith("batch ") and "engine" in line
                    and "samples/s" in line]
    assert len(engine_lines) == 2  # batch 128 and batch 32
    assert not any("pytorch" in line or "ratio" in line for line in lines)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["network"] == [784, 128, 10] and summary["data_source"] == "mnist-sample-5k"
    assert [r["batch_size"] for r in summary["results"]] == [128, 32]
    for row in summary["results"]:
        assert row["median"]["engine"] > 0 and row["threads"] == 1
        assert set(row["rates"]) == {"engine"}


@pytest.mark.parametrize("flags", [["--threads", "0"], ["--hidden", "12x"],
                                   ["--batch-sizes", "0"], ["--no-torch"]])
def test_bench_bad_flag_is_one_line(offline_env, flags):
    result = bench(*flags, env=offline_env)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


class CountingLoop:
    """A loop that only counts: which loop ran, in what order, with what batch size."""

    def __init__(self, name, log):
        self.name, self.log, self.batch_size = name, log, None

    def set_batch_size(self, batch_size):
        self.batch_size = batch_size

    def run(self, steps):
        self.log.append((self.name, steps, self.batch_size))

    @property
    def last_loss(self):
        return 0.0


def test_measure_warms_up_then_rotates_which_loop_goes_first():
    log, said = [], []
    loops = [CountingLoop("engine", log), CountingLoop("other", log)]
    result = measure(loops, 16, steps=50, repeats=3, threads=1, say=said.append)
    assert log[:2] == [("engine", 20, 16), ("other", 20, 16)]  # warm-up: at least 20 steps
    assert [name for name, _, _ in log[2:]] == ["engine", "other", "other", "engine",
                                                "engine", "other"]
    assert all(steps == 50 for _, steps, _ in log[2:])
    assert [len(result.rates[n]) for n in ("engine", "other")] == [3, 3]
    assert result.others == ["other"] and len(said) == 3 and said[0].startswith("  repeat 1: ")
    summary = result.summary()
    assert summary["median"]["engine"] == result.median("engine") > 0


def test_median_of_each_loop():
    result = Result(32, 2, rates={"engine": [5.0, 1.0, 3.0], "other": [2.0, 2.0]})
    assert result.median("engine") == 3.0 and result.median("other") == 2.0
    assert result.summary() | {"median": None} == {
        "batch_size": 32, "threads": 2, "rates": result.rates, "cpu_rates": {},
        "median": None}


def test_benchmark_measures_each_thread_count_and_batch_size_and_says_when_it_cannot(sample):
    engine = EngineLoop(sample.X_train, sample.y_train, [784, 8, 10], batch_size=16)
    asked, said = [], []

    def cannot_set(n):
        asked.append(n)
        return False

    results = benchmark([engine], [16, 8], steps=3, repeats=1, thread_counts=[1, 2],
                        say=said.append, set_threads=cannot_set)
    assert [(r.threads, r.batch_size) for r in results] == [(1, 16), (1, 8), (2, 16), (2, 8)]
    assert asked == [1, 2]
    assert sum("threadpoolctl is not installed" in line for line in said) == 2
    assert engine.trainer.step_count == 4 * (20 + 3)  # each measurement: warm-up + timed
