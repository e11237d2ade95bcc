"""``allocator stability SCENARIO``: re-plan with at most N changes to the approved plan.

The approved plan and N come from the scenario's ``[stability]`` table or the
flags. Prints each change (firm, plots approved → now, value added gained),
or, when the approved plan cannot hold, which of its assignments the
scenario forbids; ``--curve 0,5,10`` adds the objective against N
(``curve.csv`` in the run folder). See :mod:`allocator.analysis.stability`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from allocator.commands.info import render_table
from allocator.errors import AllocatorError
from allocator.i18n import get_lang, t
from allocator.status import status_label


def register(subparsers: Any) -> None:
    """Add the ``stability`` sub-command."""
    p = subparsers.add_parser("stability", help=t("stability.cli.help"))
    p.add_argument("scenario", help=t("solve.cli.scenario"))
    p.add_argument("--approved", default=None, help=t("stability.cli.approved"))
    p.add_argument("--max-changes", type=int, default=None, help=t("stability.cli.max_changes"))
    p.add_argument("--change-cost", type=float, default=None, help=t("stability.cli.change_cost"))
    p.add_argument("--curve", default=None, metavar="N,N,…", help=t("stability.cli.curve"))
    p.add_argument("--out", default="runs", help=t("alternatives.cli.out"))
    p.add_argument("--time-limit", type=float, default=None, help=t("solve.cli.time_limit"))
    p.add_argument("--gap", type=float, default=None, help=t("solve.cli.gap"))
    p.set_defaults(func=run)


def _curve_ns(text: str) -> list[int]:
    try:
        ns = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        ns = []
    if not ns or min(ns) < 0:
        raise AllocatorError(t("stability.cli.bad_curve", value=text))
    return ns


def _num(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "—"
    return "—" if v != v else f"{v:,.1f}"


def run(args: argparse.Namespace) -> int:
    """Solve under the change limit, print the changes (and the curve); exit 1 without a plan."""
    from allocator.analysis.alternatives import prepared_inputs
    from allocator.analysis.stability import change_curve, stability

    ns = _curve_ns(args.curve) if args.curve else None
    scenario, settings, prep = prepared_inputs(
        Path(args.scenario), time_limit_s=args.time_limit, rel_gap=args.gap
    )
    s = stability(
        scenario,
        approved=args.approved,
        max_changes=args.max_changes,
        change_cost_wan=args.change_cost,
        prepared=prep,
        settings=settings,
    )
    lang = get_lang()
    path = s.write(args.out)
    print(t("stability.cli.status", status=status_label(s.result.status, lang)))
    if not s.result.has_solution:
        for item in s.result.diagnosis.items:
            print(f"  - {item.label(lang)}")
        print(t("alternatives.cli.wrote", path=path))
        return 1
    print(
        t(
            "stability.cli.summary",
            changes=s.n_changes,
            plots=s.plots_changed,
            firms=s.firms_changed,
            objective=_num(s.result.objective),
            gain=_num(s.gain_wan),
        )
    )
    if len(s.changes):
        heads = [t(f"stability.col.{c}") for c in ("firm", "change", "before", "after", "gain")]
        rows = [
            [
                f"{r.name} ({r.firm_id})",
                t(f"stability.change.{r.change}"),
                r.plots_approved or "—",
                r.plots_now or "—",
                _num(r.delta_value_added_wan),
            ]
            for r in s.changes.itertuples(index=False)
        ]
        for line in render_table(heads, rows, right={4}):
            print(line)
    if ns is not None:
        curve = change_curve(scenario, ns, approved=args.approved, prepared=prep, settings=settings)
        curve.to_csv(path / "curve.csv", index=False)
        heads = [t(f"stability.col.{c}") for c in ("n", "objective", "gain_total", "changes")]
        rows = [
            [str(r.max_changes), _num(r.objective), _num(r.gain_wan), _num(r.changes)]
            for r in curve.itertuples(index=False)
        ]
        for line in render_table(heads, rows, right={0, 1, 2, 3}):
            print(line)
    print(t("alternatives.cli.wrote", path=path), file=sys.stdout)
    return 0
