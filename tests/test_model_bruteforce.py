"""Brute-force optimum of the MODEL.md allocation problem, independent of ``models.allocation``.

Enumerates every integer assignment (each applicant takes one of its
candidate parcels or none; each existing firm that may leave stays or
leaves), discards those breaking plot_once / retain / locked, and solves the
remaining LP in the outputs o_f with HiGHS on a dense matrix written here from
MODEL.md's algebra (no split variables: an applicant's output counts in the
zone and control unit of the parcel it gets). With ``far_upgrade`` on, the LP
also has the floor area added u_f (m²) of each firm that may raise its plot
ratio: 0 ≤ u_f ≤ H_f y_f, o_f − k_f u_f ≤ min(oreq_f, g_f o0_f), cost c_f u_f;
with ``idle_reuse`` on, a project on parcel b gains s · I_b (idle floor area reused);
with ``land_supply`` on, an admitted project gains its best permitted mode's weight × its
parcel's area; with ``use_share_min`` on, plans short of a zone's use share are discarded.
"""

from __future__ import annotations

import itertools
import math

import highspy
import numpy as np

from models.data import ModelData, ModelParams


def _lp_max(c, rows, rhs, lo, hi) -> float | None:
    """max c·o s.t. rows·o ≤ rhs, lo ≤ o ≤ hi; None when infeasible."""
    n = len(c)
    if (lo > hi + 1e-9).any():
        return None
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(rows)
    lp.col_cost_ = -np.asarray(c, float)
    lp.col_lower_ = np.asarray(lo, float)
    lp.col_upper_ = np.maximum(np.asarray(hi, float), lo)
    a = np.asarray(rows, float).reshape(len(rows), n)
    lp.row_lower_ = np.full(len(rows), -highspy.kHighsInf)
    lp.row_upper_ = np.asarray(rhs, float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = len(rows)
    start, idx, val = [0], [], []
    for j in range(n):
        nz = np.flatnonzero(a[:, j])
        idx.extend(nz.tolist())
        val.extend(a[nz, j].tolist())
        start.append(len(idx))
    lp.a_matrix_.start_ = np.asarray(start, np.int32)
    lp.a_matrix_.index_ = np.asarray(idx, np.int32)
    lp.a_matrix_.value_ = np.asarray(val, float)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return -h.getInfo().objective_function_value


def brute_force(d: ModelData, p: ModelParams) -> tuple[float | None, dict]:
    """Return ``(best objective or None if infeasible, best assignment)``."""
    best, best_a = None, {}
    for val, a in all_plans(d, p):
        if best is None or val > best + 1e-9:
            best, best_a = val, a
    return best, best_a


def all_plans(d: ModelData, p: ModelParams):
    """Yield ``(objective, {"y", "parcel"})`` for every feasible integer assignment.

    The objective is the best over the outputs (an LP) for that assignment.
    """
    F = d.n_firms
    app = np.asarray(d.firm_applicant, bool)
    cf, cb = np.asarray(d.cand_firm), np.asarray(d.cand_parcel)
    choices = []  # per firm: list of (y, parcel or -1)
    for f in range(F):
        if app[f]:
            opts = [(0, -1)] + [(1, int(b)) for b in cb[cf == f]]
        elif d.may_exit[f]:
            opts = [(1, -1), (0, -1)]
        else:
            opts = [(1, -1)]
        if d.locked[f]:
            lb = int(d.locked_parcel[f])
            opts = [o for o in opts if o[0] == 1 and (lb < 0 or o[1] == lb)]
        choices.append(opts)
    w = np.asarray(p.class_weight, float)[d.firm_class]
    c = w * (p.alpha_va + p.alpha_tax * d.tax_va)
    buys = app & (d.en > p.energy_price_threshold_tce_per_wan)
    c = c - np.where(buys, p.energy_price_wan_per_tce * d.en, 0.0)
    reloc = np.where(app, 0.0, p.relocation_cost_wan_per_mu * d.land0_mu)
    phi = np.asarray(p.class_floor, float)[d.firm_class]
    psi = np.asarray(p.class_cap, float)[d.firm_class]
    head = np.zeros(F) if d.floor_headroom_m2 is None else np.asarray(d.floor_headroom_m2, float)
    k_up = np.zeros(F) if d.upgrade_output_per_m2 is None else np.asarray(d.upgrade_output_per_m2)
    c_up = (
        np.zeros(F) if d.upgrade_cost_wan_per_m2 is None else np.asarray(d.upgrade_cost_wan_per_m2)
    )
    may_up = ~app & (head > 0) & (k_up > 0) & p.on("far_upgrade")
    for combo in itertools.product(*choices):
        y = np.array([cho[0] for cho in combo])
        parcel = np.array([cho[1] for cho in combo])
        # plot_once: chosen parcels disjoint, not on a staying occupant's plot
        used = []
        for f in range(F):
            if parcel[f] >= 0:
                used.extend(d.parcel_plots(parcel[f]).tolist())
        if len(used) != len(set(used)):
            continue
        occ = d.plot_occupant[used] if used else np.zeros(0, int)
        if any(o >= 0 and y[o] == 1 for o in occ):
            continue
        # bounds on o
        hi = np.zeros(F)
        lo = np.zeros(F)
        zone = np.array(d.firm_zone)
        unit = np.array(d.firm_unit)
        for f in range(F):
            if not y[f]:
                continue
            if app[f]:
                b = parcel[f]
                hi[f] = min(d.oreq[f], d.va_mu[f] * d.parcel_area_mu[b])
                zone[f] = d.parcel_zone[b]
                unit[f] = d.parcel_unit[b]
            else:
                hi[f] = min(d.oreq[f], d.growth_cap[f] * d.o0[f])
                if may_up[f]:
                    hi[f] += k_up[f] * head[f]
                if p.on("class_cap") and math.isfinite(psi[f]):
                    hi[f] = min(hi[f], psi[f] * d.o0[f])
                if p.on("service_floor"):
                    lo[f] = max(lo[f], p.service_floor * d.o0[f])
            if p.on("class_floor"):
                lo[f] = max(lo[f], phi[f] * d.oreq[f])
        rows, rhs = [], []
        served = y.astype(bool)
        for z in range(d.n_zones):
            inz = served & (zone == z)
            if p.on("zone_electricity") and math.isfinite(d.zone_electricity_cap_mwh[z]):
                rows.append(np.where(inz, d.el, 0.0))
                rhs.append(d.zone_electricity_cap_mwh[z])
            if p.on("zone_energy") and math.isfinite(d.zone_energy_cap_tce[z]):
                rows.append(np.where(inz, d.en, 0.0))
                rhs.append(d.zone_energy_cap_tce[z])
            k = d.zone_intensity_cap_tce_per_wan[z]
            if p.on("energy_intensity") and math.isfinite(k):
                rows.append(np.where(inz, d.en - k, 0.0))
                rhs.append(0.0)
        if p.on("province_energy") and math.isfinite(d.province_energy_cap_tce):
            rows.append(d.en.copy())
            rhs.append(d.province_energy_cap_tce)
        if p.on("unit_emissions"):
            for u in range(d.n_units):
                inu = served & (unit == u)
                for kk in range(d.em.shape[1]):
                    if math.isfinite(d.unit_emission_cap_t[u, kk]):
                        rows.append(np.where(inu, d.em[:, kk], 0.0))
                        rhs.append(d.unit_emission_cap_t[u, kk])
        if not rows:
            rows, rhs = [np.zeros(F)], [0.0]
        # columns: o (F), then u (F): o_f − k_f u_f ≤ min(oreq_f, g_f o0_f) for upgraders
        rows = [np.concatenate([r, np.zeros(F)]) for r in rows]
        for f in np.flatnonzero(may_up & served):
            r = np.zeros(2 * F)
            r[f], r[F + f] = 1.0, -k_up[f]
            rows.append(r)
            rhs.append(min(d.oreq[f], d.growth_cap[f] * d.o0[f]))
        u_hi = np.where(may_up & served, head, 0.0)
        val = _lp_max(
            np.concatenate([c, -c_up]),
            rows,
            rhs,
            np.concatenate([lo, np.zeros(F)]),
            np.concatenate([hi, u_hi]),
        )
        if val is None:
            continue
        val += float((reloc * y).sum() - reloc.sum())
        if p.on("idle_reuse") and d.parcel_idle_floor_m2 is not None:
            taken = parcel[parcel >= 0]
            val += d.idle_saving_wan_per_m2 * float(np.sum(d.parcel_idle_floor_m2[taken]))
        has = parcel >= 0
        if p.on("land_supply") and d.supply_weight_wan_per_mu is not None:
            # each admitted project's best permitted mode (modes are independent per project)
            w = d.supply_weight_wan_per_mu[has]
            best_w = np.array([np.nanmax(r) if np.isfinite(r).any() else 0.0 for r in w])
            val += float((best_w * d.parcel_area_mu[parcel[has]]).sum())
        if p.on("use_share_min") and d.use_share_min is not None:
            use = np.zeros(F, int) if d.firm_use is None else np.asarray(d.firm_use)
            area = np.where(has, d.parcel_area_mu[np.maximum(parcel, 0)], 0.0)
            zone_of = np.where(has, d.parcel_zone[np.maximum(parcel, 0)], -1)
            short = [
                area[(zone_of == z) & (use == u)].sum() < s * area[zone_of == z].sum() - 1e-9
                for (z, u), s in np.ndenumerate(d.use_share_min)
            ]
            if any(short):
                continue
        yield val, {"y": y, "parcel": parcel}


def objective_of(d: ModelData, p: ModelParams, y: np.ndarray, o: np.ndarray) -> float:
    """MODEL.md's objective of a plan (``y`` served flags, ``o`` outputs), constant included."""
    app = np.asarray(d.firm_applicant, bool)
    y = np.asarray(y, float)
    o = np.where(y > 0.5, np.asarray(o, float), 0.0)
    w = np.asarray(p.class_weight, float)[d.firm_class]
    c = w * (p.alpha_va + p.alpha_tax * d.tax_va)
    buys = app & (d.en > p.energy_price_threshold_tce_per_wan)
    c = c - np.where(buys, p.energy_price_wan_per_tce * d.en, 0.0)
    reloc = np.where(app, 0.0, p.relocation_cost_wan_per_mu * d.land0_mu)
    return float(c @ o - reloc @ (1.0 - y))


def hand_case(energy_cap: float = 600.0) -> ModelData:
    """Three plots, two existing firms (E1 may leave), one applicant; answers by hand.

    P0 (10 mu, E0), P1 (10 mu, E1), P2 (20 mu, vacant); parcels B0 = {P2} and
    B1 = {P1, P2}. E0: o ≤ 120, E1: o ≤ 50, A0: 20 万元/mu, oreq 500, so
    B0 carries 400 and B1 500. Energy 1 tce/万元 for E0, E1 and 0.5 for A0.
    """
    nan = float("nan")
    return ModelData(
        zone_ids=("Z1",),
        zone_electricity_cap_mwh=np.array([nan]),
        zone_energy_cap_tce=np.array([energy_cap]),
        zone_intensity_cap_tce_per_wan=np.array([nan]),
        unit_ids=("U1",),
        unit_emission_cap_t=np.full((1, 4), nan),
        plot_ids=("P0", "P1", "P2"),
        plot_zone=np.array([0, 0, 0]),
        plot_area_mu=np.array([10.0, 10.0, 20.0]),
        plot_occupant=np.array([0, 1, -1]),
        firm_ids=("E0", "E1", "A0"),
        firm_applicant=np.array([False, False, True]),
        firm_zone=np.array([0, 0, -1]),
        firm_unit=np.array([0, 0, -1]),
        firm_class=np.array([1, 3, 1]),
        va_mu=np.array([10.0, 5.0, 20.0]),
        tax_va=np.zeros(3),
        el=np.array([1.0, 1.0, 0.5]),
        en=np.array([1.0, 1.0, 0.5]),
        em=np.zeros((3, 4)),
        o0=np.array([100.0, 50.0, 0.0]),
        oreq=np.array([120.0, 50.0, 500.0]),
        growth_cap=np.array([1.2, 1.0, 1.0]),
        land_min_mu=np.array([0.0, 0.0, 15.0]),
        land_max_mu=np.array([0.0, 0.0, 40.0]),
        land0_mu=np.array([10.0, 10.0, 0.0]),
        may_exit=np.array([False, True, False]),
        locked=np.zeros(3, bool),
        locked_parcel=np.full(3, -1),
        parcel_ids=("B0", "B1"),
        parcel_ptr=np.array([0, 1, 3]),
        parcel_plot=np.array([2, 1, 2]),
        parcel_area_mu=np.array([20.0, 30.0]),
        parcel_zone=np.array([0, 0]),
        parcel_unit=np.array([0, 0]),
        cand_firm=np.array([2, 2]),
        cand_parcel=np.array([0, 1]),
    )


def test_bruteforce_hand_answers():
    """The brute force itself against answers worked out by hand."""
    p = ModelParams(alpha_tax=0.0)
    # E1 leaves, A0 takes B1: 120 + 500
    assert abs(brute_force(hand_case(), p)[0] - 620.0) < 1e-6
    # relocation 8 万元/mu × 10 mu = 80 > gain 50: E1 stays, A0 takes B0: 120 + 50 + 400
    p8 = ModelParams(alpha_tax=0.0, relocation_cost_wan_per_mu=8.0)
    best, a = brute_force(hand_case(), p8)
    assert abs(best - 570.0) < 1e-6
    assert a["parcel"].tolist() == [-1, -1, 0]
    # 300 tce: E1 leaves, A0 500 (250 tce), E0 gets the other 50 tce
    assert abs(brute_force(hand_case(300.0), p)[0] - 550.0) < 1e-6
