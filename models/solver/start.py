"""Start heuristics and bounds for HiGHS and CBC.

LP relaxation (column generation), aggregated relaxation, rounding, repair of
a rounded plan, RENS.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from models.allocation import CAP_FAMILIES, Built
from models.solver.bound import (
    _aggregate_keep,
    _matrix,
    _sub_lp,
    dual_bound,
    lagrangian_relaxation,
)
from models.solver.greedy import greedy_plan
from models.solver.highs_api import _hrun, _solve_quiet, highspy
from models.solver.problem import _col_objective, direction_of, model_lp, sense_of
from models.status import Status, classify


def _round_assignment(
    built: Built,
    xv: np.ndarray,
    yv: np.ndarray,
    stay_if_unused: bool,
    by_output: bool = False,
    deadline: float = float("inf"),
) -> tuple[np.ndarray, np.ndarray]:
    """Round LP values of (x, y) to a plot_once/one_parcel/locked-feasible assignment.

    Locked pairs first, then pairs by decreasing LP value (or LP value times
    pair capacity, ``by_output``), then every
    applicant still without land on its free candidate of largest capacity.
    Existing firms keep their LP-rounded y (or stay when nobody takes their
    plots, ``stay_if_unused``). At ``deadline`` (``time.perf_counter()``) the
    pairs not yet reached stay unassigned: the assignment is still a plan.
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
        if i % 4096 == 4095 and time.perf_counter() > deadline:
            break
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
    built: Built,
    lp: Any,
    threads: int,
    seed: int,
    deadline: float,
    keep_highs: Callable[[Any], None] | None = None,
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
    objective's sense, or None on failure or timeout. ``keep_highs`` receives the
    solved ``Highs`` when it holds every column (a what-if session re-solves it
    from its basis, :mod:`models.solver.reuse`).
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
    xi = built.lp_index(built.x_col)
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
    if keep_highs is not None and len(order) == n and np.array_equal(order, np.arange(n)):
        keep_highs(h)
    sign = sense_of(built)
    return col, sign * float(h.getInfo().objective_function_value)


def _aggregated_relaxation(
    built: Built,
    threads: int,
    seed: int,
    time_limit_s: float,
    lp: Any = None,
    mat: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    row_names: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Bound the MIP cheaply: the LP without land competition, one pair per (firm, zone, unit).

    Without ``plot_once`` the parcels of one applicant in the same zone and
    control unit differ only by capacity, so the largest-capacity one
    dominates; dropping ``plot_once`` and the dominated pairs relaxes the
    problem, and its LP optimum bounds the MIP from above. On the province
    case it is within 0.01 % of the full LP bound, at a twentieth of the
    columns. The relaxation is cut out of the model's matrix ``lp`` (the
    dominated pair columns fixed at 0, the ``plot_once`` rows dropped), not
    rebuilt; ``row_names`` are the solver names of ``lp``'s rows (default: the
    problem's rows in order; a what-if session's held matrix may have more).
    Returns ``(x values on all pairs, y values, bound)`` — the
    representative pair of each group carries the group's value — or None
    (also when ``time_limit_s`` ends first).
    """
    if lp is None:
        lp, _, _, _ = model_lp(built, CAP_FAMILIES)
    keep = _aggregate_keep(built)
    xi = built.lp_index(built.x_col)
    yi = built.lp_index(built.y_col)
    col_keep = np.ones(lp.num_col_, dtype=bool)
    col_keep[xi] = False
    col_keep[xi[keep]] = True
    if row_names is None:  # lp's rows are the registry's, in order
        row_keep = ~built.row_mask(("plot_once",), lp.num_row_)
    else:  # a held matrix (what-if session): its rows by solver name
        names = built.registry.solver_names()
        land = {names[i] for i in np.flatnonzero(built.row_mask(("plot_once",)))}
        row_keep = np.array([n not in land for n in row_names], dtype=bool)
    sub = _sub_lp(lp, col_keep, row_keep, mat)
    h = highspy.Highs()  # type: ignore[union-attr]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(0.01, float(time_limit_s)))
    h.setOptionValue("random_seed", int(seed))
    h.setOptionValue("solver", "ipm")  # half the time of dual simplex at province scale
    if threads:
        h.setOptionValue("threads", int(threads))
    h.passModel(sub)
    _hrun(h)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # type: ignore[union-attr]
        return None
    full = np.zeros(lp.num_col_)
    solution = h.getSolution()
    full[col_keep] = np.asarray(solution.col_value)
    # the bound: the whole model's Lagrangian at the relaxation's row duals (valid whatever
    # the one-pair-per-group argument is worth, e.g. with rows that count land); equal to the
    # relaxation's optimum when the dropped pairs are dominated
    y = np.zeros(lp.num_row_)
    y[row_keep] = np.asarray(solution.row_dual, dtype=float)
    return full[xi], full[yi], sense_of(built) * dual_bound(lp, y, mat)


GREEDY_MIN_PAIRS = CG_MIN_PAIRS
"""From this many candidate pairs on, a greedy plan comes first, before any relaxation."""
R_LIFT = 1e-3
"""Objective bonus per A-class flag ``r`` in a fixed plan's output LP: each flag goes to 1
where the plan lifts its zone, so rounding keeps it (万元, far below any output's worth)."""

RELAXATION_SHARE = 0.7
"""Share of the time left that the (aggregated) LP relaxation may take."""

IPM_MAX_PAIRS = 250_000
"""Up to this many pairs the aggregated relaxation is solved whole (interior point) before
the Lagrangian: at scale 3 (140k pairs) it takes as long as the Lagrangian's rounds and its
bound is 0.08 % tighter; at scale 10 it takes 37–44 s against 13 s (docs/performance.md)."""

IPM_SHARE = 0.5
"""Share of the relaxation's time the interior-point solve may take; past it, the Lagrangian."""


def _box_bound(lp: Any, sense: float) -> float:
    """Return a bound from the variable bounds alone (MODEL.md sense): valid, loose, instant."""
    cost = np.asarray(lp.col_cost_, dtype=float)
    lo = np.asarray(lp.col_lower_, dtype=float)
    up = np.asarray(lp.col_upper_, dtype=float)
    best = np.where(cost >= 0, cost * lo, cost * up)
    best[cost == 0] = 0.0
    return sense * (float(best.sum()) + float(lp.offset_))


def _fixed_plan(
    built: Built,
    lp: Any,
    x: np.ndarray,
    y: np.ndarray,
    lo0: np.ndarray,
    up0: np.ndarray,
    xi: np.ndarray,
    yi: np.ndarray,
    deadline: float,
    mat: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[float, np.ndarray] | None:
    """Fix the binaries at ``(x, y)``, solve the outputs' LP (repairing admissions if needed).

    The LP is cut down to the continuous columns (the fixed columns' terms move
    to the row bounds and the objective offset): at province scale a tenth of
    the columns, and no presolve over the fixed ones. Returns ``(objective,
    columns)`` of the plan, or None (infeasible or out of time).
    """
    MS = highspy.HighsModelStatus  # noqa: N806
    n = lp.num_col_
    mat = mat if mat is not None else _matrix(lp)
    row_of, idx, coef = mat
    cost = np.asarray(lp.col_cost_, dtype=float)
    ri = built.lp_index(built.r_col[built.r_col >= 0]).astype(np.int64)

    def outputs(fixed: np.ndarray, val: np.ndarray) -> np.ndarray | None:
        """Solve the LP in the free columns with the others at ``val``; None if not optimal."""
        act = np.bincount(row_of, weights=coef * val[idx], minlength=lp.num_row_)
        sub = _sub_lp(lp, ~fixed, np.ones(lp.num_row_, dtype=bool), mat)
        sub.row_lower_ = np.asarray(lp.row_lower_, dtype=float) - act
        sub.row_upper_ = np.asarray(lp.row_upper_, dtype=float) - act
        sub.offset_ = float(lp.offset_) + float(cost[fixed] @ val[fixed])
        free_r = ri[~fixed[ri]]
        if free_r.size:  # lift each zone's A-class flag as far as the plan allows (tie-break)
            sub_cost = np.asarray(sub.col_cost_, dtype=float)
            sub_cost[(np.cumsum(~fixed) - 1)[free_r]] -= R_LIFT
            sub.col_cost_ = sub_cost
        h = _solve_quiet(sub, deadline - time.perf_counter())
        if h.getModelStatus() != MS.kOptimal:
            return None
        col = val.copy()
        col[~fixed] = np.asarray(h.getSolution().col_value)
        return col

    fixed = np.zeros(n, dtype=bool)
    fixed[xi] = fixed[yi] = True
    val = np.zeros(n)
    val[xi], val[yi] = x, y
    col = outputs(fixed, val)
    if col is None and time.perf_counter() < deadline:
        lo, up = lo0.copy(), up0.copy()
        lo[xi] = up[xi] = x
        lo[yi] = up[yi] = y
        try:
            h = _repair_admissions(built, lp, x, y, lo, up, xi, yi, deadline)
        finally:
            lp.col_lower_, lp.col_upper_ = lo0, up0  # the relaxation after this needs them
        if h is None or h.getModelStatus() != MS.kOptimal:
            return None
        col = np.asarray(h.getSolution().col_value)
        if ri.size:  # the repaired plan's outputs again, with the flags lifted
            val = np.zeros(n)
            val[xi], val[yi] = np.rint(col[xi]), np.rint(col[yi])
            col = outputs(fixed, val)
    if col is None:
        return None
    if ri.size and (np.abs(col[ri] - np.rint(col[ri])) > 1e-6).any():
        # a zone the plan does not lift fully is not counted: fix the flags and re-solve
        # (a fractional flag would add a share of its weight to a plan that earns none)
        fixed[ri] = True
        val[ri] = np.where(col[ri] >= 1 - 1e-6, 1.0, 0.0)
        col = outputs(fixed, val)
        if col is None:
            return None
    return _col_objective(lp, col, sense_of(built)), col


def _greedy_start(
    built: Built,
    lp: Any,
    lo0: np.ndarray,
    up0: np.ndarray,
    xi: np.ndarray,
    yi: np.ndarray,
    deadline: float,
    mat: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[float, np.ndarray] | None:
    """Return a plan found without the relaxation: :func:`~models.solver.greedy.greedy_plan`.

    Its admissions are fixed and checked against the model's rows by
    :func:`_fixed_plan` (outputs re-optimised); when the greedy gives up or
    the check fails, each applicant on its free parcel of largest capacity
    (:func:`_round_assignment` without LP values) instead.
    """
    g = greedy_plan(built, deadline)
    plan = _fixed_plan(built, lp, g.x, g.y, lo0, up0, xi, yi, deadline, mat) if g else None
    if plan is None and time.perf_counter() < deadline:
        x, y = _round_assignment(
            built, np.zeros(len(xi)), np.ones(len(yi)), True, deadline=deadline
        )
        plan = _fixed_plan(built, lp, x, y, lo0, up0, xi, yi, deadline, mat)
    return plan


def _lp_rounding_start(
    built: Built,
    lp: Any,
    integer: np.ndarray,
    threads: int,
    seed: int,
    time_limit_s: float,
    rel_gap: float = 1e-4,
    *,
    work_limit: int | None = None,
    start_plan: tuple[np.ndarray, np.ndarray] | None = None,
    relaxation: tuple[np.ndarray, float] | None = None,
    rins_gap: float | None = None,
    keep_relaxation: Callable[[Any], None] | None = None,
    row_names: list[str] | None = None,
    on_plan: Callable[[float, float], None] | None = None,
    on_relaxation: Callable[[np.ndarray, np.ndarray], None] | None = None,
) -> tuple[float, float, np.ndarray] | None:
    """LP-relaxation bound plus a rounded incumbent: ``(objective, bound, columns)``.

    Solves the LP relaxation (its optimum bounds the MIP), rounds it with
    :func:`_round_assignment`, fixes the binaries and solves the LP in the
    outputs. From ``GREEDY_MIN_PAIRS`` pairs on, a greedy plan
    (:func:`_greedy_start`: no LP values, firms by value per unit of their
    tightest cap, every existing firm staying) comes first, so a run that the
    relaxation would outlast still returns a plan; below that size it is the
    fallback when the relaxation does not finish. Every stage ends by
    ``time_limit_s``; when the relaxation does not finish, the bound is the
    box bound of :func:`_box_bound` (valid, loose). ``work_limit`` caps RENS
    by nodes instead of seconds (a deterministic run). ``start_plan``
    (``(y, x)`` of an earlier plan on the same firms and pairs, e.g. the base
    of a what-if) is repaired to feasibility (outputs re-optimised, applicants
    the new caps cannot carry dropped) and competes with the rounded plans.
    ``relaxation`` (``(column values, bound)`` of this model's LP relaxation,
    e.g. re-solved from a held basis) replaces solving it here; ``rins_gap`` is
    the relative gap of the RINS sub-MIP (default ``rel_gap``); ``keep_relaxation``
    receives the relaxation's ``Highs`` (see :func:`_lp_relaxation`); ``row_names``
    names ``lp``'s rows (see :func:`_aggregated_relaxation`). ``on_plan`` is
    called with ``(objective, bound)`` of each better plan as soon as it is found
    (the bound: the relaxation's once solved, else the box bound), so a run
    reports its first plan before the relaxation ends; ``on_relaxation`` receives
    the relaxation's ``(x, y)`` values (for the improvement search).
    Returns None when no plan was found (then HiGHS starts cold).
    """
    t_end = time.perf_counter() + time_limit_s
    integ = list(lp.integrality_)
    cont = highspy.HighsVarType.kContinuous  # type: ignore[union-attr]
    lp.integrality_ = [cont] * lp.num_col_
    lo0, up0 = np.array(lp.col_lower_), np.array(lp.col_upper_)
    sense = sense_of(built)
    maximise = direction_of(built) == "max"

    def better(a: float, b: float) -> bool:
        return a > b if maximise else a < b

    bound = float("nan")

    def found(plan: tuple[float, np.ndarray] | None) -> None:
        """Tell ``on_plan`` about a plan better than any before (never raises)."""
        if on_plan is not None and plan is not None:
            with contextlib.suppress(Exception):
                on_plan(plan[0], bound if np.isfinite(bound) else _box_bound(lp, sense))

    try:
        xi = built.lp_index(built.x_col)
        yi = built.lp_index(built.y_col)
        mat = _matrix(lp)
        best: tuple[float, np.ndarray] | None = None
        if len(built.x_col) >= GREEDY_MIN_PAIRS:
            best = _greedy_start(built, lp, lo0, up0, xi, yi, t_end, mat)
            found(best)
        if start_plan is not None:
            y_s, x_s = (np.where(np.asarray(v, float) > 0.5, 1.0, 0.0) for v in start_plan)
            if y_s.shape == yi.shape and x_s.shape == xi.shape:
                warm = _fixed_plan(built, lp, x_s, y_s, lo0, up0, xi, yi, t_end, mat)
                if warm is not None and (best is None or better(warm[0], best[0])):
                    best = warm
                    found(best)
        col = None
        relax_end = time.perf_counter() + RELAXATION_SHARE * (t_end - time.perf_counter())
        xv = yv = None
        if relaxation is not None:
            col, bound = relaxation
            xv = col[xi] if len(xi) else np.zeros(0)
            yv = col[yi]
        elif len(built.x_col) > CG_MIN_PAIRS and best is not None:
            agg = None
            if len(built.x_col) <= IPM_MAX_PAIRS:  # the exact relaxation while it is cheap
                ipm_s = IPM_SHARE * (relax_end - time.perf_counter())
                agg = _aggregated_relaxation(
                    built, threads, seed, ipm_s, lp=lp, mat=mat, row_names=row_names
                )
            if agg is None:  # firms priced apart: a valid bound at any time
                agg = lagrangian_relaxation(
                    built, lp, best[0], relax_end, mat, row_names, seed, rel_gap
                )
            if agg is not None:
                xv, yv, bound = agg
        elif len(built.x_col) > CG_MIN_PAIRS:
            agg = _aggregated_relaxation(
                built,
                threads,
                seed,
                relax_end - time.perf_counter(),
                lp=lp,
                mat=mat,
                row_names=row_names,
            )
            if agg is not None:
                xv, yv, bound = agg
        else:
            relax = _lp_relaxation(built, lp, threads, seed, relax_end, keep_relaxation)
            if relax is not None:
                col, bound = relax
                xv = col[xi] if len(xi) else np.zeros(0)
                yv = col[yi]
        if xv is not None and yv is not None:
            if on_relaxation is not None:
                on_relaxation(xv, yv)
            for stay, by_output in ((True, False), (True, True), (False, False)):
                if (best is not None and not stay) or time.perf_counter() > t_end:
                    break
                if relaxation is not None and best is not None:
                    if _closed(built, best, bound, rel_gap):
                        break  # a reused what-if: a start already within the gap is enough
                x, y = _round_assignment(built, xv, yv, stay, by_output, deadline=t_end)
                plan = _fixed_plan(built, lp, x, y, lo0, up0, xi, yi, t_end, mat)
                if plan is not None and (best is None or better(plan[0], best[0])):
                    best = plan
                    found(best)
        if best is None and time.perf_counter() < t_end:
            # the relaxation did not finish: a greedy plan rather than none
            best = _greedy_start(built, lp, lo0, up0, xi, yi, t_end, mat)
            found(best)
        if best is None:
            return None
        if not np.isfinite(bound):
            bound = _box_bound(lp, sense)
        closed = _closed(built, best, bound, rel_gap)
        rens_s = min(0.2 * time_limit_s, t_end - time.perf_counter() - 0.4 * time_limit_s)
        if work_limit is not None:
            rens_s = t_end - time.perf_counter()  # the node limit decides, the clock only guards
        if col is not None and rens_s > 0.5 and not closed:
            sub_gap = rel_gap if rins_gap is None else rins_gap
            rens = _rens(
                built, lp, integ, col, lo0, up0, best[1], threads, seed, rens_s, sub_gap, work_limit
            )
            if rens is not None and better(rens[0], best[0]):
                best = rens
                found(best)
        return best[0], bound, best[1]
    finally:
        lp.integrality_ = integ
        lp.col_lower_, lp.col_upper_ = lo0, up0


def _closed(
    built: Built, plan: tuple[float, np.ndarray], bound: float, rel_gap: float = 1e-4
) -> bool:
    """Return True when ``plan``'s objective is within ``rel_gap`` of ``bound`` (optimal)."""
    if not np.isfinite(bound):
        return False
    status = classify(True, plan[0], bound, rel_gap, direction_of(built))[0]
    return bool(status == Status.OPTIMAL)


def _repair_admissions(
    built: Built,
    lp: Any,
    x: np.ndarray,
    y: np.ndarray,
    lo: np.ndarray,
    up: np.ndarray,
    xi: np.ndarray,
    yi: np.ndarray,
    deadline: float = float("inf"),
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
    h = _solve_quiet(lp, deadline - time.perf_counter())
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
    h = _solve_quiet(lp, deadline - time.perf_counter())
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
    work_limit: int | None = None,
) -> tuple[float, np.ndarray] | None:
    """RINS: the MIP with every binary fixed where the LP and the start agree.

    Only the binaries that are fractional in the LP or differ from the start
    stay free, so the sub-MIP is small and the start is one of its solutions
    (RENS, fixing every LP-integral binary, was infeasible on the sample case);
    any of its solutions is a plan of the full model. Returns ``(objective,
    columns)`` of its best solution, or None.
    """
    ints = np.flatnonzero(np.asarray([t == highspy.HighsVarType.kInteger for t in integ]))  # type: ignore[union-attr]
    lo, up = lo0.copy(), up0.copy()
    v = col[ints]
    # RINS: fix only where the LP and the start agree, so the start stays feasible
    agree = np.abs(v - np.asarray(start)[ints]) <= 1e-6
    up[ints[agree & (v <= 1e-6)]] = 0.0
    lo[ints[agree & (v >= 1 - 1e-6)]] = 1.0
    lp.col_lower_, lp.col_upper_ = lo, up
    lp.integrality_ = integ
    h = highspy.Highs()  # type: ignore[union-attr]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_s))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("random_seed", int(seed))
    if work_limit is not None:
        h.setOptionValue("mip_max_nodes", int(work_limit))
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
    # the objective of the columns returned: HiGHS's own figure can belong to
    # another point when it misjudges the start (see models.solver.highs)
    sol_col = np.asarray(h.getSolution().col_value)
    return _col_objective(lp, sol_col, sense_of(built)), sol_col
