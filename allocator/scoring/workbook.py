"""The 亩均 evaluation's files: read a firms table, write the evaluation workbook.

One definition for ``allocator score`` and the app's evaluation page: both read
an uploaded or given table with :func:`read_firms_input` (Chinese headers
mapped, GBK/BOM decoded, every problem located) and write the same workbook
with :func:`write_score_workbook` (headers in the chosen language, units in the
headers).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from allocator.errors import CaseError, ProblemList
from allocator.i18n import has, normalize_lang, t
from allocator.scoring.engine import Scores, class_summary
from allocator.scoring.explain import explanation_texts
from allocator.scoring.method import INDICATORS

if TYPE_CHECKING:
    from allocator.pricing import PriceImpacts


@dataclass
class FirmsInput:
    """A firms table read from a spreadsheet, with optional zones and class history."""

    firms: pd.DataFrame
    zones: pd.DataFrame | None = None
    class_history: pd.DataFrame | None = None


def read_firms_input(path: str | Path, *, name: str | None = None, lang: str | None = None) -> Any:
    """Read a case GeoPackage (a Case), or a firms table from .xlsx/.csv (a FirmsInput).

    A workbook may hold ``firms`` (and ``zones``, ``class_history``) sheets; any
    other single table is read as the firms table. ``name`` is how messages call
    the file (an upload's own name rather than where the app stored it).
    """
    path = Path(path)
    label = name or str(path)
    what = t("scoring.cli.unreadable", lang, path=label)
    hint = t("scoring.cli.hint_input", lang)
    suffix = path.suffix.lower()
    if not path.exists() or suffix not in (".gpkg", ".xlsx", ".xlsm", ".csv"):
        raise CaseError(what, hint=hint)
    if suffix == ".gpkg":
        from allocator.case import load_case

        return load_case(path)
    from allocator.case.importers import read_source
    from allocator.case.io import build_layer
    from allocator.case.schema import CLASS_HISTORY, FIRMS

    problems = ProblemList()
    frames: dict[str, pd.DataFrame] = {}
    if suffix != ".csv":
        frames, _, _ = read_source(path, problems)
    if "firms" not in frames:
        with tempfile.TemporaryDirectory(prefix="allocator-score-") as tmp:
            target = Path(tmp) / f"firms{suffix}"
            shutil.copyfile(path, target)
            problems = ProblemList()
            # a folder maps file names to layers: the one table is read as ``firms``
            frames, _, _ = read_source(Path(tmp), problems)
    problems.raise_if_errors(what)
    if "firms" not in frames:
        raise CaseError(what, hint=hint)
    file = name or path.name
    firms = build_layer(frames["firms"], FIRMS, problems, file=file)
    history = None
    if "class_history" in frames:
        history = build_layer(frames["class_history"], CLASS_HISTORY, problems, file=file)
    problems.raise_if_errors(what)
    zones = frames.get("zones")
    if zones is not None:
        zones = pd.DataFrame(zones).drop(columns="geometry", errors="ignore")
    return FirmsInput(firms, zones, history)


def _header(col: str, lang: str | None, units: dict[str, str]) -> str:
    if col.startswith("ind_") and col[4:] in INDICATORS:
        key = col[4:]
        return t("scoring.h.ind", lang, indicator=t(f"scoring.ind.{key}", lang), unit=units[key])
    if col.startswith("part_") and col[5:] in INDICATORS:
        return t("scoring.h.part", lang, indicator=t(f"scoring.ind.{col[5:]}", lang))
    return t(f"scoring.h.{col}", lang) if has(f"scoring.h.{col}") else col


def localise_scores(frame: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """Rename columns to headers with units and translate indicator and pool values."""
    units = {k: v.unit for k, v in INDICATORS.items()}
    out = frame.copy()
    for col in ("weakest_indicator", "indicator"):
        if col in out:
            out[col] = out[col].map(
                lambda k: t(f"scoring.ind.{k}", lang) if isinstance(k, str) and k in units else k
            )
    if "kind" in out:  # existing / applicant, in the planner's words (the export's value table)
        out["kind"] = out["kind"].map(
            lambda k: t(f"export.value.{k}", lang) if has(f"export.value.{k}") else k
        )
    if "pool" in out:
        out["pool"] = out["pool"].map(
            lambda p: t(f"scoring.pool.{p}", lang) if has(f"scoring.pool.{p}") else p
        )
    return out.rename(columns={c: _header(str(c), lang, units) for c in out.columns})


def write_score_workbook(
    path: str | Path, scores: Scores, impacts: PriceImpacts, lang: str | None = None
) -> Path:
    """Write scores, zones, thresholds, benchmarks, price impacts and the method to ``path``.

    ``scores`` is a :class:`~allocator.scoring.Scores`, ``impacts`` the
    :class:`~allocator.pricing.PriceImpacts` of the same firms. The file is
    written next to ``path`` first and moved into place, so a failure leaves no
    half-written workbook.
    """
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
    try:
        # the shared styled writer (allocator/export/tables.py): number formats by quantity,
        # header style, A4 landscape; its text cells are neutralised (never formulas)
        from allocator.export.tables import Workbook

        book = Workbook(tmp, normalize_lang(lang))
        sheets = (
            ("scoring.sheet.scores", table.reset_index()),
            ("scoring.sheet.zones", zones.reset_index()),
            ("scoring.sheet.thresholds", scores.thresholds),
            ("scoring.sheet.benchmarks", scores.benchmarks),
            ("scoring.sheet.prices", impacts.firms.reset_index()),
            ("scoring.sheet.method", info),
        )
        for key, frame in sheets:
            shown = localise_scores(frame, lang)
            book.sheet(
                t(key, lang), shown.set_axis(list(frame.columns), axis=1), list(shown.columns)
            )
        book.close()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
