"""Run report: one HTML page (images as ``data:`` URIs) and the same as a multi-page PDF.

Sections: status and gap, scenario parameters, KPIs per zone, class mix,
binding caps with their marginal values, diagnosis (when there is one), the
overview map and charts. The PDF is drawn with matplotlib's ``PdfPages`` (no
HTML-to-PDF engine is needed on the machine).
"""

from __future__ import annotations

import base64
import io
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from allocator.export import fonts, maps
from allocator.export.data import (
    CLASS_COLORS,
    OUTCOME_COLORS,
    OUTCOMES,
    ExportData,
    label,
    outcome_label,
)
from allocator.export.tables import diagnosis_frame, scenario_frame, summary_rows
from allocator.i18n import t
from allocator.safety import escape_html
from models.data import CLASSES

KPI_COLUMNS = (
    "zone_id",
    "name",
    "land_used_before_mu",
    "land_used_mu",
    "land_free_mu",
    "electricity_mwh",
    "electricity_cap_mwh",
    "energy_tce",
    "energy_cap_tce",
    "tax_per_mu_before",
    "tax_per_mu_after",
    "va_per_mu_before",
    "va_per_mu_after",
    "firms_before",
    "firms_after",
)
A4 = (8.27, 11.69)


# ----------------------------------------------------------------------------- content


def _fmt(v: Any) -> str:
    if v is None or v is pd.NA:
        return ""
    if isinstance(v, bool | np.bool_):
        return "✓" if v else ""
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        v = float(v)  # np.floating's abs() and comparisons are loosely typed
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        if abs(v) >= 1e6:
            return f"{v:,.0f}"
        if v != 0 and abs(v) < 0.1:  # gaps, coefficients: keep the significant digits
            return f"{v:.3g}"
        return f"{v:,.2f}"
    return str(v)


def kpi_frame(data: ExportData) -> pd.DataFrame:
    """Return the per-zone KPI table shown in the report."""
    z = data.zones_table
    return z[[c for c in KPI_COLUMNS if c in z.columns]].copy()


def class_mix(data: ExportData) -> pd.DataFrame:
    """Firms per class before (existing firms) and after (firms served), index A..D + none."""
    f = data.firms
    cls = f["class"].where(f["class"].isin(CLASSES), other="-") if "class" in f else None
    if cls is None:
        return pd.DataFrame(columns=["before", "after"])
    before = cls[f["kind"] == "existing"].value_counts()
    after = cls[f["served"].astype(bool)].value_counts()
    idx = [*CLASSES, "-"]
    return pd.DataFrame(
        {"before": before.reindex(idx, fill_value=0), "after": after.reindex(idx, fill_value=0)}
    )


def binding_frame(data: ExportData) -> pd.DataFrame:
    """Binding rows with their marginal values, largest first.

    From ``marginals.parquet``; when that is empty (a MIP without duals), from the
    zone table's ``*_marginal_*`` columns where the value is positive.
    """
    m = data.marginals
    if m.empty or "binding" not in m.columns:
        return _zone_marginals(data)
    b = m[m["binding"].astype(bool)]
    cols = [c for c in ("row", "family", "value", "unit", "slack") if c in b.columns]
    return b.sort_values("value", ascending=False)[cols].reset_index(drop=True)


ZONE_MARGINALS = {
    "electricity_marginal_wan_per_mwh": ("zone_electricity", "万元/MWh"),
    "energy_marginal_wan_per_tce": ("zone_energy", "万元/tce"),
    "intensity_marginal_wan_per_tce": ("zone_intensity", "万元/tce"),
}


def _zone_marginals(data: ExportData) -> pd.DataFrame:
    z = data.zones_table
    rows = []
    for col, (family, unit) in ZONE_MARGINALS.items():
        if col not in z.columns or "zone_id" not in z.columns:
            continue
        for zid, value in zip(z["zone_id"], pd.to_numeric(z[col], errors="coerce"), strict=True):
            if pd.notna(value) and value > 1e-9:
                rows.append((f"{family}[{zid}]", family, float(value), unit))
    out = pd.DataFrame(rows, columns=["row", "family", "value", "unit"])
    return out.sort_values("value", ascending=False).reset_index(drop=True)


def outcome_areas(data: ExportData) -> pd.DataFrame:
    """Plot area (mu) per zone and outcome."""
    a = data.layers["allocation"]
    table = a.pivot_table(index="zone_id", columns="outcome", values="area_mu", aggfunc="sum")
    return table.reindex(columns=list(OUTCOMES)).fillna(0.0)


# ----------------------------------------------------------------------------- charts


def _chart_tax(ax: Any, data: ExportData) -> str | None:
    z = data.zones_table.set_index("zone_id") if "zone_id" in data.zones_table else None
    if z is None or z.empty or not {"tax_per_mu_before", "tax_per_mu_after"} <= set(z.columns):
        return None
    lang = data.lang
    x = np.arange(len(z))
    ax.bar(x - 0.2, z["tax_per_mu_before"].fillna(0), 0.4, color="#bab0ac",
           label=t("export.report.before", lang))  # fmt: skip
    ax.bar(x + 0.2, z["tax_per_mu_after"].fillna(0), 0.4, color="#4e79a7",
           label=t("export.report.after", lang))  # fmt: skip
    ax.set_xticks(x, list(z.index), rotation=45 if len(z) > 8 else 0)
    ax.legend(frameon=False)
    return t("export.report.chart_tax", lang)


def _chart_energy(ax: Any, data: ExportData) -> str | None:
    z = data.zones_table.set_index("zone_id") if "zone_id" in data.zones_table else None
    if z is None or z.empty or not {"energy_tce", "energy_cap_tce"} <= set(z.columns):
        return None
    lang = data.lang
    x = np.arange(len(z))
    ax.bar(x, z["energy_tce"].fillna(0), 0.6, color="#f28e2b",
           label=t("export.report.used", lang))  # fmt: skip
    ax.scatter(x, z["energy_cap_tce"], marker="_", s=400, color="black", zorder=3,
               label=t("export.report.cap", lang))  # fmt: skip
    ax.set_xticks(x, list(z.index), rotation=45 if len(z) > 8 else 0)
    ax.legend(frameon=False)
    return t("export.report.chart_energy", lang)


def _chart_outcomes(ax: Any, data: ExportData) -> str | None:
    areas = outcome_areas(data)
    if areas.empty:
        return None
    bottom = np.zeros(len(areas))
    for o in OUTCOMES:
        ax.bar(areas.index, areas[o], bottom=bottom, color=OUTCOME_COLORS[o],
               label=outcome_label(o, data.lang))  # fmt: skip
        bottom += areas[o].to_numpy()
    ax.tick_params(axis="x", rotation=45 if len(areas) > 8 else 0)
    ax.legend(frameon=False, fontsize=7, ncol=3)
    return t("export.report.chart_outcomes", data.lang)


def _chart_classes(ax: Any, data: ExportData) -> str | None:
    mix = class_mix(data)
    if mix.empty or not mix.to_numpy().any():
        return None
    lang = data.lang
    x = np.arange(len(mix))
    colors = [CLASS_COLORS.get(c, "#cccccc") for c in mix.index]
    ax.bar(x - 0.2, mix["before"], 0.4, color=colors, alpha=0.45,
           label=t("export.report.before", lang))  # fmt: skip
    ax.bar(x + 0.2, mix["after"], 0.4, color=colors, label=t("export.report.after", lang))
    ax.set_xticks(x, [c if c != "-" else t("export.legend.no_class", lang) for c in mix.index])
    ax.set_ylabel(t("export.report.count", lang))
    ax.legend(frameon=False)
    return t("export.report.class_mix", lang)


CHARTS = (_chart_tax, _chart_energy, _chart_outcomes, _chart_classes)
"""Each draws one chart on an axes and returns its caption, or None when there is no data."""


def chart_figures(data: ExportData) -> list[tuple[str, Figure]]:
    """Return ``(caption, figure)`` for each chart of the report (one figure per chart)."""
    out: list[tuple[str, Figure]] = []
    with matplotlib.rc_context(fonts.rc_params()):
        for draw in CHARTS:
            fig, ax = plt.subplots(figsize=(7, 3.6))
            caption = draw(ax, data)
            if caption is None:
                plt.close(fig)
                continue
            ax.set_title(caption, fontsize=10)
            fig.tight_layout()
            out.append((caption, fig))
    return out


def chart_pages(data: ExportData) -> list[Figure]:
    """Return A4 pages with two charts each (for the PDF report)."""
    pages: list[Figure] = []
    with matplotlib.rc_context(fonts.rc_params()):
        fig, slot = None, 0
        for draw in CHARTS:
            if fig is None:
                fig = plt.figure(figsize=A4)
                fig.text(0.07, 0.955, t("export.report.charts", data.lang), fontsize=12,
                         color="#1f3b73", va="top")  # fmt: skip
                slot = 0
            ax = fig.add_axes((0.1, 0.55 - 0.45 * slot, 0.82, 0.34))
            caption = draw(ax, data)
            if caption is None:
                fig.delaxes(ax)
                continue
            ax.set_title(caption, fontsize=10)
            slot += 1
            if slot == 2:
                pages.append(fig)
                fig = None
        if fig is not None:
            if slot:
                pages.append(fig)
            else:
                plt.close(fig)
    return pages


def _png_uri(fig: Figure, dpi: int = 110) -> str:
    buf = io.BytesIO()
    with matplotlib.rc_context(fonts.rc_params()):
        fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# ----------------------------------------------------------------------------- HTML


def _table(frame: pd.DataFrame, lang: str, headers: list[str] | None = None) -> str:
    heads = headers or [label(c, lang) for c in frame.columns]
    th = "".join(f"<th>{escape_html(h)}</th>" for h in heads)
    rows = []
    for _, r in frame.iterrows():
        cells = []
        for c in frame.columns:
            v = r[c]
            num = isinstance(v, int | float | np.number) and not isinstance(v, bool)
            cls = ' class="num"' if num else ""
            cells.append(f"<td{cls}>{escape_html(_fmt(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",
sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em;border-bottom:2px solid #1f3b73;padding-bottom:.3em}
h2{font-size:1.2em;color:#1f3b73;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}
th,td{border:1px solid #ccc;padding:3px 7px;vertical-align:top}
th{background:#dde6f2;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}
.muted{color:#777;font-size:.85em}.warn{color:#a40000}
"""


def report_html(data: ExportData, overview: Figure | None = None) -> str:
    """Return the report as one self-contained HTML page."""
    lang = data.lang
    title = t("export.report.title", lang, scenario=data.scenario_name)
    parts = [
        f"<h1>{escape_html(title)}</h1>",
        '<p class="muted">'
        + escape_html(
            t("export.report.generated", lang, date=datetime.now().strftime("%Y-%m-%d %H:%M"))
        )
        + " · "
        + escape_html(data.source_line())
        + "</p>",
    ]
    summary = pd.DataFrame(summary_rows(data), columns=["key", "item_value"])
    parts += [f"<h2>{escape_html(t('export.report.status', lang))}</h2>", _table(summary, lang)]
    parts += [
        f"<h2>{escape_html(t('export.report.scenario', lang))}</h2>",
        _table(scenario_frame(data), lang),
    ]
    parts += [
        f"<h2>{escape_html(t('export.report.kpis', lang))}</h2>",
        _table(kpi_frame(data), lang),
    ]
    mix = class_mix(data).reset_index(names="class")
    parts += [
        f"<h2>{escape_html(t('export.report.class_mix', lang))}</h2>",
        _table(
            mix,
            lang,
            [label("class", lang), t("export.report.before", lang), t("export.report.after", lang)],
        ),
    ]
    binding = binding_frame(data)
    parts.append(f"<h2>{escape_html(t('export.report.binding', lang))}</h2>")
    parts.append(
        _table(binding, lang)
        if len(binding)
        else f"<p>{escape_html(t('export.report.no_binding', lang))}</p>"
    )
    diag = diagnosis_frame(data)
    if len(diag):
        parts += [f"<h2>{escape_html(t('export.report.diagnosis', lang))}</h2>", _table(diag, lang)]
    if overview is not None:
        parts += [
            f"<h2>{escape_html(t('export.report.overview', lang))}</h2>",
            f'<img alt="overview" src="{_png_uri(overview, 120)}">',
        ]
    charts = chart_figures(data)
    if charts:
        parts.append(f"<h2>{escape_html(t('export.report.charts', lang))}</h2>")
        for caption, fig in charts:
            parts.append(f'<img alt="{escape_html(caption)}" src="{_png_uri(fig)}">')
            plt.close(fig)
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f'<!DOCTYPE html><html lang="{html_lang}"><head><meta charset="utf-8">'
        f"<title>{escape_html(title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )


# ----------------------------------------------------------------------------- PDF


def _text_page(title: str, blocks: list[tuple[str, list[str]]]) -> list[Figure]:
    """Lay out headed blocks of lines on as many A4 pages as needed."""
    pages: list[Figure] = []
    fig = None
    y = 0.0

    def new_page() -> tuple[Figure, float]:
        f = plt.figure(figsize=A4)
        f.text(0.07, 0.955, title, fontsize=14, va="top")
        pages.append(f)
        return f, 0.91

    fig, y = new_page()
    for heading, lines in blocks:
        if y < 0.12:
            fig, y = new_page()
        fig.text(0.07, y, heading, fontsize=11, color="#1f3b73", va="top")
        y -= 0.028
        for line in lines:
            if y < 0.05:
                fig, y = new_page()
            fig.text(0.09, y, line, fontsize=7.5, va="top")
            y -= 0.0165
        y -= 0.015
    return pages


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _wrap(items: list[str], width: int = 104, indent: str = "    ") -> list[str]:
    """Join ``items`` with two spaces into lines of at most ``width`` columns (CJK = 2)."""
    lines: list[str] = []
    line = ""
    for item in items:
        candidate = f"{line}  {item}" if line else item
        if line and _display_width(candidate) > width:
            lines.append(line)
            line = indent + item
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def _rows_text(frame: pd.DataFrame, lang: str) -> list[str]:
    """One wrapped block per row: ``header: value`` items."""
    out: list[str] = []
    for _, r in frame.iterrows():
        out += _wrap([f"{label(c, lang)}: {_fmt(r[c])}" for c in frame.columns])
    return out


def write_report(
    data: ExportData, folder: Path, formats: tuple[str, ...] = ("html", "pdf")
) -> list[Path]:
    """Write ``report.html`` and/or ``report.pdf`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    lang = data.lang
    out: list[Path] = []
    overview = (
        maps.overview_figure(data)
        if data.zone is None
        else (maps.zone_figure(data, data.zone_ids[0]) if data.zone_ids else None)
    )
    if "html" in formats:
        path = folder / "report.html"
        path.write_text(report_html(data, overview), encoding="utf-8")
        out.append(path)
    if "pdf" in formats:
        path = folder / "report.pdf"
        title = t("export.report.title", lang, scenario=data.scenario_name)
        summary = pd.DataFrame(summary_rows(data), columns=["key", "item_value"])
        blocks = [
            (
                t("export.report.status", lang),
                [f"{k}: {_fmt(v)}" for k, v in summary.itertuples(index=False)],
            ),
            (t("export.report.kpis", lang), _rows_text(kpi_frame(data), lang)),
            (
                t("export.report.binding", lang),
                _rows_text(binding_frame(data), lang) or [t("export.report.no_binding", lang)],
            ),
            (
                t("export.report.diagnosis", lang),
                [str(m) for m in diagnosis_frame(data)["message"]]
                or [t("export.diagnosis.none", lang)],
            ),
            (
                t("export.report.scenario", lang),
                [
                    f"{k} = {_fmt(v)}"
                    + (f"  （{d}）" if d and data.lang == "zh" else f"  ({d})" if d else "")
                    for k, v, d in scenario_frame(data).itertuples(index=False)
                ],
            ),
        ]
        with matplotlib.rc_context(fonts.rc_params()):
            with PdfPages(path, metadata={"Title": title}) as pdf:
                for fig in _text_page(title, blocks):
                    pdf.savefig(fig)
                    plt.close(fig)
                if overview is not None:
                    pdf.savefig(overview)
                for fig in chart_pages(data):
                    pdf.savefig(fig)
                    plt.close(fig)
        out.append(path)
    if overview is not None:
        plt.close(overview)
    return out
