"""The PuLP problem as a HiGHS matrix, as an LP/MPS file, and its objective sense."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pulp

from models.allocation import Built
from models.solver.highs_api import highspy


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


def sense_of(prob: pulp.LpProblem) -> float:
    """Return -1 for a maximisation (HiGHS minimises the negated objective), else 1."""
    return -1.0 if prob.sense == pulp.LpMaximize else 1.0


def direction_of(prob: pulp.LpProblem) -> Literal["max", "min"]:
    """Return ``"max"`` or ``"min"``, the sense as :func:`~models.status.classify` wants it."""
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
