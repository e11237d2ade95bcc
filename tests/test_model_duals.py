"""Marginal values from the LP with the integers fixed, against duals worked out by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_model_bruteforce import hand_case

from models.allocation import build
from models.data import SWITCHABLE, ModelParams
from models.solver import marginals, run

OFF = {n: False for n in SWITCHABLE}


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_energy_cap_dual_by_hand(solver):
    # 300 tce: E1 leaves, A0 takes B1 (500 万元 at 0.5 tce), E0 gets the other 50 tce.
    # One more tce goes to E0 (1 万元 per tce): the marginal value is 1 万元/tce.
    built = build(hand_case(300.0), ModelParams(alpha_tax=0.0))
    sol = run(built, solver=solver, duals=True)
    assert sol.objective == pytest.approx(550.0)
    assert sol.duals["zone_energy[Z1]"] == pytest.approx(1.0, abs=1e-7)
    table = marginals(built, sol)
    row = table.set_index("row").loc["zone_energy[Z1]"]
    assert row["unit"] == "万元/tce"
    assert bool(row["binding"])
    assert row["zone_id"] == "Z1"


def test_floor_dual_is_negative_and_cap_dual_doubles():
    # A class floor keeps E0 at ≥ 108 万元 (0.9 × 120): A0 (class A, 2 万元/tce) gets
    # the remaining 192 tce → 384 万元. One more tce → +2 万元; one more 万元 of floor
    # → E0 +1, A0 −2 → −1 万元.
    d = dataclasses.replace(hand_case(300.0), firm_class=np.array([1, 3, 0]))
    p = ModelParams(
        alpha_tax=0.0,
        class_floor=(0.0, 0.9, 0.0, 0.0),
        switches={**OFF, "zone_energy": True, "class_floor": True},
    )
    built = build(d, p)
    sol = run(built, duals=True)
    assert sol.objective == pytest.approx(108.0 + 384.0)
    assert sol.duals["zone_energy[Z1]"] == pytest.approx(2.0, abs=1e-7)
    assert sol.duals["class_floor[E0]"] == pytest.approx(-1.0, abs=1e-7)


def test_slack_cap_has_zero_dual():
    built = build(hand_case(10_000.0), ModelParams(alpha_tax=0.0))
    sol = run(built, duals=True)
    assert sol.duals["zone_energy[Z1]"] == pytest.approx(0.0, abs=1e-9)
    assert not bool(marginals(built, sol).set_index("row").loc["zone_energy[Z1]", "binding"])
