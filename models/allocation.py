"""The allocation MIP of MODEL.md, built from :class:`models.data.ModelData`.

``build(data, params) -> Built`` builds the model with one function per
constraint family (named exactly as in MODEL.md); each row gets a reversible
display name (``zone_energy[Z03]``, ``zone_split[firm=F1,zone=Z03]``) kept in
``Built.registry`` with its family, keys and unit.

Build at the speed of the matrix (issue 17)
-------------------------------------------
Variables are column numbers into a table of bounds and integrality
(``_Ctx.cols`` makes a range from arrays, ``_Ctx.var`` one). A family writes
its rows as one vectorised block, CSR over column numbers
(``_Ctx.rows(family, keys, ptr, idx, val, sense, rhs)``, keys by column, ids
looked up lazily); ``_Ctx.row(family, keys, terms, sense, rhs)`` adds one row
with ``(column, coefficient)`` terms and is buffered into a block of its
family, for families written row by row. The solver's ``HighsLp`` is the blocks
concatenated (``Built.matrix``, ``models.solver.problem.highs_lp``); row names
are made from the registry only when asked for; the PuLP problem
(``Built.prob`` and the PuLP variables and constraints of ``Built``) is made
from the same blocks the first time something reads it (LP/MPS files, CBC).
Both give the same matrix, bounds, objective and integrality, in the same row
and column order (``tests/test_model_matrix.py``).

Variables
---------
``y[f]`` binary (every firm), ``x[c]`` binary (one per candidate pair in C),
``o[f]`` ≥ 0 continuous, and split variables ``o_fz`` / ``o_fu`` for applicants
whose candidates lie in several zones / control units.

Choices where MODEL.md is silent, and improvements on it
--------------------------------------------------------
- **Pair capacity.** For a pair c = (f, b), ``cap_c = min(oreq_f, va_mu_f·a_b)``
  is the most output the parcel can carry. ``output_by_land`` for applicants is
  written ``o_f ≤ Σ_b cap_c x_fb`` and the ``zone_split`` rows
  ``o_fz ≤ Σ_{b in z} cap_c x_fb``. With one parcel per project and
  ``o_f ≤ oreq_f y_f`` this admits exactly the same integer solutions as the
  MODEL.md rows (``va_mu·a_b`` and ``oreq_f``) but a tighter LP relaxation.
- **Variable bounds.** ``o_f ≤ min(oreq_f, g_f·o0_f)`` for existing firms and
  ``o_f ≤ max_c cap_c`` for applicants (0 without candidates); split variables
  are bounded by the largest ``cap_c`` in their zone/unit. Implied by the rows,
  they only help presolve.
- **Splits only where needed.** An applicant whose candidate parcels all lie in
  one zone uses ``o_f`` itself as ``o_fz`` (no extra variable, no
  ``zone_split`` rows); the same for control units. Zone splits are built only
  when a zone family (electricity, energy, intensity) has a finite cap; unit
  splits only when ``unit_emissions`` has one. A parcel with no control unit
  (``parcel_unit = -1``) gets a pseudo-unit ``none`` in the split so that
  ``Σ_u o_fu = o_f`` still holds; it has no emissions row.
- **Rows only where they can bind.** ``plot_once`` rows only for plots in some
  candidate parcel; cap rows only for finite caps and non-empty sums; floor
  rows only for positive floors.
- **Relocation cost** is written as a constant minus a term:
  ``−Σ ρ L0_f (1 − y_f) = −Σ ρ L0_f + Σ ρ L0_f y_f``; the constant is the
  objective's constant, so reported objectives match MODEL.md.
- **Existing firms' output in a zone / unit** is ``o_f`` in ``firm_zone`` /
  ``firm_unit`` (nothing when -1).
- **Candidates are for applicants only** (MODEL.md: existing firms take no new
  parcels); a pair naming an existing firm raises ``ValueError``.
- **Locked parcel not among the candidates**: the row ``locked[firm=F,parcel=B]``
  is built with an empty left-hand side (``0 ≥ 1``), so the model is
  infeasible and the elastic diagnosis names the row (prepare normally adds
  the locked parcel to C).
- **Elastic mode** (``params.elastic``): every row of the cap families gets
  ``− s`` and every row of the floor and lock families ``+ s`` with ``s ≥ 0``
  and ``−(penalty / max_j |a_rj|)·s`` in the objective, the max over the
  row's continuous (output) variables, 1 for lock rows: dividing by it prices
  one unit of slack like the output of the most intensive firm in the row,
  so that relaxing 1 t of COD is not "cheaper" than 1 tce merely because
  tonnes are small numbers (per unit of output every family costs about
  ``penalty``). ``Built.slacks`` maps the row's display
  name to ``s`` (in the row's own unit: MWh, tce, t, 万元, or 1 for locks).
  ``energy_intensity`` rows are ``Σ (en_f − κ_z) o_fz ≤ 0``: their unit is tce
  of energy above what the intensity cap allows.
  With ``params.elastic_only`` only the listed families get slacks and the
  other rows stay hard: the diagnosis uses it to find how far the caps a
  scenario can set must move for a plan to exist, floors and locks kept.

Analysis families (ARCHITECTURE.md "Version 2": analysis reuses the model)
--------------------------------------------------------------------------
``build(data, params, analysis=Analysis(...))`` adds, to the same model, the
rows near-optimal alternatives and stability need; each is one family below
with its algebra. A *reference plan* (:class:`PlanRef`: who is served, on
which parcel) enters linearly: for plot p with reference firm a(p),
``same_p`` is ``y_a`` (a the occupant), ``Σ_{b∋p} x_ab`` (a an applicant) or
``1 − y_occ(p) − Σ_{c∋p} x_c`` (no firm), so the number of plots whose
assigned firm differs, ``d = P − Σ_p same_p``, is linear in the binaries
(exact at integer points, where ``plot_once`` makes each ``same_p`` 0 or 1).
"""

from __future__ import annotations

import functools
import gc
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pulp

from models.data import (
    A_CLASS_INDICATORS,
    CLASSES,
    FAMILIES,
    POLLUTANTS,
    SUPPLY_MODES,
    USES,
    ModelData,
    ModelParams,
)
from models.naming import NameRegistry, RowInfo, display_name, take

CAP_FAMILIES: tuple[str, ...] = (
    "zone_electricity",
    "zone_energy",
    "province_energy",
    "energy_intensity",
    "unit_emissions",
    "class_cap",
)
"""Cap rows: relaxed by ``− s`` in elastic mode; their duals are marginal values."""
QUOTA_FAMILIES: tuple[str, ...] = tuple(f for f in CAP_FAMILIES if f != "class_cap")
"""Quota caps (electricity, energy, intensity, emissions): the rows whose marginal value is
the price signal of 用能权 / 排污权 trading, reported per zone, unit or province."""

FLOOR_FAMILIES: tuple[str, ...] = (
    "class_floor",
    "service_floor",
    "locked",
    "use_share_min",
    "a_class_target",
)
"""Floor and lock rows: relaxed by ``+ s`` in elastic mode."""

RESERVE_FAMILIES: tuple[str, ...] = ("mountain_land", "mountain_energy")
"""Reserve rows (山区26县): a cap on the others' use, relaxed by ``− s`` in elastic mode; not
quotas (no marginal value is reported for them)."""

ELASTIC_FAMILIES: tuple[str, ...] = CAP_FAMILIES + FLOOR_FAMILIES + RESERVE_FAMILIES

UNITS: dict[str, str] = {
    "plot_once": "plot",
    "one_parcel": "parcel",
    "zone_split": "万元",
    "output_by_land": "万元",
    "output_request": "万元",
    "zone_electricity": "MWh",
    "zone_energy": "tce",
    "province_energy": "tce",
    "energy_intensity": "tce",
    "unit_emissions": "t",
    "class_floor": "万元",
    "class_cap": "万元",
    "retain": "firm",
    "service_floor": "万元",
    "locked": "firm",
    "objective_floor": "万元",
    "distance_to": "plot",
    "change_limit": "change",
    "far_upgrade": "m²",
    "idle_reuse": "m²",
    "land_supply": "mu",
    "use_share_min": "mu",
    "a_class_reach": "indicator",
    "a_class_target": "zone",
    "mountain_land": "亩",
    "mountain_energy": "tce",
}
"""Unit of each family's left-hand side (and of its elastic slack)."""

_SENSE = {"<=": pulp.LpConstraintLE, ">=": pulp.LpConstraintGE, "==": pulp.LpConstraintEQ}
_SENSE_CODE = {"<=": -1, "==": 0, ">=": 1}
_PULP_SENSE = {-1: pulp.LpConstraintLE, 0: pulp.LpConstraintEQ, 1: pulp.LpConstraintGE}


@dataclass
class _Block:
    """Rows of one family as CSR over build columns (zero coefficients kept, as written)."""

    family: str
    ptr: np.ndarray
    idx: np.ndarray
    val: np.ndarray
    sense: np.ndarray
    rhs: np.ndarray


@dataclass
class _Model:
    """Everything :class:`Built` needs from the build: column table, row blocks, objective."""

    col_lower: np.ndarray
    col_upper: np.ndarray
    col_integer: np.ndarray
    col_names: list[tuple[int, Any]]
    """``(first column, names())`` chunks; names are made only for PuLP."""
    blocks: list[_Block]
    obj_col: np.ndarray
    obj_val: np.ndarray
    constant: float
    slack_row: np.ndarray
    slack_col: np.ndarray
    slack_pen: np.ndarray

    def names(self) -> list[str]:
        """Solver names of all build columns."""
        out: list[str] = []
        for _, names in self.col_names:
            out.extend(names())
        return out

    def row_blocks(self) -> list[tuple[str, int, int]]:
        """``(family, first row, end row)`` per block."""
        out, at = [], 0
        for b in self.blocks:
            n = len(b.ptr) - 1
            out.append((b.family, at, at + n))
            at += n
        return out

    def cost(self) -> np.ndarray:
        """Objective coefficient per build column (repeated terms add up)."""
        return np.bincount(self.obj_col, weights=self.obj_val, minlength=len(self.col_lower))

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """All blocks as one CSR over build columns: ``ptr, idx, val, sense, rhs``."""
        if not self.blocks:
            z = np.zeros(0)
            return np.zeros(1, np.int64), np.zeros(0, np.int64), z, np.zeros(0, np.int8), z
        ptrs, at = [np.zeros(1, np.int64)], 0
        for b in self.blocks:
            ptrs.append(b.ptr[1:] + at)
            at += int(b.ptr[-1])
        return (
            np.concatenate(ptrs),
            np.concatenate([b.idx for b in self.blocks]),
            np.concatenate([b.val for b in self.blocks]),
            np.concatenate([b.sense for b in self.blocks]),
            np.concatenate([b.rhs for b in self.blocks]),
        )

    def matrix(self) -> ModelMatrix:
        """Concatenate the blocks into :class:`ModelMatrix` (columns in PuLP's order)."""
        ptr, idx, val, sense, rhs = self.csr()
        n = len(self.col_lower)
        cost = self.cost()
        nnz = len(idx)
        # first appearance of each column in the rows (zero coefficients count, as in PuLP)
        first = np.full(n, nnz + n, dtype=np.int64)
        first[idx[::-1]] = np.arange(nnz - 1, -1, -1, dtype=np.int64)
        only_obj = (first == nnz + n) & (cost != 0)
        first[only_obj] = nnz + np.flatnonzero(only_obj)
        keep = first < nnz + n
        slot = np.full(nnz + n, -1, dtype=np.int64)  # columns by first appearance, no sort
        slot[first[keep]] = np.flatnonzero(keep)
        order = slot[slot >= 0]
        col_of = np.full(n, -1, dtype=np.int32)
        col_of[order] = np.arange(len(order), dtype=np.int32)
        nz = val != 0
        if nz.all():
            start, index, value = ptr, col_of[idx], val
        else:
            cum = np.zeros(nnz + 1, dtype=np.int64)
            np.cumsum(nz, out=cum[1:])
            start, index, value = cum[ptr], col_of[idx[nz]], val[nz]
        inf = np.inf
        return ModelMatrix(
            start=start.astype(np.int32),
            index=index,
            value=value,
            row_lower=np.where(sense >= 0, rhs, -inf),
            row_upper=np.where(sense <= 0, rhs, inf),
            col_lower=self.col_lower[order],
            col_upper=self.col_upper[order],
            col_integer=self.col_integer[order],
            cost=cost[order],
            constant=self.constant,
            row_blocks=self.row_blocks(),
            col_of=col_of,
        )

    def to_pulp(
        self, registry: NameRegistry
    ) -> tuple[pulp.LpProblem, np.ndarray, list[pulp.LpConstraint]]:
        """Make the PuLP problem of the same rows, columns and objective.

        The cyclic garbage collector is paused meanwhile: it would walk the
        growing heap of PuLP objects again and again (a third of the time).
        """
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._to_pulp(registry)
        finally:
            if enabled:
                gc.enable()

    def _to_pulp(
        self, registry: NameRegistry
    ) -> tuple[pulp.LpProblem, np.ndarray, list[pulp.LpConstraint]]:
        prob = pulp.LpProblem("allocation", pulp.LpMaximize)
        names = self.names()
        fin = math.isfinite
        lo = [v if fin(v) else None for v in self.col_lower.tolist()]
        up = [v if fin(v) else None for v in self.col_upper.tolist()]
        cats = [pulp.LpBinary if i else pulp.LpContinuous for i in self.col_integer.tolist()]
        vs = np.empty(len(names), dtype=object)
        vs[:] = [
            prob.add_variable(nm, a, b, c) for nm, a, b, c in zip(names, lo, up, cats, strict=True)
        ]
        ptr, idx, val, sense, rhs = self.csr()
        sname = registry.solver_names()
        terms = list(zip(vs[idx].tolist(), val.tolist(), strict=True))
        cons = []
        p = ptr.tolist()
        for r, (s, b) in enumerate(zip(sense.tolist(), rhs.tolist(), strict=True)):
            expr = pulp.LpAffineExpression(terms[p[r] : p[r + 1]])
            con = pulp.LpConstraint(expr, _PULP_SENSE[s], sname[r], b)
            prob.addConstraint(con)
            cons.append(con)
        cost = self.cost()
        nzc = np.flatnonzero(cost)
        prob.setObjective(
            pulp.LpAffineExpression(
                list(zip(vs[nzc].tolist(), cost[nzc].tolist(), strict=True)), constant=self.constant
            )
        )
        return prob, vs, cons


def _one(n: int, col: np.ndarray, val: Any, mask: np.ndarray | None = None):
    """Return a part with at most one entry per row: ``(col[i], val[i])`` where ``mask[i]``."""
    col = np.broadcast_to(np.asarray(col, dtype=np.int64), (n,))
    val = np.broadcast_to(np.asarray(val, dtype=float), (n,))
    if mask is None:
        return np.arange(n + 1, dtype=np.int64), col, val
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(mask, out=ptr[1:])
    return ptr, col[mask], val[mask]


def _segments(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Positions ``starts[i] + 0..lens[i]-1``, concatenated in ``i`` order."""
    lens = np.asarray(lens, dtype=np.int64)
    total = int(lens.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lens)
    return np.repeat(np.asarray(starts, np.int64) - (ends - lens), lens) + np.arange(total)


def _counts_ptr(counts: np.ndarray) -> np.ndarray:
    ptr = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr


def _hcat(n: int, *parts: tuple[np.ndarray, np.ndarray, np.ndarray]):
    """Rows made of the parts' rows side by side (part 1's entries first in each row)."""
    lens = [np.diff(p) for p, _, _ in parts]
    total = np.zeros(n, np.int64)
    for ln in lens:
        total += ln
    ptr = _counts_ptr(total)
    nnz = int(ptr[-1])
    idx = np.empty(nnz, dtype=np.int64)
    val = np.empty(nnz, dtype=float)
    base = ptr[:-1].copy()
    for (p, i, v), ln in zip(parts, lens, strict=True):
        if not len(i):
            continue
        if ln.max() == 1:  # at most one entry per row: at the row's current end
            dest = base if len(i) == n else base[ln.astype(bool)]
        else:
            dest = np.repeat(base - p[:-1], ln) + np.arange(len(i))
        idx[dest] = i
        val[dest] = v
        base += ln
    return ptr, idx, val


class _Ctx:
    """Mutable state while building: column table, row blocks, registry, counters.

    Columns are numbers into a table of bounds and integrality (:meth:`cols`
    makes a range of them from arrays, :meth:`var` one). Rows come as one
    vectorised block per family (:meth:`rows`) or one at a time (:meth:`row`,
    buffered into a block of its family), over column numbers.
    """

    def __init__(self, data: ModelData, params: ModelParams) -> None:
        self.data = data
        self.params = params
        self.reg = NameRegistry()
        self.family_rows = dict.fromkeys(FAMILIES, 0)
        self.nnz = 0
        self.n_vars = 0
        self.n_bin = 0
        self.n_rows = 0
        self._lo: list[np.ndarray] = []
        self._up: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self._names: list[tuple[int, Any]] = []
        self._one_col: list[tuple[str, float, float, bool]] = []
        self._blocks: list[_Block] = []
        self._pending: tuple[str, list, list, list, list, list, list] | None = None
        self._obj_col: list[np.ndarray] = []
        self._obj_val: list[np.ndarray] = []
        self._constant = 0.0
        self._slack_row: list[np.ndarray] = []
        self._slack_col: list[np.ndarray] = []
        self._slack_pen: list[np.ndarray] = []

    # ------------------------------------------------------------ columns

    def cols(self, names: Any, lb: Any, ub: Any, n: int, binary: Any = False) -> np.ndarray:
        """Create ``n`` columns (bounds and ``binary`` scalar or per column); return their numbers.

        ``names`` is a callable returning the ``n`` solver names (called only
        when the PuLP problem is made).
        """
        self._flush_cols()
        start = self.n_vars
        integ = np.array(np.broadcast_to(np.asarray(binary, bool), (n,)))
        self._lo.append(np.broadcast_to(np.asarray(lb, float), (n,)))
        self._up.append(np.broadcast_to(np.asarray(np.inf if ub is None else ub, float), (n,)))
        self._int.append(integ)
        self._names.append((start, names))
        self.n_vars += n
        self.n_bin += int(integ.sum())
        return np.arange(start, start + n, dtype=np.int64)

    def var(self, sname: str, lb: float, ub: float | None, binary: bool = False) -> int:
        """Create one column named ``sname``; return its number."""
        self._one_col.append((sname, float(lb), np.inf if ub is None else float(ub), binary))
        self.n_vars += 1
        self.n_bin += int(binary)
        return self.n_vars - 1

    def _flush_cols(self) -> None:
        if not self._one_col:
            return
        one, self._one_col = self._one_col, []
        names = [c[0] for c in one]
        self._lo.append(np.array([c[1] for c in one]))
        self._up.append(np.array([c[2] for c in one]))
        self._int.append(np.array([c[3] for c in one], dtype=bool))
        self._names.append((self.n_vars - len(one), lambda: names))

    def col_integer(self) -> np.ndarray:
        """Integrality of every column made so far."""
        self._flush_cols()
        return np.concatenate(self._int) if self._int else np.zeros(0, bool)

    # ------------------------------------------------------------ rows

    def rows(
        self,
        family: str,
        keys: Any,
        ptr: np.ndarray,
        idx: np.ndarray,
        val: np.ndarray,
        sense: str | np.ndarray,
        rhs: Any,
    ) -> None:
        """Add a block of rows ``Σ_j val·col (sense) rhs`` in CSR form over column numbers.

        ``keys``: key name → values, one per row (:func:`models.naming.take`
        for ids looked up lazily, or one string for all rows), or None for a
        row without keys. ``sense`` is ``"<="``, ``">="``, ``"=="`` or an
        array of codes (-1, 0, 1); a row must not repeat a column.
        """
        self._flush_rows()
        self._add(family, keys, ptr, idx, val, sense, rhs)

    def row(
        self,
        family: str,
        keys: dict[str, str] | None,
        terms: list[tuple[Any, float]],
        sense: str,
        rhs: float,
    ) -> None:
        """Add one row ``Σ terms (sense) rhs``; terms are ``(column number, coefficient)``.

        Rows added one at a time are buffered and become one block of their
        family (the order of rows is kept); terms must not repeat a column.
        """
        if self._pending is None or self._pending[0] != family:
            self._flush_rows()
            self._pending = (family, [], [], [0], [], [], [])
        _, idx, val, ptr, ks, ss, rs = self._pending
        for v, c in terms:
            idx.append(int(v))
            val.append(float(c))
        ptr.append(len(idx))
        ks.append(keys)
        ss.append(_SENSE_CODE[sense])
        rs.append(float(rhs))

    def _flush_rows(self) -> None:
        if self._pending is None:
            return
        family, idx, val, ptr, ks, ss, rs = self._pending
        self._pending = None
        self._add(
            family,
            ks,
            np.asarray(ptr, np.int64),
            np.asarray(idx, np.int64),
            np.asarray(val, float),
            np.asarray(ss, np.int8),
            np.asarray(rs, float),
        )

    def _add(self, family, keys, ptr, idx, val, sense, rhs) -> None:
        ptr = np.asarray(ptr, dtype=np.int64)
        n = len(ptr) - 1
        if n <= 0:
            return
        idx = np.asarray(idx, dtype=np.int64)
        val = np.asarray(val, dtype=float)
        if isinstance(sense, str):
            code = np.full(n, _SENSE_CODE[sense], dtype=np.int8)
        else:
            code = np.asarray(sense, dtype=np.int8)
        rhs = np.array(np.broadcast_to(np.asarray(rhs, float), (n,)))
        only = self.params.elastic_only
        if self.params.elastic and family in ELASTIC_FAMILIES and (not only or family in only):
            ptr, idx, val = self._slacks(family, n, ptr, idx, val, code)
        self._blocks.append(_Block(family, ptr, idx, val, code, rhs))
        self.reg.add_block(family, UNITS[family], n, keys, code, rhs)
        self.family_rows[family] += n
        self.nnz += int(np.count_nonzero(val))
        self.n_rows += n

    def _slacks(self, family, n, ptr, idx, val, code):
        """Elastic mode: one slack per row (− s on caps, + s on floors and locks)."""
        rows = np.arange(self.n_rows, self.n_rows + n)
        reg = self.reg

        def names() -> list[str]:
            sn = reg.solver_names()
            return ["s_" + sn[r] for r in rows.tolist()]

        s = self.cols(names, 0.0, None, n)
        cont = ~self.col_integer()[idx]
        a = np.where(cont, np.abs(val), 0.0)
        big = np.zeros(n)
        filled = np.diff(ptr) > 0
        if filled.any():
            big[filled] = np.maximum.reduceat(a, ptr[:-1][filled])
        big[big == 0] = 1.0
        pen = float(self.params.elastic_penalty) / big
        self._slack_row.append(rows)
        self._slack_col.append(s)
        self._slack_pen.append(pen)
        self.objective_terms(s, -pen)
        return _hcat(n, (ptr, idx, val), _one(n, s, np.where(code == -1, -1.0, 1.0)))

    # ------------------------------------------------------------ objective

    def objective_terms(self, cols: Any, coefs: Any) -> None:
        """Add ``Σ coefs · cols`` to the (maximised) objective; repeated columns add up."""
        cols = np.asarray(cols, dtype=np.int64).ravel()
        self._obj_col.append(cols)
        self._obj_val.append(np.broadcast_to(np.asarray(coefs, float), cols.shape))

    def objective_only(self, col: int) -> None:
        """Make the objective ``max col`` (every term and constant so far dropped)."""
        self._obj_col, self._obj_val, self._constant = [], [], 0.0
        self.objective_terms([col], [1.0])

    def objective_constant(self, value: float) -> None:
        """Add a constant to the objective."""
        self._constant += float(value)

    def finish(self) -> _Model:
        """Flush the buffers; return the model's arrays."""
        self._flush_rows()
        self._flush_cols()
        cat = np.concatenate
        e_i, e_f = np.zeros(0, np.int64), np.zeros(0)
        return _Model(
            col_lower=cat(self._lo) if self._lo else e_f,
            col_upper=cat(self._up) if self._up else e_f,
            col_integer=cat(self._int) if self._int else np.zeros(0, bool),
            col_names=self._names,
            blocks=self._blocks,
            obj_col=cat(self._obj_col) if self._obj_col else e_i,
            obj_val=cat(self._obj_val) if self._obj_val else e_f,
            constant=self._constant,
            slack_row=cat(self._slack_row) if self._slack_row else e_i,
            slack_col=cat(self._slack_col) if self._slack_col else e_i,
            slack_pen=cat(self._slack_pen) if self._slack_pen else e_f,
        )


@dataclass
class ModelMatrix:
    """The model as arrays: what goes to HiGHS (maximisation form, rows unscaled).

    Columns are in the order a PuLP problem of the same rows registers them
    (first appearance in the rows, row by row; a column in no row but in the
    objective after them; a column in neither is left out), so this matrix is
    the one ``models.solver.problem._to_highs_lp`` makes of :attr:`Built.prob`.
    ``col_of`` maps the build's column numbers (``Built.y_col`` …) to these.
    """

    start: np.ndarray
    """CSR row starts (int32, ``n_row + 1``)."""
    index: np.ndarray
    """Column of each nonzero (int32)."""
    value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    col_integer: np.ndarray
    """True for binary / integer columns."""
    cost: np.ndarray
    """Objective coefficients (maximised), constant in :attr:`constant`."""
    constant: float
    row_blocks: list[tuple[str, int, int]]
    """``(family, first row, end row)`` of each block of rows, in row order."""
    col_of: np.ndarray
    """Build column → matrix column (−1: the column is in no row and not in the objective)."""

    @property
    def n_row(self) -> int:
        """Number of rows."""
        return len(self.row_lower)

    @property
    def n_col(self) -> int:
        """Number of columns."""
        return len(self.col_lower)


class Built:
    """A built model: blocks of rows over a column table, names and PuLP objects on demand.

    The families write their rows as arrays (one block per family); the HiGHS
    matrix is :meth:`matrix` (the blocks concatenated). The PuLP problem
    (:attr:`prob`, and the PuLP variables and constraints below) is made from
    the same blocks the first time something asks for it (LP/MPS files, CBC,
    reading solution values off PuLP variables).

    Attributes
    ----------
    y_col, x_col, o_col
        Build column numbers of ``y`` (F), ``x`` (C, aligned with
        ``data.cand_firm``) and ``o`` (F); ``u_col`` (F, −1 where a firm has no
        plot-ratio upgrade variable); ``zone_col`` / ``unit_col`` aligned with
        ``zone_firm`` … Map them to matrix columns with ``matrix().col_of``.
    y, x, o
        Object arrays of ``pulp.LpVariable`` (made on demand).
    zone_firm, zone_zone, zone_var
        Zone membership: each entry says "firm ``zone_firm[i]``'s output counted
        in zone ``zone_zone[i]`` is variable ``zone_var[i]``" (``o_f`` itself
        for existing firms and single-zone applicants, else a split variable).
        Empty when no zone family is built.
    unit_firm, unit_unit, unit_var
        The same by control unit (unit -1 = the pseudo-unit ``none``).
    constraints
        Display name → ``pulp.LpConstraint`` (made on demand).
    registry
        :class:`models.naming.NameRegistry` (display ↔ solver name, family,
        keys, unit, sense, rhs; names made on demand).
    slacks
        Display name → elastic slack variable (elastic mode only; on demand).
    family_rows
        Number of rows per family (every family of ``FAMILIES`` is a key).
    size
        ``rows``, ``columns``, ``binaries``, ``nonzeros``.
    """

    def __init__(
        self,
        *,
        data: ModelData,
        params: ModelParams,
        model: _Model,
        y_col: np.ndarray,
        x_col: np.ndarray,
        o_col: np.ndarray,
        u_col: np.ndarray,
        zone_firm: np.ndarray,
        zone_zone: np.ndarray,
        zone_col: np.ndarray,
        unit_firm: np.ndarray,
        unit_unit: np.ndarray,
        unit_col: np.ndarray,
        registry: NameRegistry,
        family_rows: dict[str, int],
        size: dict[str, int],
        build_seconds: float,
        objective_constant: float,
        q_col: np.ndarray | None = None,
        r_col: np.ndarray | None = None,
        r_fixed: np.ndarray | None = None,
    ) -> None:
        self.data = data
        self.params = params
        self.y_col, self.x_col, self.o_col, self.u_col = y_col, x_col, o_col, u_col
        self.zone_firm, self.zone_zone, self.zone_col = zone_firm, zone_zone, zone_col
        self.unit_firm, self.unit_unit, self.unit_col = unit_firm, unit_unit, unit_col
        self.registry = registry
        self.family_rows = family_rows
        self.size = size
        self.build_seconds = build_seconds
        self.objective_constant = objective_constant
        self.q_col = np.full((0, 0), -1, dtype=np.int64) if q_col is None else q_col
        """Build column of each project's land under each supply mode (``land_supply``):
        (F, len(SUPPLY_MODES)), −1 where the mode is not permitted; empty when the family is off."""
        self.r_col = np.full(0, -1, dtype=np.int64) if r_col is None else r_col
        """Build column of "zone reaches A class" (binary, ``a_class_target``) per zone (Z), −1
        where presolve arithmetic settles it (:attr:`r_fixed`); empty when the family is off."""
        self.r_fixed = np.zeros(0, dtype=np.int64) if r_fixed is None else r_fixed
        """Per zone (Z): 1 sure to reach A class, 0 cannot reach it, −1 the plan decides."""
        self.variable_kinds: dict[str, str] = {}
        """Prefix of solver variable names → what they are (for :meth:`variable_display`)."""
        self._model = model
        self._matrix: ModelMatrix | None = None
        self._prob: pulp.LpProblem | None = None
        self._replaced = False
        self._objective: Any = None
        self._vars: np.ndarray | None = None
        self._cons: list[pulp.LpConstraint] = []
        self._value: np.ndarray | None = None
        self._extra_vars: list[pulp.LpVariable] = []

    # ------------------------------------------------------------ arrays

    def matrix(self) -> ModelMatrix:
        """Return the model as arrays (made once from the blocks; no PuLP involved)."""
        if self._matrix is None:
            self._matrix = self._model.matrix()
        return self._matrix

    def column_names(self) -> list[str]:
        """Solver names of the columns of :meth:`matrix`, in its order (made on demand)."""
        names = self._model.names()
        at = self.matrix().col_of
        out = [""] * self.matrix().n_col
        for c in np.flatnonzero(at >= 0).tolist():
            out[at[c]] = names[c]
        return out

    @property
    def slack_rows(self) -> np.ndarray:
        """Row numbers that carry an elastic slack (empty unless elastic)."""
        return self._model.slack_row

    @property
    def slack_cols(self) -> np.ndarray:
        """Build column of the slack of each row in :attr:`slack_rows`."""
        return self._model.slack_col

    @functools.cached_property
    def slack_penalty(self) -> dict[str, float]:
        """Objective penalty per unit of each elastic slack (display name → 万元/unit)."""
        m = self._model
        if not len(m.slack_row):
            return {}
        names = list(self.registry.rows)
        return {
            names[r]: p for r, p in zip(m.slack_row.tolist(), m.slack_pen.tolist(), strict=True)
        }

    # ------------------------------------------------------------ PuLP, on demand

    @property
    def prob(self) -> pulp.LpProblem:
        """The PuLP problem, made from the blocks the first time it is asked for.

        Solution values written before (:meth:`set_values`) are copied into
        its variables.
        """
        if self._prob is None:
            self._prob, self._vars, self._cons = self._model.to_pulp(self.registry)
            self._objective = self._prob.objective
            if self._value is not None:
                for v, val in zip(self._vars.tolist(), self._value.tolist(), strict=True):
                    v.varValue = val
        return self._prob

    @prob.setter
    def prob(self, value: pulp.LpProblem) -> None:
        """Replace the PuLP problem (``built.prob += row``); :meth:`matrix` keeps the build's."""
        self.prob  # noqa: B018 - the variables and constraints come from the build's problem
        self._prob = value
        self._replaced = True

    @property
    def pulp_made(self) -> bool:
        """True once the PuLP problem has been made (something read :attr:`prob`)."""
        return self._prob is not None

    def pulp_changed(self) -> bool:
        """Return True when :attr:`prob` was changed after it was made (rows, objective).

        The solver then solves the PuLP problem instead of :meth:`matrix`.
        """
        p = self._prob
        if p is None:
            return False
        n = self.size["rows"]
        return (
            self._replaced or p.objective is not self._objective or len(p._constraints) != n  # noqa: SLF001 - PuLP has no public count
        )

    # ------------------------------------------------------------ values

    def lp_index(self, cols: np.ndarray) -> np.ndarray:
        """Return the ``HighsLp`` columns of build columns ``cols`` (the solver's matrix).

        The same for both paths: the PuLP path puts the build's columns first, in
        :meth:`matrix` order (``models.solver.problem.pulp_lp``).
        """
        return self.matrix().col_of[np.asarray(cols, dtype=np.int64)]

    def pulp_columns(self) -> list[pulp.LpVariable]:
        """Return the PuLP variables of :meth:`matrix`'s columns, in its order."""
        self.prob  # noqa: B018
        assert self._vars is not None
        at = self.matrix().col_of
        out: list[Any] = [None] * self.matrix().n_col
        for c in np.flatnonzero(at >= 0).tolist():
            out[at[c]] = self._vars[c]
        return out

    def set_values(self, col: np.ndarray) -> None:
        """Store the solver's column values (``HighsLp`` order): the plan that is read off.

        With the PuLP problem made, its variables get them as well (also the
        variables added to a changed problem, by ``var.index``).
        """
        col = np.asarray(col, dtype=float)
        at = self.matrix().col_of
        val = np.where(at >= 0, col[np.maximum(at, 0)], 0.0)
        self._value = val
        if self._vars is not None:
            for v, x in zip(self._vars.tolist(), val.tolist(), strict=True):
                v.varValue = x
            for v in self._extra_vars:
                if v.index < len(col):
                    v.varValue = float(col[v.index])

    def lp_values(self, n: int | None = None) -> np.ndarray:
        """Return the current values in the solver's ``HighsLp`` column order (``n`` columns)."""
        m = self.matrix()
        out = np.zeros(max(m.n_col, n or 0))
        have = m.col_of >= 0
        out[m.col_of[have]] = self.values(np.flatnonzero(have))
        for v in self._extra_vars:
            if v.index < len(out):
                out[v.index] = v.varValue or 0.0
        return out

    def values(self, cols: np.ndarray) -> np.ndarray:
        """Return the current values of build columns ``cols`` (0 where none is set)."""
        cols = np.asarray(cols, dtype=np.int64)
        if self._prob is not None:
            assert self._vars is not None
            return np.array([v.varValue or 0.0 for v in self._vars[cols]], dtype=float)
        if self._value is None:
            return np.zeros(len(cols))
        return self._value[cols]

    def plan_objective(self) -> float:
        """Snap ``y`` and ``x`` to 0/1 and return the objective of that plan (constant included)."""
        if self._prob is not None:
            for v in (*self._vars[self.y_col], *self._vars[self.x_col]):  # type: ignore[index]
                if v.varValue is not None:
                    v.varValue = 1.0 if v.varValue > 0.5 else 0.0
            obj = self._prob.objective
            return float(obj.value()) if obj is not None else 0.0
        if self._value is None:
            return float(self._model.constant)
        b = np.concatenate([self.y_col, self.x_col])
        self._value[b] = np.where(self._value[b] > 0.5, 1.0, 0.0)
        return float(self._model.cost() @ self._value + self._model.constant)

    def row_activity(self, families: tuple[str, ...]) -> dict[str, float]:
        """Left-hand side (without its elastic slack) of every row of ``families``, by name."""
        names = list(self.registry.rows)
        out: dict[str, float] = {}
        if self._prob is not None:
            cons, slacks = self.constraints, self.slacks
            for fam, a, b in self._model.row_blocks():
                if fam not in families:
                    continue
                for name in names[a:b]:
                    con = cons[name]
                    act = sum((v.varValue or 0.0) * c for v, c in con.items())
                    if name in slacks:  # the lhs without the slack
                        s = slacks[name]
                        act -= con.get(s, 0.0) * (s.varValue or 0.0)
                    out[name] = float(act)
            return out
        slack = np.zeros(len(self._model.col_lower), dtype=bool)
        slack[self._model.slack_col] = True
        val = self._value if self._value is not None else np.zeros(len(slack))
        at = 0
        for blk in self._model.blocks:
            n = len(blk.ptr) - 1
            if blk.family in families:
                terms = np.where(slack[blk.idx], 0.0, blk.val * val[blk.idx])
                sums = np.zeros(n)
                filled = np.diff(blk.ptr) > 0
                if filled.any():
                    sums[filled] = np.add.reduceat(terms, blk.ptr[:-1][filled])
                out.update(zip(names[at : at + n], sums.tolist(), strict=True))
            at += n
        return out

    def slack_values(self) -> dict[str, float]:
        """Elastic slack value per row display name (elastic mode only)."""
        m = self._model
        if not len(m.slack_row):
            return {}
        names = list(self.registry.rows)
        vals = self.values(m.slack_col)
        return {names[r]: v for r, v in zip(m.slack_row.tolist(), vals.tolist(), strict=True)}

    def _var_array(self, cols: np.ndarray) -> np.ndarray:
        self.prob  # noqa: B018 - makes the PuLP objects
        assert self._vars is not None
        out = np.empty(len(cols), dtype=object)
        cols = np.asarray(cols, dtype=np.int64)
        have = cols >= 0
        out[have] = self._vars[cols[have]]
        return out

    @property
    def y(self) -> np.ndarray:
        """``y`` as PuLP variables (F)."""
        return self._var_array(self.y_col)

    @property
    def x(self) -> np.ndarray:
        """``x`` as PuLP variables (C)."""
        return self._var_array(self.x_col)

    @property
    def o(self) -> np.ndarray:
        """``o`` as PuLP variables (F)."""
        return self._var_array(self.o_col)

    @property
    def zone_var(self) -> np.ndarray:
        """PuLP variables aligned with ``zone_firm``."""
        return self._var_array(self.zone_col)

    @property
    def unit_var(self) -> np.ndarray:
        """PuLP variables aligned with ``unit_firm``."""
        return self._var_array(self.unit_col)

    @property
    def u(self) -> np.ndarray:
        """Floor area added by a plot-ratio upgrade (m², ``far_upgrade``): PuLP variables.

        One per firm (F), None for firms without an upgrade variable.
        """
        if not (self.u_col >= 0).any():
            return np.full(len(self.u_col), None, dtype=object)
        return self._var_array(self.u_col)

    @property
    def q(self) -> np.ndarray:
        """``land_supply``'s land per project and supply mode as PuLP variables (F × modes).

        None where the mode is not permitted; empty (0 × 0) when the family is off.
        """
        if not (self.q_col >= 0).any():
            return np.full(self.q_col.shape, None, dtype=object)
        return self._var_array(self.q_col.ravel()).reshape(self.q_col.shape)

    @property
    def r(self) -> np.ndarray:
        """``a_class_target``'s "zone reaches A class" as PuLP variables (Z), None where settled."""
        if not (self.r_col >= 0).any():
            return np.full(len(self.r_col), None, dtype=object)
        return self._var_array(self.r_col)

    @functools.cached_property
    def constraints(self) -> dict[str, pulp.LpConstraint]:
        """Display name → ``pulp.LpConstraint`` (of the problem as built)."""
        self.prob  # noqa: B018
        return dict(zip(self.registry.rows, self._cons, strict=True))

    @functools.cached_property
    def slacks(self) -> dict[str, pulp.LpVariable]:
        """Display name → elastic slack variable (elastic mode only)."""
        m = self._model
        if not len(m.slack_row):
            return {}
        names = list(self.registry.rows)
        svars = self._var_array(m.slack_col)
        return {names[r]: v for r, v in zip(m.slack_row.tolist(), svars, strict=True)}

    @property
    def rows(self) -> dict[str, RowInfo]:
        """Display name → :class:`RowInfo`."""
        return self.registry.rows

    def variable_display(self, solver_name: str) -> str:
        """Return the display name of a solver variable name (``x_12`` → ``x[firm=A1,parcel=B3]``).

        Names are positional (``y_<firm>``, ``o_<firm>``, ``x_<pair>``,
        ``oz_<firm>_<zone+1>``, ``ou_<firm>_<unit+1>``, ``s_<row>`` → ``slack:<row>``) and decoded
        here on demand: building 50,000 display strings up front cost a third
        of the build time.
        """
        d = self.data
        kind, _, rest = solver_name.partition("_")
        if kind == "s":
            return "slack:" + self.registry.display(rest)
        if kind == "dmin":
            return "distance_min"
        parts = [int(p) for p in rest.split("_")]
        if kind in ("y", "o", "u"):
            return display_name(kind, {"firm": d.firm_ids[parts[0]]})
        if kind == "q":  # land_supply: firm × supply mode
            return display_name(
                kind, {"firm": d.firm_ids[parts[0]], "mode": SUPPLY_MODES[parts[1]]}
            )
        if kind == "r":
            return display_name("r", {"zone": d.zone_ids[parts[0]]})
        if kind == "x":
            c = parts[0]
            keys = {"firm": d.firm_ids[d.cand_firm[c]], "parcel": d.parcel_ids[d.cand_parcel[c]]}
            return display_name("x", keys)
        what, names = ("zone", d.zone_ids) if kind == "oz" else ("unit", d.unit_ids)
        k = parts[1] - 1
        keys = {"firm": d.firm_ids[parts[0]], what: names[k] if k >= 0 else "none"}
        return display_name("o_f" + what[0], keys)

    def row_mask(self, families: tuple[str, ...], n: int | None = None) -> np.ndarray:
        """Return a bool per row: True for the rows of ``families`` (no names are made).

        ``n``: the length wanted (rows added to a changed PuLP problem come last: False).
        """
        mask = np.zeros(max(self.size["rows"], n or 0), dtype=bool)
        for fam, a, b in self._model.row_blocks():
            if fam in families:
                mask[a:b] = True
        return mask

    def rows_of(self, family: str) -> list[str]:
        """Display names of the rows of ``family``, in build order."""
        return [n for n, r in self.registry.rows.items() if r.family == family]


@dataclass(frozen=True, eq=False)
class PlanRef:
    """A reference plan in model positions: who is served and, for applicants, on which parcel.

    ``served`` (F,) bool and ``parcel`` (F,) int (index into ``parcel_ids``;
    −1 for existing firms and applicants not admitted).
    """

    served: np.ndarray
    parcel: np.ndarray

    @classmethod
    def from_solution(cls, data: ModelData, y: np.ndarray, x: np.ndarray) -> PlanRef:
        """Read a plan off solution values ``y`` (F) and ``x`` (C, aligned with the candidates)."""
        served = np.rint(np.asarray(y, float)).astype(bool)
        parcel = np.full(data.n_firms, -1, dtype=np.int64)
        sel = np.flatnonzero(np.rint(np.asarray(x, float)) > 0)
        parcel[np.asarray(data.cand_firm)[sel]] = np.asarray(data.cand_parcel)[sel]
        return cls(served=served, parcel=parcel)

    def plot_firm(self, data: ModelData) -> np.ndarray:
        """Return the firm (index, −1 = none) each plot is assigned to under this plan."""
        occ = np.asarray(data.plot_occupant, dtype=np.int64)
        app = np.asarray(data.firm_applicant, dtype=bool)
        out = np.full(data.n_plots, -1, dtype=np.int64)
        keep = (occ >= 0) & self.served[np.maximum(occ, 0)] & ~app[np.maximum(occ, 0)]
        out[keep] = occ[keep]
        for f in np.flatnonzero(self.served & app & (self.parcel >= 0)):
            out[data.parcel_plots(int(self.parcel[f]))] = f
        return out


@dataclass(frozen=True)
class Analysis:
    """Extra rows and objective terms for analysis solves (all off by default).

    Attributes
    ----------
    objective_floor
        Build ``objective_floor``: MODEL.md's objective ≥ this (万元).
    distance_refs
        Build one ``distance_to`` row per plan and maximise the smallest
        distance (max-min) instead of MODEL.md's objective.
    approved, max_changes
        Build ``change_limit``: at most ``max_changes`` changes against ``approved``.
    change_cost_wan
        Subtract this (万元) per change against ``approved`` from the objective.
    distance_weight_wan
        With ``distance_refs``: None maximises the smallest distance alone;
        a number w maximises MODEL.md's objective + w · (smallest distance),
        w in 万元 per plot (easier for the solver: its start heuristic works
        on MODEL.md's objective, and ``objective_floor`` still holds).
    """

    objective_floor: float | None = None
    distance_refs: tuple[PlanRef, ...] = ()
    approved: PlanRef | None = None
    max_changes: int | None = None
    change_cost_wan: float = 0.0
    distance_weight_wan: float | None = None


def _groups(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``order, ptr``: ``order[ptr[k]:ptr[k+1]]`` are the positions with key k."""
    keys = np.asarray(keys, dtype=np.int64)
    if keys.size and (keys[1:] >= keys[:-1]).all():
        order = np.arange(keys.size)  # already grouped (candidate pairs come by firm)
    else:
        order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n) if keys.size else np.zeros(n, dtype=np.int64)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return order, ptr


def _terms(vars_: np.ndarray, coefs: np.ndarray) -> list[tuple[Any, float]]:
    return list(zip(vars_.tolist(), coefs.tolist(), strict=True))


class _Prep:
    """Index arithmetic shared by the families (numpy only)."""

    def __init__(self, data: ModelData) -> None:
        d = data
        self.F, self.Z, self.U, self.C = d.n_firms, d.n_zones, d.n_units, d.n_candidates
        self.app = np.asarray(d.firm_applicant, dtype=bool)
        self.cf = np.asarray(d.cand_firm, dtype=np.int64)
        self.cb = np.asarray(d.cand_parcel, dtype=np.int64)
        if self.C and not self.app[self.cf].all():
            bad = d.firm_ids[int(self.cf[~self.app[self.cf]][0])]
            raise ValueError(
                f"candidate pair for existing firm {bad!r}: candidates are for applicants only"
            )
        self.cz = np.asarray(d.parcel_zone, dtype=np.int64)[self.cb]
        self.cu = np.asarray(d.parcel_unit, dtype=np.int64)[self.cb]
        self.ca = np.asarray(d.parcel_area_mu, dtype=float)[self.cb]
        oreq = np.asarray(d.oreq, dtype=float)
        va_mu = np.asarray(d.va_mu, dtype=float)
        self.cap_c = np.minimum(oreq[self.cf], va_mu[self.cf] * self.ca)
        self.firm_order, self.firm_ptr = _groups(self.cf, self.F)
        self.firm_n = np.diff(self.firm_ptr)
        self._incidence: tuple[np.ndarray, np.ndarray] | None = None

    def incidence(self, d: ModelData) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(pair, plot)`` arrays: candidate ``pair[i]``'s parcel holds ``plot[i]``."""
        if self._incidence is None:
            ptr = np.asarray(d.parcel_ptr, dtype=np.int64)
            lens = ptr[self.cb + 1] - ptr[self.cb]
            rep_c = np.repeat(np.arange(self.C), lens)
            at = _segments(ptr[self.cb], lens)
            self._incidence = (rep_c, np.asarray(d.parcel_plot, dtype=np.int64)[at])
        return self._incidence

    def pairs_of(self, firms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate pairs of ``firms`` in firm order: ``(counts per firm, pair positions)``."""
        n = self.firm_n[firms]
        return n, self.firm_order[_segments(self.firm_ptr[firms], n)]


def _o_upper(data: ModelData, prep: _Prep) -> np.ndarray:
    oreq = np.asarray(data.oreq, dtype=float)
    ub = np.minimum(oreq, np.asarray(data.growth_cap, float) * np.asarray(data.o0, float))
    best = np.zeros(prep.F)
    if prep.C:
        np.maximum.at(best, prep.cf, prep.cap_c)
    return np.where(prep.app, best, ub)


@dataclass
class _Split:
    """Split variables of applicants with candidates in several zones (units)."""

    what: str
    firm: np.ndarray
    key: np.ndarray
    col: np.ndarray
    counts: np.ndarray
    """Candidate pairs per split variable."""
    pos: np.ndarray
    """Their positions, grouped by split variable."""


def _split_members(
    ctx: _Ctx, prep: _Prep, o: np.ndarray, cand_key: np.ndarray, n_keys: int, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, _Split]:
    """Applicant split variables by zone/unit key (key -1 allowed for units).

    Returns the member arrays for applicants (firm, key, column) and the split
    variables of applicants with more than one key.
    """
    e = np.zeros(0, dtype=np.int64)
    if not prep.C:
        return e, e, e, _Split(what, e, e, e, e, e)
    code = prep.cf * (n_keys + 1) + (cand_key + 1)  # -1 → 0
    order = np.argsort(code, kind="stable")  # pairs grouped by (firm, key), one sort
    sc = code[order]
    new = np.ones(len(sc), dtype=bool)
    new[1:] = sc[1:] != sc[:-1]
    starts = np.flatnonzero(new)
    ptr = np.append(starts, len(sc))
    uniq = sc[starts]
    uf = uniq // (n_keys + 1)
    uk = uniq % (n_keys + 1) - 1
    split = np.bincount(uf, minlength=prep.F)[uf] > 1
    top = np.maximum.reduceat(prep.cap_c[order], starts)
    sel = np.flatnonzero(split)
    sf, sk = uf[sel], uk[sel]
    tag = f"o{what[0]}_"
    cols = ctx.cols(
        lambda: [f"{tag}{f}_{k + 1}" for f, k in zip(sf.tolist(), sk.tolist(), strict=True)],
        0.0,
        top[sel],
        len(sel),
    )
    mv = o[uf]
    mv[sel] = cols
    pos = order[split[np.cumsum(new) - 1]]
    return uf, uk, mv, _Split(what, sf, sk, cols, np.diff(ptr)[sel], pos)


# ---------------------------------------------------------------- families


def plot_once(ctx: _Ctx, prep: _Prep, y: np.ndarray, x: np.ndarray) -> None:
    """``plot_once``: a plot goes to at most one firm.

    Σ_{(f,b) ∈ C: p ∈ b} x_fb + y_occ(p) ≤ 1 for every plot p in some candidate
    parcel; ``y_occ`` is the occupant's ``y`` (absent for vacant plots). A
    leaving occupant (y = 0) frees its plot for applicants; one that stays
    blocks it.
    """
    d = ctx.data
    if not prep.C:
        return
    rep_c, plots = prep.incidence(d)
    order, gptr = _groups(plots, d.n_plots)
    counts = np.diff(gptr)
    ps = np.flatnonzero(counts)
    occ = np.asarray(d.plot_occupant, dtype=np.int64)[ps]
    n = len(ps)
    xs = (_counts_ptr(counts[ps]), x[rep_c[order]], np.ones(len(order)))
    ptr, idx, val = _hcat(n, xs, _one(n, y[np.maximum(occ, 0)], 1.0, occ >= 0))
    ctx.rows("plot_once", {"plot": take(d.plot_ids, ps)}, ptr, idx, val, "<=", 1.0)


def one_parcel(ctx: _Ctx, prep: _Prep, y: np.ndarray, x: np.ndarray) -> None:
    """``one_parcel``: an admitted project gets exactly one parcel.

    Σ_b x_fb − y_f = 0 for every applicant f (an applicant without candidates
    gets ``y_f = 0``). The parcel's size lies in [lmin_f, lmax_f] by the
    construction of C.
    """
    d = ctx.data
    fs = np.flatnonzero(prep.app)
    n = len(fs)
    cnt, cs = prep.pairs_of(fs)
    ptr, idx, val = _hcat(n, (_counts_ptr(cnt), x[cs], np.ones(len(cs))), _one(n, y[fs], -1.0))
    ctx.rows("one_parcel", {"firm": take(d.firm_ids, fs)}, ptr, idx, val, "==", 0.0)


def zone_split(ctx: _Ctx, prep: _Prep, o: np.ndarray, x: np.ndarray, split: _Split) -> None:
    """``zone_split``: an applicant's output counts in the zone (unit) of its parcel.

    o_fz − Σ_{b in z} cap_fb x_fb ≤ 0 for each zone z with a candidate of f, and
    Σ_z o_fz − o_f = 0, with ``cap_fb = min(oreq_f, va_mu_f · a_b)`` (MODEL.md
    writes ``oreq_f``; the tighter coefficient admits the same integer
    solutions). The same split by control unit (``what="unit"``) feeds
    ``unit_emissions``. Built only for applicants with candidates in more than
    one zone (unit); the others use ``o_f`` directly.
    """
    d = ctx.data
    what = split.what
    n = len(split.col)
    if not n:
        return
    names = d.unit_ids if what == "unit" else d.zone_ids
    knames = [*names, "none"]  # key -1 → "none"
    ptr, idx, val = _hcat(
        n,
        _one(n, split.col, 1.0),
        (_counts_ptr(split.counts), x[split.pos], -prep.cap_c[split.pos]),
    )
    keys = {"firm": take(d.firm_ids, split.firm), what: take(knames, split.key)}
    ctx.rows("zone_split", keys, ptr, idx, val, "<=", 0.0)
    fs, per = np.unique(split.firm, return_counts=True)
    m = len(fs)
    ptr, idx, val = _hcat(m, (_counts_ptr(per), split.col, np.ones(n)), _one(m, o[fs], -1.0))
    ctx.rows("zone_split", {"firm": take(d.firm_ids, fs), what: "*"}, ptr, idx, val, "==", 0.0)


def _upgrade_terms(ctx: _Ctx, u: np.ndarray, f: int) -> list[tuple[Any, float]]:
    """Return ``[(u_f, −k_f)]`` when firm f has an upgrade column (``u[f] ≥ 0``), else ``[]``.

    For families written row by row (:meth:`_Ctx.row`, e.g. a family merged from
    another branch); the block families use :func:`_upgrade_part`.
    """
    if u is None or not len(u) or u[f] < 0:
        return []
    return [(int(u[f]), -float(np.asarray(ctx.data.upgrade_output_per_m2, float)[f]))]


def _upgrade_part(ctx: _Ctx, u: np.ndarray, fs: np.ndarray):
    """Return the part ``− k_f · u_f`` of the rows of ``fs`` (firms with an upgrade variable)."""
    n = len(fs)
    if not (u >= 0).any():
        return _one(n, np.zeros(n, dtype=np.int64), 0.0, np.zeros(n, dtype=bool))
    k = np.asarray(ctx.data.upgrade_output_per_m2, float)
    return _one(n, u[fs], -k[fs], u[fs] >= 0)


def output_by_land(
    ctx: _Ctx,
    prep: _Prep,
    y: np.ndarray,
    x: np.ndarray,
    o: np.ndarray,
    u: np.ndarray,
) -> None:
    """``output_by_land``: output is bounded by the land the firm holds.

    Applicants: o_f − Σ_b cap_fb x_fb ≤ 0 with ``cap_fb = min(oreq_f, va_mu_f·a_b)``
    (MODEL.md: ``va_mu_f · Σ_b a_b x_fb``; same integer solutions, tighter LP).
    Existing firms: o_f − g_f · o0_f · y_f ≤ 0 (growth cap g_f on their own land),
    with ``− k_f · u_f`` when the firm may raise its plot ratio (``far_upgrade``).
    An applicant without candidates has no row (``y_f = 0`` forces ``o_f = 0``
    through ``output_request``).
    """
    d = ctx.data
    g_o0 = np.asarray(d.growth_cap, float) * np.asarray(d.o0, float)
    fs = np.flatnonzero(~prep.app | (prep.firm_n > 0))
    n = len(fs)
    cnt, cs = prep.pairs_of(fs)
    ex = ~prep.app[fs]
    ptr, idx, val = _hcat(
        n,
        _one(n, o[fs], 1.0),
        (_counts_ptr(cnt), x[cs], -prep.cap_c[cs]),
        _one(n, y[fs], -g_o0[fs], ex),
        _upgrade_part(ctx, u, fs),
    )
    ctx.rows("output_by_land", {"firm": take(d.firm_ids, fs)}, ptr, idx, val, "<=", 0.0)


def output_request(ctx: _Ctx, prep: _Prep, y: np.ndarray, o: np.ndarray, u: np.ndarray) -> None:
    """``output_request``: no firm gets more than it asked for.

    o_f − oreq_f · y_f ≤ 0 for every firm (and o_f = 0 when the firm is not served);
    a firm raising its plot ratio asks in addition for what the added floor area
    carries (``− k_f · u_f``, ``far_upgrade``).
    """
    d = ctx.data
    oreq = np.asarray(d.oreq, float)
    n = prep.F
    fs = np.arange(n)
    ptr, idx, val = _hcat(n, _one(n, o, 1.0), _one(n, y, -oreq), _upgrade_part(ctx, u, fs))
    ctx.rows("output_request", {"firm": take(d.firm_ids, fs)}, ptr, idx, val, "<=", 0.0)


def _group_rows(
    groups: np.ndarray,
    n_groups: int,
    rows_g: np.ndarray,
    coef: Any,
    caps: np.ndarray,
    members: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``Σ_{i in group g(r)} coef(i, r) · members[i] ≤ caps[r]``, zero terms left out.

    ``groups`` is each member's group, ``rows_g`` the group of each candidate
    row; ``coef(positions, row_of_entry)`` gives the coefficients. A row with
    no nonzero term is dropped when its cap is ≥ 0 (it cannot bind). Returns
    ``(kept rows, ptr, idx, val)``.
    """
    order, gptr = _groups(groups, n_groups)
    lens = np.diff(gptr)[rows_g]
    pos = order[_segments(gptr[rows_g], lens)]
    row_of = np.repeat(np.arange(len(rows_g)), lens)
    val = coef(pos, row_of)
    nz = val != 0
    cnt = np.bincount(row_of[nz], minlength=len(rows_g))
    keep = (cnt > 0) | (caps < 0)
    return np.flatnonzero(keep), _counts_ptr(cnt[keep]), members[pos[nz]], val[nz]


def _zone_rows(
    ctx: _Ctx,
    family: str,
    members: tuple[np.ndarray, np.ndarray, np.ndarray],
    coef_of_firm: np.ndarray,
    caps: np.ndarray,
    extra: np.ndarray | None = None,
) -> None:
    d = ctx.data
    mf, mz, mv = members
    zs = np.flatnonzero(np.isfinite(caps))
    sub = extra if extra is not None else np.zeros(d.n_zones)

    def coef(pos: np.ndarray, row_of: np.ndarray) -> np.ndarray:
        return coef_of_firm[mf[pos]] - sub[zs[row_of]]

    keep, ptr, idx, val = _group_rows(mz, d.n_zones, zs, coef, caps[zs], mv)
    zk = zs[keep]
    ctx.rows(family, {"zone": take(d.zone_ids, zk)}, ptr, idx, val, "<=", caps[zk])


def zone_electricity(ctx: _Ctx, members: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """``zone_electricity``: electricity quota per zone (有序用电 / supply capacity).

    Σ_{f in z} el_f · o_fz ≤ E_z (MWh) for each zone with a finite cap.
    """
    caps = np.asarray(ctx.data.zone_electricity_cap_mwh, float)
    _zone_rows(ctx, "zone_electricity", members, np.asarray(ctx.data.el, float), caps)


def zone_energy(ctx: _Ctx, members: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """``zone_energy``: 能耗双控 total energy per zone.

    Σ_{f in z} en_f · o_fz ≤ G_z (tce) for each zone with a finite cap.
    """
    caps = np.asarray(ctx.data.zone_energy_cap_tce, float)
    _zone_rows(ctx, "zone_energy", members, np.asarray(ctx.data.en, float), caps)


def province_energy(ctx: _Ctx, o: np.ndarray) -> None:
    """``province_energy``: 能耗双控 total energy of the province.

    Σ_f en_f · o_f ≤ G (tce), when G is finite.
    """
    d = ctx.data
    cap = float(d.province_energy_cap_tce)
    if not np.isfinite(cap):
        return
    en = np.asarray(d.en, float)
    keep = en != 0
    ptr = np.array([0, int(keep.sum())], dtype=np.int64)
    ctx.rows("province_energy", {"scope": ["province"]}, ptr, o[keep], en[keep], "<=", cap)


def energy_intensity(ctx: _Ctx, members: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """``energy_intensity``: 能耗双控 intensity (tce per 万元) per zone, linear.

    Σ_{f in z} (en_f − κ_z) · o_fz ≤ 0, i.e. Σ en_f o_fz ≤ κ_z Σ o_fz; the row
    (and its slack) is in tce of energy above what κ_z allows.
    """
    d = ctx.data
    kappa = np.asarray(d.zone_intensity_cap_tce_per_wan, float)
    rhs = np.where(np.isfinite(kappa), 0.0, np.nan)
    _zone_rows(
        ctx,
        "energy_intensity",
        members,
        np.asarray(d.en, float),
        rhs,
        extra=np.nan_to_num(kappa, nan=0.0),
    )


def unit_emissions(ctx: _Ctx, members: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """``unit_emissions``: 三线一单 environmental-quality floor per control unit.

    Σ_{f in u} em_fk · o_fu ≤ cap_uk (t/yr) for each unit u and pollutant k with
    a finite cap; an applicant's output counts in the unit of its parcel.
    """
    d = ctx.data
    mf, mu, mv = members
    caps = np.asarray(d.unit_emission_cap_t, float)
    em = np.asarray(d.em, float)
    real = mu >= 0
    mf, mu, mv = mf[real], mu[real], mv[real]
    ru, rk = np.nonzero(np.isfinite(caps))  # unit-major, pollutant-minor

    def coef(pos: np.ndarray, row_of: np.ndarray) -> np.ndarray:
        return em[mf[pos], rk[row_of]]

    keep, ptr, idx, val = _group_rows(mu, d.n_units, ru, coef, caps[ru, rk], mv)
    keys = {"unit": take(d.unit_ids, ru[keep]), "pollutant": take(POLLUTANTS, rk[keep])}
    ctx.rows("unit_emissions", keys, ptr, idx, val, "<=", caps[ru[keep], rk[keep]])


def _two(
    ctx: _Ctx,
    family: str,
    fs: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    cb: Any,
    sense: str,
    rhs: Any,
) -> None:
    """Rows ``a_f − cb_f · b_f (sense) rhs`` keyed by firm, for the firms ``fs``."""
    n = len(fs)
    ptr, idx, val = _hcat(n, _one(n, a[fs], 1.0), _one(n, b[fs], -np.asarray(cb)[fs]))
    ctx.rows(family, {"firm": take(ctx.data.firm_ids, fs)}, ptr, idx, val, sense, rhs)


def class_floor(ctx: _Ctx, y: np.ndarray, o: np.ndarray) -> None:
    """``class_floor``: priority for high classes.

    o_f − φ_class · oreq_f · y_f ≥ 0 for every firm whose class has φ > 0
    (a served firm gets at least the share φ of its request).
    """
    d = ctx.data
    phi = np.asarray(ctx.params.class_floor, float)[np.asarray(d.firm_class, dtype=np.int64)]
    need = phi * np.asarray(d.oreq, float)
    _two(ctx, "class_floor", np.flatnonzero(need > 0), o, y, need, ">=", 0.0)


def class_cap(ctx: _Ctx, prep: _Prep, o: np.ndarray) -> None:
    """``class_cap``: 倒逼 for low classes.

    o_f ≤ ψ_class · o0_f for existing firms whose class has a finite ψ.
    """
    d = ctx.data
    psi = np.asarray(ctx.params.class_cap, float)[np.asarray(d.firm_class, dtype=np.int64)]
    o0 = np.asarray(d.o0, float)
    fs = np.flatnonzero(~prep.app & np.isfinite(psi))
    n = len(fs)
    ptr, idx, val = _one(n, o[fs], 1.0)
    ctx.rows("class_cap", {"firm": take(d.firm_ids, fs)}, ptr, idx, val, "<=", psi[fs] * o0[fs])


def retain(ctx: _Ctx, prep: _Prep, y: np.ndarray) -> None:
    """``retain``: existing firms stay (y_f = 1) unless the scenario lets them leave.

    y_f = 1 for existing firms with ``may_exit`` false (置换出区 is the exception,
    by class or for industries outside the zone catalogue).
    """
    d = ctx.data
    may_exit = np.asarray(d.may_exit, dtype=bool)
    fs = np.flatnonzero(~prep.app & ~may_exit)
    n = len(fs)
    ptr, idx, val = _one(n, y[fs], 1.0)
    ctx.rows("retain", {"firm": take(d.firm_ids, fs)}, ptr, idx, val, "==", 1.0)


def service_floor(ctx: _Ctx, prep: _Prep, y: np.ndarray, o: np.ndarray) -> None:
    """``service_floor``: a staying firm is not starved.

    o_f − σ · o0_f · y_f ≥ 0 for existing firms (σ > 0, o0_f > 0).
    """
    d = ctx.data
    need = float(ctx.params.service_floor) * np.asarray(d.o0, float)
    _two(ctx, "service_floor", np.flatnonzero(~prep.app & (need > 0)), o, y, need, ">=", 0.0)


def locked(ctx: _Ctx, prep: _Prep, y: np.ndarray, x: np.ndarray) -> None:
    """``locked``: 一企一策 / 一事一议 major projects are served on their parcel.

    y_f ≥ 1 for every locked firm and x_fb ≥ 1 for its locked parcel b (written
    as ≥ rows so the elastic diagnosis can relax them; an empty left-hand side
    when (f, b) is not a candidate pair).
    """
    d = ctx.data
    lp = np.asarray(d.locked_parcel, dtype=np.int64)
    for f in np.flatnonzero(np.asarray(d.locked, dtype=bool)):
        ctx.row("locked", {"firm": d.firm_ids[f]}, [(y[f], 1.0)], ">=", 1.0)
        b = int(lp[f])
        if b < 0:
            continue
        cs = prep.firm_order[prep.firm_ptr[f] : prep.firm_ptr[f + 1]]
        hit = cs[prep.cb[cs] == b]
        terms = [(x[int(hit[0])], 1.0)] if len(hit) else []
        ctx.row("locked", {"firm": d.firm_ids[f], "parcel": d.parcel_ids[b]}, terms, ">=", 1.0)


def _objective_coefficients(ctx: _Ctx, prep: _Prep) -> tuple[np.ndarray, np.ndarray, float]:
    """Return MODEL.md's objective as ``(c_o, c_y, constant)``: Σ c_o o + Σ c_y y + constant."""
    d, p = ctx.data, ctx.params
    w = np.asarray(p.class_weight, float)[np.asarray(d.firm_class, dtype=np.int64)]
    en = np.asarray(d.en, float)
    c_o = w * (p.alpha_va + p.alpha_tax * np.asarray(d.tax_va, float))
    buys = prep.app & (en > p.energy_price_threshold_tce_per_wan)
    c_o = c_o - np.where(buys, p.energy_price_wan_per_tce * en, 0.0)
    reloc = np.where(prep.app, 0.0, p.relocation_cost_wan_per_mu * np.asarray(d.land0_mu, float))
    return c_o, reloc, -float(reloc.sum())


def _linear(
    y: np.ndarray, x: np.ndarray, cy: np.ndarray, cx: np.ndarray
) -> list[tuple[Any, float]]:
    """Terms Σ cy·y + Σ cx·x, zero coefficients left out (no variable repeats)."""
    ky, kx = cy != 0, cx != 0
    return _terms(y[ky], cy[ky]) + _terms(x[kx], cx[kx])


def _same_plots(ctx: _Ctx, prep: _Prep, ref: PlanRef) -> tuple[np.ndarray, np.ndarray, float]:
    """Σ_p same_p as ``(cy, cx, constant)``: the plots assigned as in ``ref`` (module docstring)."""
    d = ctx.data
    a = ref.plot_firm(d)
    occ = np.asarray(d.plot_occupant, dtype=np.int64)
    cy = np.zeros(prep.F)
    cx = np.zeros(prep.C)
    has = occ >= 0
    np.add.at(cy, occ[has & (a == occ)], 1.0)
    np.add.at(cy, occ[has & (a < 0)], -1.0)
    rep_c, plots = prep.incidence(d)
    np.add.at(cx, rep_c[a[plots] == prep.cf[rep_c]], 1.0)
    np.add.at(cx, rep_c[a[plots] < 0], -1.0)
    return cy, cx, float((a < 0).sum())


def _same_firms(ctx: _Ctx, prep: _Prep, ref: PlanRef) -> tuple[np.ndarray, np.ndarray, float]:
    """Σ_f same_f as ``(cy, cx, constant)``: the firms whose outcome is as in ``ref``.

    same_f = x_fb for an applicant on parcel b in ``ref`` (0 when (f, b) is no
    longer a candidate pair), 1 − y_f for one not admitted; y_f or 1 − y_f for
    an existing firm that stays or leaves in ``ref``.
    """
    cy = np.where(ref.served, 1.0, -1.0)
    const = float((~ref.served).sum())
    cx = np.zeros(prep.C)
    on_parcel = prep.app & ref.served
    cy[on_parcel] = 0.0
    hit = on_parcel[prep.cf] & (ref.parcel[prep.cf] == prep.cb)
    cx[hit] = 1.0
    return cy, cx, const


def objective_floor(
    ctx: _Ctx,
    prep: _Prep,
    y: np.ndarray,
    o: np.ndarray,
    floor: float,
    land_terms: list[tuple[Any, float]] | None = None,
    land_constant: float = 0.0,
) -> None:
    """``objective_floor``: the plan is near-optimal.

    Σ_f c_f o_f + Σ_{existing} ρ L0_f y_f ≥ floor + Σ ρ L0_f, i.e. MODEL.md's
    objective (constant included) ≥ ``floor`` = best − X·|best| for the
    alternatives within X of the best plan.
    """
    c_o, c_y, constant = _objective_coefficients(ctx, prep)
    ko, ky = c_o != 0, c_y != 0
    terms = _terms(o[ko], c_o[ko]) + _terms(y[ky], c_y[ky]) + list(land_terms or [])
    ctx.row("objective_floor", None, terms, ">=", float(floor) - constant - land_constant)


def distance_to(
    ctx: _Ctx, prep: _Prep, y: np.ndarray, x: np.ndarray, dmin: Any, ref: PlanRef, k: int
) -> None:
    """``distance_to[plan=k]``: ``dmin`` is at most the distance to plan k.

    dmin ≤ d_k = P − Σ_p same_p^k, written dmin + Σ_p same_p^k ≤ P (the number
    of plots whose assigned firm differs from plan k; module docstring).
    """
    cy, cx, const = _same_plots(ctx, prep, ref)
    terms = [(dmin, 1.0), *_linear(y, x, cy, cx)]
    ctx.row("distance_to", {"plan": str(k)}, terms, "<=", float(ctx.data.n_plots) - const)


def change_limit(
    ctx: _Ctx, prep: _Prep, y: np.ndarray, x: np.ndarray, ref: PlanRef, max_changes: int
) -> None:
    """``change_limit``: at most N changes against the approved plan.

    changes = (P − Σ_p same_p) + (F − Σ_f same_f) ≤ N: plots whose assigned
    firm differs plus firms whose outcome differs (an existing firm that
    leaves or stays against the plan, an applicant on another parcel or
    none), written Σ_p same_p + Σ_f same_f ≥ P + F − N. With N = 0 every
    plot and firm is as approved.
    """
    py, px, pc = _same_plots(ctx, prep, ref)
    fy, fx, fc = _same_firms(ctx, prep, ref)
    d = ctx.data
    rhs = float(d.n_plots + d.n_firms - max_changes) - pc - fc
    ctx.row("change_limit", None, _linear(y, x, py + fy, px + fx), ">=", rhs)


def objective(
    ctx: _Ctx,
    prep: _Prep,
    y: np.ndarray,
    o: np.ndarray,
    x: np.ndarray | None = None,
    analysis: Analysis | None = None,
    dmin: Any = None,
    land_terms: list[tuple[Any, float]] | None = None,
    land_constant: float = 0.0,
) -> float:
    """Set the objective of MODEL.md; return its constant.

    max Σ_f w_class(f) (α_va + α_tax tax_va_f) o_f − Σ_{existing} ρ L0_f (1 − y_f)
        − Σ_{applicant, en_f > τ} π en_f o_f  [− penalty · Σ slacks in elastic mode]
        [− κ · changes against the approved plan, κ = ``change_cost_wan``]
        + ``land_terms``: − Σ_f c_f u_f (``far_upgrade``), + Σ s I_b x_fb (``idle_reuse``)

    With ``distance_refs`` the objective is ``max dmin`` instead (the smallest
    distance to the earlier plans; ``objective_floor`` keeps it near-optimal),
    or, with ``distance_weight_wan`` = w, the objective above ``+ w · dmin``.
    Terms on the same column add up (the elastic slacks' penalties are added
    when their rows are made).
    """
    weight = analysis.distance_weight_wan if analysis is not None else None
    if dmin is not None and weight is None:
        ctx.objective_only(dmin)
        return 0.0
    c_o, reloc, constant = _objective_coefficients(ctx, prep)
    constant += land_constant  # + w per zone sure to reach A class (``a_class_target``)
    cy = reloc
    if analysis is not None and analysis.approved is not None and analysis.change_cost_wan:
        kappa = float(analysis.change_cost_wan)
        py, px, pc = _same_plots(ctx, prep, analysis.approved)
        fy, fx, fc = _same_firms(ctx, prep, analysis.approved)
        cy = cy + kappa * (py + fy)
        if x is not None:
            ctx.objective_terms(x, kappa * (px + fx))
        constant -= kappa * (ctx.data.n_plots + ctx.data.n_firms - pc - fc)
    ctx.objective_terms(o, c_o)
    ctx.objective_terms(y, cy)
    if land_terms:
        cols, coefs = zip(*land_terms, strict=True)
        ctx.objective_terms(np.asarray(cols, np.int64), np.asarray(coefs, float))
    if dmin is not None and weight:
        ctx.objective_terms([dmin], [float(weight)])
    ctx.objective_constant(constant)
    return constant


# ---------------------------------------------------------------- land measures (issue 20)


def _upgradable(data: ModelData, prep: _Prep) -> np.ndarray:
    """Firms that may raise their plot ratio: existing, headroom ``H_f > 0``, ``k_f > 0``.

    Prepare sets both to 0 for firms whose class the county rule does not admit.
    """
    if data.floor_headroom_m2 is None or data.upgrade_output_per_m2 is None:
        return np.zeros(prep.F, dtype=bool)
    head = np.asarray(data.floor_headroom_m2, float)
    k = np.asarray(data.upgrade_output_per_m2, float)
    return ~prep.app & (head > 0) & (k > 0)


def upgrade_variables(ctx: _Ctx, prep: _Prep, may: np.ndarray) -> np.ndarray:
    """Create ``u_f`` (m² of floor area added, 0 ≤ u_f ≤ H_f) for the firms in ``may``.

    Returns the column of ``u_f`` per firm (−1 for firms without one).
    """
    u = np.full(prep.F, -1, dtype=np.int64)
    fs = np.flatnonzero(may)
    if len(fs):
        head = np.asarray(ctx.data.floor_headroom_m2, float)
        u[fs] = ctx.cols(lambda: [f"u_{f}" for f in fs.tolist()], 0.0, head[fs], len(fs))
    return u


def far_upgrade(ctx: _Ctx, y: np.ndarray, u: np.ndarray) -> None:
    """``far_upgrade``: an eligible existing firm grows in place by raising its plot ratio.

    u_f − H_f · y_f ≤ 0 (m²) for every firm with an upgrade variable: the floor
    area added is at most the headroom ``H_f = Σ_{p of f} area_p · (far_max_p − far_p)``
    and nothing is built by a firm that leaves. The added floor area carries
    output ``k_f · u_f`` (``k_f = e · o0_f / floor area now``, e the rule's output
    elasticity), which enters ``output_by_land`` and ``output_request`` of the
    firm; the objective pays ``c_f · u_f`` (annualised cost per m²). The output
    uses the zone's quotas like any other, so upgrades compete with projects on
    new land for electricity, energy and emissions, but take no land.
    """
    fs = np.flatnonzero(u >= 0)
    if len(fs):
        head = np.asarray(ctx.data.floor_headroom_m2, float)
        _two(ctx, "far_upgrade", fs, u, y, head, "<=", 0.0)


def idle_reuse(ctx: _Ctx, prep: _Prep, x: np.ndarray) -> list[tuple[Any, float]]:
    """``idle_reuse``: a project placed on an idle plant reuses its floor area (盘活闲置厂房).

    No rows: the family is a term of the objective, + Σ_{(f,b) ∈ C} s · I_b · x_fb,
    with I_b the idle floor area on parcel b (m², Σ area · far over its idle
    plots) and s the building cost saved per m² and year (rule file). A project
    takes a parcel whole, so the floor area it reuses is I_b; with the family off
    an idle plot is vacant land only (MODEL.md). Returns the objective terms.
    """
    d = ctx.data
    if d.parcel_idle_floor_m2 is None or not prep.C or d.idle_saving_wan_per_m2 <= 0:
        return []
    gain = float(d.idle_saving_wan_per_m2) * np.asarray(d.parcel_idle_floor_m2, float)[prep.cb]
    keep = gain > 0
    return _terms(x[keep], gain[keep])


def upgrade_cost_terms(ctx: _Ctx, u: np.ndarray) -> list[tuple[Any, float]]:
    """Objective terms of ``far_upgrade``: − c_f · u_f (annualised cost per m² added)."""
    d = ctx.data
    if d.upgrade_cost_wan_per_m2 is None:
        return []
    cost = np.asarray(d.upgrade_cost_wan_per_m2, float)
    fs = np.flatnonzero((u >= 0) & (cost != 0))
    return _terms(u[fs], -cost[fs])


def land_supply(ctx: _Ctx, prep: _Prep, x: np.ndarray) -> tuple[list, np.ndarray]:
    """``land_supply``: each admitted project gets one supply mode the county rule permits.

    For an applicant f with candidates and permitted modes M_f (``w_fm`` finite):
    one row Σ_{m∈M_f} q_fm − Σ_b a_b x_fb = 0 (mu), ``q_fm ≥ 0`` the project's land
    under mode m; the objective gains Σ w_fm q_fm, w (万元 per mu and year) the land
    income over the plan period plus the discounted value of the land returning at
    term end (``allocator.land_supply``). The chosen mode is the one holding the
    land (:func:`allocator.solve.chosen_modes`).

    No binary per mode: for fixed x the rows are one equality per project over
    q ≥ 0, whose optimal vertex puts all the project's land on its best permitted
    mode, so binaries z_fm (Σ_m z_fm = y_f, q_fm ≤ A_f z_fm) give the same plans and
    objective; they cost rows, and, being integers besides y and x, they turn off the
    solver's LP-rounding start (docs/model.md: about 10× the sample's solve time).
    Returns the objective terms and the columns of q (F × len(SUPPLY_MODES), −1 where
    not built). One block: the q part of a row, then its x part.
    """
    d = ctx.data
    F = prep.F
    w_all = d.supply_weight_wan_per_mu
    q = np.full((F, len(SUPPLY_MODES)), -1, dtype=np.int64)
    if w_all is None or not prep.C:
        return [], q
    w_all = np.asarray(w_all, float)
    q = np.full(w_all.shape, -1, dtype=np.int64)
    ok = np.isfinite(w_all)
    fs = np.flatnonzero(prep.app & (prep.firm_n > 0) & ok.any(axis=1))
    if not len(fs):
        return [], q
    n_pairs, pairs = prep.pairs_of(fs)
    area = np.asarray(d.parcel_area_mu, float)[prep.cb]
    a_max = np.maximum.reduceat(area[pairs], _counts_ptr(n_pairs)[:-1])
    mask = np.zeros_like(ok)
    mask[fs] = ok[fs]
    qf, qm = np.nonzero(mask)  # firm by firm, modes in order
    n_modes = mask[fs].sum(axis=1)
    a_of = np.repeat(a_max, n_modes)
    cols = ctx.cols(
        lambda: [f"q_{f}_{m}" for f, m in zip(qf.tolist(), qm.tolist(), strict=True)],
        0.0,
        a_of,
        len(qf),
    )
    q[qf, qm] = cols
    n = len(fs)
    ptr, idx, val = _hcat(
        n,
        (_counts_ptr(n_modes), cols, np.ones(len(cols))),
        (_counts_ptr(n_pairs), x[pairs], -area[pairs]),
    )
    ctx.rows("land_supply", {"firm": take(d.firm_ids, fs)}, ptr, idx, val, "==", 0.0)
    w = w_all[qf, qm]
    keep = w != 0
    return _terms(cols[keep], w[keep]), q


def use_share_min(ctx: _Ctx, prep: _Prep, x: np.ndarray) -> None:
    """``use_share_min``: a least share of a use in the land admitted in a zone (混合布局).

    For zone z and use u with share s > 0: Σ_{(f,b)∈C, b in z} (1[use_f = u] − s) a_b x_fb ≥ 0,
    i.e. the area of the admitted projects of use u in z is at least s × all the area
    admitted in z (mu; existing firms' land is not counted). A firm without a use is
    industrial. No row where z has no candidate pair.
    """
    d = ctx.data
    share = d.use_share_min
    if share is None or not prep.C:
        return
    share = np.asarray(share, float)
    use = (
        np.zeros(prep.F, dtype=np.int64)
        if d.firm_use is None
        else np.asarray(d.firm_use, dtype=np.int64)
    )
    area = np.asarray(d.parcel_area_mu, float)[prep.cb]
    pair_use = use[prep.cf]
    order, ptr = _groups(prep.cz, d.n_zones)
    zi, ui = np.nonzero(share > 0)  # zone by zone, uses in order
    counts = ptr[zi + 1] - ptr[zi]
    zi, ui, counts = zi[counts > 0], ui[counts > 0], counts[counts > 0]
    if not len(zi):
        return
    pairs = order[_segments(ptr[zi], counts)]
    is_use = (pair_use[pairs] == np.repeat(ui, counts)).astype(float)
    coef = area[pairs] * (is_use - np.repeat(share[zi, ui], counts))
    keep = coef != 0
    row_ptr = np.zeros(len(zi) + 1, dtype=np.int64)
    np.cumsum(np.add.reduceat(keep.astype(np.int64), _counts_ptr(counts)[:-1]), out=row_ptr[1:])
    keys = {"zone": take(d.zone_ids, zi), "use": take(USES, ui)}
    ctx.rows("use_share_min", keys, row_ptr, x[pairs[keep]], coef[keep], ">=", 0.0)


# ---------------------------------------------------------------- zones' assessment, 山区26县


def forced_min_output(data: ModelData, params: ModelParams) -> np.ndarray:
    """Least output (万元) of each firm the model must serve, 0 for the others.

    Served for sure are existing firms that may not leave (``retain``) and locked
    projects (``locked``); their output is at least the class floor φ · oreq and,
    for existing firms, the service floor σ · o0 (when those families are on).
    """
    d = data
    applicant = np.asarray(d.firm_applicant, bool)
    forced = (~applicant & ~np.asarray(d.may_exit, bool)) | np.asarray(d.locked, bool)
    floor = np.zeros(d.n_firms)
    if params.on("class_floor"):
        cls = np.asarray(d.firm_class, dtype=np.int64)
        floor = np.maximum(floor, np.asarray(params.class_floor, float)[cls] * d.oreq)
    if params.on("service_floor"):
        floor = np.maximum(floor, np.where(applicant, 0.0, params.service_floor * d.o0))
    return np.where(forced, floor, 0.0)


def _output_upper(data: ModelData, params: ModelParams, prep: _Prep) -> np.ndarray:
    """Upper bound of each firm's output ``o_f`` (万元), plot-ratio upgrades included."""
    o_ub = _o_upper(data, prep)
    may_upgrade = _upgradable(data, prep) & params.on("far_upgrade")
    if may_upgrade.any():
        extra = np.asarray(data.upgrade_output_per_m2, float) * np.asarray(
            data.floor_headroom_m2, float
        )
        o_ub = o_ub + np.where(may_upgrade, extra, 0.0)
    return o_ub


def _zone_land(data: ModelData, prep: _Prep) -> tuple[np.ndarray, np.ndarray]:
    """Land (亩) each firm's own plots and each candidate's parcel add to each zone.

    Returns ``(firm_land (F, Z), pair_land (C, Z))``: an existing firm counts the
    plots it occupies, a pair the plots of its parcel, each in the plot's zone
    (the zone table's developed land is the area of the plots holding a firm).
    """
    d = data
    occ = np.asarray(d.plot_occupant, dtype=np.int64)
    pz = np.asarray(d.plot_zone, dtype=np.int64)
    area = np.asarray(d.plot_area_mu, float)
    held = (occ >= 0) & (pz >= 0)
    held &= ~prep.app[np.maximum(occ, 0)]
    cells = occ[held] * prep.Z + pz[held]  # (firm, zone) as one index: one bincount
    firm_land = np.bincount(cells, area[held], prep.F * prep.Z).astype(float)
    pair_land = np.zeros(prep.C * prep.Z)
    if prep.C:
        rep_c, plots = prep.incidence(d)
        ok = pz[plots] >= 0
        cells = rep_c[ok] * prep.Z + pz[plots][ok]
        pair_land = np.bincount(cells, area[plots][ok], prep.C * prep.Z).astype(float)
    return firm_land.reshape(prep.F, prep.Z), pair_land.reshape(prep.C, prep.Z)


def _knapsack_most(
    gain: np.ndarray, use: np.ndarray, low: np.ndarray, high: np.ndarray, cap: float
) -> float:
    """Most of Σ gain·o with low ≤ o ≤ high and Σ use·o ≤ cap (a fractional knapsack; exact LP).

    Outputs start at ``low``; items of use ≤ 0 fill at once (a negative use, as
    in the intensity row Σ (en − κ) o ≤ 0, makes room), then what the cap leaves
    goes to the best gain per unit of use first (whole items by the cumulative use,
    then a share of the next: no loop per item). ``inf`` when the cap is not finite.
    """
    if not np.isfinite(cap):
        return float("inf")
    total = float(gain @ low)
    room = high - low
    free = (use <= 0) & (gain > 0)
    total += float(gain[free] @ room[free])
    left = cap - float(use @ low) - float(use[free] @ room[free])
    if left <= 0:
        return total
    cand = np.flatnonzero((use > 0) & (gain > 0) & (room > 0))
    order = cand[np.argsort(-(gain[cand] / use[cand]), kind="stable")]
    # fill by the cumulative use: items whose room fits whole, then a share of the next
    filled = np.cumsum(use[order] * room[order])
    whole = int(np.searchsorted(filled, left, side="right"))
    total += float(gain[order[:whole]] @ room[order[:whole]])
    if whole < len(order):
        i = order[whole]
        rest = left - (float(filled[whole - 1]) if whole else 0.0)
        total += float(gain[i]) * min(float(room[i]), rest / float(use[i]))
    return total


def a_class_bounds(data: ModelData, params: ModelParams) -> tuple[np.ndarray, np.ndarray]:
    """Least and most each zone's A-class indicators can be under any plan: ``(low, high)``.

    Both (Z, 3) along :data:`models.data.A_CLASS_INDICATORS` (tax 万元, value
    added 万元, developed land 亩). ``low`` counts the firms served for sure at
    their floors (:func:`forced_min_output`) and the land they hold or are locked
    on. ``high`` is the least of: every existing firm of the zone at its output
    bound and every applicant at its largest candidate there; the same outputs
    under the zone's energy, electricity and intensity caps, one at a time (a
    fractional knapsack by tax or value added per tce / MWh, floors first); and
    for land, the plots firms hold plus the open plots candidates cover, at most
    each applicant's largest parcel there. Presolve arithmetic: a zone whose
    ``high`` misses a threshold cannot reach A class, one whose ``low`` meets
    every threshold reaches it whatever the plan.
    """
    d = data
    prep = _Prep(d)
    Z = prep.Z
    tax_va = np.asarray(d.tax_va, float)
    o_ub = _output_upper(d, params, prep)
    low_o = forced_min_output(d, params)
    ez = np.where(prep.app, -1, np.asarray(d.firm_zone, dtype=np.int64))
    lp = np.asarray(d.locked_parcel, dtype=np.int64)
    locked_app = prep.app & np.asarray(d.locked, bool) & (lp >= 0)
    lz = np.where(locked_app, np.asarray(d.parcel_zone, dtype=np.int64)[np.maximum(lp, 0)], -1)
    best = np.zeros((prep.F, Z))  # each applicant at most once per zone: its largest candidate
    if prep.C:
        np.maximum.at(best, (prep.cf, prep.cz), prep.cap_c)
    low = np.zeros((Z, 3))
    high = np.zeros((Z, 3))
    caps = []
    if params.on("zone_energy"):
        caps.append((np.asarray(d.en, float), np.asarray(d.zone_energy_cap_tce, float)))
    if params.on("zone_electricity"):
        caps.append((np.asarray(d.el, float), np.asarray(d.zone_electricity_cap_mwh, float)))
    kappa = np.asarray(d.zone_intensity_cap_tce_per_wan, float)
    for z in range(Z):
        ub = np.where(ez == z, o_ub, best[:, z])
        lo = np.where((ez == z) | (lz == z), low_o, 0.0)
        members = np.flatnonzero(ub > 0)
        ub, lo = ub[members], np.minimum(lo[members], ub[members])
        low[z, 0], low[z, 1] = float(tax_va[members] @ lo), float(lo.sum())
        for i, gain in ((0, tax_va[members]), (1, np.ones(len(members)))):
            most = float(gain @ ub)
            for use, cap in caps:
                most = min(most, _knapsack_most(gain, use[members], lo, ub, float(cap[z])))
            if params.on("energy_intensity") and np.isfinite(kappa[z]):
                use = np.asarray(d.en, float)[members] - kappa[z]
                most = min(most, _knapsack_most(gain, use, lo, ub, 0.0))
            high[z, i] = most
    occ = np.asarray(d.plot_occupant, dtype=np.int64)
    pz = np.asarray(d.plot_zone, dtype=np.int64)
    area = np.asarray(d.plot_area_mu, float)
    existing_occ = (occ >= 0) & ~prep.app[np.maximum(occ, 0)]
    covered = np.zeros(d.n_plots, dtype=bool)
    if prep.C:
        covered[prep.incidence(d)[1]] = True
    forced = existing_occ & ~np.asarray(d.may_exit, bool)[np.maximum(occ, 0)]
    for f in np.flatnonzero(locked_app):
        forced[d.parcel_plots(int(lp[f]))] = True
    ok = pz >= 0
    held = np.bincount(pz[ok], (area * existing_occ)[ok], minlength=Z)
    open_covered = np.bincount(pz[ok], (area * (covered & ~existing_occ))[ok], minlength=Z)
    most_parcel = np.zeros((prep.F, Z))
    if prep.C:
        _, pair_land = _zone_land(d, prep)
        np.maximum.at(most_parcel, prep.cf, pair_land)
    # projects add at most their largest parcel each (on a freed plot they only replace land)
    high[:, 2] = held + np.minimum(open_covered, most_parcel.sum(axis=0))
    low[:, 2] = np.bincount(pz[ok], (area * forced)[ok], minlength=Z)
    return low, high


def _a_class_settled(need: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per zone: 1 reaches A class whatever the plan, 0 cannot reach it, −1 the plan decides."""
    tol = 1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(need)))
    has = np.isfinite(need)
    cannot = (has & (high < need - tol)).any(axis=1)
    sure = (~has | (low >= need - tol)).all(axis=1)
    return np.where(cannot, 0, np.where(sure, 1, -1)).astype(np.int64)


def a_class_reach(
    ctx: _Ctx,
    prep: _Prep,
    y: np.ndarray,
    x: np.ndarray,
    members: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """``a_class_reach``: a zone counted as reaching A class meets every threshold.

    For each zone z whose reach the plan decides, a binary r_z and one row per
    indicator i with a threshold N_zi (the A-class value × the zone's approved km²):

        LHS_zi − (N_zi − L_zi) · r_z ≥ L_zi

    with LHS_tax = Σ_{f in z} tax_va_f · o_fz, LHS_va = Σ_{f in z} o_fz (the zone
    sums ``zone_energy`` uses) and LHS_land = Σ_f A_fz y_f + Σ_{(f,b)} A_bz x_fb
    (the plots each firm holds and each parcel covers in z, 亩). L_zi is the
    indicator's least value under any plan (:func:`a_class_bounds`), so the row
    holds at r_z = 0 and is the tightest big-M form at r_z = 1 (its coefficient
    is the gap the plan must close, not the threshold). Rows with L_zi ≥ N_zi
    are left out. Presolve arithmetic fixes r_z without a variable: 0 when even
    every candidate admitted misses a threshold, 1 when the forced part alone
    meets them all. Returns ``(r, settled)``: ``r`` the column of r_z, −1 where
    settled. One block of rows (at most three per zone), its terms as arrays.
    """
    d = ctx.data
    need = np.asarray(d.zone_a_class_need, float)
    low, high = a_class_bounds(d, ctx.params)
    settled = _a_class_settled(need, low, high)
    r = np.full(prep.Z, -1, dtype=np.int64)
    free = np.flatnonzero(settled < 0)
    if not len(free):
        return r, settled
    r[free] = ctx.cols(lambda: [f"r_{z}" for z in free.tolist()], 0.0, 1.0, len(free), True)
    mf, mz, mv = members
    order, ptr = _groups(mz, prep.Z)
    tax_va = np.asarray(d.tax_va, float)
    firm_land, pair_land = _zone_land(d, prep)
    zs, inds, idx, val, rhs = [], [], [], [], []
    for z in free.tolist():
        pos = order[ptr[z] : ptr[z + 1]]
        for i, name in enumerate(A_CLASS_INDICATORS):
            n_zi, l_zi = float(need[z, i]), float(low[z, i])
            if not np.isfinite(n_zi) or l_zi >= n_zi:
                continue
            if name == "developed_land":
                ky, kx = np.flatnonzero(firm_land[:, z]), np.flatnonzero(pair_land[:, z])
                cols = [y[ky], x[kx], r[z : z + 1]]
                coefs = [firm_land[ky, z], pair_land[kx, z], [-(n_zi - l_zi)]]
            else:
                coef = tax_va[mf[pos]] if name == "tax" else np.ones(len(pos))
                keep = coef != 0
                cols = [mv[pos][keep], r[z : z + 1]]
                coefs = [coef[keep], [-(n_zi - l_zi)]]
            zs.append(z)
            inds.append(i)
            idx.append(np.concatenate(cols))
            val.append(np.concatenate(coefs))
            rhs.append(l_zi)
    if zs:
        row_ptr = _counts_ptr(np.array([len(v) for v in idx], dtype=np.int64))
        keys = {
            "zone": take(d.zone_ids, np.array(zs)),
            "indicator": take(A_CLASS_INDICATORS, np.array(inds)),
        }
        ctx.rows(
            "a_class_reach", keys, row_ptr, np.concatenate(idx), np.concatenate(val), ">=", rhs
        )
    return r, settled


def a_class_target(ctx: _Ctx, r: np.ndarray, settled: np.ndarray) -> list[tuple[Any, float]]:
    """``a_class_target``: at least n zones reach the A-class thresholds (浙政办发〔2023〕3号).

    Σ_{z undecided} r_z ≥ n − #{zones sure to reach} (one row, ``zone`` units;
    relaxed by + s in elastic mode, so a diagnosis says how many zones are
    missing). Built when ``a_class_target_zones`` = n > 0 and the zones sure to
    reach are fewer than n; an empty left-hand side (no zone can still reach)
    keeps the row as ``0 ≥ k`` for the diagnosis. With a weight w
    (``a_class_weight_wan``) the objective gains + w · Σ r_z instead of, or as
    well as, the row: returns those objective terms.
    """
    d = ctx.data
    free = r[r >= 0].tolist()
    n = int(d.a_class_target_zones)
    sure = int((settled == 1).sum())
    if n > 0 and n > sure:
        terms = [(v, 1.0) for v in free]
        ctx.row("a_class_target", {"scope": "province"}, terms, ">=", float(n - sure))
    w = float(d.a_class_weight_wan)
    return [(v, w) for v in free] if w > 0 else []


def a_class_constant(data: ModelData, settled: np.ndarray) -> float:
    """Objective constant of the A-class weight: w per zone sure to reach A class.

    With it the objective counts w for every zone that reaches A class, the sure
    ones included, as the invariant checker recounts them from the plan.
    """
    return float(data.a_class_weight_wan) * float((np.asarray(settled) == 1).sum())


def _mountain_pair(data: ModelData, prep: _Prep) -> np.ndarray:
    """Per candidate pair: the project counts as 山区26县 (its firm is, or its parcel's zone)."""
    firm = np.asarray(data.firm_mountain, bool) if data.firm_mountain is not None else None
    zone = np.asarray(data.zone_mountain, bool) if data.zone_mountain is not None else None
    out = np.zeros(prep.C, dtype=bool)
    if firm is not None and prep.C:
        out |= firm[prep.cf]
    if zone is not None and prep.C:
        out |= zone[prep.cz]
    return out


def mountain_land(ctx: _Ctx, prep: _Prep, x: np.ndarray) -> None:
    """``mountain_land``: land kept free for 山区26县 projects (山区26县开放平台共建).

    Σ_{(f,b) ∈ C, not 26县} a_b · x_fb ≤ A_open − R (亩): projects that are not
    26县 projects (firm neither from nor partnered with a 26县 county, parcel
    not in a 26县 county's zone) take at most the province's open land
    (vacant and idle plots the red line does not exclude) less the reserve R,
    so at least R 亩 of it is left to 26县 projects or stays free. A negative
    right-hand side (R above the open land) is kept, for the diagnosis.
    """
    d = ctx.data
    reserve = float(d.mountain_reserve_mu)
    if not np.isfinite(reserve):
        return
    other = ~_mountain_pair(d, prep)
    terms = _terms(x[other], prep.ca[other]) if prep.C else []
    rhs = float(d.mountain_open_land_mu) - reserve
    ctx.row("mountain_land", {"scope": "province"}, terms, "<=", rhs)


def mountain_energy(
    ctx: _Ctx, members: tuple[np.ndarray, np.ndarray, np.ndarray], o: np.ndarray
) -> None:
    """``mountain_energy``: energy quota kept for 山区26县 firms.

    Σ_{f not 26县, z not 26县} en_f · o_fz ≤ G − R (tce): firms that are not from,
    partnered with or located in a 26县 county use at most the energy quota G
    (the province cap, else the sum of the finite zone caps) less the reserve
    R. An applicant's output counts by the zone of its parcel (``zone_split``),
    an existing firm's by its own flag (which includes its zone's county).
    """
    d = ctx.data
    reserve = float(d.mountain_reserve_tce)
    if not np.isfinite(reserve):
        return
    firm = (
        np.asarray(d.firm_mountain, bool)
        if d.firm_mountain is not None
        else np.zeros(d.n_firms, bool)
    )
    zone = (
        np.asarray(d.zone_mountain, bool)
        if d.zone_mountain is not None
        else np.zeros(d.n_zones, bool)
    )
    en = np.asarray(d.en, float)
    mf, mz, mv = members
    other = ~firm[mf] & ~zone[mz] & (en[mf] != 0)
    terms = _terms(mv[other], en[mf[other]])
    # existing firms outside every zone (no zone membership) still use energy
    app = np.asarray(d.firm_applicant, bool)
    ez = np.asarray(d.firm_zone, dtype=np.int64)
    loose = np.flatnonzero(~app & (ez < 0) & ~firm & (en != 0))
    terms += _terms(o[loose], en[loose])
    rhs = float(d.mountain_energy_tce) - reserve
    ctx.row("mountain_energy", {"scope": "province"}, terms, "<=", rhs)


# ---------------------------------------------------------------- build


def build(
    data: ModelData,
    params: ModelParams,
    *,
    relax_land: bool = False,
    analysis: Analysis | None = None,
) -> Built:
    """Build the allocation MIP of MODEL.md for ``data`` under ``params``.

    ``relax_land=True`` leaves out ``plot_once`` (used by the solver for a
    cheap relaxation bound; never for a plan). ``analysis`` adds the analysis
    families (``objective_floor``, ``distance_to``, ``change_limit``) and
    objective terms of :class:`Analysis`.

    Raises ``ValueError`` for malformed data (``ModelData.validate``); every
    scenario outcome (infeasible, tight) is for the solver to report.
    """
    t0 = time.perf_counter()
    data.validate()
    ctx = _Ctx(data, params)
    prep = _Prep(data)
    F, C = prep.F, prep.C

    o_ub = _output_upper(data, params, prep)
    may_upgrade = _upgradable(data, prep) & params.on("far_upgrade")
    # y_f, o_f interleaved (y_0, o_0, y_1, …), then x_c: the order of the names
    yo_lb = np.zeros(2 * F)
    yo_ub = np.ones(2 * F)
    yo_ub[1::2] = o_ub
    yo = ctx.cols(
        lambda: [f"{k}_{f}" for f in range(F) for k in ("y", "o")],
        yo_lb,
        yo_ub,
        2 * F,
        binary=np.tile([True, False], F),
    )
    y, o = yo[0::2], yo[1::2]
    x = ctx.cols(lambda: [f"x_{c}" for c in range(C)], 0.0, 1.0, C, binary=True)
    u = upgrade_variables(ctx, prep, may_upgrade)

    on = params.on
    a_class_on = on("a_class_target") and data.zone_a_class_need is not None
    energy_reserve = on("mountain_energy") and np.isfinite(data.mountain_reserve_tce)
    zone_needed = (
        (on("zone_electricity") and np.isfinite(data.zone_electricity_cap_mwh).any())
        or (on("zone_energy") and np.isfinite(data.zone_energy_cap_tce).any())
        or (on("energy_intensity") and np.isfinite(data.zone_intensity_cap_tce_per_wan).any())
        or a_class_on
        or energy_reserve
    )
    unit_needed = on("unit_emissions") and bool(np.isfinite(data.unit_emission_cap_t).any())

    existing = np.flatnonzero(~prep.app)
    ez = np.asarray(data.firm_zone, dtype=np.int64)[existing]
    eu = np.asarray(data.firm_unit, dtype=np.int64)[existing]
    e = np.zeros(0, np.int64)
    zone_m, unit_m = (e, e, e), (e, e, e)
    zsplit = usplit = _Split("zone", e, e, e, e, e)
    if zone_needed:
        af, az, av, zsplit = _split_members(ctx, prep, o, prep.cz, data.n_zones, "zone")
        has = ez >= 0
        zone_m = (
            np.concatenate([existing[has], af]),
            np.concatenate([ez[has], az]),
            np.concatenate([o[existing[has]], av]),
        )
    if unit_needed:
        af, au, av, usplit = _split_members(ctx, prep, o, prep.cu, data.n_units, "unit")
        has = eu >= 0
        unit_m = (
            np.concatenate([existing[has], af]),
            np.concatenate([eu[has], au]),
            np.concatenate([o[existing[has]], av]),
        )

    if not relax_land:
        plot_once(ctx, prep, y, x)
    one_parcel(ctx, prep, y, x)
    zone_split(ctx, prep, o, x, zsplit)
    zone_split(ctx, prep, o, x, usplit)
    output_by_land(ctx, prep, y, x, o, u)
    output_request(ctx, prep, y, o, u)
    if on("zone_electricity") and zone_needed:
        zone_electricity(ctx, zone_m)
    if on("zone_energy") and zone_needed:
        zone_energy(ctx, zone_m)
    if on("province_energy"):
        province_energy(ctx, o)
    if on("energy_intensity") and zone_needed:
        energy_intensity(ctx, zone_m)
    if unit_needed:
        unit_emissions(ctx, unit_m)
    if on("class_floor"):
        class_floor(ctx, y, o)
    if on("class_cap"):
        class_cap(ctx, prep, o)
    retain(ctx, prep, y)
    if on("service_floor"):
        service_floor(ctx, prep, y, o)
    locked(ctx, prep, y, x)
    if on("far_upgrade"):
        far_upgrade(ctx, y, u)
    land_terms = upgrade_cost_terms(ctx, u)
    land_terms += idle_reuse(ctx, prep, x) if on("idle_reuse") else []
    q = np.full((0, 0), -1, dtype=np.int64)
    if on("land_supply"):
        supply_terms, q = land_supply(ctx, prep, x)
        land_terms += supply_terms
    if on("use_share_min"):
        use_share_min(ctx, prep, x)
    r = np.full(0, -1, dtype=np.int64)
    r_fixed = np.zeros(0, dtype=np.int64)
    land_constant = 0.0
    if a_class_on:
        r, r_fixed = a_class_reach(ctx, prep, y, x, zone_m)
        land_terms += a_class_target(ctx, r, r_fixed)
        land_constant = a_class_constant(data, r_fixed)
    if on("mountain_land"):
        mountain_land(ctx, prep, x)
    if energy_reserve:
        mountain_energy(ctx, zone_m, o)
    dmin = None
    if analysis is not None:
        if analysis.objective_floor is not None:
            objective_floor(ctx, prep, y, o, analysis.objective_floor, land_terms, land_constant)
        if analysis.distance_refs:
            dmin = ctx.var("dmin_0", 0.0, float(data.n_plots))
            for k, ref in enumerate(analysis.distance_refs, start=1):
                distance_to(ctx, prep, y, x, dmin, ref, k)
        if analysis.approved is not None and analysis.max_changes is not None:
            change_limit(ctx, prep, y, x, analysis.approved, int(analysis.max_changes))
    constant = objective(ctx, prep, y, o, x, analysis, dmin, land_terms, land_constant)
    model = ctx.finish()

    size = {
        "rows": ctx.n_rows,
        "columns": ctx.n_vars,
        "binaries": ctx.n_bin,
        "nonzeros": ctx.nnz,
    }
    return Built(
        data=data,
        params=params,
        model=model,
        y_col=y,
        x_col=x,
        o_col=o,
        u_col=u,
        zone_firm=zone_m[0],
        zone_zone=zone_m[1],
        zone_col=zone_m[2],
        unit_firm=unit_m[0],
        unit_unit=unit_m[1],
        unit_col=unit_m[2],
        registry=ctx.reg,
        family_rows=ctx.family_rows,
        size=size,
        build_seconds=time.perf_counter() - t0,
        objective_constant=constant,
        q_col=q,
        r_col=r,
        r_fixed=r_fixed,
    )


__all__ = [
    "CAP_FAMILIES",
    "Analysis",
    "PlanRef",
    "CLASSES",
    "ELASTIC_FAMILIES",
    "FLOOR_FAMILIES",
    "RESERVE_FAMILIES",
    "UNITS",
    "Built",
    "ModelMatrix",
    "build",
]
