"""The studies package's place between the engine and the dashboard: what a Dask worker
imports is NumPy and the engine only, and the study CLI never imports Streamlit."""

import subprocess
import sys

from ..conftest import REPO


def _imported(module: str) -> set[str]:
    code = (f"import importlib, sys\nimportlib.import_module({module!r})\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, check=True)
    return set(result.stdout.split())


def test_a_worker_needs_numpy_and_the_engine_only():
    assert not _imported("studies.work") & {"optuna", "dashboard", "streamlit", "plotly",
                                            "pandas", "distributed", "dask"}


def test_the_study_command_line_does_not_import_streamlit():
    found = _imported("studies.cli")
    assert {"optuna", "distributed", "dashboard"} <= found
    assert not found & {"streamlit", "plotly"}
