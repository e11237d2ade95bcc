"""``allocator score CASE_OR_XLSX``: 亩均 scores, classes, explanations and price impacts.

Writes a workbook (headers in the current language, Chinese by default, units
in the headers) and prints the class mix per zone.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from allocator.commands.info import render_table
from allocator.i18n import t
from allocator.safety import check_output


def register(subparsers: Any) -> None:
    """Add the ``score`` sub-command."""
    p = subparsers.add_parser("score", help=t("scoring.cli.help"))
    p.add_argument("input", help=t("scoring.cli.input"))
    p.add_argument("--method", default="huangyan_2022", help=t("scoring.cli.method"))
    p.add_argument("--out", default=None, help=t("scoring.cli.out"))
    p.add_argument("--year", type=int, default=None, help=t("scoring.cli.year"))
    p.add_argument("--prices", default="price_default", help=t("scoring.cli.prices"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Score the input, print the class mix per zone, write the workbook."""
    from allocator.pricing import price_impacts
    from allocator.scoring import class_summary, read_firms_input, score, write_score_workbook

    out = args.out or str(Path(args.input).with_suffix("").name + "-scores.xlsx")
    check_output(out, option="--out")
    data = read_firms_input(args.input)
    scores = score(data, args.method, year=args.year)
    impacts = price_impacts(data, scores, args.prices)
    summary = class_summary(scores.table)
    summary = summary.rename(
        columns={
            "unrated": t("scoring.h.unrated"),
            "unclassed": t("scoring.h.unclassed"),
            "total": t("scoring.h.total"),
        }
    )
    summary.index.name = t("scoring.h.zone_id")
    print(
        t("scoring.cli.summary", method=scores.method.name, year=scores.year, n=len(scores.table))
    )
    headers = [str(summary.index.name), *(str(c) for c in summary.columns)]
    rows = [
        [str(z), *(str(int(v)) for v in r)]
        for z, r in zip(summary.index, summary.values, strict=True)
    ]
    for line in render_table(headers, rows, right=set(range(1, len(headers)))):
        print(line)
    total = float(impacts.zones["electricity_revenue_wan"].sum())
    print(t("scoring.cli.revenue", wan=f"{total:,.1f}"))
    written = write_score_workbook(out, scores, impacts)
    print(t("scoring.cli.written", path=str(written)))
    return 0
