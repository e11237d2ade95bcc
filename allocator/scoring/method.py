"""Scoring methods held as data: the indicator catalogue and TOML method files.

A method file (``allocator/policy/<name>.toml`` or any path) says, per pool
(``above`` 规上 industrial, ``below`` 规下 industrial, ``service``), which
indicators count, with what weight, against which benchmark, with what cap and
what to do with missing data; plus the class bands and the ``unrated`` rules.
Every file carries a ``[source]`` table (document, number, URL, tag). Files may
``include`` other policy files (deep-merged, the including file wins), so the
service weights and class bands live once.

The indicator *definitions* (which columns divide which) are the provincial
definitions (domain-facts §1.3) and live here in code; every *number* lives in
the TOML files.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from allocator.errors import ScenarioError
from allocator.i18n import t
from allocator.units import (
    MWH_PER_WAN_KWH,
    REVENUE_ABOVE_SIZE_WAN,
    TCE_PER_MWH_CALORIFIC,
    TCE_PER_MWH_EQUIVALENT,
)
from models.data import CLASSES

POLICY_DIR = Path(__file__).resolve().parents[1] / "policy"
POOLS: tuple[str, ...] = ("above", "below", "service")

LAND = "__land__"
"""Pseudo-column: land of the intensities (existing: ``land_mu``; applicants: ``land_max_mu``)."""
ENERGY = "__energy__"
"""Pseudo-column: total energy on the method's basis (``energy_tce``, converted if needed)."""
EMISSIONS = "__emissions__"
"""Pseudo-column: main pollutant emissions ``cod_t + nh3n_t + so2_t + nox_t`` (t)."""


@dataclass(frozen=True)
class Indicator:
    """An indicator ``numerator / (denominator / den_per_unit)``; higher is always better."""

    key: str
    numerator: str
    denominator: str
    unit: str
    den_per_unit: float = 1.0
    """Denominator column units per indicator unit (MWh per 万kWh = 10)."""


INDICATORS: dict[str, Indicator] = {
    ind.key: ind
    for ind in (
        Indicator("tax_per_mu", "tax_wan", LAND, "万元/亩"),
        Indicator("va_per_mu", "value_added_wan", LAND, "万元/亩"),
        Indicator("va_per_energy", "value_added_wan", ENERGY, "万元/tce"),
        Indicator("va_per_emission", "value_added_wan", EMISSIONS, "万元/t"),
        Indicator("va_per_employee", "value_added_wan", "employees", "万元/人"),
        Indicator("rd_share", "rd_wan", "revenue_wan", "—"),
        # 税收 per electricity in 万元/万kWh (= 元/kWh): electricity_mwh / 10 = 万kWh.
        Indicator("tax_per_electricity", "tax_wan", "electricity_mwh", "元/kWh", MWH_PER_WAN_KWH),
        Indicator("revenue_per_mu", "revenue_wan", LAND, "万元/亩"),
        Indicator(
            "revenue_per_electricity", "revenue_wan", "electricity_mwh", "元/kWh", MWH_PER_WAN_KWH
        ),
    )
}
"""The indicators a method may use (domain-facts §1.3, §1.6)."""

Benchmark = float | Literal["pool_mean", "pool_aggregate"]
OnMissing = Literal["not_scorable", "pool_average"]


@dataclass(frozen=True)
class IndicatorRule:
    """How one indicator counts in one pool."""

    key: str
    weight: float
    benchmark: Benchmark = "pool_mean"
    benchmark_multiple: float = 1.0
    cap: float | None = None
    """Partial score ≤ cap × weight (None: no cap)."""
    on_missing: OnMissing = "not_scorable"
    """Missing denominator or numerator data: firm not scorable, or the pool-average partial."""
    on_zero: OnMissing = "not_scorable"
    """Zero denominator: firm not scorable, or the pool-average partial."""

    @property
    def indicator(self) -> Indicator:
        """The indicator definition."""
        return INDICATORS[self.key]


@dataclass(frozen=True)
class ClassRules:
    """Rank-percentile class bands and who is unrated."""

    bands: tuple[tuple[str, float], ...] = (("A", 0.20), ("B", 0.80), ("C", 0.95), ("D", 1.0))
    """Cumulative upper rank-percentile bound of each class, best first."""
    jurisdiction: Literal["case", "city", "county", "zone"] = "county"
    separate_pools: bool = True
    industry_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(group name, industry code prefixes); firms matching none go to ``other_group``."""
    other_group: str = "其他"
    min_years: int = 2
    """Existing firms founded fewer than this many years before the evaluation year are unrated."""
    unrated_industry_prefixes: tuple[str, ...] = ("D44", "D45", "D46")
    unrated_under_construction: bool = True


@dataclass(frozen=True)
class ScoringMethod:
    """A complete scoring method: indicator rules per pool, class rules, energy basis."""

    name: str
    kind: Literal["benchmark_ratio", "minmax"]
    pools: dict[str, tuple[IndicatorRule, ...]]
    classes: ClassRules = field(default_factory=ClassRules)
    source: dict[str, str] = field(default_factory=dict)
    title: str = ""
    evaluation_year: int | None = None
    above_size_revenue_wan: float = REVENUE_ABOVE_SIZE_WAN
    energy_basis: Literal["equivalent", "calorific"] = "equivalent"
    """Basis the method's energy indicator is defined on (Huangyan: 等价值)."""
    input_energy_basis: Literal["equivalent", "calorific"] = "equivalent"
    """Basis of the firms' ``energy_tce``; the electricity part is converted when they differ."""
    electricity_tce_per_mwh: dict[str, float] = field(
        default_factory=lambda: {
            "calorific": TCE_PER_MWH_CALORIFIC,
            "equivalent": TCE_PER_MWH_EQUIVALENT,
        }
    )
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def rules(self, pool: str) -> tuple[IndicatorRule, ...]:
        """Return the indicator rules of ``pool`` (empty when the method does not score it)."""
        return self.pools.get(pool, ())

    @property
    def indicator_keys(self) -> list[str]:
        """Every indicator used by any pool, in first-seen order."""
        seen: dict[str, None] = {}
        for pool in POOLS:
            for rule in self.rules(pool):
                seen[rule.key] = None
        return list(seen)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def resolve_policy_path(name_or_path: str | os.PathLike[str]) -> Path:
    """Return the file of a policy name (``allocator/policy/<name>.toml``) or path."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix.lower() == ".toml" or os.sep in text or "/" in text:
        if not path.exists() and (POLICY_DIR / path.name).exists() and path.parent.name == "policy":
            path = POLICY_DIR / path.name
    else:
        path = POLICY_DIR / f"{text}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in POLICY_DIR.glob("*.toml")))
        raise ScenarioError(
            t("scoring.error.no_method", path=str(path)), hint=t("scoring.hint.known", known=known)
        )
    return path


def read_policy(name_or_path: str | os.PathLike[str], _seen: tuple[Path, ...] = ()) -> dict:
    """Read a policy TOML with its ``include`` chain merged (the including file wins)."""
    path = resolve_policy_path(name_or_path)
    if path in _seen:
        raise ScenarioError(t("scoring.error.include_loop", path=str(path)))
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(t("scoring.error.bad_toml", path=str(path), error=str(exc))) from exc
    merged: dict[str, Any] = {}
    for inc in data.pop("include", []):
        inc_path = path.parent / f"{inc}.toml" if not str(inc).endswith(".toml") else Path(inc)
        if not inc_path.exists():
            inc_path = resolve_policy_path(inc)
        sub = read_policy(inc_path, (*_seen, path))
        sub.pop("source", None)
        merged = _deep_merge(merged, sub)
    merged = _deep_merge(merged, data)
    merged["__path__"] = str(path)
    return merged


RULE_MESSAGE = "land.error.bad_rule"
"""The message of a bad value in a rule file (land, supply, mixed use, A-class thresholds)."""


@dataclass(frozen=True)
class PolicyFile:
    """A policy file read for a loader: its merged data, its path and its bad-value errors.

    The policy loaders (:mod:`allocator.land`, :mod:`allocator.land_supply`,
    :mod:`allocator.pricing`) share it, so a bad value is refused the same way in
    each: one :class:`ScenarioError` naming the file, the item (key, or
    ``rule[k]`` row) and what is wrong, in the loader's ``message``.
    """

    data: dict[str, Any]
    path: str
    message: str = RULE_MESSAGE
    """The i18n key of a bad value (fields ``path``, ``item``, ``why``)."""

    @classmethod
    def read(cls, name_or_path: str | os.PathLike[str], message: str = RULE_MESSAGE) -> PolicyFile:
        """Read a policy by name (``allocator/policy/<name>.toml``) or path: :func:`read_policy`."""
        data = read_policy(name_or_path)
        return cls(data, str(data.get("__path__", name_or_path)), message)

    def bad(self, item: str, why: str) -> ScenarioError:
        """Return the error of a bad value: this file, ``item``, ``why`` (how to fix it)."""
        return ScenarioError(t(self.message, path=self.path, item=item, why=why))

    def number(
        self, table: Mapping[str, Any], key: str, item: str | None = None, positive: bool = False
    ) -> float:
        """Return ``table[key]`` as a number, or raise :meth:`bad` naming ``item`` (or ``key``).

        A missing, non-numeric, non-finite or negative value (zero too when
        ``positive``) is refused.
        """
        item = key if item is None else item
        if key not in table:
            raise self.bad(item, t("land.error.missing"))
        try:
            value = float(table[key])
        except (TypeError, ValueError):
            raise self.bad(item, t("land.error.not_number")) from None
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            why = "land.error.not_positive" if positive else "land.error.negative"
            raise self.bad(item, t(why))
        return value

    @property
    def source(self) -> dict[str, str]:
        """The file's ``[source]`` table (document, number, URL…) as text."""
        return {str(k): str(v) for k, v in (self.data.get("source") or {}).items()}


def _bad(path: str, key: str, why: str) -> ScenarioError:
    return ScenarioError(t("scoring.error.bad_value", path=path, item=key, why=why))


def _rule(path: str, pool: str, raw: dict[str, Any], defaults: dict[str, Any]) -> IndicatorRule:
    key = raw.get("key")
    where = f"pools.{pool}.indicators.{key}"
    if key not in INDICATORS:
        raise _bad(path, where, f"unknown indicator; known: {', '.join(INDICATORS)}")
    unknown = set(raw) - {
        "key",
        "weight",
        "benchmark",
        "benchmark_multiple",
        "cap",
        "on_missing",
        "on_zero",
        "note",
    }
    if unknown:
        raise _bad(path, where, f"unknown keys {sorted(unknown)}")
    weight = float(raw.get("weight", math.nan))
    if not (weight > 0 and math.isfinite(weight)):
        raise _bad(path, f"{where}.weight", "must be a positive number")
    bench = raw.get("benchmark", "pool_mean")
    if isinstance(bench, str):
        if bench not in ("pool_mean", "pool_aggregate"):
            raise _bad(path, f"{where}.benchmark", "a number, 'pool_mean' or 'pool_aggregate'")
    else:
        bench = float(bench)
        if not bench > 0:
            raise _bad(path, f"{where}.benchmark", "must be > 0")
    cap = raw.get("cap", defaults.get("cap"))
    if cap is not None:
        cap = float(cap)
        if not cap > 0:
            raise _bad(path, f"{where}.cap", "must be > 0 (a multiple of the weight)")
    on_missing = raw.get("on_missing", "not_scorable")
    on_zero = raw.get("on_zero", "not_scorable")
    for name, val in (("on_missing", on_missing), ("on_zero", on_zero)):
        if val not in ("not_scorable", "pool_average"):
            raise _bad(path, f"{where}.{name}", "'not_scorable' or 'pool_average'")
    return IndicatorRule(
        key=key,
        weight=weight,
        benchmark=bench,
        benchmark_multiple=float(raw.get("benchmark_multiple", 1.0)),
        cap=cap,
        on_missing=on_missing,
        on_zero=on_zero,
    )


def method_from_dict(data: dict[str, Any], name: str = "method") -> ScoringMethod:
    """Build a :class:`ScoringMethod` from a merged policy dict (see module docstring)."""
    path = str(data.get("__path__", name))
    kind = data.get("kind", "benchmark_ratio")
    if kind not in ("benchmark_ratio", "minmax"):
        raise _bad(path, "kind", "'benchmark_ratio' or 'minmax'")
    defaults = {"cap": data.get("cap")}
    pools: dict[str, tuple[IndicatorRule, ...]] = {}
    for pool, spec in (data.get("pools") or {}).items():
        if pool not in POOLS:
            raise _bad(path, f"pools.{pool}", f"pool must be one of {', '.join(POOLS)}")
        rules = tuple(_rule(path, pool, r, defaults) for r in spec.get("indicators", []))
        keys = [r.key for r in rules]
        if len(set(keys)) != len(keys):
            raise _bad(path, f"pools.{pool}", "an indicator is listed twice")
        if rules:
            pools[pool] = rules
    if not pools:
        raise _bad(path, "pools", "no pool has indicators")
    cls = data.get("classes") or {}
    bands_raw = cls.get("bands", {"A": 0.20, "B": 0.80, "C": 0.95, "D": 1.0})
    bands = tuple((c, float(bands_raw[c])) for c in CLASSES if c in bands_raw)
    bounds = [b for _, b in bands]
    if (
        [c for c, _ in bands] != list(CLASSES)
        or bounds != sorted(bounds)
        or not math.isclose(bounds[-1], 1.0)
        or bounds[0] < 0
    ):
        raise _bad(path, "classes.bands", "A, B, C, D with rising cumulative shares ending at 1.0")
    juris = cls.get("jurisdiction", "county")
    if juris not in ("case", "city", "county", "zone"):
        raise _bad(path, "classes.jurisdiction", "'case', 'city', 'county' or 'zone'")
    groups = tuple(
        (str(g), tuple(str(p) for p in prefixes))
        for g, prefixes in (cls.get("industry_groups") or {}).items()
    )
    unrated = cls.get("unrated") or {}
    classes = ClassRules(
        bands=bands,
        jurisdiction=juris,
        separate_pools=bool(cls.get("separate_pools", True)),
        industry_groups=groups,
        other_group=str(cls.get("other_group", "其他")),
        min_years=int(unrated.get("min_years", 2)),
        unrated_industry_prefixes=tuple(unrated.get("industry_prefixes", ("D44", "D45", "D46"))),
        unrated_under_construction=bool(unrated.get("under_construction", True)),
    )
    energy = data.get("energy") or {}
    factors = {"calorific": TCE_PER_MWH_CALORIFIC, "equivalent": TCE_PER_MWH_EQUIVALENT}
    factors.update({k: float(v) for k, v in (energy.get("electricity_tce_per_mwh") or {}).items()})
    for key in ("basis", "input_basis"):
        if energy.get(key, "equivalent") not in ("equivalent", "calorific"):
            raise _bad(path, f"energy.{key}", "'equivalent' (等价值) or 'calorific' (当量值)")
    year = data.get("evaluation_year")
    return ScoringMethod(
        name=str(data.get("name", name)),
        kind=kind,
        pools=pools,
        classes=classes,
        source={k: str(v) for k, v in (data.get("source") or {}).items()},
        title=str(data.get("title", "")),
        evaluation_year=int(year) if year is not None else None,
        above_size_revenue_wan=float(data.get("above_size_revenue_wan", REVENUE_ABOVE_SIZE_WAN)),
        energy_basis=energy.get("basis", "equivalent"),
        input_energy_basis=energy.get("input_basis", "equivalent"),
        electricity_tce_per_mwh=factors,
        path=Path(path) if "__path__" in data else None,
        raw=data,
    )


def load_method(
    name_or_path: str | os.PathLike[str] | ScoringMethod = "huangyan_2022",
) -> ScoringMethod:
    """Load a scoring method by name (``allocator/policy/<name>.toml``) or path.

    Raises :class:`~allocator.errors.ScenarioError` naming the file and key of
    any bad value.
    """
    if isinstance(name_or_path, ScoringMethod):
        return name_or_path
    data = read_policy(name_or_path)
    return method_from_dict(data, name=Path(str(name_or_path)).stem)


def available_methods() -> list[str]:
    """Return the names of the complete scoring methods shipped in ``allocator/policy``.

    Fragments (``*_default`` files included by others) and price tables are
    left out; ``huangyan_2022`` (the default) comes first.
    """
    names = []
    for path in sorted(POLICY_DIR.glob("*.toml")):
        if path.stem.endswith("_default") or path.stem.startswith("price_"):
            continue
        try:
            load_method(path)
        except ScenarioError:
            continue
        names.append(path.stem)
    names.sort(key=lambda n: (n != "huangyan_2022", n))
    return names
