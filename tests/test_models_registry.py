"""Every constraint family has a test (calliope's test_all_math_registered).

A family counts as tested when some ``tests/test_model_*.py`` defines a test
function named ``test_<family>`` or ``test_<family>_…``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from models.allocation import CAP_FAMILIES, ELASTIC_FAMILIES, UNITS
from models.data import FAMILIES, SWITCHABLE

HERE = Path(__file__).resolve().parent


def _test_names() -> set[str]:
    names = set()
    for path in HERE.glob("test_model_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {
            n.name
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
        }
    return names


@pytest.mark.parametrize("family", FAMILIES)
def test_family_has_a_test(family):
    names = _test_names()
    assert any(n == f"test_{family}" or n.startswith(f"test_{family}_") for n in names), (
        f"constraint family {family!r} has no test_{family} in tests/test_model_*.py"
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_family_has_a_builder_and_unit(family):
    import models.allocation as allocation

    fn = getattr(allocation, family, None)
    assert callable(fn), f"models.allocation has no function {family}()"
    assert len(fn.__doc__ or "") > 40, f"{family}() needs a docstring with its algebra"
    assert family in UNITS


def test_switchable_and_elastic_families_are_known():
    assert set(SWITCHABLE) <= set(FAMILIES)
    assert set(ELASTIC_FAMILIES) <= set(FAMILIES)
    assert set(CAP_FAMILIES) <= set(ELASTIC_FAMILIES)
