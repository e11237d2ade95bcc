"""GB/T 4754-2017 division names for industry codes (``C26`` → 化学原料和化学制品制造业).

Cases write industries as a section letter and digits (``C3973``, ``G59``); the
division (大类) is the letter and the first two digits. The names live in
``allocator/case/gbt4754.toml`` (national standard, cited there); they are for
display only and are never matched against input.

Matching *is* defined here, once: :func:`matches_prefix` (a rule's GB/T 4754
prefix against a firm's code) and :func:`in_catalogue` (the zone's 招商
catalogue, 一区一策), used alike by eligibility, by the exit rule (置换出区) in
:mod:`allocator.prepare` and by :mod:`allocator.invariants` (MODEL.md
``catalogue`` and ``retain``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

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


def _code_text(value: Any) -> str:
    """Return ``value`` as stripped text; missing values (None, NaN, NA) as ``""``."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return ""
    return str(value).strip()


def matches_prefix(code: Any, prefix: Any) -> bool:
    """Return True when industry ``code`` starts with ``prefix`` (GB/T 4754, case-blind).

    ``C26`` matches ``C2614``; an empty or missing prefix matches nothing.
    """
    pre = _code_text(prefix).upper()
    return bool(pre) and _code_text(code).upper().startswith(pre)


def catalogue_prefixes(catalogue: pd.DataFrame | None) -> dict[str, tuple[str, ...]]:
    """Return the 招商 catalogue's industry prefixes per zone id.

    A zone with no rows (or only rows without a prefix) is absent: it has
    published no catalogue, and :func:`in_catalogue` does not restrict it.
    """
    out: dict[str, list[str]] = {}
    if catalogue is None or len(catalogue) == 0:
        return {}
    for zone, prefix in zip(catalogue["zone_id"], catalogue["industry_prefix"], strict=True):
        z, p = _code_text(zone), _code_text(prefix)
        if z and p:
            out.setdefault(z, []).append(p)
    return {z: tuple(ps) for z, ps in out.items()}


def in_catalogue(industry: Any, zone_id: Any, prefixes: Mapping[str, Sequence[str]]) -> bool:
    """Return True when ``industry`` is in the 招商 catalogue of ``zone_id`` (MODEL.md).

    ``prefixes`` comes from :func:`catalogue_prefixes`. A zone with no
    catalogue rows restricts nothing: every industry counts as in it, for
    eligibility (``catalogue``) and for the exit rule (``retain``) alike.
    """
    zone_prefixes = prefixes.get(_code_text(zone_id), ())
    if not zone_prefixes:
        return True
    return any(matches_prefix(industry, p) for p in zone_prefixes)
