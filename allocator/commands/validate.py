"""``allocator validate CASE``: list every problem of a case; exit 1 on errors."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from allocator.i18n import t

MAX_PER_CODE = 20
"""Problems of one kind shown before the rest are summarised in one line."""


def register(subparsers: Any) -> None:
    """Add the ``validate`` sub-command."""
    p = subparsers.add_parser("validate", help=t("case.cli.validate.help"))
    p.add_argument("case", help="case GeoPackage (.gpkg) or import folder")
    p.add_argument(
        "--source-crs",
        default=None,
        help="gcj02 | bd09 | EPSG:xxxx (import folders only, as in allocator import)",
    )
    p.add_argument("--json", action="store_true", help="print the problems as JSON")
    p.add_argument("--all", action="store_true", help="show every problem (no per-kind limit)")
    p.set_defaults(func=run)


def format_problems(problems: list, limit: int | None = MAX_PER_CODE) -> list[str]:
    """Return the problems as a text table (severity, file, layer, row, column, problem, fix).

    Errors come first; at most ``limit`` problems of the same code are listed
    and the rest are counted in one line per code.
    """
    from allocator.commands.info import render_table

    seen: Counter[str] = Counter()
    hidden: Counter[str] = Counter()
    rows: list[list[str]] = []
    ordered = sorted(problems, key=lambda p: (p.severity != "error", p.layer, p.code))
    for p in ordered:
        seen[p.code] += 1
        if limit is not None and seen[p.code] > limit:
            hidden[p.code] += 1
            continue
        rows.append(
            [
                t(f"case.severity.{p.severity}"),
                p.file,
                p.layer,
                p.row,
                p.column,
                p.message,
                p.hint,
            ]
        )
    if not rows:
        return []
    headers = [
        t("case.col.severity"),
        t("case.col.file"),
        t("case.col.layer"),
        t("case.col.row"),
        t("case.col.column"),
        t("case.col.message"),
        t("case.col.hint"),
    ]
    lines = render_table(headers, rows, right=set())
    for code, count in hidden.items():
        lines.append(f"  {t('case.validate.more', count=count)} ({code})")
    return lines


def run(args: argparse.Namespace) -> int:
    """Validate and print; exit 1 when there is at least one error."""
    from allocator.case import validate_case

    if args.source_crs:
        from allocator.case.importers import read_source
        from allocator.case.io import build_case
        from allocator.errors import AllocatorError, ProblemList

        problems_list = ProblemList()
        try:
            frames, files, crses = read_source(args.case, problems_list, args.source_crs)
            build_case(frames, problems_list, files=files, crses=crses)
        except AllocatorError as exc:
            problems_list.problems.extend(exc.problems or [])
            if not exc.problems:
                raise
        problems = problems_list.problems
    else:
        problems = validate_case(args.case)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if args.json:
        print(json.dumps([p.to_dict() for p in problems], ensure_ascii=False, indent=2))
        return 1 if errors else 0
    for line in format_problems(problems, None if args.all else MAX_PER_CODE):
        print(line, file=sys.stdout)
    if errors:
        print(t("case.validate.failed", file=args.case, errors=len(errors), warnings=len(warnings)))
        return 1
    print(t("case.validate.ok", file=args.case, warnings=len(warnings)))
    return 0
