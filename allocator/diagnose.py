"""Explain before solving, and explain after: presolve checks, elastic diagnosis, marginals.

- :func:`presolve_checks` proves common infeasibilities cheaply from the
  prepared arrays (locked projects on the same plot, on a plot whose occupant
  must stay, or on a parcel that fails an eligibility test; a firm whose
  floors exceed its caps; floors alone above a zone's or a unit's cap), each
  message with its numbers.
- :func:`elastic_diagnosis` re-solves an infeasible scenario with penalised
  slacks on the cap, floor and lock rows (``ModelParams(elastic=True)``) and
  reports each relaxed row in its own units ("zone_energy[Z03]: short by
  1,240 tce").
- :func:`marginal_values` reads the dual of every cap row from the LP with the
  integers fixed at the solution: 万元 of objective per tce, per MWh, per t.
All messages go through :func:`allocator.i18n.t` (zh and en).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.i18n import t
from allocator.prepare import Prepared
from allocator.scenario import check_param
from models.data import CLASSES, POLLUTANTS

CAP_FAMILIES = (
    "zone_electricity",
    "zone_energy",
    "province_energy",
    "energy_intensity",
    "unit_emissions",
)
"""Rows whose duals are reported as marginal values."""
DUAL_UNITS = {
    "zone_electricity": "万元/MWh",
    "zone_energy": "万元/tce",
    "province_energy": "万元/tce",
    "energy_intensity": "万元/tce",
    "unit_emissions": "万元/t",
}
ROW_UNITS = {
    "zone_electricity": "MWh",
    "zone_energy": "tce",
    "province_energy": "tce",
    "energy_intensity": "tce",
    "unit_emissions": "t",
    "class_floor": "万元",
    "service_floor": "万元",
    "class_cap": "万元",
    "locked": "",
    "plot_once": "",
    "retain": "",
}


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


@dataclass(frozen=True)
class Finding:
    """One presolve finding; ``severity`` is ``infeasible`` (a proof) or ``warning``."""

    code: str
    severity: str
    row: str
    need: float
    have: float
    unit: str
    message_zh: str
    message_en: str
    firm_id: str = ""
    """The firm the finding is about (locked-project findings), else ""."""
    firm_name: str = ""
    plot_id: str = ""
    """The plot (``+``-joined plots for a parcel-level test), else ""."""
    reason: str = ""
    """The failed eligibility test (:data:`allocator.eligibility.REASON_CODES`), else ""."""

    def message(self, lang: str | None = None) -> str:
        """Return the message in ``lang`` (default: the current language)."""
        from allocator.i18n import normalize_lang

        return self.message_zh if normalize_lang(lang) == "zh" else self.message_en

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON)."""
        return asdict(self)


def _finding(
    code: str, severity: str, row: str, need: float, have: float, unit: str, **extra: Any
) -> Finding:
    fmt = {"row": row, "need": _fmt(need), "have": _fmt(have), "unit": unit, **extra}
    key = f"solve.presolve.{code}"
    return Finding(
        code,
        severity,
        row,
        float(need),
        float(have),
        unit,
        t(key, "zh", **fmt),
        t(key, "en", **fmt),
    )


def _min_outputs(prep: Prepared) -> np.ndarray:
    """Least output of each firm forced to be served (0 for the others)."""
    d, p = prep.data, prep.params
    applicant = np.asarray(d.firm_applicant, bool)
    forced = (~applicant & ~np.asarray(d.may_exit, bool)) | np.asarray(d.locked, bool)
    floor = np.zeros(d.n_firms)
    if p.on("class_floor"):
        floor = np.maximum(floor, np.asarray(p.class_floor)[d.firm_class] * d.oreq)
    if p.on("service_floor"):
        floor = np.maximum(floor, np.where(applicant, 0.0, p.service_floor * d.o0))
    return np.where(forced, floor, 0.0)


def _locked_ineligible(prep: Prepared) -> list[Finding]:
    """Prove infeasible every locked project whose parcel fails an eligibility test.

    A lock does not override eligibility (MODEL.md ``locked``): the eligibility
    engine keeps the failed tests of each locked parcel (``Candidates.locked``);
    each becomes one finding naming the project, the plot and the test. A plot
    held by an occupant that must stay is ``locked_occupied``'s finding already.
    """
    d = prep.data
    locked = getattr(prep.candidates, "locked", None)
    if locked is None or not len(locked):
        return []
    index = {f: i for i, f in enumerate(d.firm_ids)}
    plot_index = {p: i for i, p in enumerate(d.plot_ids)}
    names = prep.firms["name"].tolist() if "name" in prep.firms else [None] * d.n_firms
    may_exit = np.asarray(d.may_exit, bool)
    out = []
    for row in locked.itertuples(index=False):
        f = index.get(str(row.firm_id), -1)
        if f < 0 or row.eligible:
            continue
        for plot, code in row.failures:
            pl = plot_index.get(plot, -1)
            occ = int(d.plot_occupant[pl]) if pl >= 0 else -1
            if code == "status" and occ >= 0 and not may_exit[occ]:
                continue
            size = code == "size"
            need, have = (float(row.area_mu), float(row.land_max_mu)) if size else (1.0, 0.0)
            unit = "亩" if size else ""
            messages = {}
            for lang in ("zh", "en"):
                detail = (
                    t(
                        "solve.presolve.locked_size_detail",
                        lang,
                        area=_fmt(need),
                        low=_fmt(float(row.land_min_mu)),
                        high=_fmt(have),
                    )
                    if size
                    else ""
                )
                messages[lang] = t(
                    "solve.presolve.locked_ineligible",
                    lang,
                    row=f"locked[{d.firm_ids[f]}]",
                    name=names[f] or d.firm_ids[f],
                    firm=d.firm_ids[f],
                    plot=plot,
                    test=t(f"eligibility.test.{code}", lang),
                    why=t(f"eligibility.reason.{code}", lang),
                    detail=detail,
                )
            out.append(
                Finding(
                    "locked_ineligible",
                    "infeasible",
                    f"locked[{d.firm_ids[f]}]",
                    need,
                    have,
                    unit,
                    messages["zh"],
                    messages["en"],
                    firm_id=str(d.firm_ids[f]),
                    firm_name=str(names[f] or ""),
                    plot_id=str(plot),
                    reason=str(code),
                )
            )
    return out


def presolve_checks(prep: Prepared) -> list[Finding]:
    """Return cheap proofs of infeasibility (and warnings) for a prepared scenario."""
    d, p = prep.data, prep.params
    out: list[Finding] = []
    applicant = np.asarray(d.firm_applicant, bool)
    locked = np.asarray(d.locked, bool)
    may_exit = np.asarray(d.may_exit, bool)

    # locked parcels: overlapping each other, or on a plot whose occupant must stay
    owner: dict[int, int] = {}
    for f in np.flatnonzero(locked & applicant & (d.locked_parcel >= 0)):
        for pl in d.parcel_plots(int(d.locked_parcel[f])):
            occ = int(d.plot_occupant[pl])
            pid = d.plot_ids[pl]
            if pl in owner:
                out.append(
                    _finding(
                        "locked_overlap", "infeasible", f"locked[{d.firm_ids[f]}]", 1, 0, "",
                        plot=pid, other=d.firm_ids[owner[pl]],
                    )
                )  # fmt: skip
            owner[pl] = int(f)
            if occ >= 0 and not may_exit[occ]:
                out.append(
                    _finding(
                        "locked_occupied", "infeasible", f"locked[{d.firm_ids[f]}]", 1, 0, "",
                        plot=pid, other=d.firm_ids[occ],
                    )
                )  # fmt: skip
    out.extend(_locked_ineligible(prep))
    # locked land need vs free land per zone
    free = np.zeros(d.n_zones)
    avail = (d.plot_occupant < 0) | may_exit[np.maximum(d.plot_occupant, 0)]
    np.add.at(free, d.plot_zone[avail], d.plot_area_mu[avail])
    need_land = np.zeros(d.n_zones)
    for f in np.flatnonzero(locked & applicant & (d.locked_parcel >= 0)):
        b = int(d.locked_parcel[f])
        need_land[d.parcel_zone[b]] += d.parcel_area_mu[b]
    for z in np.flatnonzero(need_land > free + 1e-9):
        out.append(
            _finding(
                "locked_land",
                "infeasible",
                f"plot_once[{d.zone_ids[z]}]",
                need_land[z],
                free[z],
                "亩",
            )
        )

    # per firm: floors above what the caps and the land allow
    floor = _min_outputs(prep)
    upper = np.where(applicant, d.oreq, np.minimum(d.oreq, d.growth_cap * d.o0))
    if p.on("class_cap"):
        psi = np.asarray(p.class_cap, float)[d.firm_class]
        fin = np.isfinite(psi)
        capped = np.where(fin, np.where(fin, psi, 0.0) * d.o0, np.inf)
        upper = np.where(applicant, upper, np.minimum(upper, capped))
    lp = d.locked_parcel
    land_cap = np.where(lp >= 0, d.va_mu * d.parcel_area_mu[np.maximum(lp, 0)], np.inf)
    upper = np.where(applicant & (lp >= 0), np.minimum(upper, land_cap), upper)
    for f in np.flatnonzero(floor > upper + 1e-6 * np.maximum(1.0, upper)):
        out.append(
            _finding(
                "floor_above_cap", "infeasible", f"class_floor[{d.firm_ids[f]}]", floor[f],
                upper[f], "万元", cls=CLASSES[int(d.firm_class[f])],
            )
        )  # fmt: skip

    # floors alone against the zone, province and unit caps
    zone_of = np.where(applicant, -1, d.firm_zone)
    unit_of = np.where(applicant, -1, d.firm_unit)
    has_lp = applicant & (lp >= 0)
    zone_of[has_lp] = d.parcel_zone[lp[has_lp]]
    unit_of[has_lp] = d.parcel_unit[lp[has_lp]]
    ok = zone_of >= 0
    checks = (
        ("zone_energy", d.en, d.zone_energy_cap_tce, "tce"),
        ("zone_electricity", d.el, d.zone_electricity_cap_mwh, "MWh"),
    )
    for family, inten, caps, unit in checks:
        if not p.on(family):
            continue
        need = np.bincount(zone_of[ok], weights=(inten * floor)[ok], minlength=d.n_zones)
        for z in np.flatnonzero(np.isfinite(caps) & (need > caps + 1e-6 * np.maximum(1.0, caps))):
            out.append(
                _finding(
                    "floors_exceed_cap",
                    "infeasible",
                    f"{family}[{d.zone_ids[z]}]",
                    need[z],
                    caps[z],
                    unit,
                )
            )
    if p.on("province_energy") and math.isfinite(d.province_energy_cap_tce):
        need = float((d.en * floor).sum())
        if need > d.province_energy_cap_tce * (1 + 1e-6):
            out.append(
                _finding(
                    "floors_exceed_cap", "infeasible", "province_energy[province]", need,
                    d.province_energy_cap_tce, "tce",
                )
            )  # fmt: skip
    if p.on("unit_emissions") and d.n_units:
        okf = unit_of >= 0
        for k, pol in enumerate(POLLUTANTS):
            need = np.bincount(unit_of[okf], weights=(d.em[:, k] * floor)[okf], minlength=d.n_units)
            caps = d.unit_emission_cap_t[:, k]
            for u in np.flatnonzero(
                np.isfinite(caps) & (need > caps + 1e-6 * np.maximum(1.0, caps))
            ):
                out.append(
                    _finding(
                        "floors_exceed_cap", "infeasible",
                        f"unit_emissions[unit={d.unit_ids[u]},pollutant={pol}]",
                        need[u], caps[u], "t",
                    )
                )  # fmt: skip
    return out


# ----------------------------------------------------------------------------- elastic


def _row_info(built: Any, name: str) -> Any:
    reg = getattr(built, "names", None) or getattr(built, "registry", None)
    rows = getattr(reg, "rows", None)
    if isinstance(rows, Mapping):
        return rows.get(name)
    return None


def _split_row(name: str) -> tuple[str, list[str]]:
    from models.naming import parse

    try:
        family, keys = parse(name)
    except ValueError:
        return name, []
    return family, list(keys.values())


def _relaxed_rows(built: Any, sol: Any) -> list[tuple[str, float]]:
    """Return (row display name, slack amount) for every relaxed row of an elastic solve."""
    for attr in ("slacks", "elastic_slacks", "relaxed"):
        val = getattr(sol, attr, None)
        if isinstance(val, Mapping):
            return [
                (str(k), float(v)) for k, v in val.items() if v is not None and abs(float(v)) > 1e-6
            ]
        if isinstance(val, pd.Series):
            return [(str(k), float(v)) for k, v in val.items() if abs(float(v)) > 1e-6]
        if isinstance(val, pd.DataFrame) and len(val):
            col = "amount" if "amount" in val else "value"
            return [
                (str(r), float(v))
                for r, v in zip(val["row"], val[col], strict=True)
                if abs(v) > 1e-6
            ]
    fn = getattr(built, "slack_values", None)
    if callable(fn):
        return [(str(k), float(v)) for k, v in fn(sol).items() if abs(float(v)) > 1e-6]
    return []


def elastic_diagnosis(
    prep: Prepared, *, time_limit_s: float = 60.0, solver: str | None = None
) -> dict[str, Any]:
    """Re-solve with elastic slacks; report each relaxed row in its own units.

    Returns a dict with ``status`` (of the elastic solve), ``rows`` (list of
    ``row``, ``family``, ``keys``, ``amount``, ``unit``, ``message_zh``,
    ``message_en``) and ``presolve`` (the presolve findings).
    """
    from models import allocation
    from models import solver as msolver

    params = replace(prep.params, elastic=True)
    built = allocation.build(prep.data, params)
    sol = msolver.run(
        built,
        solver=solver or str(prep.scenario["solver.name"]),
        time_limit_s=time_limit_s,
        rel_gap=float(prep.scenario["solver.rel_gap"]),
        threads=int(prep.scenario["solver.threads"]),
        seed=int(prep.scenario["solver.seed"]),
    )
    status = getattr(getattr(sol, "status", "error"), "value", getattr(sol, "status", "error"))
    relaxed = getattr(msolver, "relaxations", None)
    if callable(relaxed) and getattr(sol, "has_solution", False):
        table = relaxed(built, sol)
        pairs = list(zip(table["row"], table["amount"], strict=True))
    else:
        pairs = sorted(_relaxed_rows(built, sol), key=lambda r: -abs(r[1]))
    rows = []
    for name, amount in pairs:
        info = _row_info(built, name)
        family = getattr(info, "family", None) or _split_row(name)[0]
        unit = getattr(info, "unit", None) or ROW_UNITS.get(family, "")
        sense = getattr(info, "sense", "<=")
        code = "elastic_short" if sense == "<=" else "elastic_relaxed"
        fmt = {"row": name, "amount": _fmt(abs(amount)), "unit": unit}
        rows.append(
            {
                "row": name,
                "family": family,
                "keys": _split_row(name)[1],
                "amount": abs(float(amount)),
                "unit": unit,
                "message_zh": t(f"solve.diagnose.{code}", "zh", **fmt),
                "message_en": t(f"solve.diagnose.{code}", "en", **fmt),
            }
        )
    return {
        "status": str(status),
        "objective": getattr(sol, "objective", None),
        "rows": rows,
        "presolve": [f.to_dict() for f in presolve_checks(prep)],
    }


def diagnose(
    scenario: Any, *, case: Any = None, time_limit_s: float | None = None
) -> dict[str, Any]:
    """Prepare ``scenario``, run the presolve checks and, when infeasible, the elastic diagnosis."""
    from allocator.scenario import Scenario, load_scenario
    from allocator.solve import load_case_cached, run_model

    if time_limit_s is not None:
        time_limit_s = check_param("solver.time_limit_s", time_limit_s, "--time-limit")
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(Path(scenario))
    if case is None:
        case = load_case_cached(scenario.case_path)
    from allocator.prepare import prepare

    prep = prepare(case, scenario)
    findings = presolve_checks(prep)
    tl = float(time_limit_s or scenario["solver.time_limit_s"])
    result = run_model(
        prep,
        solver=str(scenario["solver.name"]),
        time_limit_s=tl,
        rel_gap=float(scenario["solver.rel_gap"]),
        duals=True,
    )
    report: dict[str, Any] = {
        "scenario": scenario.name,
        "status": result.status,
        "objective": result.objective,
        "presolve": [f.to_dict() for f in findings],
        "elastic": None,
        "marginals": None,
    }
    if result.status == "infeasible":
        report["elastic"] = elastic_diagnosis(prep, time_limit_s=tl)
    elif result.has_solution:
        report["marginals"] = marginal_values(prep, result)
    return report


# ----------------------------------------------------------------------------- marginals


def _duals(built: Any, sol: Any) -> dict[str, tuple[float, float]]:
    """Return {row: (dual, slack)}; slack = rhs − activity for ``<=`` rows."""
    val = getattr(sol, "duals", None)
    if not isinstance(val, Mapping) or not val:
        return {}
    activity = getattr(sol, "row_activity", None) or {}
    out = {}
    for name, dual in val.items():
        info = _row_info(built, str(name))
        slack = np.nan
        if info is not None and name in activity:
            act = float(activity[name])
            slack = info.rhs - act if info.sense == "<=" else act - info.rhs
        out[str(name)] = (float(dual), float(slack))
    return out


def marginal_values(prep: Prepared, result: Any) -> pd.DataFrame:
    """Return the marginal value of every cap row (dual of the LP with integers fixed).

    Columns: ``row``, ``family``, ``zone_id``, ``unit_id``, ``pollutant``,
    ``value`` (万元 of objective per unit of the row's right-hand side; ≥ 0 for a
    binding cap), ``unit``, ``slack``, ``binding``.
    """
    built = getattr(result, "built", None)
    sol = getattr(result, "solution", None)
    duals = _duals(built, sol) if sol is not None else {}
    rows = []
    for name, (value, slack) in duals.items():
        family, keys = _split_row(name)
        if family not in CAP_FAMILIES:
            continue
        zone_id = (
            keys[0] if family in ("zone_electricity", "zone_energy", "energy_intensity") else None
        )
        unit_id = keys[0] if family == "unit_emissions" and keys else None
        pol = keys[1] if family == "unit_emissions" and len(keys) > 1 else None
        rows.append(
            {
                "row": name,
                "family": family,
                "zone_id": zone_id,
                "unit_id": unit_id,
                "pollutant": pol,
                "value": value,
                "unit": DUAL_UNITS[family],
                "slack": slack,
                "binding": bool(abs(value) > 1e-7 or (np.isfinite(slack) and abs(slack) < 1e-6)),
            }
        )
    cols = ["row", "family", "zone_id", "unit_id", "pollutant", "value", "unit", "slack", "binding"]
    return pd.DataFrame(rows, columns=cols)


from allocator._callable import make_callable  # noqa: E402

make_callable(__name__, "diagnose")
