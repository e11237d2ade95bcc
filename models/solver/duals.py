"""Marginal values (duals of the LP with the integers fixed) and elastic relaxation tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pulp

from models.allocation import CAP_FAMILIES, Built
from models.solver.highs_api import _hrun, highspy
from models.solver.solution import ModelSolution


def _highs_duals(
    h: Any,
    integer: np.ndarray,
    names: list[str] | None,
    scale: np.ndarray,
    built: Built,
    sense: float,
) -> dict[str, float] | None:
    """Fix the integers at their values, drop integrality, re-solve the LP, read row duals.

    ``integer`` marks the integer columns of the ``HighsLp``; ``names`` are its
    rows' solver names (None: the registry's rows, in order).
    """
    ints = np.flatnonzero(integer)
    if len(ints):
        vals = np.round(built.lp_values(len(integer))[ints])
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
    if names is None:  # the registry's rows, in order
        return {n: float(sense * row_dual[r] * scale[r]) for r, n in enumerate(reg.rows)}
    out = {}
    for r, sname in enumerate(names):
        if sname in reg.by_solver:  # a held row the model switched off is not one of its rows
            out[reg.display(sname)] = float(sense * row_dual[r] * scale[r])
    return out


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
