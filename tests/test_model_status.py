"""Exact statuses, fallback, determinism, progress and problem files."""

from __future__ import annotations

import dataclasses

import highspy
import numpy as np
import pytest
from test_model_bruteforce import hand_case

from models import synthetic
from models.allocation import build
from models.data import SWITCHABLE, ModelParams
from models.solver import Status, run, write_problem

OFF = {n: False for n in SWITCHABLE}


def _infeasible():
    # E0 must keep ≥ 100 万元 at 1 tce/万元 but the zone has 50 tce
    d = hand_case(energy_cap=50.0)
    return build(
        d,
        ModelParams(
            service_floor=1.0, switches={**OFF, "zone_energy": True, "service_floor": True}
        ),
    )


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_infeasible_is_a_status(solver):
    sol = run(_infeasible(), solver=solver)
    assert sol.status == Status.INFEASIBLE
    assert sol.status == "infeasible"
    assert sol.objective is None
    assert not sol.has_solution


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_optimal_agrees_between_solvers(solver):
    d = synthetic.tiny(21, 6, 8, cap_factor=0.6)
    built = build(d, ModelParams())
    sol = run(built, solver=solver, rel_gap=1e-9)
    ref = run(built, solver="highs", rel_gap=1e-9)
    assert sol.status == Status.OPTIMAL
    assert sol.solver == solver
    assert sol.objective == pytest.approx(ref.objective, rel=1e-6)
    assert sol.best_bound == pytest.approx(sol.objective, rel=1e-6)


@pytest.fixture(scope="module")
def hard():
    return build(synthetic.province(0.5, seed=3), ModelParams())


@pytest.mark.slow
@pytest.mark.parametrize(("solver", "limit"), [("highs", 2.0), ("cbc", 3.0)])
def test_time_limit_is_never_optimal(hard, solver, limit):
    sol = run(hard, solver=solver, time_limit_s=limit, rel_gap=0.0)
    assert sol.status in (Status.FEASIBLE, Status.TIME_LIMIT_NO_SOLUTION), sol.message
    if sol.status == Status.FEASIBLE:
        assert sol.gap is not None
        assert sol.gap > 0
        assert sol.best_bound >= sol.objective - 1e-6 * abs(sol.objective)
        assert sol.y.shape == (hard.data.n_firms,)
    else:
        assert sol.objective is None


def test_unknown_solver_is_error_status():
    sol = run(build(hand_case(), ModelParams()), solver="gurobi")
    assert sol.status == Status.ERROR
    assert "gurobi" in sol.message


def test_highs_failure_falls_back_to_cbc():
    # an option HiGHS rejects fails the HiGHS run
    sol = run(build(hand_case(), ModelParams(alpha_tax=0.0)), options={"no_such_option": 1})
    assert sol.status == Status.OPTIMAL
    assert sol.solver == "cbc"
    assert sol.fallback_from == "highs"
    assert "HiGHS rejected the option no_such_option=1" in sol.message
    assert sol.objective == pytest.approx(620.0)


@pytest.mark.parametrize(
    ("highs_spends_s", "expected_cbc_s"), [(0.0, 10.0), (6.0, 4.0), (9.8, 1.0)]
)
def test_cbc_fallback_gets_the_time_highs_left(monkeypatch, highs_spends_s, expected_cbc_s):
    """A fallback run ends within 1.1 x the limit: CBC gets what HiGHS left, >= 10 %."""
    from models.solver import dispatch as ms
    from models.solver.solution import ModelSolution

    clock = {"now": 100.0}
    monkeypatch.setattr(ms.time, "perf_counter", lambda: clock["now"])

    def slow_crash(*args, **kwargs):
        clock["now"] += highs_spends_s
        raise RuntimeError("simulated HiGHS crash")

    given = {}

    def spy(built, time_limit_s, *args, **kwargs):
        given["limit"] = time_limit_s
        return ModelSolution(Status.ERROR, None, None, None, 0.0, 0.0, {}, "cbc", "", "not run")

    monkeypatch.setattr(ms, "_run_highs", slow_crash)
    monkeypatch.setattr(ms, "_run_cbc", spy)
    sol = run(build(hand_case(), ModelParams(alpha_tax=0.0)), time_limit_s=10.0)
    assert sol.fallback_from == "highs"
    assert given["limit"] == pytest.approx(expected_cbc_s)


def test_deterministic_and_progress():
    d = synthetic.province(0.06, seed=5)
    seen = []
    a = run(build(d, ModelParams()), time_limit_s=20, rel_gap=1e-6, progress=seen.append)
    b = run(build(d, ModelParams()), time_limit_s=20, rel_gap=1e-6)
    assert a.status == b.status == Status.OPTIMAL
    assert a.objective == b.objective
    assert np.array_equal(a.x, b.x)
    assert np.array_equal(a.y, b.y)
    assert seen
    assert set(seen[-1]) == {"time_s", "objective", "bound", "gap"}


def test_solution_arrays_are_consistent():
    d = synthetic.tiny(22, 6, 8, n_applicants=3, cap_factor=0.5, max_cands=9)
    built = build(d, ModelParams())
    sol = run(built)
    assert sol.x.shape == (d.n_candidates,)
    assert sol.o.shape == (d.n_firms,)
    for f in np.flatnonzero(d.firm_applicant):
        assert sol.x[d.cand_firm == f].sum() == sol.y[f]
    tot = np.zeros(d.n_firms)
    np.add.at(tot, sol.zone_firm, sol.zone_output)
    served = sol.y > 0.5
    assert np.allclose(tot[served], sol.o[served], atol=1e-6)
    assert sol.size == built.size
    assert sol.size["binaries"] == d.n_firms + d.n_candidates
    assert sol.build_seconds > 0


@pytest.mark.parametrize("ext", [".lp", ".mps"])
def test_write_problem_round_trip(tmp_path, ext):
    d = dataclasses.replace(hand_case(300.0))
    built = build(d, ModelParams(alpha_tax=0.0, relocation_cost_wan_per_mu=1.0))
    path = write_problem(built, tmp_path / f"model{ext}")
    assert path.stat().st_size > 0
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(path))
    h.run()
    ours = run(built)
    obj = h.getInfo().objective_function_value
    assert h.getLp().sense_ == highspy.ObjSense.kMaximize
    # the objective constant (−Σ ρ L0) may or may not survive the file format
    assert (
        min(abs(obj - ours.objective), abs(obj + built.objective_constant - ours.objective)) < 1e-6
    )


def test_write_problem_rejects_other_extensions(tmp_path):
    with pytest.raises(ValueError, match="lp or .mps"):
        write_problem(build(hand_case(), ModelParams()), tmp_path / "m.txt")


def _violations(built, tol=1e-6):
    bad = []
    for name, con in built.constraints.items():
        lhs = sum((v.varValue or 0.0) * c for v, c in con.items())
        rhs = built.rows[name].rhs
        scale = tol * max(1.0, abs(rhs))
        sense = built.rows[name].sense
        if (sense == "<=" and lhs > rhs + scale) or (sense == ">=" and lhs < rhs - scale):
            bad.append(name)
        if sense == "==" and abs(lhs - rhs) > scale:
            bad.append(name)
    for v in built.prob.variables():
        val = v.varValue or 0.0
        if v.lowBound is not None and val < v.lowBound - tol:
            bad.append(v.name)
        if v.upBound is not None and val > v.upBound + tol:
            bad.append(v.name)
    return bad


@pytest.mark.parametrize("heuristic", [True, False])
def test_lp_rounding_start_is_feasible_and_bounded(heuristic):
    d = synthetic.province(0.05, seed=7)
    built = build(d, ModelParams())
    sol = run(built, rel_gap=5e-3, time_limit_s=30, heuristic=heuristic)
    assert sol.status == Status.OPTIMAL
    assert sol.gap <= 5e-3
    assert sol.best_bound >= sol.objective - 1e-6 * abs(sol.objective)
    assert _violations(built) == []
    ref = run(build(d, ModelParams()), rel_gap=1e-4, time_limit_s=20)
    assert ref.objective <= sol.best_bound * (1 + 1e-9)
    assert sol.objective >= ref.objective * (1 - 5e-3)


def test_column_generation_reaches_the_full_lp_bound(monkeypatch):
    from models.allocation import CAP_FAMILIES
    from models.solver import start as ms
    from models.solver.problem import _to_highs_lp

    d = synthetic.province(0.03, seed=11)
    built = build(d, ModelParams())
    scaled = {i.solver_name for i in built.rows.values() if i.family in CAP_FAMILIES}
    lp, _, _, _ = _to_highs_lp(built.prob, scaled)
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_
    full = ms._lp_relaxation(built, lp, 1, 0, 1e18)
    monkeypatch.setattr(ms, "CG_MIN_PAIRS", 0)
    priced = ms._lp_relaxation(built, lp, 1, 0, 1e18)
    assert priced[1] == pytest.approx(full[1], rel=1e-9)


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_aggregated_bound_is_valid(seed):
    from test_model_bruteforce import brute_force

    from models.solver import start as ms

    d = synthetic.tiny(seed, 6, 8, n_applicants=3, k=3, max_cands=9, cap_factor=0.6)
    p = ModelParams()
    best, _ = brute_force(d, p)
    agg = ms._aggregated_relaxation(build(d, p), 1, 0, 10.0)
    assert agg is not None
    assert agg[2] >= best - 1e-6 * max(1.0, abs(best))


def test_aggregated_path_end_to_end(monkeypatch):
    from models.solver import start as ms

    monkeypatch.setattr(ms, "CG_MIN_PAIRS", 0)
    d = synthetic.province(0.03, seed=12)
    sol = run(build(d, ModelParams()), rel_gap=1e-6, time_limit_s=20)
    ref = run(build(d, ModelParams()), rel_gap=1e-6, time_limit_s=20, heuristic=False)
    assert sol.status == ref.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(ref.objective, rel=2e-6)


def test_log_path_is_written_and_returned(tmp_path):
    log = tmp_path / "solver.log"
    sol = run(build(hand_case(), ModelParams()), log_path=log, heuristic=False)
    assert log.exists()
    assert "HiGHS" in sol.log


def test_rounding_with_output_floors_is_repaired_into_a_start(monkeypatch):
    """With class floors, rounding admits more projects than the caps carry; the repair
    drops the ones the LP does not admit fully, so HiGHS still gets a feasible start."""
    from models.solver import start as ms

    built = build(synthetic.province(0.06, seed=3), ModelParams(class_floor=(0.5,) * 4))
    repaired = []
    orig = ms._repair_admissions

    def spy(*args, **kwargs):
        h = orig(*args, **kwargs)
        repaired.append(h is not None)
        return h

    monkeypatch.setattr(ms, "_repair_admissions", spy)
    sol = run(built, time_limit_s=20, rel_gap=2e-3)
    assert any(repaired)
    assert sol.status == Status.OPTIMAL
    d = built.data
    app = np.asarray(d.firm_applicant, bool)
    y = np.array([v.value() for v in built.y]) > 0.5
    o = np.array([v.value() for v in built.o])
    need = 0.5 * np.asarray(d.oreq)
    assert (o[app & y] >= need[app & y] - 1e-6 * (1 + need[app & y])).all()
