"""Case loading, saving, importing and validation (DATA.md)."""

from __future__ import annotations

from allocator.case.importers import import_case
from allocator.case.io import load_case, save_case, split_list
from allocator.case.model import Case
from allocator.case.validate import validate_case

__all__ = ["Case", "import_case", "load_case", "save_case", "split_list", "validate_case"]
