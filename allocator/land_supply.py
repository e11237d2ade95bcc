"""Flexible land terms and mixed use (浙政办发〔2023〕3号 加大用地支持): the county rules.

Supply (``allocator/policy/land_supply_default.toml``): every admitted project gets
a supply mode — 弹性年期出让 (``flexible``), 先租后让 (``lease_then_transfer``),
租让结合 (``lease_transfer_mix``), 长期租赁 (``long_lease``) or full-term 出让
(``full_term``) — and its term from the first rule row that matches its industry,
production cycle and 亩均 class. With ``switches.land_supply`` the model chooses
among the row's modes (``models.allocation.land_supply``), weighing the land
income over the plan period against the land that returns to the zone at term
end (:meth:`SupplyRule.weight_wan_per_mu`); otherwise the row's default is
assigned after solving. :func:`land_income_by_year` and :func:`land_returned_mu`
derive the reports from a plan's firm table alone.

Mixed use (``allocator/policy/land_use_mix.toml``): which project uses
(:data:`USES`) each plot land use admits; ``land.mixed_use`` applies it to the
candidate pairs, and ``use_share_min`` asks for a least share of a use in a zone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from allocator.errors import ScenarioError
from allocator.i18n import t
from models.data import CLASSES, SUPPLY_MODES, USES

if TYPE_CHECKING:
    from allocator.scoring.method import PolicyFile

MODES = SUPPLY_MODES
"""Supply modes, in the model's order (出让, 弹性年期出让, 先租后让, 租让结合, 长期租赁)."""

DEFAULT_USE = "industrial"
"""The use of a project whose case row gives none (DATA.md: ``use`` is optional)."""


@dataclass(frozen=True)
class SupplyMode:
    """One supply mode: its term, and the land income per mu and year in each phase."""

    key: str
    years: float
    price_yuan_per_mu_year: float
    lease_years: float = 0.0
    lease_price_yuan_per_mu_year: float = 0.0

    def income_yuan_per_mu(self, plan_years: int, years: float | None = None) -> np.ndarray:
        """Land income per mu in each plan year 1…``plan_years`` (元): lease, then price, then 0.

        ``years`` overrides the mode's term (a rule row's own term).
        """
        term = self.years if years is None else years
        yr = np.arange(1, int(plan_years) + 1, dtype=float)
        price = np.where(yr <= self.lease_years, self.lease_price_yuan_per_mu_year, 0.0)
        price = np.where(yr > self.lease_years, self.price_yuan_per_mu_year, price)
        return np.where(yr <= term, price, 0.0)


@dataclass(frozen=True)
class SupplyRow:
    """One row of the rule table: whom it matches, the modes it permits, its default."""

    name: str
    modes: tuple[str, ...]
    default: str
    industry_prefixes: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    min_cycle_years: float = 0.0
    max_cycle_years: float = float("inf")
    years: dict[str, float] = field(default_factory=dict)

    def matches(self, industry: str, cls: str, cycle_years: float) -> bool:
        """Return True when the row applies to a project of this industry, class and cycle."""
        if self.industry_prefixes and not any(
            industry.startswith(p) for p in self.industry_prefixes
        ):
            return False
        if self.classes and cls not in self.classes:
            return False
        return self.min_cycle_years <= cycle_years <= self.max_cycle_years


@dataclass(frozen=True)
class SupplyRule:
    """A county's land supply rule table (see the module docstring)."""

    path: str
    modes: dict[str, SupplyMode]
    rows: tuple[SupplyRow, ...]
    cycle_years: dict[str, float]
    return_value_yuan_per_mu: float
    discount_rate: float
    source: dict[str, str] = field(default_factory=dict)

    def cycle(self, industry: str | None) -> float:
        """Production cycle of an industry (years; the longest matching prefix wins)."""
        code = str(industry or "")
        best, value = -1, float(self.cycle_years.get("default", 0.0))
        for prefix, years in self.cycle_years.items():
            if prefix != "default" and code.startswith(prefix) and len(prefix) > best:
                best, value = len(prefix), float(years)
        return value

    def row_for(self, industry: str | None, cls: str) -> SupplyRow:
        """Return the first row matching the project (the table's last row matches everyone)."""
        code = str(industry or "")
        cycle = self.cycle(code)
        for row in self.rows:
            if row.matches(code, cls, cycle):
                return row
        raise ScenarioError(t("supply.error.no_row", path=self.path, industry=code, cls=cls))

    def term(self, row: SupplyRow, mode: str) -> float:
        """Term of ``mode`` under ``row`` (years): the row's own term, else the mode's."""
        return float(row.years.get(mode, self.modes[mode].years))

    def weight_wan_per_mu(self, row: SupplyRow, mode: str, plan_years: int) -> float:
        """Objective weight of ``mode`` per mu and plan year (万元).

        ``(Σ_{t ≤ H} income_t + V · (1 + r)^(−T)) / H / 10⁴``: the land income over
        the plan period of H years plus the value V of the mu returning at term end T,
        discounted at r to the plan's start, spread over the plan period (the
        objective is per year).
        """
        term = self.term(row, mode)
        income = float(self.modes[mode].income_yuan_per_mu(plan_years, term).sum())
        back = self.return_value_yuan_per_mu * (1.0 + self.discount_rate) ** (-term)
        return (income + back) / float(plan_years) / 1.0e4


def load_supply_rule(name_or_path: str | os.PathLike[str] = "land_supply_default") -> SupplyRule:
    """Load a land supply rule by name (``allocator/policy/<name>.toml``) or path.

    Raises :class:`ScenarioError` naming the file and item for a missing or bad value.
    """
    from allocator.scoring.method import PolicyFile

    policy = PolicyFile.read(name_or_path)
    data = policy.data
    raw_modes = data.get("modes")
    if not isinstance(raw_modes, dict) or not raw_modes:
        raise policy.bad("modes", t("land.error.not_table"))
    modes: dict[str, SupplyMode] = {}
    for key, raw in raw_modes.items():
        item = f"modes.{key}"
        if key not in MODES:
            raise policy.bad(item, t("supply.error.mode", known=", ".join(MODES)))
        if not isinstance(raw, dict):
            raise policy.bad(item, t("land.error.not_table"))
        lease = {
            k: policy.number(raw, k, f"{item}.{k}") if k in raw else 0.0
            for k in ("lease_years", "lease_price_yuan_per_mu_year")
        }
        modes[key] = SupplyMode(
            key=key,
            years=policy.number(raw, "years", f"{item}.years", positive=True),
            price_yuan_per_mu_year=policy.number(
                raw, "price_yuan_per_mu_year", f"{item}.price_yuan_per_mu_year"
            ),
            **lease,
        )
    cycles = data.get("cycle_years") or {}
    if not isinstance(cycles, dict):
        raise policy.bad("cycle_years", t("land.error.not_table"))
    cycle_years = {str(k): policy.number(cycles, k, f"cycle_years.{k}") for k in cycles}
    rows = tuple(_row(raw, k, modes, policy) for k, raw in enumerate(data.get("rule") or []))
    if not rows:
        raise policy.bad("rule", t("land.error.missing"))
    last = rows[-1]
    if last.industry_prefixes or last.classes or last.min_cycle_years or last.max_cycle_years < 1e9:
        raise policy.bad(f"rule[{len(rows)}]", t("supply.error.last_row"))
    return SupplyRule(
        path=policy.path,
        modes=modes,
        rows=rows,
        cycle_years=cycle_years,
        return_value_yuan_per_mu=policy.number(data, "return_value_yuan_per_mu"),
        discount_rate=policy.number(data, "discount_rate"),
        source=policy.source,
    )


def _row(raw: Any, k: int, modes: Mapping[str, SupplyMode], policy: PolicyFile) -> SupplyRow:
    """Read and check one ``[[rule]]`` row (``k`` from 0; messages count from 1)."""
    item = f"rule[{k + 1}]"

    def bad(sub: str, why: str) -> ScenarioError:
        return policy.bad(f"{item}.{sub}", why)

    if not isinstance(raw, dict):
        raise policy.bad(item, t("land.error.not_table"))
    permitted = raw.get("modes")
    if not isinstance(permitted, list) or not permitted or any(m not in modes for m in permitted):
        raise bad("modes", t("supply.error.mode", known=", ".join(modes)))
    default = raw.get("default")
    if default not in permitted:
        raise bad("default", t("supply.error.default"))
    classes = raw.get("classes") or []
    if not isinstance(classes, list) or any(c not in CLASSES for c in classes):
        raise bad("classes", t("land.error.classes", known="/".join(CLASSES)))
    prefixes = raw.get("industry_prefixes") or []
    if not isinstance(prefixes, list):
        raise bad("industry_prefixes", t("land.error.not_table"))
    years = raw.get("years") or {}
    if not isinstance(years, dict) or any(m not in permitted for m in years):
        raise bad("years", t("supply.error.mode", known=", ".join(permitted)))
    lo = (
        policy.number(raw, "min_cycle_years", f"{item}.min_cycle_years")
        if ("min_cycle_years" in raw)
        else 0.0
    )
    hi = (
        policy.number(raw, "max_cycle_years", f"{item}.max_cycle_years")
        if ("max_cycle_years" in raw)
        else float("inf")
    )
    return SupplyRow(
        name=str(raw.get("name") or item),
        modes=tuple(str(m) for m in permitted),
        default=str(default),
        industry_prefixes=tuple(str(p) for p in prefixes),
        classes=tuple(str(c) for c in classes),
        min_cycle_years=lo,
        max_cycle_years=hi,
        years={str(m): policy.number(years, m, f"{item}.years.{m}", positive=True) for m in years},
    )


@dataclass(frozen=True)
class SupplyTable:
    """Per firm: the rule row, the weights of the modes it permits and the default (model order).

    ``weight`` is (F, len(MODES)) 万元 per mu and year, NaN where the row does not
    permit the mode or the firm is not an applicant; ``default`` the default mode's
    index (−1 for existing firms); ``row`` the matched row's name.
    """

    weight: np.ndarray
    default: np.ndarray
    row: list[str | None]


def supply_table(
    rule: SupplyRule,
    industry: Sequence[Any],
    classes: Sequence[str],
    applicant: np.ndarray,
    plan_years: int,
) -> SupplyTable:
    """Match every applicant to its rule row; weights of its permitted modes (model order)."""
    n = len(classes)
    weight = np.full((n, len(MODES)), np.nan)
    default = np.full(n, -1, dtype=int)
    rows: list[str | None] = [None] * n
    cache: dict[tuple[str, str], tuple[np.ndarray, int, str]] = {}
    for f in (int(i) for i in np.flatnonzero(np.asarray(applicant, bool))):
        code = industry[f] if isinstance(industry[f], str) else ""
        key = (code, str(classes[f]))
        if key not in cache:
            row = rule.row_for(code, str(classes[f]))
            w = np.full(len(MODES), np.nan)
            for m in row.modes:
                w[MODES.index(m)] = rule.weight_wan_per_mu(row, m, plan_years)
            cache[key] = (w, MODES.index(row.default), row.name)
        weight[f], default[f], rows[f] = cache[key]
    return SupplyTable(weight=weight, default=default, row=rows)


def supply_columns(
    rule: SupplyRule,
    industry: Sequence[Any],
    classes: Sequence[str],
    admitted: np.ndarray,
    chosen: np.ndarray,
    start_year: int,
    plan_years: int,
    return_by_year: int,
    land_mu: np.ndarray,
) -> pd.DataFrame:
    """Return the supply columns of a plan's firm table (one row per firm, in order).

    ``chosen`` is each firm's mode index (−1: the rule's default for an admitted
    project). Columns: ``supply_mode`` (a :data:`MODES` key; None when not
    admitted), ``supply_rule`` (the row), ``supply_modes_permitted``,
    ``supply_years``, ``lease_years``, ``land_price_yuan_per_mu_year``,
    ``lease_price_yuan_per_mu_year``, ``term_end_year`` (start year + term: the land
    returns to the zone then), ``land_income_wan`` (over the plan years, on
    ``land_mu``) and ``land_returned_mu`` (``land_mu`` when the term ends by
    ``return_by_year``, else 0).
    """
    n = len(classes)
    out: dict[str, list[Any]] = {
        k: [None] * n for k in ("supply_mode", "supply_rule", "supply_modes_permitted")
    }
    nums = {
        k: np.full(n, np.nan)
        for k in (
            "supply_years",
            "lease_years",
            "land_price_yuan_per_mu_year",
            "lease_price_yuan_per_mu_year",
            "term_end_year",
        )
    }
    for f in (int(i) for i in np.flatnonzero(np.asarray(admitted, bool))):
        code = industry[f] if isinstance(industry[f], str) else ""
        row = rule.row_for(code, str(classes[f]))
        mode = MODES[int(chosen[f])] if int(chosen[f]) >= 0 else row.default
        spec = rule.modes[mode]
        out["supply_mode"][f] = mode
        out["supply_rule"][f] = row.name
        out["supply_modes_permitted"][f] = ";".join(row.modes)
        nums["supply_years"][f] = rule.term(row, mode)
        nums["lease_years"][f] = spec.lease_years
        nums["land_price_yuan_per_mu_year"][f] = spec.price_yuan_per_mu_year
        nums["lease_price_yuan_per_mu_year"][f] = spec.lease_price_yuan_per_mu_year
        nums["term_end_year"][f] = start_year + rule.term(row, mode)
    frame = pd.DataFrame({**out, **nums})
    area = np.where(np.asarray(admitted, bool), np.asarray(land_mu, float), 0.0)
    income = np.zeros(n)
    for f in (int(i) for i in np.flatnonzero(area > 0)):
        spec = rule.modes[str(out["supply_mode"][f])]
        per_mu = spec.income_yuan_per_mu(plan_years, float(nums["supply_years"][f]))
        income[f] = float(per_mu.sum()) * area[f] / 1.0e4
    frame["land_income_wan"] = income
    frame["land_returned_mu"] = np.where(frame["term_end_year"] <= return_by_year, area, 0.0)
    return frame


def land_income_by_year(firms: pd.DataFrame, start_year: int, plan_years: int) -> pd.DataFrame:
    """Land income of the admitted projects by plan year and zone (万元; year × zone).

    From a plan's firm table alone (``land_mu``, ``zone_id`` and the supply
    columns): each project pays the lease price in its lease years, then the
    price, until its term ends. Years ``start_year`` … ``start_year + plan_years − 1``.
    """
    years = np.arange(int(start_year), int(start_year) + int(plan_years))
    has = firms["supply_mode"].notna() if "supply_mode" in firms else pd.Series(False, firms.index)
    sub = firms[has]
    zones = sorted({str(z) for z in sub["zone_id"]}) if len(sub) else []
    out = pd.DataFrame(0.0, index=pd.Index(years, name="year"), columns=zones)
    for row in sub.itertuples(index=False):
        mode = SupplyMode(
            key=str(row.supply_mode),
            years=float(row.supply_years),
            price_yuan_per_mu_year=float(row.land_price_yuan_per_mu_year),
            lease_years=float(row.lease_years),
            lease_price_yuan_per_mu_year=float(row.lease_price_yuan_per_mu_year),
        )
        out[str(row.zone_id)] += mode.income_yuan_per_mu(plan_years) * float(row.land_mu) / 1.0e4
    return out


def land_income_frame(
    firms: pd.DataFrame, scenario: Mapping[str, Any], zone_name: Callable[[str], str]
) -> pd.DataFrame:
    """Return the land income table of a run for people: ``year``, a column per zone, ``total_wan``.

    ``scenario`` is a run's resolved scenario (nested dict); zones are named by
    ``zone_name``. Empty when the run carries no supply modes (written before them).
    """
    if "supply_mode" not in firms or not firms["supply_mode"].notna().any():
        return pd.DataFrame()
    land = scenario.get("land", {}) if isinstance(scenario, Mapping) else {}
    table = land_income_by_year(
        firms, int(land.get("supply_start_year", 2026)), int(land.get("supply_plan_years", 20))
    )
    out = table.rename(columns={z: zone_name(z) for z in table.columns})
    out["total_wan"] = table.sum(axis=1)
    return out.reset_index()


def land_returned_mu(firms: pd.DataFrame, by_year: int) -> pd.Series:
    """Land (mu) of admitted projects whose term ends by ``by_year``, per zone."""
    if "term_end_year" not in firms:
        return pd.Series(dtype=float)
    end = pd.to_numeric(firms["term_end_year"], errors="coerce")
    back = firms[end.notna() & (end <= by_year)]
    return back.groupby(back["zone_id"].astype(str))["land_mu"].sum().astype(float)


# ---------------------------------------------------------------- mixed use


@dataclass(frozen=True)
class UseRule:
    """Which project uses each plot land use admits (混合布局 compatibility table)."""

    path: str
    admits: dict[str, tuple[str, ...]]
    source: dict[str, str] = field(default_factory=dict)

    def admitted(self, land_use: str | None, use: str) -> bool:
        """Return True when a plot of ``land_use`` admits a project of ``use``."""
        return use in self.admits.get(str(land_use or ""), ())


def load_use_rule(name_or_path: str | os.PathLike[str] = "land_use_mix") -> UseRule:
    """Load a mixed-use compatibility table by name (``allocator/policy/<name>.toml``) or path."""
    from allocator.case.schema import LAND_USES
    from allocator.scoring.method import PolicyFile

    policy = PolicyFile.read(name_or_path)
    admits = policy.data.get("admits")
    if not isinstance(admits, dict):
        raise policy.bad("admits", t("land.error.not_table"))
    out: dict[str, tuple[str, ...]] = {}
    for lu, uses in admits.items():
        item = f"admits.{lu}"
        if lu not in LAND_USES:
            raise policy.bad(item, t("supply.error.land_use", known=", ".join(LAND_USES)))
        if not isinstance(uses, list) or any(u not in USES for u in uses):
            raise policy.bad(item, t("supply.error.use", known=", ".join(USES)))
        out[str(lu)] = tuple(str(u) for u in uses)
    return UseRule(path=policy.path, admits=out, source=policy.source)


def firm_uses(firms: pd.DataFrame) -> np.ndarray:
    """Each firm's use (:data:`USES`): the case's optional ``use`` column, missing = industrial."""
    if "use" not in firms:
        return np.full(len(firms), DEFAULT_USE, dtype=object)
    col = firms["use"]
    return np.array([u if isinstance(u, str) and u else DEFAULT_USE for u in col], dtype=object)


def parcel_admits(rule: UseRule, parcel_land_uses: Iterable[Iterable[Any]], use: str) -> np.ndarray:
    """Return True per parcel when every plot's land use admits ``use``."""
    return np.array([all(rule.admitted(lu, use) for lu in lus) for lus in parcel_land_uses])
