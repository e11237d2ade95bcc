"""A what-if reuses the held model: changed in place, solved from the last plan, same answer.

``solve(scenario, reuse=session)`` keeps the model of the last solve in HiGHS and
changes only what differs (:mod:`models.solver.reuse`). These tests hold it to
the cold solve of the same scenario: the model changed in place is array for
array the cold-built one, the reused run's objective is the cold run's within
the gap (each run's bound holds for the other's plan), the invariant checker
passes, and a change of structure falls back to a cold solve that says why.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_prepare import hand_case, hand_prepare

from allocator import ReuseSession, load_scenario
from allocator.invariants import check_result
from allocator.solve import solve
from models import synthetic
from models.allocation import build
from models.data import ModelParams
from models.solver import ModelSession, run
from models.solver.problem import highs_lp

pytest.importorskip("highspy")

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

MICRO_CHANGES = {
    "cap": {"caps": {"energy_factor": 0.3}},
    "intensity_cap": {"caps": {"zones": {"Z2": {"intensity_tce_per_wan": 0.01}}}},
    "price": {"energy": {"trade_price_wan_per_tce": 50.0, "trade_threshold_tce_per_wan": 0.05}},
    "weight": {"objective": {"class_weight": {"A": 3.0}, "alpha_tax": 0.0}},
    "switch": {"switches": {"zone_energy": False}, "caps": {"electricity_factor": 0.2}},
}


def _agree(warm, cold) -> None:
    """Assert two runs of one scenario agree: both proven within the gap, each bound holds."""
    assert warm.status == "optimal"
    assert cold.status == "optimal"
    gap = max(warm.settings.rel_gap, cold.settings.rel_gap)
    scale = max(abs(warm.objective), abs(cold.objective), 1.0)
    assert abs(warm.objective - cold.objective) <= gap * scale + 1e-6
    assert warm.best_bound >= cold.objective - 1e-9 * scale
    assert cold.best_bound >= warm.objective - 1e-9 * scale


@pytest.mark.parametrize("change", list(MICRO_CHANGES))
def test_micro_whatif_reused_matches_cold(change):
    session = ReuseSession()
    base = solve(hand_prepare().scenario, prepared=hand_prepare(), write=False, reuse=session)
    assert base.reuse == {"reused": False, "reason": "no model held"}
    prep = hand_prepare(MICRO_CHANGES[change])
    warm = solve(prep.scenario, prepared=prep, write=False, reuse=session)
    cold = solve(prep.scenario, prepared=hand_prepare(MICRO_CHANGES[change]), write=False)
    assert warm.reuse["reused"] is True, warm.reuse
    assert warm.reuse["reason"] == ""
    assert cold.reuse == {}
    _agree(warm, cold)
    assert check_result(warm, hand_case(), prep.scenario) == []
    assert warm.summary["reuse"]["reused"] is True


def test_micro_whatif_changes_only_what_differs():
    session = ReuseSession()
    solve(hand_prepare().scenario, prepared=hand_prepare(), write=False, reuse=session)
    prep = hand_prepare(MICRO_CHANGES["switch"])
    warm = solve(prep.scenario, prepared=prep, write=False, reuse=session)
    changed = warm.reuse["changed"]
    # zone_energy switched off: its two rows get bounds ±inf; electricity caps × 0.2: two rows
    assert changed["rows_off"] == 2
    assert changed["row_bounds"] == 2
    assert changed["costs"] == changed["coefficients"] == changed["col_bounds"] == 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"classes": {"floor": {"A": 0.9}}}, "rows the held model lacks (class_floor)"),
        ({"exit": {"classes": ["D"]}}, "other case, eligibility, exit or scoring keys"),
    ],
    ids=["new-rows", "exit-policy"],
)
def test_a_structure_change_is_solved_cold_and_says_why(change, reason):
    session = ReuseSession()
    solve(hand_prepare().scenario, prepared=hand_prepare(), write=False, reuse=session)
    prep = hand_prepare(change)
    warm = solve(prep.scenario, prepared=prep, write=False, reuse=session)
    assert warm.reuse["reused"] is False
    assert warm.reuse["reason"] == reason
    cold = solve(prep.scenario, prepared=hand_prepare(change), write=False)
    _agree(warm, cold)
    # the session now holds the new model: the same scenario again is reused
    again = solve(prep.scenario, prepared=hand_prepare(change), write=False, reuse=session)
    assert again.reuse["reused"] is True
    assert again.reuse["changed"]["row_bounds"] == 0


def _cold_relaxation(built) -> float | None:
    """Return the LP-relaxation optimum of ``built`` (MODEL.md sense) solved from scratch.

    None when the LP has no optimum (infeasible).
    """
    from models.solver.highs_api import _solve_quiet, highspy

    lp = highs_lp(built)[0]
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_
    h = _solve_quiet(lp)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return -float(h.getInfo().objective_function_value)


def _arrays(lp) -> dict[str, np.ndarray]:
    return {
        "row_lower": np.asarray(lp.row_lower_),
        "row_upper": np.asarray(lp.row_upper_),
        "cost": np.asarray(lp.col_cost_),
        "col_lower": np.asarray(lp.col_lower_),
        "col_upper": np.asarray(lp.col_upper_),
        "start": np.asarray(lp.a_matrix_.start_),
        "index": np.asarray(lp.a_matrix_.index_),
        "value": np.asarray(lp.a_matrix_.value_),
        "offset": np.asarray([lp.offset_]),
    }


@pytest.mark.parametrize("seed", range(6))
def test_the_model_changed_in_place_is_the_cold_built_one(seed):
    """Random micro cases: after adopt, every array HiGHS gets equals a cold build's."""
    data = synthetic.tiny(seed, n_firms=6, n_plots=8, n_locked=seed % 2)
    assert np.isfinite(data.zone_energy_cap_tce).all()  # the caps below change row bounds
    rng = np.random.default_rng(seed)
    params = ModelParams(class_floor=(0.2, 0.2, 0.2, 0.2), service_floor=0.3)
    changed_data = replace(
        data,
        zone_energy_cap_tce=np.asarray(data.zone_energy_cap_tce) * rng.uniform(0.5, 1.5),
        unit_emission_cap_t=np.asarray(data.unit_emission_cap_t) * 0.7,
        zone_intensity_cap_tce_per_wan=np.asarray(data.zone_intensity_cap_tce_per_wan) * 0.9,
    )
    changed_params = replace(
        params,
        class_weight=(2.0, 1.0, 0.5, 0.25),
        energy_price_wan_per_tce=rng.uniform(0, 5),
        service_floor=0.2,
        class_floor=(0.3, 0.2, 0.2, 0.2),
    )
    session = ModelSession()
    base = run(build(data, params), time_limit_s=20, session=session)
    assert base.reuse["reused"] is False
    new = build(changed_data, changed_params)
    change, reason = session.adopt(new)
    assert change is not None, reason
    want = _arrays(highs_lp(new)[0])
    got = _arrays(session.lp)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    # the relaxation changed in place (and re-solved from its basis) has the cold LP's optimum
    held = session.relaxation(new, 1, 0, time.perf_counter() + 20)
    cold_lp = _cold_relaxation(new)
    assert (held is None) == (cold_lp is None)  # infeasible alike
    if held is not None:
        assert held[1] == pytest.approx(cold_lp, rel=1e-9, abs=1e-7)
    sol = run(new, time_limit_s=20, session=session)
    cold = run(build(changed_data, changed_params), time_limit_s=20)
    assert sol.reuse["reused"] is True
    assert not new.pulp_made  # adopting, re-solving and reading the plan made no PuLP problem
    assert sol.status == cold.status
    if cold.objective is not None:
        assert sol.objective == pytest.approx(cold.objective, rel=2e-4, abs=1e-6)


@pytest.mark.slow
def test_province_whatif_reused_takes_no_more_work_than_cold_and_agrees():
    """The province scale-1 what-if (every zone's energy cap × 0.85), reused against cold.

    From the held basis HiGHS needed 19,500 simplex iterations on the whole LP against
    9,300 afresh with presolve (25 s against 5 s): the reused what-if took 4.6–25 s
    against 1.6–3.3 s cold. Now the basis gets a quarter of the cold iterations, then
    the LP is solved afresh: the reused relaxation's work is a cold solve's plus at most
    a quarter of the base's (iterations: independent of the machine's load), and the
    answers agree within the gap.
    """
    from models.solver.reuse import HOT_MIN_ITERATIONS, HOT_SHARE

    data = synthetic.province(1.0, seed=0)
    changed = replace(data, zone_energy_cap_tce=np.asarray(data.zone_energy_cap_tce) * 0.85)
    gap = 1e-3
    session = ModelSession()
    run(build(data, ModelParams()), time_limit_s=60, rel_gap=gap, session=session)
    assert session.relax is not None
    base_iterations = session.relax.getInfo().simplex_iteration_count
    warm = run(build(changed, ModelParams()), time_limit_s=60, rel_gap=gap, session=session)
    fresh = ModelSession()  # holds the cold run's relaxation: its iterations
    cold = run(build(changed, ModelParams()), time_limit_s=60, rel_gap=gap, session=fresh)
    assert warm.reuse["reused"] is True
    assert fresh.relax is not None
    cold_iterations = fresh.relax.getInfo().simplex_iteration_count
    # at most the basis's share of the base's iterations on top of a cold solve
    most = cold_iterations + max(HOT_MIN_ITERATIONS, HOT_SHARE * base_iterations)
    assert session.relax_iterations <= most
    assert warm.status == cold.status == "optimal"
    scale = max(abs(warm.objective), abs(cold.objective))
    assert abs(warm.objective - cold.objective) <= gap * scale
    assert warm.best_bound >= cold.objective * (1 - 1e-9)
    assert cold.best_bound >= warm.objective * (1 - 1e-9)


# ----------------------------------------------------------------------------- the sample case

SAMPLE_CHANGES = {
    "cap": {"caps": {"energy_factor": 0.85}},
    "price": {"energy": {"trade_price_wan_per_tce": 0.4}},
    "weight": {"objective": {"class_weight": {"A": 1.5, "D": 0.8}}},
    "switch": {"switches": {"energy_intensity": False, "zone_electricity": False}},
}
APP_GAP = {"solver": {"rel_gap": 0.005, "time_limit_s": 60.0}}


@pytest.fixture(scope="module")
def sample_session():
    base = load_scenario(SCENARIOS / "baseline.toml", APP_GAP)
    session = ReuseSession()
    result = solve(base, write=False, marginals=False, reuse=session)
    assert result.has_solution
    return base, session


@pytest.mark.slow
@pytest.mark.parametrize("change", list(SAMPLE_CHANGES))
def test_sample_whatif_reused_matches_cold(sample_session, change):
    base, session = sample_session
    scenario = base.with_overrides(SAMPLE_CHANGES[change])
    warm = solve(scenario, write=False, reuse=session)
    cold = solve(scenario, write=False)
    assert warm.reuse["reused"] is True, warm.reuse
    _agree(warm, cold)
    from allocator.case.cache import load_case_cached

    assert check_result(warm, load_case_cached(scenario.case_path), scenario) == []
    # marginal values come from the changed model too
    assert len(warm.marginals) == len(cold.marginals)


@pytest.mark.slow
def test_sample_eligibility_change_falls_back_cold(sample_session):
    base, session = sample_session
    scenario = base.with_overrides({"eligibility": {"redline_buffer_m": 200.0}})
    result = solve(scenario, write=False, marginals=False, reuse=session)
    assert result.reuse == {
        "reused": False,
        "reason": "other case, eligibility, exit or scoring keys",
    }
    assert result.has_solution


# ----------------------------------------------------------------------------- the app


@pytest.mark.slow
def test_the_whatif_page_reuses_the_base_model(tmp_path, monkeypatch):
    """The page's background base solve holds the model; Run changes it in place."""
    import json

    from app_helpers import open_page, write_tiny_case

    runs = tmp_path / "runs"
    monkeypatch.setenv("ALLOCATOR_CASE", str(write_tiny_case(tmp_path)))
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(runs))
    at = open_page("whatif")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(runs.glob("*/summary.json")):
        time.sleep(0.2)  # the base, solved in the background when the page opened
    (base,) = [json.loads(p.read_text()) for p in runs.glob("*/summary.json")]
    assert base["reuse"] == {"reused": False, "reason": "no model held"}
    at.slider(key="sc:baseline:caps.zones.Z01.energy_factor").set_value(60.0)
    at.button(key="whatif_run").click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    summaries = [json.loads(p.read_text()) for p in runs.glob("*/summary.json")]
    (whatif,) = [s for s in summaries if s["scenario_name"] != base["scenario_name"]]
    assert whatif["reuse"]["reused"] is True
    assert whatif["reuse"]["changed"]["row_bounds"] >= 1
