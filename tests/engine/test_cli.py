"""The command line, run as a user runs it: a subprocess, its exit code and its output."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mnist_np import MLP

from ..conftest import REPO, mnist_dir


def run(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "mnist_np", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def offline_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MNIST_DIR"}
    return env | {"MNIST_CACHE": str(tmp_path / "cache"), "MNIST_MIRRORS": "http://127.0.0.1:9/"}


@pytest.mark.parametrize("flags,words", [
    (["--hidden", "128,0"], "a hidden layer's size must be at least 1, got 0"),
    (["--hidden", "12x"], "a hidden layer's size must be a whole number, got '12x'"),
    (["--lr", "-0.1"], ">= 0"),
    (["--lr", "0"], "greater than 0"),
    (["--batch-size", "0"], "at least 1"),
    (["--epochs", "two"], "whole number"),
    (["--epochs", "-1"], "at least 0"),
    (["--epochs", "0", "--schedule", "linear"], "needs an end to decay towards"),
    (["--activation", "swish"], "invalid choice"),
    (["--output", "softmax", "--loss", "mse"], "not supported"),
    (["--nonsense"], "unrecognized"),
    (["--seed", "-3"], "seed must be a whole number >= 0"),
    (["--hidden", "100000000000"], "not enough memory"),
])
def test_bad_flags_get_one_line_and_exit_code_2(flags, words, offline_env):
    result = run("train", *flags, env=offline_env)
    assert result.returncode == 2
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_train_offline_uses_the_sample_says_so_and_saves(tmp_path, offline_env):
    out = tmp_path / "m.npz"
    result = run("train", "--hidden", "32", "--epochs", "2", "--batch-size", "64",
                 "--out", str(out), "--json", env=offline_env)
    assert result.returncode == 0, result.stderr
    assert "SAMPLE of MNIST" in result.stderr and "mnist-sample-5k" in result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["data_source"] == "mnist-sample-5k"
    assert summary["epochs"] == 2 and summary["diverged"] is False
    assert summary["test_accuracy"] > 0.8 and summary["samples_per_second"] > 0
    assert summary["config"]["network"]["layer_sizes"] == [784, 32, 10]
    for key in ("train_seconds", "final_loss", "steps"):
        assert key in summary
    assert MLP.load(out).layer_sizes == [784, 32, 10]


def test_diverging_run_exits_non_zero_and_says_so(offline_env):
    result = run("train", "--preset", "exploding", "--json", "--quiet", env=offline_env)
    assert result.returncode == 1
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["diverged"] is True and "learning rate" in summary["message"]
    assert "diverged" in result.stdout


def test_broken_data_dir_is_one_line_and_exit_1(tmp_path, offline_env):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    result = run("train", "--data-dir", str(tmp_path), env=offline_env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "error:" in result.stderr


def test_train_on_full_mnist_reports_the_official_set(offline_env):
    folder = mnist_dir()
    if folder is None:
        pytest.skip("the official MNIST files are not here")
    result = run("train", "--data-dir", str(folder), "--hidden", "64", "--steps", "300",
                 "--train-limit", "20000", "--json", "--quiet", env=offline_env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["data_source"] == "mnist" and summary["steps"] == 300
    assert summary["n_train"] == 20_000 and summary["test_accuracy"] > 0.85
    assert "full MNIST" in result.stderr


def test_epochs_0_trains_until_ctrl_c_then_reports_and_saves(tmp_path, offline_env):
    out = tmp_path / "m.npz"
    process = subprocess.Popen(
        [sys.executable, "-m", "mnist_np", "train", "--hidden", "16", "--epochs", "0",
         "--train-limit", "500", "--batch-size", "100", "--out", str(out), "--json"],
        cwd=REPO, env=offline_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = ""
        while "loss " not in seen:  # the progress bar: training has started
            char = process.stderr.read(1)
            assert char, f"ended before training: {seen}"
            seen += char
        time.sleep(1)
        process.send_signal(signal.SIGINT)  # Ctrl-C
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["interrupted"] is True and summary["steps"] > 5
    assert summary["config"]["training"]["epochs"] == 0
    assert summary["config"]["training"]["schedule"] == "constant"
    assert MLP.load(out).layer_sizes == [784, 16, 10]
