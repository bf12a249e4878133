"""The layout is the architecture: no import cycles between the project's modules, no
private name imported from another module, the engine free of the dashboard, and at
most one function that touches a Streamlit internal."""

import ast
from pathlib import Path

from .conftest import REPO

PACKAGES = ("mnist_np", "dashboard", "benchmarks", "studies")
# The one edge out of the engine: `python -m mnist_np study` (the entry point no one
# imports) hands over to the studies package.
ENGINE_EXITS = {("mnist_np.__main__", "studies.cli")}


def _modules() -> dict[str, Path]:
    """Every project module by dotted name (pages and tests too: they import, but no
    one imports them)."""
    found = {}
    for path in REPO.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[0] in (".venv", "artifacts") or any(p.startswith(".") for p in parts):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path) -> list[tuple[str, list[str]]]:
    """``(module, [names])`` for every import in the file, relative ones resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.append((base, [alias.name for alias in node.names]))
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        if not name.startswith(PACKAGES):
            continue
        edges = set()
        for target, names in _imports(name, path):
            for candidate in [target, *(f"{target}.{n}" for n in names)]:
                if candidate in modules and candidate != name and candidate.startswith(PACKAGES):
                    edges.add(candidate)
        graph[name] = edges
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            # a package's __init__ importing its own submodules is not a cycle
            if node == nxt.rpartition(".")[0] or nxt == node.rpartition(".")[0]:
                continue
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycles():
    graph = _graph()
    assert {"dashboard.session", "dashboard.page", "mnist_np.cli"} <= set(graph)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_no_private_name_is_imported_from_another_module():
    modules = _modules()
    offenders = []
    for name, path in modules.items():
        for target, names in _imports(name, path):
            root = target.split(".")[0]
            if root not in (*PACKAGES, "pages", "tests", "streamlit_app"):
                continue  # another library's internals are its own business
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            offenders += [f"{name}: from {target} import {n}" for n in private]
    assert not offenders, offenders


def test_the_engine_does_not_import_the_dashboard_or_the_benchmarks():
    graph = _graph()
    leaks = [f"{m} -> {t}" for m, targets in graph.items() if m.startswith("mnist_np")
             for t in targets if not t.startswith("mnist_np") and (m, t) not in ENGINE_EXITS]
    assert ENGINE_EXITS <= {(m, t) for m, targets in graph.items() for t in targets}
    assert not leaks, leaks


def test_streamlit_internals_are_touched_in_one_function_that_names_its_issue():
    touching = []
    for name, path in _modules().items():
        if not name.startswith(("dashboard", "pages", "streamlit_app")):
            continue
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                        "streamlit.runtime.pages_manager"):
                    touching.append((name, fn.name, ast.get_docstring(fn) or ""))
    assert len(touching) == 1, touching
    assert "streamlit/streamlit#" in touching[0][2]
