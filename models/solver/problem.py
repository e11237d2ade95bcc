"""The model as a HiGHS matrix (from the build's arrays or the PuLP problem), LP/MPS, sense."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pulp

from models.allocation import CAP_FAMILIES, Built
from models.solver.highs_api import highspy


def highs_lp(
    built: Built, scaled_families: tuple[str, ...] = CAP_FAMILIES
) -> tuple[Any, np.ndarray]:
    """Return ``(HighsLp, row scale)`` straight from the build's arrays (no PuLP).

    The same matrix, bounds, objective and integrality as
    ``_to_highs_lp(built.prob, …)`` with the rows of ``scaled_families``
    scaled (see there), in the same column and row order: row ``r`` is the
    ``r``-th row of ``built.registry``, column ``j`` is build column
    ``c`` with ``built.matrix().col_of[c] == j``.
    """
    m = built.matrix()
    value, rlo, rup = m.value, m.row_lower, m.row_upper
    scale = np.ones(m.n_row)
    pick = np.flatnonzero(built.row_mask(scaled_families))
    lens = m.start[pick + 1] - m.start[pick]
    pick, lens = pick[lens > 0], lens[lens > 0]
    if len(pick):
        ends = np.cumsum(lens)
        at = np.repeat(m.start[pick] - (ends - lens), lens) + np.arange(int(ends[-1]))
        big = np.maximum.reduceat(np.abs(value[at]), ends - lens)
        scale[pick[big > 0]] = 1.0 / big[big > 0]
        value = value.copy()
        value[at] *= np.repeat(scale[pick], lens)
        rlo = np.where(np.isinf(rlo), rlo, rlo * scale)
        rup = np.where(np.isinf(rup), rup, rup * scale)
    h: Any = highspy
    lp: Any = h.HighsLp()
    lp.num_col_ = m.n_col
    lp.num_row_ = m.n_row
    # a memoryview converts about twice as fast as the ndarray itself (pybind11 list caster)
    lp.col_cost_ = _view(-m.cost)
    lp.col_lower_ = _view(m.col_lower)
    lp.col_upper_ = _view(m.col_upper)
    lp.row_lower_ = _view(rlo)
    lp.row_upper_ = _view(rup)
    lp.offset_ = -float(m.constant)
    lp.a_matrix_.format_ = h.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = m.n_col
    lp.a_matrix_.num_row_ = m.n_row
    lp.a_matrix_.start_ = _view(m.start, np.int32)
    lp.a_matrix_.index_ = _view(m.index, np.int32)
    lp.a_matrix_.value_ = _view(value)
    kinds = np.array([h.HighsVarType.kContinuous, h.HighsVarType.kInteger], dtype=object)
    lp.integrality_ = kinds[m.col_integer.astype(np.int8)].tolist()
    return lp, scale


def _view(a: np.ndarray, dtype: Any = np.float64) -> Any:
    """Return a contiguous memoryview of ``a`` as ``dtype`` (what HighsLp setters copy from)."""
    buf: Any = np.ascontiguousarray(a, dtype=dtype)
    return memoryview(buf)


def _to_highs_lp(
    prob: pulp.LpProblem, scaled: set[str] | None = None, first: list[Any] | None = None
) -> tuple[Any, list[pulp.LpVariable], list[str], np.ndarray]:
    """Return ``(HighsLp, variables, constraint names, row scale)``; sets ``var.index``.

    Columns: ``first`` (when given), then the problem's other variables in the
    order PuLP registered them, then those only in the objective.

    Rows whose solver name is in ``scaled`` are divided by their largest
    absolute coefficient (the cap rows: emission coefficients of 1e-5 t/万元
    next to energy ones of 1 tce/万元 made HiGHS's root LP five times slower);
    a row dual of the scaled model times the scale is the dual of the original row.
    """
    # PuLP registers every variable of a constraint in insertion order; the
    # public variables() re-walks all constraints and sorts by name (seconds at 10x).
    variables = list(first or [])
    seen = {v.hash for v in variables}
    variables += [v for v in prob._variables if v.hash not in seen]  # noqa: SLF001
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


def model_lp(
    built: Built, scaled_families: tuple[str, ...] = CAP_FAMILIES
) -> tuple[Any, np.ndarray, list[str] | None, np.ndarray]:
    """Return what the HiGHS run solves: ``(HighsLp, integer mask, row names, row scale)``.

    From the build's arrays (:func:`highs_lp`, no PuLP; row names None: row ``r``
    is the registry's ``r``-th row), unless ``built.prob`` was changed after
    the build (then from the PuLP problem, with its constraint names). Either
    way ``built.lp_index`` maps build columns to the ``HighsLp``'s and
    ``built.set_values`` takes its column values.
    """
    if built.pulp_changed():  # rows or objective added to built.prob
        lp, variables, names, scale = pulp_lp(built, scaled_families)
        integer = np.array([v.cat == pulp.LpInteger for v in variables], dtype=bool)
        return lp, integer, names, scale
    lp, scale = highs_lp(built, scaled_families)
    return lp, built.matrix().col_integer, None, scale


def pulp_lp(
    built: Built, scaled_families: tuple[str, ...] = CAP_FAMILIES
) -> tuple[Any, list[pulp.LpVariable], list[str], np.ndarray]:
    """Return :func:`_to_highs_lp` of ``built.prob`` and make it the build's solver matrix.

    For the paths that work on PuLP variables (CBC, a changed problem). The
    build's columns come first, in :meth:`~models.allocation.Built.matrix`
    order, so ``built.lp_index`` holds for this ``HighsLp`` too; variables
    added to a changed problem come after them.
    """
    scaled = {i.solver_name for i in built.registry.rows.values() if i.family in scaled_families}
    first = built.pulp_columns()
    lp, variables, names, scale = _to_highs_lp(built.prob, scaled, first)
    built._extra_vars = variables[len(first) :]  # noqa: SLF001 - the columns set_values writes
    return lp, variables, names, scale


def sense_of(prob: pulp.LpProblem | Built) -> float:
    """Return -1 for a maximisation (HiGHS minimises the negated objective), else 1.

    A :class:`Built` is a maximisation (MODEL.md) unless its PuLP problem says otherwise.
    """
    return -1.0 if direction_of(prob) == "max" else 1.0


def direction_of(prob: pulp.LpProblem | Built) -> Literal["max", "min"]:
    """Return ``"max"`` or ``"min"``, the sense as :func:`~models.status.classify` wants it."""
    if isinstance(prob, Built):
        if not prob.pulp_changed():
            return "max"
        prob = prob.prob
    return "max" if prob.sense == pulp.LpMaximize else "min"


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


def _col_objective(lp: Any, col: Any, sense: float) -> float:
    """Objective (MODEL.md sense, constant included) of HiGHS columns ``col`` of ``lp``.

    ``sense`` is :func:`sense_of` the problem: ``lp`` holds the minimisation form.
    """
    cost = np.asarray(lp.col_cost_, dtype=float)
    return sense * (float(cost @ np.asarray(col, dtype=float)) + float(lp.offset_))
