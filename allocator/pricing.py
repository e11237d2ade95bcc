"""Differentiated prices by 亩均 class: per-firm annual cost impact and per-zone revenue.

Price tables are TOML files in ``allocator/policy/`` (``price_default``,
``price_haining``, ``price_ruian``…, each with a ``[source]``):

- ``[electricity] surcharge_yuan_per_kwh`` by class, plus ``[[electricity.consecutive]]``
  steps (``class``, ``years``, ``surcharge_yuan_per_kwh``): a firm in that class
  for ``years`` consecutive evaluations or more, this one included, pays the
  step surcharge *instead of* the base one (Haining: D +0.3, +0.4 from the
  third D year running). Consecutive years come from ``class_history``.
- ``[water] surcharge_pct`` by class; a 万元 figure needs ``firms.water_m3`` (an
  optional column) and ``base_price_yuan_per_m3``.
- ``[sewage] adjustment_yuan_per_m3`` and ``[land_use_tax] relief_share`` with
  ``rate_yuan_per_m2``: supported, empty by default (no source gives figures).

Only existing firms pay (applicants have no metered use yet). Prices follow
the *managed* class, so unrated and unscorable firms pay as B.
Units: electricity_mwh × 1000 kWh/MWh × 元/kWh ÷ 10,000 = 万元.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from allocator.scoring.engine import Scores, _d_years_running
from allocator.scoring.method import CLASSES, PolicyFile
from allocator.units import M2_PER_MU

YUAN_PER_WAN = 10_000.0
KWH_PER_MWH = 1_000.0


@dataclass(frozen=True)
class ConsecutiveStep:
    """A surcharge that replaces the base one after ``years`` consecutive years in ``cls``."""

    cls: str
    years: int
    surcharge_yuan_per_kwh: float


@dataclass(frozen=True)
class PriceTable:
    """Per-class price levers read from a policy TOML."""

    name: str
    electricity_yuan_per_kwh: dict[str, float] = field(default_factory=dict)
    consecutive: tuple[ConsecutiveStep, ...] = ()
    water_pct: dict[str, float] = field(default_factory=dict)
    water_base_yuan_per_m3: float = math.nan
    sewage_yuan_per_m3: dict[str, float] = field(default_factory=dict)
    land_tax_relief_share: dict[str, float] = field(default_factory=dict)
    land_tax_yuan_per_m2: float = math.nan
    source: dict[str, str] = field(default_factory=dict)
    title: str = ""


def _class_map(policy: PolicyFile, key: str, raw: Any) -> dict[str, float]:
    raw = raw or {}
    out = {}
    for cls, val in raw.items():
        if cls not in CLASSES:
            raise policy.bad(f"{key}.{cls}", "class must be A–D")
        out[cls] = float(val)
    return out


def load_price_table(
    name_or_path: str | os.PathLike[str] | PriceTable = "price_default",
) -> PriceTable:
    """Load a price table by name (``allocator/policy/<name>.toml``) or path."""
    if isinstance(name_or_path, PriceTable):
        return name_or_path
    policy = PolicyFile.read(name_or_path, message="scoring.error.bad_value")
    data = policy.data
    el = data.get("electricity") or {}
    steps = []
    for i, step in enumerate(el.get("consecutive") or []):
        try:
            steps.append(
                ConsecutiveStep(
                    str(step["class"]), int(step["years"]), float(step["surcharge_yuan_per_kwh"])
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise policy.bad(
                f"electricity.consecutive[{i}]", "needs class, years, surcharge_yuan_per_kwh"
            ) from exc
    water = data.get("water") or {}
    sewage = data.get("sewage") or {}
    land = data.get("land_use_tax") or {}
    return PriceTable(
        name=str(data.get("name", "")),
        electricity_yuan_per_kwh=_class_map(
            policy, "electricity", el.get("surcharge_yuan_per_kwh")
        ),
        consecutive=tuple(sorted(steps, key=lambda s: -s.years)),
        water_pct=_class_map(policy, "water", water.get("surcharge_pct")),
        water_base_yuan_per_m3=float(water.get("base_price_yuan_per_m3", math.nan)),
        sewage_yuan_per_m3=_class_map(policy, "sewage", sewage.get("adjustment_yuan_per_m3")),
        land_tax_relief_share=_class_map(policy, "land_use_tax", land.get("relief_share")),
        land_tax_yuan_per_m2=float(land.get("rate_yuan_per_m2", math.nan)),
        source=policy.source,
        title=str(data.get("title", "")),
    )


@dataclass
class PriceImpacts:
    """Per-firm annual cost impacts (``firms``) and per-zone revenue (``zones``), in 万元."""

    firms: pd.DataFrame
    zones: pd.DataFrame
    table: PriceTable


def _by_class(mapping: dict[str, float], cls: np.ndarray) -> np.ndarray:
    return np.array([mapping.get(c, 0.0) for c in CLASSES] + [0.0])[
        np.select([cls == c for c in CLASSES], list(range(len(CLASSES))), len(CLASSES))
    ]


def price_impacts(
    case_or_firms: Any,
    scores: Scores | pd.DataFrame,
    policy: str | os.PathLike[str] | PriceTable = "price_default",
    class_history: pd.DataFrame | None = None,
    year: int | None = None,
) -> PriceImpacts:
    """Annual cost of the differentiated prices per existing firm and revenue per zone.

    Parameters
    ----------
    case_or_firms
        A Case or a firms DataFrame (``electricity_mwh``, ``land_mu``, optional ``water_m3``).
    scores
        :class:`~allocator.scoring.Scores` or its ``table``.
    policy
        Price table name or path (default ``price_default``).
    class_history
        ``firm_id, year, class``; default: the case's. Used with ``year`` (default
        ``scores.year``) for the consecutive-years steps.
    year
        Evaluation year of ``scores``.
    """
    table = load_price_table(policy)
    firms = case_or_firms if isinstance(case_or_firms, pd.DataFrame) else case_or_firms.firms
    if class_history is None and not isinstance(case_or_firms, pd.DataFrame):
        class_history = getattr(case_or_firms, "class_history", None)
    st = scores.table if isinstance(scores, Scores) else scores
    if year is None:
        year = scores.year if isinstance(scores, Scores) else None
    if year is None:
        year = int(pd.Timestamp.now().year) - 1
    f = firms.copy()
    f["firm_id"] = f["firm_id"].astype(str)
    if "kind" in f:
        f = f[f["kind"].astype(str) != "applicant"]
    f = f.set_index("firm_id")
    cls = st["managed_class"].reindex(f.index).fillna("B").astype(str).to_numpy(dtype=object)
    rated_cls = st["class"].reindex(f.index).astype(object).to_numpy()
    rated_cls = np.where(pd.isna(rated_cls), np.array(None, dtype=object), rated_cls)
    ids = f.index.to_numpy(dtype=str)

    def num(col: str) -> np.ndarray:
        if col not in f:
            return np.full(len(f), np.nan)
        return pd.to_numeric(f[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    elec = num("electricity_mwh")
    surcharge = _by_class(table.electricity_yuan_per_kwh, cls)
    running = np.zeros(len(f))
    for step in table.consecutive:  # longest first; the first matching step wins
        run = _d_years_running(ids, rated_cls, class_history, int(year), step.cls)
        hit = (cls == step.cls) & (run >= step.years) & (running == 0)
        surcharge = np.where(hit, step.surcharge_yuan_per_kwh, surcharge)
        running = np.where(cls == step.cls, np.maximum(running, run), running)
    elec_cost = elec * KWH_PER_MWH * surcharge / YUAN_PER_WAN
    water = num("water_m3")
    water_pct = _by_class(table.water_pct, cls)
    water_cost = water * table.water_base_yuan_per_m3 * water_pct / 100.0 / YUAN_PER_WAN
    sewage_cost = water * _by_class(table.sewage_yuan_per_m3, cls) / YUAN_PER_WAN
    relief_share = _by_class(table.land_tax_relief_share, cls)
    land_relief = (
        num("land_mu") * M2_PER_MU * table.land_tax_yuan_per_m2 * relief_share / YUAN_PER_WAN
    )
    if not table.sewage_yuan_per_m3:
        sewage_cost = np.zeros(len(f))
    if not table.land_tax_relief_share:
        land_relief = np.zeros(len(f))
    zone = f["zone_id"].astype(object) if "zone_id" in f else pd.Series(None, index=f.index)
    out = pd.DataFrame(
        {
            "firm_id": ids,
            "name": f["name"].to_numpy(dtype=object) if "name" in f else None,
            "zone_id": zone.to_numpy(dtype=object),
            "managed_class": cls,
            "years_in_class_running": running,
            "electricity_mwh": elec,
            "electricity_surcharge_yuan_per_kwh": surcharge,
            "electricity_cost_wan": elec_cost,
            "water_surcharge_pct": water_pct,
            "water_cost_wan": water_cost,
            "sewage_cost_wan": sewage_cost,
            "land_tax_relief_wan": land_relief,
        }
    )
    out["total_cost_wan"] = (
        np.nan_to_num(elec_cost)
        + np.nan_to_num(water_cost)
        + np.nan_to_num(sewage_cost)
        - np.nan_to_num(land_relief)
    )
    grp = out.groupby(out["zone_id"].fillna("—"), sort=True)
    zones = pd.DataFrame(
        {
            "firms": grp.size(),
            "firms_surcharged": grp["electricity_surcharge_yuan_per_kwh"].apply(
                lambda s: int((s > 0).sum())
            ),
            "electricity_revenue_wan": grp["electricity_cost_wan"].sum(min_count=0),
            "water_revenue_wan": grp["water_cost_wan"].sum(min_count=0),
            "sewage_revenue_wan": grp["sewage_cost_wan"].sum(min_count=0),
            "land_tax_relief_wan": grp["land_tax_relief_wan"].sum(min_count=0),
        }
    )
    zones["net_revenue_wan"] = (
        zones["electricity_revenue_wan"]
        + zones["water_revenue_wan"]
        + zones["sewage_revenue_wan"]
        - zones["land_tax_relief_wan"]
    )
    zones.index.name = "zone_id"
    return PriceImpacts(firms=out.set_index("firm_id"), zones=zones.reset_index(), table=table)
