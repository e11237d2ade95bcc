"""``allocator sweep SCENARIO``: a parameter range or Monte Carlo draws, solved on Dask.

``--vary PARAM=START:STOP --points N`` sweeps one numeric scenario parameter
(trade-off curve; a quota value curve when PARAM is an absolute quota);
``--monte-carlo N --spread PCT`` perturbs the firms' figures (robustness).
Points run on a local Dask cluster, or on ``--scheduler tcp://HOST:PORT``. A
progress bar goes to stderr, with the dashboard address when one is served.
Running the same command again resumes: finished points are not recomputed.
Bad flags are one located message naming the flag, exit 1, nothing written.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Mapping
from typing import Any

from allocator.analysis.tradeoff import CURVE_KPIS
from allocator.errors import ScenarioError
from allocator.i18n import display_width, t
from allocator.status import status_label

BAR_WIDTH = 30


def register(subparsers: Any) -> None:
    """Add the ``sweep`` sub-command."""
    p = subparsers.add_parser("sweep", help=t("sweep.cli.help"))
    p.add_argument("scenario", help=t("sweep.cli.scenario"))
    p.add_argument("--vary", default=None, metavar="PARAM=START:STOP", help=t("sweep.cli.vary"))
    p.add_argument("--points", type=int, default=9, help=t("sweep.cli.points"))
    p.add_argument(
        "--monte-carlo", type=int, default=None, metavar="N", help=t("sweep.cli.monte_carlo")
    )
    p.add_argument("--spread", type=float, default=10.0, metavar="PCT", help=t("sweep.cli.spread"))
    p.add_argument("--seed", type=int, default=0, help=t("sweep.cli.seed"))
    p.add_argument(
        "--scheduler", default=None, metavar="tcp://HOST:PORT", help=t("sweep.cli.scheduler")
    )
    p.add_argument("--workers", type=int, default=None, help=t("sweep.cli.workers"))
    p.add_argument("--out", default="runs", help=t("sweep.cli.out"))
    p.add_argument("--time-limit", type=float, default=None, help=t("sweep.cli.time_limit"))
    p.add_argument("--gap", type=float, default=None, help=t("sweep.cli.gap"))
    p.add_argument("--kpi", default="value_added_wan", choices=CURVE_KPIS, help=t("sweep.cli.kpi"))
    p.set_defaults(func=run)


class ProgressBar:
    """A one-line progress bar on stderr: ``[#####     ] done/total``."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int, row: Mapping[str, Any]) -> None:
        """Redraw the bar after a point."""
        filled = int(BAR_WIDTH * done / max(total, 1))
        bar = "#" * filled + " " * (BAR_WIDTH - filled)
        elapsed = time.perf_counter() - self.start
        end = "\n" if done >= total else ""
        print(
            f"\r[{bar}] {done}/{total}  {elapsed:6.1f}s  {row.get('value', ''):g} "
            f"{row.get('status', '')}",
            end=end,
            file=self.stream,
            flush=True,
        )


def _pad(text: str, width: int) -> str:
    """Pad ``text`` to ``width`` terminal columns (CJK characters count two)."""
    return text + " " * max(0, width - display_width(text))


def _fmt(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "—"
    return f"{v:,.1f}" if math.isfinite(v) else "—"


def run(args: argparse.Namespace) -> int:
    """Check the flags, run the sweep, print its table and where it is; exit 0."""
    from allocator.analysis.runner import Runner, check_scheduler_address
    from allocator.analysis.sweep import MonteCarlo, Vary, run_sweep
    from allocator.scenario import load_scenario
    from allocator.settings import SolverSettings

    vary = mc = None
    if args.vary is not None and args.monte_carlo is not None:
        raise ScenarioError(
            t("sweep.err.one_kind") + " (--monte-carlo)", hint=t("sweep.err.vary_syntax_hint")
        )
    if args.vary is not None:
        vary = Vary.parse(args.vary, args.points)
    elif args.monte_carlo is not None:
        mc = MonteCarlo.uniform(args.monte_carlo, args.spread, args.seed)
    else:
        raise ScenarioError(t("sweep.cli.need_kind"), hint=t("sweep.err.vary_syntax_hint"))
    if args.scheduler is not None:
        check_scheduler_address(args.scheduler)
    if args.workers is not None and args.workers < 1:
        raise ScenarioError(
            t("sweep.err.points", where="--workers", points=args.workers),
            hint=t("sweep.err.points_hint"),
        )
    scenario = load_scenario(args.scenario)
    settings = SolverSettings.resolve(scenario, time_limit_s=args.time_limit, rel_gap=args.gap)

    def announce(runner: Runner) -> None:
        if runner.address:
            msg = t("sweep.cli.scheduler_used", address=runner.address, workers=runner.n_workers)
        else:
            msg = t("sweep.cli.local_used", workers=runner.n_workers)
        print(msg, file=sys.stderr, flush=True)
        if runner.dashboard_link:
            print(t("sweep.cli.dashboard", url=runner.dashboard_link), file=sys.stderr, flush=True)

    # the cluster is started (or the scheduler reached) inside run_sweep, after the
    # scenario is checked against its case: a refused sweep submits nothing
    result = run_sweep(
        scenario,
        vary=vary,
        monte_carlo=mc,
        settings=settings,
        out_dir=args.out,
        scheduler=args.scheduler,
        n_workers=args.workers,
        progress=ProgressBar(),
        on_runner=announce,
        kpi=args.kpi,
    )
    table = result.table
    for _, row in table.iterrows():
        line = t(
            "sweep.cli.row",
            value=f"{float(row['value']):g}",
            status=_pad(status_label(row["status"]), 28),
            objective=_fmt(row.get("objective_monotone", row["objective"])),
            bound=_fmt(row.get("bound_monotone", row["best_bound"])),
        )
        if bool(row.get("knee", False)):
            line += "  ← " + t("sweep.cli.knee")
        print(line)
    print(
        t(
            "sweep.cli.done",
            total=len(table),
            computed=result.computed,
            reused=result.reused,
            seconds=result.seconds,
            prepare=result.prepare_seconds,
        )
    )
    print(t("sweep.cli.folder", path=result.path))
    for path in result.extra.values():
        print(t("sweep.cli.wrote", path=path))
    return 0
