"""Excel workbook of a run: summary, zones, firms, plots, scenario, diagnosis (and marginals).

Headers are in the export language with units (``用地面积(亩)``); the header row
is frozen and filtered, numbers carry a number format, and column widths fit
the content (CJK characters counted double).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.export.data import CODED_COLUMNS, ExportData, label, outcome_label, value_label
from allocator.i18n import has, t
from allocator.kpis import COUNT_KPIS, kpi_label, kpi_value
from allocator.land_supply import land_income_frame
from allocator.safety import XLSX_OPTIONS, neutralise_cell
from allocator.status import status_label

SHARE_COLUMNS = {
    "redline_share",
    "request_met_share",
    "developed_share_before",
    "developed_share_after",
    "gap",
    "share_of_cap",
}
INTEGER_COLUMNS = {"firms_before", "firms_after", "new_projects", "employees"}


MAX_DECIMALS = 6
"""Most decimals a column shows (a smaller non-zero value than 1e-6 shows in E notation)."""


def _decimals_for(values: np.ndarray) -> int:
    """Return the decimals that show the column's smallest non-zero value with 2 significant digits.

    At least 2 (the usual look of a quantity), at most :data:`MAX_DECIMALS`.
    """
    nonzero = np.abs(values[(values != 0) & np.isfinite(values)])
    if not len(nonzero):
        return 2
    smallest = float(nonzero.min())
    return int(min(MAX_DECIMALS, max(2, math.ceil(-math.log10(smallest)) + 1)))


def number_format(column: str, series: pd.Series) -> str:
    """Return the Excel number format of a numeric column: one rule for every workbook.

    Shares and gaps as percent, counts and whole-valued columns without
    decimals, other quantities with enough decimals that no non-zero value
    shows as 0.00 (0.0042 t shows as 0.0042). Values below 1e-6 switch to
    scientific notation rather than showing as zero.
    """
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    finite = values[np.isfinite(values)]
    if column in SHARE_COLUMNS or column.endswith("_share"):
        d = max(1, _decimals_for(finite * 100) - 1) if len(finite) else 1
        return "0." + "0" * d + "%"
    if (
        column in INTEGER_COLUMNS
        or column in COUNT_KPIS
        or pd.api.types.is_integer_dtype(series)
        or (len(finite) and bool(np.all(finite == np.round(finite))))
    ):
        return "#,##0"
    nonzero = np.abs(finite[finite != 0])
    if len(nonzero) and float(nonzero.min()) < 10.0**-MAX_DECIMALS:
        return "0.00E+00"
    return "#,##0." + "0" * _decimals_for(finite)


def _flatten(prefix: str, obj: Any) -> list[tuple[str, Any]]:
    if isinstance(obj, dict):
        out: list[tuple[str, Any]] = []
        for k, v in obj.items():
            out += _flatten(f"{prefix}.{k}" if prefix else str(k), v)
        return out
    if isinstance(obj, list):
        return [(prefix, json.dumps(obj, ensure_ascii=False))]
    return [(prefix, obj)]


def summary_rows(data: ExportData) -> list[tuple[str, Any]]:
    """Return ``(label, value)`` rows of the run summary in the export language."""
    s = data.run.summary
    lang = data.lang
    rows: list[tuple[str, Any]] = [(t("export.summary.run", lang), data.run.path.name)]
    for key in (
        "status",
        "objective",
        "best_bound",
        "gap",
        "scenario_name",
        "scenario_hash",
        "case_path",
        "case_hash",
        "solver",
        "created_at",
        "build_seconds",
        "solve_seconds",
    ):
        value = s.get(key)
        if key == "status":
            value = status_label(value, lang)
        if key == "gap" and isinstance(value, int | float) and math.isfinite(value):
            value = f"{100 * value:.3f}%"
        rows.append((t(f"export.summary.{key}", lang), value))
    for key, value in (s.get("model_size") or {}).items():
        name = f"export.summary.{key}"
        from allocator.i18n import has

        rows.append((t(name, lang) if has(name) else key, value))
    for key, kpi in data.run.kpis.items():
        shown: Any = "—" if kpi is None else kpi_value(key, kpi)  # in the label's unit
        if key in COUNT_KPIS and kpi is not None:
            shown = int(round(kpi))
        rows.append((kpi_label(key, lang), shown))
    return rows


def diagnosis_frame(data: ExportData) -> pd.DataFrame:
    """Return the diagnosis items in repair order: source, policy, subject, amount, share, text."""
    lang = data.lang
    rows = []
    for item in data.run.diagnosis.items:
        fam_key = f"diagnosis.family.{item.family}"
        rows.append(
            (
                t(f"export.diagnosis.{item.source}", lang),
                t(fam_key, lang) if has(fam_key) else item.family,
                item.subject_name or item.subject_id,
                item.amount if math.isfinite(item.amount) else None,
                item.unit,
                item.share_of_cap,
                item.label(lang),
            )
        )
    cols = ["source", "family", "subject", "amount", "unit", "share_of_cap", "message"]
    return pd.DataFrame(rows, columns=cols)


def scenario_frame(data: ExportData) -> pd.DataFrame:
    """Return the resolved scenario as ``key``/``value``/``description`` rows.

    The description is the parameter's text from the scenario schema (the same
    words as the app's what-if form), in the export language.
    """
    from allocator.i18n import has
    from allocator.scenario import field_for

    rows = []
    for k, v in _flatten("", dict(data.run.scenario)):
        fld = field_for(k)
        desc = t(fld.desc_key, data.lang) if fld is not None and has(fld.desc_key) else ""
        rows.append((k, v if not isinstance(v, bool) else str(v).lower(), desc))
    return pd.DataFrame(rows, columns=["key", "item_value", "description"])


PLANNER_UNIT_COLUMNS = {
    "electricity_mwh": "electricity_wan_kwh",
    "electricity_cap_mwh": "electricity_cap_wan_kwh",
    "electricity_before_mwh": "electricity_before_wan_kwh",
    "electricity_marginal_wan_per_mwh": "electricity_marginal_wan_per_wan_kwh",
}
"""Columns in MWh (or per MWh) that a workbook shows in 万千瓦时, under their new names."""


def in_planner_units(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with electricity in 万千瓦时 (the display rule of :mod:`allocator.units`).

    Quantities are multiplied by ``planner_unit("MWh")``'s factor (0.1), rates per
    MWh divided by it; the columns are renamed so that names keep their units.
    """
    from allocator.units import planner_unit

    factor = planner_unit("MWh")[0]
    out = frame.copy()
    for col in PLANNER_UNIT_COLUMNS:
        if col in out.columns:
            values = pd.to_numeric(out[col], errors="coerce")
            out[col] = values / factor if "_per_" in col else values * factor
    return out.rename(columns=PLANNER_UNIT_COLUMNS)


def localized(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Translate outcomes and coded values, electricity in 万千瓦时; drop geometry.

    Headers stay ids (see :func:`label`).
    """
    out = in_planner_units(pd.DataFrame(frame))
    if "geometry" in out.columns:
        out = out.drop(columns="geometry")
    if "outcome" in out.columns:
        out["outcome"] = out["outcome"].map(lambda o: outcome_label(o, lang) if pd.notna(o) else o)
    for col in CODED_COLUMNS:
        if col in out.columns:
            out[col] = out[col].map(lambda v: value_label(v, lang)).astype(object)
    return out


def _width(values: list[Any], header: str) -> float:
    def w(v: Any) -> int:
        s = str(v) if v is not None else ""
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    sample = [w(v) for v in values[:500]]
    return min(60.0, max([w(header), *sample, 6]) + 2.0)


class Workbook:
    """An xlsxwriter workbook whose sheets share the export's look.

    Each sheet has a bold wrapped header row (frozen, with a filter), number
    formats by column (percent for shares, integers, two decimals) and widths
    fitted to the content. Used by the run workbook and by ``allocator compare``.
    """

    def __init__(self, path: Path, lang: str) -> None:
        import xlsxwriter

        self.lang = lang
        self.path = path
        options = {"nan_inf_to_errors": False, "in_memory": True, **XLSX_OPTIONS}
        self.wb = xlsxwriter.Workbook(str(path), options)
        self.fmt_head = self.wb.add_format(
            {
                "bold": True,
                "bg_color": "#dde6f2",
                "border": 1,
                "text_wrap": True,
                "valign": "vcenter",
            }
        )
        self.formats: dict[str, Any] = {}
        self.fmt_text = self.wb.add_format({})

    def sheet(
        self,
        name: str,
        frame: pd.DataFrame,
        headers: list[str] | None = None,
    ) -> None:
        """Add a sheet; ``headers`` default to the export labels."""
        ws = self.wb.add_worksheet(name[:31])
        # text cells are data: never formulas (allocator.safety)
        cols = list(frame.columns)
        heads = headers or [label(c, self.lang) for c in cols]
        ws.set_row(0, 32)
        for j, h in enumerate(heads):
            ws.write_string(0, j, neutralise_cell(str(h)), self.fmt_head)
        for j, col in enumerate(cols):
            series = frame.iloc[:, j]
            numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(
                series
            )
            cell = self._format(number_format(str(col), series)) if numeric else self.fmt_text
            values = series.tolist()
            if numeric:
                self._numbers(ws, j, values, cell)
                ws.set_column(j, j, _width(values, heads[j]), cell)
                continue
            for i, v in enumerate(values, start=1):
                if v is None or v is pd.NA or v is pd.NaT:
                    continue
                if isinstance(v, bool | np.bool_):
                    ws.write_boolean(i, j, bool(v))
                elif isinstance(v, int | float | np.number):
                    x = float(v)
                    if math.isnan(x):
                        continue
                    if math.isinf(x):
                        ws.write_string(i, j, "∞" if x > 0 else "-∞")
                    else:
                        ws.write_number(i, j, x, cell if numeric else self._format("General"))
                else:
                    ws.write_string(i, j, neutralise_cell(str(v)))
            ws.set_column(j, j, _width(values, heads[j]), cell)
        ws.freeze_panes(1, 0)
        # printing: A4 landscape, as wide as one page, the header row on every page
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        if cols:
            ws.autofilter(0, 0, max(len(frame), 1), len(cols) - 1)

    @staticmethod
    def _numbers(ws: Any, j: int, values: list[Any], cell: Any) -> None:
        """Write a numeric column: blanks for missing, ∞ as text, numbers in the column's format.

        The column's values are floats (or ints, pd.NA) already: one test per
        cell instead of the type dispatch of mixed columns (a third of the
        workbook's time on the sample run).
        """
        write = ws.write_number
        for i, v in enumerate(values, start=1):
            if v is None or v is pd.NA:
                continue
            x = float(v)
            if x - x == 0.0:  # finite (NaN and ±inf fail)
                write(i, j, x, cell)
            elif x == x:
                ws.write_string(i, j, "∞" if x > 0 else "-∞")

    def _format(self, num_format: str) -> Any:
        """Return the workbook's cell format for ``num_format`` (made once)."""
        if num_format not in self.formats:
            self.formats[num_format] = self.wb.add_format({"num_format": num_format})
        return self.formats[num_format]

    def close(self) -> Path:
        """Write the file; return its path."""
        self.wb.close()
        return self.path


def write_xlsx(data: ExportData, path: Path) -> Path:
    """Write the workbook; return its path."""
    lang = data.lang
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook(path, lang)
    sheet = book.sheet

    summary = pd.DataFrame(summary_rows(data), columns=["key", "item_value"])
    summary["item_value"] = (
        summary["item_value"]
        .map(
            lambda v: (
                v
                if isinstance(v, int | float) and not isinstance(v, bool)
                else ("" if v is None else str(v))
            )
        )
        .astype(object)
    )
    sheet(t("export.sheet.summary", lang), summary)
    sheet(t("export.sheet.zones", lang), localized(data.zones_table, lang))
    sheet(t("export.sheet.firms", lang), localized(data.firms, lang))
    income = land_income_frame(data.firms, data.run.scenario, data.zone_name)
    if not income.empty:  # 土地收入 by year and zone (land_supply)
        sheet(t("export.sheet.land_income", lang), income)
    alloc = data.layers["allocation"]
    # the plot table of the run, plus status after and the firm's name; quotas are on 企业
    keep = [*data.plots_table.columns, "status_after", "firm_name"]
    plots = localized(alloc[[c for c in dict.fromkeys(keep) if c in alloc.columns]], lang)
    sheet(t("export.sheet.plots", lang), plots)
    sheet(t("export.sheet.scenario", lang), scenario_frame(data))
    diag = diagnosis_frame(data)
    if diag.empty:
        diag = pd.DataFrame({"message": [t("export.diagnosis.none", lang)]})
    sheet(t("export.sheet.diagnosis", lang), diag)
    if not data.marginals.empty:
        sheet(t("export.sheet.marginals", lang), marginals_frame(data))
    return book.close()


SLACK_ZERO = 1e-6
"""Slacks smaller than this (solver round-off such as -6.66e-16) are shown as 0."""


def marginals_frame(data: ExportData) -> pd.DataFrame:
    """Return the marginal values for people: the constraint by name, value, unit, slack, binding.

    One column per concept: the row code, family code and id columns become one
    planner label (``杭州综合保税区·能耗总量``); round-off slacks are 0.
    """
    from allocator.export.data import constraint_label
    from allocator.units import display_rate

    m = data.marginals
    slack = pd.to_numeric(m.get("slack"), errors="coerce")
    yes, no = t("check.yes", data.lang), t("check.no", data.lang)
    # each rate per the planner's unit of its denominator (万元/MWh → 万元/万千瓦时, × 10)
    rates = [
        display_rate(v, str(u), data.lang) if pd.notna(v) and pd.notna(u) else (v, u)
        for v, u in zip(pd.to_numeric(m["value"], errors="coerce"), m["unit"], strict=True)
    ]
    return pd.DataFrame(
        {
            "row": [constraint_label(r, data) for _, r in m.iterrows()],
            "value": pd.Series([r[0] for r in rates], index=m.index, dtype=float),
            "unit": pd.Series([r[1] for r in rates], index=m.index, dtype=object),
            "slack": slack.where(slack.abs() >= SLACK_ZERO, 0.0),
            "binding": [yes if bool(b) else no for b in m["binding"]],
        }
    )
