"""Shared by the figure tests: a tiny network with 4×4-pixel inputs."""

import pytest

from mnist_np import MLP


@pytest.fixture
def net():
    return MLP([16, 6, 5, 4], activation="tanh", seed=1)


def title_text(fig) -> str:
    return fig.layout.title.text or ""
