"""Cost of the land supply choice (``land_supply``) on the sample case.

Solves the baseline scenario and the same scenario with ``switches.land_supply`` on
(``scenarios/flexible_land.toml``), alternately, ``--repeat`` times each, at the
app's what-if gap, and prints build and solve seconds, model size and the ratio of
the medians (machine load changes timings: compare the two in the same run).

Usage: ``python benchmarks/bench_land_supply.py [--repeat 3] [--gap 0.005] [--time-limit 60]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from allocator.case.cache import load_case_cached  # noqa: E402
from allocator.prepare import prepare  # noqa: E402
from allocator.scenario import load_scenario  # noqa: E402
from allocator.solve import SolverSettings, run_model  # noqa: E402


def main() -> int:
    """Run the benchmark; exit 1 when a solve finds no plan."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--gap", type=float, default=0.005)
    ap.add_argument("--time-limit", type=float, default=60.0)
    args, _ = ap.parse_known_args()  # run_all.py passes its own arguments through
    case_path = ROOT / "gis_data" / "zhejiang_sample.gpkg"
    if not case_path.exists():
        print(f"skipped: {case_path} not built (make sample)")
        return 0
    case = load_case_cached(case_path)
    scenarios = {
        "baseline": load_scenario(ROOT / "scenarios" / "baseline.toml"),
        "flexible_land": load_scenario(ROOT / "scenarios" / "flexible_land.toml"),
    }
    preps = {name: prepare(case, scen) for name, scen in scenarios.items()}
    times: dict[str, list[float]] = {name: [] for name in scenarios}
    print(f"{'scenario':14} {'run':>3} {'status':9} {'objective':>14} {'rows':>7} {'binaries':>8} "
          f"{'build_s':>7} {'solve_s':>7}")  # fmt: skip
    ok = True
    for k in range(args.repeat):
        for name, prep in preps.items():
            settings = SolverSettings.resolve(
                prep.scenario, time_limit_s=args.time_limit, rel_gap=args.gap
            )
            t0 = time.perf_counter()
            result = run_model(prep, settings=settings)
            wall = time.perf_counter() - t0
            ok &= result.has_solution
            times[name].append(wall)
            size = result.model_size
            print(
                f"{name:14} {k + 1:>3} {result.status:9} {result.objective or 0:>14,.0f} "
                f"{size.get('rows', 0):>7} {size.get('binaries', 0):>8} "
                f"{result.timings['build']:>7.2f} {result.timings['solve']:>7.2f}"
            )
    base = statistics.median(times["baseline"])
    flex = statistics.median(times["flexible_land"])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"median wall: baseline {base:.2f} s, flexible_land {flex:.2f} s, "
          f"ratio {flex / base:.2f} (load {load:.1f})")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
