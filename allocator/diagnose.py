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
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.diagnosis import (
    REPAIR_KEYS,
    Diagnosis,
    DiagnosisItem,
    elastic_item,
    merge_repeats,
    presolve_item,
    row_where,
)
from allocator.i18n import t
from allocator.prepare import Prepared
from allocator.settings import SolverSettings
from allocator.status import Status, has_plan, parse_status
from allocator.units import format_quantity
from models.allocation import QUOTA_FAMILIES, UNITS
from models.data import CLASSES, POLLUTANTS


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
    code: str,
    severity: str,
    row: str,
    need: float,
    have: float,
    unit: str,
    names: dict[str, dict[str, dict[str, str]]] | None = None,
    **extra: Any,
) -> Finding:
    """One presolve finding, its message in planner words in zh and en.

    The row is named by its policy and its subject's name (``row_where``), the
    quantities in the planner's units (``format_quantity``), another firm by
    its name and id; the raw row stays in ``Finding.row`` for traceability.
    """
    key = f"solve.presolve.{code}"
    messages = {}
    for lang in ("zh", "en"):
        lang_names = (names or {}).get(lang)
        other = str(extra.get("other", ""))
        fmt = {
            **extra,
            "row": row_where(row, lang_names, lang),
            "need": format_quantity(need, unit, lang) if unit else _fmt(need),
            "have": format_quantity(have, unit, lang) if unit else _fmt(have),
            "unit": "",
            "other": ((lang_names or {}).get("firm", {}).get(other, other)) if other else "",
        }
        messages[lang] = t(key, lang, **fmt)
    return Finding(
        code,
        severity,
        row,
        float(need),
        float(have),
        unit,
        messages["zh"],
        messages["en"],
    )


def _min_outputs(prep: Prepared) -> np.ndarray:
    """Least output of each firm forced to be served (0 for the others)."""
    from models.allocation import forced_min_output

    return forced_min_output(prep.data, prep.params)


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
                    row=t("diagnosis.family.locked", lang),
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
    nm = {lang: subject_names(prep, lang) for lang in ("zh", "en")}
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
                        plot=pid, other=d.firm_ids[owner[pl]], names=nm,
                    )
                )  # fmt: skip
            owner[pl] = int(f)
            if occ >= 0 and not may_exit[occ]:
                out.append(
                    _finding(
                        "locked_occupied", "infeasible", f"locked[{d.firm_ids[f]}]", 1, 0, "",
                        plot=pid, other=d.firm_ids[occ], names=nm,
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
                names=nm,
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
                upper[f], "万元", cls=CLASSES[int(d.firm_class[f])], names=nm,
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
                    names=nm,
                )
            )
    if p.on("province_energy") and math.isfinite(d.province_energy_cap_tce):
        need_tce = float((d.en * floor).sum())
        if need_tce > d.province_energy_cap_tce * (1 + 1e-6):
            out.append(
                _finding(
                    "floors_exceed_cap", "infeasible", "province_energy[province]", need_tce,
                    d.province_energy_cap_tce, "tce", names=nm,
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
                        need[u], caps[u], "t", names=nm,
                    )
                )  # fmt: skip
    out.extend(_a_class_findings(prep))
    return out


LANGS = ("zh", "en")


def _a_class_findings(prep: Prepared) -> list[Finding]:
    """Zones that cannot reach A class, with the gap per indicator (``a_class_target``).

    Each indicator a zone misses even with every candidate admitted (presolve
    arithmetic, :func:`allocator.assessment.a_class_gaps`) is one finding naming
    the zone, the indicator, what the thresholds need, the most any plan gives
    and the gap: a proof (``infeasible``) when too few zones remain to meet the
    target n, else a warning. A second proof says how many zones are needed
    and how many can reach.
    """
    from allocator.assessment import a_class_gaps, indicator_label

    d, p = prep.data, prep.params
    gaps = a_class_gaps(d, p)
    if d.zone_a_class_need is None or not p.on("a_class_target"):
        return []
    n = int(d.a_class_target_zones)
    can = d.n_zones - int(gaps["zone_id"].nunique())
    short = n > can
    severity = "infeasible" if short else "warning"
    names = {lang: subject_names(prep, lang)["zone"] for lang in LANGS}
    out = []
    for row in gaps.itertuples(index=False):
        msgs = {}
        key = f"a_class_reach[zone={row.zone_id},indicator={row.indicator}]"
        for lang in LANGS:
            msgs[lang] = t(
                "solve.presolve.a_class_unreachable",
                lang,
                row=row_where(key, {"zone": names[lang]}, lang),
                indicator=indicator_label(row.indicator, lang),
                need=format_quantity(row.need, row.unit, lang),
                have=format_quantity(row.most, row.unit, lang),
                gap=format_quantity(row.gap, row.unit, lang),
            )
        out.append(
            Finding(
                "a_class_unreachable", severity, key, row.need, row.most, row.unit,
                msgs["zh"], msgs["en"],
            )
        )  # fmt: skip
    if short:
        msgs = {lang: t("solve.presolve.a_class_too_few", lang, need=n, have=can) for lang in LANGS}
        out.append(
            Finding(
                "a_class_too_few", "infeasible", "a_class_target[province]", float(n), float(can),
                "", msgs["zh"], msgs["en"],
            )
        )  # fmt: skip
    return out


# ----------------------------------------------------------------------------- elastic


def subject_names(prep: Prepared, lang: str = "zh") -> dict[str, dict[str, str]]:
    """Planner names of zones and firms (id → name) for diagnosis labels."""
    zcol = "name_en" if lang == "en" and "name_en" in prep.zones.columns else "name"
    zones = {
        str(z): str(n) if isinstance(n, str) and n else str(z)
        for z, n in zip(prep.zones["zone_id"], prep.zones[zcol], strict=True)
    }
    firms = {
        str(f): f"{n}（{f}）" if lang == "zh" else f"{n} ({f})"
        for f, n in zip(prep.firms["firm_id"], prep.firms["name"], strict=True)
    }
    return {"zone": zones, "firm": firms}


def presolve_diagnosis(prep: Prepared, findings: list[Finding] | None = None) -> Diagnosis:
    """Return the presolve findings of a prepared scenario as a typed :class:`Diagnosis`."""
    if findings is None:
        findings = presolve_checks(prep)
    names = subject_names(prep)
    return Diagnosis(items=tuple(presolve_item(f.to_dict(), names) for f in findings))


def _solve_built(
    prep: Prepared, params: Any, settings: SolverSettings, *, duals: bool = False
) -> tuple[Any, Any]:
    """Build the model with ``params`` and solve it under ``settings``.

    Returns ``(built, solution)``. Used by the elastic re-solve and by
    :func:`diagnose`, so this module needs nothing from :mod:`allocator.solve`.
    """
    from models import allocation
    from models import solver as msolver

    built = allocation.build(prep.data, params)
    sol = msolver.run(
        built,
        **settings.solver_kwargs(),
        duals=duals,
    )
    return built, sol


def _relaxed_items(
    built: Any, sol: Any, names: dict[str, dict[str, str]], names_en: dict[str, dict[str, str]]
) -> list[DiagnosisItem]:
    """One :class:`DiagnosisItem` per row the elastic solution relaxed."""
    from models import solver as msolver

    items = []
    table = msolver.relaxations(built, sol)
    for name, amount in zip(table["row"], table["amount"], strict=True):
        info = built.registry.rows.get(name)
        unit = info.unit if info is not None else UNITS.get(name.split("[", 1)[0], "")
        sense = info.sense if info is not None else "<="
        cap = float(info.rhs) if info is not None and sense == "<=" else None
        items.append(elastic_item(name, float(amount), unit, cap, sense, names, names_en))
    return items


def elastic_diagnosis(prep: Prepared, settings: SolverSettings) -> Diagnosis:
    """Re-solve with elastic slacks under ``settings``; report each relaxed row.

    Every relaxed row becomes a :class:`DiagnosisItem` in its family's units
    with its share of the cap; the presolve findings come along, and the
    settings used are recorded in the result. When the re-solve also relaxed
    a row no scenario key sets (a floor, a lock), a second re-solve keeps
    those rows hard and relaxes only the caps a scenario sets: its rows are
    :attr:`Diagnosis.repair`, the set of relaxations that together give a
    plan (the first re-solve may have split the blame between a cap and a
    floor, so raising the cap by its share alone would leave no plan).
    """
    built, sol = _solve_built(prep, replace(prep.params, elastic=True), settings)
    names, names_en = subject_names(prep, "zh"), subject_names(prep, "en")
    items = [presolve_item(f.to_dict(), names) for f in presolve_checks(prep)]
    relaxed = _relaxed_items(built, sol, names, names_en) if sol.has_solution else []
    items += relaxed
    repair: list[DiagnosisItem] = []
    repair_status = None
    if relaxed:
        if all(i.family in REPAIR_KEYS for i in relaxed):
            repair, repair_status = relaxed, str(sol.status)
        else:
            only = replace(prep.params, elastic=True, elastic_only=tuple(REPAIR_KEYS))
            built2, sol2 = _solve_built(prep, only, settings)
            repair_status = str(sol2.status)
            if sol2.has_solution:
                repair = _relaxed_items(built2, sol2, names, names_en)
    return Diagnosis(
        items=tuple(merge_repeats(items)),
        elastic_status=str(sol.status),
        settings=settings,
        repair=tuple(merge_repeats(repair)),
        repair_status=repair_status,
    )


def diagnose(
    scenario: Any,
    *,
    case: Any = None,
    settings: SolverSettings | None = None,
    time_limit_s: float | None = None,
    rel_gap: float | None = None,
) -> dict[str, Any]:
    """Prepare ``scenario``, run the presolve checks and, when infeasible, the elastic diagnosis.

    The solve and the elastic re-solve both run under the same settings:
    ``settings`` (default: the scenario's) with ``time_limit_s``/``rel_gap``
    applied. Returns ``scenario``, ``status`` (:class:`Status`), ``objective``,
    ``settings``, ``diagnosis`` (:class:`Diagnosis`), ``marginals`` and ``names``
    (per language, subject kind → id → planner name, for naming rows).
    """
    from allocator.case.cache import load_case_cached
    from allocator.scenario import Scenario, load_scenario

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(Path(scenario))
    settings = SolverSettings.resolve(
        scenario, settings, time_limit_s=time_limit_s, rel_gap=rel_gap
    )
    if case is None:
        case = load_case_cached(scenario.case_path)
    from allocator.prepare import prepare

    prep = prepare(case, scenario)
    findings = presolve_checks(prep)
    built, sol = _solve_built(prep, prep.params, settings, duals=True)
    status = parse_status(sol.status)
    report: dict[str, Any] = {
        "scenario": scenario.name,
        "status": status,
        "objective": sol.objective,
        "settings": settings,
        "diagnosis": presolve_diagnosis(prep, findings),
        "marginals": None,
        "names": {lang: subject_names(prep, lang) for lang in ("zh", "en")},
    }
    if status == Status.INFEASIBLE:
        report["diagnosis"] = elastic_diagnosis(prep, settings)
    elif has_plan(status):
        report["marginals"] = _marginal_table(built, sol)
    return report


# ----------------------------------------------------------------------------- marginals


def marginal_values(prep: Prepared, result: Any) -> pd.DataFrame:
    """Return the marginal value of every cap row (dual of the LP with integers fixed).

    Columns: ``row``, ``family``, ``zone_id``, ``unit_id``, ``pollutant``,
    ``value`` (万元 of objective per unit of the row's right-hand side; ≥ 0 for a
    binding cap), ``unit``, ``slack``, ``binding``.
    """
    return _marginal_table(getattr(result, "built", None), getattr(result, "solution", None))


MARGINAL_COLUMNS = [
    "row", "family", "zone_id", "unit_id", "pollutant", "value", "unit", "slack", "binding",
    "rhs", "activity",
]  # fmt: skip


def _marginal_table(built: Any, sol: Any) -> pd.DataFrame:
    """Return the quota rows' marginal values (``models.solver.marginals``) in run columns."""
    from models.solver import marginals

    if built is None or sol is None or not sol.duals:
        return pd.DataFrame(columns=MARGINAL_COLUMNS)
    table = marginals(built, sol, QUOTA_FAMILIES)
    return table.reindex(columns=MARGINAL_COLUMNS).reset_index(drop=True)


from allocator._callable import make_callable  # noqa: E402

make_callable(__name__, "diagnose")
