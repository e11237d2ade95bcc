"""``allocator score CASE_OR_XLSX``: 亩均 scores, classes, explanations and price impacts.

Writes a workbook (headers in the current language, Chinese by default, units
in the headers) and prints the class mix per zone.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.commands.info import render_table
from allocator.errors import CaseError, ProblemList
from allocator.i18n import has, t
from allocator.safety import check_output, excel_writer, neutralise_frame


def register(subparsers: Any) -> None:
    """Add the ``score`` sub-command."""
    p = subparsers.add_parser("score", help=t("scoring.cli.help"))
    p.add_argument("input", help=t("scoring.cli.input"))
    p.add_argument("--method", default="huangyan_2022", help=t("scoring.cli.method"))
    p.add_argument("--out", default=None, help=t("scoring.cli.out"))
    p.add_argument("--year", type=int, default=None, help=t("scoring.cli.year"))
    p.add_argument("--prices", default="price_default", help=t("scoring.cli.prices"))
    p.set_defaults(func=run)


class FirmsInput:
    """A firms table read from a spreadsheet, with optional zones and class history."""

    def __init__(
        self, firms: pd.DataFrame, zones: pd.DataFrame | None, history: pd.DataFrame | None
    ) -> None:
        self.firms = firms
        self.zones = zones
        self.class_history = history


def read_input(path: str | Path) -> Any:
    """Read a case GeoPackage, or a firms table from .xlsx/.csv (Chinese headers mapped)."""
    path = Path(path)
    if not path.exists():
        raise CaseError(
            t("scoring.cli.unreadable", path=str(path)), hint=t("scoring.cli.hint_input")
        )
    if path.suffix.lower() == ".gpkg":
        from allocator.case import load_case

        return load_case(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".csv"):
        raise CaseError(
            t("scoring.cli.unreadable", path=str(path)), hint=t("scoring.cli.hint_input")
        )
    from allocator.case.importers import read_source
    from allocator.case.io import build_layer
    from allocator.case.schema import CLASS_HISTORY, FIRMS

    problems = ProblemList()
    frames: dict[str, pd.DataFrame] = {}
    if path.suffix.lower() != ".csv":
        frames, _, _ = read_source(path, problems)
    if "firms" not in frames:
        with tempfile.TemporaryDirectory(prefix="allocator-score-") as tmp:
            target = Path(tmp) / f"firms{path.suffix.lower()}"
            shutil.copyfile(path, target)
            problems = ProblemList()
            frames, _, _ = read_source(target, problems)
    what = t("scoring.cli.unreadable", path=str(path))
    problems.raise_if_errors(what)
    if "firms" not in frames:
        raise CaseError(what, hint=t("scoring.cli.hint_input"))
    firms = build_layer(frames["firms"], FIRMS, problems, file=path.name)
    history = None
    if "class_history" in frames:
        history = build_layer(frames["class_history"], CLASS_HISTORY, problems, file=path.name)
    problems.raise_if_errors(what)
    zones = frames.get("zones")
    if zones is not None:
        zones = pd.DataFrame(zones).drop(columns="geometry", errors="ignore")
    return FirmsInput(firms, zones, history)


def _header(col: str, lang: str | None, units: dict[str, str]) -> str:
    from allocator.scoring import INDICATORS

    if col.startswith("ind_") and col[4:] in INDICATORS:
        key = col[4:]
        return t("scoring.h.ind", lang, indicator=t(f"scoring.ind.{key}", lang), unit=units[key])
    if col.startswith("part_") and col[5:] in INDICATORS:
        return t("scoring.h.part", lang, indicator=t(f"scoring.ind.{col[5:]}", lang))
    return t(f"scoring.h.{col}", lang) if has(f"scoring.h.{col}") else col


def localise(frame: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """Rename columns to headers with units and translate indicator and pool values."""
    from allocator.scoring import INDICATORS

    units = {k: v.unit for k, v in INDICATORS.items()}
    out = frame.copy()
    for col in ("weakest_indicator", "indicator"):
        if col in out:
            out[col] = out[col].map(
                lambda k: t(f"scoring.ind.{k}", lang) if isinstance(k, str) and k in units else k
            )
    if "pool" in out:
        out["pool"] = out["pool"].map(
            lambda p: t(f"scoring.pool.{p}", lang) if has(f"scoring.pool.{p}") else p
        )
    return out.rename(columns={c: _header(str(c), lang, units) for c in out.columns})


def write_workbook(path: str | Path, scores: Any, impacts: Any, lang: str | None = None) -> Path:
    """Write scores, thresholds, benchmarks, price impacts and zone summary to ``path``."""
    from allocator.scoring import class_summary, explanation_texts

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = scores.table.copy()
    table.insert(table.columns.get_loc("reason") + 1, "explanation", explanation_texts(table, lang))
    summary = class_summary(scores.table)
    zones = summary.join(impacts.zones.set_index("zone_id"), how="outer")
    zones.index.name = "zone_id"
    method = scores.method
    info = pd.DataFrame(
        [
            ("method", method.name),
            ("title", method.title),
            ("kind", method.kind),
            ("evaluation_year", scores.year),
            ("energy_basis", method.energy_basis),
            ("jurisdiction", method.classes.jurisdiction),
            ("bands", ", ".join(f"{c} ≤ {b:.0%}" for c, b in method.classes.bands)),
            *[(f"source.{k}", v) for k, v in method.source.items()],
            ("prices", impacts.table.name),
            *[(f"prices.source.{k}", v) for k, v in impacts.table.source.items()],
        ],
        columns=["key", "value"],
    )
    tmp = path.with_name(path.name + ".tmp.xlsx")
    with excel_writer(tmp) as xl:
        sheets = (
            ("scoring.sheet.scores", localise(table.reset_index(), lang)),
            ("scoring.sheet.zones", localise(zones.reset_index(), lang)),
            ("scoring.sheet.thresholds", localise(scores.thresholds, lang)),
            ("scoring.sheet.benchmarks", localise(scores.benchmarks, lang)),
            ("scoring.sheet.prices", localise(impacts.firms.reset_index(), lang)),
            ("scoring.sheet.method", localise(info, lang)),
        )
        for key, frame in sheets:
            name = t(key, lang)[:31]
            neutralise_frame(frame).to_excel(xl, sheet_name=name, index=False)
            xl.sheets[name].freeze_panes(1, 0)
            xl.sheets[name].set_column(0, max(len(frame.columns) - 1, 0), 14)
    tmp.replace(path)
    return path


def run(args: argparse.Namespace) -> int:
    """Score the input, print the class mix per zone, write the workbook."""
    from allocator.pricing import price_impacts
    from allocator.scoring import class_summary, score

    out = args.out or str(Path(args.input).with_suffix("").name + "-scores.xlsx")
    check_output(out, option="--out")
    data = read_input(args.input)
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
    written = write_workbook(out, scores, impacts)
    print(t("scoring.cli.written", path=str(written)))
    return 0
