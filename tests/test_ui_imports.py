"""The app uses only the public ``allocator`` API (docs/boundary.md, "Public API").

Every module under ``allocator/ui`` and ``app.py`` is parsed with ``ast``: an
import of ``allocator.commands`` (the CLI), of a private name, of an
``allocator.<module>`` outside :data:`PUBLIC_MODULES`, of ``models`` (the model
layer), or an ``allocator.<name>`` attribute outside ``allocator.__all__``
fails the test, naming the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import allocator

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = frozenset(
    {"allocator.i18n", "allocator.errors", "allocator.units", "allocator.safety"}
)
"""The library modules the app may import besides ``allocator`` itself."""
UI_FILES = sorted([ROOT / "app.py", *(ROOT / "allocator" / "ui").rglob("*.py")])


def violations(source: str, where: str) -> list[str]:
    """Return what ``source`` uses of the library beyond its public API, one line each."""
    public = set(allocator.__all__)
    tree = ast.parse(source)
    found: list[str] = []

    def check_module(module: str, line: int) -> None:
        if module == "allocator.ui" or module.startswith("allocator.ui."):
            return  # the app's own modules
        if module == "models" or module.startswith("models."):
            found.append(f"{where}:{line}: imports the model layer {module}")
        elif module.startswith("allocator.") and module not in PUBLIC_MODULES:
            found.append(f"{where}:{line}: imports {module}, not a public module")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check_module(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            check_module(node.module, node.lineno)
            lib = node.module == "allocator" or node.module.startswith("allocator.")
            for alias in node.names if lib else ():
                if alias.name.startswith("_"):
                    found.append(f"{where}:{node.lineno}: imports private {alias.name}")
                elif node.module == "allocator":
                    module = f"allocator.{alias.name}"
                    if alias.name not in public and module not in PUBLIC_MODULES:
                        found.append(f"{where}:{node.lineno}: imports allocator.{alias.name}")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "allocator"
            and node.attr not in public
            and f"allocator.{node.attr}" not in PUBLIC_MODULES
        ):
            found.append(f"{where}:{node.lineno}: uses allocator.{node.attr}")
    return found


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_ui_uses_only_the_public_api(path):
    where = str(path.relative_to(ROOT))
    assert violations(path.read_text(encoding="utf-8"), where) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from allocator.commands.score import run", "imports allocator.commands.score"),
        ("import allocator.commands", "imports allocator.commands"),
        ("from allocator.solve import _emit", "imports private _emit"),
        ("from allocator.i18n import _TABLE", "imports private _TABLE"),
        ("from allocator import _API", "imports private _API"),
        ("from allocator import cli", "imports allocator.cli"),
        ("from allocator.case.io import build_layer", "imports allocator.case.io"),
        ("from models.data import CLASSES", "imports the model layer models.data"),
        ("import allocator\nallocator.commands.score.run()", "uses allocator.commands"),
        ("import allocator\nallocator._API", "uses allocator._API"),
    ],
)
def test_the_check_catches_each_kind_of_reach(source, expected):
    found = violations(source, "x.py")
    assert any(expected in line for line in found), found


@pytest.mark.parametrize(
    "source",
    [
        "from allocator import solve, load_run, Status, i18n",
        "from allocator.errors import CaseError",
        "from allocator.units import M2_PER_MU",
        "from allocator.ui.common import t",
        "import allocator\nallocator.solve",
    ],
)
def test_public_uses_pass(source):
    assert violations(source, "x.py") == []


def test_api_names_are_public():
    assert not [n for n in allocator.__all__ if n.startswith("_")]
