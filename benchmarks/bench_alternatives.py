"""Near-optimal alternatives on the sample case: 5 plans within 2 % of the best.

Prints, per plan, the objective, its shortfall from the best, the gap to the
best run's bound, the smallest distance to the other plans (plots whose
assigned firm differs, and as a share of all plots) and the seconds spent;
then the total wall-clock time. Each plan's solve gets ``--time-limit``
seconds (default 30), so the total is bounded by about K × (limit + polish).

Usage: ``python benchmarks/bench_alternatives.py [--k 5] [--within 0.02] [--time-limit 30]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from allocator.analysis.alternatives import alternatives  # noqa: E402
from allocator.scenario import load_scenario  # noqa: E402


def main() -> int:
    """Run the benchmark; exit 1 when fewer than K different plans are found."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--within", type=float, default=0.02)
    ap.add_argument("--time-limit", type=float, default=30.0)
    args, _ = ap.parse_known_args()  # run_all.py passes its own arguments through
    case = ROOT / "gis_data" / "zhejiang_sample.gpkg"
    if not case.exists():
        print(f"skipped: {case} not built (make sample)")
        return 0
    t0 = time.perf_counter()
    alt = alternatives(
        load_scenario(ROOT / "scenarios" / "baseline.toml"),
        k=args.k,
        within=args.within,
        time_limit_s=args.time_limit,
    )
    total = time.perf_counter() - t0
    table = alt.table
    n_plots = len(alt.results[0].plots)
    print(f"{'k':>2} {'objective':>14} {'shortfall':>9} {'gap':>8} {'min_dist':>8} "
          f"{'share':>6} {'seconds':>8}")  # fmt: skip
    for r in table.itertuples(index=False):
        print(
            f"{r.k:>2} {r.objective:>14,.1f} {r.shortfall:>9.3%} {r.gap:>8.3%} "
            f"{r.min_distance:>8} {r.min_distance / n_plots:>6.1%} {r.seconds:>8.1f}"
        )
    print(
        f"plans: {len(alt.results)} of {args.k}, within {args.within:.0%}; plots: {n_plots}; "
        f"total {total:.1f} s (limit {args.time_limit:.0f} s per plan)"
    )
    return 0 if len(alt.results) == args.k else 1


if __name__ == "__main__":
    sys.exit(main())
