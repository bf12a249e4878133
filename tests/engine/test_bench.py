"""The benchmark runs and reports, the two loops it compares train the same thing, and the
training loop's fast path (preallocated buffers, the learning rate folded into the
backward pass, the fused softmax + cross-entropy) computes what the plain path does.
No timing is asserted anywhere."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mnist_np import ACTIVATIONS, MLP, OUTPUT_LOSSES, TrainConfig, Trainer
from mnist_np.bench import EngineLoop, TorchLoop, import_torch, measure
from mnist_np.network import Buffers
from mnist_np.optimizers import SGD, Momentum, norm

from ..conftest import REPO

torch = import_torch()
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


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
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert [r["batch_size"] for r in summary["results"]] == [128, 32]
    for row in summary["results"]:
        assert row["median"]["engine"] > 0 and row["threads"] == 1
    if torch is None:
        assert "not installed" in result.stderr and summary["pytorch"] is None
    else:
        ratio_lines = [line for line in lines if "pytorch" in line and "ratio" in line
                       and "samples/s:" in line]
        assert len(ratio_lines) == 2
        assert all(row["ratio_median"]["pytorch"] > 0 for row in summary["results"])


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_bench_times_both_pytorch_gathers_side_by_side(offline_env):
    result = bench("--steps", "10", "--repeats", "2", "--threads", "1", "--batch-sizes", "32",
                   "--torch-gather", "index_select", "index", "--json", env=offline_env)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout.strip().splitlines()[-1])["results"][0]
    assert set(row["ratio_median"]) == {"pytorch_index_select", "pytorch_index"}
    assert all(len(rates) == 2 for rates in row["rates"].values())


def test_bench_without_torch_reports_the_engine_alone(offline_env):
    result = bench("--steps", "10", "--repeats", "1", "--threads", "1", "--batch-sizes", "64",
                   "--hidden", "32", "--no-torch", env=offline_env)
    assert result.returncode == 0, result.stderr
    assert "engine" in result.stdout and "samples/s" in result.stdout
    assert "ratio" not in result.stdout and "engine numbers only" in result.stdout


def test_bench_bad_flag_is_one_line(offline_env):
    result = bench("--threads", "0", env=offline_env)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


@needs_torch
@pytest.mark.parametrize("gather", ["index_select", "index"])
def test_engine_and_pytorch_train_the_same_network_on_the_same_batches(sample, gather):
    engine = EngineLoop(sample.X_train, sample.y_train, [784, 32, 10], batch_size=50)
    ref = TorchLoop(torch, *engine.trainer.train_split(), engine.net, 50,
                    gather)
    torch.set_num_threads(1)
    result = measure([engine, ref], 50, steps=100, repeats=1, threads=1, warmup=0,
                     say=lambda _: None)  # 100 steps of 50: more than one epoch of 4,000
    assert len(result.rates["engine"]) == len(result.rates[ref.name]) == 1
    # same start, data, order and learning rate: the same weights, up to float32 rounding
    W_torch = ref.model[0].weight.detach().numpy().T
    np.testing.assert_allclose(engine.net.weights[0], W_torch, atol=2e-4)
    assert engine.last_loss == pytest.approx(ref.last_loss, rel=1e-3, abs=1e-4)


# -- the fast path computes what the plain path computes --------------------------
def _batch(sizes, n=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0])).astype(np.float32)
    Y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], n)]
    return X, Y


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("output,loss", sorted(OUTPUT_LOSSES))
def test_buffered_and_scaled_pass_equals_the_plain_pass(activation, output, loss):
    sizes = [12, 9, 6, 5]
    net = MLP(sizes, activation=activation, output=output, loss=loss, init="xavier",
              l2=0.01, seed=1)
    X, Y = _batch(sizes)
    plain = net.forward(X)
    plain_grads = net.backward(plain, Y)
    buffers = Buffers(sizes, len(X), net.dtype)
    np.copyto(buffers.activations[0], X)
    fwd, data_loss = net.forward_loss(buffers.activations[0], Y, buffers=buffers)
    assert data_loss == pytest.approx(net.data_loss(plain, Y), rel=1e-5, abs=1e-6)
    assert fwd.output is buffers.activations[-1]
    for a, b in zip(fwd.activations, plain.activations):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    grads = net.backward(fwd, Y, buffers=buffers, scale=0.3)
    for got, want in zip(grads.dWs + grads.dbs, plain_grads.dWs + plain_grads.dbs):
        np.testing.assert_allclose(got, 0.3 * want, rtol=1e-4, atol=1e-7)
    assert grads.dWs[0] is buffers.dWs[0]


def test_fused_softmax_cross_entropy_is_exact_for_huge_logits():
    net = MLP([1, 2], activation="relu", output="softmax", loss="cross_entropy",
              dtype="float64")
    net.weights[0][...] = [[1000.0, -1000.0]]
    X = np.array([[1.0]])
    for Y, want in (([[1.0, 0.0]], 0.0), ([[0.0, 1.0]], 2000.0)):
        fwd, loss = net.forward_loss(X, np.array(Y))
        assert loss == pytest.approx(want, abs=1e-9) and np.all(np.isfinite(fwd.output))


@pytest.mark.parametrize("cls", [SGD, Momentum])
def test_scaled_gradients_give_the_same_update(cls):
    rng = np.random.default_rng(2)
    params = [rng.normal(size=(5, 4)), rng.normal(size=4)]
    grads = [rng.normal(size=(5, 4)), rng.normal(size=4)]
    a, b = cls(lr=0.05), cls(lr=0.05)
    pa, pb = [p.copy() for p in params], [p.copy() for p in params]
    for _ in range(3):  # momentum carries state from step to step
        norms_a = a.step(pa, [g.copy() for g in grads])
        scaled = [0.05 * g for g in grads]
        norms_b = b.step(pb, scaled, scaled=True, grad_norms=[norm(g) for g in scaled])
        np.testing.assert_allclose(norms_a, norms_b, rtol=1e-12)
        for x, y in zip(pa, pb):
            np.testing.assert_allclose(x, y, rtol=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_trainer_records_match_a_step_done_by_hand(sample, optimizer):
    net = MLP([784, 16, 10], seed=3)
    reference = net.copy()
    t = Trainer(net, sample.X_train, sample.y_train,
                TrainConfig(optimizer=optimizer, lr=0.05, batch_size=20, steps=5))
    record = t.step()
    X, labels = sample.X_train[t._order[:20]], sample.y_train[t._order[:20]]
    Y = np.eye(10, dtype=np.float32)[labels]
    fwd = reference.forward(X)
    grads = reference.backward(fwd, Y)
    assert record.loss == pytest.approx(reference.data_loss(fwd, Y), rel=1e-5)
    assert record.accuracy == np.mean(fwd.output.argmax(axis=1) == labels)
    np.testing.assert_allclose(record.grad_norms, [norm(g) for g in grads.dWs], rtol=1e-4)
    dead = [np.mean(~(a > 0).any(axis=0)) for a in fwd.activations[1:-1]]
    np.testing.assert_array_equal(record.saturation, dead)
    before = [W.copy() for W in reference.weights]
    ref_opt = type(t.optimizer)(lr=0.05)
    updates = ref_opt.step(reference.weights + reference.biases, grads.dWs + grads.dbs)
    for W, W_ref, W0 in zip(net.weights, reference.weights, before):
        np.testing.assert_allclose(W - W0, W_ref - W0, rtol=1e-3, atol=1e-7)
    ratios = [u / norm(W) for u, W in zip(updates, reference.weights)]
    np.testing.assert_allclose(record.update_ratios, ratios, rtol=1e-4)


def test_profile_step_prints_each_statement_and_the_matmul_floor(offline_env):
    """benchmarks/profile_step.py on the offline sample: a line per statement of
    Trainer._step, the total, and with --matmul the products timed alone."""
    result = subprocess.run(
        [sys.executable, "benchmarks/profile_step.py", "--steps", "30", "--batch-size", "32",
         "--matmul"], cwd=REPO, env=offline_env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "net.forward_loss(X, Y, buffers=buffers)" in out
    assert "total per step" in out
    products = [line for line in out.splitlines() if " numpy " in line]
    assert len(products) == 5  # 784-128-10: forward and dW for both layers, one delta back
    assert "all products (numpy)" in out
    if torch is None:
        assert "pytorch is not installed" in out
    else:
        assert "1.5x its speed means a step of at most" in out
