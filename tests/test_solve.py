"""solve() end to end on the hand-made case (real HiGHS), with invariants on every solution."""

from __future__ import annotations

import pytest
from test_prepare import hand_case, hand_prepare

from allocator.invariants import check_result
from allocator.runs import load_run
from allocator.settings import SolverSettings
from allocator.solve import run_model, solve

pytest.importorskip("models.solver")

SCENARIOS = [
    {},
    {"exit": {"classes": ["D"], "relocation_cost_wan_per_mu": 5.0}},
    {"caps": {"energy_factor": 0.3}},
    {"caps": {"zones": {"Z2": {"intensity_tce_per_wan": 0.01}}}},
    {"classes": {"floor": {"A": 0.9}, "cap": {"D": 0.5}}, "service_floor": 0.4},
    {"caps": {"units": {"U1": {"cod_t": 1.5}}}, "objective": {"alpha_tax": 0.0}},
    {"caps": {"province_energy_tce": 200.0}},
    {"switches": {"zone_energy": False}, "caps": {"electricity_factor": 0.2}},
    {"energy": {"trade_price_wan_per_tce": 50.0, "trade_threshold_tce_per_wan": 0.05}},
]


@pytest.mark.parametrize("overrides", SCENARIOS)
def test_solutions_satisfy_every_invariant(overrides):
    prep = hand_prepare(overrides)
    result = run_model(prep, duals=True)
    assert result.status == "optimal"
    assert result.gap is not None
    assert result.gap <= 1e-4
    assert check_result(result, hand_case(), prep.scenario) == []


@pytest.mark.parametrize(
    ("cod_t", "nh3n_t"),
    [(2.0, 0.2), (2.5, 0.15), (2.0, 0.15)],
    ids=["cod-binds", "nh3n-binds", "both-bind"],
)
def test_two_pollutant_caps_on_one_unit_both_reach_the_model(cod_t, nh3n_t):
    """U1 with a COD and an NH3-N cap: each limits the plan when it is the tighter one.

    A1 (1.5 t COD, 0.1 t NH3-N at its full 2,000 万元) is admitted first; E1 then
    adds 0.001 t COD and 0.0001 t NH3-N per 万元. COD 2.0 t allows E1 500 万元, and so
    does NH3-N 0.15 t: every case ends at E1 = 500 (objective 2,000 + 500 + A2's 450),
    which only holds if the tighter cap reached the model (without it E1 gets 1,000).
    """
    prep = hand_prepare(
        {
            "caps": {"units": {"U1": {"cod_t": cod_t, "nh3n_t": nh3n_t}}},
            "objective": {"alpha_tax": 0.0},
        }
    )
    caps = prep.data.unit_emission_cap_t[prep.data.unit_ids.index("U1")]
    assert list(caps[:2]) == [cod_t, nh3n_t]
    result = solve(prep.scenario, prepared=prep, write=False)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(2950.0)
    in_u1 = result.firms[result.firms["unit_id"] == "U1"]
    activity = {"cod": float(in_u1["cod_t"].sum()), "nh3n": float(in_u1["nh3n_t"].sum())}
    assert activity == pytest.approx({"cod": 2.0, "nh3n": 0.15})
    assert check_result(result, hand_case(), prep.scenario) == []


def test_solve_writes_a_run_with_marginals(tmp_path):
    prep = hand_prepare({"caps": {"energy_factor": 0.3}})
    stages = []
    result = solve(
        prep.scenario, prepared=prep, out_dir=tmp_path, progress=lambda s, i: stages.append(s)
    )
    assert result.status == "optimal"
    assert result.objective == pytest.approx(2795.0)
    assert {
        "prepare",
        "presolve",
        "build",
        "solve",
        "assemble",
        "marginals",
        "write",
        "done",
    } <= set(stages)
    m = result.marginals.set_index("row")
    # E1 earns 1 + 0.1 (tax) per 万元 at 0.1 tce per 万元: 11 万元 per tce of zone Z1's cap
    assert m.loc["zone_energy[Z1]", "value"] == pytest.approx(11.0)
    assert m.loc["zone_energy[Z1]", "unit"] == "万元/tce"
    assert bool(m.loc["zone_energy[Z1]", "binding"])
    assert not bool(m.loc["zone_energy[Z2]", "binding"])
    z = result.zones.set_index("zone_id")
    assert z.loc["Z1", "energy_marginal_wan_per_tce"] == pytest.approx(11.0)
    run = load_run(result.run_path)
    assert run.summary["status"] == "optimal"
    assert run.summary["model_size"]["binaries"] > 0
    assert len(run.marginals) == len(result.marginals)
    assert check_result(run, hand_case(), run.scenario) == []


def test_deterministic():
    a = run_model(hand_prepare({"exit": {"classes": ["D"]}}))
    b = run_model(hand_prepare({"exit": {"classes": ["D"]}}))
    assert a.objective == b.objective
    assert list(a.firms["parcel_id"].fillna("")) == list(b.firms["parcel_id"].fillna(""))


def test_infeasible_is_diagnosed_with_rows_and_amounts(tmp_path):
    # E1 and E2 must stay with their full output (180 tce) in Z1 capped at 150 tce
    prep = hand_prepare({"service_floor": 1.0, "caps": {"zones": {"Z1": {"energy_tce": 150.0}}}})
    result = solve(prep.scenario, prepared=prep, out_dir=tmp_path)
    assert result.status == "infeasible"
    assert result.objective is None
    proofs = result.diagnosis.proofs
    assert [(i.row, i.amount, i.cap, i.unit) for i in proofs] == [
        ("zone_energy[Z1]", 30.0, 150.0, "tce")
    ]
    assert proofs[0].subject_kind == "zone"
    assert proofs[0].subject_id == "Z1"
    relaxed = result.diagnosis.relaxations
    assert [i.row for i in relaxed] == ["zone_energy[Z1]"]
    item = relaxed[0]
    assert item.amount == pytest.approx(30.0)
    assert item.unit == "tce"
    assert item.cap == pytest.approx(150.0)
    assert item.share_of_cap == pytest.approx(0.2)
    assert item.family == "zone_energy"
    assert "zone_energy[" not in item.label("zh")
    assert "zone_energy[" not in item.label("en")
    assert item.label("zh").startswith("能耗总量·")
    assert "30 tce" in item.label("en")
    assert "20.0% of the cap" in item.label("en")
    # the proof comes first: the diagnosis is in repair order
    assert result.diagnosis.items[0].source == "presolve"
    run = load_run(result.run_path)
    assert run.status == "infeasible"
    assert run.diagnosis == result.diagnosis  # the typed record reads back as written
    assert run.kpis.has_plan is False
    assert run.kpis.get("value_added_wan") is None


def test_time_limit_status_is_typed():
    result = run_model(hand_prepare(), settings=SolverSettings(time_limit_s=5.0))
    assert result.status in {"optimal", "feasible"}
