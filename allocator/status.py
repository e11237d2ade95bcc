"""The solve status as planners read it: one enum, one label table, one rule.

:class:`Status` is defined once, in ``models`` (the solver reads it from the
solver itself and applies the single rule for when a run may be called
optimal); this module adds what people read: :func:`status_label` in zh or
en, with the gap where it matters, and :func:`has_plan`.
"""

from __future__ import annotations

import math

from allocator.i18n import t
from models.status import Status

__all__ = ["Status", "gap_text", "has_plan", "parse_status", "status_label"]

PLAN_STATUSES: frozenset[Status] = frozenset({Status.OPTIMAL, Status.FEASIBLE})
"""Statuses whose run holds a plan (tables, objective, KPIs)."""


def parse_status(value: object) -> Status:
    """Read a status from a run folder or a solver (a :class:`Status` or its string)."""
    if isinstance(value, Status):
        return value
    text = str(getattr(value, "value", value))
    try:
        return Status(text)
    except ValueError:
        return Status.ERROR


def has_plan(status: object) -> bool:
    """Return True when a run with this status holds a plan."""
    return parse_status(status) in PLAN_STATUSES


def gap_text(gap: float | None) -> str:
    """Return a relative gap as a percentage (``0.061%``), or ``—`` when there is none."""
    if gap is None or not math.isfinite(float(gap)):
        return "—"
    pct = 100.0 * float(gap)
    return f"{pct:.2f}%" if pct >= 0.01 or pct == 0 else f"{pct:.2g}%"


def status_label(status: object, lang: str | None = None, gap: float | None = None) -> str:
    """Return the planner's word for a status; a plan's label carries its gap when one is known."""
    s = parse_status(status)
    if s in PLAN_STATUSES and gap is not None and math.isfinite(float(gap)):
        return t(f"status.{s.value}.gap", lang, gap=gap_text(gap))
    return t(f"status.{s.value}", lang)
