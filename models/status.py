"""Run status: one enum and the one rule for when a run may be called optimal."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Typed solve status (equal to its string value)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    TIME_LIMIT_NO_SOLUTION = "time_limit_no_solution"
    ERROR = "error"
