"""Case loading, saving, importing and validation (DATA.md)."""

from __future__ import annotations

import os

from allocator.case.importers import import_case, validate_case
from allocator.case.io import load_case as load_case_file
from allocator.case.io import save_case, split_list
from allocator.case.model import Case


def load_case(path: str | os.PathLike[str]) -> Case:
    """Load and validate a case: a GeoPackage path, or a ``postgresql://`` store URL.

    A store URL loads the case as the URL's database role may see it
    (:func:`allocator.store.cases.load_store_case`); a path loads the GeoPackage
    (:func:`allocator.case.io.load_case`).
    """
    from allocator.store.url import is_store_url

    if is_store_url(path):
        from allocator.store.cases import load_store_case

        return load_store_case(str(path))
    return load_case_file(path)


__all__ = ["Case", "import_case", "load_case", "save_case", "split_list", "validate_case"]
