"""The neighbourhood search after the first plan (``models.solver.improve``, ``search="lns"``).

Known answers from the brute force of ``test_model_bruteforce``: on these tiny
cases the start (LP rounding and RINS) stops short of the optimum and the search
reaches it. On the sample case the search's plan passes the independent
invariant checker; a run with the search keeps its wall-clock limit.
"""

from __future__ import annotations

import time

import pytest
from test_model_bruteforce import brute_force

from models import synthetic
from models.allocation import build
from models.data import ModelParams
from models.solver import Status, run

TINY = {"n_firms": 7, "n_plots": 8, "n_zones": 3, "n_applicants": 4, "max_cands": 12}
"""Three zones: a neighbourhood of one or two zones is a part of the problem, not all of it."""


@pytest.mark.parametrize("seed", [2, 13, 24])
def test_the_search_reaches_the_brute_force_optimum_the_start_misses(seed):
    d = synthetic.tiny(seed, **TINY)
    best, _ = brute_force(d, ModelParams())
    assert best is not None
    kw = {"time_limit_s": 60.0, "rel_gap": 1e-9, "work_limit": 5}
    start = run(build(d, ModelParams()), search="none", **kw)
    assert start.status == Status.FEASIBLE
    assert start.objective < best - 1e-6 * abs(best)  # the start alone is short of the optimum
    lns = run(build(d, ModelParams()), search="lns", **kw)
    assert lns.objective == pytest.approx(best, rel=1e-9)
    assert lns.stopped_by == "work_limit"  # no branch and bound after the search
    assert "neighbourhood search: 1 better plans" in lns.message
    assert lns.best_bound >= best - 1e-6 * abs(best)  # the bound stays a valid bound


def test_each_better_plan_is_reported_as_it_is_found():
    d = synthetic.tiny(13, **TINY)
    seen: list[dict[str, float]] = []
    sol = run(
        build(d, ModelParams()),
        time_limit_s=60.0,
        rel_gap=1e-9,
        work_limit=5,
        search="lns",
        progress=seen.append,
    )
    objectives = [e["objective"] for e in seen]
    assert objectives == sorted(objectives)  # each report at least as good as the one before
    assert objectives[-1] == pytest.approx(sol.objective, rel=1e-12)
    assert len(set(objectives)) >= 2  # the start, then the search's better plan
    for e in seen:  # every gap is objective against a valid bound
        assert e["bound"] >= sol.objective - 1e-6 * abs(sol.objective)
        assert e["gap"] == pytest.approx(abs(e["bound"] - e["objective"]) / abs(e["objective"]))


def test_an_unknown_search_is_an_error_not_a_crash():
    d = synthetic.tiny(0)
    sol = run(build(d, ModelParams()), search="tabu")
    assert sol.status == Status.ERROR
    assert "tabu" in sol.message


def test_a_run_with_the_search_keeps_its_wall_clock_limit():
    built = build(synthetic.province(0.5, seed=0), ModelParams())
    limit = 8.0
    t0 = time.perf_counter()
    sol = run(built, time_limit_s=limit, rel_gap=1e-9, search="lns")
    wall = time.perf_counter() - t0
    assert wall <= 1.1 * limit, sol.message
    assert sol.status == Status.FEASIBLE
    assert sol.stopped_by == "time_limit"
    assert "neighbourhood search" in sol.message


def test_the_search_plan_passes_the_invariant_checker(sample_case_path, tmp_path):
    from allocator.invariants import check_result
    from allocator.scenario import load_scenario
    from allocator.solve import load_case_cached, solve

    case = load_case_cached(sample_case_path)
    scen = load_scenario(
        "scenarios/baseline.toml",
        overrides={"case": str(sample_case_path), "solver.search": "lns"},
    )
    result = solve(scen, case=case, out_dir=tmp_path, time_limit_s=60.0, rel_gap=1e-3)
    assert "neighbourhood search" in result.message
    assert "0 better plans" not in result.message  # the plan checked is the search's
    assert result.status in ("optimal", "feasible")
    assert check_result(result, case, scen) == []


def test_branch_and_bound_reports_the_tighter_bound_and_no_infinite_gap():
    seen: list[dict[str, float]] = []
    built = build(synthetic.province(0.1, seed=0), ModelParams())
    sol = run(built, time_limit_s=6.0, rel_gap=1e-9, search="bnb", progress=seen.append)
    assert sol.best_bound is not None
    start_bound = seen[0]["bound"]  # the start's: the relaxation bound
    for e in seen:
        # never HiGHS's looser bound (or none) while the relaxation's is known
        assert e["bound"] <= start_bound * (1 + 1e-12)
        assert e["bound"] >= sol.objective - 1e-6 * abs(sol.objective)  # still valid
        gap = abs(e["bound"] - e["objective"]) / abs(e["objective"])
        assert e["gap"] == pytest.approx(gap)  # finite, the plan's against that bound
