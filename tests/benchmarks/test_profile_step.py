"""benchmarks/profile_step.py on the offline sample. No timing is asserted."""

from benchmarks.torch_compare import import_torch

from .conftest import run_script


def test_profile_step_prints_each_statement_and_the_matmul_floor(offline_env):
    """A line per statement of Trainer._step, the total, and with --matmul the products
    timed alone."""
    result = run_script("profile_step.py", "--steps", "30", "--batch-size", "32", "--matmul",
                        env=offline_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "net.forward(X, buffers=buffers, masks=masks, logits=z)" in out
    assert "total per step" in out
    products = [line for line in out.splitlines() if " numpy " in line]
    assert len(products) == 5  # 784-128-10: forward and dW for both layers, one delta back
    assert "all products (numpy)" in out
    if import_torch() is None:
        assert "pytorch is not installed" in out
    else:
        assert "1.5x its speed means a step of at most" in out


def test_profile_step_times_the_engine_against_the_plain_loop(offline_env):
    """--plain: the engine's steps against the plain loop's in interleaved blocks, as
    percentiles (no timing asserted)."""
    result = run_script("profile_step.py", "--steps", "20", "--hidden", "16",
                        "--batch-size", "20", "--plain", "6", env=offline_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "against the plain loop, 6 interleaved blocks of 8 steps" in out
    assert [line.split(":")[0].strip() for line in out.splitlines() if "engine/plain" in line] \
        == ["p10", "p25", "p50"]
