"""Land measures of the seed policy (浙政办发〔2023〕3号, 加大用地支持): the county rules.

The plot-ratio upgrade rule (``allocator/policy/far_upgrade_default.toml`` or a
county's copy) says which 亩均 classes may raise the plot ratio of the plots they
hold, what an added m² of floor area costs and how output grows with floor area;
:func:`firm_floor_area` turns the case's ``far`` / ``far_max`` into each firm's
floor area now and headroom. ``allocator.prepare`` feeds both to the
``far_upgrade`` family of ``models.allocation``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from allocator.i18n import t
from allocator.units import M2_PER_MU
from models.data import CLASSES


@dataclass(frozen=True)
class FarRule:
    """A county's plot-ratio upgrade rule (values per industry prefix where given)."""

    path: str
    eligible_classes: tuple[str, ...]
    cost_yuan_per_m2: float
    amortisation_years: float
    output_elasticity: float
    industry: dict[str, dict[str, float]] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)

    def _value(self, industry: str | None, key: str) -> float:
        best, value = -1, float(getattr(self, key))
        code = str(industry or "")
        for prefix, over in self.industry.items():
            if key in over and code.startswith(prefix) and len(prefix) > best:
                best, value = len(prefix), float(over[key])
        return value

    def annual_cost_wan_per_m2(
        self, industry: str | None = None, cost_yuan_per_m2: float | None = None
    ) -> float:
        """Cost of one added m² per year of the plan (万元): cost ÷ amortisation years.

        ``cost_yuan_per_m2`` (a scenario's override) replaces the rule's cost.
        """
        cost = (
            self._value(industry, "cost_yuan_per_m2")
            if cost_yuan_per_m2 is None
            else cost_yuan_per_m2
        )
        return float(cost) / 1.0e4 / self._value(industry, "amortisation_years")

    def elasticity(self, industry: str | None = None) -> float:
        """Output elasticity to floor area for ``industry`` (longest prefix wins)."""
        return self._value(industry, "output_elasticity")


def load_far_rule(name_or_path: str | os.PathLike[str] = "far_upgrade_default") -> FarRule:
    """Load a plot-ratio upgrade rule by name (``allocator/policy/<name>.toml``) or path.

    Raises :class:`ScenarioError` naming the file and key for a missing or bad value.
    """
    from allocator.scoring.method import PolicyFile

    policy = PolicyFile.read(name_or_path)
    data = policy.data
    classes = data.get("eligible_classes")
    if not isinstance(classes, list) or any(c not in CLASSES for c in classes):
        raise policy.bad("eligible_classes", t("land.error.classes", known="/".join(CLASSES)))
    industry: dict[str, dict[str, float]] = {}
    for prefix, over in (data.get("industry") or {}).items():
        if not isinstance(over, dict):
            raise policy.bad(f"industry.{prefix}", t("land.error.not_table"))
        industry[str(prefix)] = {
            k: policy.number(over, k, f"industry.{prefix}.{k}", positive=k == "amortisation_years")
            for k in over
            if k in ("cost_yuan_per_m2", "amortisation_years", "output_elasticity")
        }
    return FarRule(
        path=policy.path,
        eligible_classes=tuple(str(c) for c in classes),
        cost_yuan_per_m2=policy.number(data, "cost_yuan_per_m2"),
        amortisation_years=policy.number(data, "amortisation_years", positive=True),
        output_elasticity=policy.number(data, "output_elasticity"),
        industry=industry,
        source=policy.source,
    )


@dataclass(frozen=True)
class IdleRule:
    """What a project saves per m² of idle floor area it reuses (盘活闲置厂房)."""

    path: str
    saving_yuan_per_m2: float
    amortisation_years: float
    source: dict[str, str] = field(default_factory=dict)

    @property
    def saving_wan_per_m2(self) -> float:
        """Saving per reused m² and year of the plan (万元): saving ÷ amortisation years."""
        return self.saving_yuan_per_m2 / 1.0e4 / self.amortisation_years


def load_idle_rule(name_or_path: str | os.PathLike[str] = "idle_reuse_default") -> IdleRule:
    """Load an idle-plant rule by name (``allocator/policy/<name>.toml``) or path.

    Raises :class:`ScenarioError` naming the file and key for a missing or bad value.
    """
    from allocator.scoring.method import PolicyFile

    policy = PolicyFile.read(name_or_path)
    return IdleRule(
        path=policy.path,
        saving_yuan_per_m2=policy.number(policy.data, "saving_yuan_per_m2"),
        amortisation_years=policy.number(policy.data, "amortisation_years", positive=True),
        source=policy.source,
    )


def idle_floor_area(status: pd.Series, area_mu: pd.Series, far: pd.Series) -> pd.Series:
    """Floor area of each idle plot (m²): ``area · far`` where the plot is idle, else 0.

    An idle plot without ``far`` has no known floor area and counts 0.
    """
    far = pd.to_numeric(far, errors="coerce").fillna(0.0)
    area_m2 = pd.to_numeric(area_mu, errors="coerce").fillna(0.0) * M2_PER_MU
    return (area_m2 * far).where(status.astype(str) == "idle", 0.0)


def firm_floor_area(
    occupant: pd.Series, area_mu: pd.Series, far: pd.Series, far_max: pd.Series
) -> pd.DataFrame:
    """Floor area now and headroom per occupant firm, in m² (plots aligned by index).

    ``floor_area_m2 = Σ area · far`` and ``headroom_m2 = Σ area · max(far_max − far, 0)``
    over the firm's plots; a plot without ``far`` counts for neither (its floor
    area is unknown, so no upgrade is offered on it).
    """
    far = pd.to_numeric(far, errors="coerce")
    far_max = pd.to_numeric(far_max, errors="coerce")
    known = occupant.notna() & far.notna()
    area_m2 = pd.to_numeric(area_mu, errors="coerce").fillna(0.0) * M2_PER_MU
    frame = pd.DataFrame(
        {
            "firm_id": occupant[known].astype(str),
            "floor_area_m2": (area_m2 * far)[known],
            "headroom_m2": (area_m2 * (far_max.fillna(far) - far).clip(lower=0.0))[known],
        }
    )
    return frame.groupby("firm_id")[["floor_area_m2", "headroom_m2"]].sum()


def zone_km2(
    approved_km2: np.ndarray, zone_area_mu: np.ndarray, plots_mu: np.ndarray
) -> np.ndarray:
    """Each zone's area for the national assessment's per-km² indicators (km²).

    The approved (fenced) area where the case gives it, else the zone polygon's
    area, else the area of its plots.
    """
    from allocator.units import MU_PER_KM2

    km2 = np.asarray(approved_km2, dtype=float)
    km2 = np.where(np.isfinite(km2) & (km2 > 0), km2, np.asarray(zone_area_mu, float) / MU_PER_KM2)
    return np.where(np.isfinite(km2) & (km2 > 0), km2, np.asarray(plots_mu, float) / MU_PER_KM2)


REACH_RTOL = 1e-6
"""Relative tolerance of an A-class threshold (the solver's feasibility tolerance)."""


@dataclass(frozen=True)
class AssessmentRule:
    """A-class thresholds of the national assessment indicators the plan changes."""

    path: str
    min_tax_wan_per_km2: float
    min_va_wan_per_km2: float
    min_developed_share: float
    source: dict[str, str] = field(default_factory=dict)
    target_share: Fraction | None = None
    """The policy's goal: this share of the province's zones in A class (None: not given)."""

    def target_zones(self, n_zones: int) -> int:
        """Default target of ``a_class_target``: ⌈target_share × n_zones⌉ (the policy's goal).

        A rule file without ``target_share`` takes the default rule's.
        """
        share = self.target_share
        if share is None:
            share = load_assessment_rule().target_share or Fraction(0)
        return math.ceil(share * n_zones)

    def reaches(
        self, tax_per_km2: np.ndarray, va_per_km2: np.ndarray, share: np.ndarray
    ) -> np.ndarray:
        """Return True where a zone meets every threshold (a missing indicator does not).

        A value within :data:`REACH_RTOL` below a threshold meets it: a plan the
        solver lifts onto a threshold lands there up to its feasibility tolerance.
        """
        keep = 1.0 - REACH_RTOL
        with np.errstate(invalid="ignore"):
            return (
                (np.nan_to_num(tax_per_km2, nan=-1.0) >= self.min_tax_wan_per_km2 * keep)
                & (np.nan_to_num(va_per_km2, nan=-1.0) >= self.min_va_wan_per_km2 * keep)
                & (np.nan_to_num(share, nan=-1.0) >= self.min_developed_share * keep)
            )


def load_assessment_rule(
    name_or_path: str | os.PathLike[str] = "assessment_a_class",
) -> AssessmentRule:
    """Load the A-class thresholds by name (``allocator/policy/<name>.toml``) or path."""
    from allocator.scoring.method import PolicyFile

    policy = PolicyFile.read(name_or_path)
    data = policy.data
    values = {
        key: policy.number(data, key)
        for key in ("min_tax_wan_per_km2", "min_va_wan_per_km2", "min_developed_share")
    }
    share = None
    if "target_share" in data:
        try:
            share = Fraction(str(data["target_share"]))
        except (ValueError, ZeroDivisionError):
            share = Fraction(-1)
        if not 0 <= share <= 1:
            raise policy.bad("target_share", t("aclass.error.share"))
    return AssessmentRule(path=policy.path, source=policy.source, target_share=share, **values)
