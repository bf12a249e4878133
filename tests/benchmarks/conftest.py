"""What the benchmark scripts' tests share: running a script offline on the sample."""

import os
import subprocess
import sys

import pytest

from ..conftest import REPO


@pytest.fixture
def offline_env(tmp_path):
    """The environment without MNIST_DIR and with no reachable mirror: the offline sample,
    cached in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if k != "MNIST_DIR"}
    return env | {"MNIST_CACHE": str(tmp_path / "cache"), "MNIST_MIRRORS": "http://127.0.0.1:9/"}


def run_script(script: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    """``python benchmarks/<script> args...`` from the repository, its output captured."""
    return subprocess.run([sys.executable, f"benchmarks/{script}", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
