"""Reason codes of a failed eligibility test, their bit masks and their sentences."""

from __future__ import annotations

from allocator.i18n import t

REASON_CODES: tuple[str, ...] = (
    "redline",
    "access_list",
    "land_use",
    "catalogue",
    "status",
    "zone",
    "size",
)
"""Reason codes in report order; bit ``i`` of a reason mask is ``REASON_CODES[i]``."""
BIT: dict[str, int] = {code: 1 << i for i, code in enumerate(REASON_CODES)}


def decode(bits: int) -> list[str]:
    """Return the reason codes set in ``bits``."""
    return [c for c in REASON_CODES if bits & BIT[c]]


def reason_text(code: str, lang: str | None = None) -> str:
    """Return the human-readable sentence of a reason code."""
    return t(f"eligibility.reason.{code}", lang)
