"""prepare(): Case + Scenario → ModelData, on a hand-made case with injected pieces."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from allocator.eligibility import LOCKED_COLUMNS
from allocator.prepare import Prepared, prepare
from allocator.scenario import scenario_from_dict


def hand_case() -> SimpleNamespace:
    """Two zones, six plots, two existing firms, three applicants (no geometry needed)."""
    nan = np.nan
    zones = pd.DataFrame(
        {
            "zone_id": ["Z1", "Z2"],
            "name": ["一区", "二区"],
            "approved_km2": [0.1, 0.05],
            "area_mu": [150.0, 75.0],
            "electricity_cap_mwh": [1000.0, 800.0],
            "energy_cap_tce": [500.0, 300.0],
            "intensity_cap_tce_per_wan": [nan, 0.5],
        }
    )
    plots = pd.DataFrame(
        {
            "plot_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "zone_id": ["Z1", "Z1", "Z1", "Z1", "Z2", "Z2"],
            "land_use": ["M1"] * 6,
            "status": ["occupied", "occupied", "vacant", "vacant", "idle", "vacant"],
            "occupant_id": ["E1", "E2", None, None, None, None],
            "area_mu": [10.0, 10.0, 20.0, 15.0, 30.0, 10.0],
        }
    )
    units = pd.DataFrame(
        {
            "unit_id": ["U1", "U2"],
            "cap_cod_t": [10.0, 5.0],
            "cap_nh3n_t": [nan, 1.0],
            "cap_so2_t": [nan, nan],
            "cap_nox_t": [nan, nan],
        }
    )
    cols = (
        "firm_id name kind zone_id candidate_zones industry is_service tax_wan value_added_wan "
        "revenue_wan employees energy_tce electricity_mwh cod_t nh3n_t so2_t nox_t land_mu "
        "land_min_mu land_max_mu energy_req_tce locked locked_plots"
    ).split()
    rows = [
        ("E1", "甲", "existing", "Z1", None, "C39", False, 100.0, 1000.0, 5000.0, 100.0,
         100.0, 200.0, 1.0, 0.1, 0.0, 0.0, 10.0, nan, nan, nan, False, None),
        ("E2", "乙", "existing", "Z1", None, "C26", False, 10.0, 200.0, 800.0, 30.0,
         80.0, 100.0, 2.0, 0.2, 0.0, 0.0, 10.0, nan, nan, nan, False, None),
        ("A1", "丙", "applicant", None, "Z1;Z2", "C39", False, 300.0, 2000.0, 9000.0, 80.0,
         150.0, 400.0, 1.5, 0.1, 0.0, 0.0, nan, 15.0, 35.0, nan, False, None),
        ("A2", "丁", "applicant", None, "Z2", "C39", False, 90.0, 900.0, 3000.0, 40.0,
         60.0, 100.0, 0.5, 0.05, 0.0, 0.0, nan, 25.0, 30.0, 30.0, True, "P5"),
        ("A3", "戊", "applicant", None, "Z2", "C26", False, 10.0, 100.0, 300.0, 10.0,
         90.0, 50.0, 0.5, 0.0, 0.0, 0.0, nan, 5.0, 8.0, nan, False, None),
    ]  # fmt: skip
    firms = pd.DataFrame(rows, columns=cols)
    catalogue = pd.DataFrame(
        {"zone_id": ["Z1", "Z2"], "industry_prefix": ["C39", "C39"], "priority": [1, 1]}
    )
    return SimpleNamespace(
        zones=zones,
        plots=plots,
        control_units=units,
        firms=firms,
        catalogue=catalogue,
        source=None,
        content_hash=lambda: "hand",
    )


def hand_pieces():
    scores = pd.DataFrame(
        {"managed_class": ["A", "D", "A", "B", "C"]},
        index=pd.Index(["E1", "E2", "A1", "A2", "A3"], name="firm_id"),
    )
    overlays = pd.DataFrame(
        {
            "redline_share": [0, 0, 0, 0, 0, 0.5],
            "unit_id": ["U1", "U1", "U1", "U1", "U2", "U2"],
            "in_zone": [True] * 6,
        },
        index=pd.Index(["P1", "P2", "P3", "P4", "P5", "P6"], name="plot_id"),
    )
    parcels = pd.DataFrame(
        {
            "parcel_id": ["B1", "B2", "B3", "B4"],
            "plot_ids": [("P3",), ("P4",), ("P3", "P4"), ("P5",)],
            "area_mu": [20.0, 15.0, 35.0, 30.0],
            "zone_id": ["Z1", "Z1", "Z1", "Z2"],
            "unit_id": ["U1", "U1", "U1", "U2"],
        }
    )
    pairs = pd.DataFrame(
        {"firm_id": ["A1", "A1", "A1", "A1", "A2"], "parcel_id": ["B1", "B2", "B3", "B4", "B4"]}
    )
    locked = locked_rows(("A2", "B4", 30.0, 25.0, 30.0, ()))
    return scores, overlays, SimpleNamespace(parcels=parcels, pairs=pairs, locked=locked)


def locked_rows(*rows) -> pd.DataFrame:
    """``Candidates.locked`` by hand: (firm, parcel, area, min, max, failures) per lock."""
    return pd.DataFrame(
        [(f, b, a, lo, hi, not fails, tuple(fails)) for f, b, a, lo, hi, fails in rows],
        columns=LOCKED_COLUMNS,
    )


def hand_prepare(overrides: dict | None = None) -> Prepared:
    scen = scenario_from_dict({"name": "hand", **(overrides or {})})
    scores, overlays, cands = hand_pieces()
    return prepare(hand_case(), scen, scores=scores, overlays=overlays, candidates=cands)


def test_arrays_and_intensities():
    prep = hand_prepare()
    d = prep.data
    d.validate()
    assert d.firm_ids == ("E1", "E2", "A1", "A2", "A3")
    assert list(d.firm_applicant) == [False, False, True, True, True]
    assert d.va_mu[0] == pytest.approx(100.0)  # 1000 / 10 mu
    assert d.va_mu[2] == pytest.approx(2000.0 / 35.0)  # design output on land_max
    assert d.en[2] == pytest.approx(150.0 / 2000.0)
    assert d.tax_va[0] == pytest.approx(0.1)
    assert d.em[1, 0] == pytest.approx(2.0 / 200.0)
    assert list(d.o0) == [1000.0, 200.0, 0.0, 0.0, 0.0]
    # growth factor 1 by default; A2 asks 30 tce at 60/900 tce per 万元 → 450 万元
    assert d.oreq[0] == pytest.approx(1000.0)
    assert d.oreq[3] == pytest.approx(30.0 / (60.0 / 900.0))
    assert d.oreq[2] == pytest.approx(2000.0)
    assert list(d.firm_class) == [0, 3, 0, 1, 2]
    assert list(d.firm_zone) == [0, 0, -1, -1, -1]
    assert list(d.firm_unit) == [0, 0, -1, -1, -1]
    assert list(d.plot_occupant) == [0, 1, -1, -1, -1, -1]
    assert d.unit_emission_cap_t.shape == (2, 4)
    assert np.isnan(d.unit_emission_cap_t[0, 1])
    assert np.isnan(d.province_energy_cap_tce)


def test_locked_parcel_and_pairs():
    prep = hand_prepare()
    d = prep.data
    # A2 is locked on P5: its only pair is the parcel {P5}
    b = d.locked_parcel[3]
    assert d.parcel_ids[b] == "B4"
    pairs = {
        (d.firm_ids[f], d.parcel_ids[p]) for f, p in zip(d.cand_firm, d.cand_parcel, strict=True)
    }
    assert pairs == {("A1", "B1"), ("A1", "B2"), ("A1", "B3"), ("A1", "B4"), ("A2", "B4")}
    assert prep.firms.set_index("firm_id").loc["A3", "n_candidates"] == 0
    assert list(d.parcel_unit) == [0, 0, 0, 1]


def test_size_filter_and_ineligible_locked_parcel():
    scores, overlays, cands = hand_pieces()
    cands.pairs = pd.concat(
        [cands.pairs, pd.DataFrame({"firm_id": ["A3"], "parcel_id": ["B4"]})]
    )  # 30 mu > A3's 8 mu max: dropped
    case = hand_case()
    case.firms.loc[3, "locked_plots"] = "P3;P4;P5"
    # eligibility added the lock's parcel (no generated bundle) and found it too large
    extra = {"parcel_id": "L:P3+P4+P5", "plot_ids": ("P3", "P4", "P5"), "area_mu": 65.0}
    cands.parcels = pd.concat(
        [cands.parcels, pd.DataFrame([{**extra, "zone_id": "Z1", "unit_id": "U2"}])],
        ignore_index=True,
    )
    cands.locked = locked_rows(("A2", "L:P3+P4+P5", 65.0, 25.0, 30.0, [("P3+P4+P5", "size")]))
    prep = prepare(case, scenario_from_dict({}), scores=scores, overlays=overlays, candidates=cands)
    d = prep.data
    assert "A3" not in {d.firm_ids[f] for f in d.cand_firm}
    b = d.locked_parcel[3]
    assert d.parcel_ids[b] == "L:P3+P4+P5"
    # area, zone and unit are eligibility's, not recomputed from the plots
    assert d.parcel_area_mu[b] == pytest.approx(65.0)
    assert d.unit_ids[d.parcel_unit[b]] == "U2"
    # a lock does not override eligibility: A2 has no candidate pair at all
    assert "A2" not in {d.firm_ids[f] for f in d.cand_firm}


def test_caps_overrides():
    prep = hand_prepare(
        {
            "caps": {
                "energy_factor": 0.85,
                "zones": {"Z2": {"electricity_mwh": 123.0}, "Z1": {"energy_factor": 0.5}},
                "units": {"U2": {"factor": 2.0}},
                "province_energy_factor": 0.9,
            }
        }
    )
    d = prep.data
    assert d.zone_energy_cap_tce == pytest.approx([500 * 0.5 * 0.85, 300 * 0.85])
    assert d.zone_electricity_cap_mwh == pytest.approx([1000.0, 123.0])
    assert d.unit_emission_cap_t[1, 0] == pytest.approx(10.0)
    assert d.province_energy_cap_tce == pytest.approx(0.9 * (212.5 + 255.0))


def test_exit_policy_and_params():
    prep = hand_prepare(
        {
            "exit": {"classes": ["D"], "relocation_cost_wan_per_mu": 20.0},
            "classes": {"floor": {"A": 0.9}},
        }
    )
    assert list(prep.data.may_exit) == [False, True, False, False, False]
    assert prep.firms.loc[1, "exit_reason"] == "class D"
    assert prep.params.relocation_cost_wan_per_mu == 20.0
    assert prep.params.class_floor == (0.9, 0.0, 0.0, 0.0)
    nc = hand_prepare({"exit": {"non_catalogue": True}})
    assert list(nc.data.may_exit) == [False, True, False, False, False]
    assert nc.firms.loc[1, "exit_reason"] == "outside catalogue"


def test_energy_basis_rebases_electricity():
    prep = hand_prepare({"energy": {"basis": "equivalent", "electricity_coef_tce_per_mwh": 0.30}})
    # E1: 100 tce counted at 0.1229 + (0.30 − 0.1229) × 200 MWh
    assert prep.data.en[0] * 1000.0 == pytest.approx(100.0 + (0.30 - 0.1229) * 200.0)


def test_growth_factor_sets_request():
    prep = hand_prepare({"classes": {"growth": {"A": 1.2}}})
    assert prep.data.oreq[0] == pytest.approx(1200.0)
    assert prep.data.growth_cap[0] == pytest.approx(1.2)
    assert prep.data.oreq[1] == pytest.approx(200.0)


def test_zone_without_catalogue_lets_no_firm_exit_as_outside_catalogue():
    """MODEL.md ``retain``: a zone with no catalogue rows restricts nothing, exit included.

    Z1 publishes no catalogue; E2 (C26 in Z1) is then not "outside the
    catalogue" and must stay, as eligibility treats Z1 as unrestricted.
    """
    scores, overlays, cands = hand_pieces()
    case = hand_case()
    case.catalogue = case.catalogue[case.catalogue["zone_id"] != "Z1"].reset_index(drop=True)
    scen = scenario_from_dict({"exit": {"non_catalogue": True}})
    prep = prepare(case, scen, scores=scores, overlays=overlays, candidates=cands)
    assert list(prep.data.may_exit) == [False, False, False, False, False]
    assert prep.firms["exit_reason"].isna().all()
    # the same zone in eligibility: the catalogue test admits every industry there
    from allocator.eligibility import Rules

    tables = {"access_rules": None, "land_use_rules": None, "control_units": pd.DataFrame()}
    rules = Rules.build(SimpleNamespace(**{**vars(case), **tables}), ["C26", "C39"])
    z1, z2 = rules.zone_index(["Z1", "Z2"])
    assert rules.in_catalogue[:, z1].tolist() == [True, True]
    assert rules.in_catalogue[:, z2].tolist() == [False, True]


def test_an_absolute_zone_cap_is_final_whatever_the_factor_on_every_zone():
    """A zone's cap in tce is that number: the factor on every zone does not rescale it.

    Units already worked this way; zones multiplied an absolute cap by the
    global factor, so the diagnosis' repair (which sets the absolute cap it
    takes) did nothing after a province-wide cut to 0 %.
    """
    prep = hand_prepare(
        {
            "caps": {
                "energy_factor": 0.0,
                "electricity_factor": 0.5,
                "zones": {"Z1": {"energy_tce": 8081.0}, "Z2": {"electricity_mwh": 123.0}},
            }
        }
    )
    d = prep.data
    assert d.zone_energy_cap_tce == pytest.approx([8081.0, 0.0])
    assert d.zone_electricity_cap_mwh == pytest.approx([1000.0 * 0.5, 123.0])
