"""Case loading, saving, importing and validation (DATA.md)."""

from __future__ import annotations

from allocator.case.model import Case

__all__ = ["Case"]
