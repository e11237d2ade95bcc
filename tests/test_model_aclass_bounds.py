"""``a_class_bounds`` (presolve arithmetic of the A-class rows) against its per-item loop.

The fractional knapsack that bounds a zone's tax and value added under a cap
used to fill one item per Python iteration; it now fills by cumulative sums.
The old function is kept here, verbatim but for names, as the reference: on
random province and tiny cases, with floors, caps and the intensity row on or
off, both give the same ``(low, high)``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from models import synthetic
from models.allocation import (
    _output_upper,
    _Prep,
    _zone_land,
    a_class_bounds,
    forced_min_output,
)
from models.data import ModelData, ModelParams


def _knapsack_most_loop(gain, use, low, high, cap):
    """The per-item loop (reference): most of Σ gain·o with low ≤ o ≤ high, Σ use·o ≤ cap."""
    if not np.isfinite(cap):
        return float("inf")
    total = float(gain @ low)
    room = high - low
    free = (use <= 0) & (gain > 0)
    total += float(gain[free] @ room[free])
    left = cap - float(use @ low) - float(use[free] @ room[free])
    cand = np.flatnonzero((use > 0) & (gain > 0) & (room > 0))
    for i in cand[np.argsort(-(gain[cand] / use[cand]), kind="stable")]:
        if left <= 0:
            break
        step = min(room[i], left / use[i])
        total += gain[i] * step
        left -= use[i] * step
    return total


def a_class_bounds_loop(data: ModelData, params: ModelParams):
    """``a_class_bounds`` as it was, with the per-item knapsack loop (reference)."""
    d = data
    prep = _Prep(d)
    Z = prep.Z
    tax_va = np.asarray(d.tax_va, float)
    o_ub = _output_upper(d, params, prep)
    low_o = forced_min_output(d, params)
    ez = np.where(prep.app, -1, np.asarray(d.firm_zone, dtype=np.int64))
    lp = np.asarray(d.locked_parcel, dtype=np.int64)
    locked_app = prep.app & np.asarray(d.locked, bool) & (lp >= 0)
    lz = np.where(locked_app, np.asarray(d.parcel_zone, dtype=np.int64)[np.maximum(lp, 0)], -1)
    best = np.zeros((prep.F, Z))
    if prep.C:
        np.maximum.at(best, (prep.cf, prep.cz), prep.cap_c)
    low = np.zeros((Z, 3))
    high = np.zeros((Z, 3))
    caps = []
    if params.on("zone_energy"):
        caps.append((np.asarray(d.en, float), np.asarray(d.zone_energy_cap_tce, float)))
    if params.on("zone_electricity"):
        caps.append((np.asarray(d.el, float), np.asarray(d.zone_electricity_cap_mwh, float)))
    kappa = np.asarray(d.zone_intensity_cap_tce_per_wan, float)
    for z in range(Z):
        ub = np.where(ez == z, o_ub, best[:, z])
        lo = np.where((ez == z) | (lz == z), low_o, 0.0)
        members = np.flatnonzero(ub > 0)
        ub, lo = ub[members], np.minimum(lo[members], ub[members])
        low[z, 0], low[z, 1] = float(tax_va[members] @ lo), float(lo.sum())
        for i, gain in ((0, tax_va[members]), (1, np.ones(len(members)))):
            most = float(gain @ ub)
            for use, cap in caps:
                most = min(most, _knapsack_most_loop(gain, use[members], lo, ub, float(cap[z])))
            if params.on("energy_intensity") and np.isfinite(kappa[z]):
                use = np.asarray(d.en, float)[members] - kappa[z]
                most = min(most, _knapsack_most_loop(gain, use, lo, ub, 0.0))
            high[z, i] = most
    occ = np.asarray(d.plot_occupant, dtype=np.int64)
    pz = np.asarray(d.plot_zone, dtype=np.int64)
    area = np.asarray(d.plot_area_mu, float)
    existing_occ = (occ >= 0) & ~prep.app[np.maximum(occ, 0)]
    covered = np.zeros(d.n_plots, dtype=bool)
    if prep.C:
        covered[prep.incidence(d)[1]] = True
    forced = existing_occ & ~np.asarray(d.may_exit, bool)[np.maximum(occ, 0)]
    for f in np.flatnonzero(locked_app):
        forced[d.parcel_plots(int(lp[f]))] = True
    ok = pz >= 0
    held = np.bincount(pz[ok], (area * existing_occ)[ok], minlength=Z)
    open_covered = np.bincount(pz[ok], (area * (covered & ~existing_occ))[ok], minlength=Z)
    most_parcel = np.zeros((prep.F, Z))
    if prep.C:
        _, pair_land = _zone_land(d, prep)
        for z in range(Z):
            np.maximum.at(most_parcel[:, z], prep.cf, pair_land[:, z])
    high[:, 2] = held + np.minimum(open_covered, most_parcel.sum(axis=0))
    low[:, 2] = np.bincount(pz[ok], (area * forced)[ok], minlength=Z)
    return low, high


def _params(variant: int) -> ModelParams:
    """Floors on or off, caps and the intensity row on or off (four variants)."""
    p = ModelParams()
    if variant % 2:
        p = replace(p, class_floor=(0.9, 0.5, 0.2, 0.0), service_floor=0.5)
    if variant >= 2:
        p = replace(
            p, switches={**p.switches, "energy_intensity": False, "zone_electricity": False}
        )
    return p


def _tighter(d: ModelData, factor: float) -> ModelData:
    """The same case with every zone cap × ``factor`` (caps that cut deep into the outputs)."""
    return replace(
        d,
        zone_energy_cap_tce=np.asarray(d.zone_energy_cap_tce) * factor,
        zone_electricity_cap_mwh=np.asarray(d.zone_electricity_cap_mwh) * factor,
    )


CASES = [
    ("province 0.2", lambda: synthetic.province(0.2, seed=3)),
    ("province 0.5 tight", lambda: _tighter(synthetic.province(0.5, seed=4), 0.4)),
    ("province 1", lambda: synthetic.province(1.0, seed=0)),
    *[
        (f"tiny {s}", lambda s=s: _tighter(synthetic.tiny(s, 5, 7, n_locked=1), 0.5))
        for s in range(6)
    ],
]


@pytest.mark.parametrize("variant", range(4))
@pytest.mark.parametrize(("name", "make"), CASES, ids=[c[0] for c in CASES])
def test_a_class_bounds_equal_the_per_item_loop(name, make, variant):
    d, p = make(), _params(variant)
    low, high = a_class_bounds(d, p)
    ref_low, ref_high = a_class_bounds_loop(d, p)
    np.testing.assert_array_equal(low, ref_low)
    np.testing.assert_allclose(high, ref_high, rtol=1e-12, atol=1e-9)
    if "tight" in name:  # the caps bind: the knapsack cuts, not only the sum of the bounds
        off = {f: False for f in ("zone_energy", "zone_electricity", "energy_intensity")}
        _, uncapped = a_class_bounds(d, replace(p, switches={**p.switches, **off}))
        assert (high[:, :2] < uncapped[:, :2] - 1e-6).any()
