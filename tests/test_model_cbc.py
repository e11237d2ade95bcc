"""CBC (the fallback solver): hard time limit, LP-rounding start, honest status and gap.

CBC checks its own ``-sec`` limit only at some points (not in its root LP), so
``models.solver`` runs the binary under a wall-clock guard; these tests check
that the guard holds, that a stopped run falls back to the start it was given
(``feasible``, gap against the LP-relaxation bound) or says
``time_limit_no_solution``, and that the brute-force known answers still hold
with CBC, with and without the start.
"""

from __future__ import annotations

import os
import re
import time

import numpy as np
import pytest
from test_model_bruteforce import brute_force, hand_case
from test_model_families import SWEEP
from test_model_status import _violations

from models import synthetic
from models.allocation import build
from models.data import SWITCHABLE, ModelParams
from models.solver import Status, run
from models.solver import cbc as ms

# wall-clock slack on top of limit + grace: MPS file, solution file, arrays
OVERHEAD_S = 2.5


def _sharing() -> float:
    """How many runnable processes share each core now (at least 1).

    The guard stops CBC on the wall clock, but writing the MPS file and reading
    the solution are CPU work that takes longer when other processes share the
    cores; the slack for them scales with the sharing, the limit itself never.
    """
    return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def _max_seconds(limit: float) -> float:
    return limit + ms.CBC_GRACE_S + OVERHEAD_S * _sharing()


def _start_objective(sol) -> float | None:
    """The LP-rounding start CBC accepted in this very run (from its note), or None."""
    m = re.search(r"CBC accepted the LP-rounding start \(objective (\S+)\)", sol.message)
    return float(m.group(1)) if m else None


def _consistent(sol, rel_gap: float) -> None:
    """Status, objective, bound and gap agree with each other (maximisation)."""
    assert sol.has_solution, sol.message
    assert sol.best_bound >= sol.objective - 1e-6 * abs(sol.objective)
    gap = (sol.best_bound - sol.objective) / max(abs(sol.objective), 1e-9)
    assert sol.gap == pytest.approx(gap, rel=1e-9, abs=1e-12)
    if sol.status == Status.OPTIMAL:
        assert sol.gap <= rel_gap + 1e-12


@pytest.mark.slow
def test_cbc_overrunning_its_limit_is_stopped_by_the_guard():
    # Province scale without a start: CBC's root LP alone takes longer than 1 s
    # and CBC does not look at -sec during it; the guard stops it.
    built = build(synthetic.province(1.0, seed=3), ModelParams())
    t0 = time.perf_counter()
    sol = run(built, solver="cbc", time_limit_s=1.0, rel_gap=0.0, heuristic=False)
    elapsed = time.perf_counter() - t0
    assert elapsed <= _max_seconds(1.0), sol.message
    assert sol.solver == "cbc"
    assert sol.status in (Status.TIME_LIMIT_NO_SOLUTION, Status.FEASIBLE), sol.message
    if sol.status == Status.FEASIBLE:  # a machine fast enough to find a plan in 1 s
        _consistent(sol, 0.0)
    else:
        assert sol.objective is None


def test_guard_interrupts_cbc_at_the_wall_clock_limit(tmp_path):
    built = build(synthetic.province(0.3, seed=3), ModelParams())
    t0 = time.perf_counter()
    res = ms._cbc_process(
        built.prob,
        start=False,
        sec=600.0,  # CBC's own limit far away: only the guard can stop it
        wall_s=1.0,
        rel_gap=0.0,
        threads=1,
        seed=0,
        log_file=str(tmp_path / "cbc.log"),
    )
    elapsed = time.perf_counter() - t0
    assert res.ended in ("interrupted", "killed")
    assert elapsed <= 1.0 + ms.CBC_GRACE_S + OVERHEAD_S
    assert "CBC" in res.log or "Cbc" in res.log


@pytest.mark.slow
@pytest.mark.parametrize(("scale", "limit"), [(0.3, 3.0), (0.1, 4.0)])
def test_cbc_stopped_on_time_keeps_start_and_honest_gap(scale, limit):
    # rel_gap 0: CBC cannot prove optimality in a few seconds on these cases
    # The start heuristic has a time budget, so a start computed separately can
    # differ from the run's own under load: the run is compared with the start
    # it reports, and with the LP bound (which does not depend on time).
    d = synthetic.province(scale, seed=3)
    start = ms._cbc_start(build(d, ModelParams()), 60.0, 0.0, 1, 0)
    assert start is not None
    built = build(d, ModelParams())
    t0 = time.perf_counter()
    sol = run(built, solver="cbc", time_limit_s=limit, rel_gap=0.0)
    elapsed = time.perf_counter() - t0
    assert elapsed <= _max_seconds(limit), sol.message
    assert sol.status == Status.FEASIBLE, sol.message
    _consistent(sol, 0.0)
    assert sol.gap > 0
    own = _start_objective(sol)
    if own is not None:
        assert sol.objective >= own * (1 - 1e-5)  # the note prints 6 digits
    assert sol.best_bound <= start[1] * (1 + 1e-7)  # never looser than the LP bound
    assert _violations(built) == []
    assert sol.y.shape == (d.n_firms,)


@pytest.mark.slow
def test_cbc_accepts_the_start_and_never_loses_it():
    # CBC must reach its MIP start before the limit, and the start heuristic has
    # a time budget: both grow with the sharing of the cores (the property
    # tested is that CBC gets and keeps the start HiGHS computes, not speed).
    limit = 4.0 * _sharing()
    d = synthetic.province(0.1, seed=3)
    start = ms._cbc_start(build(d, ModelParams()), limit, 1e-6, 1, 0)
    assert start is not None
    built = build(d, ModelParams())
    sol = run(built, solver="cbc", time_limit_s=limit, rel_gap=1e-6)
    own = _start_objective(sol)
    assert own is not None, sol.message
    # CBC solves the negated problem: the start is its incumbent of cost -objective
    cost = float(re.search(r"MIPStart provided solution with cost\s*(\S+)", sol.log).group(1))
    assert cost == pytest.approx(-start[0], rel=1e-5)
    _consistent(sol, 1e-6)
    assert sol.objective >= own * (1 - 1e-5)
    assert _violations(built) == []


def test_start_within_gap_needs_no_cbc():
    d = synthetic.province(0.05, seed=7)
    seen = []
    sol = run(
        build(d, ModelParams()),
        solver="cbc",
        time_limit_s=20,
        rel_gap=5e-2,
        progress=seen.append,
    )
    assert sol.status == Status.OPTIMAL
    assert "CBC not needed" in sol.message
    assert "CBC not needed" in sol.log  # the run folder's solver.log says why
    _consistent(sol, 5e-2)
    assert len(seen) == 1
    assert seen[0]["objective"] == pytest.approx(sol.objective, rel=1e-9)
    assert set(seen[0]) == {"time_s", "objective", "bound", "gap"}


def _no_cbc_answer(*args, **kwargs):
    return ms._CbcRun(ended="killed", log="simulated: CBC killed in its root LP", seconds=9.0)


def test_killed_cbc_falls_back_to_the_start(monkeypatch):
    d = synthetic.province(0.05, seed=5)
    start = ms._cbc_start(build(d, ModelParams()), 20.0, 0.0, 1, 0)
    monkeypatch.setattr(ms, "_cbc_process", _no_cbc_answer)
    built = build(d, ModelParams())
    sol = run(built, solver="cbc", time_limit_s=20, rel_gap=0.0)
    assert sol.status == Status.FEASIBLE, sol.message
    assert "solution from LP rounding" in sol.message
    assert "killed" in sol.message
    assert sol.objective == pytest.approx(start[0], rel=1e-9)
    assert sol.best_bound == pytest.approx(start[1], rel=1e-12)
    _consistent(sol, 0.0)
    assert _violations(built) == []


def test_killed_cbc_without_start_has_no_solution(monkeypatch):
    monkeypatch.setattr(ms, "_cbc_process", _no_cbc_answer)
    built = build(synthetic.province(0.05, seed=5), ModelParams())
    sol = run(built, solver="cbc", time_limit_s=20, rel_gap=0.0, heuristic=False)
    assert sol.status == Status.TIME_LIMIT_NO_SOLUTION
    assert sol.objective is None
    assert not sol.has_solution


def test_crashing_cbc_with_start_still_returns_the_start(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("simulated CBC crash")

    monkeypatch.setattr(ms, "_cbc_process", boom)
    built = build(synthetic.province(0.05, seed=5), ModelParams())
    sol = run(built, solver="cbc", time_limit_s=20, rel_gap=0.0)
    assert sol.status == Status.FEASIBLE
    assert "simulated CBC crash" in sol.message
    cold = run(built, solver="cbc", time_limit_s=20, rel_gap=0.0, heuristic=False)
    assert cold.status == Status.ERROR


@pytest.mark.parametrize("heuristic", [True, False])
@pytest.mark.parametrize(("seed", "n_firms", "n_plots", "switches"), SWEEP)
def test_known_answer_sweep_with_cbc(seed, n_firms, n_plots, switches, heuristic):
    d = synthetic.tiny(100 + seed, n_firms, n_plots, cap_factor=0.6, max_cands=7)
    p = ModelParams(
        switches={n: switches == "all" for n in SWITCHABLE},
        class_floor=(0.5, 0.0, 0.0, 0.0),
        class_cap=(np.inf, np.inf, np.inf, 0.9),
        service_floor=0.2,
        relocation_cost_wan_per_mu=1.0,
    )
    sol = run(build(d, p), solver="cbc", time_limit_s=30, rel_gap=1e-9, heuristic=heuristic)
    expected, _ = brute_force(d, p)
    if expected is None:
        assert sol.status == Status.INFEASIBLE
    else:
        assert sol.status == Status.OPTIMAL, sol.message
        assert sol.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
        _consistent(sol, 1e-9)


@pytest.mark.parametrize("heuristic", [True, False])
@pytest.mark.parametrize(("reloc", "answer"), [(0.0, 620.0), (8.0, 570.0)])
def test_hand_answers_with_cbc(heuristic, reloc, answer):
    p = ModelParams(alpha_tax=0.0, relocation_cost_wan_per_mu=reloc)
    sol = run(build(hand_case(), p), solver="cbc", heuristic=heuristic)
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(answer)


def test_start_note_reads_the_log():
    # CBC solves the negated problem (sign -1): its cost -5 is objective 5
    assert ms._cbc_start_note("Cbc0045I MIPStart provided solution with cost -5", -1.0) == (
        "CBC accepted the LP-rounding start (objective 5)"
    )
    root = "opening mipstart file m.mst.\nMIPStart values read for 9 variables.\n"
    assert "did not finish its root LP" in ms._cbc_start_note(root, -1.0)
    done = root + "Continuous objective value is 3 - 0.1 seconds\n"
    assert ms._cbc_start_note(done, -1.0) == "CBC did not use the LP-rounding start"
    assert "before it read" in ms._cbc_start_note("", -1.0)
