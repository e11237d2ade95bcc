"""User-facing text in zh-CN (default) and English.

Strings live in ``allocator/locales/*.toml`` as ``"key" = { zh = "…", en = "…" }``;
every file in that folder is merged, so each feature keeps its own file. A key
missing from the table is a bug, caught by ``tests/test_i18n.py``.
"""

from __future__ import annotations

import os
import tomllib
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
_LOCALE_DIR = Path(__file__).with_name("locales")
_current: Lang = "zh" if os.environ.get("ALLOCATOR_LANG", "zh") != "en" else "en"


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, str]]:
    """Return the merged string table ``key -> {lang: text}``."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(_LOCALE_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for key, value in data.items():
            if key in merged:
                raise ValueError(f"i18n key {key!r} defined twice (second time in {path.name})")
            merged[key] = dict(value)
    return merged


def set_lang(lang: str) -> None:
    """Set the process-wide default language (``zh`` or ``en``)."""
    global _current
    _current = normalize_lang(lang)


def get_lang() -> Lang:
    """Return the process-wide default language."""
    return _current


def normalize_lang(lang: str | None) -> Lang:
    """Map ``zh``, ``zh-CN``, ``en``, ``en-US``… (or None: the default) to ``zh``/``en``."""
    if lang is None:
        return _current
    low = lang.lower()
    if low.startswith("zh"):
        return "zh"
    if low.startswith("en"):
        return "en"
    raise ValueError(f"unknown language {lang!r}; use zh or en")


def t(key: str, lang: str | None = None, **fmt: object) -> str:
    """Translate ``key`` into ``lang`` (default: the current language) and format it.

    Raises ``KeyError`` for an unknown key, so missing strings fail tests
    instead of leaking keys into the UI.
    """
    entry = table()[key]
    text = entry[normalize_lang(lang)]
    return text.format(**fmt) if fmt else text


def has(key: str) -> bool:
    """Return True when ``key`` is in the table."""
    return key in table()


def display_width(text: str) -> int:
    """Return the width of ``text`` in terminal columns (CJK characters count two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
