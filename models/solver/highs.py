"""The HiGHS run: LP-rounding start, branch and bound, status and bound reading.

The plan written is the plan whose objective is reported: the values HiGHS
returns (or the start's) are written to the build (``Built.set_values``), the
objective is recomputed from them, and :func:`models.status.classify` calls the run optimal
only when that objective closes the gap to the bound.

HiGHS 1.16 can misjudge a start: it evaluates the start in the presolved space
to a better objective than the start has ("MIP start solution is feasible in
the reduced space: objective value is …"), keeps it as the incumbent, cuts the
search off at that objective and ends "optimal" with the start's values and a
bound and objective that belong to no plan (seen on 1 in about 50 small cases
that needed branch and bound; ``tests/test_model_plan_objective.py``). When
HiGHS's objective differs from that of the plan it returns, its bound is not
used; HiGHS runs again without the start for the time left, and the better of
that run's plan and the start is written.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.allocation import CAP_FAMILIES, Built
from models.solver.duals import _highs_duals
from models.solver.highs_api import _hrun, highspy
from models.solver.problem import _col_objective, direction_of, model_lp, sense_of
from models.solver.solution import (
    ModelSolution,
    Progress,
    _collect,
    _empty,
    _plan_objective,
    _version,
    report_start,
)
from models.solver.start import RELAXATION_SHARE, _box_bound, _lp_rounding_start
from models.status import Status, classify

if TYPE_CHECKING:
    from models.solver.reuse import ModelSession

PLAN_OBJECTIVE_TOL = 1e-6
"""Relative difference of HiGHS's objective from its plan's beyond which HiGHS is not believed."""

RERUN_MIN_S = 0.5
"""Seconds at least left for the re-run without the start after HiGHS misjudged it."""

MIN_STAGE_S = 0.05
"""A stage (branch and bound, marginal values) starts only with at least this many seconds left."""

POST_S_PER_COLUMN = 3e-6
"""Seconds per column kept back from the search for reading the plan back (1.5 s at 500k)."""

REUSED_RINS_GAP_SHARE = 0.25
"""A reused what-if's RINS sub-MIP aims at this share of the run's gap: its start is near the
answer, and a start well inside the gap often lets the run end at the relaxation bound."""

BNB_MIN_S_PER_COLUMN = 1e-5
"""Branch and bound starts only with this many seconds per column left (5 s at 500k columns):
with less, HiGHS does not get through its presolve, and overruns its limit trying."""


def _new_highs(
    time_limit_s: float,
    rel_gap: float,
    threads: int,
    seed: int,
    log_path: str | Path | None,
    msg: bool,
    options: dict[str, Any] | None,
    work_limit: int | None = None,
) -> Any:
    """Return a ``Highs`` with this run's options set (``work_limit``: ``mip_max_nodes``)."""
    h = highspy.Highs()  # type: ignore[union-attr]
    h.setOptionValue("output_flag", bool(msg or log_path))
    h.setOptionValue("log_to_console", bool(msg))
    if log_path:
        h.setOptionValue("log_file", str(log_path))
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("random_seed", int(seed))
    if threads:
        h.setOptionValue("threads", int(threads))
    if work_limit is not None:
        h.setOptionValue("mip_max_nodes", int(work_limit))
    for key, value in (options or {}).items():
        if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:  # type: ignore[union-attr]
            raise ValueError(f"HiGHS rejected the option {key}={value!r}")
    return h


def _subscribe(h: Any, progress: Progress) -> None:
    """Report HiGHS's incumbent and bound to ``progress`` (improvements, else every 0.5 s)."""
    last = [0.0]

    def _cb(e: Any) -> None:
        out = e.data_out
        now = float(out.running_time)
        if e.callback_type != highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution:
            if now - last[0] < 0.5:
                return
        last[0] = now
        with contextlib.suppress(Exception):
            progress(
                {
                    "time_s": now,
                    "objective": -float(out.mip_primal_bound),
                    "bound": -float(out.mip_dual_bound),
                    "gap": float(out.mip_gap),
                }
            )

    h.cbMipImprovingSolution.subscribe(_cb)
    h.cbMipInterrupt.subscribe(_cb)


@dataclass
class _HighsOutcome:
    """What one ``Highs.run`` left: status, its plan (if any) and whether its numbers hold."""

    model_status: Any
    status: Status
    """HiGHS's verdict mapped to a status (OPTIMAL/FEASIBLE mean: HiGHS has a plan)."""
    col: np.ndarray | None
    """Column values HiGHS returns (None without a plan)."""
    objective: float | None
    """Objective of ``col`` recomputed from the values (MODEL.md sense)."""
    claimed: float | None
    """The objective HiGHS reports (MODEL.md sense)."""
    bound: float
    """HiGHS's dual bound (MODEL.md sense); NaN when it has none or it is not trusted."""
    trusted: bool
    """False when HiGHS's reported objective is not that of the plan it returns."""


def _read_highs(h: Any, lp: Any, sense: float, use_unverified: bool) -> _HighsOutcome:
    """Read status, plan and bound of a finished ``Highs``; check its objective against its plan.

    ``use_unverified``: take HiGHS's values after an ``Optimal`` verdict even when
    HiGHS does not mark them feasible (no start to fall back on).
    """
    ms = h.getModelStatus()
    info = h.getInfo()
    MS = highspy.HighsModelStatus  # noqa: N806
    has_sol = int(info.primal_solution_status) == 2
    if ms == MS.kOptimal:
        status = Status.OPTIMAL
        has_sol = has_sol or use_unverified
    elif ms in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
        status, has_sol = Status.INFEASIBLE, False
    elif ms in (
        MS.kTimeLimit,
        MS.kInterrupt,
        MS.kIterationLimit,
        MS.kSolutionLimit,
        MS.kObjectiveBound,
        MS.kObjectiveTarget,
        MS.kMemoryLimit,
        getattr(MS, "kHighsInterrupt", MS.kInterrupt),
    ):
        status = Status.FEASIBLE if has_sol else Status.TIME_LIMIT_NO_SOLUTION
    else:
        status, has_sol = Status.ERROR, False
    if not has_sol:
        return _HighsOutcome(ms, status, None, None, None, float("nan"), True)
    col = np.asarray(h.getSolution().col_value, dtype=float)
    objective = _col_objective(lp, col, sense)
    claimed = sense * float(info.objective_function_value)
    trusted = math.isfinite(claimed) and abs(claimed - objective) <= PLAN_OBJECTIVE_TOL * max(
        1.0, abs(objective)
    )
    bound = sense * float(info.mip_dual_bound)
    if not math.isfinite(bound):
        # a pure LP: HiGHS's optimum is its own bound
        bound = claimed if status == Status.OPTIMAL else float("nan")
    if not trusted:
        bound = float("nan")
    return _HighsOutcome(ms, status, col, objective, claimed, bound, trusted)


def _stopped_by(model_status: Any) -> str | None:
    """Which limit ended a HiGHS run: ``time_limit``, ``work_limit``, ``user`` or None.

    HiGHS is interrupted only through :mod:`models.interrupt` (a stop the person asked for).
    """
    MS = highspy.HighsModelStatus  # noqa: N806
    if model_status == MS.kTimeLimit:
        return "time_limit"
    if model_status in (MS.kSolutionLimit, MS.kIterationLimit):
        return "work_limit"
    if model_status in (MS.kInterrupt, getattr(MS, "kHighsInterrupt", MS.kInterrupt)):
        return "user"
    return None


def _produces_nothing(built: Built) -> bool:
    """Return True when the written plan has no output at all (the empty plan)."""
    return bool((built.values(built.o_col) <= 1e-9).all())


def _run_highs(
    built: Built,
    time_limit_s: float,
    rel_gap: float,
    threads: int,
    seed: int,
    log_path: str | Path | None,
    msg: bool,
    duals: bool,
    progress: Progress | None,
    options: dict[str, Any] | None = None,
    heuristic: bool = True,
    work_limit: int | None = None,
    start_plan: tuple[np.ndarray, np.ndarray] | None = None,
    session: ModelSession | None = None,
    reused: bool = False,
) -> ModelSolution:
    """One HiGHS run of ``built`` (see :func:`models.solver.run` for the parameters).

    ``session`` (:mod:`models.solver.reuse`): with ``reused`` the session holds
    ``built``'s matrix already (adopted in place) and its relaxation is re-solved
    from the held basis; otherwise the matrix made here is held for the next run.
    """
    t0 = time.perf_counter()
    sense = sense_of(built)
    direction = direction_of(built)
    h = _new_highs(time_limit_s, rel_gap, threads, seed, log_path, msg, options, work_limit)
    names: list[str] | None
    if session is not None and reused:
        lp, integer, names, scale = session.lp, session.integer, session.names, session.scale
    else:
        lp, integer, names, scale = model_lp(built, CAP_FAMILIES)
        if session is not None:
            session.hold(built, lp, integer, names, scale)
    deadline = t0 + float(time_limit_s) - POST_S_PER_COLUMN * lp.num_col_
    h.passModel(lp)
    t_start = time.perf_counter()
    start = None
    if heuristic and integer.any():
        relaxation = None
        if session is not None and reused:
            relax_end = t_start + RELAXATION_SHARE * (deadline - t_start)
            relaxation = session.relaxation(built, threads, seed, relax_end)
        start = _lp_rounding_start(
            built,
            lp,
            integer,
            threads,
            seed,
            deadline - time.perf_counter(),
            rel_gap,
            work_limit=work_limit,
            start_plan=start_plan,
            relaxation=relaxation,
            rins_gap=REUSED_RINS_GAP_SHARE * rel_gap if reused else None,
            keep_relaxation=(
                session.keep_relaxation if session is not None and relaxation is None else None
            ),
            row_names=names,
            progress=progress,
        )
    if start is not None:
        _, lp_bound, col = start
        built.set_values(col)
        inc_obj = _plan_objective(built)
        status0, gap0 = classify(True, inc_obj, lp_bound, rel_gap, direction)
        report_start(progress, time.perf_counter() - t_start, inc_obj, lp_bound, gap0)
        if status0 == Status.OPTIMAL:
            sol = ModelSolution(
                status=Status.OPTIMAL,
                objective=inc_obj,
                best_bound=lp_bound,
                gap=gap0,
                build_seconds=built.build_seconds,
                solve_seconds=time.perf_counter() - t0,
                size=dict(built.size),
                solver="highs",
                solver_version=_version("highs"),
                message=(
                    "LP rounding: solution within the relative gap of the LP-relaxation bound "
                    f"({gap0:.3%} ≤ {rel_gap:.3%}); branch and bound not needed"
                ),
            )
            _collect(built, sol)
            if duals:
                sol.duals = _duals_in_time(h, integer, names, scale, built, sense, deadline)
                sol.solve_seconds = time.perf_counter() - t0
            return sol
        start = (inc_obj, lp_bound, col)
        hs = highspy.HighsSolution()  # type: ignore[union-attr]
        hs.col_value = list(col)
        hs.value_valid = True
        h.setSolution(hs)
    if progress is not None:
        _subscribe(h, progress)
    from models.interrupt import watch

    watch(h)  # a stop request (Ctrl-C) ends the search with the best plan so far
    left = deadline - time.perf_counter()
    if left >= max(MIN_STAGE_S, BNB_MIN_S_PER_COLUMN * lp.num_col_):
        h.setOptionValue("time_limit", float(left))
        _hrun(h)
        out = _read_highs(h, lp, sense, use_unverified=start is None)
        stopped_by = _stopped_by(out.model_status)
        message = f"HiGHS model status: {h.modelStatusToString(out.model_status)}"
    else:
        ms = highspy.HighsModelStatus.kTimeLimit  # type: ignore[union-attr]
        out = _HighsOutcome(ms, Status.TIME_LIMIT_NO_SOLUTION, None, None, None, float("nan"), True)
        stopped_by = "time_limit"
        message = "time limit reached before branch and bound"
    if not out.trusted:
        message += (
            f"; HiGHS reported the objective {out.claimed:,.6g} for a plan whose objective "
            f"is {out.objective:,.6g}: its bound is not used"
        )
        left = deadline - time.perf_counter()
        if start is not None and left > RERUN_MIN_S:
            rerun_log = f"{log_path}.rerun" if log_path else None  # its own file: one log
            h2 = _new_highs(left, rel_gap, threads, seed, rerun_log, msg, options, work_limit)
            h2.passModel(lp)
            if progress is not None:
                _subscribe(h2, progress)
            _hrun(h2)
            out2 = _read_highs(h2, lp, sense, use_unverified=False)
            message += f"; re-run without the start: {h2.modelStatusToString(out2.model_status)}"
            if out2.trusted and out2.col is not None:
                h, out = h2, out2
                stopped_by = _stopped_by(out2.model_status)
    if stopped_by is None and time.perf_counter() >= deadline and out.status != Status.OPTIMAL:
        stopped_by = "time_limit"
    elapsed = time.perf_counter() - t0
    if out.status in (Status.INFEASIBLE, Status.ERROR) or (out.col is None and start is None):
        sol = _empty(built, out.status, "highs", elapsed, message)
        if out.status == Status.TIME_LIMIT_NO_SOLUTION:
            sol.best_bound = _no_plan_bound(out.bound, lp, sense)
        sol.stopped_by = stopped_by
        return sol
    # the plan written: HiGHS's, unless the start (a plan checked by its own LP) is better
    best = out.col
    if start is not None and (
        out.objective is None or sense * (out.objective - start[0]) > 1e-9 * max(1.0, abs(start[0]))
    ):
        best = start[2]
        message += "; solution from LP rounding"
    assert best is not None  # HiGHS's plan or the start: checked above
    built.set_values(best)
    objective = _plan_objective(built)
    bounds = [b for b in (out.bound, start[1] if start is not None else None) if b is not None]
    bounds = [b for b in bounds if math.isfinite(b)]
    bound = (min(bounds) if direction == "max" else max(bounds)) if bounds else float("nan")
    if not math.isfinite(bound):
        bound = _box_bound(lp, sense)
    status, gap = classify(
        True, objective, bound, rel_gap, direction, empty_plan=_produces_nothing(built)
    )
    if status == Status.TIME_LIMIT_NO_SOLUTION:
        message += "; the only plan found produces nothing: not reported as a plan"
        sol = _empty(built, status, "highs", time.perf_counter() - t0, message)
        sol.best_bound = bound
        sol.stopped_by = stopped_by or "time_limit"
        return sol
    sol = ModelSolution(
        status=status,
        objective=objective,
        best_bound=bound,
        gap=gap,
        build_seconds=built.build_seconds,
        solve_seconds=elapsed,
        size=dict(built.size),
        solver="highs",
        solver_version=_version("highs"),
        message=message,
        stopped_by=stopped_by if status != Status.OPTIMAL else None,
    )
    _collect(built, sol)
    if duals:
        sol.duals = _duals_in_time(h, integer, names, scale, built, sense, deadline)
        sol.solve_seconds = time.perf_counter() - t0
    return sol


def _no_plan_bound(bound: float, lp: Any, sense: float) -> float:
    """Return the bound a run without a plan reports: HiGHS's when finite, else the box bound."""
    return bound if math.isfinite(bound) else _box_bound(lp, sense)


def _duals_in_time(
    h: Any,
    integer: np.ndarray,
    names: list[str] | None,
    scale: np.ndarray,
    built: Built,
    sense: float,
    deadline: float,
) -> dict[str, float] | None:
    """Marginal values within the run's deadline (None when no time is left or the LP stops)."""
    left = deadline - time.perf_counter()
    if left < MIN_STAGE_S:
        return None
    h.setOptionValue("time_limit", float(left))
    return _highs_duals(h, integer, names, scale, built, sense)
