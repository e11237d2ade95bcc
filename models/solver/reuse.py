"""A built model kept in HiGHS between what-ifs, changed in place (issue 17 point 1).

A what-if that changes caps, prices, weights or switches keeps the firms, the
candidate pairs and hence the columns of the model; what differs is numbers:
row bounds (caps), objective coefficients (weights, prices), column bounds,
some coefficients (an intensity cap, a class floor), and rows that a switched-off
family no longer has. :class:`ModelSession` holds the matrix of the last model
solved (a ``HighsLp``) and an LP relaxation of it in a ``Highs`` with its basis;
:meth:`ModelSession.adopt` compares a newly built model with the held one, array
against array, and applies the difference in place:

- row bounds → ``changeRowsBounds`` (a row the new model does not have — its
  family switched off, its cap now infinite — gets the bounds ±inf: switched off);
- objective → ``changeColsCost`` and ``changeObjectiveOffset``;
- column bounds → ``changeColsBounds``; coefficients → ``changeCoeff``.

The comparison is generic (no family is named here), so a family added to
:mod:`models.allocation` is covered without a change here, and the model the
solver sees is, array for array, the one a cold build hands it: the answer is as
trustworthy as a cold one. When the new model has a column or a row the held one
lacks, or a row's pattern of coefficients differs, :meth:`~ModelSession.adopt`
says why and the run starts cold (and the session then holds the new model).

The reused run differs from a cold one only in where it starts: the LP
relaxation is re-solved from the held basis (a few dual simplex iterations after
a small change instead of a solve from scratch; after a larger one, past
:data:`HOT_SHARE` of the iterations a solve from scratch took, afresh with
presolve), and the last plan, repaired to
feasibility, competes with the rounded relaxation as the start; branch and bound
(when the start is not already within the gap of the relaxation bound) gets a
fresh ``Highs`` fed from the held matrix, so no state of an earlier run (options,
callbacks, fixed integers of the marginal values) leaks into the next.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.allocation import CAP_FAMILIES, Built
from models.solver.highs_api import _hrun, highspy
from models.solver.problem import model_lp, sense_of
from models.solver.start import CG_MIN_PAIRS

HOT_SHARE = 0.25
"""A held relaxation is re-solved from its basis for at most this share of the simplex
iterations its last solve from scratch took; then afresh, with presolve.

From the basis HiGHS solves the whole LP without presolve. After the sample case's
what-if (every zone's energy cap × 0.85) that took 1,211 iterations against 4,127
afresh (0.20 s against 0.45 s); after the same what-if on the province scale-1 case
19,500 against 9,300 (25 s against 5 s, an iteration on the whole LP costing twice
one on the presolved LP), and a 1 % cut needed more than 1,900. The limit is in
iterations, not seconds, so the answer does not depend on the machine's load."""

HOT_MIN_ITERATIONS = 500
"""Iterations the re-solve from the held basis may always take."""

HIGHS_NO_LIMIT = 2147483647
"""HiGHS's default ``simplex_iteration_limit`` (no limit)."""


def _row_names(built: Built, names: list[str] | None) -> list[str]:
    """Solver names of the rows of ``built``'s HiGHS matrix (``names``, else the registry's)."""
    return list(names) if names is not None else built.registry.solver_names()


@dataclass
class ModelChange:
    """What :meth:`ModelSession.adopt` changed in place: counts per kind (0 = unchanged)."""

    row_bounds: int = 0
    rows_off: int = 0
    costs: int = 0
    col_bounds: int = 0
    coefficients: int = 0
    offset: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the counts as a plain dict (for the run summary)."""
        return {
            "row_bounds": self.row_bounds,
            "rows_off": self.rows_off,
            "costs": self.costs,
            "col_bounds": self.col_bounds,
            "coefficients": self.coefficients,
            "offset": self.offset,
            "seconds": round(self.seconds, 4),
        }


@dataclass
class ModelSession:
    """The model last solved, held in HiGHS so that the next what-if changes it in place.

    Empty until a run holds a model (:func:`models.solver.run` with ``session=``
    holds the model it built when the session cannot adopt it). Not thread-safe:
    one session serves one sequence of solves (one app user, one benchmark).
    """

    lp: Any = None
    """The held matrix (``HighsLp``, minimisation form, cap rows scaled): the current model."""
    names: list[str] = field(default_factory=list)
    """Solver name of each held row, in ``lp`` order."""
    scale: np.ndarray = field(default_factory=lambda: np.ones(0))
    """Row scale of each held row (see :func:`models.solver.problem.highs_lp`)."""
    relax: Any = None
    """A ``Highs`` with the continuous relaxation of ``lp`` and its last basis (or None)."""
    plan: tuple[np.ndarray, np.ndarray] | None = None
    """``(y, x)`` of the last plan found on this model: a start for the next what-if."""
    integer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """True for each integer column of the held matrix."""
    _col_names: list[str] = field(default_factory=list)
    _row_pos: dict[str, int] = field(default_factory=dict)
    _keys: tuple[Any, ...] = ()
    _pairs: int = 0
    _adopted: tuple[Any, ModelChange | None, str] | None = None
    relax_iterations: int = 0
    """Simplex iterations of the last :meth:`relaxation` (from the basis and afresh)."""
    _cold_iterations: int = 0
    _hot_failed: bool = False

    @property
    def holds_model(self) -> bool:
        """True once a model is held (a later :meth:`adopt` may reuse it)."""
        return self.lp is not None

    def hold(
        self,
        built: Built,
        lp: Any,
        integer: np.ndarray,
        names: list[str] | None,
        scale: np.ndarray,
    ) -> None:
        """Hold ``built``'s matrix (from :func:`~models.solver.problem.model_lp`).

        Anything held before is dropped. A model whose PuLP problem was changed
        after the build is not held (its extra columns have no build names).
        """
        if built.pulp_changed():
            self.drop()
            return
        self.lp, self.integer = lp, np.asarray(integer, dtype=bool).copy()
        self.names = _row_names(built, names)
        self.scale = np.asarray(scale, dtype=float).copy()
        self.relax, self.plan = None, None
        self._col_names = built.column_names()
        self._row_pos = {n: i for i, n in enumerate(self.names)}
        self._keys = _identity(built)
        self._pairs = int(built.data.n_candidates)
        self._adopted = None
        self._cold_iterations, self._hot_failed = 0, False

    def drop(self) -> None:
        """Forget the held model (after a failed run): the next run starts cold."""
        self.lp, self.relax, self.plan = None, None, None
        self.integer = np.zeros(0, dtype=bool)
        self.names, self._col_names, self._row_pos, self._keys = [], [], {}, ()
        self._adopted = None

    def keep_relaxation(self, h: Any) -> None:
        """Keep ``h`` (the solved continuous relaxation of the held ``lp``, all columns)."""
        self.relax = h
        self._cold_iterations = int(h.getInfo().simplex_iteration_count)

    def adopt(self, built: Built) -> tuple[ModelChange | None, str]:
        """Make the held model ``built``'s by changing only what differs, in place.

        Returns ``(change, "")`` on success, else ``(None, reason)`` with the
        reason the structure differs (then nothing held has been changed).
        Adopting the same ``built`` again returns the first answer (a caller may
        adopt before :func:`models.solver.run`, e.g. to report the stage).
        """
        if self._adopted is not None and self._adopted[0] is built:
            return self._adopted[1], self._adopted[2]
        change, reason = self._adopt(built)
        self._adopted = (built, change, reason)
        return change, reason

    def _adopt(self, built: Built) -> tuple[ModelChange | None, str]:
        t0 = time.perf_counter()
        if self.lp is None:
            return None, "no model held"
        if _identity(built) != self._keys:
            return None, "other firms or candidate pairs"
        if built.pulp_changed():
            return None, "rows or objective added to the PuLP problem"
        lp, _, row_names, scale = model_lp(built, CAP_FAMILIES)
        names = _row_names(built, row_names)
        held = self.lp
        if lp.num_col_ != held.num_col_ or built.column_names() != self._col_names:
            return None, "other columns (a family with variables switched on or off)"
        if list(lp.integrality_) != list(held.integrality_):
            return None, "other integer columns"
        pos = np.fromiter((self._row_pos.get(n, -1) for n in names), np.int64, len(names))
        if (pos < 0).any():
            new = names[int(np.flatnonzero(pos < 0)[0])]
            family = built.registry.rows[built.registry.display(new)].family
            return None, f"rows the held model lacks ({family})"
        # the pattern of each kept row must be the held row's; values may differ
        h_start = np.asarray(held.a_matrix_.start_, dtype=np.int64)
        h_index = np.asarray(held.a_matrix_.index_, dtype=np.int64)
        h_value = np.asarray(held.a_matrix_.value_, dtype=float)
        n_start = np.asarray(lp.a_matrix_.start_, dtype=np.int64)
        n_index = np.asarray(lp.a_matrix_.index_, dtype=np.int64)
        n_value = np.asarray(lp.a_matrix_.value_, dtype=float)
        lens = np.diff(n_start)
        if not np.array_equal(h_start[pos + 1] - h_start[pos], lens):
            return None, "rows with other coefficients"
        at = np.repeat(h_start[pos], lens) + (
            np.arange(int(lens.sum())) - np.repeat(n_start[:-1], lens)
        )
        if not np.array_equal(h_index[at], n_index):
            return None, "rows with other coefficients"
        change = ModelChange()
        h = self.relax
        # coefficients
        diff = np.flatnonzero(h_value[at] != n_value)
        if len(diff):
            rows = np.repeat(pos, lens)[diff]
            cols = n_index[diff]
            if h is not None:
                values = n_value[diff].tolist()
                for r, c, v in zip(rows.tolist(), cols.tolist(), values, strict=True):
                    h.changeCoeff(int(r), int(c), float(v))
            h_value = h_value.copy()
            h_value[at[diff]] = n_value[diff]
            held.a_matrix_.value_ = h_value
            change.coefficients = len(diff)
        # row bounds: the new model's rows, and ±inf for the held rows it does not have
        inf = highspy.kHighsInf  # type: ignore[union-attr]
        lo = np.full(held.num_row_, -inf)
        up = np.full(held.num_row_, inf)
        lo[pos] = np.asarray(lp.row_lower_, dtype=float)
        up[pos] = np.asarray(lp.row_upper_, dtype=float)
        h_lo = np.asarray(held.row_lower_, dtype=float)
        h_up = np.asarray(held.row_upper_, dtype=float)
        rdiff = np.flatnonzero((lo != h_lo) | (up != h_up))
        if len(rdiff):
            if h is not None:
                h.changeRowsBounds(len(rdiff), rdiff.astype(np.int32), lo[rdiff], up[rdiff])
            held.row_lower_, held.row_upper_ = lo, up
            kept = np.zeros(held.num_row_, dtype=bool)
            kept[pos] = True
            was_on = np.isfinite(h_lo[rdiff]) | np.isfinite(h_up[rdiff])
            change.rows_off = int((~kept[rdiff] & was_on).sum())
            change.row_bounds = len(rdiff) - change.rows_off
        new_scale = self.scale.copy()
        new_scale[pos] = scale
        # objective
        cost = np.asarray(lp.col_cost_, dtype=float)
        cdiff = np.flatnonzero(cost != np.asarray(held.col_cost_, dtype=float))
        if len(cdiff):
            if h is not None:
                h.changeColsCost(len(cdiff), cdiff.astype(np.int32), cost[cdiff])
            held.col_cost_ = cost
            change.costs = len(cdiff)
        if float(lp.offset_) != float(held.offset_):
            if h is not None:
                h.changeObjectiveOffset(float(lp.offset_))
            held.offset_ = float(lp.offset_)
            change.offset = True
        # column bounds
        clo = np.asarray(lp.col_lower_, dtype=float)
        cup = np.asarray(lp.col_upper_, dtype=float)
        bdiff = np.flatnonzero(
            (clo != np.asarray(held.col_lower_, dtype=float))
            | (cup != np.asarray(held.col_upper_, dtype=float))
        )
        if len(bdiff):
            if h is not None:
                h.changeColsBounds(len(bdiff), bdiff.astype(np.int32), clo[bdiff], cup[bdiff])
            held.col_lower_, held.col_upper_ = clo, cup
            change.col_bounds = len(bdiff)
        self.scale = new_scale
        change.seconds = time.perf_counter() - t0
        return change, ""

    def relaxation(
        self, built: Built, threads: int, seed: int, deadline: float
    ) -> tuple[np.ndarray, float] | None:
        """Solve the held LP relaxation from its last basis: ``(column values, bound)`` or None.

        From the basis for at most :data:`HOT_SHARE` of the iterations of the last
        solve from scratch (at least :data:`HOT_MIN_ITERATIONS`); then from scratch,
        as every later what-if of the held model is (one that needed more once
        will again: the held basis is as far from the next what-if's optimum).

        The bound is in the MODEL.md objective's sense (the LP optimum bounds the
        MIP). Without a held relaxation one is made here, for models of at most
        ``CG_MIN_PAIRS`` pairs (larger ones go through the start heuristics'
        column generation or aggregate instead: None).
        """
        MS = highspy.HighsModelStatus  # noqa: N806
        if self.relax is None:
            if self._pairs > CG_MIN_PAIRS:
                return None
            cont = highspy.HighsVarType.kContinuous  # type: ignore[union-attr]
            integ = self.lp.integrality_
            h = highspy.Highs()  # type: ignore[union-attr]
            h.setOptionValue("output_flag", False)
            self.lp.integrality_ = [cont] * self.lp.num_col_
            try:
                h.passModel(self.lp)
            finally:
                self.lp.integrality_ = integ
            self.relax = h
        h = self.relax
        h.setOptionValue("random_seed", int(seed))
        if threads:
            h.setOptionValue("threads", int(threads))
        h.setOptionValue("time_limit", max(0.01, deadline - time.perf_counter()))
        hot = self._cold_iterations > 0 and not self._hot_failed and h.getBasis().valid
        if hot:  # from the held basis, on the LP without presolve: worth it for small changes
            limit = max(HOT_MIN_ITERATIONS, int(HOT_SHARE * self._cold_iterations))
            h.setOptionValue("simplex_iteration_limit", limit)
        _hrun(h)
        self.relax_iterations = int(h.getInfo().simplex_iteration_count)
        if hot:
            h.setOptionValue("simplex_iteration_limit", HIGHS_NO_LIMIT)
            if h.getModelStatus() == MS.kIterationLimit:  # a large change: solve it afresh
                self._hot_failed = True  # this model's later what-ifs go afresh at once
                h.clearSolver()
                h.setOptionValue("time_limit", max(0.01, deadline - time.perf_counter()))
                _hrun(h)
                self._cold_iterations = int(h.getInfo().simplex_iteration_count)
                self.relax_iterations += self._cold_iterations
        if h.getModelStatus() != MS.kOptimal:
            self.relax = None  # a basis that did not finish is no start for the next one
            return None
        col = np.asarray(h.getSolution().col_value, dtype=float)
        return col, sense_of(built) * float(h.getInfo().objective_function_value)

    def remember(self, y: np.ndarray, x: np.ndarray) -> None:
        """Keep ``(y, x)`` of a plan of the held model as the next what-if's start."""
        self.plan = (np.asarray(y, dtype=float).copy(), np.asarray(x, dtype=float).copy())


def _identity(built: Built) -> tuple[Any, ...]:
    """Return what a model's columns stand for: firms and candidate pairs (names are positions)."""
    d = built.data
    return (
        tuple(d.firm_ids),
        tuple(d.parcel_ids),
        np.asarray(d.cand_firm).tobytes(),
        np.asarray(d.cand_parcel).tobytes(),
    )
