"""The zones' national assessment as a scenario target (issue 20, point 6).

The A-class thresholds (``allocator/policy/assessment_a_class.toml``, read by
:func:`allocator.land.load_assessment_rule`) are per km² of a zone's approved
area and a share of it; :func:`a_class_need` turns them into what each zone
needs in the model's own sums (tax 万元, value added 万元, developed land 亩),
:func:`a_class_model_inputs` adds the target n and the objective weight of a
scenario for ``models.allocation.a_class_reach`` / ``a_class_target``, and
:func:`a_class_gaps` says, per zone and indicator, what even the most any plan
can give falls short by (the diagnosis of an unreachable target).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from allocator.errors import ScenarioError
from allocator.i18n import t
from allocator.land import AssessmentRule, load_assessment_rule, zone_km2
from allocator.units import MU_PER_KM2
from models.data import A_CLASS_INDICATORS

INDICATOR_UNITS: dict[str, str] = {"tax": "万元", "value_added": "万元", "developed_land": "亩"}
"""Unit of each indicator's model sum (:data:`models.data.A_CLASS_INDICATORS`)."""


def a_class_km2(zones: pd.DataFrame, plot_zone: np.ndarray, plot_area_mu: np.ndarray) -> np.ndarray:
    """Each zone's area for the per-km² indicators (km²), as the zone table computes it."""
    nz = len(zones)
    ok = np.asarray(plot_zone) >= 0
    plots_mu = np.bincount(
        np.asarray(plot_zone)[ok], weights=np.asarray(plot_area_mu, float)[ok], minlength=nz
    )
    approved = (
        zones["approved_km2"].to_numpy(dtype=float)
        if "approved_km2" in zones
        else np.full(nz, np.nan)
    )
    area = zones["area_mu"].to_numpy(dtype=float) if "area_mu" in zones else np.full(nz, np.nan)
    return zone_km2(approved, area, plots_mu)


def a_class_need(rule: AssessmentRule, km2: np.ndarray) -> np.ndarray:
    """Return what each zone needs to reach A class, (Z, 3) along ``A_CLASS_INDICATORS``.

    Tax and value added per km² times the zone's km² (万元 a year), and the
    developed share times its area in 亩: the thresholds in the model's sums.
    """
    km2 = np.asarray(km2, float)
    return np.column_stack(
        [
            rule.min_tax_wan_per_km2 * km2,
            rule.min_va_wan_per_km2 * km2,
            rule.min_developed_share * km2 * MU_PER_KM2,
        ]
    )


def a_class_model_inputs(
    scenario: Any, zones: pd.DataFrame, plot_zone: np.ndarray, plot_area_mu: np.ndarray
) -> dict[str, Any]:
    """Return the ``ModelData`` fields of ``a_class_target`` (empty when it is off).

    ``assessment.target_mode = "constraint"`` (default) builds the count row
    with n = ``assessment.target_zones`` or, when 0, the policy's goal
    (:meth:`AssessmentRule.target_zones` of the case's zones);
    ``"objective"`` builds no row and needs ``assessment.zone_weight_wan`` > 0,
    the 万元 a zone reaching A class is worth in the objective (a weight may also
    come with the row).
    """
    if not bool(scenario["switches.a_class_target"]):
        return {}
    rule = load_assessment_rule(str(scenario["assessment.rule"]))
    km2 = a_class_km2(zones, plot_zone, plot_area_mu)
    weight = float(scenario["assessment.zone_weight_wan"])
    mode = str(scenario["assessment.target_mode"])
    if mode == "objective":
        if weight <= 0:
            raise ScenarioError(
                t("aclass.error.no_weight", name=scenario.name),
                hint=t("aclass.error.no_weight_hint"),
            )
        n = 0
    else:
        given = int(scenario.get("assessment.target_zones") or 0)
        n = rule.target_zones(len(zones)) if given <= 0 else given
    return {
        "zone_a_class_need": a_class_need(rule, km2),
        "a_class_target_zones": n,
        "a_class_weight_wan": weight,
    }


def a_class_gaps(data: Any, params: Any) -> pd.DataFrame:
    """Per zone and indicator: the need, the most any plan gives, and the gap (need − most).

    One row per zone whose most misses some threshold (presolve arithmetic of
    ``models.allocation.a_class_bounds``): ``zone_id``, ``indicator``, ``unit``,
    ``need``, ``most``, ``gap``. Empty when the family is off or every zone can
    still reach A class.
    """
    from models.allocation import a_class_bounds

    cols = ["zone_id", "indicator", "unit", "need", "most", "gap"]
    if data.zone_a_class_need is None or not params.on("a_class_target"):
        return pd.DataFrame(columns=cols)
    need = np.asarray(data.zone_a_class_need, float)
    _, high = a_class_bounds(data, params)
    rows = []
    for z in range(data.n_zones):
        for i, name in enumerate(A_CLASS_INDICATORS):
            n_zi = float(need[z, i])
            if np.isfinite(n_zi) and high[z, i] < n_zi - 1e-9 * max(1.0, abs(n_zi)):
                rows.append(
                    (
                        data.zone_ids[z],
                        name,
                        INDICATOR_UNITS[name],
                        n_zi,
                        float(high[z, i]),
                        n_zi - float(high[z, i]),
                    )
                )
    return pd.DataFrame(rows, columns=cols)


def indicator_label(indicator: str, lang: str | None = None) -> str:
    """Return the planner's name of an A-class indicator (税收, 增加值, 已开发土地)."""
    return t(f"aclass.indicator.{indicator}", lang)
