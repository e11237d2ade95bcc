"""Start heuristics and bounds for HiGHS and CBC.

LP relaxation (column generation), aggregated relaxation, rounding, repair of
a rounded plan, RENS.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pulp

from models.allocation import CAP_FAMILIES, Built
from models.solver.highs_api import _hrun, _solve_quiet, highspy
from models.solver.problem import _col_objective, _to_highs_lp, direction_of, sense_of
from models.status import Status, classify


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
                col2 = np.asarray(h2.getSolution().col_value)
                obj = _col_objective(lp, col2, sense_of(built.prob))
                maximise = built.prob.sense == pulp.LpMaximize
                if best is None or (obj > best[0] if maximise else obj < best[0]):
                    best = (obj, bound, col2)
        rens_s = min(0.2 * time_limit_s, t_end - time.perf_counter() - 0.4 * time_limit_s)
        closed = best is not None and (
            classify(True, best[0], bound, rel_gap, direction_of(built.prob))[0] == Status.OPTIMAL
        )
        if best is not None and col is not None and rens_s > 0.5 and not closed:
            rens = _rens(built, lp, integ, col, lo0, up0, best[2], threads, seed, rens_s, rel_gap)
            maximise = built.prob.sense == pulp.LpMaximize
            if rens is not None and (rens[0] > best[0] if maximise else rens[0] < best[0]):
                best = (rens[0], bound, rens[1])
        return best
    finally:
        lp.integrality_ = integ
        lp.col_lower_, lp.col_upper_ = lo0, up0


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
    # the objective of the columns returned: HiGHS's own figure can belong to
    # another point when it misjudges the start (see models.solver.highs)
    sol_col = np.asarray(h.getSolution().col_value)
    return _col_objective(lp, sol_col, sense_of(built.prob)), sol_col
