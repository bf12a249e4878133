"""BLAS thread control through threadpoolctl, and what happens without it."""

import sys

import pytest

from mnist_np.threads import blas_threads, set_threads


@pytest.fixture
def restore_threads():
    before = blas_threads()
    yield
    if before is not None:
        set_threads(before)


def test_set_threads_changes_numpys_blas_thread_count(restore_threads):
    if blas_threads() is None:
        pytest.skip("threadpoolctl finds no BLAS of numpy's here")
    assert set_threads(1) is True and blas_threads() == 1
    assert set_threads(2) is True and blas_threads() == 2


def test_without_threadpoolctl_nothing_changes_and_it_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import now raises ImportError
    assert blas_threads() is None
    assert set_threads(1) is False
