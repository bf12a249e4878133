"""Shared by the study tests: one LocalCluster of 2 worker processes for the session (it
takes seconds to start), a run database and a study journal in a temporary folder."""

import pytest

from dashboard.store import Store
from studies import cluster as dc
from studies import driver as dr
from studies.space import parse_space


@pytest.fixture(scope="session")
def client():
    with dc.connect(None, 2) as c:
        yield c


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "runs.sqlite3", 2**30, 86400)
    s.touch(WORKSPACE)
    yield s
    s.close()


@pytest.fixture
def storage(store):
    return dr.open_storage(dr.storage_path(store.path))


WORKSPACE = "w" * 32


def spec(params, trials, epochs=2, sampler="grid", pruner="none", **base):
    """A small study: 784-32-10 on 1,000 sample images unless ``base`` says otherwise."""
    from dataclasses import replace

    from dashboard.settings import Settings

    settings = replace(Settings(hidden=(32,), train_limit=1000, epochs=epochs, schedule="constant"),
                       **base)
    return dr.StudySpec(parse_space(params), settings, trials, epochs, sampler, pruner,
                        prune_after=2)
