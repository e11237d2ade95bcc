"""GB/T 4754-2017 division names for industry codes (``C26`` → 化学原料和化学制品制造业).

Cases write industries as a section letter and digits (``C3973``, ``G59``); the
division (大类) is the letter and the first two digits. The names live in
``allocator/case/gbt4754.toml`` (national standard, cited there); they are for
display only and are never matched against input.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

from allocator.i18n import normalize_lang

_TABLE = Path(__file__).parent / "case" / "gbt4754.toml"
_CODE = re.compile(r"^([A-T])(\d{2})")


@lru_cache(maxsize=1)
def divisions() -> dict[str, dict[str, str]]:
    """Return ``{"C26": {"zh": …, "en": …}, …}`` for the 97 divisions."""
    with _TABLE.open("rb") as fh:
        return dict(tomllib.load(fh)["divisions"])


def division(code: object) -> str | None:
    """Return the division key of an industry code (``C3973`` → ``C39``), or None."""
    m = _CODE.match(str(code).strip().upper())
    return m.group(1) + m.group(2) if m else None


def industry_name(code: object, lang: str | None = None) -> str:
    """Return the name of the code's division in ``lang``; "" when unknown or a bare section."""
    key = division(code)
    entry = divisions().get(key) if key else None
    return entry[normalize_lang(lang)] if entry else ""


def industry_label(code: object, lang: str | None = None) -> str:
    """Return ``"C26 化学原料和化学制品制造业"`` (the code alone when the name is unknown)."""
    name = industry_name(code, lang)
    return f"{code} {name}" if name else str(code)
