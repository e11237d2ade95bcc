"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import pg_admin_url  # noqa: F401 - the db tests' server, once per session

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CASE = ROOT / "gis_data" / "zhejiang_sample.gpkg"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def sample_case_path() -> Path:
    if not SAMPLE_CASE.exists():
        pytest.skip("sample case not built (make sample)")
    return SAMPLE_CASE


@pytest.fixture(autouse=True)
def _reset_language():
    """Each test starts in zh; a CLI call with --lang en must not leak into later tests."""
    from allocator import i18n

    i18n.set_lang("zh")
    yield
    i18n.set_lang("zh")
