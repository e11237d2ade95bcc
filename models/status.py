"""Run status: one enum and the one rule for when a run may be called optimal.

A run is *optimal* when the plan it writes closes the gap to the proven bound:
``|bound − objective| ≤ max(rel_gap · max(1, |objective|), ABS_GAP)`` — HiGHS's
own stopping rule (``mip_rel_gap``, with ``mip_abs_gap`` for objectives near 0),
but applied to the objective of the plan that is written, never to the
objective a solver claims. HiGHS and CBC runs, the LP-rounding shortcut and
every later consumer use :func:`classify`.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Literal


class Status(StrEnum):
    """Typed solve status (equal to its string value)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    TIME_LIMIT_NO_SOLUTION = "time_limit_no_solution"
    ERROR = "error"


ABS_GAP = 1e-6
"""Absolute gap (objective units, 万元) that counts as closed: HiGHS's default ``mip_abs_gap``."""

BOUND_SIDE_TOL = 1e-6
"""Relative slack for a bound on the wrong side of the plan (rounding of binaries, round-off)."""


def relative_gap(objective: float, best_bound: float) -> float:
    """Return ``|best_bound − objective| / max(1, |objective|)``."""
    return abs(best_bound - objective) / max(1.0, abs(objective))


def classify(
    has_plan: bool,
    objective: float | None,
    best_bound: float | None,
    rel_gap: float,
    sense: Literal["max", "min"] = "max",
    *,
    no_plan: Status = Status.TIME_LIMIT_NO_SOLUTION,
    empty_plan: bool = False,
) -> tuple[Status, float | None]:
    """Return ``(status, gap)`` of a run from its written plan's objective and its bound.

    Parameters
    ----------
    has_plan
        True when a plan (variable values) is written.
    objective
        The objective of the written plan, recomputed from its values.
    best_bound
        The best proven bound (None or NaN when there is none).
    rel_gap
        The relative gap the run was asked to close.
    sense
        ``"max"`` or ``"min"``: a bound on the wrong side of the plan (a
        maximisation's bound below its own plan, beyond round-off) proves nothing.
    no_plan
        The status to return when there is no plan (infeasible, stopped, error).
    empty_plan
        True when the plan produces nothing (nobody admitted, no output): the
        trivial plan a solver holds when stopped early. It counts as no plan
        unless the bound proves it within the gap (or there is no bound): a
        run is never "feasible" with the empty plan while far better ones exist.

    Returns
    -------
    tuple[Status, float | None]
        ``OPTIMAL`` only when the gap is closed by the rule of this module;
        ``no_plan`` for an empty plan the bound does not prove; otherwise
        ``FEASIBLE`` with the gap (None without a finite bound).
    """
    if not has_plan or objective is None or not math.isfinite(objective):
        return no_plan, None
    if best_bound is None or not math.isfinite(best_bound):
        return Status.FEASIBLE, None
    gap = relative_gap(objective, best_bound)
    scale = max(1.0, abs(objective))
    if empty_plan and abs(best_bound - objective) > max(rel_gap * scale, ABS_GAP):
        return no_plan, None
    ahead = (best_bound - objective) if sense == "max" else (objective - best_bound)
    if ahead < -max(ABS_GAP, BOUND_SIDE_TOL * scale):
        return Status.FEASIBLE, gap
    closed = abs(best_bound - objective) <= max(rel_gap * scale, ABS_GAP)
    return (Status.OPTIMAL if closed else Status.FEASIBLE), gap
