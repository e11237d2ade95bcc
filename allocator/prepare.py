"""Case + Scenario → Prepared: scores, overlays, candidates and the model arrays.

This is the last stage that sees geometry (through the eligibility engine);
what it returns is numbers keyed by stable ids (:class:`models.data.ModelData`).

Choices written down here (DATA.md / MODEL.md leave them open):

- Intensities are per 万元 of value added: existing firms from last year's
  indicators on ``land_mu``; applicants from their commitments, totals at
  design capacity on ``land_max_mu`` (so ``va_mu = value_added_wan / land_max_mu``).
- Energy ``en_f`` is total energy with electricity included. The case's
  ``energy_tce`` is read as counted with electricity at
  ``energy.case_electricity_coef_tce_per_mwh`` (当量值 0.1229 by default); a
  scenario on another basis re-bases it: ``energy_tce + (coef − case_coef) ×
  electricity_mwh``. A firm without ``energy_tce`` gets ``coef × electricity``.
- Requested output ``oreq_f``: ``energy_req_tce / en_f`` when the firm gives
  ``energy_req_tce`` (and ``en_f > 0``); otherwise the design value added for
  applicants and ``growth[class] × o0_f`` for existing firms. The growth factor
  of the class is also the land-bound growth cap ``g_f``.
- Exit policy: an existing, unlocked firm may leave when its managed class is
  in ``exit.classes`` or (``exit.non_catalogue``) its industry is not in its
  zone's catalogue (:func:`allocator.industry.in_catalogue`: a zone without
  catalogue rows restricts nothing). Its plots become candidates for applicants.
- Parcels (plots, area, zone, control unit) are the eligibility engine's
  (:attr:`Candidates.parcels <allocator.eligibility.Candidates>`), computed
  once there; a locked applicant with ``locked_plots`` gets the parcel made of
  exactly those plots (:attr:`Candidates.locked`), as a candidate pair only when
  it passes every eligibility test: a lock does not override eligibility, the
  model is then infeasible and the presolve checks name project, plot and test.
- An existing firm's control unit is the unit holding most of its plots' area
  (:func:`allocator.eligibility.plot_set_units`, the rule of a parcel's unit).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from allocator.industry import catalogue_prefixes, in_catalogue
from allocator.scenario import Scenario
from models.data import CLASSES, POLLUTANTS, SWITCHABLE, USES, ModelData, ModelParams

_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_CACHE_SIZE = 24


def _cached(key: tuple, make: Any) -> Any:
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    value = make()
    _CACHE[key] = value
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return value


def clear_cache() -> None:
    """Forget cached scores, overlays and candidates."""
    _CACHE.clear()


@dataclass
class Prepared:
    """A case seen through one scenario: the inputs of the model and their provenance."""

    scenario: Scenario
    scores: pd.DataFrame
    """``Scores.table`` (index ``firm_id``) with at least ``managed_class``."""
    overlays: pd.DataFrame
    """Plot overlays (index ``plot_id``): ``redline_share``, ``unit_id``, ``in_zone``…"""
    candidates: Any
    """The eligibility engine's ``Candidates`` (``parcels``, ``pairs``, reasons)."""
    data: ModelData
    params: ModelParams
    firms: pd.DataFrame
    """One row per firm in ``data`` order: ids, class, flags and derived numbers."""
    plots: pd.DataFrame
    """One row per plot in ``data`` order (no geometry)."""
    zones: pd.DataFrame
    """One row per zone in ``data`` order with resolved caps."""
    parcels: pd.DataFrame
    """One row per parcel in ``data`` order (``plot_ids`` as tuples)."""
    case_hash: str = ""
    case_path: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), None)


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)


def _bool(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[col].fillna(False).astype(bool).to_numpy()


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros_like(num, dtype=float)
    ok = (den > 0) & np.isfinite(num) & np.isfinite(den)
    out[ok] = num[ok] / den[ok]
    return out


def exit_policy(
    case: Any, scenario: Scenario, classes: pd.Series
) -> tuple[np.ndarray, dict[str, str]]:
    """Return (may_exit per firm row of ``case.firms``, reason per leaving firm id).

    ``classes`` is the managed class per firm id.
    """
    firms = case.firms
    existing = (firms["kind"] == "existing").to_numpy()
    locked = _bool(firms, "locked")
    exit_classes = set(scenario.get("exit.classes") or [])
    cls = firms["firm_id"].map(classes).fillna("B").to_numpy()
    by_class = np.isin(cls, list(exit_classes)) if exit_classes else np.zeros(len(firms), bool)
    non_cat = np.zeros(len(firms), dtype=bool)
    if scenario.get("exit.non_catalogue"):
        prefixes = catalogue_prefixes(case.catalogue)
        non_cat = np.array(
            [
                not in_catalogue(ind, z, prefixes)
                for ind, z in zip(firms["industry"], firms["zone_id"], strict=True)
            ],
            dtype=bool,
        )
    may = existing & ~locked & (by_class | non_cat)
    reasons: dict[str, str] = {}
    for i in np.flatnonzero(may):
        why = f"class {cls[i]}" if by_class[i] else "outside catalogue"
        reasons[str(firms["firm_id"].iloc[i])] = why
    return may, reasons


def _zone_caps(case: Any, scenario: Scenario) -> pd.DataFrame:
    zones = case.zones
    out = pd.DataFrame({"zone_id": _text(zones["zone_id"]).astype(str).to_numpy()})
    out["name"] = _text(zones["name"]).to_numpy() if "name" in zones else out["zone_id"]
    out["area_mu"] = _num(zones, "area_mu")
    out["approved_km2"] = _num(zones, "approved_km2")
    per_zone = scenario.per_id("caps.zones")
    spec = {
        "electricity_cap_mwh": ("electricity_cap_mwh", "electricity_mwh", "electricity_factor"),
        "energy_cap_tce": ("energy_cap_tce", "energy_tce", "energy_factor"),
        "intensity_cap_tce_per_wan": (
            "intensity_cap_tce_per_wan",
            "intensity_tce_per_wan",
            "intensity_factor",
        ),
    }
    all_factor = {
        "electricity_cap_mwh": float(scenario["caps.electricity_factor"]),
        "energy_cap_tce": float(scenario["caps.energy_factor"]),
        "intensity_cap_tce_per_wan": float(scenario["caps.intensity_factor"]),
    }
    for col, (case_col, abs_key, fac_key) in spec.items():
        base = _num(zones, case_col)
        out[col + "_case"] = base
        # the factor on every zone scales the case's caps (and a zone's own
        # factor on top); a zone's cap given in its unit is final, as for units
        vals = base * all_factor[col]
        for i, zid in enumerate(out["zone_id"]):
            over = per_zone.get(zid, {})
            if abs_key in over:
                vals[i] = float(over[abs_key])
            elif fac_key in over:
                vals[i] = vals[i] * float(over[fac_key])
        out[col] = vals
    return out


def _unit_caps(case: Any, scenario: Scenario) -> tuple[tuple[str, ...], np.ndarray]:
    units = case.control_units
    ids = tuple(str(u) for u in units["unit_id"])
    caps = (
        np.column_stack([_num(units, f"cap_{k}_t") for k in POLLUTANTS])
        if len(ids)
        else (np.zeros((0, len(POLLUTANTS))))
    )
    caps = caps * float(scenario["caps.unit_emission_factor"])
    per_unit = scenario.per_id("caps.units")
    for i, uid in enumerate(ids):
        over = per_unit.get(uid, {})
        if "factor" in over:
            caps[i] = caps[i] * float(over["factor"])
        for k, pol in enumerate(POLLUTANTS):
            if f"{pol}_t" in over:
                caps[i, k] = float(over[f"{pol}_t"])
    return ids, caps.reshape(len(ids), len(POLLUTANTS))


def model_params(scenario: Scenario) -> ModelParams:
    """Translate the scenario's objective, class and switch keys into :class:`ModelParams`."""
    return ModelParams(
        switches={s: bool(scenario[f"switches.{s}"]) for s in SWITCHABLE},
        alpha_va=float(scenario["objective.alpha_va"]),
        alpha_tax=float(scenario["objective.alpha_tax"]),
        class_weight=scenario.class_values("objective.class_weight"),
        class_floor=scenario.class_values("classes.floor"),
        class_cap=scenario.class_values("classes.cap"),
        service_floor=float(scenario["service_floor"]),
        relocation_cost_wan_per_mu=float(scenario["exit.relocation_cost_wan_per_mu"]),
        energy_price_threshold_tce_per_wan=float(scenario["energy.trade_threshold_tce_per_wan"]),
        energy_price_wan_per_tce=float(scenario["energy.trade_price_wan_per_tce"]),
    )


def _case_key(case: Any) -> str:
    try:
        return case.content_hash()
    except Exception:  # noqa: BLE001 - hand-made cases without hashable layers
        return f"id-{id(case)}"


def compute_scores(case: Any, scenario: Scenario) -> pd.DataFrame:
    """Return the scores table (cached by case and scoring method)."""
    method = str(scenario["scoring.method"])

    def make() -> pd.DataFrame:
        from allocator.scoring import score

        return score(case, method).table

    return _cached(("scores", _case_key(case), method), make)


def compute_overlays(case: Any, scenario: Scenario) -> pd.DataFrame:
    """Return the plot overlays (cached by case and red-line buffer)."""
    buffer_m = float(scenario["eligibility.redline_buffer_m"])

    def make() -> pd.DataFrame:
        from allocator.eligibility import plot_overlays

        return plot_overlays(case, buffer_m=buffer_m)

    return _cached(("overlays", _case_key(case), buffer_m), make)


def compute_candidates(
    case: Any, scenario: Scenario, overlays: pd.DataFrame, leaving: frozenset[str]
) -> Any:
    """Return the candidate parcels and pairs (cached by the eligibility keys)."""
    from allocator.eligibility import EligibilityParams, build_candidates

    params = EligibilityParams(
        redline_threshold=float(scenario["eligibility.redline_threshold"]),
        redline_buffer_m=float(scenario["eligibility.redline_buffer_m"]),
        catalogue=bool(scenario["eligibility.catalogue"]),
        bundle_size=int(scenario["eligibility.bundle_size"]),
        leaving_firms=leaving,
    )
    key = ("cands", _case_key(case), scenario.subset_hash(("eligibility.",)), leaving)
    return _cached(key, lambda: build_candidates(case, params, overlays=overlays))


def prepare(
    case: Any,
    scenario: Scenario,
    *,
    scores: pd.DataFrame | None = None,
    overlays: pd.DataFrame | None = None,
    candidates: Any = None,
) -> Prepared:
    """Prepare ``case`` under ``scenario`` for the model.

    Parameters
    ----------
    case
        A loaded :class:`~allocator.case.Case`.
    scenario
        The resolved scenario.
    scores, overlays, candidates
        Precomputed pieces (tests, or a caller with its own cache); computed
        (and cached by the scenario keys they depend on) when None.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if scores is None:
        scores = compute_scores(case, scenario)
    timings["scores"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if overlays is None:
        overlays = compute_overlays(case, scenario)
    timings["overlays"] = time.perf_counter() - t0

    firms_in = case.firms.reset_index(drop=True)
    fid = _text(firms_in["firm_id"]).astype(str)
    classes = scores["managed_class"] if "managed_class" in scores else pd.Series(dtype=object)
    cls = fid.map(classes.astype(object)).fillna("B").astype(str)
    cls = cls.where(cls.isin(CLASSES), "B")
    may_exit, exit_reasons = exit_policy(case, scenario, classes)
    leaving = frozenset(exit_reasons)

    t0 = time.perf_counter()
    if candidates is None:
        candidates = compute_candidates(case, scenario, overlays, leaving)
    timings["candidates"] = time.perf_counter() - t0
    t0 = time.perf_counter()

    # ---- zones, units, plots
    zones = _zone_caps(case, scenario)
    zone_index = {z: i for i, z in enumerate(zones["zone_id"])}
    unit_ids, unit_caps = _unit_caps(case, scenario)
    unit_index = {u: i for i, u in enumerate(unit_ids)}
    plots_in = case.plots.reset_index(drop=True)
    plot_ids = tuple(_text(plots_in["plot_id"]).astype(str))
    plot_index = {p: i for i, p in enumerate(plot_ids)}
    firm_index = {f: i for i, f in enumerate(fid)}
    plot_zone = plots_in["zone_id"].astype(str).map(zone_index).fillna(-1).astype(int).to_numpy()
    plot_area = _num(plots_in, "area_mu")
    occ = (
        _text(plots_in["occupant_id"])
        if "occupant_id" in plots_in
        else pd.Series([None] * len(plots_in))
    )
    status = plots_in["status"].astype(str).to_numpy()
    plot_occ = np.array(
        [
            firm_index.get(str(o), -1) if (o is not None and s == "occupied") else -1
            for o, s in zip(occ, status, strict=True)
        ],
        dtype=int,
    )
    ov = overlays.reindex(list(plot_ids))
    plot_unit = (
        ov["unit_id"].map(lambda u: unit_index.get(str(u), -1) if u is not None and u == u else -1)
        if "unit_id" in ov
        else pd.Series(-1, index=ov.index)
    ).to_numpy(dtype=int)
    plots = pd.DataFrame(
        {
            "plot_id": plot_ids,
            "zone_id": plots_in["zone_id"].astype(str).to_numpy(),
            "land_use": _text(plots_in["land_use"]).to_numpy(),
            "area_mu": plot_area,
            "status_before": status,
            "occupant_before": [str(o) if o is not None else None for o in occ],
            "redline_share": ov["redline_share"].to_numpy(dtype=float)
            if "redline_share" in ov
            else np.zeros(len(plot_ids)),
            "unit_id": [unit_ids[u] if u >= 0 else None for u in plot_unit],
        }
    )

    # ---- firms
    kind = firms_in["kind"].astype(str).to_numpy()
    applicant = kind == "applicant"
    va = np.nan_to_num(_num(firms_in, "value_added_wan"))
    tax = np.nan_to_num(_num(firms_in, "tax_wan"))
    elec = np.nan_to_num(_num(firms_in, "electricity_mwh"))
    energy_raw = _num(firms_in, "energy_tce")
    coef = float(scenario["energy.electricity_coef_tce_per_mwh"])
    case_coef = float(scenario["energy.case_electricity_coef_tce_per_mwh"])
    energy = np.where(np.isnan(energy_raw), coef * elec, energy_raw + (coef - case_coef) * elec)
    energy = np.maximum(energy, 0.0)
    land_mu = np.nan_to_num(_num(firms_in, "land_mu"))
    lmin = np.where(applicant, np.nan_to_num(_num(firms_in, "land_min_mu")), 0.0)
    lmax = np.where(applicant, np.nan_to_num(_num(firms_in, "land_max_mu")), 0.0)
    land_basis = np.where(applicant, lmax, land_mu)
    va_mu = _safe_div(va, land_basis)
    tax_va = _safe_div(tax, va)
    el = _safe_div(elec, va)
    en = _safe_div(energy, va)
    em = np.column_stack(
        [_safe_div(np.nan_to_num(_num(firms_in, f"{k}_t")), va) for k in POLLUTANTS]
    ).reshape(len(fid), len(POLLUTANTS))
    o0 = np.where(applicant, 0.0, va)
    class_idx = cls.map({c: i for i, c in enumerate(CLASSES)}).to_numpy(dtype=int)
    growth = np.array(scenario.class_values("classes.growth"))[class_idx]
    ereq = _num(firms_in, "energy_req_tce")
    from_energy = np.isfinite(ereq) & (en > 0)
    oreq = np.where(applicant, va, growth * o0)
    oreq = np.where(from_energy, _safe_div(np.nan_to_num(ereq), en), oreq)
    growth_cap = np.where(applicant, 1.0, growth)
    industry = (
        _text(firms_in["industry"]) if "industry" in firms_in else pd.Series([None] * len(fid))
    )
    upgrade = _far_upgrade_arrays(
        scenario, plots_in, plot_occ, fid.to_numpy(), applicant, cls.to_numpy(), o0, industry
    )
    firm_zone = np.where(
        applicant, -1, firms_in["zone_id"].map(lambda z: zone_index.get(str(z), -1)).to_numpy()
    ).astype(int)
    # existing firm's control unit: the unit holding most of its occupied plots' area,
    # by the eligibility engine's rule for a parcel's unit
    from allocator.eligibility import plot_set_units

    firm_unit = np.full(len(fid), -1, dtype=int)
    occupied = np.flatnonzero(plot_occ >= 0)
    occupied = occupied[np.argsort(plot_occ[occupied], kind="stable")]
    holders, starts = np.unique(plot_occ[occupied], return_index=True)
    if len(holders):
        held = [[plot_ids[p] for p in grp] for grp in np.split(occupied, starts[1:])]
        units_of = plot_set_units(case, held, overlays)
        firm_unit[holders] = [unit_index.get(u, -1) if isinstance(u, str) else -1 for u in units_of]
    locked = _bool(firms_in, "locked")

    # ---- parcels and pairs: geometry, area, zone and unit as eligibility computed them
    parcels_in = candidates.parcels.reset_index(drop=True)
    pairs_in = candidates.pairs
    parcel_ids = [str(b) for b in parcels_in["parcel_id"]]
    parcel_plots = [tuple(str(p) for p in pl) for pl in parcels_in["plot_ids"]]
    parcel_index = {b: i for i, b in enumerate(parcel_ids)}
    # a locked applicant gets only its locked parcel, and that only when it passed
    # eligibility (MODEL.md ``locked``; otherwise the ``locked`` row makes the case infeasible)
    locked_parcel = np.full(len(fid), -1, dtype=int)
    extra_pairs: list[tuple[str, str]] = []
    for row in candidates.locked.itertuples(index=False):
        i = firm_index.get(str(row.firm_id), -1)
        if i < 0 or not (locked[i] and applicant[i]):
            continue
        locked_parcel[i] = parcel_index[str(row.parcel_id)]
        if row.eligible:
            extra_pairs.append((str(row.firm_id), str(row.parcel_id)))
    ptr = np.zeros(len(parcel_ids) + 1, dtype=int)
    ptr[1:] = np.cumsum([len(pl) for pl in parcel_plots])
    flat_plots = np.array([plot_index[p] for pl in parcel_plots for p in pl], dtype=int)
    p_area = parcels_in["area_mu"].to_numpy(dtype=float)
    # idle plants (idle_reuse): the floor area of each parcel's idle plots
    from allocator.land import idle_floor_area, load_idle_rule

    idle_on = bool(scenario["switches.idle_reuse"])
    plot_idle = (
        idle_floor_area(plots_in["status"], plots_in["area_mu"], plots_in["far"]).to_numpy()
        if "far" in plots_in
        else np.zeros(len(plots_in))
    )
    p_idle = np.array([float(plot_idle[[plot_index[p] for p in pl]].sum()) for pl in parcel_plots])
    idle_saving = (
        load_idle_rule(str(scenario["land.idle_rule"])).saving_wan_per_m2 if idle_on else 0.0
    )
    p_zone = parcels_in["zone_id"].map(lambda z: zone_index.get(str(z), -1)).to_numpy(dtype=int)
    p_unit = (
        parcels_in["unit_id"]
        .map(lambda u: unit_index.get(str(u), -1) if isinstance(u, str) else -1)
        .to_numpy(dtype=int)
    )
    pair_f = pairs_in["firm_id"].astype(str).map(firm_index)
    pair_b = pairs_in["parcel_id"].astype(str).map(parcel_index)
    ok = pair_f.notna() & pair_b.notna()
    cf = pair_f[ok].to_numpy(dtype=int)
    cb = pair_b[ok].to_numpy(dtype=int)
    # keep applicant pairs whose parcel size is within the request (defensive)
    tol = 1e-9
    keep = applicant[cf] & (p_area[cb] >= lmin[cf] - tol) & (p_area[cb] <= lmax[cf] + tol)
    keep &= ~(locked_parcel >= 0)[cf]  # a locked applicant gets only its locked parcel
    cf, cb = cf[keep], cb[keep]
    if extra_pairs:
        cf = np.concatenate([cf, [firm_index[f] for f, _ in extra_pairs]]).astype(int)
        cb = np.concatenate([cb, [parcel_index[b] for _, b in extra_pairs]]).astype(int)
    mix = _mixed_use_arrays(scenario, firms_in, parcel_plots, plot_index, plots_in, zones)
    if mix["admits"] is not None:  # land.mixed_use: the plots' land uses admit the project's use
        ok_use = mix["admits"][cb, mix["use"][cf]]
        cf, cb = cf[ok_use], cb[ok_use]
    order = np.lexsort((cb, cf))
    pairs_arr = (
        np.unique(np.column_stack([cf[order], cb[order]]), axis=0)
        if len(cf)
        else (np.zeros((0, 2), dtype=int))
    )

    from allocator.assessment import a_class_model_inputs
    from allocator.mountain import mountain_flags, mountain_model_inputs

    # land open to new projects: no occupant, not excluded by the red line
    red_share = plots["redline_share"].to_numpy(dtype=float)
    red = np.nan_to_num(red_share) > float(scenario["eligibility.redline_threshold"]) + 1e-12
    open_plot = (plot_occ < 0) & (status != "occupied") & ~red
    quota = _province_cap(scenario, zones)
    zone_caps = zones["energy_cap_tce"].to_numpy(dtype=float)
    if not np.isfinite(quota) and np.isfinite(zone_caps).any():
        quota = float(zone_caps[np.isfinite(zone_caps)].sum())
    land_kw = {
        **a_class_model_inputs(scenario, zones, plot_zone, plot_area),
        **mountain_model_inputs(case, scenario, open_plot, plot_area, quota),
    }
    data = ModelData(
        zone_ids=tuple(zones["zone_id"]),
        zone_electricity_cap_mwh=zones["electricity_cap_mwh"].to_numpy(dtype=float),
        zone_energy_cap_tce=zones["energy_cap_tce"].to_numpy(dtype=float),
        zone_intensity_cap_tce_per_wan=zones["intensity_cap_tce_per_wan"].to_numpy(dtype=float),
        unit_ids=unit_ids,
        unit_emission_cap_t=unit_caps,
        plot_ids=plot_ids,
        plot_zone=plot_zone,
        plot_area_mu=plot_area,
        plot_occupant=plot_occ,
        firm_ids=tuple(fid),
        firm_applicant=applicant,
        firm_zone=firm_zone,
        firm_unit=firm_unit,
        firm_class=class_idx,
        va_mu=va_mu,
        tax_va=tax_va,
        el=el,
        en=en,
        em=em,
        o0=o0,
        oreq=oreq,
        growth_cap=growth_cap,
        land_min_mu=lmin,
        land_max_mu=lmax,
        land0_mu=np.where(applicant, 0.0, land_mu),
        may_exit=may_exit,
        locked=locked,
        locked_parcel=locked_parcel,
        parcel_ids=tuple(parcel_ids),
        parcel_ptr=ptr,
        parcel_plot=flat_plots,
        parcel_area_mu=p_area,
        parcel_zone=p_zone.astype(int),
        parcel_unit=p_unit,
        cand_firm=pairs_arr[:, 0].astype(int),
        cand_parcel=pairs_arr[:, 1].astype(int),
        province_energy_cap_tce=_province_cap(scenario, zones),
        floor_headroom_m2=upgrade["floor_headroom_m2"] if upgrade["on"] else None,
        upgrade_output_per_m2=upgrade["upgrade_output_per_m2"] if upgrade["on"] else None,
        upgrade_cost_wan_per_m2=upgrade["upgrade_cost_wan_per_m2"] if upgrade["on"] else None,
        parcel_idle_floor_m2=p_idle if idle_on else None,
        idle_saving_wan_per_m2=idle_saving,
        supply_weight_wan_per_mu=_supply_weights(scenario, industry, cls, applicant),
        firm_use=mix["use"],
        use_share_min=mix["share"],
        **land_kw,
    )
    data.validate()

    n_cands = np.bincount(data.cand_firm, minlength=len(fid))
    firms = pd.DataFrame(
        {
            "firm_id": fid.to_numpy(),
            "name": _text(firms_in["name"]).to_numpy() if "name" in firms_in else None,
            "kind": kind,
            "zone_id": [data.zone_ids[z] if z >= 0 else None for z in firm_zone],
            "class": cls.to_numpy(),
            "industry": _text(firms_in["industry"]).to_numpy() if "industry" in firms_in else None,
            "is_service": _bool(firms_in, "is_service"),
            "may_exit": may_exit,
            "exit_reason": [exit_reasons.get(f) for f in fid],
            "locked": locked,
            "o0_wan": o0,
            "oreq_wan": oreq,
            "tax0_wan": np.where(applicant, 0.0, tax),
            "land0_mu": data.land0_mu,
            "land_min_mu": lmin,
            "land_max_mu": lmax,
            "va_mu": va_mu,
            "tax_va": tax_va,
            "el": el,
            "en": en,
            **{f"em_{k}": em[:, j] for j, k in enumerate(POLLUTANTS)},
            "growth_cap": growth_cap,
            "unit_id": [unit_ids[u] if u >= 0 else None for u in firm_unit],
            "n_candidates": n_cands,
            "employees": np.nan_to_num(_num(firms_in, "employees")),
            "revenue_wan": np.nan_to_num(_num(firms_in, "revenue_wan")),
            "floor_area_m2": upgrade["floor_area_m2"],
            "floor_headroom_m2": upgrade["floor_headroom_m2"],
            "upgrade_output_per_m2": upgrade["upgrade_output_per_m2"],
            "upgrade_cost_wan_per_m2": upgrade["upgrade_cost_wan_per_m2"],
            "use": [USES[u] for u in mix["use"]],
            "mountain_26": land_kw["firm_mountain"],
            "mountain_basis": mountain_flags(case, scenario)[0]["mountain_basis"].to_numpy(),
        }
    )
    parcels = pd.DataFrame(
        {
            "parcel_id": parcel_ids,
            "plot_ids": parcel_plots,
            "area_mu": p_area,
            "zone_id": [data.zone_ids[z] for z in data.parcel_zone],
            "unit_id": [unit_ids[u] if u >= 0 else None for u in p_unit],
            "idle_floor_m2": p_idle,
        }
    )
    zones["province_energy_cap_tce"] = data.province_energy_cap_tce
    timings["arrays"] = time.perf_counter() - t0
    source = getattr(case, "source", None)
    return Prepared(
        scenario=scenario,
        scores=scores,
        overlays=overlays,
        candidates=candidates,
        data=data,
        params=model_params(scenario),
        firms=firms,
        plots=plots,
        zones=zones,
        parcels=parcels,
        case_hash=_case_key(case),
        case_path=str(source) if source else "",
        timings=timings,
    )


def _far_upgrade_arrays(
    scenario: Scenario,
    plots_in: pd.DataFrame,
    plot_occ: np.ndarray,
    fid: np.ndarray,
    applicant: np.ndarray,
    cls: np.ndarray,
    o0: np.ndarray,
    industry: pd.Series,
) -> dict[str, Any]:
    """Per-firm arrays of the ``far_upgrade`` family (:mod:`allocator.land`).

    Floor area now is known wherever the firm's plots carry ``far``; headroom,
    output per added m² (``e · o0_f / floor area now``) and the annual cost per
    added m² are set only for existing firms of the rule's eligible classes
    while the family is on (0 elsewhere: the model offers them no upgrade).
    """
    n = len(fid)
    zeros = np.zeros(n)
    out: dict[str, Any] = {
        "on": bool(scenario["switches.far_upgrade"]),
        "floor_area_m2": zeros.copy(),
        "floor_headroom_m2": zeros.copy(),
        "upgrade_output_per_m2": zeros.copy(),
        "upgrade_cost_wan_per_m2": zeros.copy(),
    }
    if not {"far", "far_max"} <= set(plots_in.columns):
        return out
    from allocator.land import firm_floor_area, load_far_rule

    holder = pd.Series([fid[i] if i >= 0 else None for i in plot_occ], index=plots_in.index)
    fa = firm_floor_area(holder, plots_in["area_mu"], plots_in["far"], plots_in["far_max"])
    floor = fa["floor_area_m2"].reindex(fid).fillna(0.0).to_numpy(dtype=float)
    out["floor_area_m2"] = floor
    if not out["on"]:
        return out
    rule = load_far_rule(str(scenario["land.far_rule"]))
    override = scenario.get("land.far_cost_yuan_per_m2")
    ok = ~applicant & np.isin(cls, list(rule.eligible_classes)) & (floor > 0) & (o0 > 0)
    head = fa["headroom_m2"].reindex(fid).fillna(0.0).to_numpy(dtype=float)
    out["floor_headroom_m2"] = np.where(ok, head, 0.0)
    codes = [str(c) if isinstance(c, str) else None for c in industry]
    e = np.array([rule.elasticity(c) for c in codes])
    out["upgrade_output_per_m2"] = np.where(ok, e * _safe_div(o0, floor), 0.0)
    cost = np.array([rule.annual_cost_wan_per_m2(c, override) for c in codes])
    out["upgrade_cost_wan_per_m2"] = np.where(ok, cost, 0.0)
    return out


def _supply_weights(
    scenario: Scenario, industry: pd.Series, cls: pd.Series, applicant: np.ndarray
) -> np.ndarray | None:
    """Each applicant's objective weight per supply mode (``land_supply``; None when it is off)."""
    if not bool(scenario["switches.land_supply"]):
        return None
    from allocator.land_supply import load_supply_rule, supply_table

    rule = load_supply_rule(str(scenario["land.supply_rule"]))
    years = int(scenario["land.supply_plan_years"])
    return supply_table(rule, list(industry), list(cls), applicant, years).weight


def _mixed_use_arrays(
    scenario: Scenario,
    firms_in: pd.DataFrame,
    parcel_plots: list[tuple[str, ...]],
    plot_index: dict[str, int],
    plots_in: pd.DataFrame,
    zones: pd.DataFrame,
) -> dict[str, Any]:
    """Mixed use (混合布局): firms' uses, parcels' admitted uses, the zones' least use shares.

    ``use`` (F,) indexes :data:`models.data.USES` (missing = industrial); ``admits``
    (B, len(USES)) is None unless ``land.mixed_use`` (then: every plot of the parcel
    admits the use by the compatibility table); ``share`` (Z, len(USES)) from
    ``land.use_share.<zone>.<use>`` (None when no share is set).
    """
    from allocator.land_supply import firm_uses, load_use_rule, parcel_admits

    use = np.array([USES.index(u) for u in firm_uses(firms_in)], dtype=int)
    admits = None
    if bool(scenario["land.mixed_use"]):
        rule = load_use_rule(str(scenario["land.use_rule"]))
        lu = _text(plots_in["land_use"]).to_numpy()
        lus = [[lu[plot_index[p]] for p in pl] for pl in parcel_plots]
        admits = np.column_stack([parcel_admits(rule, lus, u) for u in USES]).reshape(
            len(parcel_plots), len(USES)
        )
    share = None
    per_zone = scenario.per_id("land.use_share") if bool(scenario["switches.use_share_min"]) else {}
    if per_zone:
        zpos = {z: i for i, z in enumerate(zones["zone_id"])}
        share = np.zeros((len(zpos), len(USES)))
        for zid, values in per_zone.items():
            for name, value in values.items():
                if zid in zpos:
                    share[zpos[zid], USES.index(name)] = float(value)
    return {"use": use, "admits": admits, "share": share}


def _province_cap(scenario: Scenario, zones: pd.DataFrame) -> float:
    absolute = scenario.get("caps.province_energy_tce")
    if absolute is not None:
        return float(absolute)
    factor = scenario.get("caps.province_energy_factor")
    if factor is not None:
        caps = zones["energy_cap_tce"].to_numpy(dtype=float)
        return float(factor) * float(np.nansum(caps))
    return float("nan")


from allocator._callable import make_callable  # noqa: E402

make_callable(__name__, "prepare")
