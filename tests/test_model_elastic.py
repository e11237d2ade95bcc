"""Elastic diagnosis: an over-tight case names the right rows and amounts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_model_bruteforce import hand_case

from models.allocation import ELASTIC_FAMILIES, build
from models.data import SWITCHABLE, ModelParams
from models.solver import Status, relaxations, run

OFF = {n: False for n in SWITCHABLE}


def test_zone_energy_short_by_known_amount():
    # E0 must keep 100 万元 at 1 tce/万元 (service floor) but the zone has 60 tce:
    # the cap is short by 40 tce (relaxing E0's floor instead would cost twice as
    # much: the row's largest coefficient is E1's 2 tce/万元, and E1 may leave).
    d = hand_case(energy_cap=60.0)
    d = dataclasses.replace(d, en=np.array([1.0, 2.0, 0.5]))
    strict = ModelParams(
        alpha_tax=0.0,
        service_floor=1.0,
        switches={**OFF, "zone_energy": True, "service_floor": True},
    )
    assert run(build(d, strict)).status == Status.INFEASIBLE
    elastic = dataclasses.replace(strict, elastic=True)
    built = build(d, elastic)
    assert set(built.slacks) == {
        "zone_energy[Z1]",
        "service_floor[E0]",
        "service_floor[E1]",
    }
    sol = run(built)
    assert sol.status == Status.OPTIMAL
    rel = relaxations(built, sol)
    assert rel["row"].tolist() == ["zone_energy[Z1]"]
    assert rel["amount"].iloc[0] == pytest.approx(40.0)
    assert rel["text"].iloc[0] == "zone_energy[Z1]: short by 40.0 tce"
    assert sol.row_activity["zone_energy[Z1]"] == pytest.approx(100.0)


def test_floor_above_cap_is_relaxed_by_the_difference():
    # E0 (class B): floor 1.0 × oreq 120 but cap 0.8 × o0 100 = 80 → 40 万元 apart
    d = hand_case()
    p = ModelParams(
        alpha_tax=0.0,
        class_floor=(0.0, 1.0, 0.0, 0.0),
        class_cap=(np.inf, 0.8, np.inf, np.inf),
        switches={**OFF, "class_floor": True, "class_cap": True},
        elastic=True,
    )
    built = build(d, p)
    sol = run(built)
    rel = relaxations(built, sol)
    assert set(rel["row"]) <= {"class_floor[E0]", "class_cap[E0]", "class_floor[A0]"}
    e0 = rel[rel["row"].str.endswith("[E0]")]
    assert e0["amount"].sum() == pytest.approx(40.0)


def test_locked_parcel_not_a_candidate():
    d = hand_case()
    d = dataclasses.replace(
        d,
        cand_firm=np.array([2]),
        cand_parcel=np.array([0]),
        locked=np.array([False, False, True]),
        locked_parcel=np.array([-1, -1, 1]),
    )
    p = ModelParams(alpha_tax=0.0, switches=OFF)
    assert run(build(d, p)).status == Status.INFEASIBLE
    built = build(d, dataclasses.replace(p, elastic=True))
    sol = run(built)
    rel = relaxations(built, sol)
    assert rel["row"].tolist() == ["locked[firm=A0,parcel=B1]"]
    assert rel["amount"].iloc[0] == pytest.approx(1.0)
    assert rel["text"].iloc[0] == "locked[firm=A0,parcel=B1]: relaxed by 1.0 firm"


def test_elastic_feasible_case_relaxes_nothing():
    d = hand_case()
    built = build(d, ModelParams(alpha_tax=0.0, elastic=True))
    sol = run(built)
    assert relaxations(built, sol).empty
    assert sol.objective == pytest.approx(620.0)
    assert all(built.rows[n].family in ELASTIC_FAMILIES for n in built.slacks)
