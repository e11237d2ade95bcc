"""``allocator import SOURCE -o CASE.gpkg``: import planners' files into a case."""

from __future__ import annotations

import argparse
from typing import Any

from allocator.i18n import t


def register(subparsers: Any) -> None:
    """Add the ``import`` sub-command."""
    p = subparsers.add_parser("import", help=t("case.cli.import.help"))
    p.add_argument("source", help="folder of layer files (zones.shp, plots.zip, firms.csv, …)")
    p.add_argument("-o", "--output", required=True, help="case GeoPackage to write")
    p.add_argument(
        "--source-crs",
        default=None,
        help="gcj02 | bd09 (AMap/Baidu lon/lat), or a CRS for layers without one (EPSG:4490)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Import, print the column mapping and what was written."""
    from allocator.case.importers import import_case
    from allocator.safety import check_output

    check_output(args.output, option="-o")
    case, report = import_case(args.source, args.output, source_crs=args.source_crs)
    if report:
        print(t("case.cli.import.mapping"))
        for line in report:
            print(f"  {line}")
    for p in case.problems:
        print(f"[{t('case.severity.warning')}] {p.where()}: {p.message}")
    print(
        t(
            "case.cli.import.written",
            file=args.output,
            zones=len(case.zones),
            plots=len(case.plots),
            firms=len(case.firms),
        )
    )
    return 0
