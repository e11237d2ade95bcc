"""The public API names work whatever was imported before them."""

import importlib

import pytest

import allocator

SHADOWED = ["solve", "prepare", "diagnose", "compare", "export"]


@pytest.mark.parametrize("name", SHADOWED)
def test_function_named_like_its_module_stays_callable(name):
    importlib.import_module(f"allocator.{name}")  # binds the module to the package attribute
    attr = getattr(allocator, name)
    assert callable(attr)
    assert callable(getattr(importlib.import_module(f"allocator.{name}"), name))


def test_every_public_name_resolves():
    for name in allocator.__all__:
        assert getattr(allocator, name) is not None, name
