"""Known answers for the zones' national assessment target (``a_class_reach``, ``a_class_target``).

The micro case: E1 (100 万元 on P1, 10 mu, zone Z1) and E2 (100 万元 on P2, 10 mu,
Z2) stay. A1 (10 万元/mu, asks 200) may take B1 = P3 (Z1, 20 mu: 200 万元) or
B2 = P4 (Z2, 10 mu: 100 万元); A3 (2 万元/mu, asks 60) may take only B4 = P3 + P7
(Z1, 30 mu: 60 万元), which overlaps B1. No caps. The plans: A1 on B1 (400,
Z1 developed 30 mu, Z2 10 mu) or A1 on B2 and A3 on B4 (360, Z1 40 mu, Z2 20 mu).

With Z1 needing 30 mu and Z2 20 mu of developed land, the best plan lifts one
zone (Z1); a target of two zones forces the 360 plan, which lifts both. Every
answer is checked against a brute force over all plans.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from test_model_bruteforce import all_plans

from allocator.assessment import a_class_gaps
from models.allocation import a_class_bounds, build
from models.data import ModelData, ModelParams
from models.solver import Status, run

NAN = float("nan")


def micro(need: list[list[float]] | None = None, target: int = 0, weight: float = 0.0) -> ModelData:
    """The module docstring's case; ``need`` (2 × 3: tax, value added, land) per zone."""
    if need is None:
        need = [[NAN, NAN, 30.0], [NAN, NAN, 20.0]]
    return ModelData(
        zone_ids=("Z1", "Z2"),
        zone_electricity_cap_mwh=np.array([NAN, NAN]),
        zone_energy_cap_tce=np.array([NAN, NAN]),
        zone_intensity_cap_tce_per_wan=np.array([NAN, NAN]),
        unit_ids=("U1",),
        unit_emission_cap_t=np.full((1, 4), NAN),
        plot_ids=("P1", "P2", "P3", "P4", "P7"),
        plot_zone=np.array([0, 1, 0, 1, 0]),
        plot_area_mu=np.array([10.0, 10.0, 20.0, 10.0, 10.0]),
        plot_occupant=np.array([0, 1, -1, -1, -1]),
        firm_ids=("E1", "E2", "A1", "A3"),
        firm_applicant=np.array([False, False, True, True]),
        firm_zone=np.array([0, 1, -1, -1]),
        firm_unit=np.array([0, 0, -1, -1]),
        firm_class=np.array([1, 1, 1, 1]),
        va_mu=np.array([10.0, 10.0, 10.0, 2.0]),
        tax_va=np.array([0.1, 0.1, 0.1, 0.1]),
        el=np.zeros(4),
        en=np.zeros(4),
        em=np.zeros((4, 4)),
        o0=np.array([100.0, 100.0, 0.0, 0.0]),
        oreq=np.array([100.0, 100.0, 200.0, 60.0]),
        growth_cap=np.ones(4),
        land_min_mu=np.array([0.0, 0.0, 10.0, 30.0]),
        land_max_mu=np.array([0.0, 0.0, 20.0, 30.0]),
        land0_mu=np.array([10.0, 10.0, 0.0, 0.0]),
        may_exit=np.zeros(4, bool),
        locked=np.zeros(4, bool),
        locked_parcel=np.full(4, -1),
        parcel_ids=("B1", "B2", "B4"),
        parcel_ptr=np.array([0, 1, 2, 4]),
        parcel_plot=np.array([2, 3, 2, 4]),
        parcel_area_mu=np.array([20.0, 10.0, 30.0]),
        parcel_zone=np.array([0, 1, 0]),
        parcel_unit=np.array([0, 0, 0]),
        cand_firm=np.array([2, 2, 3]),
        cand_parcel=np.array([0, 1, 2]),
        zone_a_class_need=np.array(need, dtype=float),
        a_class_target_zones=target,
        a_class_weight_wan=weight,
    )


ON = ModelParams(switches={"a_class_target": True})
OFF = ModelParams(switches={"a_class_target": False})


def reached(d: ModelData, assignment: dict) -> int:
    """Zones meeting every threshold under a brute-force plan, outputs at their bounds.

    Without caps each served firm produces its bound (the objective's optimum),
    which is also the most for every indicator.
    """
    y, parcel = assignment["y"], assignment["parcel"]
    out = np.zeros(d.n_firms)
    zone = np.array(d.firm_zone)
    land = np.zeros(d.n_zones)
    for f in range(d.n_firms):
        if not y[f]:
            continue
        if parcel[f] >= 0:
            b = parcel[f]
            out[f] = min(d.oreq[f], d.va_mu[f] * d.parcel_area_mu[b])
            zone[f] = d.parcel_zone[b]
            np.add.at(land, d.plot_zone[d.parcel_plots(b)], d.plot_area_mu[d.parcel_plots(b)])
        else:
            out[f] = min(d.oreq[f], d.growth_cap[f] * d.o0[f])
    held = (d.plot_occupant >= 0) & y[np.maximum(d.plot_occupant, 0)].astype(bool)
    np.add.at(land, d.plot_zone[held], d.plot_area_mu[held])
    tax = np.bincount(zone[zone >= 0], (d.tax_va * out)[zone >= 0], minlength=d.n_zones)
    va = np.bincount(zone[zone >= 0], out[zone >= 0], minlength=d.n_zones)
    have = np.column_stack([tax, va, land])
    need = np.asarray(d.zone_a_class_need)
    ok = np.where(np.isfinite(need), have >= need - 1e-9, True).all(axis=1)
    return int(ok.sum())


def brute(d: ModelData, weight: float = 0.0) -> tuple[float | None, int]:
    """Best objective (+ weight per zone reaching) over plans meeting the target, and its reach."""
    best: tuple[float | None, int] = (None, 0)
    for value, a in all_plans(d, OFF):
        k = reached(d, a)
        if k < d.a_class_target_zones:
            continue
        total = value + weight * k
        if best[0] is None or total > best[0] + 1e-9:
            best = (total, k)
    return best


def solve(d: ModelData, params: ModelParams = ON):
    built = build(d, params)
    sol = run(built, time_limit_s=30, rel_gap=1e-9)
    return built, sol


def r_values(built) -> list[float]:
    pairs = zip(built.r, built.r_fixed, strict=True)
    return [float(v.varValue) if v is not None else float(f) for v, f in pairs]


def test_a_class_target_forces_a_lower_objective_plan_that_lifts_one_more_zone():
    # without the target the best plan (400) lifts Z1 only
    built, sol = solve(micro(target=1))
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(440.0)  # (1 + tax 0.1) × 400
    assert brute(micro(target=1)) == (pytest.approx(440.0), 1)
    assert sol.y[2:].tolist() == [1.0, 0.0]
    # two zones: A1 moves to Z2 and A3 takes B4 in Z1: 1.1 × 360 = 396, both zones reach
    built, sol = solve(micro(target=2))
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(396.0)
    assert brute(micro(target=2)) == (pytest.approx(396.0), 2)
    assert sol.x.tolist() == [0.0, 1.0, 1.0]
    assert r_values(built) == [1.0, 1.0]
    assert built.family_rows["a_class_target"] == 1
    assert built.family_rows["a_class_reach"] == 2  # one land row per zone


def test_a_class_target_switched_off_changes_the_answer():
    # the same data with the family off: the 440 plan, one zone; the target is what moves A1
    built, sol = solve(micro(target=2), OFF)
    assert sol.objective == pytest.approx(440.0)
    assert built.family_rows["a_class_target"] == built.family_rows["a_class_reach"] == 0


def test_a_class_target_as_an_objective_term():
    # weight w per zone reaching: 440 + w (one zone) against 396 + 2w: the target plan wins above 44
    for w, expected, zones in ((30.0, 470.0, 1), (60.0, 516.0, 2)):
        built, sol = solve(micro(weight=w))
        assert sol.status == Status.OPTIMAL
        assert sol.objective == pytest.approx(expected)
        assert brute(micro(), weight=w) == (pytest.approx(expected), zones)
        assert built.family_rows["a_class_target"] == 0  # no count row: n = 0
        assert sum(r_values(built)) == zones


def test_a_class_reach_tax_and_value_added_rows():
    # Z1 needs 300 万元 value added and 30 万元 tax: only A1 on B1 gives it (100 + 200);
    # Z2 needs 200 万元 value added: only A1 on B2 gives it. Either zone, never both.
    need = [[30.0, 300.0, NAN], [NAN, 200.0, NAN]]
    built, sol = solve(micro(need, target=1))
    assert sol.objective == pytest.approx(440.0)
    assert built.family_rows["a_class_reach"] == 3
    assert brute(micro(need, target=1)) == (pytest.approx(440.0), 1)
    # both: each zone alone can reach (so presolve arithmetic cannot tell), together not
    built, sol = solve(micro(need, target=2))
    assert sol.status == Status.INFEASIBLE
    assert brute(micro(need, target=2)) == (None, 0)


def test_a_class_reach_presolve_fixes_zones_without_a_variable():
    # Z2 needs 30 mu but has at most 10 + 10: it cannot reach (r fixed at 0, no variable);
    # Z1 needs 10 mu, which E1 (who must stay) holds already: sure to reach (fixed at 1)
    d = micro([[NAN, NAN, 10.0], [NAN, NAN, 30.0]], target=1)
    low, high = a_class_bounds(d, ON)
    assert low[:, 2].tolist() == [10.0, 10.0]
    assert high[:, 2].tolist() == [40.0, 20.0]
    built, sol = solve(d)
    assert built.r_fixed.tolist() == [1, 0]
    assert all(v is None for v in built.r)
    assert built.family_rows["a_class_reach"] == built.family_rows["a_class_target"] == 0
    assert sol.objective == pytest.approx(440.0)


def test_a_class_target_unreachable_names_the_zone_and_the_gap():
    # two zones needed; Z2 needs 30 mu of developed land, and even every project admitted
    # gives it 20: infeasible, and the gaps name Z2 and the 10 mu missing
    d = micro([[NAN, NAN, 30.0], [NAN, NAN, 30.0]], target=2)
    built, sol = solve(d)
    assert sol.status == Status.INFEASIBLE
    assert brute(d) == (None, 0)
    gaps = a_class_gaps(d, ON)
    assert gaps[["zone_id", "indicator", "unit"]].values.tolist() == [
        ["Z2", "developed_land", "亩"]
    ]
    assert gaps["gap"].tolist() == [pytest.approx(10.0)]
    # elastic: the count row is relaxed by the one zone that is missing
    built, sol = solve(d, dataclasses.replace(ON, elastic=True))
    assert sol.status == Status.OPTIMAL
    assert sol.slacks["a_class_target[province]"] == pytest.approx(1.0)


# ---------------------------------------------------------------- the tiny case, end to end


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny case saved, with test_assessment's thresholds: Z01 reaches A class, Z02 cannot."""
    from allocator import save_case
    from allocator.case.testing import tiny_case

    folder = tmp_path_factory.mktemp("aclass")
    rule = folder / "a_class.toml"
    rule.write_text(
        "min_tax_wan_per_km2 = 3000.0\nmin_va_wan_per_km2 = 20000.0\n"
        'min_developed_share = 0.10\ntarget_share = "1/2"\n[source]\ntag = "[I] test"\n',
        encoding="utf-8",
    )
    return save_case(tiny_case(), folder / "tiny.gpkg"), rule, folder


def tiny_run(tiny, **over):
    from allocator import load_scenario, solve
    from allocator.case import load_case
    from allocator.invariants import check_result

    path, rule, folder = tiny
    root = Path(__file__).resolve().parents[1]
    scen = load_scenario(
        root / "scenarios" / "baseline.toml",
        {"case": str(path), "assessment.rule": str(rule), "switches.a_class_target": True, **over},
    )
    result = solve(scen, out_dir=folder / "runs")
    if result.has_solution:
        assert check_result(result, load_case(path), scen) == []
    return result


def test_a_class_target_on_the_tiny_case_reports_before_and_after(tiny):
    # the rule's target_share 1/2 of the two zones: n = 1, which Z01 reaches
    result = tiny_run(tiny)
    assert result.status == "optimal"
    assert result.kpis["zones_reaching_a_class_before"] == 0
    assert result.kpis["zones_reaching_a_class"] == 1
    assert result.zones.set_index("zone_id")["a_class_after"].to_dict() == {
        "Z01": True,
        "Z02": False,
    }


def test_a_class_target_unreachable_diagnosis_names_zone_and_gap(tiny):
    result = tiny_run(tiny, **{"assessment.target_zones": 2})
    assert result.status == "infeasible"
    items = [i for i in result.diagnosis.items if i.family == "a_class_reach"]
    assert {i.subject_id for i in items} == {"Z02"}
    assert all(i.subject_name == "宁波梅山综合保税区" for i in items)
    tax = next(i for i in items if i.indicator == "tax")
    # need: 3,000 万元/km² × 1.5 km² = 4,500 万元; the gap is the need less the most any plan gives
    assert tax.amount == pytest.approx(4500.0 - tax.cap)
    assert 0 < tax.amount < 4500.0
    assert "宁波梅山综合保税区" in tax.label_zh
    assert "税收" in tax.label_zh
    assert "tax" in tax.label_en
    assert tax.severity == "infeasible"
    assert any(i.code == "a_class_too_few" for i in result.diagnosis.items)


@pytest.mark.slow
@pytest.mark.parametrize("limit_s", [4.0, 10.0])
def test_a_stopped_objective_run_counts_whole_zones_only(sample_case_path, limit_s):
    """The sample's a_class_target stopped early: its plan's objective counts only the zones
    that reach A class (a start with fractional flags once reported 14.9 M above its bound)."""
    from allocator.invariants import check_result
    from allocator.scenario import load_scenario
    from allocator.solve import load_case_cached, solve

    root = Path(__file__).resolve().parents[1]
    case = load_case_cached(sample_case_path)
    scen = load_scenario(
        root / "scenarios" / "a_class_target.toml", overrides={"case": str(sample_case_path)}
    )
    result = solve(scen, case=case, time_limit_s=limit_s, rel_gap=0.005)
    if not result.has_solution:
        assert str(result.status) == "time_limit_no_solution"
        return
    assert result.objective <= result.best_bound * (1 + 1e-9)
    zones = result.zones.set_index("zone_id")
    assert int(zones["a_class_after"].astype(bool).sum()) == result.kpis["zones_reaching_a_class"]
    assert check_result(result, case, scen) == []
