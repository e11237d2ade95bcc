"""A deterministic work limit: the same plan however busy the machine is.

A wall-clock limit stops a run wherever the machine let it get to; the work
limit (``solver.work_limit``, HiGHS's ``mip_max_nodes``, also in RENS) stops
it after a fixed amount of search, so the answer does not depend on load. The
neighbourhood search (``search="lns"``) runs a fixed number of node-limited rounds then.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from allocator.errors import ScenarioError
from allocator.scenario import scenario_from_dict
from allocator.settings import SolverSettings
from models import synthetic
from models.allocation import build
from models.data import ModelParams
from models.solver import ModelSolution, run

BUSY_LOOP = "while True: pass"


def _solve(work_limit: int, search: str) -> ModelSolution:
    # a case where the start (RINS under the same node limit) leaves the search better plans
    d = synthetic.province(0.1, seed=0) if search == "auto" else synthetic.province(0.05, seed=2)
    return run(
        build(d, ModelParams()),
        time_limit_s=120.0,
        rel_gap=1e-9,
        work_limit=work_limit,
        search=search,
    )


@pytest.mark.parametrize("search", ["auto", "lns"])
def test_work_limited_run_gives_the_same_plan_under_load(search):
    quiet = _solve(3, search)
    assert quiet.stopped_by == "work_limit", quiet.message  # the limit, not the gap, ended it
    if search == "lns":  # the search ran and found better plans than the start
        assert "neighbourhood search" in quiet.message
        assert "0 better plans" not in quiet.message
    busy = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(2)]
    try:
        loaded = _solve(3, search)
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
    assert loaded.stopped_by == "work_limit"
    assert loaded.message == quiet.message
    assert loaded.objective == quiet.objective
    assert loaded.best_bound == quiet.best_bound
    np.testing.assert_array_equal(loaded.y, quiet.y)
    np.testing.assert_array_equal(loaded.x, quiet.x)
    np.testing.assert_array_equal(loaded.o, quiet.o)


def test_work_limit_is_a_scenario_setting():
    scen = scenario_from_dict({"solver": {"work_limit": 7}})
    settings = SolverSettings.from_scenario(scen)
    assert settings.work_limit == 7
    assert settings.to_dict()["work_limit"] == 7
    assert SolverSettings.from_dict(settings.to_dict()) == settings
    assert SolverSettings.from_scenario(scenario_from_dict({})).work_limit is None
    assert SolverSettings.from_scenario(scenario_from_dict({})).search == "auto"
    lns = SolverSettings.from_scenario(scenario_from_dict({"solver": {"search": "lns"}}))
    assert lns.solver_kwargs()["search"] == "lns"
    with pytest.raises(ScenarioError, match="solver.search"):
        scenario_from_dict({"solver": {"search": "tabu"}})
    none = scenario_from_dict({"solver": {"work_limit": 0}})  # 0: no work limit
    assert SolverSettings.from_scenario(none).work_limit is None
    assert settings.as_scenario_overrides()["solver.work_limit"] == 7
    with pytest.raises(ScenarioError, match="solver.work_limit"):
        scenario_from_dict({"solver": {"work_limit": -1}})
