"""``allocator export RUN``: write a run's vector layers, tables, maps, web map, report, bundle."""

from __future__ import annotations

import argparse
import time
from typing import Any

from allocator.i18n import get_lang, t
from allocator.safety import check_output


def register(subparsers: Any) -> None:
    """Add the ``export`` sub-command."""
    from allocator.export import FORMATS

    p = subparsers.add_parser("export", help=t("export.cli.help"))
    p.add_argument("run", help=t("export.cli.run"))
    p.add_argument(
        "--format",
        "-f",
        dest="formats",
        default=None,
        help=t("export.cli.format", formats=",".join(FORMATS)),
    )
    # dest differs from the global --lang so the sub-parser's default does not clobber it
    p.add_argument(
        "--lang", dest="export_lang", choices=["zh", "en"], default=None, help=t("export.cli.lang")
    )
    p.add_argument("--zone", default=None, help=t("export.cli.zone"))
    p.add_argument("-o", "--out", default=None, help=t("export.cli.out"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export the run; print the files written; exit 0."""
    from allocator.export import export
    from allocator.runs import load_run, run_name

    started = time.perf_counter()
    if args.out:
        check_output(args.out, folder=True, option="-o")
    the_run = load_run(args.run)
    lang = args.export_lang or get_lang()
    files = export(the_run, args.formats, args.out, lang=lang, zone=args.zone)
    out = args.out or str(the_run.path / "export")
    print(t("export.cli.run_name", lang, name=run_name(the_run, lang)))
    for f in files:
        print(f)
    seconds = f"{time.perf_counter() - started:.1f}"
    print(t("export.cli.wrote", lang, n=len(files), out=out, seconds=seconds))
    return 0
