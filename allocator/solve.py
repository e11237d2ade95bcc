"""Solve a scenario: load the case, prepare, check, build, run, assemble, write.

:func:`solve` is what the CLI and the app call. The model itself lives in
``models/`` (``models.allocation.build`` and ``models.solver.run``); this
module maps the solver's answer back to firms, plots and zones
(:func:`assemble`) and writes the run folder (:mod:`allocator.runs`).
Ordinary outcomes (infeasible, time limit) come back as a :class:`Result`
with that status, never as an exception.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.errors import ScenarioError
from allocator.i18n import t
from allocator.kpis import Kpis, compute_kpis
from allocator.prepare import Prepared, prepare
from allocator.runs import Result, write_run
from allocator.scenario import Scenario, load_scenario
from allocator.settings import SolverSettings
from allocator.status import Status, has_plan, parse_status
from allocator.units import MU_PER_KM2
from models.data import POLLUTANTS

Progress = Callable[[str, Mapping[str, Any]], None]
"""``progress(stage, info)``: stages ``load``, ``prepare``, ``presolve``, ``build``,
``reuse`` (a what-if session's model changed in place; info: what changed), ``solve``
(info may carry ``objective``, ``bound``, ``gap``, ``time_s``), ``assemble``,
``marginals``, ``diagnose``, ``write``, ``done``."""


def load_case_cached(path: str | Path) -> Any:
    """Load a case through the one bounded case cache, :mod:`allocator.case.cache`.

    Kept here for callers of ``allocator.solve.load_case_cached``; imported lazily
    because loading cases pulls in geopandas.
    """
    from allocator.case.cache import load_case_cached as load

    return load(path)


def _emit(progress: Progress | None, stage: str, **info: Any) -> None:
    if progress is not None:
        progress(stage, info)


# ----------------------------------------------------------------------------- assembly

REASONS = {
    "admitted": "admitted",
    "stays": "stays",
    "request_cut": "request_cut",
    "moved_out": "moved_out",
    "no_candidate": "no_candidate",
    "not_selected": "not_selected",
}


def reason_text(code: str, lang: str | None = None) -> str:
    """Return the user-facing text of a firm outcome code (``admitted``, ``moved_out``…)."""
    key = f"solve.reason.{code}"
    return t(key, lang)


def assemble(
    prep: Prepared,
    y: np.ndarray,
    x: np.ndarray,
    o: np.ndarray,
    u: np.ndarray | None = None,
    supply: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Kpis]:
    """Turn a solution (``y`` per firm, ``x`` per candidate pair, ``o`` per firm) into tables.

    ``u`` is the floor area each firm adds by raising its plot ratio (m²,
    ``far_upgrade``; zeros when None); ``supply`` the supply mode the model chose
    per firm (index into ``SUPPLY_MODES``, −1 or None: the county rule's default).
    Values are rounded to the nearest integer for binaries and clipped at 0 for
    outputs. Returns ``(firms, zones, plots, kpis)`` in CONTRIBUTING.md's columns
    (plus extra columns).
    """
    d = prep.data
    nf = d.n_firms
    y = np.rint(np.asarray(y, dtype=float)).astype(bool)
    x = np.rint(np.asarray(x, dtype=float)).astype(bool)
    o = np.clip(np.asarray(o, dtype=float), 0.0, None)
    o = np.where(y, o, 0.0)
    applicant = np.asarray(d.firm_applicant, bool)
    u = np.zeros(nf) if u is None else np.where(y, np.clip(np.asarray(u, float), 0.0, None), 0.0)
    u = np.where(u > 1e-6, u, 0.0)
    k_up = prep.firms["upgrade_output_per_m2"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        saved = np.where(d.va_mu > 0, k_up * u / d.va_mu, 0.0)

    # applicant -> chosen parcel
    parcel_of = np.full(nf, -1, dtype=int)
    sel = np.flatnonzero(x)
    parcel_of[d.cand_firm[sel]] = d.cand_parcel[sel]
    f = prep.firms
    zone_after = np.where(applicant, -1, d.firm_zone)
    has_p = parcel_of >= 0
    zone_after[has_p] = d.parcel_zone[parcel_of[has_p]]
    unit_after = np.where(applicant, -1, d.firm_unit)
    unit_after[has_p] = d.parcel_unit[parcel_of[has_p]]
    land = np.where(applicant, 0.0, np.where(y, d.land0_mu, 0.0))
    land[has_p] = d.parcel_area_mu[parcel_of[has_p]]

    oreq = np.asarray(d.oreq, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        met = np.where(oreq > 0, o / oreq, np.where(y, 1.0, 0.0))
    reason = np.empty(nf, dtype=object)
    n_c = f["n_candidates"].to_numpy()
    reason[applicant & y] = "admitted"
    reason[applicant & ~y & (n_c == 0)] = "no_candidate"
    reason[applicant & ~y & (n_c > 0)] = "not_selected"
    reason[~applicant & y] = "stays"
    reason[~applicant & y & (met < 1 - 1e-6) & (oreq > 0)] = "request_cut"
    reason[~applicant & ~y] = "moved_out"
    parcel_plots = prep.parcels["plot_ids"].to_numpy()
    en_buy = applicant & (d.en > prep.params.energy_price_threshold_tce_per_wan)
    firms = pd.DataFrame(
        {
            "firm_id": f["firm_id"].to_numpy(),
            "name": f["name"].to_numpy(),
            "kind": f["kind"].to_numpy(),
            "zone_id": [d.zone_ids[z] if z >= 0 else None for z in zone_after],
            "class": f["class"].to_numpy(),
            "served": y,
            "parcel_id": [d.parcel_ids[b] if b >= 0 else None for b in parcel_of],
            "land_mu": land,
            "electricity_mwh": d.el * o,
            "energy_tce": d.en * o,
            **{f"{k}_t": d.em[:, j] * o for j, k in enumerate(POLLUTANTS)},
            "value_added_wan": o,
            "tax_wan": d.tax_va * o,
            "request_met_share": met,
            "reason": reason,
            "exit_reason": f["exit_reason"].to_numpy(),
            "plot_ids": [";".join(parcel_plots[b]) if b >= 0 else None for b in parcel_of],
            "unit_id": [d.unit_ids[u] if u >= 0 else None for u in unit_after],
            "industry": f["industry"].to_numpy(),
            "locked": f["locked"].to_numpy(),
            "may_exit": f["may_exit"].to_numpy(),
            "value_added_before_wan": d.o0,
            "tax_before_wan": f["tax0_wan"].to_numpy(),
            "requested_wan": oreq,
            "land_before_mu": d.land0_mu,
            "land_min_mu": d.land_min_mu,
            "land_max_mu": d.land_max_mu,
            "energy_before_tce": d.en * d.o0,
            "electricity_before_mwh": d.el * d.o0,
            "energy_purchase_tce": np.where(en_buy, d.en * o, 0.0),
            "zone_id_before": f["zone_id"].to_numpy(),
            "floor_area_before_m2": f["floor_area_m2"].to_numpy(),
            "floor_area_added_m2": u,
            "upgraded": u > 0,
            "land_saved_mu": saved,
            "idle_floor_reused_m2": _idle_reused(d, parcel_of),
            **_mountain_columns(prep, zone_after),
        }
    )
    firms = _with_supply(prep, firms, y & applicant, supply)

    # plots
    plots = prep.plots.copy()
    firm_after = np.full(d.n_plots, -1, dtype=int)
    occ = d.plot_occupant
    stay = (occ >= 0) & y[np.maximum(occ, 0)] & ~applicant[np.maximum(occ, 0)]
    firm_after[stay] = occ[stay]
    new = np.zeros(d.n_plots, dtype=bool)
    for fi in np.flatnonzero(has_p & applicant):
        pl = d.parcel_plots(parcel_of[fi])
        firm_after[pl] = fi
        new[pl] = True
    outcome = np.full(d.n_plots, "vacant", dtype=object)
    outcome[(occ >= 0) & ~stay] = "freed"
    threshold = float(prep.scenario["eligibility.redline_threshold"])
    red = plots["redline_share"].fillna(0.0).to_numpy() > threshold + 1e-12
    outcome[red & (firm_after < 0) & (occ < 0)] = "excluded_redline"
    outcome[stay] = "kept"
    outcome[new] = "new_project"
    plots["firm_id_after"] = [d.firm_ids[i] if i >= 0 else None for i in firm_after]
    plots["outcome"] = outcome
    cls = f["class"].to_numpy(dtype=object)
    plots["class_after"] = np.where(firm_after >= 0, cls[np.maximum(firm_after, 0)], None)

    for lang in ("zh", "en"):
        texts = {code: reason_text(code, lang) for code in REASONS}
        firms[f"reason_{lang}"] = [
            texts[r] + (f" ({e})" if r == "moved_out" and isinstance(e, str) else "")
            for r, e in zip(firms["reason"], firms["exit_reason"], strict=True)
        ]
    zones = _zone_table(prep, firms, plots, o, y, zone_after)
    kpis = compute_kpis(firms, plots, zones)
    return firms, zones, plots, kpis


def _with_supply(
    prep: Prepared, firms: pd.DataFrame, admitted: np.ndarray, supply: np.ndarray | None
) -> pd.DataFrame:
    """Add each admitted project's 供地方式, 年限, land income and land returned (land_supply)."""
    from allocator.land_supply import load_supply_rule, supply_columns

    scen = prep.scenario
    chosen = np.full(len(firms), -1) if supply is None else np.asarray(supply, int)
    cols = supply_columns(
        load_supply_rule(str(scen["land.supply_rule"])),
        list(firms["industry"]),
        list(firms["class"]),
        admitted,
        chosen,
        int(scen["land.supply_start_year"]),
        int(scen["land.supply_plan_years"]),
        int(scen["land.return_by_year"]),
        firms["land_mu"].to_numpy(dtype=float),
    )
    return pd.concat([firms, cols.set_index(firms.index)], axis=1)


def _mountain_columns(prep: Prepared, zone_after: np.ndarray) -> dict[str, np.ndarray]:
    """山区26县 flags after the plan (``allocator.mountain``): the firm's own, or its zone's.

    An existing firm keeps its prepared flag; an admitted project counts when its firm
    is from or partnered with a 26县 county or its parcel lies in a 26县 county's zone.
    """
    d = prep.data
    n = d.n_firms
    if "mountain_26" not in prep.firms:
        return {"mountain_26": np.zeros(n, bool), "mountain_basis": np.full(n, None, object)}
    own = prep.firms["mountain_26"].to_numpy(dtype=bool)
    basis = prep.firms["mountain_basis"].to_numpy(dtype=object).copy()
    zone_flag = (
        np.zeros(d.n_zones, bool) if d.zone_mountain is None else np.asarray(d.zone_mountain, bool)
    )
    placed = (zone_after >= 0) & zone_flag[np.maximum(zone_after, 0)]
    applicant = np.asarray(d.firm_applicant, bool)
    by_place = applicant & placed & ~own
    basis[by_place] = "zone"
    return {"mountain_26": own | by_place, "mountain_basis": basis}


def _idle_reused(d: Any, parcel_of: np.ndarray) -> np.ndarray:
    """Idle floor area each admitted project reuses (m², ``idle_reuse``; 0 when it is off)."""
    out = np.zeros(len(parcel_of))
    if d.parcel_idle_floor_m2 is None:
        return out
    has = parcel_of >= 0
    out[has] = np.asarray(d.parcel_idle_floor_m2, float)[parcel_of[has]]
    return out


def _zone_table(
    prep: Prepared,
    firms: pd.DataFrame,
    plots: pd.DataFrame,
    o: np.ndarray,
    y: np.ndarray,
    zone_after: np.ndarray,
) -> pd.DataFrame:
    d = prep.data
    z = prep.zones
    nz = d.n_zones
    pz = d.plot_zone
    area = d.plot_area_mu
    used_after = plots["firm_id_after"].notna().to_numpy()
    used_before = (d.plot_occupant >= 0) | (plots["status_before"].to_numpy() == "occupied")
    excluded = plots["outcome"].to_numpy() == "excluded_redline"

    def by_zone(values: np.ndarray, zone: np.ndarray) -> np.ndarray:
        ok = zone >= 0
        return np.bincount(zone[ok], weights=values[ok], minlength=nz)

    applicant = np.asarray(d.firm_applicant, bool)
    zone_before = np.where(applicant, -1, d.firm_zone)
    f = prep.firms
    land_used_before = by_zone(area * used_before, pz)
    land_used_after = by_zone(area * used_after, pz)
    land_total = by_zone(area, pz)
    tax_before = by_zone(f["tax0_wan"].to_numpy(), zone_before)
    tax_after = by_zone(d.tax_va * o, zone_after)
    va_before = by_zone(d.o0, zone_before)
    va_after = by_zone(o, zone_after)
    # revenue and employees scale with output relative to the indicator year / design capacity
    design = np.where(applicant, f["oreq_wan"].to_numpy(), d.o0)
    base_va = np.where(applicant, np.where(d.va_mu > 0, d.va_mu * d.land_max_mu, 0.0), d.o0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(base_va > 0, o / base_va, 0.0)
    rev = f["revenue_wan"].to_numpy()
    emp = f["employees"].to_numpy()
    rev_before = by_zone(rev, zone_before)
    rev_after = by_zone(rev * scale, zone_after)
    emp_before = by_zone(emp, zone_before)
    emp_after = by_zone(np.where(applicant, emp * np.minimum(scale, 1.0), emp * y), zone_after)
    en_before = by_zone(d.en * d.o0, zone_before)
    en_after = by_zone(d.en * o, zone_after)
    el_before = by_zone(d.el * d.o0, zone_before)
    el_after = by_zone(d.el * o, zone_after)
    del design
    from allocator.land import load_assessment_rule, zone_km2

    km2 = zone_km2(
        z["approved_km2"].to_numpy(dtype=float), z["area_mu"].to_numpy(dtype=float), land_total
    )

    def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b > 0, a / b, np.nan)

    n_before = np.bincount(zone_before[zone_before >= 0], minlength=nz)
    served_z = zone_after[(zone_after >= 0) & y]
    n_after = np.bincount(served_z, minlength=nz)
    new_z = zone_after[(zone_after >= 0) & y & applicant]
    n_new = np.bincount(new_z, minlength=nz)
    out = pd.DataFrame(
        {
            "zone_id": list(d.zone_ids),
            "name": z["name"].to_numpy(),
            "land_used_mu": land_used_after,
            "land_free_mu": land_total - land_used_after - by_zone(area * excluded, pz),
            "land_excluded_mu": by_zone(area * excluded, pz),
            "land_used_before_mu": land_used_before,
            "plots_area_mu": land_total,
            "electricity_mwh": el_after,
            "electricity_cap_mwh": z["electricity_cap_mwh"].to_numpy(dtype=float),
            "electricity_before_mwh": el_before,
            "energy_tce": en_after,
            "energy_cap_tce": z["energy_cap_tce"].to_numpy(dtype=float),
            "energy_before_tce": en_before,
            "intensity_tce_per_wan": ratio(en_after, va_after),
            "intensity_cap_tce_per_wan": z["intensity_cap_tce_per_wan"].to_numpy(dtype=float),
            "intensity_before_tce_per_wan": ratio(en_before, va_before),
            "value_added_before_wan": va_before,
            "value_added_wan": va_after,
            "tax_before_wan": tax_before,
            "tax_wan": tax_after,
            "tax_per_mu_before": ratio(tax_before, land_used_before),
            "tax_per_mu_after": ratio(tax_after, land_used_after),
            "va_per_mu_before": ratio(va_before, land_used_before),
            "va_per_mu_after": ratio(va_after, land_used_after),
            "area_km2": km2,
            "tax_per_km2_before": ratio(tax_before, km2),
            "tax_per_km2_after": ratio(tax_after, km2),
            "revenue_per_km2_before": ratio(rev_before, km2),
            "revenue_per_km2_after": ratio(rev_after, km2),
            "va_per_km2_before": ratio(va_before, km2),
            "va_per_km2_after": ratio(va_after, km2),
            "employees_per_km2_before": ratio(emp_before, km2),
            "employees_per_km2_after": ratio(emp_after, km2),
            "developed_share_before": ratio(land_used_before, km2 * MU_PER_KM2),
            "developed_share_after": ratio(land_used_after, km2 * MU_PER_KM2),
            "firms_before": n_before,
            "firms_after": n_after,
            "new_projects": n_new,
        }
    )
    rule = load_assessment_rule(str(prep.scenario["assessment.rule"]))
    for when in ("before", "after"):
        out[f"a_class_{when}"] = rule.reaches(
            out[f"tax_per_km2_{when}"].to_numpy(),
            out[f"va_per_km2_{when}"].to_numpy(),
            out[f"developed_share_{when}"].to_numpy(),
        )
    return out


# ----------------------------------------------------------------------------- reuse

STRUCTURE_KEYS: tuple[str, ...] = ("eligibility.", "exit.", "scoring.")
"""Scenario keys that change the firms' classes, who may leave or the candidate pairs: a
what-if changing one of them has other model columns and is solved cold."""


class ReuseSession:
    """The model of a case kept in HiGHS between what-ifs (issue 17 point 1).

    ``solve(scenario, reuse=session)`` builds the scenario's model and, when the
    session holds one of the same case and structure (the same firms and pairs:
    :data:`STRUCTURE_KEYS` unchanged, the same columns and rows), changes the
    held model in place into the new one (bounds, right-hand sides, objective,
    coefficients; rows of a family switched off get bounds ±inf) and solves it
    from the held relaxation basis and the last plan, repaired to feasibility
    (:mod:`models.solver.reuse`). Otherwise it solves cold and holds the new
    model. The run's summary says which (``reuse``: ``reused``, ``reason``,
    ``changed``). A session serves one solve at a time: a solve that finds it
    busy (another thread solving with it) runs cold, it does not wait.
    """

    def __init__(self) -> None:
        from models.solver import ModelSession

        self.key = ""
        self.model = ModelSession()
        self._lock = threading.Lock()

    def key_of(self, prep: Prepared) -> str:
        """Return the case content hash and the structure keys' hash of ``prep``'s scenario."""
        return f"{prep.case_hash}:{prep.scenario.subset_hash(STRUCTURE_KEYS)}"

    def _take(self, prep: Prepared) -> tuple[Any, str]:
        """Lock the session for one solve; return ``(model session or None, note)``."""
        from models.solver import ModelSession

        if not self._lock.acquire(blocking=False):
            return None, "busy"
        key = self.key_of(prep)
        note = ""
        if key != self.key:
            if self.key:
                note = "other case, eligibility, exit or scoring keys"
            self.key, self.model = key, ModelSession()
        return self.model, note

    def _release(self) -> None:
        self._lock.release()


# ----------------------------------------------------------------------------- solving


def solve(
    scenario: Scenario | str | Path,
    *,
    case: Any = None,
    out_dir: str | Path = "runs",
    write: bool = True,
    progress: Progress | None = None,
    settings: SolverSettings | None = None,
    time_limit_s: float | None = None,
    rel_gap: float | None = None,
    diagnose_infeasible: bool = True,
    marginals: bool = True,
    prepared: Prepared | None = None,
    start: Result | None = None,
    reuse: ReuseSession | None = None,
) -> Result:
    """Solve ``scenario`` on its case and return (and by default write) the result.

    Parameters
    ----------
    scenario
        A :class:`Scenario` or the path of a scenario file.
    case
        A loaded case; by default the scenario's case, through the bounded
        case cache (:func:`allocator.case.cache.load_case_cached`).
    out_dir, write
        Where to write the run folder, and whether to write it.
    progress
        Callback ``progress(stage, info)``; see :data:`Progress`.
    settings
        The solver settings (default: the scenario's ``[solver]`` table).
    time_limit_s, rel_gap
        Override single settings (the CLI's ``--time-limit`` and ``--gap``).
        The resolved settings serve the solve and the diagnosis re-solve alike
        and are recorded in the run folder.
    diagnose_infeasible
        Run the elastic diagnosis when the scenario is infeasible.
    marginals
        Compute marginal values of the cap rows (LP with the integers fixed).
    prepared
        Already prepared inputs (skips loading and preparing).
    start
        A what-if's base result: its plan, repaired to feasibility under this
        scenario, is the solver's start (see :func:`warm_plan`).
    reuse
        A :class:`ReuseSession`: the model is changed in place from the one the
        session holds when only caps, prices, weights or switches differ, and
        solved from its last plan; else solved cold and held (``Result.reuse``).
    """
    from allocator.diagnose import (
        elastic_diagnosis,
        marginal_values,
        presolve_checks,
        presolve_diagnosis,
    )

    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if prepared is not None:
        scenario = prepared.scenario
    settings = SolverSettings.resolve(
        scenario, settings, time_limit_s=time_limit_s, rel_gap=rel_gap
    )
    if prepared is None and case is None:
        if scenario.case_path is None:
            raise ScenarioError(
                t("err.scenario.no_case", name=scenario.name), hint=t("err.scenario.no_case_hint")
            )
        _emit(progress, "load", path=str(scenario.case_path))
        t0 = time.perf_counter()
        case = load_case_cached(scenario.case_path)
        timings["load"] = time.perf_counter() - t0
    if prepared is None:
        from allocator.scenario_refs import check_scenario_ids

        check_scenario_ids(scenario, case)
    _emit(progress, "prepare")
    t0 = time.perf_counter()
    prep = prepared if prepared is not None else prepare(case, scenario)
    timings["prepare"] = time.perf_counter() - t0
    _emit(progress, "presolve")
    t0 = time.perf_counter()
    findings = presolve_checks(prep)
    timings["presolve"] = time.perf_counter() - t0
    session, note = reuse._take(prep) if reuse is not None else (None, "")
    try:
        result = run_model(
            prep,
            settings=settings,
            progress=progress,
            duals=marginals,
            start_plan=warm_plan(start, prep) if start is not None else None,
            session=session,
        )
    finally:
        if reuse is not None and note != "busy":
            reuse._release()
    if reuse is not None and (note or not result.reuse):
        result.reuse = {**result.reuse, "reused": False, "reason": note or "no model held"}
    result.timings = {**timings, **result.timings}
    diagnosis = presolve_diagnosis(prep, findings)
    if result.has_solution and marginals and result.stopped_by != "user":
        _emit(progress, "marginals")
        t0 = time.perf_counter()
        try:
            result.marginals = marginal_values(prep, result)
            result.zones = _zone_marginals(result.zones, result.marginals)
        except Exception as exc:  # noqa: BLE001 - marginals are a report, not the answer
            note = f"marginals: {type(exc).__name__}: {exc}"
            diagnosis = replace(diagnosis, notes=(*diagnosis.notes, note))
        result.timings["marginals"] = time.perf_counter() - t0
    if result.status == Status.INFEASIBLE and diagnose_infeasible and result.stopped_by != "user":
        _emit(progress, "diagnose")
        t0 = time.perf_counter()
        diagnosis = elastic_diagnosis(prep, settings)
        result.timings["diagnose"] = time.perf_counter() - t0
    result.diagnosis = diagnosis
    result.timings["total"] = time.perf_counter() - t_all
    if write:
        _emit(progress, "write")
        write_run(result, out_dir)
    _emit(progress, "done", status=result.status, run_path=str(result.run_path or ""))
    return result


def chosen_modes(built: Any) -> np.ndarray | None:
    """Return the supply mode (index into ``SUPPLY_MODES``) holding each firm's land, or −1.

    None when ``land_supply`` was not built (the rule's defaults are then assigned).
    """
    q = getattr(built, "q_col", None)
    if q is None or not np.size(q):
        return None
    val = built.values(np.maximum(q, 0).ravel()).reshape(q.shape)
    val = np.where(q >= 0, val, -1.0)  # no column: the mode is not permitted
    out = np.where(val.max(axis=1) > 1e-6, val.argmax(axis=1), -1)
    return out.astype(int)


def warm_plan(base: Result, prep: Prepared) -> tuple[np.ndarray, np.ndarray] | None:
    """Return ``(y, x)`` of ``base``'s plan when it lives on ``prep``'s firms and pairs, else None.

    A what-if that changes caps, prices, weights or switches keeps the firms and
    the candidate pairs, so the base plan is a start for it (the solver repairs
    it to feasibility); one that changes eligibility (a red-line buffer, the
    catalogue) has other pairs and starts cold.
    """
    sol = getattr(base, "solution", None)
    old = getattr(getattr(base, "prepared", None), "data", None)
    if sol is None or old is None or not has_plan(base.status):
        return None
    new = prep.data
    same = (
        tuple(old.firm_ids) == tuple(new.firm_ids)
        and np.array_equal(old.cand_firm, new.cand_firm)
        and np.array_equal(old.cand_parcel, new.cand_parcel)
        and tuple(old.parcel_ids) == tuple(new.parcel_ids)
    )
    return (np.asarray(sol.y, float), np.asarray(sol.x, float)) if same else None


def _zone_marginals(zones: pd.DataFrame, marg: pd.DataFrame) -> pd.DataFrame:
    """Add the per-zone marginal values (万元 per MWh / tce) as zone columns."""
    out = zones.copy()
    cols = {
        "zone_electricity": "electricity_marginal_wan_per_mwh",
        "zone_energy": "energy_marginal_wan_per_tce",
        "energy_intensity": "intensity_marginal_wan_per_tce",
    }
    for family, col in cols.items():
        sub = marg[marg["family"] == family]
        values = dict(zip(sub["zone_id"].astype(str), sub["value"].astype(float), strict=True))
        out[col] = [values.get(str(z), np.nan) for z in out["zone_id"]]
    return out


def run_model(
    prep: Prepared,
    *,
    settings: SolverSettings | None = None,
    progress: Progress | None = None,
    params: Any = None,
    log_path: str | Path | None = None,
    duals: bool = False,
    analysis: Any = None,
    start_plan: tuple[np.ndarray, np.ndarray] | None = None,
    session: Any = None,
) -> Result:
    """Build and solve the prepared model under ``settings``; return a :class:`Result`.

    ``settings`` defaults to the scenario's. ``analysis`` (a
    :class:`models.allocation.Analysis`) adds the analysis families
    (alternatives, stability). ``start_plan`` is ``(y, x)`` of a plan on the
    same firms and pairs (:func:`warm_plan`). ``session`` is a
    :class:`models.solver.ModelSession` (see :class:`ReuseSession`). The result
    is not written.
    """
    from models import allocation
    from models import solver as msolver

    scen = prep.scenario
    settings = settings if settings is not None else SolverSettings.from_scenario(scen)
    timings: dict[str, float] = {}
    _emit(progress, "build")
    t0 = time.perf_counter()
    built = allocation.build(prep.data, params or prep.params, analysis=analysis)
    timings["build"] = time.perf_counter() - t0
    if session is not None and session.holds_model and settings.solver == "highs":
        change, _ = session.adopt(built)  # the solver finds it adopted
        if change is not None:
            _emit(progress, "reuse", **change.to_dict())
    _emit(progress, "solve", time_limit_s=settings.time_limit_s)

    def on_progress(info: Mapping[str, Any]) -> None:
        info = dict(info)
        if "incumbent" not in info and info.get("objective") is not None:
            info["incumbent"] = info["objective"]
        _emit(progress, "solve", **info)

    sol = msolver.run(
        built,
        **settings.solver_kwargs(),
        log_path=log_path,
        progress=on_progress if progress else None,
        duals=duals,
        start_plan=start_plan,
        session=session,
    )
    timings["solve"] = float(sol.solve_seconds)
    if sol.reuse.get("changed"):
        timings["reuse"] = float(sol.reuse["changed"].get("seconds", 0.0))
    from models.interrupt import STOP

    stop_reason = STOP.reason if STOP.requested else ""
    status = parse_status(sol.status)
    message = str(sol.message or "")
    if stop_reason:  # stopped on request: never reported as proven optimal
        status = Status.FEASIBLE if status == Status.OPTIMAL else status
        message = f"{t('solve.stopped_by_user')} ({message})"
    result = Result(
        status=status,
        objective=sol.objective,
        best_bound=sol.best_bound,
        gap=sol.gap,
        timings=timings,
        model_size=dict(sol.size or {}),
        scenario_name=scen.name,
        scenario_hash=scen.hash,
        scenario_toml=scen.to_toml(),
        case_path=prep.case_path,
        case_hash=prep.case_hash,
        solver=str(sol.solver),
        solver_version=str(sol.solver_version),
        solver_log=str(sol.log or ""),
        message=message,
        settings=settings,
        stopped_by="user" if stop_reason else sol.stopped_by,
        reuse=dict(sol.reuse),
    )
    result.built, result.solution, result.prepared = built, sol, prep
    if result.has_solution:
        _emit(progress, "assemble")
        n_f, n_c = prep.data.n_firms, prep.data.n_candidates
        y = np.asarray(sol.y, dtype=float).reshape(n_f)
        x = np.asarray(sol.x, dtype=float).reshape(n_c)
        o = np.asarray(sol.o, dtype=float).reshape(n_f)
        u = np.where(built.u_col >= 0, built.values(np.maximum(built.u_col, 0)), 0.0)
        result.firms, result.zones, result.plots, result.kpis = assemble(
            prep, y, x, o, u if len(u) else None, chosen_modes(built)
        )
    return result


from allocator._callable import make_callable  # noqa: E402

make_callable(__name__, "solve")
