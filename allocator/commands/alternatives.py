"""``allocator alternatives SCENARIO``: K near-optimal plans, as different as possible.

Writes one run folder per plan and ``alternatives.csv`` (``k``, ``objective``,
``best_bound``, ``gap``, ``run``, ``min_distance`` …), the distance matrix,
the robust core and the per-plot presence table (and map) into
``OUT/<scenario>-alternatives-<time>/``; see :mod:`allocator.analysis.alternatives`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from allocator.commands.info import render_table
from allocator.i18n import t


def register(subparsers: Any) -> None:
    """Add the ``alternatives`` sub-command."""
    p = subparsers.add_parser("alternatives", help=t("alternatives.cli.help"))
    p.add_argument("scenario", help=t("solve.cli.scenario"))
    p.add_argument("--k", type=int, default=None, help=t("alternatives.cli.k"))
    p.add_argument("--within", type=float, default=None, help=t("alternatives.cli.within"))
    p.add_argument("--out", default="runs", help=t("alternatives.cli.out"))
    p.add_argument("--time-limit", type=float, default=None, help=t("solve.cli.time_limit"))
    p.add_argument("--gap", type=float, default=None, help=t("solve.cli.gap"))
    p.set_defaults(func=run)


def _fmt(value: Any, pattern: str) -> str:
    return "—" if value is None else format(value, pattern)


def run(args: argparse.Namespace) -> int:
    """Find the plans, write them, print the table; exit 0 (1 when there is no plan)."""
    from allocator.analysis.alternatives import alternatives, prepared_inputs
    from allocator.case.cache import load_case_cached

    start = time.perf_counter()

    def progress(stage: str, info: Mapping[str, Any]) -> None:
        if stage == "plan":
            print(
                f"[{time.perf_counter() - start:6.1f}s] "
                + t("alternatives.cli.plan", k=info["k"], of=info["of"]),
                file=sys.stderr,
                flush=True,
            )

    scenario, settings, prep = prepared_inputs(
        Path(args.scenario), time_limit_s=args.time_limit, rel_gap=args.gap
    )
    alt = alternatives(scenario, k=args.k, within=args.within, prepared=prep, settings=settings)
    best = alt.results[0]
    if not best.has_solution:
        print(t("alternatives.cli.no_plan", status=str(best.status)), file=sys.stderr)
        return 1
    case = load_case_cached(scenario.case_path) if scenario.case_path else None
    folder = alt.write(args.out, case)
    table = alt.table
    rows = [
        [
            str(r.k),
            _fmt(r.objective, ",.1f"),
            _fmt(r.best_bound, ",.1f"),
            _fmt(r.gap, ".3%"),
            _fmt(r.shortfall, ".3%"),
            str(r.min_distance),
            Path(r.run).name,
        ]
        for r in table.itertuples(index=False)
    ]
    heads = [t(f"alternatives.col.{c}") for c in ("k", "objective", "best_bound", "gap")]
    heads += [t(f"alternatives.col.{c}") for c in ("shortfall", "min_distance", "run")]
    for line in render_table(heads, rows, right={0, 1, 2, 3, 4, 5}):
        print(line)
    pres = alt.presence["presence"].value_counts()
    print(
        t(
            "alternatives.cli.summary",
            n=len(alt.results),
            within=f"{alt.within:.2%}",
            every=int(pres.get("every", 0)),
            some=int(pres.get("some", 0)),
            none=int(pres.get("none", 0)),
            seconds=f"{alt.seconds:.1f}",
        )
    )
    if alt.stopped_early:
        print(t("alternatives.cli.stopped_early", n=len(alt.results)))
    print(t("alternatives.cli.wrote", path=folder))
    return 0
