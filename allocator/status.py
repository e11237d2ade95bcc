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

__all__ = [
    "PROVEN_GAP",
    "Status",
    "gap_text",
    "has_plan",
    "parse_status",
    "run_status_label",
    "status_label",
    "tolerance_text",
]

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


PROVEN_GAP: float = 1e-4
"""A gap at or below this (0.01 %, HiGHS's default ``mip_rel_gap``) is called 已证最优."""


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(float(value))


def status_label(
    status: object,
    lang: str | None = None,
    gap: float | None = None,
    tolerance: float | None = None,
) -> str:
    """Return the planner's word for a status; a plan's label carries its gap when one is known.

    已证最优 (proven optimal) only when the gap is (near) zero, at most
    :data:`PROVEN_GAP`. A run that stopped because it reached the tolerance it
    was given (``tolerance``, the relative gap of its settings) is "在容差 0.5%
    内最优": optimal by the solver's rule, but a planner must not read it as
    proven. A feasible plan says how far from optimal it may be.
    """
    s = parse_status(status)
    if s == Status.OPTIMAL and _finite(gap) and float(gap) > PROVEN_GAP:  # type: ignore[arg-type]
        if _finite(tolerance) and float(tolerance) > PROVEN_GAP:  # type: ignore[arg-type]
            return t("status.optimal.tolerance", lang, tolerance=tolerance_text(tolerance))
        return t("status.optimal.gap", lang, gap=gap_text(gap))
    if s == Status.FEASIBLE and _finite(gap):
        return t("status.feasible.gap", lang, gap=gap_text(gap))
    return t(f"status.{s.value}", lang)


def tolerance_text(tolerance: float | None) -> str:
    """Return a relative tolerance as the planner set it (``0.5%``, ``0.01%``)."""
    if tolerance is None or not _finite(tolerance):
        return "—"
    return f"{100.0 * float(tolerance):.4g}%"


def run_status_label(run: object, lang: str | None = None) -> str:
    """Return :func:`status_label` of a run or result, with its gap and its settings' tolerance.

    ``run`` is a :class:`~allocator.runs.Run` or :class:`~allocator.runs.Result`
    (anything with ``status``, ``summary`` and ``settings``).
    """
    summary = getattr(run, "summary", None) or {}
    settings = getattr(run, "settings", None)
    return status_label(
        getattr(run, "status", None),
        lang,
        gap=summary.get("gap"),
        tolerance=getattr(settings, "rel_gap", None),
    )
