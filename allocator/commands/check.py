"""``allocator check CASE``: plot eligibility, in batch or for one plot, point or polygon.

Batch mode prints how many plots the red line and the access lists exclude
(per industry group: the GB/T 4754 divisions of the case's firms and
catalogue, or ``--industry``) and writes the per-plot table with ``--out``
(.gpkg with geometry, .xlsx or .csv). With ``--plot``, ``--lonlat`` or
``--polygon`` it prints the readable report of :func:`allocator.check_plot`.

A plot is *excluded by the red line* when its red-line share exceeds the
threshold; *excluded by access rules* when a ``prohibit`` rule of its control
unit (or the unit's category) matches at least one checked industry group.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.commands.info import render_table
from allocator.errors import CaseError, ExportError
from allocator.i18n import t
from allocator.industry import industry_name
from allocator.safety import check_output, excel_writer, neutralise_frame


def register(subparsers: Any) -> None:
    """Add the ``check`` sub-command."""
    p = subparsers.add_parser("check", help=t("eligibility.cli.help"))
    p.add_argument("case", help=t("eligibility.cli.case"))
    p.add_argument("--plots", default=None, help=t("eligibility.cli.plots"))
    p.add_argument("--industry", default=None, help=t("eligibility.cli.industry"))
    p.add_argument("--out", default=None, help=t("eligibility.cli.out"))
    p.add_argument("--plot", default=None, help=t("eligibility.cli.plot"))
    p.add_argument("--lonlat", default=None, help=t("eligibility.cli.lonlat"))
    p.add_argument("--polygon", default=None, help=t("eligibility.cli.polygon"))
    p.add_argument("--source-crs", default=None, help=t("eligibility.cli.source_crs"))
    p.add_argument("--buffer", type=float, default=0.0, help=t("eligibility.cli.buffer"))
    p.add_argument("--threshold", type=float, default=0.0, help=t("eligibility.cli.threshold"))
    p.add_argument("--catalogue", action="store_true", help=t("eligibility.cli.catalogue"))
    p.set_defaults(func=run)


def read_plot_ids(path: str | Path) -> list[str]:
    """Read plot ids from a .csv/.xlsx with a ``plot_id`` column, or a text file (one per line)."""
    path = Path(path)
    if not path.is_file():
        raise CaseError(
            t("eligibility.cli.no_file", path=str(path)), hint=t("eligibility.cli.plots")
        )
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".xlsx", ".xls"):
            frame = (
                pd.read_csv(path, dtype=str, encoding="utf-8-sig")
                if suffix == ".csv"
                else pd.read_excel(path, dtype=str)
            )
            col = "plot_id" if "plot_id" in frame else ("地块编号" if "地块编号" in frame else None)
            if col is None:
                col = frame.columns[0]
            ids = frame[col].dropna().astype(str).str.strip().tolist()
        else:
            ids = [x.strip() for x in path.read_text(encoding="utf-8-sig").splitlines()]
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise CaseError(
            t("eligibility.cli.no_file", path=str(path)) + f" ({exc})",
            hint=t("eligibility.cli.plots"),
        ) from exc
    return [x for x in ids if x and not x.startswith("#")]


def summary_counts(table: pd.DataFrame) -> dict[str, int]:
    """Return the batch counts printed by the command (plots, red line, access rules, zone)."""
    return {
        "plots": len(table),
        "redline": int(table["excluded_redline"].sum()),
        "access": int(table["excluded_access"].sum()),
        "outside_zone": int((~table["in_zone"].astype(bool)).sum()),
        "eligible_any": int((table["eligible_groups"] > 0).sum()),
    }


def group_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per industry group: eligible plots and plots failing each reason."""
    from allocator.eligibility import REASON_CODES

    rows = []
    for col in table.columns:
        if not col.startswith("ok:"):
            continue
        g = col[3:]
        why = table[f"why:{g}"].fillna("")
        row = {"industry": g, "name": industry_name(g), "eligible": int(table[col].sum())}
        for code in REASON_CODES:
            hit = why.str.split(";").map(lambda x, c=code: c in x)
            if hit.any() or code in ("redline", "access_list", "land_use", "status"):
                row[code] = int(hit.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def write_table(case: Any, table: pd.DataFrame, out: str | Path) -> Path:
    """Write the per-plot check table to .gpkg (with plot geometry), .xlsx or .csv."""
    out = Path(out)
    suffix = out.suffix.lower()
    flat = table.rename(columns=lambda c: c.replace(":", "_"))
    sheet = neutralise_frame(flat)  # text cells in .csv/.xlsx are data, never formulas
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if suffix == ".csv":
            sheet.to_csv(out, index=False, encoding="utf-8-sig")
        elif suffix == ".xlsx":
            with excel_writer(out) as xl:
                sheet.to_excel(xl, index=False, sheet_name="check")
        elif suffix == ".gpkg":
            import geopandas as gpd

            geo = case.plots[["plot_id", "geometry"]].astype({"plot_id": str})
            merged = geo.merge(flat, on="plot_id", how="inner")
            for c in merged.columns:
                if merged[c].dtype == object and c != "geometry":
                    merged[c] = merged[c].astype(str).where(merged[c].notna(), None)
            gpd.GeoDataFrame(merged, geometry="geometry", crs=case.plots.crs).to_file(
                out, layer="plot_check", driver="GPKG"
            )
        else:
            raise ExportError(
                t("eligibility.cli.bad_out", path=str(out)), hint=t("eligibility.cli.out")
            )
    except (OSError, ValueError) as exc:
        raise ExportError(
            t("eligibility.cli.write_failed", path=str(out), error=str(exc)),
            hint=t("eligibility.cli.out"),
        ) from exc
    return out


def _lonlat(text: str) -> tuple[float, float]:
    parts = [p for p in text.replace("，", ",").replace(" ", ",").split(",") if p]
    try:
        lon, lat = (float(p) for p in parts)
    except ValueError as exc:
        raise CaseError(
            t("eligibility.error.lonlat", value=text), hint=t("eligibility.hint.lonlat")
        ) from exc
    return lon, lat


def run(args: argparse.Namespace) -> int:
    """Run the check: one report, or the batch summary (and table)."""
    from allocator.case import load_case
    from allocator.eligibility import EligibilityParams, check_plot, check_plots

    if args.out:
        check_output(args.out, option="--out")
    if args.threshold < 0 or args.threshold > 1:
        raise CaseError(
            t("eligibility.cli.bad_threshold", value=args.threshold),
            hint=t("eligibility.cli.threshold"),
        )
    case = load_case(args.case)
    params = EligibilityParams(
        redline_threshold=args.threshold,
        redline_buffer_m=max(args.buffer, 0.0),
        catalogue=bool(args.catalogue),
    )
    single = [x for x in (args.plot, args.lonlat, args.polygon) if x is not None]
    if len(single) > 1:
        raise CaseError(t("eligibility.error.one_target"), hint=t("eligibility.hint.one_target"))
    if args.polygon and args.polygon.lower().endswith(".zip") and Path(args.polygon).is_file():
        from allocator import archive

        with archive.open_zip(args.polygon) as zf:  # GDAL reads it: limits checked first
            archive.check_members(zf, Path(args.polygon))
    if single:
        check = check_plot(
            case,
            plot_id=args.plot,
            lonlat=_lonlat(args.lonlat) if args.lonlat else None,
            polygon=args.polygon,
            source_crs=args.source_crs,
            industry=args.industry,
            params=params,
        )
        print(check.to_text())
        return 0
    plot_ids = read_plot_ids(args.plots) if args.plots else None
    table = check_plots(case, plot_ids=plot_ids, industry=args.industry, params=params)
    counts = summary_counts(table)
    print(t("eligibility.cli.summary_plots", n=counts["plots"]))
    print(t("eligibility.cli.summary_redline", n=counts["redline"]))
    print(t("eligibility.cli.summary_access", n=counts["access"]))
    print(t("eligibility.cli.summary_zone", n=counts["outside_zone"]))
    print(t("eligibility.cli.summary_any", n=counts["eligible_any"]))
    groups = group_table(table)
    if len(groups):
        print(t("eligibility.cli.summary_groups"))
        headers = [t(f"eligibility.col.{c}") for c in groups.columns]
        rows = [[str(v) for v in r] for r in groups.itertuples(index=False)]
        for line in render_table(headers, rows, right=set(range(2, len(headers)))):
            print(line)
        print(t("eligibility.cli.groups_note"))
    if args.out:
        written = write_table(case, table, args.out)
        print(t("eligibility.cli.written", path=str(written)))
    return 0
