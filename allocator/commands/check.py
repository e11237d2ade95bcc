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
from allocator.i18n import get_lang, t
from allocator.industry import industry_name
from allocator.safety import check_output, neutralise_frame


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


def _names(layer: Any, id_col: str) -> dict[str, str]:
    """Map ids of a case layer to their names (the id where there is no name)."""
    if layer is None or not len(layer) or "name" not in layer.columns:
        return {}
    return {
        str(i): str(n) for i, n in zip(layer[id_col], layer["name"], strict=True) if pd.notna(n)
    }


def check_sheet(
    case: Any, table: pd.DataFrame, lang: str | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Return the per-plot check table for people and its headers: names and words, no codes.

    One column per concept: zones and control units by name, categories and
    statuses in words, each industry's verdict as 是/否 and its reasons as the
    planner's short words (红线、用地性质…).
    """
    from allocator.export.data import label, value_label
    from allocator.i18n import has

    zones = _names(case.zones, "zone_id")
    units = _names(getattr(case, "control_units", None), "unit_id")
    yes, no = t("check.yes", lang), t("check.no", lang)
    out: dict[str, Any] = {}
    heads: list[str] = []
    for col in table.columns:
        series = table[col]
        if col == "unit_id" and "unit_ids" in table.columns:
            continue  # unit_ids holds every unit the plot touches (the first is unit_id)
        if col.startswith(("ok:", "why:")):
            group = col.split(":", 1)[1]
            name = f"{group} {industry_name(group, lang)}".strip()
            if col.startswith("ok:"):
                head = t("check.col.ok", lang, industry=name)
                series = series.map(lambda v: yes if bool(v) else no)
            else:
                head = t("check.col.why", lang, industry=name)
                series = series.fillna("").map(
                    lambda v: "、".join(
                        t(f"eligibility.col.{r}", lang) if has(f"eligibility.col.{r}") else r
                        for r in str(v).split(";")
                        if r
                    )
                )
        else:
            key = f"check.col.{col}"
            head = t(key, lang) if has(key) else label(col, lang)
            if col == "zone_id":
                series = series.map(lambda z: zones.get(str(z), z))
            elif col == "unit_ids":
                series = series.fillna("").map(
                    lambda v: "；".join(units.get(u, u) for u in str(v).split(";") if u)
                )
            elif col == "unit_category":
                series = series.map(
                    lambda c: (
                        t(f"eligibility.category.{c}", lang)
                        if has(f"eligibility.category.{c}")
                        else c
                    )
                )
            elif pd.api.types.is_bool_dtype(series):
                series = series.map(lambda v: yes if bool(v) else no)
            elif series.dtype == object or pd.api.types.is_string_dtype(series):
                series = series.map(lambda v: value_label(v, lang))
        out[col] = series
        heads.append(head)
    return pd.DataFrame(out), heads


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
            # the shared styled writer: planner headers and words, number formats, A4 print
            from allocator.export.tables import Workbook

            lang = get_lang()
            shown, heads = check_sheet(case, table, lang)
            book = Workbook(out, lang)
            book.sheet(t("check.sheet", lang), shown, heads)
            book.close()
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
