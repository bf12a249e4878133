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
    (["--dropout", "1"], "argument --dropout: must be below 1, got 1"),
    (["--dropout", "half"], "'half' is not a number"),
    (["--patience", "0"], "argument --patience: must be at least 1"),
    (["--target-accuracy", "101%"], "percentage up to 100%, got 101%"),
    (["--target-accuracy", "1.5"], "a fraction up to 1"),
    (["--momentum", "1.2"], "argument --momentum: must be below 1"),
    (["--beta2", "-0.1"], "argument --beta2: must be a finite number >= 0"),
    (["--eps", "0"], "argument --eps: must be greater than 0"),
    (["--val-size", "-5"], "argument --val-size: must be at least 0"),
    (["--patience", "2", "--val-size", "0"], "they need a validation size above 0"),
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


def test_the_progress_bar_shows_the_last_measured_loss_never_nan(offline_env):
    # past step 100 the trainer measures the loss every few steps only (NaN in between)
    result = run("train", "--hidden", "64", "--epochs", "3", "--batch-size", "8",
                 env=offline_env)
    assert result.returncode == 0, result.stderr
    assert " loss " in result.stderr and "loss nan" not in result.stderr


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


def test_out_writes_the_full_training_file_and_resume_continues_it_exactly(tmp_path,
                                                                          offline_env, sample):
    from mnist_np.checkpoint import load_training

    flags = ["--hidden", "16", "--schedule", "constant", "--batch-size", "50",
             "--train-limit", "400", "--quiet", "--json"]
    straight, half, rest = (tmp_path / f"{n}.npz" for n in ("straight", "half", "rest"))
    assert run("train", *flags, "--steps", "20", "--out", str(straight),
               env=offline_env).returncode == 0
    assert run("train", *flags, "--steps", "9", "--out", str(half),
               env=offline_env).returncode == 0
    loaded = load_training(half.read_bytes(), sample.X_train, sample.y_train, sample.source)
    assert loaded.trainer is not None and loaded.trainer.step_count == 9
    assert loaded.config.schedule == "constant" and loaded.config.batch_size == 50
    result = run("train", "--resume", str(half), "--steps", "20", "--out", str(rest),
                 "--quiet", "--json", env=offline_env)
    assert result.returncode == 0, result.stderr
    assert "resumed" in result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 20 and summary["resumed_from"] == str(half)
    a, b = MLP.load(straight), MLP.load(rest)
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        assert (x == y).all()


@pytest.mark.parametrize("flags,words,code", [
    (["--lr", "0.1"], "--resume continues the file's run with its own settings; drop --lr", 2),
    (["--epochs", "0"], "needs an end to decay towards", 2),
])
def test_resume_refuses_new_settings_in_one_line(tmp_path, offline_env, flags, words, code):
    saved = tmp_path / "m.npz"
    assert run("train", "--hidden", "8", "--steps", "3", "--train-limit", "100", "--quiet",
               "--out", str(saved), env=offline_env).returncode == 0
    result = run("train", "--resume", str(saved), *flags, env=offline_env)
    assert result.returncode == code and words in result.stderr.strip().splitlines()[-1]
    assert result.stderr.count("error:") == 1 and "Traceback" not in result.stderr
    if "--lr" in flags:  # refused before the data is loaded
        assert len(result.stderr.strip().splitlines()) == 1


def test_resume_from_a_network_only_file_says_why_not(tmp_path, offline_env):
    saved = tmp_path / "old.npz"
    MLP([784, 8, 10]).save(saved)
    result = run("train", "--resume", str(saved), env=offline_env)
    assert result.returncode == 1 and "training settings are unknown" in result.stderr
    assert "Traceback" not in result.stderr


def test_dropout_knobs_and_a_target_reach_the_run_and_the_last_line_says_why_it_stopped(
        offline_env):
    result = run("train", "--hidden", "32", "--epochs", "20", "--dropout", "0.2",
                 "--target-accuracy", "80%", "--val-size", "600", "--momentum", "0.8",
                 "--quiet", env=offline_env)
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("Target reached at epoch ") and "≥ 80.00%" in last
    result = run("train", "--hidden", "16", "--epochs", "3", "--optimizer", "adam", "--lr",
                 "0.003", "--beta1", "0.8", "--beta2", "0.99", "--eps", "1e-6", "--patience",
                 "5", "--val-size", "700", "--init", "normal", "--quiet", "--json",
                 env=offline_env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    training = summary["config"]["training"]
    assert (training["beta1"], training["beta2"], training["eps"]) == (0.8, 0.99, 1e-6)
    assert training["patience"] == 5 and summary["n_val"] == 700
    assert summary["config"]["network"]["init"] == "normal"
    assert summary["stop_reason"] == ""  # 3 epochs end before a patience of 5


@pytest.mark.parametrize("flags,words", [
    (["--aug-rotate", "100"], "argument --aug-rotate: the rotate augmentation must be a "
                              "number in [0, 90], got 100.0"),
    (["--aug-shift", "-1"], "argument --aug-shift: must be a finite number >= 0"),
    (["--aug-elastic", "nan"], "argument --aug-elastic: must be a finite number >= 0"),
    (["--aug-noise", "lots"], "'lots' is not a number"),
])
def test_bad_augmentation_flags_get_one_line_and_exit_code_2(flags, words, offline_env):
    result = run("train", *flags, env=offline_env)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_augmented_training_saves_its_settings_and_resumes_exactly(tmp_path, offline_env):
    flags = ["--hidden", "16", "--schedule", "constant", "--batch-size", "50",
             "--train-limit", "400", "--aug-shift", "2", "--aug-rotate", "10",
             "--aug-scale", "0.1", "--aug-elastic", "34", "--aug-noise", "0.1", "--quiet",
             "--json"]
    straight, half, rest = (tmp_path / f"{n}.npz" for n in ("straight", "half", "rest"))
    result = run("train", *flags, "--steps", "12", "--out", str(straight), env=offline_env)
    assert result.returncode == 0, result.stderr
    training = json.loads(result.stdout.strip().splitlines()[-1])["config"]["training"]
    assert (training["aug_shift"], training["aug_rotate"], training["aug_scale"],
            training["aug_elastic"], training["aug_noise"]) == (2, 10, 0.1, 34, 0.1)
    assert run("train", *flags, "--steps", "5", "--out", str(half),
               env=offline_env).returncode == 0
    result = run("train", "--resume", str(half), "--steps", "12", "--out", str(rest),
                 "--quiet", env=offline_env)
    assert result.returncode == 0, result.stderr
    a, b = MLP.load(straight), MLP.load(rest)
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        assert (x == y).all()
    refused = run("train", "--resume", str(half), "--aug-noise", "0.2", env=offline_env)
    assert refused.returncode == 2 and "drop --aug-noise" in refused.stderr


def test_help_names_every_command_study_included():
    result = run("--help")
    assert result.returncode == 0
    for command in ("train", "bench", "data", "python -m mnist_np study --help"):
        assert command in result.stdout
