"""The headline figures of a plan: one key set, one function, one label table.

:func:`compute_kpis` reads them from a result's firm and plot tables with plain
pandas (the same tables a run folder holds, so a run read back gives the same
figures); the CLI summary, the app's KPI table, the Excel summary and compare
all show :class:`Kpis` through :func:`kpi_label` and :func:`format_kpi`.
A run without a plan has no figures: every value is None, shown as ``—``,
never as 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from allocator.i18n import normalize_lang, t
from allocator.units import planner_unit

KPI_KEYS: tuple[str, ...] = (
    "value_added_wan",
    "value_added_before_wan",
    "tax_wan",
    "tax_before_wan",
    "energy_tce",
    "energy_before_tce",
    "electricity_mwh",
    "electricity_before_mwh",
    "land_used_mu",
    "land_allocated_mu",
    "firms_served",
    "applicants",
    "applicants_admitted",
    "firms_moved_out",
    "floor_area_added_m2",
    "land_saved_mu",
    "idle_floor_area_reused_m2",
    "zones_reaching_a_class",
    "zones_reaching_a_class_before",
    "land_income_wan",
    "land_returned_mu",
    "mountain_firms_served",
    "mountain_projects_admitted",
    "mountain_land_mu",
    "mountain_energy_tce",
)
"""Every KPI, in display order. Units are in the names (DATA.md, MODEL.md)."""

COUNT_KPIS: frozenset[str] = frozenset(
    {
        "firms_served",
        "applicants",
        "applicants_admitted",
        "firms_moved_out",
        "zones_reaching_a_class",
        "zones_reaching_a_class_before",
        "mountain_firms_served",
        "mountain_projects_admitted",
    }
)
"""KPIs that count firms: shown without decimals."""

HEADLINE_KPIS: tuple[str, ...] = (
    "value_added_wan",
    "tax_wan",
    "energy_tce",
    "electricity_mwh",
    "land_used_mu",
    "firms_served",
    "applicants_admitted",
    "firms_moved_out",
)
"""The KPIs a page or a brief shows first (the ``*_before_*`` ones are their baselines)."""

MEASURE_KPIS: tuple[str, ...] = (
    "zones_reaching_a_class",
    "floor_area_added_m2",
    "land_saved_mu",
    "idle_floor_area_reused_m2",
    "land_income_wan",
    "land_returned_mu",
    "mountain_projects_admitted",
    "mountain_land_mu",
    "mountain_energy_tce",
)
"""The land measures' KPIs (plot-ratio upgrades, idle plants, land terms, A class, 山区26县):
shown after the headline ones wherever a run has them (:func:`shown_kpis`)."""


def shown_kpis(*runs_kpis: Mapping[str, Any] | Kpis | None) -> tuple[str, ...]:
    """Return the headline KPIs, then each land measure any of these runs has (non-zero).

    A measure no run uses (no upgrade, no 26县 reserve) is left out of the table.
    """

    def used(key: str) -> bool:
        for k in runs_kpis:
            value = None if k is None else k.get(key)
            if isinstance(value, int | float) and math.isfinite(value) and value != 0:
                return True
        return False

    return HEADLINE_KPIS + tuple(k for k in MEASURE_KPIS if used(k))


KPI_UNITS: dict[str, str] = {
    "electricity_mwh": "MWh",
    "electricity_before_mwh": "MWh",
}
"""KPIs whose internal unit is not the one planners read: shown through
:func:`allocator.units.planner_unit` (electricity in 万千瓦时, kept in MWh in the data)."""


@dataclass(frozen=True)
class Kpis:
    """The KPI values of one plan (None for each when there is no plan)."""

    values: Mapping[str, float | None] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float | None:
        """Return the value of ``key`` (None when unknown or when there is no plan)."""
        if key not in KPI_KEYS:
            raise KeyError(key)
        return self.values.get(key)

    def get(self, key: str, default: float | None = None) -> float | None:
        """Return the value of ``key``, or ``default`` when it is missing."""
        value = self.values.get(key)
        return default if value is None else value

    def __iter__(self) -> Iterator[str]:
        """Return the keys, in display order."""
        return iter(KPI_KEYS)

    def items(self) -> list[tuple[str, float | None]]:
        """``(key, value)`` in display order."""
        return [(k, self.values.get(k)) for k in KPI_KEYS]

    @property
    def has_plan(self) -> bool:
        """True when the figures come from a plan."""
        return any(v is not None for v in self.values.values())

    def to_dict(self) -> dict[str, float | None]:
        """Plain dict for JSON (``summary.json`` → ``kpis``)."""
        return dict(self.items())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Kpis:
        """Read :meth:`to_dict` output back; unknown keys are dropped.

        Run folders written before the key set was unified used ``firms_exited``
        and ``land_mu`` in places; those are mapped to today's keys.
        """
        data = dict(data or {})
        legacy = {"firms_exited": "firms_moved_out"}
        for old, new in legacy.items():
            if old in data and new not in data:
                data[new] = data[old]
        return cls({k: _float(data.get(k)) for k in KPI_KEYS})

    @classmethod
    def none(cls) -> Kpis:
        """Return the figures of a run without a plan: every value None."""
        return cls({k: None for k in KPI_KEYS})


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return pd.to_numeric(frame[name], errors="coerce").fillna(0.0)
    return pd.Series(0.0, index=frame.index)


def compute_kpis(
    firms: pd.DataFrame, plots: pd.DataFrame, zones: pd.DataFrame | None = None
) -> Kpis:
    """Compute every KPI from a plan's firm and plot tables (plain pandas).

    ``firms`` needs ``kind``, ``served`` and the quantity columns (after, and
    ``*_before_*`` for the present state); ``plots`` needs ``area_mu`` and
    ``firm_id_after``. Land used is the area of the plots that hold a firm
    after the plan; land allocated is the land of the admitted projects.
    Floor area added and land saved are the plot-ratio upgrades' (``far_upgrade``):
    the land saved is what the same growth would have needed on new land at the
    firm's own 亩均 value added; idle floor area reused is the floor area of the idle
    plants the admitted projects move into (``idle_reuse``). Each is 0 in tables
    written before its family existed. Zones reaching A class (after and before)
    count the ``a_class_after`` / ``a_class_before`` flags of ``zones`` (None
    without them).
    """
    served = firms["served"].fillna(False).astype(bool)
    applicant = firms["kind"].astype(str) == "applicant"

    def total(name: str, mask: pd.Series | None = None) -> float:
        values = _col(firms, name)
        return float(values[mask].sum() if mask is not None else values.sum())

    values: dict[str, float | None] = {
        "value_added_wan": total("value_added_wan", served),
        "value_added_before_wan": total("value_added_before_wan"),
        "tax_wan": total("tax_wan", served),
        "tax_before_wan": total("tax_before_wan"),
        "energy_tce": total("energy_tce", served),
        "energy_before_tce": total("energy_before_tce"),
        "electricity_mwh": total("electricity_mwh", served),
        "electricity_before_mwh": total("electricity_before_mwh"),
        "land_used_mu": float(_col(plots, "area_mu")[plots["firm_id_after"].notna()].sum())
        if "firm_id_after" in plots.columns
        else None,
        "land_allocated_mu": total("land_mu", served & applicant),
        "firms_served": float(served.sum()),
        "applicants": float(applicant.sum()),
        "applicants_admitted": float((served & applicant).sum()),
        "firms_moved_out": float((~served & ~applicant).sum()),
        "floor_area_added_m2": total("floor_area_added_m2", served),
        "land_saved_mu": total("land_saved_mu", served),
        "idle_floor_area_reused_m2": total("idle_floor_reused_m2", served & applicant),
        "zones_reaching_a_class": _count(zones, "a_class_after"),
        "zones_reaching_a_class_before": _count(zones, "a_class_before"),
        "land_income_wan": total("land_income_wan", served & applicant),
        "land_returned_mu": total("land_returned_mu", served & applicant),
        **_mountain_kpis(firms, served, applicant),
    }
    return Kpis(values)


def _mountain_kpis(
    firms: pd.DataFrame, served: pd.Series, applicant: pd.Series
) -> dict[str, float | None]:
    """山区26县 figures (``mountain_26`` flags of the firm table; None in older tables).

    Firms and projects served, projects admitted, the land of the admitted projects
    and the energy of every served 26县 firm or project.
    """
    if "mountain_26" not in firms.columns:
        return dict.fromkeys(
            (
                "mountain_firms_served",
                "mountain_projects_admitted",
                "mountain_land_mu",
                "mountain_energy_tce",
            )
        )
    m = firms["mountain_26"].fillna(False).astype(bool) & served
    return {
        "mountain_firms_served": float(m.sum()),
        "mountain_projects_admitted": float((m & applicant).sum()),
        "mountain_land_mu": float(_col(firms, "land_mu")[m & applicant].sum()),
        "mountain_energy_tce": float(_col(firms, "energy_tce")[m].sum()),
    }


def _count(zones: pd.DataFrame | None, column: str) -> float | None:
    """Count the True values of a zone flag; None when the zone table lacks it (older runs)."""
    if zones is None or column not in zones.columns:
        return None
    return float(zones[column].fillna(False).astype(bool).sum())


def kpi_label(key: str, lang: str | None = None) -> str:
    """Return the planner's name of a KPI with its unit (``用电量（万千瓦时）``).

    A unit that differs from the data's is filled in from the display rule.
    """
    unit = KPI_UNITS.get(key)
    if unit is None:
        return t(f"kpi.{key}", lang)
    return t(f"kpi.{key}", lang, unit=planner_unit(unit, normalize_lang(lang))[1])


def kpi_value(key: str, value: float | None) -> float | None:
    """Return a KPI value in the unit its label names (MWh → 万千瓦时); None stays None.

    The data keep the internal unit (``electricity_mwh``); every place a person
    reads a KPI (CLI, app, Excel summary, brief) shows this value.
    """
    if value is None:
        return None
    unit = KPI_UNITS.get(key)
    return float(value) * planner_unit(unit)[0] if unit else value


def format_kpi(key: str, value: float | None) -> str:
    """Return a KPI value for people: thousands separated, ``—`` when there is no plan.

    ``value`` is in the internal unit; it is shown in the label's unit
    (:func:`kpi_value`). Counts and quantities of 1,000 or more are whole
    numbers (``52,500``); smaller quantities keep one decimal (``437.5``).
    """
    if value is None or not math.isfinite(float(value)):
        return "—"
    v = float(kpi_value(key, value))  # type: ignore[arg-type]
    if key in COUNT_KPIS or abs(v) >= 1000:
        return f"{round(v):,d}"
    return f"{v:,.1f}"


def format_delta(key: str, delta: float | None) -> str:
    """Return a KPI change with its sign (``+1,234``, ``-56``); ``—`` when a side has no plan.

    The minus is ASCII so that Streamlit's metric colours a fall as a fall.
    """
    if delta is None or not math.isfinite(float(delta)):
        return "—"
    text = format_kpi(key, abs(float(delta)))
    if text in ("0", "0.0"):
        return "0"
    return ("+" if delta > 0 else "-") + text


BEFORE_KPIS: dict[str, str] = {
    "value_added_wan": "value_added_before_wan",
    "tax_wan": "tax_before_wan",
    "energy_tce": "energy_before_tce",
    "electricity_mwh": "electricity_before_mwh",
    "zones_reaching_a_class": "zones_reaching_a_class_before",
}
"""The present-state KPI of each planned quantity (for before → after tables)."""
