"""Solve a built allocation model with HiGHS (default) or CBC; status is a value.

``run(built, ...) -> ModelSolution`` never raises for an ordinary outcome
(infeasible, time limit, a solver crash is ``error``); the status is read from
the solver itself, never from PuLP's ``LpStatus``: PuLP 3.3 maps a HiGHS run
stopped by its time limit with an incumbent to ``Optimal`` (sol_status 2),
which it is not.

HiGHS is driven through its Python API (highspy, the library behind
``pulp.HiGHS``) with the PuLP problem as the model of record: the problem is
handed over as one sparse matrix (``Highs.passModel``) instead of PuLP's
row-by-row ``addRow`` calls, the objective constant goes in as the model
offset (so HiGHS's gap and bound are those of the MODEL.md objective), and
the solution is written back to the PuLP variables. CBC (PuLP's bundled
binary, with PuLP's MPS writer and solution reader) runs as a subprocess
under a wall-clock guard, because it ignores its own time limit during its
root LP; it gets the same LP-rounding start and bound as HiGHS (below), and
a run stopped on time keeps the better of CBC's plan and the start.

Start and bound (``heuristic=True``, HiGHS and CBC): before branch and bound, the
LP relaxation is solved and rounded (locked pairs, then pairs by LP value,
then any applicant still without land on its free parcel of largest
capacity), the binaries are fixed and the outputs re-optimised: a feasible
plan. Its gap to the relaxation bound is often already within ``rel_gap``
(province scale: 0.07 %), and then the run ends ``optimal`` at that gap, as
HiGHS itself does; otherwise the plan is HiGHS's start and the relaxation
bound is kept if HiGHS's own is weaker when it stops. Above
``CG_MIN_PAIRS`` candidate pairs the full relaxation is too slow, and the
bound comes from :func:`_aggregated_relaxation` (no ``plot_once``, one pair per
firm, zone and unit: within 0.01 % of the full LP bound on the province
case). :func:`_lp_relaxation` can also price pair columns in (column
generation, tested), kept for cases where that aggregate is loose.

Marginal values (``duals=True``): the MIP solution's binaries are fixed, the
integrality dropped and the LP re-solved; ``ModelSolution.duals[row]`` is the
change of the MODEL.md objective (万元) per unit increase of the row's
right-hand side (per MWh, tce, t or 万元). With a maximised objective a
binding ``≤`` cap has a dual ≥ 0 and a binding ``≥`` floor a dual ≤ 0.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pulp

from models.allocation import CAP_FAMILIES, Built

try:  # pragma: no cover - availability depends on the environment
    import highspy

    HIGHS_AVAILABLE = True
except ImportError:  # pragma: no cover
    highspy = None
    HIGHS_AVAILABLE = False


def _swallow_highs_banner() -> None:
    """Create the process's first ``Highs()`` with file descriptor 1 muted.

    HiGHS prints its copyright banner from C++ straight to stdout the first time
    a ``Highs`` object is made in a process, whatever ``output_flag`` says; it
    would land in the middle of the CLI's progress display and in piped output.
    """
    if highspy is None:  # pragma: no cover
        return
    with contextlib.suppress(OSError, ValueError):
        import sys

        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)


_swallow_highs_banner()


class Status(StrEnum):
    """Typed solve status (equal to its string value)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    TIME_LIMIT_NO_SOLUTION = "time_limit_no_solution"
    ERROR = "error"


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
            return str(highspy.Highs.version())  # type: ignore[union-attr]
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


def _value(v: Any) -> float:
    val = v.varValue
    return 0.0 if val is None else float(val)


def _collect(built: Built, sol: ModelSolution) -> ModelSolution:
    """Fill variable arrays, slacks and row activities from PuLP varValues."""
    vals = np.vectorize(_value, otypes=[float])
    sol.y = np.where(vals(built.y) > 0.5, 1.0, 0.0) if len(built.y) else np.zeros(0)
    sol.x = np.where(vals(built.x) > 0.5, 1.0, 0.0) if len(built.x) else np.zeros(0)
    sol.o = vals(built.o) if len(built.o) else np.zeros(0)
    sol.zone_firm, sol.zone_zone = built.zone_firm, built.zone_zone
    sol.zone_output = vals(built.zone_var) if len(built.zone_var) else np.zeros(0)
    sol.unit_firm, sol.unit_unit = built.unit_firm, built.unit_unit
    sol.unit_output = vals(built.unit_var) if len(built.unit_var) else np.zeros(0)
    sol.slacks = {n: _value(s) for n, s in built.slacks.items()}
    from models.allocation import ELASTIC_FAMILIES

    for name, info in built.registry.rows.items():
        if info.family in ELASTIC_FAMILIES:
            con = built.constraints[name]
            act = sum(_value(v) * c for v, c in con.items())
            if name in built.slacks:  # report the lhs without the slack
                s = built.slacks[name]
                act -= con.get(s, 0.0) * _value(s)
            sol.row_activity[name] = float(act)
    return sol


# ---------------------------------------------------------------- HiGHS


def _to_highs_lp(
    prob: pulp.LpProblem, scaled: set[str] | None = None
) -> tuple[Any, list[pulp.LpVariable], list[str], np.ndarray]:
    """Return ``(HighsLp, variables, constraint names, row scale)``; sets ``var.index``.

    Rows whose solver name is in ``scaled`` are divided by their largest
    absolute coefficient (the cap rows: emission coefficients of 1e-5 t/万元
    next to energy ones of 1 tce/万元 made HiGHS's root LP five times slower);
    a row dual of the scaled model times the scale is the dual of the original row.
    """
    # PuLP registers every variable of a constraint in insertion order; the
    # public variables() re-walks all constraints and sorts by name (seconds at 10x).
    variables = list(prob._variables)  # noqa: SLF001
    seen = {v.hash for v in variables}
    obj = prob.objective or pulp.LpAffineExpression()
    variables += [v for v in obj if v.hash not in seen]
    for i, v in enumerate(variables):
        v.index = i
    sense = -1.0 if prob.sense == pulp.LpMaximize else 1.0
    cost = np.zeros(len(variables))
    if len(obj):
        cost[[v.index for v in obj]] = sense * np.fromiter(obj.values(), float, len(obj))
    inf = highspy.kHighsInf  # type: ignore[union-attr]
    lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], float)
    upper = np.array([inf if v.upBound is None else v.upBound for v in variables], float)
    kint = highspy.HighsVarType.kInteger  # type: ignore[union-attr]
    kcont = highspy.HighsVarType.kContinuous  # type: ignore[union-attr]
    integ = [kint if v.cat == pulp.LpInteger else kcont for v in variables]
    names = list(prob._constraints.keys())  # noqa: SLF001 - PuLP has no public ordered view
    cons = list(prob._constraints.values())  # noqa: SLF001
    counts = np.empty(len(cons), dtype=np.int64)
    idx_l: list[int] = []
    val_l: list[float] = []
    rlo = np.empty(len(cons))
    rup = np.empty(len(cons))
    for r, con in enumerate(cons):
        con.index = r
        idx_l.extend([v.index for v in con])
        val_l.extend(con.values())
        counts[r] = len(con)
        lb, ub = con.getLb(), con.getUb()
        rlo[r] = -inf if lb is None else lb
        rup[r] = inf if ub is None else ub
    idx = np.asarray(idx_l, dtype=np.int32)
    val = np.asarray(val_l, dtype=float)
    row_of = np.repeat(np.arange(len(cons)), counts)
    keep = val != 0
    idx, val, row_of = idx[keep], val[keep], row_of[keep]
    start = np.zeros(len(cons) + 1, dtype=np.int32)
    np.cumsum(np.bincount(row_of, minlength=len(cons)), out=start[1:])
    scale = np.ones(len(cons))
    if scaled:
        big = np.zeros(len(cons))
        np.maximum.at(big, row_of, np.abs(val))
        pick = np.array([n in scaled for n in names], dtype=bool) & (big > 0)
        scale[pick] = 1.0 / big[pick]
        val = val * scale[row_of]
        rlo = np.where(np.isinf(rlo), rlo, rlo * scale)
        rup = np.where(np.isinf(rup), rup, rup * scale)
    lp = highspy.HighsLp()  # type: ignore[union-attr]
    lp.num_col_ = len(variables)
    lp.num_row_ = len(cons)
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = rlo
    lp.row_upper_ = rup
    lp.offset_ = sense * float(obj.constant)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise  # type: ignore[union-attr]
    lp.a_matrix_.num_col_ = len(variables)
    lp.a_matrix_.num_row_ = len(cons)
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = idx
    lp.a_matrix_.value_ = val
    lp.integrality_ = integ
    return lp, variables, names, scale


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
) -> ModelSolution:
    t0 = time.perf_counter()
    prob = built.prob
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
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    scaled = {i.solver_name for i in built.registry.rows.values() if i.family in CAP_FAMILIES}
    lp, variables, names, scale = _to_highs_lp(prob, scaled)
    h.passModel(lp)
    t_start = time.perf_counter()
    start = None
    if heuristic and any(v.cat == pulp.LpInteger for v in variables):
        start = _lp_rounding_start(built, lp, variables, threads, seed, time_limit_s, rel_gap)
    if start is not None:
        inc_obj, lp_bound, col = start
        gap0 = abs(lp_bound - inc_obj) / max(abs(inc_obj), 1e-9)
        if progress is not None:
            with contextlib.suppress(Exception):
                progress(
                    {
                        "time_s": time.perf_counter() - t_start,
                        "objective": inc_obj,
                        "bound": lp_bound,
                        "gap": gap0,
                    }
                )
        if gap0 <= rel_gap:
            for v in variables:
                v.varValue = col[v.index]
            sol = ModelSolution(
                status=Status.OPTIMAL,
                objective=float(prob.objective.value()),
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
                sol.duals = _highs_duals(h, variables, names, scale, built, sense_of(prob))
                sol.solve_seconds = time.perf_counter() - t0
            return sol
        start = (inc_obj, lp_bound, col)
        h.setOptionValue("time_limit", max(0.1, float(time_limit_s) - (time.perf_counter() - t0)))
        hs = highspy.HighsSolution()  # type: ignore[union-attr]
        hs.col_value = list(col)
        hs.value_valid = True
        h.setSolution(hs)
    if progress is not None:
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
    from models.interrupt import watch

    watch(h)  # a stop request (Ctrl-C) ends the search with the best plan so far
    _hrun(h)
    ms = h.getModelStatus()
    info = h.getInfo()
    MS = highspy.HighsModelStatus  # noqa: N806
    has_sol = int(info.primal_solution_status) == 2
    if ms == MS.kOptimal:
        status = Status.OPTIMAL
    elif ms in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
        status = Status.INFEASIBLE
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
        status = Status.ERROR
    elapsed = time.perf_counter() - t0
    message = f"HiGHS model status: {h.modelStatusToString(ms)}"
    if status == Status.TIME_LIMIT_NO_SOLUTION and start is not None:
        status, has_sol = Status.FEASIBLE, False
        message += "; solution from LP rounding"
    if status not in (Status.OPTIMAL, Status.FEASIBLE):
        return _empty(built, status, "highs", elapsed, message)
    sol_values = h.getSolution().col_value if has_sol or start is None else start[2]
    for v in variables:
        v.varValue = sol_values[v.index]
    objective = float(prob.objective.value()) if prob.objective is not None else 0.0
    sense = sense_of(prob)
    bound = sense * float(info.mip_dual_bound)
    if not math.isfinite(bound):
        bound = objective if status == Status.OPTIMAL else float("nan")
    gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None
    if start is not None and status == Status.FEASIBLE:
        # the LP-relaxation bound is valid too: keep the tighter of the two
        lp_bound = start[1]
        if math.isnan(bound):
            bound = lp_bound
        else:
            bound = min(bound, lp_bound) if sense < 0 else max(bound, lp_bound)
        gap = abs(bound - objective) / max(abs(objective), 1e-9)
        if gap <= rel_gap:
            status = Status.OPTIMAL
    if gap is None and math.isfinite(bound):
        gap = abs(bound - objective) / max(abs(objective), 1e-9)
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
    )
    _collect(built, sol)
    if duals:
        sol.duals = _highs_duals(h, variables, names, scale, built, sense)
        sol.solve_seconds = time.perf_counter() - t0
    return sol


def _hrun(h: Any) -> None:
    """Run HiGHS; retry once after resetting its global thread scheduler.

    HiGHS refuses to run (status "Not Set") when the ``threads`` option differs
    from the size of the process-wide scheduler that an earlier instance
    started; resetting the scheduler and running again is the documented cure.
    """
    h.run()
    if h.getModelStatus() == highspy.HighsModelStatus.kNotset:  # type: ignore[union-attr]
        highspy.Highs.resetGlobalScheduler(True)  # type: ignore[union-attr]
        h.run()


def sense_of(prob: pulp.LpProblem) -> float:
    """Return -1 for a maximisation (HiGHS minimises the negated objective), else 1."""
    return -1.0 if prob.sense == pulp.LpMaximize else 1.0


def _round_assignment(
    built: Built, xv: np.ndarray, yv: np.ndarray, stay_if_unused: bool, by_output: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Round LP values of (x, y) to a plot_once/one_parcel/locked-feasible assignment.

    Locked pairs first, then pairs by decreasing LP value (or LP value times
    pair capacity, ``by_output``), then every
    applicant still without land on its free candidate of largest capacity.
    Existing firms keep their LP-rounded y (or stay when nobody takes their
    plots, ``stay_if_unused``).
    """
    d = built.data
    cf = np.asarray(d.cand_firm, np.int64)
    cb = np.asarray(d.cand_parcel, np.int64)
    app = np.asarray(d.firm_applicant, bool)
    ptr = np.asarray(d.parcel_ptr, np.int64)
    pp = np.asarray(d.parcel_plot, np.int64)
    occ = np.asarray(d.plot_occupant, np.int64)
    may_exit = np.asarray(d.may_exit, bool)
    y = np.where(yv > 0.5, 1.0, 0.0)
    y[~app & ~may_exit] = 1.0
    y[app] = 0.0
    x = np.zeros(len(cf))
    used = np.zeros(d.n_plots, bool)
    taken = np.zeros(d.n_firms, bool)
    cap = np.minimum(d.oreq[cf], d.va_mu[cf] * np.asarray(d.parcel_area_mu)[cb])
    locked = np.flatnonzero(np.asarray(d.locked)[cf] & (np.asarray(d.locked_parcel)[cf] == cb))
    score = xv * cap if by_output else xv
    by_lp = np.argsort(-score, kind="stable")
    by_lp = by_lp[xv[by_lp] > 1e-6]
    by_cap = np.argsort(-cap, kind="stable")
    n_locked = len(locked)
    for i, c in enumerate(np.concatenate([locked, by_lp, by_cap])):
        f = cf[c]
        if taken[f]:
            continue
        plots = pp[ptr[cb[c]] : ptr[cb[c] + 1]]
        if used[plots].any():
            continue
        o = occ[plots]
        o = o[o >= 0]
        if i < n_locked and may_exit[o].all():
            y[o] = 0.0  # a locked project moves occupants that may leave
        if (y[o] == 1).any():
            continue
        used[plots] = True
        taken[f] = True
        x[c] = 1.0
        y[f] = 1.0
    for f in np.flatnonzero(np.asarray(d.locked, bool) & ~taken):
        y[f] = 1.0 if not app[f] else y[f]
    if stay_if_unused:
        free_firms = np.setdiff1d(np.flatnonzero(~app), occ[used & (occ >= 0)])
        y[free_firms] = 1.0
    return x, y


CG_MIN_PAIRS = 100_000
"""Below this many candidate pairs the relaxation is solved whole (faster than pricing)."""


def _lp_relaxation(
    built: Built, lp: Any, threads: int, seed: int, deadline: float
) -> tuple[np.ndarray, float] | None:
    """Solve the LP relaxation by column generation over the pair columns ``x``.

    The full relaxation at ten times province scale (460,000 pairs) took
    HiGHS minutes; most pairs are never fractional. With more than
    ``CG_MIN_PAIRS`` pairs, start with every
    non-pair column and each applicant's 8 largest-capacity pairs (and locked
    pairs), solve, price the missing pairs with the row duals
    (``d_j = c_j − a_jᵀπ``), add the most negative (at most 5 % of C per
    round, HiGHS warm-starts from its basis) and repeat until no pair prices
    out below −1e-7: the restricted optimum is then the full LP optimum, a
    valid bound on the MIP. Returns ``(column values, bound)`` in the MODEL.md
    objective's sense, or None on failure or timeout.
    """
    MS = highspy.HighsModelStatus  # noqa: N806
    d = built.data
    n, m = lp.num_col_, lp.num_row_
    start = np.asarray(lp.a_matrix_.start_, dtype=np.int64)
    idx = np.asarray(lp.a_matrix_.index_, dtype=np.int64)
    val = np.asarray(lp.a_matrix_.value_, dtype=float)
    row_of = np.repeat(np.arange(m), np.diff(start))
    cost = np.asarray(lp.col_cost_, dtype=float)
    lo = np.asarray(lp.col_lower_, dtype=float)
    up = np.asarray(lp.col_upper_, dtype=float)
    xi = np.array([v.index for v in built.x], dtype=np.int64)
    corder = np.argsort(idx, kind="stable")
    cptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(idx, minlength=n), out=cptr[1:])
    active = np.ones(n, dtype=bool)
    if len(xi) > CG_MIN_PAIRS:
        active[xi] = False
        cf = np.asarray(d.cand_firm, np.int64)
        cb = np.asarray(d.cand_parcel, np.int64)
        cap = np.minimum(d.oreq[cf], d.va_mu[cf] * np.asarray(d.parcel_area_mu)[cb])
        o = np.lexsort((-cap, cf))
        first = np.searchsorted(cf[o], cf[o], side="left")
        rank = np.empty(len(cf), dtype=np.int64)
        rank[o] = np.arange(len(cf)) - first
        lockp = np.asarray(d.locked)[cf] & (np.asarray(d.locked_parcel)[cf] == cb)
        active[xi[(rank < 8) | lockp]] = True
    cols = np.flatnonzero(active)
    newpos = np.full(n, -1, dtype=np.int64)
    newpos[cols] = np.arange(len(cols))
    keep = active[idx]
    sub = highspy.HighsLp()  # type: ignore[union-attr]
    sub.num_col_, sub.num_row_ = len(cols), m
    sub.col_cost_, sub.col_lower_, sub.col_upper_ = cost[cols], lo[cols], up[cols]
    sub.row_lower_, sub.row_upper_ = lp.row_lower_, lp.row_upper_
    sub.offset_ = lp.offset_
    sub.a_matrix_.format_ = highspy.MatrixFormat.kRowwise  # type: ignore[union-attr]
    sub.a_matrix_.num_col_, sub.a_matrix_.num_row_ = len(cols), m
    sstart = np.zeros(m + 1, dtype=np.int32)
    np.cumsum(np.bincount(row_of[keep], minlength=m), out=sstart[1:])
    sub.a_matrix_.start_ = sstart
    sub.a_matrix_.index_ = newpos[idx[keep]].astype(np.int32)
    sub.a_matrix_.value_ = val[keep]
    h = highspy.Highs()  # type: ignore[union-attr]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", int(seed))
    if threads:
        h.setOptionValue("threads", int(threads))
    h.passModel(sub)
    order = list(cols)
    per_round = max(2000, len(xi) // 20)
    while True:
        h.setOptionValue("time_limit", max(0.1, deadline - time.perf_counter()))
        _hrun(h)
        if h.getModelStatus() != MS.kOptimal:
            return None
        pi = np.asarray(h.getSolution().row_dual, dtype=float)
        atpi = np.bincount(idx, weights=val * pi[row_of], minlength=n)
        out = xi[~active[xi]]
        rc = cost[out] - atpi[out]
        neg = out[rc < -1e-7]
        if not len(neg):
            break
        if len(neg) > per_round:
            neg = neg[np.argsort(rc[rc < -1e-7], kind="stable")[:per_round]]
        neg = np.sort(neg)
        lens = cptr[neg + 1] - cptr[neg]
        pos = np.repeat(cptr[neg], lens) + (
            np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
        )
        ents = corder[pos]
        cstart = np.zeros(len(neg), dtype=np.int32)
        cstart[1:] = np.cumsum(lens)[:-1]
        h.addCols(
            len(neg),
            cost[neg],
            lo[neg],
            up[neg],
            int(lens.sum()),
            cstart,
            row_of[ents].astype(np.int32),
            val[ents],
        )
        active[neg] = True
        order.extend(neg.tolist())
    col = np.zeros(n)
    col[np.asarray(order, dtype=np.int64)] = np.asarray(h.getSolution().col_value)
    sign = -1.0 if built.prob.sense == pulp.LpMaximize else 1.0
    return col, sign * float(h.getInfo().objective_function_value)


def _aggregated_relaxation(
    built: Built, threads: int, seed: int, time_limit_s: float
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Bound the MIP cheaply: the LP without land competition, one pair per (firm, zone, unit).

    Without ``plot_once`` the parcels of one applicant in the same zone and
    control unit differ only by capacity, so the largest-capacity one
    dominates; dropping ``plot_once`` and the dominated pairs relaxes the
    problem, and its LP optimum bounds the MIP from above. On the province
    case it is within 0.01 % of the full LP bound, at a twentieth of the
    columns (the full LP at ten times that scale did not finish in 200 s on
    the shared machine). Returns ``(x values on all pairs, y values, bound)``
    — the representative pair of each group carries the group's value — or None.
    """
    from dataclasses import replace

    from models.allocation import build

    d = built.data
    cf = np.asarray(d.cand_firm, np.int64)
    cb = np.asarray(d.cand_parcel, np.int64)
    if not len(cf):
        keep = np.zeros(0, dtype=np.int64)
    else:
        cap = np.minimum(d.oreq[cf], d.va_mu[cf] * np.asarray(d.parcel_area_mu)[cb])
        zone = np.asarray(d.parcel_zone, np.int64)[cb]
        unit = np.asarray(d.parcel_unit, np.int64)[cb] + 1
        key = (cf * (d.n_zones + 1) + zone) * (d.n_units + 2) + unit
        o = np.lexsort((-cap, key))
        first = np.r_[True, key[o][1:] != key[o][:-1]]
        lockp = np.flatnonzero(np.asarray(d.locked)[cf] & (np.asarray(d.locked_parcel)[cf] == cb))
        keep = np.union1d(o[first], lockp)
    reduced = replace(d, cand_firm=cf[keep], cand_parcel=cb[keep])
    small = build(reduced, built.params, relax_land=True)
    scaled = {i.solver_name for i in small.registry.rows.values() if i.family in CAP_FAMILIES}
    lp, _, _, _ = _to_highs_lp(small.prob, scaled)
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_  # type: ignore[union-attr]
    h = highspy.Highs()  # type: ignore[union-attr]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("random_seed", int(seed))
    if threads:
        h.setOptionValue("threads", int(threads))
    h.passModel(lp)
    _hrun(h)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # type: ignore[union-attr]
        return None
    col = np.asarray(h.getSolution().col_value)
    xv = np.zeros(len(cf))
    xv[keep] = col[[v.index for v in small.x]] if len(keep) else 0.0
    yv = col[[v.index for v in small.y]]
    return xv, yv, sense_of(built.prob) * float(h.getInfo().objective_function_value)


def _lp_rounding_start(
    built: Built,
    lp: Any,
    variables: list[pulp.LpVariable],
    threads: int,
    seed: int,
    time_limit_s: float,
    rel_gap: float = 1e-4,
) -> tuple[float, float, np.ndarray] | None:
    """LP-relaxation bound plus a rounded incumbent: ``(objective, bound, columns)``.

    Solves the LP relaxation (its optimum bounds the MIP), rounds it with
    :func:`_round_assignment`, fixes the binaries and solves the LP in the
    outputs. Returns None when any step fails (then HiGHS starts cold).
    """
    MS = highspy.HighsModelStatus  # noqa: N806
    t_end = time.perf_counter() + time_limit_s
    integ = list(lp.integrality_)
    cont = highspy.HighsVarType.kContinuous  # type: ignore[union-attr]
    lp.integrality_ = [cont] * lp.num_col_
    lo0, up0 = np.array(lp.col_lower_), np.array(lp.col_upper_)
    try:
        col = None
        if len(built.x) > CG_MIN_PAIRS:
            agg = _aggregated_relaxation(built, threads, seed, 0.7 * time_limit_s)
            if agg is None:
                return None
            xv, yv, bound = agg
        else:
            relax = _lp_relaxation(
                built, lp, threads, seed, time.perf_counter() + 0.45 * time_limit_s
            )
            if relax is None:
                return None
            col, bound = relax
            xv = col[[v.index for v in built.x]] if len(built.x) else np.zeros(0)
            yv = col[[v.index for v in built.y]]
        xi = np.array([v.index for v in built.x], dtype=np.int64)
        yi = np.array([v.index for v in built.y], dtype=np.int64)
        best = None
        for stay, by_output in ((True, False), (True, True), (False, False)):
            if best is not None and not stay:
                break
            x, y = _round_assignment(built, xv, yv, stay, by_output)
            lo, up = lo0.copy(), up0.copy()
            lo[xi] = up[xi] = x
            lo[yi] = up[yi] = y
            lp.col_lower_, lp.col_upper_ = lo, up
            h2 = _solve_quiet(lp)
            if h2.getModelStatus() != MS.kOptimal:
                h2 = _repair_admissions(built, lp, x, y, lo, up, xi, yi)
            if h2 is not None and h2.getModelStatus() == MS.kOptimal:
                obj = sense_of(built.prob) * float(h2.getInfo().objective_function_value)
                maximise = built.prob.sense == pulp.LpMaximize
                if best is None or (obj > best[0] if maximise else obj < best[0]):
                    best = (obj, bound, np.asarray(h2.getSolution().col_value))
        rens_s = min(0.2 * time_limit_s, t_end - time.perf_counter() - 0.4 * time_limit_s)
        gap0 = None if best is None else abs(bound - best[0]) / max(abs(best[0]), 1e-9)
        if best is not None and col is not None and rens_s > 0.5 and gap0 > rel_gap:
            rens = _rens(built, lp, integ, col, lo0, up0, best[2], threads, seed, rens_s, rel_gap)
            if rens is not None and rens[0] > best[0]:
                best = (rens[0], bound, rens[1])
        return best
    finally:
        lp.integrality_ = integ
        lp.col_lower_, lp.col_upper_ = lo0, up0


def _solve_quiet(lp: Any) -> Any:
    """Solve ``lp`` (a HighsLp, bounds as set) in a fresh silent Highs; return it."""
    h = highspy.Highs()  # type: ignore[union-attr]
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    _hrun(h)
    return h


def _repair_admissions(
    built: Built,
    lp: Any,
    x: np.ndarray,
    y: np.ndarray,
    lo: np.ndarray,
    up: np.ndarray,
    xi: np.ndarray,
    yi: np.ndarray,
) -> Any:
    """Make a rounded plan feasible by admitting fewer applicants; the solved Highs or None.

    Rounding admits every applicant it can place; with output floors (a class
    floor φ > 0) the caps may not carry all of them. Here each rounded-in,
    unlocked applicant may be admitted partly (its ``y`` and parcel ``x`` free in
    [0, 1]); those the LP does not admit fully are dropped and the plan is
    re-solved with the rest fixed. Existing firms keep their rounded ``y``.
    """
    MS = highspy.HighsModelStatus  # noqa: N806
    d = built.data
    app = np.asarray(d.firm_applicant, bool)
    locked = np.asarray(d.locked, bool)
    cf = np.asarray(d.cand_firm, np.int64)
    loose_f = app & ~locked & (y > 0.5)
    if not loose_f.any():
        return None
    loose_c = (x > 0.5) & loose_f[cf]
    lo, up = lo.copy(), up.copy()
    lo[yi[loose_f]] = 0.0
    lo[xi[loose_c]] = 0.0
    lp.col_lower_, lp.col_upper_ = lo, up
    h = _solve_quiet(lp)
    if h.getModelStatus() != MS.kOptimal:
        return None
    yv = np.asarray(h.getSolution().col_value)[yi]
    drop = loose_f & (yv < 1 - 1e-6)
    keep = loose_f & ~drop
    lo[yi[keep]] = 1.0
    up[yi[drop]] = 0.0
    up[xi[loose_c & drop[cf]]] = 0.0
    lo[xi[loose_c & keep[cf]]] = 1.0
    lp.col_lower_, lp.col_upper_ = lo, up
    h = _solve_quiet(lp)
    return h if h.getModelStatus() == MS.kOptimal else None


def _rens(
    built: Built,
    lp: Any,
    integ: list,
    col: np.ndarray,
    lo0: np.ndarray,
    up0: np.ndarray,
    start: np.ndarray,
    threads: int,
    seed: int,
    time_s: float,
    rel_gap: float,
) -> tuple[float, np.ndarray] | None:
    """RENS: the MIP with every binary that is integral in the LP fixed there.

    Only the fractional pairs and firms stay free, so the sub-MIP is small;
    any of its solutions is a plan of the full model. Returns ``(objective,
    columns)`` of its best solution, or None.
    """
    ints = np.flatnonzero(np.asarray([t == highspy.HighsVarType.kInteger for t in integ]))  # type: ignore[union-attr]
    lo, up = lo0.copy(), up0.copy()
    v = col[ints]
    up[ints[v <= 1e-6]] = 0.0
    lo[ints[v >= 1 - 1e-6]] = 1.0
    lp.col_lower_, lp.col_upper_ = lo, up
    lp.integrality_ = integ
    h = highspy.Highs()  # type: ignore[union-attr]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_s))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("random_seed", int(seed))
    if threads:
        h.setOptionValue("threads", int(threads))
    h.passModel(lp)
    ok = (start >= lo - 1e-9).all() and (start <= up + 1e-9).all()
    if ok:
        hs = highspy.HighsSolution()  # type: ignore[union-attr]
        hs.col_value = list(start)
        hs.value_valid = True
        h.setSolution(hs)
    _hrun(h)
    if int(h.getInfo().primal_solution_status) != 2:
        return None
    obj = sense_of(built.prob) * float(h.getInfo().objective_function_value)
    return obj, np.asarray(h.getSolution().col_value)


def _highs_duals(
    h: Any,
    variables: list[pulp.LpVariable],
    names: list[str],
    scale: np.ndarray,
    built: Built,
    sense: float,
) -> dict[str, float] | None:
    """Fix the integers at their values, drop integrality, re-solve the LP, read row duals."""
    ints = [v.index for v in variables if v.cat == pulp.LpInteger]
    if ints:
        vals = np.array([round(variables[i].varValue or 0.0) for i in ints], float)
        idx = np.asarray(ints, dtype=np.int32)
        h.changeColsIntegrality(
            len(ints),
            idx,
            np.full(len(ints), highspy.HighsVarType.kContinuous, dtype=np.uint8),  # type: ignore[union-attr]
        )
        h.changeColsBounds(len(ints), idx, vals, vals)
    h.setOptionValue("solver", "simplex")
    _hrun(h)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # type: ignore[union-attr]
        return None
    row_dual = h.getSolution().row_dual
    reg = built.registry
    out = {}
    for r, sname in enumerate(names):
        out[reg.display(sname)] = float(sense * row_dual[r] * scale[r])
    return out


# ---------------------------------------------------------------- CBC

CBC_MARGIN_S = 2.0
"""CBC's own ``-sec`` is this much (at most 10 %) shorter than the time left.

So that a CBC stopping on its own time limit has written its solution before
the wall-clock guard acts.
"""

FALLBACK_MIN_SHARE = 0.1
"""Share of the time limit CBC gets at least when it takes over from a failed HiGHS."""

CBC_GRACE_S = 3.0
"""Seconds between SIGINT at the time limit and SIGKILL for a CBC still running.

CBC checks ``-sec`` only between nodes and heuristics and ignores SIGINT
during its root LP: at ten times province scale it ran for more than eight
minutes past a 120 s limit before the guard existed.
"""


@dataclass
class _CbcRun:
    """What one CBC process left behind."""

    ended: str
    """``exit`` (CBC stopped itself), ``interrupted`` (SIGINT) or ``killed``."""
    head: str = ""
    """First line of CBC's solution file, e.g. ``Stopped on time - objective value 3``."""
    status: int = pulp.LpStatusNotSolved
    sol_status: int = pulp.LpSolutionNoSolutionFound
    values: dict[str, float] | None = None
    log: str = ""
    seconds: float = 0.0
    sign: float = 1.0
    """-1 when CBC solved the negated (minimisation) problem: its log's numbers flip."""


def _cbc_process(
    prob: pulp.LpProblem,
    *,
    start: bool,
    sec: float,
    wall_s: float,
    rel_gap: float,
    threads: int,
    seed: int,
    log_file: str,
) -> _CbcRun:
    """Run PuLP's bundled CBC binary on ``prob`` under a wall-clock guard.

    ``pulp.PULP_CBC_CMD`` waits for CBC without a timeout, and CBC checks
    ``-sec`` only at certain points (not during its root LP and presolve), so
    the binary is run here the way PuLP runs it (same MPS file with renamed
    columns, same ``-mips`` start file and solution reader) but waited for at
    most ``wall_s`` seconds; then it gets SIGINT (CBC stops and writes its
    best solution) and, ``CBC_GRACE_S`` later, SIGKILL. ``start``: write the
    variables' current values as CBC's MIP start. ``-timeMode elapsed`` makes
    ``-sec`` count wall-clock seconds (CBC's default is CPU seconds, which run
    slower than the clock on a shared machine).
    """
    cmd = pulp.PULP_CBC_CMD(msg=False)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="allocator_cbc_") as tmp:
        mps, mst, solf = (os.path.join(tmp, f"model.{e}") for e in ("mps", "mst", "sol"))
        # CBC 2.10 with -max gets the sign of a MIP start's cost wrong (it logs the
        # start of a maximisation as a minimisation cost of +obj, the worst
        # possible incumbent): hand it the equivalent minimisation instead
        flip = prob.sense == pulp.LpMaximize and prob.objective is not None
        if flip:
            objective, prob.objective, prob.sense = prob.objective, -prob.objective, pulp.LpMinimize
        try:
            vs, vnames, cnames, _ = prob.writeMPS(mps, rename=1)
        finally:
            if flip:
                prob.objective, prob.sense = objective, pulp.LpMaximize
        # line-buffered output (coreutils' stdbuf, when present): a CBC that has to
        # be killed still leaves its log up to that point
        stdbuf = shutil.which("stdbuf")
        args = [*([stdbuf, "-oL", "-eL"] if stdbuf else []), cmd.path, mps]
        if start:
            cmd.writesol(mst, prob, vs, vnames, cnames)
            args += ["-mips", mst]
        sec = max(1.0, sec - (time.perf_counter() - t0))
        wall_s = max(1.0, wall_s - (time.perf_counter() - t0))
        args += ["-sec", f"{sec:.2f}", "-timeMode", "elapsed", "-ratio", repr(float(rel_gap))]
        if threads:
            args += ["-threads", str(int(threads))]
        if seed > 0:
            args += ["-randomCbcSeed", str(int(seed))]
        args += ["-solve", "-printingOptions", "all", "-solution", solf]
        with open(log_file, "w") as out:
            proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
            ended = "exit"
            try:
                proc.wait(timeout=wall_s)
            except subprocess.TimeoutExpired:
                ended = "interrupted"
                try:
                    proc.send_signal(signal.SIGINT)
                    proc.wait(timeout=CBC_GRACE_S)
                except (subprocess.TimeoutExpired, ValueError, OSError):  # Windows: no SIGINT
                    ended = "killed"
                    proc.kill()
                    proc.wait()
            finally:
                if proc.poll() is None:  # interrupted from outside (e.g. Ctrl-C in Python)
                    proc.kill()
                    proc.wait()
        run = _CbcRun(ended=ended, seconds=time.perf_counter() - t0, sign=-1.0 if flip else 1.0)
        run.log = Path(log_file).read_text(errors="replace")
        if ended == "exit" and proc.returncode != 0:
            raise RuntimeError(f"CBC exited with code {proc.returncode}")
        # a killed CBC may have left half a file; an interrupted one writes it whole
        if ended != "killed" and os.path.exists(solf) and os.path.getsize(solf) > 0:
            with open(solf) as f:
                run.head = f.readline().strip()
            st, values, _, _, _, sst = cmd.readsol_MPS(solf, prob, vs, vnames, cnames)
            run.status, run.sol_status = st, sst
            if sst in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
                run.values = values
    return run


_CBC_NUM = r"([-+]?\d[\d.eE+-]*)"


def _cbc_log_numbers(text: str) -> dict[str, float]:
    """Read CBC's closing summary: objective and bound in the sense CBC solved."""
    out = {}
    for key, pat in (
        ("objective", r"Objective value:\s*" + _CBC_NUM),
        ("bound", r"(?:Lower|Upper) bound:\s*" + _CBC_NUM),
    ):
        m = re.findall(pat, text)
        if m:
            with contextlib.suppress(ValueError):
                out[key] = float(m[-1])
    return out


def _cbc_start_note(log: str, sign: float = 1.0) -> str:
    """Summarise what CBC said about the MIP start (``MIPStart provided solution …``)."""
    m = re.search(r"MIPStart provided solution with cost\s*" + _CBC_NUM, log)
    if m:
        return f"CBC accepted the LP-rounding start (objective {sign * float(m.group(1)):.6g})"
    if "MIPStart values read" in log and "Continuous objective value" not in log:
        return "CBC read the LP-rounding start but did not finish its root LP"
    if re.search(r"mipstart", log, re.I):
        return "CBC did not use the LP-rounding start"
    return "CBC stopped before it read the LP-rounding start"


def _cbc_start(
    built: Built, time_limit_s: float, rel_gap: float, threads: int, seed: int
) -> tuple[float, float, np.ndarray, list[pulp.LpVariable]] | None:
    """Compute the LP-rounding start and LP-relaxation bound HiGHS gets (needs highspy).

    Returns ``(objective, bound, values, variables)`` with ``values[i]`` the
    start value of ``variables[i]``, or None (no highspy, no binaries, or the
    heuristic failed).
    """
    if not HIGHS_AVAILABLE:
        return None
    prob = built.prob
    scaled = {i.solver_name for i in built.registry.rows.values() if i.family in CAP_FAMILIES}
    try:
        lp, variables, _, _ = _to_highs_lp(prob, scaled)
        if not any(v.cat == pulp.LpInteger for v in variables):
            return None
        start = _lp_rounding_start(built, lp, variables, threads, seed, time_limit_s, rel_gap)
    except Exception:  # noqa: BLE001 - CBC then starts cold
        return None
    if start is None:
        return None
    # by position in ``variables``: PuLP's writeMPS re-sorts the problem's variables
    # (and a later _to_highs_lp renumbers ``index``)
    return start[0], start[1], start[2][[v.index for v in variables]], variables


def _cbc_polish(built: Built, threads: int, seed: int, time_s: float) -> bool:
    """Re-solve the outputs of CBC's plan with its binaries fixed (HiGHS LP).

    CBC's solution file prints about eight significant digits, so its plan
    misses rows such as ``o_fz − Σ cap·x ≤ 0`` by up to 1e-4; the LP with the
    binaries fixed gives exact outputs, and an objective at least as good.
    Returns True when the PuLP variables were updated.
    """
    if not HIGHS_AVAILABLE:
        return False
    MS = highspy.HighsModelStatus  # noqa: N806
    prob = built.prob
    try:
        scaled = {i.solver_name for i in built.registry.rows.values() if i.family in CAP_FAMILIES}
        lp, variables, _, _ = _to_highs_lp(prob, scaled)
        ints = np.array([v.cat == pulp.LpInteger for v in variables], dtype=bool)
        vals = np.array([v.varValue or 0.0 for v in variables], dtype=float)
        lo, up = np.array(lp.col_lower_), np.array(lp.col_upper_)
        lo[ints] = up[ints] = np.round(vals[ints])
        lp.col_lower_, lp.col_upper_ = lo, up
        lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_  # type: ignore[union-attr]
        h = highspy.Highs()  # type: ignore[union-attr]
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(max(0.5, time_s)))
        h.setOptionValue("random_seed", int(seed))
        if threads:
            h.setOptionValue("threads", int(threads))
        h.passModel(lp)
        _hrun(h)
        if h.getModelStatus() != MS.kOptimal:
            return False
        col = h.getSolution().col_value
        for v in variables:
            v.varValue = float(col[v.index])
        return True
    except Exception:  # noqa: BLE001 - keep CBC's own values
        return False


def _set_values(variables: list[pulp.LpVariable], values: np.ndarray) -> None:
    for v, val in zip(variables, values, strict=True):
        v.varValue = float(val)


def _run_cbc(
    built: Built,
    time_limit_s: float,
    rel_gap: float,
    threads: int,
    seed: int,
    log_path: str | Path | None,
    msg: bool,
    duals: bool,
    heuristic: bool = True,
    progress: Progress | None = None,
) -> ModelSolution:
    """CBC with the LP-rounding start, the LP bound and a hard wall-clock limit.

    The whole run (start, MPS file, CBC) returns within ``time_limit_s`` plus
    ``CBC_GRACE_S`` and a few seconds of file reading. Status:
    ``optimal`` only when the start is already within ``rel_gap`` of the
    LP-relaxation bound or CBC finished by itself; a run stopped on time is
    ``feasible`` (the better of CBC's plan and the start, gap against the
    tighter of CBC's bound and the LP bound) or ``time_limit_no_solution``.
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit_s)
    prob = built.prob
    maximise = prob.sense == pulp.LpMaximize
    start = _cbc_start(built, time_limit_s, rel_gap, threads, seed) if heuristic else None
    notes = []
    if start is not None:
        inc_obj, lp_bound, start_values, variables = start
        gap0 = abs(lp_bound - inc_obj) / max(abs(inc_obj), 1e-9)
        _set_values(variables, start_values)
        notes.append(f"LP rounding {gap0:.3%} from the LP-relaxation bound")
        if progress is not None:
            with contextlib.suppress(Exception):
                progress(
                    {
                        "time_s": time.perf_counter() - t0,
                        "objective": inc_obj,
                        "bound": lp_bound,
                        "gap": gap0,
                    }
                )
        if gap0 <= rel_gap:
            return _cbc_solution(
                built,
                Status.OPTIMAL,
                lp_bound,
                t0,
                duals,
                msg,
                "",
                f"LP rounding: solution within the relative gap of the LP-relaxation bound "
                f"({gap0:.3%} ≤ {rel_gap:.3%}); CBC not needed",
            )
    remaining = deadline - time.perf_counter()
    if start is not None and remaining < 1.0:
        return _cbc_solution(
            built,
            Status.FEASIBLE,
            start[1],
            t0,
            duals,
            msg,
            "",
            "; ".join([*notes, "no time left for CBC: solution from LP rounding"]),
        )
    tmp = None
    if log_path is None:
        fd, tmp = tempfile.mkstemp(suffix=".log", prefix="cbc_")
        os.close(fd)
        log_file = tmp
    else:
        log_file = str(log_path)
    try:
        cbc = _cbc_process(
            prob,
            start=start is not None,
            sec=max(1.0, remaining - min(CBC_MARGIN_S, 0.1 * remaining)),
            wall_s=max(1.0, remaining),
            rel_gap=rel_gap,
            threads=threads,
            seed=seed,
            log_file=log_file,
        )
    except Exception as exc:  # noqa: BLE001 - a crashing solver is an 'error' status
        if start is not None:
            _set_values(start[3], start[2])
            return _cbc_solution(
                built,
                Status.FEASIBLE,
                start[1],
                t0,
                duals,
                msg,
                "",
                "; ".join([*notes, f"CBC failed ({exc}): solution from LP rounding"]),
            )
        return _empty(built, Status.ERROR, "cbc", time.perf_counter() - t0, f"CBC: {exc}")
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    log = cbc.log
    if msg:
        print(log, flush=True)
    stopped = cbc.ended != "exit" or cbc.head.lower().startswith("stopped")
    if start is not None:
        notes.append(_cbc_start_note(log, cbc.sign))
    if cbc.ended != "exit":
        notes.append(f"CBC {cbc.ended} by the wall-clock guard after {cbc.seconds:.0f} s")
    notes.insert(0, f"CBC: {cbc.head or 'no solution file'}")
    message = "; ".join(notes)
    # CBC's plan, if any, against the start
    nums = {k: cbc.sign * v for k, v in _cbc_log_numbers(log).items()}
    cbc_obj = None
    shift = None  # CBC's log omits the objective constant
    if cbc.values is not None:
        prob.assignVarsVals(cbc.values)
        cbc_obj = float(prob.objective.value()) if prob.objective is not None else 0.0
        if "objective" in nums:
            shift = cbc_obj - nums["objective"]
        _cbc_polish(built, threads, seed, min(10.0, deadline + CBC_GRACE_S - time.perf_counter()))
        cbc_obj = float(prob.objective.value()) if prob.objective is not None else 0.0
    # CBC's solution file rounds values to 8 significant digits or so: keep CBC's
    # plan unless the start is clearly better
    tol = 1e-7 * max(1.0, abs(start[0])) if start is not None else 0.0
    use_start = start is not None and (
        cbc_obj is None or (start[0] > cbc_obj + tol if maximise else start[0] < cbc_obj - tol)
    )
    if use_start:
        _set_values(start[3], start[2])
        message += "; solution from LP rounding"
    if cbc.values is None and not use_start:
        if cbc.status == pulp.LpStatusInfeasible or cbc.sol_status == pulp.LpSolutionInfeasible:
            status = Status.INFEASIBLE
        elif stopped or cbc.status == pulp.LpStatusNotSolved:
            status = Status.TIME_LIMIT_NO_SOLUTION
        else:
            status = Status.ERROR
        return _empty(built, status, "cbc", time.perf_counter() - t0, message, log)
    finished = not stopped and cbc.sol_status == pulp.LpSolutionOptimal and not use_start
    objective = float(prob.objective.value()) if prob.objective is not None else 0.0
    bounds = [start[1]] if start is not None else []
    if shift is not None and "bound" in nums:
        bounds.append(nums["bound"] + shift)
    if finished and "bound" not in nums:
        bounds.append(objective)  # search completed: CBC prints no separate bound
    bound = (min(bounds) if maximise else max(bounds)) if bounds else None
    return _cbc_solution(
        built,
        Status.OPTIMAL if finished else Status.FEASIBLE,
        bound,
        t0,
        duals,
        msg,
        log,
        message,
    )


def _cbc_solution(
    built: Built,
    status: Status,
    bound: float | None,
    t0: float,
    duals: bool,
    msg: bool,
    log: str,
    message: str,
) -> ModelSolution:
    """ModelSolution from the PuLP variable values, with the gap to ``bound``."""
    prob = built.prob
    objective = float(prob.objective.value()) if prob.objective is not None else 0.0
    if bound is None or not math.isfinite(bound):
        bound, gap = float("nan"), None
    else:
        gap = abs(bound - objective) / max(abs(objective), 1e-9)
    sol = ModelSolution(
        status=status,
        objective=objective,
        best_bound=bound,
        gap=gap,
        build_seconds=built.build_seconds,
        solve_seconds=time.perf_counter() - t0,
        size=dict(built.size),
        solver="cbc",
        solver_version=_version("cbc"),
        message=message,
        log=log or message + "\n",  # CBC did not run: the run folder's solver.log says why
    )
    _collect(built, sol)
    if duals:
        sol.duals = _cbc_duals(built, msg)
        sol.solve_seconds = time.perf_counter() - t0
    return sol


def _cbc_duals(built: Built, msg: bool, time_limit_s: float = 60.0) -> dict[str, float] | None:
    """LP with integers fixed, solved by CBC; PuLP's ``pi`` is already d obj / d rhs.

    Capped at ``time_limit_s`` (at least 5 s): marginal values are a report, not
    worth an open-ended wait; without an optimal LP there are none (None).
    """
    prob = built.prob
    ints = [v for v in prob.variables() if v.cat == pulp.LpInteger]
    saved = [(v, v.lowBound, v.upBound, v.varValue) for v in ints]
    values = {v.name: v.varValue for v in prob.variables()}
    try:
        for v in ints:
            val = float(round(v.varValue or 0.0))
            v.lowBound = v.upBound = val
            v.cat = pulp.LpContinuous
        prob.solve(pulp.PULP_CBC_CMD(msg=msg, mip=False, timeLimit=max(5.0, time_limit_s)))
        if prob.status != pulp.LpStatusOptimal:
            return None
        reg = built.registry
        return {reg.display(n): float(c.pi or 0.0) for n, c in prob._constraints.items()}  # noqa: SLF001
    finally:
        for v, lo, up, _ in saved:
            v.lowBound, v.upBound, v.cat = lo, up, pulp.LpInteger
        for v in prob.variables():
            v.varValue = values.get(v.name, v.varValue)


# ---------------------------------------------------------------- public


def run(
    built: Built,
    solver: str = "highs",
    time_limit_s: float = 60.0,
    rel_gap: float = 1e-4,
    threads: int = 1,
    seed: int = 0,
    log_path: str | Path | None = None,
    msg: bool = False,
    duals: bool = False,
    progress: Progress | None = None,
    options: dict[str, Any] | None = None,
    heuristic: bool = True,
) -> ModelSolution:
    """Solve ``built``; return a :class:`ModelSolution` with a typed status.

    Parameters
    ----------
    built
        From :func:`models.allocation.build`.
    solver
        ``"highs"`` (default) or ``"cbc"``. When HiGHS is unavailable or fails
        with an error, CBC runs instead (``fallback_from="highs"``) with the time
        HiGHS left of ``time_limit_s`` (at least :data:`FALLBACK_MIN_SHARE` of it),
        so a fallback run ends within 1.1 × the limit, not twice it.
    time_limit_s, rel_gap, threads, seed
        Solver settings; ``threads=1`` and a fixed seed make runs repeatable.
    log_path
        Write the solver log there.
    msg
        Echo the solver log to the console.
    duals
        Also compute marginal values from the LP with the integers fixed.
    progress
        Called with ``{"time_s", "objective", "bound", "gap"}`` on every
        improving solution and at most twice a second otherwise (HiGHS; CBC:
        once, for the LP-rounding start).
    options
        Extra HiGHS options (name → value), e.g. ``{"mip_lp_solver": "ipx"}``.
    heuristic
        First solve the LP relaxation and round it to an incumbent (see the
        module docstring); stop there when it is within ``rel_gap`` of the
        relaxation bound, else give it to the solver as a start (CBC: a MIP
        start file; needs highspy for the relaxation, else CBC starts cold).
    """
    solver = solver.lower()
    if solver not in ("highs", "cbc"):
        return _empty(built, Status.ERROR, solver, 0.0, f"unknown solver {solver!r}")
    started = time.perf_counter()
    if solver == "highs" and HIGHS_AVAILABLE:
        try:
            sol = _run_highs(
                built,
                time_limit_s,
                rel_gap,
                threads,
                seed,
                log_path,
                msg,
                duals,
                progress,
                options,
                heuristic,
            )
        except Exception as exc:  # noqa: BLE001 - fall back to CBC below
            sol = _empty(built, Status.ERROR, "highs", 0.0, f"HiGHS failed: {exc}")
        if sol.status != Status.ERROR:
            if log_path and not sol.log and Path(log_path).exists():
                sol.log = Path(log_path).read_text(errors="replace")
            return sol
        fallback_msg = sol.message
    elif solver == "highs":
        fallback_msg = "HiGHS (highspy) not available"
    else:
        fallback_msg = ""
    cbc_limit_s = time_limit_s
    if solver == "highs":
        spent = time.perf_counter() - started
        cbc_limit_s = max(time_limit_s - spent, FALLBACK_MIN_SHARE * time_limit_s)
    sol = _run_cbc(
        built, cbc_limit_s, rel_gap, threads, seed, log_path, msg, duals, heuristic, progress
    )
    if solver == "highs":
        sol.fallback_from = "highs"
        sol.message = f"{fallback_msg}; CBC fallback: {sol.message}"
    return sol


def marginals(built: Built, sol: ModelSolution, families: tuple[str, ...] = CAP_FAMILIES):
    """Return a table of the cap rows: row, family, keys, unit, rhs, activity, slack, dual.

    ``value`` is the marginal value in 万元 per unit (``unit`` names it, e.g.
    ``万元/tce``); ``binding`` is true when the slack is within 1e-6 relative.
    """
    recs = []
    for name, info in built.registry.rows.items():
        if info.family not in families:
            continue
        act = sol.row_activity.get(name, float("nan"))
        slack = info.rhs - act if info.sense == "<=" else act - info.rhs
        dual = (sol.duals or {}).get(name, float("nan"))
        rec = {
            "row": name,
            "family": info.family,
            "unit": f"万元/{info.unit}",
            "rhs": info.rhs,
            "activity": act,
            "slack": slack,
            "value": dual,
            "binding": bool(abs(slack) <= 1e-6 * max(1.0, abs(info.rhs))),
        }
        rec.update({f"{k}_id" if k in ("zone", "unit", "firm") else k: v for k, v in info.keys})
        recs.append(rec)
    return pd.DataFrame.from_records(recs)


def relaxations(built: Built, sol: ModelSolution, tol: float = 1e-6) -> pd.DataFrame:
    """Rows an elastic solve relaxed, in their own units, largest penalty first.

    Columns: ``row``, ``family``, ``unit``, ``amount``, ``rhs``, ``sense``,
    ``penalty`` (万元 of objective) and ``text`` (English, e.g.
    ``zone_energy[Z03]: short by 1,240 tce``; a cap is *short*, a floor or a
    lock *relaxed*). Empty when nothing was relaxed.
    """
    recs = []
    for name, amount in sol.relaxed(tol):
        info = built.registry.rows[name]
        verb = "short by" if info.sense == "<=" else "relaxed by"
        recs.append(
            {
                "row": name,
                "family": info.family,
                "unit": info.unit,
                "amount": amount,
                "rhs": info.rhs,
                "sense": info.sense,
                "penalty": amount * built.slack_penalty.get(name, 0.0),
                "text": f"{name}: {verb} {amount:,.{_decimals(amount)}f} {info.unit}",
            }
        )
    cols = ["row", "family", "unit", "amount", "rhs", "sense", "penalty", "text"]
    df = pd.DataFrame.from_records(recs, columns=cols)
    return df.sort_values("penalty", ascending=False, kind="stable").reset_index(drop=True)


def _decimals(x: float) -> int:
    return 0 if abs(x) >= 100 else (1 if abs(x) >= 1 else 3)


def write_problem(built: Built, path: str | Path) -> Path:
    """Write the problem as LP (``.lp``) or MPS (``.mps``) for inspection elsewhere."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".lp":
        built.prob.writeLP(str(path))
    elif suffix == ".mps":
        built.prob.writeMPS(str(path))
        if built.prob.sense == pulp.LpMaximize:
            # PuLP only writes "*SENSE:Maximize" as a comment; other solvers would
            # minimise. Add the standard OBJSENSE section.
            text = path.read_text()
            text = re.sub(r"^(NAME[^\n]*\n)", r"\1OBJSENSE\n    MAX\n", text, count=1, flags=re.M)
            path.write_text(text)
    else:
        raise ValueError(f"{path}: extension must be .lp or .mps")
    return path
