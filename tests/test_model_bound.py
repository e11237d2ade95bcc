"""Valid bounds from any multipliers (:mod:`models.solver.bound`), checked against brute force.

On tiny random cases the bound of *any* row multipliers is at least the
brute-forced optimum (the MIP) and the LP optimum, the LP's own duals give the
LP optimum back, and multipliers 0 give the box bound. The Lagrangian search
(the bound used above ``CG_MIN_PAIRS`` pairs) stays valid on the tiny cases and
comes within half a percent of the LP bound on a province case.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from test_model_bruteforce import brute_force

from models import synthetic
from models.allocation import CAP_FAMILIES, build
from models.data import ModelParams
from models.solver.bound import dual_bound, lagrangian_relaxation
from models.solver.highs_api import highspy
from models.solver.problem import model_lp, sense_of

P = ModelParams()


def _lp_optimum(lp) -> tuple[float, np.ndarray]:
    """Solve the continuous relaxation of ``lp`` (min form): ``(optimum, row duals)``."""
    integ = lp.integrality_
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    lp.integrality_ = integ
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h.getInfo().objective_function_value, np.asarray(h.getSolution().row_dual)


def _box(lp) -> float:
    """The box bound of ``lp`` (min form): each column at its cheaper bound."""
    c = np.asarray(lp.col_cost_)
    at = np.where(c > 0, np.asarray(lp.col_lower_), np.asarray(lp.col_upper_))
    return float(np.sum(np.where(c == 0, 0.0, c * at))) + lp.offset_


def _tiny_cases():
    """Tiny random cases with a plan (brute-forced optimum), 3–5 firms."""
    out = []
    for seed in range(40):
        d = synthetic.tiny(seed, 3 + seed % 3, 4 + seed % 4)
        best, _ = brute_force(d, P)
        if best is not None:
            out.append((seed, d, best))
        if len(out) == 10:
            break
    return out


CASES = _tiny_cases()


@pytest.mark.parametrize(("seed", "data", "best"), CASES, ids=[str(c[0]) for c in CASES])
def test_any_multipliers_bound_the_brute_forced_optimum(seed, data, best):
    built = build(data, P)
    lp, _, _, _ = model_lp(built, CAP_FAMILIES)
    sense = sense_of(built)
    lp_opt, duals = _lp_optimum(lp)
    rng = np.random.default_rng(seed)
    finite = 0
    for size in (0.01, 0.3, 1.0, 10.0):
        for _ in range(10):
            y = rng.normal(0.0, size, lp.num_row_) * (rng.random(lp.num_row_) < 0.7)
            bound = sense * dual_bound(lp, y)  # MODEL.md sense: an upper bound
            assert bound >= best - 1e-7 * max(1.0, abs(best))
            assert bound >= sense * lp_opt - 1e-7 * max(1.0, abs(lp_opt))
            finite += np.isfinite(bound)
        # near the LP's own duals: a bound close to the LP optimum, still valid
        y = duals + rng.normal(0.0, size * 1e-3, lp.num_row_)
        assert sense * dual_bound(lp, y) >= best - 1e-7 * max(1.0, abs(best))
    assert finite == 40  # every column is bounded: every bound is a number


@pytest.mark.parametrize(("seed", "data", "best"), CASES, ids=[str(c[0]) for c in CASES])
def test_the_lp_duals_give_the_lp_optimum_and_zero_the_box_bound(seed, data, best):
    built = build(data, P)
    lp, _, _, _ = model_lp(built, CAP_FAMILIES)
    lp_opt, duals = _lp_optimum(lp)
    assert dual_bound(lp, duals) == pytest.approx(lp_opt, rel=1e-7, abs=1e-6)
    assert dual_bound(lp, np.zeros(lp.num_row_)) == pytest.approx(_box(lp), rel=1e-8)


@pytest.mark.parametrize(("seed", "data", "best"), CASES, ids=[str(c[0]) for c in CASES])
def test_the_lagrangian_bound_lies_between_the_lp_optimum_and_the_box_bound(seed, data, best):
    built = build(data, P)
    lp, _, _, _ = model_lp(built, CAP_FAMILIES)
    sense = sense_of(built)
    lp_opt, _ = _lp_optimum(lp)
    out = lagrangian_relaxation(built, lp, best, time.perf_counter() + 30, rel_gap=1e-6)
    assert out is not None
    x, y, bound = out
    tol = 1e-7 * max(1.0, abs(best))
    assert bound >= best - tol
    assert bound >= sense * lp_opt - tol
    assert bound <= sense * _box(lp) + tol
    assert len(x) == data.n_candidates
    assert len(y) == data.n_firms


def test_the_lagrangian_bound_is_close_to_the_lp_bound_on_a_province_case():
    built = build(synthetic.province(0.3, seed=1), P)
    lp, _, _, _ = model_lp(built, CAP_FAMILIES)
    sense = sense_of(built)
    lp_bound = sense * _lp_optimum(lp)[0]
    # a plan 1 % below the LP bound as the target (a greedy plan is about that far)
    out = lagrangian_relaxation(built, lp, 0.99 * lp_bound, time.perf_counter() + 60, rel_gap=1e-3)
    assert out is not None
    x, y, bound = out
    assert lp_bound <= bound <= 1.005 * lp_bound
    # the averaged subproblem solutions are relaxation values: within the variables' bounds
    assert ((x >= -1e-9) & (x <= 1 + 1e-9)).all()
    assert ((y >= -1e-9) & (y <= 1 + 1e-9)).all()


def test_the_lagrangian_path_end_to_end_reaches_the_optimum(monkeypatch):
    """Above CG_MIN_PAIRS (here: always) a greedy plan, the Lagrangian bound, rounding, HiGHS."""  # noqa: E501
    from models.solver import Status, run
    from models.solver import start as ms

    monkeypatch.setattr(ms, "CG_MIN_PAIRS", 0)
    monkeypatch.setattr(ms, "GREEDY_MIN_PAIRS", 0)
    monkeypatch.setattr(ms, "IPM_MAX_PAIRS", -1)  # the Lagrangian, not the interior point first
    calls = []
    monkeypatch.setattr(
        ms,
        "lagrangian_relaxation",
        lambda *a, **k: calls.append(1) or lagrangian_relaxation(*a, **k),
    )
    d = synthetic.province(0.03, seed=12)
    events: list[dict] = []
    sol = run(build(d, P), rel_gap=1e-6, time_limit_s=20, progress=events.append)
    ref = run(build(d, P), rel_gap=1e-6, time_limit_s=20, heuristic=False)
    assert calls
    # the greedy plan is reported before the relaxation, against the box bound; then the
    # rounded plan against the Lagrangian bound (a time to first plan a reader can trust)
    assert len(events) >= 2
    first, second = events[0], events[1]
    assert np.isfinite(first["objective"])
    assert np.isfinite(first["gap"])
    assert first["bound"] > second["bound"] >= sol.best_bound - 1e-9 * abs(sol.best_bound)
    assert first["time_s"] <= second["time_s"]
    assert sol.status == ref.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(ref.objective, rel=2e-6)


@pytest.mark.parametrize(("seed", "data", "best"), CASES, ids=[str(c[0]) for c in CASES])
def test_the_aggregated_relaxation_bound_is_the_whole_models_lagrangian(seed, data, best):
    """The interior-point relaxation's bound is ``dual_bound`` of the whole model at its duals.

    So it bounds the LP (and the brute-forced optimum) whether or not dropping the
    smaller pairs of a (firm, zone, unit) group is a relaxation (rows that count land).
    """
    from models.solver.start import _aggregated_relaxation

    built = build(data, P)
    lp, _, _, _ = model_lp(built, CAP_FAMILIES)
    sense = sense_of(built)
    lp_opt, _ = _lp_optimum(lp)
    out = _aggregated_relaxation(built, 1, 0, 30.0, lp=lp)
    assert out is not None
    _, _, bound = out
    tol = 1e-7 * max(1.0, abs(best))
    assert bound >= best - tol
    assert bound >= sense * lp_opt - tol
    assert bound <= sense * _box(lp) + tol
