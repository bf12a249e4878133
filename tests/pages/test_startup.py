"""What the first page costs to open: the entry script and the Train page, run once in a
fresh process, import none of the heavy packages that only other pages need (issue 19:
`streamlit run` to the first page drawn; the time itself is measured by
benchmarks/startup.py, never asserted)."""

import json
import os
import subprocess
import sys

from ..conftest import REPO
from ..engine.test_data import small_set, write_set

# Only the Experiments page (studies: Optuna, Dask) and a few figures need these. PIL is
# not listed: Streamlit 1.67 imports it itself (`import streamlit`).
HEAVY = ("optuna", "dask", "distributed", "scipy", "pandas", "pyarrow", "sklearn",
         "mlxtend", "torch", "matplotlib", "studies", "pooch", "requests")

FIRST_PAGE = """
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("streamlit_app.py", default_timeout=120).run()
print(json.dumps({"exception": [str(e.value) for e in at.exception],
                  "titles": [t.value for t in at.title],
                  "charts": len(at.get("plotly_chart")),
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] in %r)}))
"""


def test_the_first_page_imports_no_heavy_package(tmp_path):
    """With the data in MNIST_DIR, as a server starts (offline, the download's pooch and
    requests come in, as they should)."""
    write_set(tmp_path / "mnist", small_set(1000, 200))
    env = os.environ | {"MNIST_DIR": str(tmp_path / "mnist"),
                        "MNIST_CACHE": str(tmp_path / "cache"),
                        "MNIST_MIRRORS": "http://127.0.0.1:9/",
                        "MNIST_NP_DB": str(tmp_path / "runs.sqlite3"), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", FIRST_PAGE % (HEAVY,)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["exception"] == []
    assert "Train" in result["titles"] and result["charts"] == 2  # the page was drawn
    assert result["loaded"] == []
