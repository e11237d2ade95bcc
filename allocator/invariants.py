"""Independent invariant checks: recompute every constraint family from the result tables.

This module deliberately shares no code with ``models/`` or with
:mod:`allocator.prepare`: it re-derives intensities, requests, caps and the
exit policy from the case and the scenario with plain pandas (DATA.md and
MODEL.md rules), and checks the per-firm / per-plot tables of a result
against them. A row is violated when ``lhs − rhs > tol · max(1, |rhs|)``
(default ``tol = 1e-6``), so solver round-off does not count.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from allocator.case.schema import split_list
from allocator.industry import catalogue_prefixes, in_catalogue
from allocator.units import TCE_PER_MWH_CALORIFIC

CLASS_LIST = ("A", "B", "C", "D")
POLLUTANT_LIST = ("cod", "nh3n", "so2", "nox")
M2_PER_MU_CHECK = 10_000.0 / 15.0
"""1 mu in m² (MODEL.md units), written here again: the checker shares no code with the model."""


@dataclass(frozen=True)
class Violation:
    """One violated row: ``lhs`` exceeds ``rhs`` by ``excess`` (in the row's units)."""

    family: str
    row: str
    lhs: float
    rhs: float
    message: str = ""

    @property
    def excess(self) -> float:
        """How far ``lhs`` is above ``rhs``."""
        return self.lhs - self.rhs

    def __str__(self) -> str:
        return f"{self.row}: {self.lhs:,.6g} > {self.rhs:,.6g} {self.message}".rstrip()


def _param(scenario: Any, key: str, default: Any = None) -> Any:
    """Read a dotted key from a Scenario, a flat dict or a nested dict (a run's scenario)."""
    if hasattr(scenario, "flat"):
        value = scenario.flat.get(key, default)
        return list(value) if isinstance(value, tuple) else value
    if key in scenario:
        return scenario[key]
    node: Any = scenario
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


class _Checker:
    def __init__(self, tol: float) -> None:
        self.tol = tol
        self.violations: list[Violation] = []

    def le(self, family: str, row: str, lhs: float, rhs: float, message: str = "") -> None:
        if not np.isfinite(rhs):
            return
        if lhs - rhs > self.tol * max(1.0, abs(rhs)):
            self.violations.append(Violation(family, row, float(lhs), float(rhs), message))

    def ge(self, family: str, row: str, lhs: float, rhs: float, message: str = "") -> None:
        self.le(family, row, -lhs, -rhs, message or "(floor: lhs and rhs negated)")

    def fail(self, family: str, row: str, message: str) -> None:
        self.violations.append(Violation(family, row, 1.0, 0.0, message))


def _firm_params(case: Any, scenario: Any, classes: pd.Series) -> pd.DataFrame:
    """Re-derive per-firm intensities and requests from the case (DATA.md)."""
    f = case.firms.copy()
    f["firm_id"] = f["firm_id"].astype(str)
    f = f.set_index("firm_id")

    def col(name: str) -> pd.Series:
        if name not in f:
            return pd.Series(np.nan, index=f.index)
        return pd.to_numeric(f[name], errors="coerce")

    applicant = f["kind"].astype(str) == "applicant"
    va = col("value_added_wan").fillna(0.0)
    coef = float(_param(scenario, "energy.electricity_coef_tce_per_mwh", TCE_PER_MWH_CALORIFIC))
    case_coef = float(
        _param(scenario, "energy.case_electricity_coef_tce_per_mwh", TCE_PER_MWH_CALORIFIC)
    )
    elec = col("electricity_mwh").fillna(0.0)
    raw = col("energy_tce")
    energy = (raw + (coef - case_coef) * elec).where(raw.notna(), coef * elec).clip(lower=0.0)
    per = va.where(va > 0)
    out = pd.DataFrame(index=f.index)
    out["applicant"] = applicant
    out["en"] = (energy / per).fillna(0.0)
    out["el"] = (elec / per).fillna(0.0)
    out["tax_va"] = (col("tax_wan").fillna(0.0) / per).fillna(0.0)
    for k in POLLUTANT_LIST:
        out[f"em_{k}"] = (col(f"{k}_t").fillna(0.0) / per).fillna(0.0)
    land_basis = col("land_max_mu").where(applicant, col("land_mu")).fillna(0.0)
    out["va_mu"] = (va / land_basis.where(land_basis > 0)).fillna(0.0)
    out["o0"] = va.where(~applicant, 0.0)
    cls = classes.reindex(out.index).fillna("B").astype(str)
    out["class"] = cls
    growth = cls.map(
        {c: float(_param(scenario, f"classes.growth.{c}", 1.0)) for c in CLASS_LIST}
    ).astype(float)
    ereq = col("energy_req_tce")
    oreq = va.where(applicant, growth * out["o0"])
    use_e = ereq.notna() & (out["en"] > 0)
    oreq = oreq.where(~use_e, ereq / out["en"].where(out["en"] > 0))
    out["oreq"] = oreq.fillna(0.0)
    out["growth"] = growth.where(~applicant, np.inf)
    out["land_min"] = col("land_min_mu").fillna(0.0)
    out["land_max"] = col("land_max_mu").fillna(np.inf)
    out["land0"] = col("land_mu").fillna(0.0)
    out["locked"] = f["locked"].fillna(False).astype(bool) if "locked" in f else False
    out["locked_plots"] = f["locked_plots"] if "locked_plots" in f else None
    out["zone_id"] = f["zone_id"]
    out["candidate_zones"] = f["candidate_zones"] if "candidate_zones" in f else None
    out["industry"] = f["industry"].astype(str)
    # exit policy
    exit_classes = set(_param(scenario, "exit.classes", []) or [])
    may = ~applicant & ~out["locked"] & cls.isin(exit_classes)
    if _param(scenario, "exit.non_catalogue", False):
        prefixes = catalogue_prefixes(case.catalogue)
        in_cat = pd.Series(
            [
                in_catalogue(ind, z, prefixes)
                for ind, z in zip(out["industry"], out["zone_id"], strict=True)
            ],
            index=out.index,
        )
        may |= ~applicant & ~out["locked"] & ~in_cat
    out["may_exit"] = may
    return out.join(_far_params(case, scenario, out))


def _far_params(case: Any, scenario: Any, fp: pd.DataFrame) -> pd.DataFrame:
    """Re-derive each firm's plot-ratio headroom, output and cost per added m² (``far_upgrade``).

    From the case's occupied plots (``area_mu × far`` now, ``area_mu × (far_max − far)``
    headroom) and the rule file the scenario names, read here with ``tomllib``
    (eligible classes, cost ÷ amortisation years, output elasticity; the longest
    industry prefix wins). All zero when the family is off or the firm's class is not
    eligible.
    """
    out = pd.DataFrame(0.0, index=fp.index, columns=["up_head", "up_k", "up_cost"])
    if not bool(_param(scenario, "switches.far_upgrade", False)):
        return out
    rule = _rule_file(scenario, "land.far_rule", "far_upgrade_default")
    plots = case.plots
    occupied = plots["status"].astype(str) == "occupied"
    far = pd.to_numeric(plots["far"], errors="coerce")
    far_max = pd.to_numeric(plots["far_max"], errors="coerce").fillna(far)
    m2 = pd.to_numeric(plots["area_mu"], errors="coerce").fillna(0.0) * M2_PER_MU_CHECK
    keep = occupied & plots["occupant_id"].notna() & far.notna()
    holder = plots.loc[keep, "occupant_id"].astype(str)
    floor = (m2 * far)[keep].groupby(holder).sum().reindex(fp.index).fillna(0.0)
    head = (m2 * (far_max - far).clip(lower=0.0))[keep].groupby(holder).sum()
    head = head.reindex(fp.index).fillna(0.0)
    override = _param(scenario, "land.far_cost_yuan_per_m2")
    table = rule.get("industry") or {}
    for fid in fp.index:
        if fp.at[fid, "applicant"] or fp.at[fid, "class"] not in rule["eligible_classes"]:
            continue
        if floor[fid] <= 0 or fp.at[fid, "o0"] <= 0:
            continue
        values = {k: float(rule[k]) for k in ("cost_yuan_per_m2", "amortisation_years")}
        values["output_elasticity"] = float(rule["output_elasticity"])
        best = -1
        for prefix, over in table.items():
            if str(fp.at[fid, "industry"]).startswith(prefix) and len(prefix) > best:
                best = len(prefix)
                values.update({k: float(v) for k, v in over.items()})
        if override is not None:
            values["cost_yuan_per_m2"] = float(override)
        out.at[fid, "up_head"] = head[fid]
        out.at[fid, "up_k"] = values["output_elasticity"] * fp.at[fid, "o0"] / floor[fid]
        out.at[fid, "up_cost"] = values["cost_yuan_per_m2"] / 1.0e4 / values["amortisation_years"]
    return out


def _caps(case: Any, scenario: Any) -> pd.DataFrame:
    z = case.zones.copy()
    z["zone_id"] = z["zone_id"].astype(str)
    z = z.set_index("zone_id")
    out = pd.DataFrame(index=z.index)
    spec = {
        "electricity": ("electricity_cap_mwh", "electricity_mwh", "electricity_factor"),
        "energy": ("energy_cap_tce", "energy_tce", "energy_factor"),
        "intensity": ("intensity_cap_tce_per_wan", "intensity_tce_per_wan", "intensity_factor"),
    }
    for name, (col, abs_key, fac_key) in spec.items():
        base = pd.to_numeric(z[col], errors="coerce") if col in z else pd.Series(np.nan, z.index)
        vals = []
        for zid, v in base.items():
            a = _param(scenario, f"caps.zones.{zid}.{abs_key}")
            fct = _param(scenario, f"caps.zones.{zid}.{fac_key}")
            vals.append(float(a) if a is not None else v * (float(fct) if fct is not None else 1.0))
        out[name] = np.array(vals, dtype=float) * float(_param(scenario, f"caps.{fac_key}", 1.0))
    return out


def check_result(result: Any, case: Any, scenario: Any, tol: float = 1e-6) -> list[Violation]:
    """Recompute every constraint family of MODEL.md from ``result``'s tables.

    Parameters
    ----------
    result
        A :class:`~allocator.runs.Result` or :class:`~allocator.runs.Run` with a solution.
    case
        The case it was solved on.
    scenario
        The :class:`~allocator.scenario.Scenario` (or a run's scenario dict).
    tol
        Relative tolerance.

    Returns
    -------
    list[Violation]
        Empty when every row holds.
    """
    chk = _Checker(tol)
    summary = getattr(result, "summary", None) or {}
    want = summary.get("case_hash") if isinstance(summary, dict) else None
    if want and hasattr(case, "content_hash") and case.content_hash() != want:
        chk.fail("case", "case", "the result was solved on another version of the case")
    firms = result.firms.copy()
    firms["firm_id"] = firms["firm_id"].astype(str)
    firms = firms.set_index("firm_id")
    on = {fam: bool(_param(scenario, f"switches.{fam}", True)) for fam in (
        "zone_electricity zone_energy province_energy energy_intensity unit_emissions "
        "class_floor class_cap service_floor"
    ).split()}  # fmt: skip
    fp = _firm_params(case, scenario, firms["class"])
    idle = _idle_reused(case, scenario, firms)
    _check_idle_reuse(chk, firms, idle, tol)
    supply = _check_land_supply(chk, case, scenario, firms, tol)
    _check_mixed_use(chk, case, scenario, firms, tol)
    reach = _a_class_reached(result, case, scenario, firms, tol)
    bonus = _a_class_bonus(scenario, reach)
    _check_a_class(chk, result, case, scenario, reach)
    _check_mountain(chk, result, case, scenario, firms)
    _check_objective(chk, result, firms, fp, scenario, idle, supply, bonus)
    served = firms["served"].astype(bool)
    o = firms["value_added_wan"].astype(float).where(served, 0.0)
    if (firms["value_added_wan"].astype(float)[~served].abs() > tol).any():
        chk.fail("output_request", "output_request[*]", "a firm not served has output")
    if (o < -tol).any():
        chk.fail("output_request", "output_request[*]", "negative output")
    added = (
        firms["floor_area_added_m2"].astype(float)
        if "floor_area_added_m2" in firms
        else pd.Series(0.0, index=firms.index)
    )
    up_out = fp.loc[firms.index, "up_k"] * added  # output the added floor area carries
    _check_far_upgrade(chk, firms, fp, added, served, tol)

    # quotas are read off the solution: recompute them from the case intensities
    for col, inten in (("energy_tce", "en"), ("electricity_mwh", "el"), ("tax_wan", "tax_va")):
        expect = fp.loc[firms.index, inten] * o
        diff = (firms[col].astype(float) - expect).abs()
        for fid in diff.index[diff > tol * np.maximum(1.0, expect.abs())]:
            chk.fail(
                "quotas",
                f"{col}[{fid}]",
                f"{firms.at[fid, col]} ≠ intensity × output {expect[fid]}",
            )

    plots = case.plots.copy()
    plots["plot_id"] = plots["plot_id"].astype(str)
    plots = plots.set_index("plot_id")
    area = pd.to_numeric(plots["area_mu"], errors="coerce")
    applicant = fp.loc[firms.index, "applicant"]
    # plain dicts: row access by label in pandas costs ~0.1 ms a call
    frow = firms.to_dict("index")
    prow = fp.to_dict("index")
    o_d, served_d, appl_d = o.to_dict(), served.to_dict(), applicant.to_dict()
    up_d = up_out.to_dict()

    # plot_once: applicants' parcels disjoint and not on a staying occupant's plot
    taken: dict[str, str] = {}
    occupant = plots["occupant_id"].where(plots["status"].astype(str) == "occupied")
    for pid, occ in occupant.dropna().items():
        if str(occ) in firms.index and served.get(str(occ), False):
            taken[pid] = str(occ)
    for fid in firms.index[applicant & served]:
        for pid in split_list(frow[fid]["plot_ids"]):
            if pid in taken:
                chk.fail("plot_once", f"plot_once[{pid}]", f"given to {taken[pid]} and {fid}")
            taken[pid] = fid
    # one_parcel, size, zone, red line, land consistency
    threshold = float(_param(scenario, "eligibility.redline_threshold", 0.0))
    red = result.plots.set_index(result.plots["plot_id"].astype(str))["redline_share"]
    for fid in firms.index[applicant]:
        pids = split_list(frow[fid]["plot_ids"])
        has = frow[fid]["parcel_id"]
        has = (
            has is not None and not (isinstance(has, float) and np.isnan(has)) and has is not pd.NA
        )
        if served_d[fid] != bool(has) or (served_d[fid] and not pids):
            chk.fail("one_parcel", f"one_parcel[{fid}]", "served applicant without one parcel")
            continue
        if not served_d[fid]:
            continue
        land = float(area.reindex(pids).sum())
        if abs(land - float(frow[fid]["land_mu"])) > tol * max(1.0, land):
            chk.fail("one_parcel", f"one_parcel[{fid}]", f"land_mu ≠ plot areas {land}")
        chk.ge("size", f"size[{fid}]", land, float(prow[fid]["land_min"]))
        chk.le("size", f"size[{fid}]", land, float(prow[fid]["land_max"]))
        zones = set(plots.loc[pids, "zone_id"].astype(str))
        if len(zones) != 1:
            chk.fail("one_parcel", f"one_parcel[{fid}]", f"parcel spans zones {sorted(zones)}")
        cz = split_list(prow[fid]["candidate_zones"])
        if cz and not zones <= set(cz):
            chk.fail("zone", f"zone[{fid}]", f"parcel in {sorted(zones)}, asked {cz}")
        for pid in pids:  # locked projects too: a lock does not override eligibility
            share = float(red.get(pid, 0.0) or 0.0)
            chk.le("redline", f"redline[{fid},{pid}]", share, threshold)
        # output_by_land
        chk.le(
            "output_by_land",
            f"output_by_land[{fid}]",
            float(o_d[fid]),
            float(prow[fid]["va_mu"]) * land,
        )
    # output_request, growth cap
    for fid in firms.index[served]:
        chk.le(
            "output_request",
            f"output_request[{fid}]",
            float(o_d[fid]),
            float(prow[fid]["oreq"]) + up_d[fid],
        )
        if not appl_d[fid]:
            chk.le(
                "output_by_land",
                f"output_by_land[{fid}]",
                float(o_d[fid]),
                float(prow[fid]["growth"]) * float(prow[fid]["o0"]) + up_d[fid],
            )
    # zone caps (output counted in the zone after: the parcel's zone for applicants)
    caps = _caps(case, scenario)
    en = fp.loc[firms.index, "en"] * o
    el = fp.loc[firms.index, "el"] * o
    zone_after = firms["zone_id"].astype(object)
    by_zone = pd.DataFrame({"zone": zone_after, "en": en, "el": el, "o": o})[served]
    agg = by_zone.groupby("zone")[["en", "el", "o"]].sum()
    for zid in caps.index:
        e = float(agg["en"].get(zid, 0.0))
        if on["zone_energy"]:
            chk.le("zone_energy", f"zone_energy[{zid}]", e, float(caps.at[zid, "energy"]))
        if on["zone_electricity"]:
            chk.le(
                "zone_electricity",
                f"zone_electricity[{zid}]",
                float(agg["el"].get(zid, 0.0)),
                float(caps.at[zid, "electricity"]),
            )
        if on["energy_intensity"]:
            chk.le(
                "energy_intensity",
                f"energy_intensity[{zid}]",
                e,
                float(caps.at[zid, "intensity"]) * float(agg["o"].get(zid, 0.0)),
            )
    if on["province_energy"]:
        prov = _param(scenario, "caps.province_energy_tce")
        factor = _param(scenario, "caps.province_energy_factor")
        if prov is None and factor is not None:
            prov = float(factor) * float(np.nansum(caps["energy"]))
        if prov is not None:
            chk.le("province_energy", "province_energy[province]", float(en.sum()), float(prov))
    # unit emissions
    if on["unit_emissions"]:
        units = case.control_units.copy()
        units["unit_id"] = units["unit_id"].astype(str)
        units = units.set_index("unit_id")
        all_f = float(_param(scenario, "caps.unit_emission_factor", 1.0))
        for k in POLLUTANT_LIST:
            em = fp.loc[firms.index, f"em_{k}"] * o
            sums = em[served].groupby(firms.loc[served, "unit_id"].astype(object)).sum()
            for uid in units.index:
                cap = pd.to_numeric(pd.Series([units.at[uid, f"cap_{k}_t"]]), errors="coerce")[0]
                fct = _param(scenario, f"caps.units.{uid}.factor")
                ab = _param(scenario, f"caps.units.{uid}.{k}_t")
                cap = float(ab) if ab is not None else cap * all_f * (float(fct) if fct else 1.0)
                chk.le(
                    "unit_emissions",
                    f"unit_emissions[unit={uid},pollutant={k}]",
                    float(sums.get(uid, 0.0)),
                    cap,
                )
    # class floor / cap, service floor
    for fid in firms.index[served]:
        cls = str(prow[fid]["class"])
        if on["class_floor"]:
            phi = float(_param(scenario, f"classes.floor.{cls}", 0.0))
            chk.ge(
                "class_floor",
                f"class_floor[{fid}]",
                float(o_d[fid]),
                phi * float(prow[fid]["oreq"]),
            )
        if not appl_d[fid]:
            if on["class_cap"]:
                psi = float(_param(scenario, f"classes.cap.{cls}", np.inf))
                chk.le(
                    "class_cap", f"class_cap[{fid}]", float(o_d[fid]), psi * float(prow[fid]["o0"])
                )
            if on["service_floor"]:
                sig = float(_param(scenario, "service_floor", 0.0))
                chk.ge(
                    "service_floor",
                    f"service_floor[{fid}]",
                    float(o_d[fid]),
                    sig * float(prow[fid]["o0"]),
                )
    # retain and locked
    for fid in firms.index[~applicant & ~served]:
        if not bool(prow[fid]["may_exit"]):
            chk.fail("retain", f"retain[{fid}]", "existing firm left without an exit rule")
    for fid in firms.index[fp.loc[firms.index, "locked"].astype(bool)]:
        if not served_d[fid]:
            chk.fail("locked", f"locked[{fid}]", "locked firm not served")
            continue
        want = split_list(prow[fid]["locked_plots"])
        if appl_d[fid] and want and set(split_list(frow[fid]["plot_ids"])) != set(want):
            chk.fail("locked", f"locked[{fid}]", f"got {frow[fid]['plot_ids']}, locked {want}")
    _check_analysis(chk, result, case, plan_objective(firms, fp, scenario, idle, supply) + bonus)
    return chk.violations


def _plot_firms(plots: pd.DataFrame) -> pd.Series:
    """Plot id → firm id after (empty string for none) of a written plot table."""
    firm = plots["firm_id_after"].astype(object)
    return pd.Series(
        [str(f) if f is not None and f == f else "" for f in firm],
        index=plots["plot_id"].astype(str).to_numpy(),
    )


def _check_analysis(chk: _Checker, result: Any, case: Any, value: float) -> None:
    """Check a run of an analysis (its ``analysis.json``) against its written tables.

    Alternatives (family ``objective_floor`` / ``distance_to``): the plan's
    objective is at least the recorded floor and best − within·|best|, and
    the ``min_distance`` of ``alternatives.csv`` next to it is the number of
    plots whose firm differs from the closest sibling plan. Stability (family
    ``change_limit``): the plots reassigned and firms changed against the
    recorded approved plan, recounted from the tables, are those reported and
    at most ``max_changes``.
    """
    import json
    from pathlib import Path

    where = getattr(result, "path", None) or getattr(result, "run_path", None)
    if not where:
        return
    path = Path(where)
    info_path = path / "analysis.json"
    if not info_path.exists():
        return
    info = json.loads(info_path.read_text(encoding="utf-8"))
    if info.get("kind") == "alternative":
        floor = _finite(info.get("objective_floor"))
        best = _finite(info.get("best_objective"))
        if floor is not None:
            chk.ge("objective_floor", "objective_floor", value, floor)
        if best is not None:
            within = float(info.get("within", 0.0))
            chk.ge("objective_floor", "objective_floor[within]", value, best - within * abs(best))
        table_path = path.parent / "alternatives.csv"
        if table_path.exists():
            table = pd.read_csv(table_path)
            mine = _plot_firms(result.plots)
            names = {Path(str(r)).name: r for r in table["run"]}
            others = [
                _plot_firms(pd.read_parquet(Path(str(r)) / "plots.parquet"))
                for n, r in names.items()
                if n != path.name
            ]
            row = table[[Path(str(r)).name == path.name for r in table["run"]]]
            if others and len(row):
                real = min(int((mine != o.reindex(mine.index).fillna("")).sum()) for o in others)
                if int(row["min_distance"].iloc[0]) != real:
                    chk.fail(
                        "distance_to",
                        "distance_to[*]",
                        f"min_distance {int(row['min_distance'].iloc[0])} ≠ {real} from the plans",
                    )
    elif info.get("kind") == "stability":
        served = set(map(str, info.get("approved_served", [])))
        approved_plots = {k: set(v) for k, v in (info.get("approved_plots") or {}).items()}
        plots = case.plots
        occupied = plots["status"].astype(str) == "occupied"
        before = pd.Series("", index=plots["plot_id"].astype(str).to_numpy(), dtype=object)
        for pid, occ in zip(plots["plot_id"].astype(str)[occupied], plots["occupant_id"][occupied],
                            strict=True):  # fmt: skip
            if str(occ) in served:
                before[pid] = str(occ)
        for fid, pids in approved_plots.items():
            for pid in pids:
                before[pid] = fid
        now = _plot_firms(result.plots).reindex(before.index).fillna("")
        plots_changed = int((before != now).sum())
        firms = result.firms
        firms_changed = 0
        for fid, kind, s, pids in zip(
            firms["firm_id"].astype(str),
            firms["kind"].astype(str),
            firms["served"].astype(bool),
            firms["plot_ids"],
            strict=True,
        ):
            moved = kind == "applicant" and s and set(split_list(pids)) != approved_plots.get(fid)
            firms_changed += int((fid in served) != s or moved)
        for key, real in (("plots_changed", plots_changed), ("firms_changed", firms_changed)):
            if info.get(key) is not None and int(info[key]) != real:
                chk.fail("change_limit", f"change_limit[{key}]", f"{info[key]} ≠ {real} recounted")
        limit = info.get("max_changes")
        if limit is not None:
            chk.le("change_limit", "change_limit", plots_changed + firms_changed, float(limit))


def _check_far_upgrade(
    chk: _Checker,
    firms: pd.DataFrame,
    fp: pd.DataFrame,
    added: pd.Series,
    served: pd.Series,
    tol: float,
) -> None:
    """Check ``far_upgrade``: 0 ≤ added floor area ≤ headroom, and the land saved.

    The headroom is 0 when the family is off, the class not eligible or the firm
    not served; the reported land saved is ``k · added / va_mu`` (the same growth
    on new land at the firm's 亩均 value added).
    """
    prm = fp.loc[firms.index]
    limit = prm["up_head"].where(served, 0.0)
    for fid in firms.index[(added - limit) > tol * np.maximum(1.0, limit)]:
        chk.le("far_upgrade", f"far_upgrade[{fid}]", float(added[fid]), float(limit[fid]))
    for fid in firms.index[added < -tol]:
        chk.fail("far_upgrade", f"far_upgrade[{fid}]", "negative floor area added")
    if "land_saved_mu" not in firms:
        return
    va_mu = prm["va_mu"].where(prm["va_mu"] > 0)
    expect = (prm["up_k"] * added / va_mu).fillna(0.0)
    got = firms["land_saved_mu"].astype(float)
    for fid in firms.index[(got - expect).abs() > tol * np.maximum(1.0, expect.abs())]:
        chk.fail(
            "far_upgrade",
            f"land_saved_mu[{fid}]",
            f"{got[fid]} ≠ output of the added floor area ÷ 亩均 value added {expect[fid]}",
        )


def _rule_file(scenario: Any, key: str, default: str) -> dict[str, Any]:
    """Read the rule file a scenario key names (``allocator/policy/<name>.toml`` or a path)."""
    from allocator.scoring.method import resolve_policy_path  # the one name → file rule

    with resolve_policy_path(str(_param(scenario, key, default))).open("rb") as fh:
        return tomllib.load(fh)


def _idle_reused(case: Any, scenario: Any, firms: pd.DataFrame) -> pd.Series:
    """Idle floor area (m²) each served applicant's plots carry, from the case (``idle_reuse``).

    ``area_mu × far`` of the idle plots among the firm's ``plot_ids``; all zero when
    the family is off (an idle plot is then vacant land only).
    """
    out = pd.Series(0.0, index=firms.index)
    if not bool(_param(scenario, "switches.idle_reuse", False)):
        return out
    plots = case.plots.set_index(case.plots["plot_id"].astype(str))
    idle = plots["status"].astype(str) == "idle"
    far = pd.to_numeric(plots["far"], errors="coerce").fillna(0.0)
    floor = (pd.to_numeric(plots["area_mu"], errors="coerce") * M2_PER_MU_CHECK * far).where(
        idle, 0
    )
    served = firms["served"].astype(bool)
    for fid in firms.index[served & (firms["kind"].astype(str) == "applicant")]:
        out[fid] = float(floor.reindex(split_list(firms.at[fid, "plot_ids"])).fillna(0.0).sum())
    return out


def _check_idle_reuse(chk: _Checker, firms: pd.DataFrame, idle: pd.Series, tol: float) -> None:
    """Check ``idle_reuse``: the reported idle floor area reused is that of the project's plots."""
    got = (
        firms["idle_floor_reused_m2"].astype(float)
        if "idle_floor_reused_m2" in firms
        else pd.Series(0.0, index=firms.index)
    )
    for fid in firms.index[(got - idle).abs() > tol * np.maximum(1.0, idle.abs())]:
        chk.fail(
            "idle_reuse",
            f"idle_reuse[{fid}]",
            f"reports {got[fid]:,.6g} m² reused, its idle plots hold {idle[fid]:,.6g}",
        )


def plan_objective(
    firms: pd.DataFrame,
    fp: pd.DataFrame,
    scenario: Any,
    idle: pd.Series | None = None,
    supply: pd.Series | None = None,
) -> float:
    """MODEL.md's objective (万元) of a written plan, from the firms table and the case.

    ``Σ w_class (α_va + α_tax · tax_va) o − Σ_{existing, left} ρ L0 −
    Σ_{applicant, en > τ} π · en · o − Σ c_up · added floor area + s · idle floor
    reused + Σ w_mode · land`` (``idle`` and the land supply weights ``supply`` per
    firm: re-derived by the checker from the case and the rule files), with the
    intensities re-derived from the case (``fp``, :func:`_firm_params`) and the weights
    from the scenario.
    """
    served = firms["served"].astype(bool)
    o = firms["value_added_wan"].astype(float).where(served, 0.0)
    prm = fp.loc[firms.index]
    weight = (
        firms["class"]
        .astype(str)
        .map({c: float(_param(scenario, f"objective.class_weight.{c}", 1.0)) for c in CLASS_LIST})
        .fillna(1.0)
        .astype(float)
    )
    a_va = float(_param(scenario, "objective.alpha_va", 1.0))
    a_tax = float(_param(scenario, "objective.alpha_tax", 1.0))
    value = float((weight * (a_va + a_tax * prm["tax_va"]) * o).sum())
    tau = float(_param(scenario, "energy.trade_threshold_tce_per_wan", 0.6))
    price = float(_param(scenario, "energy.trade_price_wan_per_tce", 0.0))
    buys = prm["applicant"].astype(bool) & (prm["en"] > tau)
    value -= float((price * prm["en"] * o)[buys].sum())
    rho = float(_param(scenario, "exit.relocation_cost_wan_per_mu", 0.0))
    left = ~prm["applicant"].astype(bool) & ~served
    value -= float((rho * prm["land0"])[left].sum())
    if "floor_area_added_m2" in firms:
        value -= float((prm["up_cost"] * firms["floor_area_added_m2"].astype(float)).sum())
    if idle is not None and bool(_param(scenario, "switches.idle_reuse", False)):
        rule = _rule_file(scenario, "land.idle_rule", "idle_reuse_default")
        saving = float(rule["saving_yuan_per_m2"]) / 1.0e4 / float(rule["amortisation_years"])
        value += saving * float(idle.sum())
    if supply is not None and bool(_param(scenario, "switches.land_supply", False)):
        value += float(supply.sum())
    return value


def _reported(result: Any, key: str) -> Any:
    summary = getattr(result, "summary", None)
    if isinstance(summary, dict) and key in summary:
        return summary[key]
    return getattr(result, key, None)


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _check_objective(
    chk: _Checker,
    result: Any,
    firms: pd.DataFrame,
    fp: pd.DataFrame,
    scenario: Any,
    idle: pd.Series | None = None,
    supply: pd.Series | None = None,
    bonus: float = 0.0,
) -> None:
    """Check the reported objective, gap and status against the written plan's objective.

    ``bonus`` is the A-class weight times the zones reaching A class (``a_class_target``).

    Violations (family ``objective``): the reported objective differs from the
    plan's by more than ``tol`` relative; the reported gap is not the plan's
    gap to the reported bound; the run says ``optimal`` while the plan's gap
    to its bound exceeds the reported gap or, when the run records it, the
    ``rel_gap`` it was asked for. Gaps are ``|bound − objective| / max(1, |objective|)``.
    """
    status = str(_reported(result, "status"))
    if status not in ("optimal", "feasible"):
        return
    value = plan_objective(firms, fp, scenario, idle, supply) + bonus
    scale = max(1.0, abs(value))
    reported = _finite(_reported(result, "objective"))
    if reported is None:
        chk.fail("objective", "objective", f"no objective reported for a {status} run")
    elif abs(reported - value) > chk.tol * scale:
        chk.fail(
            "objective",
            "objective",
            f"reported {reported:,.6f} ≠ {value:,.6f} recomputed from the written plan",
        )
    bound = _finite(_reported(result, "best_bound"))
    if bound is None:
        if status == "optimal":
            chk.fail("objective", "gap", "an optimal run without a bound")
        return
    own_gap = abs(bound - value) / scale
    gap = _finite(_reported(result, "gap"))
    if gap is not None and abs(gap - own_gap) > GAP_TOL:
        chk.fail("objective", "gap", f"reported gap {gap:.6g} ≠ the plan's gap {own_gap:.6g}")
    if status == "optimal":
        allowed = [g for g in (gap, _recorded_rel_gap(result)) if g is not None]
        limit = min(allowed) if allowed else 0.0
        if own_gap > limit + GAP_TOL:
            chk.fail(
                "objective",
                "gap",
                f"optimal, but the plan is {own_gap:.4%} from its bound (allowed {limit:.4%})",
            )


GAP_TOL = 1e-6
"""Absolute slack on a relative gap (round-off, and 1e-6 万元 near a zero objective)."""


def _recorded_rel_gap(result: Any) -> float | None:
    """Return the relative gap the run was asked for, when its summary records it."""
    summary = getattr(result, "summary", None)
    if not isinstance(summary, dict):
        return None
    settings = summary.get("settings")
    if isinstance(settings, dict) and "rel_gap" in settings:
        return _finite(settings["rel_gap"])
    return _finite(summary.get("rel_gap"))


def _supply_rows(case: Any, scenario: Any, firms: pd.DataFrame) -> pd.DataFrame:
    """Each served applicant's supply rule row, re-derived from the rule file (plain Python).

    Columns: ``modes`` (the row's permitted modes), ``default``, ``years`` (mode → term),
    ``weight`` (mode → 万元 per mu and year: land income over the plan period plus the
    land returning at term end, discounted; MODEL.md's ``land_supply``).
    """
    rule = _rule_file(scenario, "land.supply_rule", "land_supply_default")
    plan = int(_param(scenario, "land.supply_plan_years", 20))
    ind = case.firms.set_index(case.firms["firm_id"].astype(str))["industry"]
    cycles = {str(k): float(v) for k, v in (rule.get("cycle_years") or {}).items()}

    def cycle(code: str) -> float:
        best = max(
            (p for p in cycles if p != "default" and code.startswith(p)), key=len, default=""
        )
        return cycles[best] if best else cycles.get("default", 0.0)

    def weight(mode: str, term: float) -> float:
        spec = rule["modes"][mode]
        lease = float(spec.get("lease_years", 0.0))
        income = 0.0
        for year in range(1, plan + 1):
            if year <= term:
                lease_price = float(spec.get("lease_price_yuan_per_mu_year", 0.0))
                income += lease_price if year <= lease else float(spec["price_yuan_per_mu_year"])
        back = float(rule["return_value_yuan_per_mu"]) * (1 + float(rule["discount_rate"])) ** -term
        return (income + back) / plan / 1.0e4

    out = {}
    served = firms["served"].astype(bool) & (firms["kind"].astype(str) == "applicant")
    for fid in firms.index[served]:
        code = str(ind.get(fid) or "")
        if code == "nan":
            code = ""
        cls = str(firms.at[fid, "class"])
        for row in rule["rule"]:
            if row.get("industry_prefixes") and not any(
                code.startswith(p) for p in row["industry_prefixes"]
            ):
                continue
            if row.get("classes") and cls not in row["classes"]:
                continue
            c = cycle(code)
            if (
                not float(row.get("min_cycle_years", 0))
                <= c
                <= float(row.get("max_cycle_years", np.inf))
            ):
                continue
            years = {
                m: float((row.get("years") or {}).get(m, rule["modes"][m]["years"]))
                for m in row["modes"]
            }
            out[fid] = {
                "modes": tuple(row["modes"]),
                "default": row["default"],
                "years": years,
                "weight": {m: weight(m, years[m]) for m in row["modes"]},
            }
            break
    return pd.DataFrame.from_dict(out, orient="index")


def _check_land_supply(
    chk: _Checker, case: Any, scenario: Any, firms: pd.DataFrame, tol: float
) -> pd.Series:
    """Check ``land_supply``: each admitted project's 供地方式 and 年限 follow the rule table.

    The mode is one the project's rule row permits (the row's default when the model
    does not choose), the term is the row's for that mode, and a project not admitted
    has none. Returns each firm's objective term (weight × land, 万元) for the objective check.
    """
    terms = pd.Series(0.0, index=firms.index)
    if "supply_mode" not in firms:
        return terms  # a run written before the family existed
    rows = _supply_rows(case, scenario, firms)
    choose = bool(_param(scenario, "switches.land_supply", False))
    mode = firms["supply_mode"]
    for fid in firms.index[mode.notna() & ~firms.index.isin(rows.index)]:
        chk.fail("land_supply", f"land_supply[{fid}]", "a supply mode for a firm not admitted")
    for fid, row in rows.iterrows():
        got = mode.get(fid)
        if not isinstance(got, str) or got not in row["modes"]:
            chk.fail("land_supply", f"land_supply[{fid}]", f"mode {got} not in {row['modes']}")
            continue
        if not choose and got != row["default"]:
            chk.fail(
                "land_supply", f"land_supply[{fid}]", f"{got} is not the default {row['default']}"
            )
        years = float(firms.at[fid, "supply_years"])
        if abs(years - row["years"][got]) > tol * max(1.0, years):
            chk.fail(
                "land_supply", f"land_supply[{fid}]", f"term {years:g} ≠ {row['years'][got]:g}"
            )
        terms[fid] = row["weight"][got] * float(firms.at[fid, "land_mu"])
    return terms


def _check_mixed_use(
    chk: _Checker, case: Any, scenario: Any, firms: pd.DataFrame, tol: float
) -> None:
    """Check mixed use: plots admit each project's use (``land.mixed_use``) and ``use_share_min``.

    A project's use is the case's ``use`` column (missing: industrial). Use share:
    Σ land of admitted projects of use u in zone z ≥ share × Σ land admitted in z.
    """
    fc = case.firms.set_index(case.firms["firm_id"].astype(str))
    use = (
        (fc["use"].reindex(firms.index) if "use" in fc else pd.Series(None, index=firms.index))
        .where(lambda s: s.notna() & (s.astype(str) != ""), "industrial")
        .astype(str)
    )
    admitted = firms["served"].astype(bool) & (firms["kind"].astype(str) == "applicant")
    if bool(_param(scenario, "land.mixed_use", False)):
        rule = _rule_file(scenario, "land.use_rule", "land_use_mix")
        admits = {k: set(v) for k, v in rule["admits"].items()}
        lu = case.plots.set_index(case.plots["plot_id"].astype(str))["land_use"].astype(str)
        for fid in firms.index[admitted]:
            for pid in split_list(firms.at[fid, "plot_ids"]):
                if use[fid] not in admits.get(lu.get(pid, ""), set()):
                    chk.fail(
                        "use_share_min",
                        f"mixed_use[{fid}]",
                        f"{pid} ({lu.get(pid)}) does not admit {use[fid]}",
                    )
    if not bool(_param(scenario, "switches.use_share_min", True)):
        return
    land = firms["land_mu"].astype(float).where(admitted, 0.0)
    zone = firms["zone_id"].astype(str)
    shares = _param(scenario, "land.use_share", {}) or {}
    flat = scenario.flat if hasattr(scenario, "flat") else scenario
    for key, value in flat.items():  # a Scenario or a flat dict of dotted keys
        if str(key).startswith("land.use_share.") and value is not None:
            zid, name = str(key)[len("land.use_share.") :].rsplit(".", 1)
            shares = {**shares, zid: {**shares.get(zid, {}), name: value}}
    for zid, per_use in shares.items():
        total = float(land[zone == zid].sum())
        for name, share in (per_use or {}).items():
            if share is None or float(share) <= 0:
                continue
            part = float(land[(zone == zid) & (use == name)].sum())
            chk.ge(
                "use_share_min", f"use_share_min[zone={zid},use={name}]", part, float(share) * total
            )


MU_PER_KM2_CHECK = 1500.0
"""1 km² in mu, written here again: the checker shares no code with the model."""


def _a_class_reached(
    result: Any, case: Any, scenario: Any, firms: pd.DataFrame, tol: float
) -> pd.Series | None:
    """Zones (id → bool) meeting every A-class threshold after the plan, from the tables.

    Tax and value added of the served firms by their zone after the plan, the
    area of the plots holding a firm after it, each against the rule file's
    threshold times the zone's approved km² (else its polygon's, else its
    plots' area), within ``tol`` of the threshold. None without a plot table.
    """
    plots = getattr(result, "plots", None)
    if plots is None or "firm_id_after" not in plots:
        return None
    rule = _rule_file(scenario, "assessment.rule", "assessment_a_class")
    zones = case.zones.copy()
    zones["zone_id"] = zones["zone_id"].astype(str)
    zones = zones.set_index("zone_id")
    cplots = case.plots.copy()
    cplots["zone_id"] = cplots["zone_id"].astype(str)
    area = pd.to_numeric(cplots["area_mu"], errors="coerce").fillna(0.0)
    plots_mu = area.groupby(cplots["zone_id"]).sum().reindex(zones.index).fillna(0.0)
    km2 = pd.to_numeric(zones["approved_km2"], errors="coerce")
    km2 = km2.where(km2 > 0, pd.to_numeric(zones["area_mu"], errors="coerce") / MU_PER_KM2_CHECK)
    km2 = km2.where(km2 > 0, plots_mu / MU_PER_KM2_CHECK)
    served = firms["served"].astype(bool)
    zone_after = firms["zone_id"].astype(object)
    tax = firms["tax_wan"].astype(float)[served].groupby(zone_after[served]).sum()
    va = firms["value_added_wan"].astype(float)[served].groupby(zone_after[served]).sum()
    used = plots.set_index(plots["plot_id"].astype(str))["firm_id_after"].notna()
    used_area = area.set_axis(cplots["plot_id"].astype(str)).reindex(used.index).fillna(0.0)
    zone_of = cplots.set_index(cplots["plot_id"].astype(str))["zone_id"].reindex(used.index)
    land = used_area[used].groupby(zone_of[used]).sum()
    out = {}
    keep = 1.0 - max(tol, 1e-6)
    for zid in zones.index:
        need = (
            float(rule["min_tax_wan_per_km2"]) * km2[zid],
            float(rule["min_va_wan_per_km2"]) * km2[zid],
            float(rule["min_developed_share"]) * km2[zid] * MU_PER_KM2_CHECK,
        )
        have = (float(tax.get(zid, 0.0)), float(va.get(zid, 0.0)), float(land.get(zid, 0.0)))
        out[zid] = all(h >= n * keep for h, n in zip(have, need, strict=True))
    return pd.Series(out, dtype=bool)


def _a_class_target_zones(scenario: Any, n_zones: int) -> int:
    """Return the target n of ``a_class_target``: the scenario's, else ⌈share × zones⌉."""
    import math
    from fractions import Fraction

    given = _param(scenario, "assessment.target_zones")
    if given:
        return int(given)
    rule = _rule_file(scenario, "assessment.rule", "assessment_a_class")
    share = rule.get("target_share")
    if share is None:
        share = _rule_file({}, "assessment.rule", "assessment_a_class").get("target_share", 0)
    return math.ceil(Fraction(str(share)) * n_zones)


def _a_class_bonus(scenario: Any, reach: pd.Series | None) -> float:
    """Objective weight of the zones reaching A class (``a_class_target``), 万元."""
    if reach is None or not bool(_param(scenario, "switches.a_class_target", False)):
        return 0.0
    return float(_param(scenario, "assessment.zone_weight_wan", 0.0) or 0.0) * float(reach.sum())


def _check_a_class(
    chk: _Checker, result: Any, case: Any, scenario: Any, reach: pd.Series | None
) -> None:
    """Check the zone table's A-class flags and the target (``a_class_reach``, ``a_class_target``).

    The ``a_class_after`` flags must be the recomputed ones; with the target on
    as a constraint, at least n zones reach A class.
    """
    if reach is None:
        return
    zones = getattr(result, "zones", None)
    if zones is not None and "a_class_after" in zones:
        flags = zones.set_index(zones["zone_id"].astype(str))["a_class_after"].astype(bool)
        for zid in reach.index:
            if zid in flags.index and bool(flags[zid]) != bool(reach[zid]):
                chk.fail(
                    "a_class_reach",
                    f"a_class_reach[zone={zid}]",
                    f"zone table says {bool(flags[zid])}, the plan gives {bool(reach[zid])}",
                )
    on = bool(_param(scenario, "switches.a_class_target", False))
    if on and str(_param(scenario, "assessment.target_mode", "constraint")) == "constraint":
        n = _a_class_target_zones(scenario, len(reach))
        chk.ge("a_class_target", "a_class_target[province]", float(reach.sum()), float(n))


def _mountain_members(case: Any, scenario: Any) -> set[str]:
    """Return the counties on the 山区26县 list on ``mountain.as_of`` (else its latest date)."""
    cl = getattr(case, "county_lists", None)
    if cl is None or not len(cl):
        return set()
    name = str(_param(scenario, "mountain.list_name", "山区26县"))
    rows = cl[cl["list_name"].astype(str) == name]
    start = pd.to_datetime(rows["valid_from"], errors="coerce")
    end = pd.to_datetime(rows["valid_to"], errors="coerce")
    as_of = _param(scenario, "mountain.as_of")
    when = pd.to_datetime(as_of) if as_of else pd.concat([start, end]).max()
    live = (start <= when) & (end.isna() | (end > when))
    return set(rows.loc[live, "county"].astype(str))


def _check_mountain(
    chk: _Checker, result: Any, case: Any, scenario: Any, firms: pd.DataFrame
) -> None:
    """Check the 山区26县 flags and reserves (``mountain_land``, ``mountain_energy``).

    A firm is 26县 when its ``partner_county`` is on the list, or it is placed
    (existing: its zone; project: its parcel's zone) in a zone whose county is.
    The projects that are not 26县 take at most the open land (vacant and idle
    plots the red line leaves) less the land reserve; the firms that are not
    use at most the energy quota (province cap, else Σ zone caps) less the
    energy reserve.
    """
    if "mountain_26" not in firms:
        return
    members = _mountain_members(case, scenario)
    zones = case.zones
    county = zones["county"] if "county" in zones else pd.Series(None, index=zones.index)
    zone_in = {
        str(z): isinstance(c, str) and c in members
        for z, c in zip(zones["zone_id"], county, strict=True)
    }
    cf = case.firms.set_index(case.firms["firm_id"].astype(str))
    partner = (
        cf["partner_county"].reindex(firms.index)
        if "partner_county" in cf
        else pd.Series(None, index=firms.index)
    )
    by_partner = partner.map(lambda c: isinstance(c, str) and c in members).astype(bool)
    by_zone = firms["zone_id"].map(lambda z: bool(zone_in.get(str(z), False))).astype(bool)
    served = firms["served"].astype(bool)
    existing = firms["kind"].astype(str) == "existing"
    expect = by_partner | (by_zone & (existing | served))
    got = firms["mountain_26"].astype(bool)
    for fid in firms.index[got != expect]:
        chk.fail(
            "mountain_land", f"mountain[{fid}]", f"26县 flag {got[fid]}, expected {expect[fid]}"
        )
    other = served & ~expect
    if bool(_param(scenario, "switches.mountain_land", False)):
        reserve = float(_param(scenario, "mountain.reserve_mu", 0.0) or 0.0)
        plots = case.plots
        threshold = float(_param(scenario, "eligibility.redline_threshold", 0.0))
        red = result.plots.set_index(result.plots["plot_id"].astype(str))["redline_share"]
        red = red.reindex(plots["plot_id"].astype(str)).fillna(0.0).to_numpy(dtype=float)
        free = (plots["status"].astype(str) != "occupied").to_numpy() & (red <= threshold + 1e-12)
        open_mu = float(pd.to_numeric(plots["area_mu"], errors="coerce").fillna(0.0)[free].sum())
        applicant = ~existing
        used = float(firms["land_mu"].astype(float)[other & applicant].sum())
        chk.le("mountain_land", "mountain_land[province]", used, open_mu - reserve)
    if bool(_param(scenario, "switches.mountain_energy", False)):
        reserve = float(_param(scenario, "mountain.reserve_tce", 0.0) or 0.0)
        quota = _param(scenario, "caps.province_energy_tce")
        if quota is None:
            caps = _caps(case, scenario)["energy"]
            factor = _param(scenario, "caps.province_energy_factor")
            total = float(np.nansum(caps))
            quota = float(factor) * total if factor is not None else total
        used = float(firms["energy_tce"].astype(float)[other].sum())
        chk.le("mountain_energy", "mountain_energy[province]", used, float(quota) - reserve)
