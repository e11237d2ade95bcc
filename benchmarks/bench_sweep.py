"""A 9-point sweep of the sample case on 2 Dask workers versus 9 sequential solves.

The sweep varies ``caps.energy_factor`` over 0.6–1.4 on ``scenarios/baseline.toml``
(``gis_data/zhejiang_sample.gpkg``). Reported:

- ``prepare_s``: preparing the case once (scores, overlays, candidates, arrays),
  paid once per sweep — every point reuses it;
- ``sequential_s``: the 9 points solved one after the other in this process
  (same prepared case, same settings, same run folders written);
- ``sweep_s``: the same 9 points on a 2-worker ``LocalCluster`` (cluster start
  excluded, reported as ``cluster_start_s``), and the ratio sequential/sweep.

Run: ``python benchmarks/bench_sweep.py`` (or ``make bench``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POINTS = 9
PARAM, START, STOP = "caps.energy_factor", 0.6, 1.4


def main() -> int:
    """Time the sweep and the sequential solves; print one table."""
    from allocator.analysis.runner import Runner, dask_available
    from allocator.analysis.sweep import PreparedCase, Vary, plan_sweep, run_sweep, solve_point
    from allocator.case import load_case
    from allocator.prepare import clear_cache
    from allocator.scenario import load_scenario

    if not dask_available():
        print("dask[distributed] is not installed: skipped")
        return 0
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml")
    case = load_case(scenario.case_path)
    vary = Vary.linspace(PARAM, START, STOP, POINTS, "--vary")

    clear_cache()
    t0 = time.perf_counter()
    base = PreparedCase.build(case, scenario)
    prepare_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        sweep = plan_sweep(scenario, case_hash=base.case_hash, vary=vary, out_dir=Path(tmp) / "seq")
        sweep.points_dir.mkdir(parents=True)
        t0 = time.perf_counter()
        for point in sweep.points:
            solve_point(base, point, sweep.settings, str(sweep.points_dir), True)
        sequential_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        with Runner(n_workers=2) as runner:
            start_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            res = run_sweep(
                scenario, case=case, vary=vary, out_dir=Path(tmp) / "par", runner=runner
            )
            sweep_s = time.perf_counter() - t0
    statuses = ", ".join(sorted(set(res.table["status"].astype(str))))
    print(f"{'points':<28}{POINTS}")
    print(f"{'varied':<28}{PARAM} {START}–{STOP}")
    print(f"{'prepare_s (once)':<28}{prepare_s:8.2f}")
    print(f"{'sequential_s (9 solves)':<28}{sequential_s:8.2f}")
    print(f"{'cluster_start_s':<28}{start_s:8.2f}")
    print(f"{'sweep_s (2 workers)':<28}{sweep_s:8.2f}   (includes the sweep's own prepare)")
    print(f"{'ratio sequential/sweep':<28}{sequential_s / sweep_s:8.2f}")
    print(f"{'statuses':<28}{statuses}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
