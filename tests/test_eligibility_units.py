"""A bundle across a control-unit border counts in the unit holding most of its area.

MODEL.md ``zone_split``: "parcel assigned to the unit holding most of its
area". The tiny case is redrawn so that Z02's control units split at
x = 760 m: U02 west, U03 east (COD cap 0.3 t). The only parcel the applicant
A001 (140–160 mu) can take is the bundle {P08, P09}:

- P08 (300 m × 200 m = 90 mu) has 160 m in U02 (48 mu) and 140 m in U03
  (42 mu): its own unit is U02, and it is the bundle's largest plot;
- P09 (200 m × 200 m = 60 mu) lies in U03.

So the bundle has 48 mu in U02 and 102 mu in U03: its unit is U03, although
its largest plot's unit is U02. A001 emits 0.8 t COD per 16,200 万元 of value
added, so U03's 0.3 t cap lets it produce 0.3 × 16,200 / 0.8 = 6,075 万元.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from test_eligibility_locked import firm_row, tiny_with

from allocator.case.testing import PLOT_H_M, ZONE_H_M, ZONE_W_M
from allocator.invariants import check_result
from allocator.prepare import prepare
from allocator.scenario import scenario_from_dict
from allocator.solve import run_model

BORDER_M = 760.0
COD_CAP_U03_T = 0.3


def split_units(frames):
    plots, units = frames["plots"], frames["control_units"]
    x0, y0, _, _ = plots.geometry[plots["plot_id"] == "P06"].iloc[0].bounds
    p09 = plots["plot_id"] == "P09"
    plots.loc[p09, "geometry"] = shapely.box(x0 + 900, y0, x0 + 1100, y0 + PLOT_H_M)
    frames["redline"] = frames["redline"].set_geometry(  # away from every plot
        [shapely.MultiPolygon([shapely.box(x0 + 1300, y0 + 600, x0 + 1450, y0 + 900)])]
    )
    west = shapely.box(x0 - 200, y0 - 200, x0 + BORDER_M, y0 + ZONE_H_M + 200)
    east = shapely.box(x0 + BORDER_M, y0 - 200, x0 + ZONE_W_M + 200, y0 + ZONE_H_M + 200)
    units.loc[units["unit_id"] == "U02", "geometry"] = shapely.MultiPolygon([west])
    u03 = units[units["unit_id"] == "U02"].copy()
    u03["unit_id"], u03["name"], u03["geometry"] = "U03", "东区", shapely.MultiPolygon([east])
    u03[["cap_cod_t", "cap_nh3n_t", "cap_so2_t", "cap_nox_t"]] = [
        COD_CAP_U03_T,
        np.nan,
        np.nan,
        np.nan,
    ]
    frames["control_units"] = type(units)(
        [*units.to_dict("records"), *u03.to_dict("records")], crs=units.crs
    )
    plots.loc[plots["plot_id"] == "P08", "land_use"] = "M1"  # admits A001's C3973
    firms = frames["firms"]
    firms.loc[firm_row(frames, "A001"), ["candidate_zones", "land_min_mu", "land_max_mu"]] = [
        "Z02",
        140.0,
        160.0,
    ]
    frames["firms"] = firms[~firm_row(frames, "A002")].reset_index(drop=True)


def test_bundle_counts_in_the_unit_holding_most_of_its_area():
    case = tiny_with(split_units)
    prep = prepare(case, scenario_from_dict({}))
    overlays = prep.overlays
    assert overlays.loc["P08", "unit_id"] == "U02"  # the largest plot's own unit
    assert overlays.loc["P09", "unit_id"] == "U03"
    parcels = prep.parcels.set_index("parcel_id")
    assert parcels.loc["P08+P09", "area_mu"] == pytest.approx(150.0)
    assert parcels.loc["P08+P09", "unit_id"] == "U03"
    # one definition: the model's parcel unit is the eligibility engine's
    cands = prep.candidates.parcels.set_index("parcel_id")
    assert cands.loc["P08+P09", "unit_id"] == "U03"
    d = prep.data
    b = d.parcel_ids.index("P08+P09")
    assert d.unit_ids[d.parcel_unit[b]] == "U03"

    result = run_model(prep)
    assert result.status == "optimal"
    firms = result.firms.set_index("firm_id")
    assert firms.loc["A001", "parcel_id"] == "P08+P09"
    cod_t = firms.loc["A001", "value_added_wan"] * 0.8 / 16_200.0
    # U03's cap holds, and binds: A001 is held to 6,075 万元 by it
    assert cod_t == pytest.approx(COD_CAP_U03_T, rel=1e-6)
    assert firms.loc["A001", "value_added_wan"] == pytest.approx(6_075.0, rel=1e-6)
    assert check_result(result, case, prep.scenario) == []


def test_existing_firm_counts_in_the_unit_holding_most_of_its_plots():
    """The same rule for an existing firm: F004 moved onto P08 and P09 counts in U03."""

    def f004_on_p08_p09(frames):
        split_units(frames)
        plots = frames["plots"]
        for pid, status, occupant in (("P07", "vacant", None), ("P08", "occupied", "F004"),
                                      ("P09", "occupied", "F004")):  # fmt: skip
            plots.loc[plots["plot_id"] == pid, ["status", "occupant_id"]] = [status, occupant]
        frames["firms"].loc[firm_row(frames, "F004"), "land_mu"] = 150.0

    case = tiny_with(f004_on_p08_p09)
    prep = prepare(case, scenario_from_dict({}))
    assert prep.overlays.loc["P08", "unit_id"] == "U02"  # its larger plot's own unit
    assert prep.firms.set_index("firm_id").loc["F004", "unit_id"] == "U03"
    d = prep.data
    assert d.unit_ids[d.firm_unit[d.firm_ids.index("F004")]] == "U03"
    assert prep.firms.set_index("firm_id").loc["F003", "unit_id"] == "U02"  # one plot: its own
