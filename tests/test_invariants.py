"""The independent invariant checker on a hand-made solution and on broken copies of it."""

from __future__ import annotations

import pytest
from test_prepare import hand_case, hand_pieces, hand_prepare
from test_runs import fake_result

from allocator.invariants import check_result

EXIT_D = {"exit": {"classes": ["D"]}}


def families(violations):
    return {v.family for v in violations}


def solved():
    prep = hand_prepare(EXIT_D)
    return prep, fake_result(prep)


def test_fake_solution_has_no_violation():
    prep, result = solved()
    assert check_result(result, hand_case(), prep.scenario) == []


def test_run_scenario_dict_is_accepted(tmp_path):
    from allocator.runs import load_run, write_run

    prep, result = solved()
    run = load_run(write_run(result, tmp_path))
    assert check_result(run, hand_case(), run.scenario) == []


def test_retain_violation_without_exit_rule():
    prep = hand_prepare()
    result = fake_result(prep)
    v = check_result(result, hand_case(), prep.scenario)
    assert families(v) == {"retain"}
    assert v[0].row == "retain[E2]"


@pytest.mark.parametrize(
    ("overrides", "family", "row"),
    [
        ({"caps": {"zones": {"Z1": {"energy_tce": 200.0}}}}, "zone_energy", "zone_energy[Z1]"),
        ({"caps": {"electricity_factor": 0.1}}, "zone_electricity", "zone_electricity[Z1]"),
        (
            {"caps": {"zones": {"Z1": {"intensity_tce_per_wan": 0.05}}}},
            "energy_intensity",
            "energy_intensity[Z1]",
        ),
        ({"caps": {"province_energy_tce": 100.0}}, "province_energy", "province_energy[province]"),
        (
            {"caps": {"units": {"U1": {"cod_t": 1.0}}}},
            "unit_emissions",
            "unit_emissions[unit=U1,pollutant=cod]",
        ),
        ({"classes": {"floor": {"A": 0.9}}}, "class_floor", "class_floor[A1]"),
        ({"classes": {"cap": {"A": 0.5}}}, "class_cap", "class_cap[E1]"),
        ({"service_floor": 0.9, "classes": {"growth": {"A": 1.0}}}, None, None),
    ],
)
def test_cap_and_floor_violations(overrides, family, row):
    prep = hand_prepare(EXIT_D)
    result = fake_result(prep)
    scen = prep.scenario.with_overrides(overrides)
    v = check_result(result, hand_case(), scen)
    if family is None:
        assert v == []
        return
    assert family in families(v)
    assert row in {x.row for x in v}
    hit = next(x for x in v if x.row == row)
    assert hit.excess > 0


def test_table_tampering_is_caught():
    prep, result = solved()
    case = hand_case()
    firms = result.firms.copy()
    i = firms.index[firms["firm_id"] == "A1"][0]
    firms.loc[i, "value_added_wan"] = 2500.0  # above the request 2000 and land 2000
    firms.loc[i, "energy_tce"] = 2500.0 * 150 / 2000
    firms.loc[i, "electricity_mwh"] = 2500.0 * 400 / 2000
    firms.loc[i, "tax_wan"] = 2500.0 * 0.15
    result.firms = firms
    assert {"output_request", "output_by_land"} <= families(
        check_result(result, case, prep.scenario)
    )

    prep, result = solved()
    firms = result.firms.copy()
    i = firms.index[firms["firm_id"] == "A1"][0]
    firms.loc[i, "energy_tce"] = 1.0  # not intensity × output
    result.firms = firms
    assert families(check_result(result, case, prep.scenario)) == {"quotas"}

    prep, result = solved()
    firms = result.firms.copy()
    i = firms.index[firms["firm_id"] == "A1"][0]
    firms.loc[i, "plot_ids"] = "P1;P4"  # P1 belongs to staying E1
    firms.loc[i, "land_mu"] = 25.0
    result.firms = firms
    assert "plot_once" in families(check_result(result, case, prep.scenario))

    prep, result = solved()
    firms = result.firms.copy()
    i = firms.index[firms["firm_id"] == "A1"][0]
    firms.loc[i, "plot_ids"] = "P4"
    firms.loc[i, "land_mu"] = 15.0
    firms.loc[i, "value_added_wan"] = 100.0
    for col, v in (("energy_tce", 7.5), ("electricity_mwh", 20.0), ("tax_wan", 15.0)):
        firms.loc[i, col] = v
    result.firms = firms
    scen = prep.scenario
    case2 = hand_case()
    case2.firms.loc[2, "land_min_mu"] = 20.0
    # the smaller parcel breaks the size range, and the plan no longer has the reported objective
    assert families(check_result(result, case2, scen)) == {"size", "objective"}

    prep, result = solved()
    firms = result.firms.copy()
    i = firms.index[firms["firm_id"] == "A2"][0]
    firms.loc[i, "served"] = False
    firms.loc[i, "parcel_id"] = None
    firms.loc[i, "plot_ids"] = None
    firms.loc[i, "supply_mode"] = None  # its 供地方式 goes with the project (land_supply)
    for col in ("value_added_wan", "energy_tce", "electricity_mwh", "tax_wan"):
        firms.loc[i, col] = 0.0
    result.firms = firms
    # dropping A2 also drops its output from the plan's objective
    assert families(check_result(result, case, prep.scenario)) == {"locked", "objective"}


def test_non_catalogue_exit_allows_leaving():
    prep = hand_prepare({"exit": {"non_catalogue": True}})
    assert check_result(fake_result(prep), hand_case(), prep.scenario) == []


def test_reported_objective_is_the_written_plans():
    """The fault of issue 13: a run claims a better objective than its plan has."""
    prep, result = solved()
    plan = result.objective
    assert plan == pytest.approx(3320.0)  # 1000 + 1.15 × 1500 + 1.1 × 450 (α_tax · tax share)
    result.objective = plan * 1.4
    result.best_bound = plan * 1.4
    v = check_result(result, hand_case(), prep.scenario)
    assert families(v) == {"objective"}
    assert {x.row for x in v} == {"objective", "gap"}


def test_optimal_run_must_close_its_gap():
    """Optimal at gap 0 while the written plan is 40 % below the bound: caught."""
    prep, result = solved()
    plan = result.objective
    result.best_bound = plan * 1.4
    v = check_result(result, hand_case(), prep.scenario)
    assert families(v) == {"objective"}
    assert {x.row for x in v} == {"gap"}
    assert any("optimal, but the plan is 40.0000% from its bound" in x.message for x in v)
    # the same plan reported honestly: feasible at a 40 % gap
    result.status, result.gap = "feasible", 0.4
    assert check_result(result, hand_case(), prep.scenario) == []


def test_zone_without_catalogue_gives_no_exit_right():
    """Leaving a zone without catalogue rows breaks ``retain`` (no catalogue: no restriction)."""
    prep, result = solved()  # E2 (C26, Z1) leaves under the D-class exit rule
    case = hand_case()
    case.catalogue = case.catalogue[case.catalogue["zone_id"] != "Z1"].reset_index(drop=True)
    scen = prep.scenario.with_overrides({"exit": {"classes": [], "non_catalogue": True}})
    v = check_result(result, case, scen)
    assert [x.row for x in v] == ["retain[E2]"]


def test_locked_project_inside_the_red_line_is_a_violation():
    """A lock does not override eligibility: the red-line row holds for locked projects too."""
    from allocator.prepare import prepare
    from allocator.scenario import scenario_from_dict

    scores, overlays, cands = hand_pieces()
    overlays.loc["P5", "redline_share"] = 0.5  # A2 is locked on B4 = {P5}
    prep = prepare(
        hand_case(), scenario_from_dict(EXIT_D), scores=scores, overlays=overlays, candidates=cands
    )
    v = check_result(fake_result(prep), hand_case(), prep.scenario)
    assert [x.row for x in v] == ["redline[A2,P5]"]
