"""Quota value curve (用能权 price signal): what one more unit of a quota is worth.

From a sweep over an absolute quota (the province's energy quota, a zone's
energy or electricity quota, a control unit's emission quota), neighbouring
points ``i`` (tighter) and ``i+1`` (looser, ``Δ`` more units) give the MILP's
own answer — the change of the best objective per unit:

    estimate = (obj_{i+1} − obj_i) / Δ
    interval = [ (obj_{i+1} − bound_i) / Δ , (bound_{i+1} − obj_i) / Δ ]

with ``obj`` the incumbent and ``bound`` the proven bound (both from the
monotone envelope of :mod:`allocator.analysis.tradeoff`, which only tightens
the interval; its low end is also at least 0, since a looser quota never
lowers the optimum). Beside it stand the LP marginal values the two runs
report (``marginals.parquet``: the dual of the quota row with the integer
decisions fixed), so a planner sees where the MILP and the LP price differ —
an LP marginal prices only output changes of admitted firms, while the MILP
difference also counts a firm admitted or dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.data import POLLUTANTS


@dataclass(frozen=True)
class QuotaKey:
    """Which marginal-value row an absolute quota key sets."""

    family: str
    """The row family in ``marginals.parquet`` (``province_energy``, ``zone_energy`` …)."""
    id_column: str | None
    """``zone_id`` / ``unit_id`` (None for the province)."""
    ident: str | None
    pollutant: str | None
    unit: str
    """Unit of the quota (tce, MWh, t)."""


def quota_key_info(key: str) -> QuotaKey | None:
    """Return what ``key`` sets when it is an absolute quota, else None (e.g. a factor)."""
    if key == "caps.province_energy_tce":
        return QuotaKey("province_energy", None, None, None, "tce")
    m = re.fullmatch(r"caps\.zones\.([^.]+)\.(energy_tce|electricity_mwh)", key)
    if m:
        family = "zone_energy" if m.group(2) == "energy_tce" else "zone_electricity"
        return QuotaKey(family, "zone_id", m.group(1), None, m.group(2).rsplit("_", 1)[1])
    m = re.fullmatch(r"caps\.units\.([^.]+)\.(" + "|".join(POLLUTANTS) + r")_t", key)
    if m:
        return QuotaKey("unit_emissions", "unit_id", m.group(1), m.group(2), "t")
    return None


def lp_marginal(run: str | Path, info: QuotaKey) -> float:
    """Return the LP marginal value (万元 per quota unit) of the quota row in run ``run``.

    NaN when the run has no marginal values (no plan, or the row is absent).
    """
    path = Path(run) / "marginals.parquet"
    if not path.exists():
        return float("nan")
    marg = pd.read_parquet(path)
    if marg.empty or "family" not in marg:
        return float("nan")
    sel = marg["family"] == info.family
    if info.id_column is not None and info.id_column in marg:
        sel &= marg[info.id_column].astype(str) == str(info.ident)
    if info.pollutant is not None and "pollutant" in marg:
        sel &= marg["pollutant"].astype(str) == info.pollutant
    values = pd.to_numeric(marg.loc[sel, "value"], errors="coerce").dropna()
    return float(values.iloc[0]) if len(values) else float("nan")


def quota_value_curve(table: pd.DataFrame, key: str) -> pd.DataFrame:
    """Return one row per neighbouring pair of a trade-off table over the quota ``key``.

    ``table`` is :func:`~allocator.analysis.tradeoff.tradeoff_table` output.
    Columns: ``value_from``, ``value_to``, ``delta``, ``value_per_unit`` (the
    MILP estimate), ``value_per_unit_low``, ``value_per_unit_high`` (the
    bound-based interval), ``lp_marginal_from``, ``lp_marginal_to`` (the LP
    marginals of the two runs) and ``unit`` (万元 per quota unit).
    """
    info = quota_key_info(key)
    rows = table.sort_values("value").reset_index(drop=True)
    x = rows["value"].to_numpy(dtype=float)
    obj = rows["objective_monotone"].to_numpy(dtype=float)
    bound = rows["bound_monotone"].to_numpy(dtype=float)
    runs = [str(r) for r in rows["run"]]
    lp = (
        np.array([lp_marginal(r, info) for r in runs])
        if info is not None
        else np.full(len(rows), np.nan)
    )
    out = []
    for i in range(len(rows) - 1):
        delta = x[i + 1] - x[i]
        if delta <= 0:
            continue
        with np.errstate(invalid="ignore"):
            est = (obj[i + 1] - obj[i]) / delta
            low = max((obj[i + 1] - bound[i]) / delta, 0.0)
            high = (bound[i + 1] - obj[i]) / delta
        out.append(
            {
                "value_from": x[i],
                "value_to": x[i + 1],
                "delta": delta,
                "value_per_unit": est,
                "value_per_unit_low": low,
                "value_per_unit_high": high,
                "lp_marginal_from": lp[i],
                "lp_marginal_to": lp[i + 1],
                "unit": f"万元/{info.unit}" if info is not None else "万元",
            }
        )
    return pd.DataFrame(out)
