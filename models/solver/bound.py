"""Valid bounds from any row multipliers: the Lagrangian of the model's matrix over its box.

For the minimisation form HiGHS holds (``min cᵀx + offset`` subject to
``rl ≤ Ax ≤ ru`` and ``l ≤ x ≤ u``) and any row multipliers ``y`` with
``y_i ≥ 0`` only where ``rl_i`` is finite and ``y_i ≤ 0`` only where ``ru_i``
is, every feasible ``x`` satisfies

    cᵀx = (c − Aᵀy)ᵀx + yᵀAx ≥ Σ_j min_{l_j ≤ x_j ≤ u_j} d_j x_j + Σ_i φ_i(y_i),

with ``d = c − Aᵀy`` and ``φ_i(y_i) = y_i · rl_i`` (``y_i > 0``) or ``y_i · ru_i``
(``y_i < 0``). So :func:`dual_bound` is a valid bound on the LP relaxation, and
hence on the MIP, whatever ``y`` is: the duals of an interior-point solve
stopped early or without crossover, of a relaxation that left rows out
(``plot_once``: multiplier 0), or of the model before a what-if changed it. The
closer ``y`` is to an optimal dual, the closer the bound is to the LP optimum
(equal at an optimal dual). A wrong sign or an infinite side is not an error:
that multiplier counts as 0. The sums are exact (``math.fsum``) and a margin of
1e-9 of the terms' magnitude covers the rounding of the products, so the bound
is valid in floating point too.

:func:`lagrangian_relaxation` is the bound the start heuristics use at province
scale (above ``CG_MIN_PAIRS`` candidate pairs): the relaxation without
``plot_once`` and with one pair per (firm, zone, control unit)
(:func:`_aggregate_keep`), the rows coupling firms priced by multipliers, the
rest solved per firm; its bound is :func:`dual_bound` of the *whole* model, so
it rests neither on the one-pair-per-group argument nor on any solve's accuracy.
The sub-matrix helpers (:func:`_matrix`, :func:`_sub_lp`) live here, and
:mod:`models.solver.start` imports them.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from models.allocation import Built
from models.solver.highs_api import _hrun, highspy
from models.solver.problem import sense_of


def _aggregate_keep(built: Built) -> np.ndarray:
    """Return the pairs the aggregated relaxation keeps: largest per (firm, zone, unit), locked."""
    d = built.data
    cf = np.asarray(d.cand_firm, np.int64)
    cb = np.asarray(d.cand_parcel, np.int64)
    if not len(cf):
        return np.zeros(0, dtype=np.int64)
    cap = np.minimum(d.oreq[cf], d.va_mu[cf] * np.asarray(d.parcel_area_mu)[cb])
    zone = np.asarray(d.parcel_zone, np.int64)[cb]
    unit = np.asarray(d.parcel_unit, np.int64)[cb] + 1
    key = (cf * (d.n_zones + 1) + zone) * (d.n_units + 2) + unit
    o = np.lexsort((-cap, key))
    first = np.r_[True, key[o][1:] != key[o][:-1]]
    lockp = np.flatnonzero(np.asarray(d.locked)[cf] & (np.asarray(d.locked_parcel)[cf] == cb))
    return np.union1d(o[first], lockp)


def _matrix(lp: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(row of each entry, column index, value)`` of ``lp``'s row-wise matrix.

    highspy hands the matrix out as Python lists; read them once per run.
    """
    start = np.asarray(lp.a_matrix_.start_, dtype=np.int64)
    idx = np.asarray(lp.a_matrix_.index_, dtype=np.int64)
    val = np.asarray(lp.a_matrix_.value_, dtype=float)
    row_of = np.repeat(np.arange(lp.num_row_), np.diff(start))
    return row_of, idx, val


def _sub_lp(
    lp: Any,
    col_keep: np.ndarray,
    row_keep: np.ndarray,
    mat: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Any:
    """Return the continuous LP of ``lp`` (row-wise matrix) on the kept columns and rows.

    Dropping a column fixes it at 0; dropping a row relaxes it. ``mat`` is
    :func:`_matrix` of ``lp`` when the caller already has it.
    """
    row_of, idx, val = mat if mat is not None else _matrix(lp)
    m = lp.num_row_
    cols = np.flatnonzero(col_keep)
    rows = np.flatnonzero(row_keep)
    newcol = np.full(lp.num_col_, -1, dtype=np.int64)
    newcol[cols] = np.arange(len(cols))
    newrow = np.full(m, -1, dtype=np.int64)
    newrow[rows] = np.arange(len(rows))
    ent = col_keep[idx] & row_keep[row_of]
    sub = highspy.HighsLp()  # type: ignore[union-attr]
    sub.num_col_, sub.num_row_ = len(cols), len(rows)
    sub.col_cost_ = np.asarray(lp.col_cost_, dtype=float)[cols]
    sub.col_lower_ = np.asarray(lp.col_lower_, dtype=float)[cols]
    sub.col_upper_ = np.asarray(lp.col_upper_, dtype=float)[cols]
    sub.row_lower_ = np.asarray(lp.row_lower_, dtype=float)[rows]
    sub.row_upper_ = np.asarray(lp.row_upper_, dtype=float)[rows]
    sub.offset_ = lp.offset_
    sub.a_matrix_.format_ = highspy.MatrixFormat.kRowwise  # type: ignore[union-attr]
    sub.a_matrix_.num_col_, sub.a_matrix_.num_row_ = len(cols), len(rows)
    sstart = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum(np.bincount(newrow[row_of[ent]], minlength=len(rows)), out=sstart[1:])
    sub.a_matrix_.start_ = sstart
    sub.a_matrix_.index_ = newcol[idx[ent]].astype(np.int32)
    sub.a_matrix_.value_ = val[ent]
    return sub


BOUND_MARGIN = 1e-9
"""Share of the bound's terms' magnitude given away to cover floating-point rounding."""


def _arrays(lp: Any) -> tuple[np.ndarray, ...]:
    """Return cost, column bounds and row bounds of a ``HighsLp`` as float arrays."""
    return tuple(
        np.asarray(getattr(lp, k), dtype=float)
        for k in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_")
    )


def dual_bound(
    lp: Any,
    row_dual: np.ndarray,
    mat: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> float:
    """Return a lower bound on ``lp``'s minimum (offset included) from multipliers ``row_dual``.

    ``lp`` is a ``HighsLp`` in minimisation form with a row-wise matrix; ``mat``
    is ``(row of each entry, column, value)`` of that matrix when the caller
    has it (:func:`models.solver.start._matrix`). Valid for any ``row_dual``
    (see the module docstring); ``-inf`` when a column with an infinite bound
    has a reduced cost of the wrong sign (the multipliers prove nothing).
    """
    cost, lo, up, rl, ru = _arrays(lp)
    row_of, idx, val = mat if mat is not None else _matrix(lp)
    y = np.nan_to_num(np.asarray(row_dual, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
    if y.shape != rl.shape:
        raise ValueError(f"dual_bound: {y.shape[0]} multipliers for {rl.shape[0]} rows")
    y = np.where((y > 0) & np.isfinite(rl), y, np.where((y < 0) & np.isfinite(ru), y, 0.0))
    n = len(cost)
    aty = np.bincount(idx, weights=val * y[row_of], minlength=n)
    ab_aty = np.bincount(idx, weights=np.abs(val * y[row_of]), minlength=n)
    d = cost - aty
    at = np.where(d > 0, lo, np.where(d < 0, up, 0.0))
    if not np.isfinite(at[d != 0]).all():
        return -math.inf
    col_terms = d * at
    row_terms = np.where(y > 0, y * np.where(np.isfinite(rl), rl, 0.0), 0.0) + np.where(
        y < 0, y * np.where(np.isfinite(ru), ru, 0.0), 0.0
    )
    size = float(np.abs(at) @ (np.abs(cost) + ab_aty)) + float(np.abs(row_terms).sum())
    total = math.fsum(col_terms.tolist()) + math.fsum(row_terms.tolist()) + float(lp.offset_)
    return total - BOUND_MARGIN * (size + abs(float(lp.offset_)))


BLOCK_FAMILIES: tuple[str, ...] = (
    "one_parcel",
    "zone_split",
    "output_by_land",
    "output_request",
    "class_floor",
    "class_cap",
    "retain",
    "service_floor",
    "locked",
)
"""Families whose rows each hold the columns of one firm: kept in the Lagrangian's subproblem.

Every other row (caps per zone, unit and province, and any family that couples
firms) is priced by a multiplier instead; ``plot_once`` is left out with
multiplier 0. The choice changes speed and tightness only: any split gives a
valid bound, since the bound is always :func:`dual_bound` of the whole model."""

SUBGRADIENT_ROUNDS = 40
"""Most Lagrangian rounds (subproblem solves) of :func:`lagrangian_relaxation`."""

STALL_ROUNDS = 4
"""Rounds in a row without a bound better by a twentieth of the run's gap that end the search."""


def _row_masks(built: Any, lp: Any, row_names: list[str] | None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(land rows, block rows)`` of ``lp`` as bool masks (``plot_once``, firm blocks)."""
    if row_names is None:  # lp's rows are the registry's, in order
        return (
            built.row_mask(("plot_once",), lp.num_row_),
            built.row_mask(BLOCK_FAMILIES, lp.num_row_),
        )
    names = built.registry.solver_names()
    land = {names[i] for i in np.flatnonzero(built.row_mask(("plot_once",)))}
    block = {names[i] for i in np.flatnonzero(built.row_mask(BLOCK_FAMILIES))}
    return (
        np.array([n in land for n in row_names], dtype=bool),
        np.array([n in block for n in row_names], dtype=bool),
    )


def _side_value(lam: np.ndarray, rl: np.ndarray, ru: np.ndarray) -> float:
    """Return Σ φ_i(λ_i): λ times the row side it prices (see the module docstring)."""
    low = np.where(lam > 0, lam * np.where(np.isfinite(rl), rl, 0.0), 0.0)
    high = np.where(lam < 0, lam * np.where(np.isfinite(ru), ru, 0.0), 0.0)
    return float(low.sum() + high.sum())


def lagrangian_relaxation(
    built: Any,
    lp: Any,
    target: float,
    deadline: float,
    mat: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    row_names: list[str] | None = None,
    seed: int = 0,
    rel_gap: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Bound the MIP by pricing the rows that couple firms: ``(x values, y values, bound)``.

    The relaxation of :func:`models.solver.start._aggregated_relaxation` (no
    ``plot_once``, one pair per (firm, zone, unit)) falls apart into one small
    LP per firm once the rows coupling firms (:data:`BLOCK_FAMILIES` names the
    others) are priced by multipliers λ; HiGHS's dual simplex solves all of them
    as one LP, at ten times province scale in 1.3–1.7 s against 44 s for the
    interior-point solve of the whole relaxation. λ starts at 0 and follows
    subgradient steps with the Polyak step length towards ``target`` (the
    objective of a known plan, MODEL.md sense); the Lagrangian dual is the LP
    bound, approached from above, and every round's bound is valid. The bound
    returned is :func:`dual_bound` of the whole model ``lp`` with the best
    round's λ and subproblem duals, so it rests neither on the one-pair-per-group
    argument nor on the accuracy of any solve. With it, the average of the
    rounds' subproblem solutions after the first (λ = 0) on the pairs ``x`` and
    firms ``y``: an approximate relaxation optimum, for rounding. Stops when the
    bound is within ``rel_gap`` of ``target`` (the plan is proven), after
    :data:`STALL_ROUNDS` rounds without a gain of ``rel_gap``/20, after
    :data:`SUBGRADIENT_ROUNDS` rounds, or at ``deadline``
    (``time.perf_counter()``); None when not even one round finished.
    """
    MS = highspy.HighsModelStatus  # noqa: N806
    sense = sense_of(built)
    mat = mat if mat is not None else _matrix(lp)
    row_of, idx, val = mat
    xi = built.lp_index(built.x_col)
    yi = built.lp_index(built.y_col)
    col_keep = np.ones(lp.num_col_, dtype=bool)
    col_keep[xi] = False
    col_keep[xi[_aggregate_keep(built)]] = True
    land, block = _row_masks(built, lp, row_names)
    coupling = ~land & ~block
    cost, _, _, rl, ru = _arrays(lp)
    sub = _sub_lp(lp, col_keep, block, mat)
    cols = np.flatnonzero(col_keep)
    ent = coupling[row_of] & col_keep[idx]  # the coupling rows' entries on the kept columns
    c_row, c_col, c_val = row_of[ent], idx[ent], val[ent]
    h = highspy.Highs()  # type: ignore[union-attr]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", int(seed))
    h.setOptionValue("solver", "simplex")
    h.passModel(sub)
    target_min = sense * float(target)  # the plan's value in the minimisation form
    scale = max(1.0, abs(target_min))
    lam = np.zeros(lp.num_row_)
    best, best_y = -math.inf, None
    x_sum = np.zeros(lp.num_col_)
    x_last = np.zeros(lp.num_col_)
    x_first = x_last
    rounds, stall, theta = 0, 0, 1.0
    pos = np.arange(len(cols), dtype=np.int32)
    while rounds < SUBGRADIENT_ROUNDS:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        h.setOptionValue("time_limit", float(left))
        aty = np.bincount(c_col, weights=c_val * lam[c_row], minlength=lp.num_col_)
        h.changeColsCost(len(cols), pos, np.asarray((cost - aty)[cols], dtype=np.float64))
        _hrun(h)
        if h.getModelStatus() != MS.kOptimal:
            break
        sol = h.getSolution()
        # the Lagrangian's value: the subproblem's optimum plus λ times the sides it prices
        value = float(h.getInfo().objective_function_value) + _side_value(lam, rl, ru)
        x_last[:] = 0.0
        x_last[cols] = np.asarray(sol.col_value, dtype=float)
        rounds += 1
        if rounds > 1:  # the first round (λ = 0) admits everyone: not a relaxation value
            x_sum += x_last
        else:
            x_first = x_last.copy()
        if value > best + rel_gap / 20 * scale:
            stall = 0
        else:
            stall += 1
            theta *= 0.7
        if value > best:
            best = value
            best_y = lam.copy()
            best_y[block] = np.asarray(sol.row_dual, dtype=float)
        if target_min - best <= rel_gap * scale or stall >= STALL_ROUNDS:
            break
        # subgradient in λ: how far each coupling row's value is from the side it is pushed to
        ax = np.bincount(c_row, weights=c_val * x_last[c_col], minlength=lp.num_row_)
        g = np.where(lam > 0, rl - ax, np.where(lam < 0, ru - ax, 0.0))
        at0 = lam == 0
        g[at0] = np.where(ax[at0] < rl[at0], rl[at0] - ax[at0], 0.0) + np.where(
            ax[at0] > ru[at0], ru[at0] - ax[at0], 0.0
        )
        g[~coupling] = 0.0
        norm = float(g @ g)
        if norm <= 0:
            break  # the subproblem's solution meets every coupling row: λ is optimal
        step = theta * max(target_min - value, 1e-9 * scale) / norm
        new = lam + step * g
        new = np.where(np.isfinite(rl), new, np.minimum(new, 0.0))  # each multiplier on the
        new = np.where(np.isfinite(ru), new, np.maximum(new, 0.0))  # side its row allows
        lam = np.where(coupling, new, 0.0)
    if best_y is None:
        return None
    x_avg = x_sum / (rounds - 1) if rounds > 1 else x_first
    return x_avg[xi], x_avg[yi], sense * dual_bound(lp, best_y, mat)
