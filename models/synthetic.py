"""Random :class:`ModelData` generators: tiny cases for tests, province scale for benchmarks.

``tiny`` makes 2–6 firm, 3–8 plot cases small enough to brute-force;
``province`` makes the benchmark size of the issue (13 zones, ~4,000 plots,
~3,000 existing firms, ~300 applicants, ~45,000 candidate pairs at
``scale=1``; ``scale=10`` is ten times larger). Magnitudes follow Zhejiang
亩均 statistics roughly: plots of 10–150 mu, value added 30–300 万元/mu, tax
15–30 % of value added, energy 0.05–1.5 tce/万元; caps are set a little below
what every firm would ask for, so they bind somewhat.

Both are deterministic for a given seed. Plots of a zone are laid out in a
row; a bundle is up to ``k`` consecutive free plots of one zone (they share an
edge in that layout).
"""

from __future__ import annotations

import numpy as np

from models.data import POLLUTANTS, ModelData

K = len(POLLUTANTS)


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int, lo, hi):
    return np.clip(median * np.exp(sigma * rng.standard_normal(n)), lo, hi)


def _parcels(
    plot_zone: np.ndarray, free: np.ndarray, k: int, max_bundles: int | None = None
) -> list[list[int]]:
    """Singles of every free plot, plus runs of 2..k consecutive free plots of one zone."""
    out = [[int(p)] for p in np.flatnonzero(free)]
    order = np.argsort(plot_zone, kind="stable")
    for size in range(2, k + 1):
        for i in range(len(order) - size + 1):
            run = order[i : i + size]
            if free[run].all() and (plot_zone[run] == plot_zone[run[0]]).all():
                out.append([int(p) for p in run])
                if max_bundles is not None and len(out) >= max_bundles:
                    return out
    return out


def _assemble(
    rng: np.random.Generator,
    *,
    zone_ids,
    unit_ids,
    plot_zone,
    plot_unit,
    plot_area,
    occupant,
    firm_applicant,
    firm_zone,
    firm_unit,
    firm_class,
    va_mu,
    tax_va,
    el,
    en,
    em,
    o0,
    oreq,
    growth,
    lmin,
    lmax,
    land0,
    may_exit,
    cand_zones: list[np.ndarray],
    k: int,
    max_cands_per_firm: int | None,
    zone_el_cap,
    zone_en_cap,
    zone_kappa,
    unit_caps,
    province_cap,
    n_locked: int = 0,
    keep_share: float = 1.0,
) -> ModelData:
    n_firms = len(firm_applicant)
    free = occupant < 0
    free |= np.isin(occupant, np.flatnonzero(may_exit))
    parcels = _parcels(plot_zone, free, k)
    ptr = np.zeros(len(parcels) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(b) for b in parcels])
    pp = np.asarray([p for b in parcels for p in b], dtype=np.int64)
    b_area = np.asarray([plot_area[b].sum() for b in parcels])
    b_zone = np.asarray([plot_zone[b[0]] for b in parcels], dtype=np.int64)
    b_unit = np.asarray(
        [
            int(np.bincount(plot_unit[b][plot_unit[b] >= 0]).argmax())
            if (plot_unit[b] >= 0).any()
            else -1
            for b in parcels
        ],
        dtype=np.int64,
    )
    cf, cb = [], []
    by_zone = {z: np.flatnonzero(b_zone == z) for z in range(len(zone_ids))}
    for f in np.flatnonzero(firm_applicant):
        zones_f = [by_zone[int(z)] for z in cand_zones[f]]
        bs = np.concatenate(zones_f).astype(np.int64) if zones_f else np.zeros(0, dtype=np.int64)
        ok = bs[(b_area[bs] >= lmin[f]) & (b_area[bs] <= lmax[f])]
        if keep_share < 1.0 and len(ok):
            ok = ok[rng.random(len(ok)) < keep_share]
        if max_cands_per_firm is not None and len(ok) > max_cands_per_firm:
            ok = np.sort(rng.choice(ok, max_cands_per_firm, replace=False))
        cf.extend([int(f)] * len(ok))
        cb.extend(ok.tolist())
    cf_a = np.asarray(cf, dtype=np.int64)
    cb_a = np.asarray(cb, dtype=np.int64)
    locked = np.zeros(n_firms, dtype=bool)
    locked_parcel = np.full(n_firms, -1, dtype=np.int64)
    if n_locked:
        used: set[int] = set()
        for f in rng.permutation(np.flatnonzero(firm_applicant)):
            if locked.sum() >= n_locked:
                break
            mine = cb_a[cf_a == f]
            for b in rng.permutation(mine) if len(mine) else []:
                plots = set(pp[ptr[b] : ptr[b + 1]].tolist())
                if not plots & used:
                    used |= plots
                    locked[f] = True
                    locked_parcel[f] = int(b)
                    break
    return ModelData(
        zone_ids=tuple(zone_ids),
        zone_electricity_cap_mwh=np.asarray(zone_el_cap, float),
        zone_energy_cap_tce=np.asarray(zone_en_cap, float),
        zone_intensity_cap_tce_per_wan=np.asarray(zone_kappa, float),
        unit_ids=tuple(unit_ids),
        unit_emission_cap_t=np.asarray(unit_caps, float).reshape(len(unit_ids), K),
        plot_ids=tuple(f"P{i:05d}" for i in range(len(plot_zone))),
        plot_zone=np.asarray(plot_zone, np.int64),
        plot_area_mu=np.asarray(plot_area, float),
        plot_occupant=np.asarray(occupant, np.int64),
        firm_ids=tuple((f"A{i:04d}" if a else f"E{i:05d}") for i, a in enumerate(firm_applicant)),
        firm_applicant=np.asarray(firm_applicant, bool),
        firm_zone=np.asarray(firm_zone, np.int64),
        firm_unit=np.asarray(firm_unit, np.int64),
        firm_class=np.asarray(firm_class, np.int64),
        va_mu=np.asarray(va_mu, float),
        tax_va=np.asarray(tax_va, float),
        el=np.asarray(el, float),
        en=np.asarray(en, float),
        em=np.asarray(em, float),
        o0=np.asarray(o0, float),
        oreq=np.asarray(oreq, float),
        growth_cap=np.asarray(growth, float),
        land_min_mu=np.asarray(lmin, float),
        land_max_mu=np.asarray(lmax, float),
        land0_mu=np.asarray(land0, float),
        may_exit=np.asarray(may_exit, bool),
        locked=locked,
        locked_parcel=locked_parcel,
        parcel_ids=tuple(f"B{i:05d}" for i in range(len(parcels))),
        parcel_ptr=ptr,
        parcel_plot=pp,
        parcel_area_mu=b_area,
        parcel_zone=b_zone,
        parcel_unit=b_unit,
        cand_firm=cf_a,
        cand_parcel=cb_a,
        province_energy_cap_tce=float(province_cap),
    )


def _firms(rng: np.random.Generator, n: int, applicant: np.ndarray):
    cls = rng.choice(4, size=n, p=[0.2, 0.4, 0.25, 0.15])
    va_mu = _lognormal(rng, 90.0, 0.5, n, 30.0, 300.0) * np.where(cls == 0, 1.6, 1.0)
    va_mu *= np.where(cls == 3, 0.5, 1.0)
    tax_va = rng.uniform(0.15, 0.30, n)
    el = _lognormal(rng, 0.8, 0.5, n, 0.1, 4.0)
    en = 0.1229 * el + _lognormal(rng, 0.2, 0.8, n, 0.0, 1.2)
    em = _lognormal(rng, 1.0, 0.6, n * K, 0.05, 8.0).reshape(n, K) * np.array(
        [2e-4, 2e-5, 1e-4, 1.5e-4]
    )
    return cls, va_mu, tax_va, el, en, em


def tiny(
    seed: int = 0,
    n_firms: int = 4,
    n_plots: int = 5,
    *,
    n_applicants: int | None = None,
    n_zones: int = 2,
    n_units: int = 2,
    k: int = 2,
    max_cands: int = 8,
    cap_factor: float = 0.8,
    may_exit_share: float = 0.5,
    n_locked: int = 0,
    intensity_factor: float = 1.0,
    province: bool = True,
) -> ModelData:
    """Make a random case of 2–6 firms and 3–8 plots, small enough to brute-force.

    Every existing firm occupies one plot; applicants get candidate parcels
    among the free plots (and the plots of firms that may leave), at most
    ``max_cands`` pairs in all. Caps are ``cap_factor`` × the energy,
    electricity and emissions every firm would use at its request.
    """
    rng = np.random.default_rng(seed)
    if n_applicants is None:
        n_applicants = max(1, n_firms // 2)
    n_exist = n_firms - n_applicants
    if n_exist > n_plots:
        raise ValueError("more existing firms than plots")
    applicant = np.zeros(n_firms, dtype=bool)
    applicant[n_exist:] = True
    plot_zone = np.sort(rng.integers(0, n_zones, n_plots))
    plot_unit = rng.integers(0, n_units, n_plots)
    plot_area = np.round(rng.uniform(5.0, 40.0, n_plots), 1)
    occupant = np.full(n_plots, -1, dtype=np.int64)
    occ_plots = rng.choice(n_plots, n_exist, replace=False)
    occupant[occ_plots] = np.arange(n_exist)
    cls, va_mu, tax_va, el, en, em = _firms(rng, n_firms, applicant)
    firm_zone = np.full(n_firms, -1, dtype=np.int64)
    firm_unit = np.full(n_firms, -1, dtype=np.int64)
    firm_zone[:n_exist] = plot_zone[occ_plots]
    firm_unit[:n_exist] = plot_unit[occ_plots]
    land0 = np.zeros(n_firms)
    land0[:n_exist] = plot_area[occ_plots]
    o0 = va_mu * land0
    growth = np.where(applicant, 1.0, rng.uniform(1.0, 1.3, n_firms))
    lmin = np.where(applicant, rng.uniform(3.0, 15.0, n_firms), 0.0)
    lmax = np.where(applicant, lmin + rng.uniform(20.0, 60.0, n_firms), 0.0)
    oreq = np.where(applicant, va_mu * (lmin + lmax) / 2.0, o0 * rng.uniform(1.0, 1.4, n_firms))
    may_exit = ~applicant & (rng.random(n_firms) < may_exit_share)
    present = np.unique(plot_zone)
    cand_zones = [
        (
            rng.choice(present, rng.integers(1, len(present) + 1), replace=False)
            if a
            else np.zeros(0)
        )
        for a in applicant
    ]
    use_en = np.zeros(n_zones)
    use_el = np.zeros(n_zones)
    np.add.at(use_en, np.maximum(firm_zone, 0), np.where(applicant, 0.0, en * oreq))
    np.add.at(use_el, np.maximum(firm_zone, 0), np.where(applicant, 0.0, el * oreq))
    app_en = (en * oreq)[applicant].sum() / n_zones
    app_el = (el * oreq)[applicant].sum() / n_zones
    zone_en_cap = np.round(cap_factor * (use_en + app_en), 3)
    zone_el_cap = np.round(cap_factor * (use_el + app_el), 3)
    mean_int = float((en * oreq).sum() / max(oreq.sum(), 1e-9))
    kappa = np.full(n_zones, round(intensity_factor * mean_int, 4))
    unit_caps = np.full((n_units, K), np.nan)
    em_total = (em * oreq[:, None]).sum(axis=0)
    unit_caps[:] = np.round(cap_factor * em_total / n_units, 6)
    prov = round(0.9 * float(zone_en_cap.sum()), 3) if province else float("nan")
    return _assemble(
        rng,
        zone_ids=[f"Z{i + 1:02d}" for i in range(n_zones)],
        unit_ids=[f"U{i + 1:02d}" for i in range(n_units)],
        plot_zone=plot_zone,
        plot_unit=plot_unit,
        plot_area=plot_area,
        occupant=occupant,
        firm_applicant=applicant,
        firm_zone=firm_zone,
        firm_unit=firm_unit,
        firm_class=cls,
        va_mu=va_mu,
        tax_va=tax_va,
        el=el,
        en=en,
        em=em,
        o0=o0,
        oreq=oreq,
        growth=growth,
        lmin=lmin,
        lmax=lmax,
        land0=land0,
        may_exit=may_exit,
        cand_zones=cand_zones,
        k=k,
        max_cands_per_firm=max(1, max_cands // max(1, n_applicants)),
        zone_el_cap=zone_el_cap,
        zone_en_cap=zone_en_cap,
        zone_kappa=kappa,
        unit_caps=unit_caps,
        province_cap=prov,
        n_locked=n_locked,
    )


def province(scale: float = 1.0, seed: int = 0, *, k: int = 3) -> ModelData:
    """Province-scale synthetic case; ``scale=10`` is ten times larger.

    At ``scale=1``: 13 zones, ~4,000 plots, ~3,000 existing firms (about 15 %
    of them D-class and allowed to leave), ~300 applicants with 1–3 candidate
    zones, ~45,000 candidate pairs, 40 control units (at every scale: more
    plots fill the same environmental areas), a few locked projects.
    The 13 zones stay 13 at any scale, so zones get ``scale`` times more
    parcels; an eligible pair is kept with probability ``1/scale`` so that the
    candidate pairs grow like the rest (each applicant keeps ~150 candidates,
    as eligibility by industry, land use and red line would leave it).
    """
    rng = np.random.default_rng(seed)
    n_zones = 13
    n_units = 40  # a control unit is an environmental area: larger zones fill the same units
    n_plots = int(round(4000 * scale))
    n_exist = int(round(3000 * scale))
    n_app = int(round(300 * scale))
    n_firms = n_exist + n_app
    applicant = np.zeros(n_firms, dtype=bool)
    applicant[n_exist:] = True
    zone_weight = rng.uniform(0.5, 1.5, n_zones)
    plot_zone = np.sort(rng.choice(n_zones, n_plots, p=zone_weight / zone_weight.sum()))
    # control units: contiguous runs of plots, so a zone has a few units
    plot_unit = np.minimum((np.arange(n_plots) * n_units) // n_plots, n_units - 1)
    plot_area = np.round(_lognormal(rng, 35.0, 0.6, n_plots, 8.0, 150.0), 2)
    occupant = np.full(n_plots, -1, dtype=np.int64)
    occ_plots = np.sort(rng.choice(n_plots, n_exist, replace=False))
    occupant[occ_plots] = rng.permutation(n_exist)
    firm_plot = np.empty(n_exist, dtype=np.int64)
    firm_plot[occupant[occ_plots]] = occ_plots
    cls, va_mu, tax_va, el, en, em = _firms(rng, n_firms, applicant)
    firm_zone = np.full(n_firms, -1, dtype=np.int64)
    firm_unit = np.full(n_firms, -1, dtype=np.int64)
    firm_zone[:n_exist] = plot_zone[firm_plot]
    firm_unit[:n_exist] = plot_unit[firm_plot]
    land0 = np.zeros(n_firms)
    land0[:n_exist] = plot_area[firm_plot]
    o0 = np.round(va_mu * land0, 2)
    growth = np.where(applicant, 1.0, rng.uniform(1.05, 1.3, n_firms))
    lmin = np.where(applicant, np.round(_lognormal(rng, 25.0, 0.6, n_firms, 5.0, 120.0), 1), 0.0)
    lmax = np.where(applicant, np.round(lmin * rng.uniform(2.0, 4.0, n_firms), 1), 0.0)
    oreq = np.where(
        applicant,
        np.round(va_mu * np.sqrt(lmin * lmax), 2),
        np.round(o0 * rng.uniform(1.0, 1.25, n_firms), 2),
    )
    may_exit = ~applicant & (cls == 3)
    n_cz = rng.choice([1, 2, 3], size=n_firms, p=[0.3, 0.45, 0.25])
    cand_zones = [
        rng.choice(n_zones, int(n_cz[f]), replace=False, p=zone_weight / zone_weight.sum())
        if applicant[f]
        else np.zeros(0)
        for f in range(n_firms)
    ]
    ex = ~applicant
    use_en = np.bincount(firm_zone[ex], weights=(en * oreq)[ex], minlength=n_zones)
    use_el = np.bincount(firm_zone[ex], weights=(el * oreq)[ex], minlength=n_zones)
    use_o = np.bincount(firm_zone[ex], weights=oreq[ex], minlength=n_zones)
    app_en = (en * oreq)[applicant].sum() / n_zones * 0.5
    app_el = (el * oreq)[applicant].sum() / n_zones * 0.5
    zone_en_cap = np.round((use_en + app_en) * rng.uniform(0.85, 1.0, n_zones), 1)
    zone_el_cap = np.round((use_el + app_el) * rng.uniform(0.9, 1.05, n_zones), 1)
    kappa = np.round(use_en / np.maximum(use_o, 1e-9) * rng.uniform(1.0, 1.1, n_zones), 4)
    em_use = np.zeros((n_units, K))
    np.add.at(em_use, firm_unit[ex], em[ex] * oreq[ex, None])
    unit_caps = np.round(em_use * rng.uniform(1.0, 1.15, (n_units, K)) + 0.5, 3)
    prov = round(0.97 * float(zone_en_cap.sum()), 1)
    return _assemble(
        rng,
        zone_ids=[f"Z{i + 1:02d}" for i in range(n_zones)],
        unit_ids=[f"U{i + 1:03d}" for i in range(n_units)],
        plot_zone=plot_zone,
        plot_unit=plot_unit,
        plot_area=plot_area,
        occupant=occupant,
        firm_applicant=applicant,
        firm_zone=firm_zone,
        firm_unit=firm_unit,
        firm_class=cls,
        va_mu=va_mu,
        tax_va=tax_va,
        el=el,
        en=en,
        em=em,
        o0=o0,
        oreq=oreq,
        growth=growth,
        lmin=lmin,
        lmax=lmax,
        land0=land0,
        may_exit=may_exit,
        cand_zones=cand_zones,
        k=k,
        max_cands_per_firm=None,
        zone_el_cap=zone_el_cap,
        zone_en_cap=zone_en_cap,
        zone_kappa=kappa,
        unit_caps=unit_caps,
        province_cap=prov,
        n_locked=max(1, int(round(3 * scale))),
        keep_share=min(1.0, 1.0 / scale),
    )
