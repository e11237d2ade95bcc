"""Case loading, saving, importing and validation (DATA.md)."""

from __future__ import annotations

from allocator.case.importers import import_case, validate_case
from allocator.case.io import load_case, save_case, split_list
from allocator.case.model import Case

__all__ = ["Case", "import_case", "load_case", "save_case", "split_list", "validate_case"]
