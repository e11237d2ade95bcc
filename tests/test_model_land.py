"""Known answers for the land families of issue 20 (brute force and by hand).

``far_upgrade``: an existing firm grows in place by raising its plot ratio. The
micro case has one existing firm E0 (10 mu, floor area 10,000 m², o0 = 100
万元, headroom 10,000 m² that carries k = 0.01 万元/m², so +100 万元 at most)
and one applicant A0 (10 mu at 10 万元/mu = 100 万元). Both use 1 tce per 万元
and the zone's energy cap (200 tce) leaves room for only one of them: the
upgrade competes with the project on new land for the same energy.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_model_bruteforce import brute_force

from models.allocation import build
from models.data import ModelData, ModelParams
from models.solver import Status, run

CHEAP = 0.001
"""万元 per added m² per year: 10 万元 for the 10,000 m² upgrade (pays: +100 万元)."""
DEAR = 0.02
"""万元 per added m² per year: 200 万元 (2,000 元/m² over 10 years): more than it earns."""


def upgrade_case(vacant_mu: float = 10.0, cost: float = CHEAP) -> ModelData:
    """E0 on P0 (10 mu) may add 10,000 m²; A0 asks for exactly 10 mu; P1 is ``vacant_mu``.

    Land is scarce when P1 is smaller than A0's request: A0 then has no candidate parcel.
    """
    nan = float("nan")
    fits = vacant_mu >= 10.0
    return ModelData(
        zone_ids=("Z1",),
        zone_electricity_cap_mwh=np.array([nan]),
        zone_energy_cap_tce=np.array([200.0]),
        zone_intensity_cap_tce_per_wan=np.array([nan]),
        unit_ids=("U1",),
        unit_emission_cap_t=np.full((1, 4), nan),
        plot_ids=("P0", "P1"),
        plot_zone=np.array([0, 0]),
        plot_area_mu=np.array([10.0, vacant_mu]),
        plot_occupant=np.array([0, -1]),
        firm_ids=("E0", "A0"),
        firm_applicant=np.array([False, True]),
        firm_zone=np.array([0, -1]),
        firm_unit=np.array([0, -1]),
        firm_class=np.array([0, 1]),
        va_mu=np.array([10.0, 10.0]),
        tax_va=np.zeros(2),
        el=np.zeros(2),
        en=np.array([1.0, 1.0]),
        em=np.zeros((2, 4)),
        o0=np.array([100.0, 0.0]),
        oreq=np.array([100.0, 100.0]),
        growth_cap=np.array([1.0, 1.0]),
        land_min_mu=np.array([0.0, 10.0]),
        land_max_mu=np.array([0.0, 10.0]),
        land0_mu=np.array([10.0, 0.0]),
        may_exit=np.array([False, False]),
        locked=np.zeros(2, bool),
        locked_parcel=np.full(2, -1),
        parcel_ids=("B1",),
        parcel_ptr=np.array([0, 1]),
        parcel_plot=np.array([1]),
        parcel_area_mu=np.array([vacant_mu]),
        parcel_zone=np.array([0]),
        parcel_unit=np.array([0]),
        cand_firm=np.array([1] if fits else [], dtype=int),
        cand_parcel=np.array([0] if fits else [], dtype=int),
        floor_headroom_m2=np.array([10_000.0, 0.0]),
        upgrade_output_per_m2=np.array([0.01, 0.0]),
        upgrade_cost_wan_per_m2=np.array([cost, 0.0]),
    )


ON = ModelParams(switches={"far_upgrade": True})


def solve(data: ModelData, params: ModelParams = ON):
    """Solve with the model; check the optimum against the brute force; return (built, sol)."""
    built = build(data, params)
    sol = run(built, time_limit_s=30, rel_gap=1e-9)
    assert sol.status == Status.OPTIMAL, sol.message
    expected, _ = brute_force(data, params)
    assert sol.objective == pytest.approx(expected, rel=1e-9, abs=1e-6)
    return built, sol


def added_m2(built, f: int) -> float:
    """Floor area firm ``f`` adds at the solution (0 without an upgrade variable)."""
    v = built.u[f] if len(built.u) else None
    return 0.0 if v is None else float(v.varValue or 0.0)


def test_far_upgrade_beats_a_new_parcel_when_land_is_scarce():
    # no parcel fits A0: E0 builds the whole headroom: 100 + 100 − 10 = 190
    built, sol = solve(upgrade_case(vacant_mu=4.0))
    assert built.family_rows["far_upgrade"] == 1
    assert sol.objective == pytest.approx(190.0)
    assert added_m2(built, 0) == pytest.approx(10_000.0)  # the row u − H·y ≤ 0 binds
    assert sol.o[0] == pytest.approx(200.0)
    # switched off, the brute force finds only E0's present output: the family shapes the answer
    off = dataclasses.replace(ON, switches={"far_upgrade": False})
    assert brute_force(upgrade_case(vacant_mu=4.0), off)[0] == pytest.approx(100.0)


def test_far_upgrade_loses_to_a_new_parcel_when_land_is_there():
    # A0 fits on P1 and earns 100 for 100 tce; the upgrade earns 90 for the same energy
    built, sol = solve(upgrade_case(vacant_mu=10.0))
    assert sol.objective == pytest.approx(200.0)
    assert sol.y[1] == 1.0
    assert added_m2(built, 0) == pytest.approx(0.0)


def test_far_upgrade_loses_when_the_upgrade_cost_is_high():
    built, sol = solve(upgrade_case(vacant_mu=4.0, cost=DEAR))
    assert sol.objective == pytest.approx(100.0)
    assert added_m2(built, 0) == pytest.approx(0.0)


def test_far_upgrade_off_by_default_and_switchable():
    data = upgrade_case(vacant_mu=4.0)
    built, sol = solve(data, ModelParams())
    assert built.family_rows["far_upgrade"] == 0
    assert not any(v is not None for v in built.u)
    assert sol.objective == pytest.approx(100.0)
    off = dataclasses.replace(ON, switches={"far_upgrade": False})
    assert solve(data, off)[1].objective == pytest.approx(100.0)


def test_far_upgrade_nothing_built_by_a_firm_that_leaves():
    # E0 may leave and A0 needs E0's plot: leaving frees P0, and no upgrade is then built
    data = dataclasses.replace(
        upgrade_case(vacant_mu=4.0),
        may_exit=np.array([True, False]),
        parcel_ids=("B0",),
        parcel_plot=np.array([0]),
        parcel_area_mu=np.array([10.0]),
        cand_firm=np.array([1]),
        cand_parcel=np.array([0]),
        va_mu=np.array([10.0, 30.0]),
        oreq=np.array([100.0, 300.0]),
        zone_energy_cap_tce=np.array([300.0]),
    )
    built, sol = solve(data)
    # A0 (300) beats E0 with its upgrade (200 − 10): E0 leaves and builds nothing
    assert sol.objective == pytest.approx(300.0)
    assert sol.y[0] == 0.0
    assert added_m2(built, 0) == pytest.approx(0.0)


# ------------------------------------------------------------------ idle_reuse


def idle_case(saving: float) -> ModelData:
    """A0 (10 万元/mu, up to 12 mu) may take B0 = P0 (12 mu, vacant) or B1 = P1 (10 mu, an idle
    plant with 6,000 m² of floor area): on B0 it produces 120, on B1 100 plus the saving."""
    nan = float("nan")
    return ModelData(
        zone_ids=("Z1",),
        zone_electricity_cap_mwh=np.array([nan]),
        zone_energy_cap_tce=np.array([nan]),
        zone_intensity_cap_tce_per_wan=np.array([nan]),
        unit_ids=("U1",),
        unit_emission_cap_t=np.full((1, 4), nan),
        plot_ids=("P0", "P1"),
        plot_zone=np.array([0, 0]),
        plot_area_mu=np.array([12.0, 10.0]),
        plot_occupant=np.array([-1, -1]),
        firm_ids=("A0",),
        firm_applicant=np.array([True]),
        firm_zone=np.array([-1]),
        firm_unit=np.array([-1]),
        firm_class=np.array([1]),
        va_mu=np.array([10.0]),
        tax_va=np.zeros(1),
        el=np.zeros(1),
        en=np.zeros(1),
        em=np.zeros((1, 4)),
        o0=np.zeros(1),
        oreq=np.array([120.0]),
        growth_cap=np.ones(1),
        land_min_mu=np.array([10.0]),
        land_max_mu=np.array([12.0]),
        land0_mu=np.zeros(1),
        may_exit=np.zeros(1, bool),
        locked=np.zeros(1, bool),
        locked_parcel=np.full(1, -1),
        parcel_ids=("B0", "B1"),
        parcel_ptr=np.array([0, 1, 2]),
        parcel_plot=np.array([0, 1]),
        parcel_area_mu=np.array([12.0, 10.0]),
        parcel_zone=np.array([0, 0]),
        parcel_unit=np.array([0, 0]),
        cand_firm=np.array([0, 0]),
        cand_parcel=np.array([0, 1]),
        parcel_idle_floor_m2=np.array([0.0, 6000.0]),
        idle_saving_wan_per_m2=saving,
    )


IDLE_ON = ModelParams(switches={"idle_reuse": True})


def parcel_taken(data: ModelData, sol) -> str:
    """The parcel id A0 gets."""
    return data.parcel_ids[int(data.cand_parcel[int(np.flatnonzero(sol.x > 0.5)[0])])]


def test_idle_reuse_project_moves_into_the_idle_plant_when_reuse_is_worth_it():
    # 0.015 万元/m²/yr × 6,000 m² = 90: 100 + 90 = 190 on the idle plant > 120 on vacant land
    data = idle_case(0.015)
    _, sol = solve(data, IDLE_ON)
    assert sol.objective == pytest.approx(190.0)
    assert parcel_taken(data, sol) == "B1"
    # switched off, the idle plant is vacant land only: the larger vacant parcel wins
    _, off = solve(data, ModelParams())
    assert off.objective == pytest.approx(120.0)
    assert parcel_taken(data, off) == "B0"


def test_idle_reuse_not_worth_it_keeps_the_better_land():
    # 0.001 × 6,000 = 6: 106 < 120
    data = idle_case(0.001)
    _, sol = solve(data, IDLE_ON)
    assert sol.objective == pytest.approx(120.0)
    assert parcel_taken(data, sol) == "B0"
