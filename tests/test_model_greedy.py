"""The primal greedy plan (:mod:`models.solver.greedy`): feasible or None, never above the optimum.

The greedy builds a plan from the model data alone (no LP); at province scale
it is the first plan of a run whose LP relaxation would outlast the limit.
Each plan is checked by the data-level checker of ``test_model_time_limit``
(``plan_violations``: every row family of MODEL.md, independent of the
model's code) and against the brute-force optimum of ``test_model_bruteforce``.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_model_bruteforce import brute_force, hand_case, objective_of
from test_model_status import _violations
from test_model_time_limit import assert_honest, plan_violations

from models import synthetic
from models.allocation import build
from models.data import ModelParams
from models.solver import Status, run
from models.solver.greedy import greedy_plan

TOL = 1e-6


def _check(d, p, plan) -> float:
    """Assert ``plan`` meets every row; return its objective."""
    assert plan_violations(d, p, plan) == []
    assert set(np.unique(plan.y)) <= {0.0, 1.0}
    assert set(np.unique(plan.x)) <= {0.0, 1.0}
    return objective_of(d, p, plan.y, plan.o)


@pytest.mark.parametrize(
    ("energy_cap", "params"),
    [
        (600.0, ModelParams(alpha_tax=0.0)),
        (300.0, ModelParams(alpha_tax=0.0)),
        (600.0, ModelParams(alpha_tax=0.0, relocation_cost_wan_per_mu=8.0)),
        (200.0, ModelParams(alpha_tax=0.0, class_floor=(0.0, 0.5, 0.0, 0.0))),
    ],
)
def test_hand_case_greedy_is_feasible_and_below_the_optimum(energy_cap, params):
    d = hand_case(energy_cap)
    best, _ = brute_force(d, params)
    plan = greedy_plan(build(d, params))
    assert plan is not None
    value = _check(d, params, plan)
    assert value <= best + TOL * max(1.0, abs(best))
    # the applicant is admitted: caps leave room for it in every case above
    assert plan.y[2] == 1.0


def test_hand_case_greedy_fills_the_cap_by_value():
    # 300 tce: A0 (20 万元 per tce... 2 万元 of output per tce) before E0 and E1 (1 per tce);
    # the greedy gives A0 its 400 on B0 (200 tce), then E0 the 100 tce left: 400 + 100
    d = hand_case(300.0)
    p = ModelParams(alpha_tax=0.0)
    plan = greedy_plan(build(d, p))
    assert plan is not None
    assert plan.x.tolist() == [1.0, 0.0]  # B0: B1 holds E1's plot, and E1 stays
    assert plan.o[2] == pytest.approx(400.0, rel=1e-6)
    assert objective_of(d, p, plan.y, plan.o) == pytest.approx(500.0, rel=1e-6)


def test_floor_beyond_the_caps_gives_none():
    # σ = 1: E0 and E1 must keep 100 + 50 tce, the zone has 120. The optimum lets
    # E1 leave; the greedy keeps every firm, gives up, and the run still solves.
    d = hand_case(120.0)
    p = ModelParams(alpha_tax=0.0, service_floor=1.0)
    best, _ = brute_force(d, p)
    assert best is not None
    built = build(d, p)
    assert greedy_plan(built) is None
    sol = run(built, time_limit_s=20, rel_gap=1e-6)
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(best, rel=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_tiny_greedy_is_feasible_and_below_the_brute_force(seed):
    d = synthetic.tiny(seed, 5, 7, n_applicants=3, k=3, max_cands=9, cap_factor=0.6)
    p = ModelParams()
    best, _ = brute_force(d, p)
    plan = greedy_plan(build(d, p))
    if best is None:
        assert plan is None
        return
    if plan is None:
        return
    value = _check(d, p, plan)
    assert value <= best + TOL * max(1.0, abs(best))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_firms=st.integers(2, 6),
    cap_factor=st.floats(0.1, 1.5),
    phi=st.sampled_from([0.0, 0.2, 0.6]),
    sigma=st.sampled_from([0.0, 0.3, 0.9]),
    psi=st.sampled_from([math.inf, 0.8, 1.5]),
    n_locked=st.integers(0, 1),
    intensity=st.sampled_from([0.5, 1.0, 2.0]),
)
def test_random_tiny_cases_are_feasible_or_none(
    seed, n_firms, cap_factor, phi, sigma, psi, n_locked, intensity
):
    """Any small case, floors, class caps and locks included: a plan meeting every row, or None."""
    d = synthetic.tiny(
        seed,
        n_firms,
        8,
        k=3,
        max_cands=10,
        cap_factor=cap_factor,
        n_locked=n_locked,
        intensity_factor=intensity,
    )
    p = ModelParams(class_floor=(phi, phi, 0.0, 0.0), service_floor=sigma, class_cap=(psi,) * 4)
    built = build(d, p)
    plan = greedy_plan(built)
    if plan is None:
        return
    assert plan_violations(d, p, plan) == []
    # the same plan against the built model's own rows
    for v, val in zip(built.y, plan.y, strict=True):
        v.varValue = float(val)
    for v, val in zip(built.x, plan.x, strict=True):
        v.varValue = float(val)
    for v, val in zip(built.o, plan.o, strict=True):
        v.varValue = float(val)
    if len(built.zone_var) or len(built.unit_var):
        return  # split variables of applicants are the solver's to set
    assert _violations(built) == []


def test_run_uses_the_greedy_plan_checked_against_the_rows(monkeypatch):
    """Above GREEDY_MIN_PAIRS the greedy plan comes first; the plan written meets every row."""
    from models.solver import start as ms

    monkeypatch.setattr(ms, "GREEDY_MIN_PAIRS", 0)
    d = synthetic.province(0.05, seed=3)
    p = ModelParams()
    built = build(d, p)
    sol = run(built, time_limit_s=30, rel_gap=1e-3)
    assert sol.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert _violations(built) == []
    plan = greedy_plan(build(d, p))
    assert plan is not None
    assert sol.objective >= objective_of(d, p, plan.y, plan.o) * (1 - 1e-6)


@pytest.mark.slow
def test_scale_10_with_30_s_limit_returns_the_greedy_plan():
    """Scale 10 (463k pairs), 30 s: a plan the checker confirms, a finite gap, on time."""
    d = synthetic.province(10.0, seed=0)
    p = ModelParams()
    built = build(d, p)
    t0 = time.perf_counter()
    plan = greedy_plan(built)
    greedy_s = time.perf_counter() - t0
    assert plan is not None
    assert plan_violations(d, p, plan) == []
    t0 = time.perf_counter()
    sol = run(built, time_limit_s=30.0, rel_gap=1e-3)
    wall = time.perf_counter() - t0
    assert sol.status in (Status.OPTIMAL, Status.FEASIBLE), sol.message
    assert_honest(d, p, sol, wall, 30.0)
    assert sol.objective >= objective_of(d, p, plan.y, plan.o) * (1 - 1e-6)
    assert greedy_s < 15.0
