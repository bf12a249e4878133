"""The engine as a whole: it imports NumPy (and its own small dependencies) only, and its
modules import each other without a cycle and never the app or the benchmarks."""

import ast
import pkgutil
import subprocess
import sys

import mnist_np

from ..conftest import REPO

FORBIDDEN = ("streamlit", "plotly", "pandas", "torch", "mlxtend", "sklearn", "scipy")


def engine_modules() -> list[str]:
    # __main__ is left out: importing it runs the command line (it only calls cli.main)
    return [f"mnist_np.{m.name}" for m in pkgutil.iter_modules(mnist_np.__path__)
            if m.name != "__main__"]


def test_every_engine_module_imports_numpy_only():
    modules = engine_modules()
    assert {"mnist_np.network", "mnist_np.cli", "mnist_np.bench", "mnist_np.threads"} <= set(
        modules)
    code = (f"import importlib, sys\nfor m in {modules!r}:\n    importlib.import_module(m)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


def imports_of(path) -> set[str]:
    """The modules of ``mnist_np`` (by short name) and the top-level packages outside it
    that ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module.split(".")[0]} if node.module else {
                a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            found.add(parts[1] if parts[0] == "mnist_np" and len(parts) > 1 else parts[0])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
    return found


def test_the_engine_import_graph_has_no_cycle_and_no_app_or_benchmark():
    package = REPO / "mnist_np"
    names = {p.stem for p in package.glob("*.py")}
    graph = {p.stem: imports_of(p) for p in package.glob("*.py")}
    for name, imported in graph.items():
        assert not imported & {"dashboard", "pages", "benchmarks", "streamlit_app"}, name
    graph = {name: imported & names - {name} for name, imported in graph.items()}
    done: set[str] = set()

    def visit(name, path):
        assert name not in path, f"import cycle: {' -> '.join([*path, name])}"
        if name in done:
            return
        for other in sorted(graph[name]):
            visit(other, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert graph["bench"] >= {"threads"} and "cli" not in graph["bench"]


def test_the_package_exports_what_it_lists():
    assert all(hasattr(mnist_np, name) for name in mnist_np.__all__)
