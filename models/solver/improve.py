"""Improvement after the first plan: a large-neighbourhood search over zones.

LP rounding gives a plan within about 0.5 % of the relaxation bound at province
scale, and then HiGHS's branch and bound on the whole model finds nothing
better in minutes (its root LP alone is a large share of the time). The search
here keeps improving the plan instead: each round frees the binaries of one
*neighbourhood* — the firms of a zone, of two zones that share applicants, or
those where the relaxation and the plan disagree — fixes every other column at
the plan, and solves that sub-MIP with HiGHS from the plan as its start. The
fixed columns' terms move into the row bounds and the objective offset (as
:func:`models.solver.start._fixed_plan` does for its outputs LP), rows left
with no free column are dropped, and the free columns keep their integrality
(A-class flags ``r`` included, so a zone's flag is 1 only when the plan lifts
the zone fully). Zones couple only through the province-wide caps, control
units and applicants with candidates in several zones, so a zone's sub-MIP is
a small, mostly self-contained problem.

Every accepted plan is a plan of the full model: its columns are the
sub-MIP's on the free columns and the old plan's elsewhere, its objective is
recomputed from the columns (:func:`~models.solver.problem._col_objective`),
its rows are checked, and only a strict improvement replaces the plan. The
bound is not touched: it stays the relaxation's.

With ``work_limit`` the search runs a fixed number of rounds with node-limited
sub-MIPs and takes no decision from the clock (the deadline only guards), so
the plan does not depend on how busy the machine is.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.allocation import Built
from models.interrupt import STOP, watch
from models.solver.highs_api import _hrun, highspy
from models.solver.problem import _col_objective, direction_of, sense_of
from models.status import Status, classify

LNS_MIN_PAIRS = 100_000
"""From this many candidate pairs on the search replaces branch and bound on the whole model.

Measured (docs/performance.md): at scale 3 (140k pairs) HiGHS's branch and bound
found nothing better than the start in 55 s; below this size the full LP
relaxation, RINS and branch and bound close the gap (scale 1: 0.05 % in 60 s)
and branch and bound can prove the bound."""

LNS_MAX_FREE_PAIRS = 12_000
"""Candidate pairs at most free in one neighbourhood (applicants subsampled above it)."""

LNS_SUB_NODES = 200
"""Branch-and-bound nodes at most per sub-MIP (its deterministic work limit)."""

LNS_WORK_ROUNDS = 40
"""Rounds of the search in a deterministic (``work_limit``) run."""

LNS_SUB_GAP_SHARE = 0.05
"""A sub-MIP stops within this share of the run's relative gap (of the whole objective)."""

LNS_SUB_MIN_S = 1.0
"""Seconds at least a sub-MIP gets (rounds start only with this much left)."""

LNS_SUB_MAX_SHARE = 0.25
"""Share of the time left one sub-MIP may take."""

LNS_RELAXATION_EVERY = 10
"""After the first cycle, every this many rounds the relaxation-guided neighbourhood again."""

LNS_GIVE_UP_ROUNDS = 60
"""A clock-limited search ends after this many rounds in a row without a better plan."""

ROW_TOL = 1e-6
"""Largest row violation (scaled rows, relative to max(1, |rhs|)) an accepted plan may have."""


@dataclass
class Improvement:
    """What the search did: the best plan, and why it stopped."""

    objective: float
    """Objective of :attr:`col` (MODEL.md sense), recomputed from the columns."""
    col: np.ndarray
    """Column values of the best plan (``HighsLp`` order)."""
    rounds: int = 0
    """Sub-MIPs solved."""
    accepted: int = 0
    """Sub-MIPs whose plan replaced the incumbent (strict improvements)."""
    stopped_by: str | None = None
    """``time_limit``, ``work_limit``, or None (gap closed, or nothing left to search)."""
    trace: list[tuple[float, float]] = field(default_factory=list)
    """``(seconds since the search began, objective)`` of each accepted plan."""


@dataclass
class _Hood:
    """A neighbourhood: the firms whose columns are free, their free pairs, free zone flags."""

    name: str
    firms: np.ndarray
    pairs: np.ndarray
    zones: np.ndarray


class _Search:
    """The model's arrays read once; builds and solves the sub-MIP of a neighbourhood."""

    def __init__(self, built: Built, lp: Any, integer: np.ndarray) -> None:
        d = built.data
        self.built = built
        self.lp = lp
        self.n, self.m = int(lp.num_col_), int(lp.num_row_)
        self.sense = sense_of(built)
        self.cost = np.asarray(lp.col_cost_, dtype=float)
        self.lo = np.asarray(lp.col_lower_, dtype=float)
        self.up = np.asarray(lp.col_upper_, dtype=float)
        self.rlo = np.asarray(lp.row_lower_, dtype=float)
        self.rup = np.asarray(lp.row_upper_, dtype=float)
        self.offset = float(lp.offset_)
        self.integer = np.asarray(integer, dtype=bool)[: self.n]
        start = np.asarray(lp.a_matrix_.start_, dtype=np.int64)
        self.idx = np.asarray(lp.a_matrix_.index_, dtype=np.int64)
        self.val = np.asarray(lp.a_matrix_.value_, dtype=float)
        self.row_of = np.repeat(np.arange(self.m), np.diff(start))
        self.cf = np.asarray(d.cand_firm, np.int64)
        self.pair_zone = np.asarray(d.parcel_zone, np.int64)[np.asarray(d.cand_parcel, np.int64)]
        self.app = np.asarray(d.firm_applicant, bool)
        self.firm_zone = np.asarray(d.firm_zone, np.int64)
        self.n_zones = int(d.n_zones)
        self.n_firms = int(d.n_firms)
        self.xi = built.lp_index(built.x_col).astype(np.int64)
        self.yi = built.lp_index(built.y_col).astype(np.int64)
        self.oi = built.lp_index(built.o_col).astype(np.int64)
        # the firm each continuous column belongs to (-1: none, stays fixed)
        firm_of = np.full(self.n, -1, dtype=np.int64)
        firm_of[self.oi] = np.arange(self.n_firms)
        for cols, firms in (
            (built.zone_col, built.zone_firm),
            (built.unit_col, built.unit_firm),
            (built.u_col, np.arange(len(built.u_col))),
        ):
            cols = np.asarray(cols, np.int64)
            firms = np.asarray(firms, np.int64)
            have = cols >= 0
            if have.any():
                firm_of[built.lp_index(cols[have])] = firms[have]
        q = np.asarray(built.q_col, np.int64)
        if q.size:
            f_q, _ = np.nonzero(q >= 0)
            firm_of[built.lp_index(q[q >= 0])] = f_q
        firm_of[self.yi] = -1  # y and x are freed by the neighbourhood itself
        firm_of[self.xi] = -1
        self.firm_of = firm_of
        r = np.asarray(built.r_col, np.int64)
        self.r_zone = np.flatnonzero(r >= 0)
        self.ri = built.lp_index(r[r >= 0]).astype(np.int64) if self.r_zone.size else r[:0]

    # ------------------------------------------------------------ plans

    def objective(self, col: np.ndarray) -> float:
        """Objective of ``col`` in the MODEL.md sense."""
        return _col_objective(self.lp, col, self.sense)

    def violation(self, col: np.ndarray) -> float:
        """Largest row violation of ``col`` relative to max(1, |bound|); column bounds too."""
        act = np.bincount(self.row_of, weights=self.val * col[self.idx], minlength=self.m)
        with np.errstate(invalid="ignore"):
            lo = np.where(np.isfinite(self.rlo), (self.rlo - act) / np.maximum(1, abs(self.rlo)), 0)
            hi = np.where(np.isfinite(self.rup), (act - self.rup) / np.maximum(1, abs(self.rup)), 0)
        worst = float(max(lo.max(initial=0.0), hi.max(initial=0.0)))
        cb = float(max((self.lo - col).max(initial=0.0), (col - self.up).max(initial=0.0)))
        return max(worst, cb)

    def free_columns(self, hood: _Hood, col: np.ndarray) -> np.ndarray:
        """Return the mask of the ``HighsLp`` columns a neighbourhood frees."""
        free = np.zeros(self.n, dtype=bool)
        fmask = np.zeros(self.n_firms, dtype=bool)
        fmask[hood.firms] = True
        has = self.firm_of >= 0
        free[has] = fmask[self.firm_of[has]]
        free[self.yi[fmask]] = True
        pmask = np.zeros(len(self.cf), dtype=bool)
        pmask[hood.pairs] = True
        pmask |= col[self.xi] > 0.5  # a free firm may leave its own parcel
        pmask &= fmask[self.cf]
        free[self.xi[pmask]] = True
        if self.r_zone.size:
            zmask = np.zeros(self.n_zones, dtype=bool)
            zmask[hood.zones] = True
            free[self.ri[zmask[self.r_zone]]] = True
        free &= self.lo < self.up  # columns fixed by their bounds stay out
        return free

    def solve(
        self,
        free: np.ndarray,
        col: np.ndarray,
        time_s: float,
        rel_gap: float,
        threads: int,
        seed: int,
        nodes: int,
    ) -> np.ndarray | None:
        """Solve the sub-MIP in the ``free`` columns, the others at ``col``; its plan or None.

        ``nodes``: branch-and-bound nodes at most (HiGHS's ``mip_max_nodes``).
        """
        ent = free[self.idx]
        rows = np.zeros(self.m, dtype=bool)
        rows[self.row_of[ent]] = True
        fixed_act = np.bincount(
            self.row_of[~ent], weights=self.val[~ent] * col[self.idx[~ent]], minlength=self.m
        )
        cols = np.flatnonzero(free)
        r = np.flatnonzero(rows)
        newcol = np.full(self.n, -1, dtype=np.int64)
        newcol[cols] = np.arange(len(cols))
        newrow = np.full(self.m, -1, dtype=np.int64)
        newrow[r] = np.arange(len(r))
        h: Any = highspy
        sub = h.HighsLp()
        sub.num_col_, sub.num_row_ = len(cols), len(r)
        sub.col_cost_ = self.cost[cols]
        sub.col_lower_ = self.lo[cols]
        sub.col_upper_ = self.up[cols]
        sub.row_lower_ = self.rlo[r] - fixed_act[r]
        sub.row_upper_ = self.rup[r] - fixed_act[r]
        fixed = ~free
        sub.offset_ = self.offset + float(self.cost[fixed] @ col[fixed])
        sub.a_matrix_.format_ = h.MatrixFormat.kRowwise
        sub.a_matrix_.num_col_, sub.a_matrix_.num_row_ = len(cols), len(r)
        sstart = np.zeros(len(r) + 1, dtype=np.int32)
        np.cumsum(np.bincount(newrow[self.row_of[ent]], minlength=len(r)), out=sstart[1:])
        sub.a_matrix_.start_ = sstart
        sub.a_matrix_.index_ = newcol[self.idx[ent]].astype(np.int32)
        sub.a_matrix_.value_ = self.val[ent]
        kinds = np.array([h.HighsVarType.kContinuous, h.HighsVarType.kInteger], dtype=object)
        sub.integrality_ = kinds[self.integer[cols].astype(np.int8)].tolist()
        hs = h.Highs()
        hs.setOptionValue("output_flag", False)
        hs.setOptionValue("time_limit", max(0.01, float(time_s)))
        hs.setOptionValue("mip_rel_gap", float(rel_gap))
        hs.setOptionValue("mip_max_nodes", int(nodes))
        hs.setOptionValue("random_seed", int(seed))
        if threads:
            hs.setOptionValue("threads", int(threads))
        hs.passModel(sub)
        watch(hs)  # a stop request (Ctrl-C) ends the sub-MIP, then the search
        start = h.HighsSolution()
        start.col_value = list(col[cols])
        start.value_valid = True
        hs.setSolution(start)
        _hrun(hs)
        if int(hs.getInfo().primal_solution_status) != 2:
            return None
        out = col.copy()
        out[cols] = np.asarray(hs.getSolution().col_value, dtype=float)
        ints = cols[self.integer[cols]]
        out[ints] = np.rint(out[ints])
        return out

    # ------------------------------------------------------------ neighbourhoods

    def zone_hood(self, zones: np.ndarray, rng: np.random.Generator, name: str) -> _Hood:
        """Free the firms of ``zones``: existing firms there, applicants with a candidate there.

        Above :data:`LNS_MAX_FREE_PAIRS` free pairs, applicants are drawn at random
        (``rng``) until the budget is used; existing firms stay in.
        """
        zmask = np.zeros(self.n_zones, dtype=bool)
        zmask[zones] = True
        in_z = zmask[self.pair_zone]
        pairs = np.flatnonzero(in_z)
        apps = np.unique(self.cf[pairs])
        if len(pairs) > LNS_MAX_FREE_PAIRS:
            pairs, apps = self._subsample(pairs, apps, rng)
        exist = np.flatnonzero(
            ~self.app & (self.firm_zone >= 0) & zmask[np.maximum(self.firm_zone, 0)]
        )
        return _Hood(name, np.union1d(exist, apps), pairs, np.asarray(zones, np.int64))

    def _subsample(
        self, pairs: np.ndarray, apps: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Keep whole applicants, in random order, while their pairs fit ``LNS_MAX_FREE_PAIRS``.

        Returns the pairs kept and the applicants taken.
        """
        count = np.bincount(self.cf[pairs], minlength=self.n_firms)
        order = rng.permutation(apps)
        take = order[np.cumsum(count[order]) <= LNS_MAX_FREE_PAIRS]
        keep = np.zeros(self.n_firms, dtype=bool)
        keep[take] = True
        return pairs[keep[self.cf[pairs]]], take

    def relaxation_hood(
        self, xv: np.ndarray, yv: np.ndarray, col: np.ndarray, rng: np.random.Generator
    ) -> _Hood | None:
        """RINS-like: the firms where the relaxation and the plan disagree, in their LP zones.

        An applicant is free when its relaxed admission is fractional or differs from
        the plan, or its relaxed land lies (partly) in a zone other than its parcel's;
        its pairs in the zones the relaxation gives it land in (and its own) are free.
        Existing firms are free where their relaxed ``y`` differs from the plan's.
        """
        y = col[self.yi]
        x = col[self.xi] > 0.5
        tol = 1e-6
        lp_zone = np.zeros((self.n_firms, self.n_zones), dtype=bool)
        sup = xv > tol
        lp_zone[self.cf[sup], self.pair_zone[sup]] = True
        own_zone = np.full(self.n_firms, -1, dtype=np.int64)
        own_zone[self.cf[x]] = self.pair_zone[x]
        other = lp_zone.copy()
        has = own_zone >= 0
        other[np.flatnonzero(has), own_zone[has]] = False
        differs = np.abs(yv - y) > tol
        firms = np.flatnonzero(differs | (self.app & other.any(axis=1)))
        if not len(firms):
            return None
        fa = firms[self.app[firms]]
        zmask = lp_zone.copy()
        zmask[np.flatnonzero(has), own_zone[has]] = True
        fmask = np.zeros(self.n_firms, dtype=bool)
        fmask[fa] = True
        pairs = np.flatnonzero(fmask[self.cf] & zmask[self.cf, self.pair_zone])
        if len(pairs) > LNS_MAX_FREE_PAIRS:
            pairs, take = self._subsample(pairs, fa, rng)
            firms = np.union1d(firms[~self.app[firms]], take)
        zones = np.flatnonzero(zmask[firms].any(axis=0))
        return _Hood("relaxation", firms, pairs, zones)

    def zone_order(
        self, col: np.ndarray, relax: tuple[np.ndarray, np.ndarray] | None
    ) -> np.ndarray:
        """Zones by how far the plan falls short of the relaxation there (largest first).

        Estimated from the applicants: the relaxation's land in a zone times its
        capacity and the firm's objective per unit of output, against the
        plan's output of the applicants placed there. Without relaxation
        values: by the number of pairs in the zone.
        """
        if relax is None:
            return np.argsort(-np.bincount(self.pair_zone, minlength=self.n_zones), kind="stable")
        xv, _ = relax
        d = self.built.data
        cb = np.asarray(d.cand_parcel, np.int64)
        cap = np.minimum(d.oreq[self.cf], d.va_mu[self.cf] * np.asarray(d.parcel_area_mu)[cb])
        worth = self.sense * self.cost[self.oi]  # objective per unit of output (MODEL.md sense)
        lp_val = np.bincount(
            self.pair_zone, weights=xv * cap * worth[self.cf], minlength=self.n_zones
        )
        x = col[self.xi] > 0.5
        o = col[self.oi]
        plan_val = np.bincount(
            self.pair_zone[x], weights=(o * worth)[self.cf[x]], minlength=self.n_zones
        )
        return np.argsort(-(lp_val - plan_val), kind="stable")

    def pair_weights(self) -> np.ndarray:
        """Return the weight of each pair of zones ``(a, b)``, ``a < b``, for drawing it.

        The number of applicants with candidates in both (zones coupled through
        them), plus one so that every pair can be drawn.
        """
        inc = np.zeros((self.n_firms, self.n_zones), dtype=np.int64)
        inc[self.cf, self.pair_zone] = 1
        shared = (inc.T @ inc).astype(float) + 1.0
        return shared[np.triu_indices(self.n_zones, 1)]


def improve_plan(
    built: Built,
    lp: Any,
    integer: np.ndarray,
    col: np.ndarray,
    bound: float,
    *,
    deadline: float,
    rel_gap: float,
    threads: int = 1,
    seed: int = 0,
    work_limit: int | None = None,
    relaxation: tuple[np.ndarray, np.ndarray] | None = None,
    on_plan: Callable[[float], None] | None = None,
) -> Improvement:
    """Improve the plan ``col`` of ``lp`` by a large-neighbourhood search (module docstring).

    Parameters
    ----------
    built, lp, integer
        The model, its ``HighsLp`` (minimisation form, bounds as built) and its
        integer-column mask (:func:`models.solver.problem.model_lp`).
    col
        A feasible plan of ``lp`` (all columns).
    bound
        A valid bound (MODEL.md sense): the search stops when the plan is within
        ``rel_gap`` of it. NaN: none.
    deadline
        ``time.perf_counter()`` by which the search ends.
    work_limit
        When set, :data:`LNS_WORK_ROUNDS` rounds of sub-MIPs of at most this many
        nodes (and :data:`LNS_SUB_NODES`), and no decision taken from the clock (the
        deadline only guards): a repeatable plan.
    relaxation
        ``(x, y)`` values of the LP relaxation (aggregated or full), to choose
        the zones where the plan falls short and the relaxation-guided neighbourhood.
    on_plan
        Called with the objective of every plan accepted.

    Returns
    -------
    Improvement
        The best plan (``col`` itself when nothing better was found).
    """
    t0 = time.perf_counter()
    s = _Search(built, lp, integer)
    col = np.asarray(col, dtype=float).copy()
    best = Improvement(s.objective(col), col)
    direction = direction_of(built)
    sub_gap = max(1e-9, LNS_SUB_GAP_SHARE * rel_gap)
    nodes = LNS_SUB_NODES if work_limit is None else max(1, min(work_limit, LNS_SUB_NODES))

    def closed() -> bool:
        if not math.isfinite(bound):
            return False
        return classify(True, best.objective, bound, rel_gap, direction)[0] == Status.OPTIMAL

    if closed() or not len(s.xi):
        return best
    order = s.zone_order(col, relaxation)
    plan: list[tuple[str, Any]] = [("zone", (int(z),)) for z in order]
    if relaxation is not None:
        plan.append(("relaxation", None))
    pairs = np.transpose(np.triu_indices(s.n_zones, 1))
    weight = s.pair_weights()
    failed_since = 0  # rounds in a row without an improvement
    rnd = 0
    while True:
        if STOP.requested:
            best.stopped_by = "user"
            break
        if work_limit is not None and rnd >= LNS_WORK_ROUNDS:
            best.stopped_by = "work_limit"
            break
        left = deadline - time.perf_counter()
        if left < LNS_SUB_MIN_S:
            best.stopped_by = "time_limit"
            break
        if work_limit is None and failed_since >= LNS_GIVE_UP_ROUNDS:
            break  # neighbourhood after neighbourhood without a gain
        rng = np.random.default_rng(seed + rnd)
        if rnd < len(plan):  # first each zone, by shortfall, and the relaxation's
            kind, arg = plan[rnd]
        elif relaxation is not None and rnd % LNS_RELAXATION_EVERY == 0:
            kind, arg = "relaxation", None
        elif len(pairs):  # then two zones at random, coupled ones more often
            kind, arg = "pair", tuple(pairs[rng.choice(len(pairs), p=weight / weight.sum())])
        else:
            kind, arg = "zone", (0,)
        if kind == "relaxation":
            assert relaxation is not None
            hood = s.relaxation_hood(relaxation[0], relaxation[1], best.col, rng)
        else:
            hood = s.zone_hood(np.asarray(arg, np.int64), rng, f"{kind}{arg}")
        rnd += 1
        if hood is None:
            failed_since += 1
            continue
        free = s.free_columns(hood, best.col)
        time_s = left if work_limit is not None else max(LNS_SUB_MIN_S, LNS_SUB_MAX_SHARE * left)
        new = s.solve(free, best.col, min(time_s, left), sub_gap, threads, seed, nodes)
        best.rounds += 1
        if new is None:
            failed_since += 1
            continue
        obj = s.objective(new)
        gain = (obj - best.objective) * (1.0 if direction == "max" else -1.0)
        if gain > 1e-9 * max(1.0, abs(best.objective)) and s.violation(new) <= ROW_TOL:
            best.col, best.objective = new, obj
            best.accepted += 1
            best.trace.append((time.perf_counter() - t0, obj))
            failed_since = 0
            if on_plan is not None:
                on_plan(obj)
            if closed():
                break
        else:
            failed_since += 1
    return best
