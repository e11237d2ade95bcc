"""Make an API module callable as the function it is named after.

``allocator.solve`` is both a public function (lazily imported by
``allocator/__init__.py``) and the module that defines it. Once anything runs
``import allocator.solve``, Python binds the *module* to the package attribute,
shadowing the function, and ``allocator.solve(...)`` would fail depending on
import order. Turning the module into a callable module keeps both spellings
working: ``allocator.solve(...)`` and ``allocator.solve.Result``.
"""

from __future__ import annotations

import sys
import types
from typing import Any


def make_callable(module_name: str, function_name: str) -> None:
    """Let module ``module_name`` be called as its function ``function_name``."""
    module = sys.modules[module_name]
    func = getattr(module, function_name)

    class _CallableModule(types.ModuleType):
        __doc__ = module.__doc__

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

    module.__class__ = _CallableModule
