"""The outcome of one solve (:class:`ModelSolution`) and how it is read off the build's values."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp

from models.allocation import Built
from models.solver.highs_api import HIGHS_AVAILABLE, highspy
from models.status import Status

Progress = Callable[[dict[str, float]], None]
"""Receives ``{"time_s", "objective", "bound", "gap"}`` while HiGHS runs (CBC: once)."""


@dataclass
class ModelSolution:
    """Outcome of one solve; arrays are aligned with the ``ModelData`` indices."""

    status: Status
    objective: float | None
    best_bound: float | None
    gap: float | None
    build_seconds: float
    solve_seconds: float
    size: dict[str, int]
    solver: str
    solver_version: str
    message: str = ""
    log: str = ""
    y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    o: np.ndarray = field(default_factory=lambda: np.zeros(0))
    zone_firm: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    zone_zone: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    zone_output: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """o_fz: output of ``zone_firm[i]`` counted in ``zone_zone[i]`` (万元)."""
    unit_firm: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    unit_unit: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    unit_output: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """o_fu (unit -1 = parcel without a control unit)."""
    slacks: dict[str, float] = field(default_factory=dict)
    """Elastic slack per row display name (elastic builds only; all rows)."""
    duals: dict[str, float] | None = None
    """Marginal value per row display name (万元 per unit of rhs), when asked."""
    row_activity: dict[str, float] = field(default_factory=dict)
    """Left-hand side of every cap/floor/lock row at the solution."""
    fallback_from: str | None = None
    """Name of the solver that failed when CBC ran as a fallback."""
    reuse: dict[str, Any] = field(default_factory=dict)
    """With a :class:`~models.solver.reuse.ModelSession`: ``reused`` (bool), ``reason`` (why
    not, empty when reused) and ``changed`` (what was changed in place); else empty."""
    stopped_by: str | None = None
    """The limit that ended the run: ``time_limit``, ``work_limit``, ``interrupt``; None when
    the run ended by itself (gap closed, infeasibility proven)."""

    @property
    def has_solution(self) -> bool:
        """True when variable values are available."""
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)

    def relaxed(self, tol: float = 1e-6) -> list[tuple[str, float]]:
        """Rows an elastic solve had to relax: ``[(row, amount in row units)]``."""
        return [(n, v) for n, v in self.slacks.items() if v > tol]


def _version(solver: str) -> str:
    if solver == "highs" and HIGHS_AVAILABLE:
        with contextlib.suppress(Exception):
            return str(highspy.Highs().version())  # type: ignore[union-attr]  # None only without highspy
        return getattr(highspy, "__version__", "unknown")
    if solver == "cbc":
        return "CBC (bundled with PuLP " + pulp.__version__ + ")"
    return "unknown"


def _empty(built: Built, status: Status, solver: str, t: float, msg: str, log: str = ""):
    return ModelSolution(
        status=status,
        objective=None,
        best_bound=None,
        gap=None,
        build_seconds=built.build_seconds,
        solve_seconds=t,
        size=dict(built.size),
        solver=solver,
        solver_version=_version(solver),
        message=msg,
        log=log,
    )


def _collect(built: Built, sol: ModelSolution) -> ModelSolution:
    """Fill variable arrays, slacks and row activities from the build's values."""
    sol.y = np.where(built.values(built.y_col) > 0.5, 1.0, 0.0)
    sol.x = np.where(built.values(built.x_col) > 0.5, 1.0, 0.0)
    sol.o = built.values(built.o_col)
    sol.zone_firm, sol.zone_zone = built.zone_firm, built.zone_zone
    sol.zone_output = built.values(built.zone_col)
    sol.unit_firm, sol.unit_unit = built.unit_firm, built.unit_unit
    sol.unit_output = built.values(built.unit_col)
    sol.slacks = built.slack_values()
    from models.allocation import ELASTIC_FAMILIES

    sol.row_activity.update(built.row_activity(ELASTIC_FAMILIES))  # lhs without the slack
    return sol


def _plan_objective(built: Built) -> float:
    """Snap the binaries to 0/1 (as :func:`_collect` writes them); return the plan's objective.

    The MODEL.md objective with its constant, evaluated at the build's values
    (``Built.plan_objective``): the objective of the plan that is written,
    whatever a solver claimed.
    """
    return built.plan_objective()


def report_start(
    progress: Progress | None, seconds: float, objective: float, bound: float, gap: float | None
) -> None:
    """Tell ``progress`` about the LP-rounding start (HiGHS and CBC alike); never raises."""
    if progress is None:
        return
    with contextlib.suppress(Exception):
        progress(
            {
                "time_s": seconds,
                "objective": objective,
                "bound": bound,
                "gap": float("nan") if gap is None else gap,
            }
        )
