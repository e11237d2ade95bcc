"""``allocator solve SCENARIO``: solve a scenario, show progress, print the summary."""

from __future__ import annotations

import argparse
import math
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.commands.info import render_table
from allocator.diagnosis import Diagnosis
from allocator.errors import AllocatorError, ScenarioError
from allocator.i18n import has, t
from allocator.kpis import BEFORE_KPIS, Kpis, format_kpi, kpi_label, shown_kpis
from allocator.runs import run_name
from allocator.status import run_status_label
from allocator.units import MWH_PER_WAN_KWH


def register(subparsers: Any) -> None:
    """Add the ``solve`` sub-command."""
    p = subparsers.add_parser("solve", help=t("solve.cli.help"))
    p.add_argument("scenario", nargs="?", default=None, help=t("solve.cli.scenario"))
    p.add_argument("--from-bundle", default=None, metavar="ZIP", help=t("solve.cli.from_bundle"))
    p.add_argument("--out", default="runs", help=t("solve.cli.out"))
    p.add_argument("--time-limit", type=float, default=None, help=t("solve.cli.time_limit"))
    p.add_argument("--gap", type=float, default=None, help=t("solve.cli.gap"))
    p.add_argument("--no-write", action="store_true", help=t("solve.cli.no_write"))
    p.add_argument("--case", default=None, help=t("solve.cli.case"))
    p.set_defaults(func=run)


class ConsoleProgress:
    """Print each stage once and the solver's incumbent/bound at most every 0.5 s."""

    def __init__(self, stream: Any = None) -> None:
        # resolved per call, not at import: sys.stderr may be replaced (tests, redirection)
        self.stream = stream if stream is not None else sys.stderr
        self.stage = ""
        self.start = time.perf_counter()
        self.last = 0.0

    def __call__(self, stage: str, info: Mapping[str, Any]) -> None:
        """Report one progress event."""
        now = time.perf_counter()
        if stage != self.stage:
            self.stage = stage
            label = t(f"solve.stage.{stage}") if _has(f"solve.stage.{stage}") else stage
            print(f"[{now - self.start:6.1f}s] {label}", file=self.stream, flush=True)
        inc, bound = info.get("incumbent"), info.get("bound")
        if (inc is not None or bound is not None) and now - self.last > 0.5:
            self.last = now
            gap = info.get("gap")
            print(
                "          "
                + t(
                    "solve.cli.live",
                    incumbent=_num(inc),
                    bound=_num(bound),
                    gap=f"{100 * gap:.3f}%" if gap is not None and math.isfinite(gap) else "—",
                ),
                file=self.stream,
                flush=True,
            )


def _has(key: str) -> bool:
    from allocator.i18n import has

    return has(key)


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "—"
    return f"{v:,.{digits}f}"


def print_summary(result: Any, stream: Any = None) -> None:
    """Print status, gap, objective and the per-zone table of a result."""
    stream = stream if stream is not None else sys.stdout
    s = result.summary
    gap = s.get("gap")
    lines = [
        f"{t('solve.cli.status')}: {run_status_label(result)}",
        f"{t('solve.cli.objective')}: {_num(s.get('objective'))}   "
        f"{t('solve.cli.bound')}: {_num(s.get('best_bound'))}   "
        f"{t('solve.cli.gap_label')}: {f'{100 * gap:.4f}%' if gap is not None else '—'}",
        f"{t('solve.cli.times')}: "
        + t(
            "solve.cli.times_value",
            build=f"{s['build_seconds']:.2f}",
            solve=f"{s['solve_seconds']:.2f}",
            total=f"{s['timings'].get('total', 0.0):.2f}",
        ),
        f"{t('solve.cli.size')}: "
        + ", ".join(
            f"{t(f'export.summary.{k}') if has(f'export.summary.{k}') else k} {v:,}"
            for k, v in (s.get("model_size") or {}).items()
        ),
    ]
    if result.run_path:
        lines.append(f"{t('solve.cli.run_name')}: {run_name(result)}")
        lines.append(f"{t('solve.cli.run_folder')}: {result.run_path}")
    print("\n".join(lines), file=stream)
    if result.has_solution and len(result.zones):
        z = result.zones
        cols = {
            "zone_id": t("solve.cli.col_zone"),
            "land_used_mu": t("solve.cli.col_land_used"),
            "land_free_mu": t("solve.cli.col_land_free"),
            "energy_tce": t("solve.cli.col_energy"),
            "energy_cap_tce": t("solve.cli.col_energy_cap"),
            "electricity_mwh": t("solve.cli.col_electricity"),
            "tax_per_mu_before": t("solve.cli.col_tax_before"),
            "tax_per_mu_after": t("solve.cli.col_tax_after"),
            "va_per_mu_before": t("solve.cli.col_va_before"),
            "va_per_mu_after": t("solve.cli.col_va_after"),
        }
        # zones by name; electricity in 万千瓦时 (allocator.units: 1 万kWh = 10 MWh)
        shown = z[list(cols)].copy()
        if "name" in z:
            names = z["name"].where(z["name"].notna() & (z["name"].astype(str) != ""), z["zone_id"])
            shown["zone_id"] = names.astype(str)
        shown["electricity_mwh"] = shown["electricity_mwh"] / MWH_PER_WAN_KWH
        rows = [
            [str(r[0])] + [f"{float(v):,.1f}" if pd.notna(v) else "—" for v in r[1:]]
            for r in shown.itertuples(index=False)
        ]
        print("", file=stream)
        for line in render_table(list(cols.values()), rows, right=set(range(1, len(cols)))):
            print(line, file=stream)
        print("", file=stream)
        print_kpis(result.kpis, stream)
    print_diagnosis(result.diagnosis, stream)


def print_kpis(kpis: Kpis, stream: Any = None) -> None:
    """Print the headline KPIs (and the land measures the plan has) with their present value."""
    stream = stream if stream is not None else sys.stdout
    rows = []
    for key in shown_kpis(kpis):
        before_key = BEFORE_KPIS.get(key)
        before = kpis.get(before_key) if before_key else None
        rows.append([kpi_label(key), format_kpi(key, kpis.get(key)), format_kpi(key, before)])
    heads = [t("solve.cli.kpi"), t("solve.cli.kpi_after"), t("solve.cli.kpi_before")]
    for line in render_table(heads, rows, right={1, 2}):
        print(line, file=stream)


def print_diagnosis(diagnosis: Diagnosis, stream: Any = None) -> None:
    """Print each diagnosis item (proofs first, then relaxations by share of their cap)."""
    stream = stream if stream is not None else sys.stdout
    for item in diagnosis.items:
        print(f"! {item.label()}", file=stream)


def run(args: argparse.Namespace) -> int:
    """Solve the scenario; exit 0 with a solution, 2 when infeasible or no solution."""
    from allocator.safety import check_output
    from allocator.scenario import load_scenario
    from allocator.solve import load_case_cached, solve

    if not args.no_write or args.from_bundle:
        check_output(args.out, folder=True, option="--out")
    scenario_path = args.scenario
    if args.from_bundle:
        scenario_path = _unpack(args.from_bundle, args.out)
    elif not scenario_path:
        raise ScenarioError(t("solve.cli.need_scenario"))
    try:
        scenario = load_scenario(scenario_path)
        case = load_case_cached(args.case) if args.case else None
        progress = ConsoleProgress()
        with ctrl_c_stops_the_solver(progress):
            result = solve(
                scenario,
                case=case,
                out_dir=args.out,
                write=not args.no_write,
                progress=progress,
                time_limit_s=args.time_limit,
                rel_gap=args.gap,
            )
    except AllocatorError:
        if args.from_bundle:  # a bundle that cannot be solved leaves nothing behind
            shutil.rmtree(Path(scenario_path).parent, ignore_errors=True)
        raise
    print_summary(result)
    if result.stopped_by == "user":
        print(t("solve.cli.stopped"), file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0 if result.has_solution else 2


EXIT_INTERRUPTED = 130
"""Exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells expect."""


@contextmanager
def ctrl_c_stops_the_solver(progress: ConsoleProgress) -> Iterator[None]:
    """During the solver stage, Ctrl-C asks the solver to stop instead of killing the run.

    The solver then returns its best plan so far, which is written and marked
    "stopped by the user" (:data:`models.interrupt.STOP`). Outside the solver
    stage, Ctrl-C interrupts as usual (nothing half-written is kept). Only
    installed in the main thread (where Python delivers signals).
    """
    from models.interrupt import STOP

    STOP.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum: int, frame: Any) -> None:
        if progress.stage != "solve":
            raise KeyboardInterrupt
        if not STOP.requested:
            STOP.request("user")
            print(t("solve.cli.stopping"), file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        STOP.clear()


def _unpack(bundle: str, out: str) -> Path:
    """Unpack an export bundle under ``OUT/bundles/<name>/``; return its scenario path."""
    from allocator.export.bundle import unpack_bundle
    from allocator.safety import safe_filename

    base = Path(out) / "bundles" / safe_filename(Path(bundle).stem)
    dest = base
    n = 1
    while dest.exists():
        n += 1
        dest = base.with_name(f"{base.name}-{n}")
    scenario = unpack_bundle(bundle, dest)
    print(t("solve.cli.unpacked", path=str(dest)), file=sys.stderr)
    return scenario
