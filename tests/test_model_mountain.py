"""Known answers for the 山区26县 reserves (``mountain_land``, ``mountain_energy``).

The micro case: zone Z1 is in an ordinary county, Z2 in a 26县 county. Open
land: P3 and P4 (Z1, 20 mu each) and P5 (Z2, 10 mu). A1 (ordinary, 200 万元)
may take P3, A5 (ordinary, 200 万元) and A2 (partnered with a 26县 county, 100
万元) compete for P4, and A4 (ordinary, 80 万元) may take P5, which makes it a
26县 project by where it is. E1 (Z1) and E2 (Z2) stay at 100 万元. Every firm
uses 1 tce per 万元; tax is 0.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_model_bruteforce import all_plans

from models.allocation import build
from models.data import ModelData, ModelParams
from models.solver import Status, run

NAN = float("nan")


def micro(reserve_mu: float = NAN, reserve_tce: float = NAN, quota_tce: float = NAN) -> ModelData:
    """The module docstring's case with the given reserves."""
    return ModelData(
        zone_ids=("Z1", "Z2"),
        zone_electricity_cap_mwh=np.array([NAN, NAN]),
        zone_energy_cap_tce=np.array([NAN, NAN]),
        zone_intensity_cap_tce_per_wan=np.array([NAN, NAN]),
        unit_ids=("U1",),
        unit_emission_cap_t=np.full((1, 4), NAN),
        plot_ids=("P1", "P2", "P3", "P4", "P5"),
        plot_zone=np.array([0, 1, 0, 0, 1]),
        plot_area_mu=np.array([10.0, 10.0, 20.0, 20.0, 10.0]),
        plot_occupant=np.array([0, 1, -1, -1, -1]),
        firm_ids=("E1", "E2", "A1", "A5", "A2", "A4"),
        firm_applicant=np.array([False, False, True, True, True, True]),
        firm_zone=np.array([0, 1, -1, -1, -1, -1]),
        firm_unit=np.array([0, 0, -1, -1, -1, -1]),
        firm_class=np.ones(6, dtype=int),
        va_mu=np.array([10.0, 10.0, 10.0, 10.0, 5.0, 8.0]),
        tax_va=np.zeros(6),
        el=np.zeros(6),
        en=np.ones(6),
        em=np.zeros((6, 4)),
        o0=np.array([100.0, 100.0, 0, 0, 0, 0]),
        oreq=np.array([100.0, 100.0, 200.0, 200.0, 100.0, 80.0]),
        growth_cap=np.ones(6),
        land_min_mu=np.array([0, 0, 20.0, 20.0, 20.0, 10.0]),
        land_max_mu=np.array([0, 0, 20.0, 20.0, 20.0, 10.0]),
        land0_mu=np.array([10.0, 10.0, 0, 0, 0, 0]),
        may_exit=np.zeros(6, bool),
        locked=np.zeros(6, bool),
        locked_parcel=np.full(6, -1),
        parcel_ids=("B1", "B3", "B5"),
        parcel_ptr=np.array([0, 1, 2, 3]),
        parcel_plot=np.array([2, 3, 4]),
        parcel_area_mu=np.array([20.0, 20.0, 10.0]),
        parcel_zone=np.array([0, 0, 1]),
        parcel_unit=np.array([0, 0, 0]),
        cand_firm=np.array([2, 3, 4, 5]),
        cand_parcel=np.array([0, 1, 1, 2]),
        firm_mountain=np.array([False, True, False, False, True, False]),
        zone_mountain=np.array([False, True]),
        mountain_reserve_mu=reserve_mu,
        mountain_open_land_mu=50.0,
        mountain_reserve_tce=reserve_tce,
        mountain_energy_tce=quota_tce,
    )


ON = ModelParams(switches={"mountain_land": True, "mountain_energy": True})
OFF = ModelParams(switches={"mountain_land": False, "mountain_energy": False})


def other_land(d: ModelData, parcel: np.ndarray) -> float:
    """Land (mu) the projects that are not 26县 projects take under a brute-force plan."""
    total = 0.0
    for f, b in enumerate(parcel):
        if b >= 0 and not d.firm_mountain[f] and not d.zone_mountain[d.parcel_zone[b]]:
            total += d.parcel_area_mu[b]
    return total


def test_mountain_land_keeps_the_reserve_for_26_county_projects():
    # no reserve: A1 on P3 and A5 on P4 (A2 loses P4): 100 + 100 + 200 + 200 + 80 = 680
    sol = run(build(micro(), ON), time_limit_s=30, rel_gap=1e-9)
    assert sol.objective == pytest.approx(680.0)
    assert sol.y.tolist() == [1, 1, 1, 1, 0, 1]
    # 20 of the 50 open mu reserved: the ordinary projects take at most 30, so one of A1 and
    # A5 gives way and A2 (partnered) takes P4; A4 on P5 is a 26县 project by its zone
    d = micro(reserve_mu=20.0)
    built = build(d, ON)
    sol = run(built, time_limit_s=30, rel_gap=1e-9)
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(580.0)
    assert sol.y[4:].tolist() == [1.0, 1.0]
    assert sol.y[2] + sol.y[3] == 1.0
    assert built.family_rows["mountain_land"] == 1
    best = max(v for v, a in all_plans(d, OFF) if other_land(d, a["parcel"]) <= 30.0 + 1e-9)
    assert best == pytest.approx(580.0)
    # switched off, the reserve does nothing
    off = run(build(d, OFF), time_limit_s=30, rel_gap=1e-9)
    assert off.objective == pytest.approx(680.0)


def test_mountain_land_reserve_above_the_open_land_is_infeasible():
    d = micro(reserve_mu=60.0)  # more than the 50 open mu: even no ordinary project is too many
    sol = run(build(d, ON), time_limit_s=30, rel_gap=1e-9)
    assert sol.status == Status.INFEASIBLE
    sol = run(build(d, dataclasses.replace(ON, elastic=True)), time_limit_s=30, rel_gap=1e-9)
    assert sol.slacks["mountain_land[province]"] == pytest.approx(10.0)


def test_mountain_energy_keeps_energy_for_26_county_firms():
    # quota 1,000 tce, 600 reserved: the ordinary firms (E1, A1, A5, and A4 unless it sits in Z2
    # — it does, so it is a 26县 project) use at most 400 tce. By hand: E1 100 + A1/A5 300 of
    # their 400, A2 cannot have P4 with A5 there... the LP: ordinary output 400, 26县 output
    # E2 100 + A4 80 + (A2 100 when A5 leaves P4). Best: E1 100, A1 200, A2 on P4 100, A4 80,
    # E2 100, A5 out: ordinary 300 ≤ 400 → 580; or A5 on P4 with ordinary 400 (E1 + A1 +
    # A5 cut to 100): 100 + 200 + 100 + 100 + 80 = 580 too. The optimum is 580.
    d = micro(reserve_tce=600.0, quota_tce=1000.0)
    built = build(d, ON)
    sol = run(built, time_limit_s=30, rel_gap=1e-9)
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(580.0)
    assert built.family_rows["mountain_energy"] == 1
    ordinary = np.array([1, 0, 1, 1, 0, 0], float)  # A4 is in Z2 when served (its only parcel)
    assert float(ordinary @ sol.o) <= 400.0 + 1e-6
    # a smaller reserve (500 tce) leaves 500 for the ordinary firms: everyone but A2, 680
    sol = run(build(micro(reserve_tce=500.0, quota_tce=1000.0), ON), time_limit_s=30)
    assert sol.objective == pytest.approx(680.0)
