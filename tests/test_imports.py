"""The import graph of allocator/ and models/: no cycles, and the layers stay apart.

Every ``import`` / ``from … import`` in every module is read with :mod:`ast`,
including imports inside functions: a lazy import hides a cycle from Python at
start-up but not from a reader, and the cycles this test was written for
(case io ↔ validate ↔ importers, solve ↔ diagnose) were all function-level.
Imports under ``if TYPE_CHECKING:`` are skipped (they never run). An edge goes
to the deepest module of allocator/ or models/ the statement names
(``from allocator.case import io`` → ``allocator.case.io``;
``from allocator.case import load_case`` → ``allocator.case``); the implicit
import of a module's parent packages is not an edge, so a package ``__init__``
that re-exports its submodules is not a cycle by itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("allocator", "models")


def _modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    out = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Return the full dotted names an import statement refers to."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        parent = ".".join([*base, *([node.module] if node.module else [])])
    else:
        parent = node.module or ""
    return [f"{parent}.{alias.name}" for alias in node.names]


def import_graph(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    """Return {module: modules of ``packages`` it imports} for every module under ``root``."""
    modules = _modules(root, packages)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        deps: set[str] = set()
        for node in _import_nodes(tree):
            for name in _targets(module, path, node):
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    deps.add(name)
        graph[module] = deps
    return graph


def external_imports(root: Path, package: str) -> dict[str, set[str]]:
    """Return {module: top-level names of everything it imports} for the modules of one package."""
    out: dict[str, set[str]] = {}
    for module, path in _modules(root, (package,)).items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names = set()
        for node in _import_nodes(tree):
            names.update(_targets(module, path, node))
        out[module] = names
    return out


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return one cycle (``[a, b, …, a]``) per strongly connected component with a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    cycles = []
    for comp in components:
        # walk inside the component from its first module back to it (breadth first)
        start = min(comp)
        prev: dict[str, str] = {}
        queue = [start]
        while queue:
            v = queue.pop(0)
            for w in sorted(graph[v] & comp):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    cycles.append([*reversed(path), start])
                    queue = []
                    break
                if w not in prev:
                    prev[w] = v
                    queue.append(w)
    return sorted(cycles)


def _describe(cycles: list[list[str]]) -> str:
    return "; ".join(" → ".join(c) for c in cycles)


def test_no_import_cycles_in_allocator_and_models():
    cycles = find_cycles(import_graph(ROOT))
    assert not cycles, f"import cycles: {_describe(cycles)}"


def test_the_walker_finds_a_function_level_cycle(tmp_path):
    """The check can fail: a lazy import inside a function closing a loop is reported."""
    pkg = tmp_path / "allocator"
    (pkg / "case").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "case" / "__init__.py").write_text("from .io import load\n")
    (pkg / "case" / "io.py").write_text("from allocator.case.validate import check\n")
    (pkg / "case" / "validate.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from allocator.solve import x\n"
        "def check():\n    from . import io\n"
    )
    (pkg / "solve.py").write_text("import allocator.case.io\n")
    graph = import_graph(tmp_path, ("allocator",))
    assert graph["allocator.case.validate"] == {"allocator.case.io"}  # TYPE_CHECKING skipped
    assert find_cycles(graph) == [
        ["allocator.case.io", "allocator.case.validate", "allocator.case.io"]
    ]


def test_models_never_import_allocator():
    bad = {
        module: sorted(n for n in names if n.split(".")[0] == "allocator")
        for module, names in external_imports(ROOT, "models").items()
    }
    assert {m: n for m, n in bad.items() if n} == {}


def test_only_the_ui_imports_streamlit():
    bad = {
        module: sorted(n for n in names if n.split(".")[0] == "streamlit")
        for module, names in external_imports(ROOT, "allocator").items()
        if not (module == "allocator.ui" or module.startswith("allocator.ui."))
    }
    assert {m: n for m, n in bad.items() if n} == {}


def test_ui_never_imports_the_cli_commands():
    bad = {
        module: sorted(n for n in names if n.startswith("allocator.commands"))
        for module, names in external_imports(ROOT, "allocator").items()
        if module == "allocator.ui" or module.startswith("allocator.ui.")
    }
    assert {m: n for m, n in bad.items() if n} == {}
