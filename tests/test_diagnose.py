"""Presolve checks on the hand-made case (no solver needed)."""

from __future__ import annotations

import pandas as pd
from test_prepare import hand_case, hand_pieces, hand_prepare, locked_rows

from allocator.diagnose import presolve_checks
from allocator.prepare import prepare
from allocator.scenario import scenario_from_dict


def rows(findings):
    return {(f.code, f.row) for f in findings if f.severity == "infeasible"}


def test_clean_scenario_has_no_finding():
    assert presolve_checks(hand_prepare()) == []


def test_floors_alone_exceed_zone_energy_cap():
    # E1 and E2 must stay; a service floor of 100 % needs 100 + 80 = 180 tce in Z1
    prep = hand_prepare({"service_floor": 1.0, "caps": {"zones": {"Z1": {"energy_tce": 150.0}}}})
    f = presolve_checks(prep)
    assert rows(f) == {("floors_exceed_cap", "zone_energy[Z1]")}
    hit = f[0]
    assert hit.need == 180.0
    assert hit.have == 150.0
    assert "180" in hit.message_en
    assert "150" in hit.message_en
    assert "tce" in hit.message_en
    # planner words: the policy and the zone, energy in 吨标准煤, no model row name
    assert "能耗总量" in hit.message_zh
    assert "180 吨标准煤" in hit.message_zh
    assert "zone_energy" not in hit.message_zh + hit.message_en


def test_floor_above_class_cap():
    prep = hand_prepare({"service_floor": 0.9, "classes": {"cap": {"D": 0.8}}})
    f = presolve_checks(prep)
    assert rows(f) == {("floor_above_cap", "class_floor[E2]")}
    assert f[0].need == 180.0
    assert f[0].have == 160.0


def test_floors_exceed_unit_and_province_caps():
    prep = hand_prepare(
        {
            "service_floor": 1.0,
            "caps": {"province_energy_tce": 100.0, "units": {"U1": {"cod_t": 2.0}}},
        }
    )
    assert rows(presolve_checks(prep)) == {
        ("floors_exceed_cap", "province_energy[province]"),
        ("floors_exceed_cap", "unit_emissions[unit=U1,pollutant=cod]"),
    }


def test_locked_parcel_problems():
    scores, overlays, cands = hand_pieces()
    case = hand_case()
    case.firms.loc[3, "locked_plots"] = "P2;P5"  # P2 is held by E2, which may not leave
    extra = {"parcel_id": "L:P2+P5", "plot_ids": ("P2", "P5"), "area_mu": 40.0}
    cands.parcels = pd.concat(
        [cands.parcels, pd.DataFrame([{**extra, "zone_id": "Z1", "unit_id": "U1"}])],
        ignore_index=True,
    )
    size = ("P2+P5", "size")
    cands.locked = locked_rows(("A2", "L:P2+P5", 40.0, 25.0, 30.0, [("P2", "status"), size]))
    prep = prepare(case, scenario_from_dict({}), scores=scores, overlays=overlays, candidates=cands)
    f = presolve_checks(prep)
    # the occupant is named once (locked_occupied); the size test is a proof, not a warning
    assert rows(f) == {
        ("locked_occupied", "locked[A2]"),
        ("locked_ineligible", "locked[A2]"),
        ("locked_land", "plot_once[Z1]"),  # 40 mu locked in Z1, where 35 mu are free
    }
    assert [x.reason for x in f if x.code == "locked_ineligible"] == ["size"]
    hit = next(x for x in f if x.code == "locked_ineligible")
    assert (hit.firm_id, hit.firm_name, hit.plot_id, hit.reason) == ("A2", "丁", "P2+P5", "size")
    assert (hit.need, hit.have, hit.unit) == (40.0, 30.0, "亩")
    assert "25–30 亩" in hit.message_zh
    assert "面积" in hit.message_zh
    # once E2 may leave, the plot is free: only the size test is left
    cands.locked = locked_rows(("A2", "L:P2+P5", 40.0, 25.0, 30.0, [size]))
    prep2 = prepare(
        case, scenario_from_dict({"exit": {"classes": ["D"]}}),
        scores=scores, overlays=overlays, candidates=cands,
    )  # fmt: skip
    assert rows(presolve_checks(prep2)) == {("locked_ineligible", "locked[A2]")}


def test_locked_land_exceeds_free_land():
    scores, overlays, cands = hand_pieces()
    case = hand_case()
    case.firms.loc[4, ["locked", "locked_plots"]] = [True, "P5"]  # A3 and A2 both on P5
    cands.locked = locked_rows(
        ("A2", "B4", 30.0, 25.0, 30.0, ()), ("A3", "B4", 30.0, 5.0, 8.0, [("P5", "size")])
    )
    prep = prepare(case, scenario_from_dict({}), scores=scores, overlays=overlays, candidates=cands)
    got = rows(presolve_checks(prep))
    assert ("locked_overlap", "locked[A3]") in got
    assert ("locked_land", "plot_once[Z2]") in got
