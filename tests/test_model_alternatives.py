"""Known answers for the analysis families: objective_floor, distance_to, change_limit.

Every expected value comes from the brute-force enumeration of all feasible
plans (``test_model_bruteforce.all_plans``) and distances and changes counted
here, plot by plot and firm by firm, without ``models.allocation``'s algebra.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_model_bruteforce import all_plans, brute_force

from models import synthetic
from models.allocation import Analysis, PlanRef, build
from models.data import ModelData, ModelParams
from models.solver import Status, run

CASES = [(seed, 5, 7) for seed in range(6)] + [(seed, 4, 6) for seed in range(6, 10)]


def plot_firms(d: ModelData, a: dict) -> list[int]:
    """Firm (index, −1 none) on each plot under brute-force assignment ``a``."""
    out = []
    for p in range(d.n_plots):
        occ = int(d.plot_occupant[p])
        firm = occ if occ >= 0 and a["y"][occ] and not d.firm_applicant[occ] else -1
        for f in range(d.n_firms):
            if a["parcel"][f] >= 0 and p in d.parcel_plots(int(a["parcel"][f])).tolist():
                firm = f
        out.append(firm)
    return out


def distance(d: ModelData, a: dict, b: dict) -> int:
    """Plots whose assigned firm differs between plans ``a`` and ``b``."""
    return sum(u != v for u, v in zip(plot_firms(d, a), plot_firms(d, b), strict=True))


def changes(d: ModelData, a: dict, b: dict) -> int:
    """Plots reassigned plus firms whose outcome (served, parcel) differs."""
    firms = sum(
        (bool(a["y"][f]), int(a["parcel"][f])) != (bool(b["y"][f]), int(b["parcel"][f]))
        for f in range(d.n_firms)
    )
    return distance(d, a, b) + firms


def ref_of(a: dict) -> PlanRef:
    return PlanRef(served=np.asarray(a["y"], bool), parcel=np.asarray(a["parcel"], np.int64))


def plan_of(d: ModelData, sol) -> dict:
    ref = PlanRef.from_solution(d, sol.y, sol.x)
    return {"y": ref.served.astype(int), "parcel": ref.parcel}


def solve(d: ModelData, p: ModelParams, analysis: Analysis):
    return run(build(d, p, analysis=analysis), time_limit_s=30, rel_gap=1e-9)


def test_objective_floor():
    """A floor above the optimum is infeasible; at the optimum the optimum is kept."""
    p = ModelParams()
    for seed, nf, npl in CASES[:4]:
        d = synthetic.tiny(seed, nf, npl)
        best, _ = brute_force(d, p)
        assert best is not None
        built = build(d, p, analysis=Analysis(objective_floor=best + 1.0))
        assert built.family_rows["objective_floor"] == 1
        assert run(built, time_limit_s=30, rel_gap=1e-9).status == Status.INFEASIBLE
        sol = solve(d, p, Analysis(objective_floor=best - 1e-6))
        assert sol.status == Status.OPTIMAL
        assert sol.objective == pytest.approx(best, abs=1e-6)


@pytest.mark.parametrize("within", [0.05, 0.3])
def test_distance_to_max_min_known_answer(within):
    """Plan k+1 is a near-optimal plan farthest (max-min) from plans 1..k: brute force agrees."""
    p = ModelParams()
    nontrivial = 0
    for seed, nf, npl in CASES:
        d = synthetic.tiny(seed, nf, npl)
        plans = list(all_plans(d, p))
        best = max(v for v, _ in plans)
        floor = best - within * abs(best)
        near = [a for v, a in plans if v >= floor - 1e-7]
        chosen = [plan_of(d, run(build(d, p), time_limit_s=30, rel_gap=1e-9))]
        for _ in range(2):
            expected = max(min(distance(d, a, c) for c in chosen) for a in near)
            analysis = Analysis(objective_floor=floor, distance_refs=tuple(map(ref_of, chosen)))
            built = build(d, p, analysis=analysis)
            assert built.family_rows["distance_to"] == len(chosen)
            sol = run(built, time_limit_s=30, rel_gap=1e-9)
            assert sol.status == Status.OPTIMAL
            assert sol.objective == pytest.approx(expected, abs=1e-6)
            new = plan_of(d, sol)
            assert min(distance(d, new, c) for c in chosen) == expected
            assert any(all(np.array_equal(new[k], a[k]) for k in ("y", "parcel")) for a in near)
            nontrivial += expected > 0
            chosen.append(new)
    assert nontrivial >= 5


def test_distance_to_weighted_known_answer():
    """MODEL.md objective + w · (smallest distance), near-optimal plans only: brute force agrees."""
    p = ModelParams()
    for seed, nf, npl in CASES:
        d = synthetic.tiny(seed, nf, npl)
        plans = list(all_plans(d, p))
        best = max(v for v, _ in plans)
        floor = best - 0.2 * abs(best)
        first = plan_of(d, run(build(d, p), time_limit_s=30, rel_gap=1e-9))
        for w in (1.0, 0.05 * abs(best)):
            expected = max(v + w * distance(d, a, first) for v, a in plans if v >= floor - 1e-7)
            analysis = Analysis(
                objective_floor=floor, distance_refs=(ref_of(first),), distance_weight_wan=w
            )
            sol = solve(d, p, analysis)
            assert sol.status == Status.OPTIMAL
            assert sol.objective == pytest.approx(expected, rel=1e-7, abs=1e-6)


def test_change_limit_known_answer():
    """At most N changes against an approved plan: the best such plan, by brute force."""
    p = ModelParams()
    rng = np.random.default_rng(7)
    binding = 0
    for seed, nf, npl in CASES:
        d = synthetic.tiny(seed, nf, npl)
        plans = list(all_plans(d, p))
        approved_value, approved = plans[int(rng.integers(len(plans)))]
        best = max(v for v, _ in plans)
        for n in (0, 1, 2, 4):
            expected = max(v for v, a in plans if changes(d, a, approved) <= n)
            built = build(d, p, analysis=Analysis(approved=ref_of(approved), max_changes=n))
            assert built.family_rows["change_limit"] == 1
            sol = run(built, time_limit_s=30, rel_gap=1e-9)
            assert sol.status == Status.OPTIMAL
            assert sol.objective == pytest.approx(expected, abs=1e-6)
            assert changes(d, plan_of(d, sol), approved) <= n
            if n == 0:
                assert sol.objective == pytest.approx(approved_value, abs=1e-6)
                got = plan_of(d, sol)
                assert got["y"].tolist() == approved["y"].tolist()
                assert got["parcel"].tolist() == approved["parcel"].tolist()
            binding += expected < best - 1e-6
    assert binding >= 5


def test_change_limit_cost_per_change_known_answer():
    """A cost κ per change: max over plans of value − κ · changes, by brute force."""
    p = ModelParams()
    for seed, nf, npl in CASES[:6]:
        d = synthetic.tiny(seed, nf, npl)
        plans = list(all_plans(d, p))
        approved = plans[0][1]
        for kappa in (1.0, 50.0):
            expected = max(v - kappa * changes(d, a, approved) for v, a in plans)
            analysis = Analysis(approved=ref_of(approved), change_cost_wan=kappa)
            sol = solve(d, p, analysis)
            assert sol.status == Status.OPTIMAL
            assert sol.objective == pytest.approx(expected, abs=1e-6)
