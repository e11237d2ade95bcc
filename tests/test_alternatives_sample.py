"""Sample case: 5 alternatives within 2 %, pairwise different in ≥ 1 % of plots, in bounded time."""

from __future__ import annotations

import time

import pytest

from allocator.analysis.alternatives import alternatives, plan_distance
from allocator.scenario import load_scenario

pytestmark = pytest.mark.slow

TIME_LIMIT_S = 30.0
"""Per plan; the whole search must end within K × (limit + 30 s for loading and polishing)."""


def test_sample_five_alternatives_within_two_percent(root, sample_case_path):
    t0 = time.perf_counter()
    alt = alternatives(
        load_scenario(root / "scenarios" / "baseline.toml"),
        k=5,
        within=0.02,
        time_limit_s=TIME_LIMIT_S,
    )
    seconds = time.perf_counter() - t0
    assert len(alt.results) == 5
    best = alt.results[0].objective
    n_plots = len(alt.results[0].plots)
    for r in alt.results:
        assert r.objective >= best - 0.02 * abs(best) - 1e-6
    for i in range(5):
        for j in range(i + 1, 5):
            assert plan_distance(alt.results[i].plots, alt.results[j].plots) >= 0.01 * n_plots
    assert seconds <= 5 * (TIME_LIMIT_S + 30.0)
