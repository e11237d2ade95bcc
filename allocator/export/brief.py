"""The brief (汇报材料): one run, or a run against a base run, on two A4 pages.

Page 1: title and date, the headline KPIs against the base with units, three to
five plain sentences on what changed and why (the binding quotas of
``marginals.parquet`` and what relaxing each is worth in 万元 per unit), the
zones that gain and lose. Page 2: the outcome map. Written as ``brief.pdf``
(matplotlib's PDF backend with the shipped Noto Sans CJK embedded as a Type 42
subset, so the text is searchable and copyable) and ``brief.docx`` (python-docx,
for planners who edit in Word). The base is the present state of the run
itself, or — for a comparison — the first run.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from allocator.export import fonts, maps
from allocator.export.data import ExportData, collect, constraint_label
from allocator.i18n import t
from allocator.kpis import (
    BEFORE_KPIS,
    HEADLINE_KPIS,
    MEASURE_KPIS,
    Kpis,
    format_delta,
    format_kpi,
    kpi_label,
    shown_kpis,
)
from allocator.status import run_status_label
from allocator.units import display_rate, planner_unit

A4_IN = (8.27, 11.69)
MAX_BINDING = 3
"""Binding quotas named in the brief (largest marginal value first)."""
MAX_ZONES = 3
"""Zones listed as gaining and as losing."""
ZONE_METRIC = "tax_per_mu_after"
"""The per-zone figure whose change ranks zones as gaining or losing (亩均税收)."""


@dataclass(frozen=True)
class Brief:
    """The content of a brief, in one language, ready to lay out."""

    title: str
    meta: str
    base_name: str
    kpis: list[tuple[str, str, str, str]]
    """Rows ``(label with unit, base, plan, change)``."""
    sentences: list[str]
    gains: list[str]
    losses: list[str]
    lang: str
    map_png: bytes = field(default=b"", repr=False)


# ----------------------------------------------------------------------------- content


def _present_kpis(data: ExportData) -> dict[str, float | None]:
    """Return the present state under the headline keys (before any plan)."""
    kpis = data.run.kpis
    out: dict[str, float | None] = {k: kpis.get(v) for k, v in BEFORE_KPIS.items()}
    z = data.run.zones
    if "land_used_before_mu" in z.columns:
        out["land_used_mu"] = float(pd.to_numeric(z["land_used_before_mu"]).sum())
    f = data.run.firms
    if "kind" in f.columns:
        out["firms_served"] = float((f["kind"].astype(str) != "applicant").sum())
    out["applicants_admitted"] = 0.0
    out["firms_moved_out"] = 0.0
    for key in MEASURE_KPIS:  # no upgrade, reuse or land term before any plan
        out.setdefault(key, 0.0)
    return out


def _number(value: float) -> str:
    """Format a marginal value to the digits that mean something (3 significant, whole ≥ 100)."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _pct(plan: float | None, base: float | None) -> str:
    if plan is None or base is None or not base:
        return ""
    return f"{100 * (plan - base) / abs(base):+.1f}%"


def binding_quotas(data: ExportData) -> list[tuple[str, float, str]]:
    """Binding quota rows, largest marginal value first: ``(where·family, 万元 per unit, unit)``.

    ``unit`` is the planner's word for one unit of the quota (吨标准煤, 万千瓦时, 吨).
    """
    m = data.marginals
    if m.empty or not {"binding", "value", "family"} <= set(m.columns):
        return []
    b = m[m["binding"].astype(bool) & (pd.to_numeric(m["value"], errors="coerce") > 1e-9)]
    b = b.sort_values("value", ascending=False)
    out = []
    for _, row in b.head(MAX_BINDING).iterrows():
        what = constraint_label(row, data)
        per = str(row.get("unit") or "").split("/")[-1]
        if per == "MWh":  # per 万千瓦时, the unit planners read (allocator.units)
            value, _ = display_rate(float(row["value"]), "万元/MWh", data.lang)
            out.append((what, value, planner_unit(per, data.lang)[1]))
            continue
        out.append((what, float(row["value"]), t(f"brief.unit.{per}", data.lang) if per else ""))
    return out


def _zone_changes(data: ExportData, base: Any) -> list[tuple[str, float, float]]:
    """``(zone name, base, plan)`` of :data:`ZONE_METRIC` per zone with finite values."""
    z = data.run.zones
    if "zone_id" not in z.columns or ZONE_METRIC not in z.columns:
        return []
    plan = pd.to_numeric(z.set_index(z["zone_id"].astype(str))[ZONE_METRIC], errors="coerce")
    if base is None:
        if "tax_per_mu_before" not in z.columns:
            return []
        before = pd.to_numeric(
            z.set_index(z["zone_id"].astype(str))["tax_per_mu_before"], errors="coerce"
        )
    else:
        bz = base.zones
        if "zone_id" not in bz.columns or ZONE_METRIC not in bz.columns:
            return []
        before = pd.to_numeric(bz.set_index(bz["zone_id"].astype(str))[ZONE_METRIC])
    out = []
    for zid in plan.index:
        p, b = plan.get(zid), before.get(zid)
        if p is None or b is None or not (math.isfinite(p) and math.isfinite(b)):
            continue
        out.append((data.zone_name(zid), float(b), float(p)))
    return out


def build_brief(
    data: ExportData,
    base: Any = None,
    base_name: str | None = None,
    *,
    map_png: bytes | None = None,
) -> Brief:
    """Return the brief's content for ``data``'s run against ``base`` (a Run) or the present.

    Parameters
    ----------
    data
        The collected export data of the run the brief is about.
    base
        A :class:`~allocator.runs.Run` to compare against (a comparison's first
        run); None: the run's own present state.
    base_name
        How the base is called in the table header (default: 现状 / the base's scenario).
    map_png
        The outcome map when already drawn (the report reuses the exported overview);
        None: drawn here.
    """
    lang = data.lang
    run = data.run
    plan_kpis: Kpis = run.kpis
    if base is None:
        before = _present_kpis(data)
        base_name = base_name or t("brief.present", lang)
    else:
        before = {k: base.kpis.get(k) for k in HEADLINE_KPIS + MEASURE_KPIS}
        base_name = base_name or str(base.summary.get("scenario_name") or base.path.name)
    rows = []
    for key in shown_kpis(plan_kpis, before):
        p, b = plan_kpis.get(key), before.get(key)
        delta = None if p is None or b is None else p - b
        rows.append(
            (kpi_label(key, lang), format_kpi(key, b), format_kpi(key, p))
            + (format_delta(key, delta),)
        )

    def k(key: str) -> str:
        return format_kpi(key, plan_kpis.get(key))

    def d(key: str) -> str:
        p, b = plan_kpis.get(key), before.get(key)
        text = format_delta(key, None if p is None or b is None else p - b)
        pct = _pct(p, b)
        return f"{text}（{pct}）" if pct and lang == "zh" else f"{text} ({pct})" if pct else text

    sentences = [
        t(
            "brief.s.value",
            lang,
            va=k("value_added_wan"),
            dva=d("value_added_wan"),
            tax=k("tax_wan"),
            dtax=d("tax_wan"),
            base=base_name,
        ),  # fmt: skip
        t(
            "brief.s.resources",
            lang,
            energy=k("energy_tce"),
            denergy=d("energy_tce"),
            elec=k("electricity_mwh"),
            delec=d("electricity_mwh"),
            land=k("land_used_mu"),
        ),  # fmt: skip
        t(
            "brief.s.firms",
            lang,
            admitted=k("applicants_admitted"),
            moved=k("firms_moved_out"),
            served=k("firms_served"),
        ),  # fmt: skip
    ]
    quotas = binding_quotas(data)
    if quotas:
        sep = "；" if lang == "zh" else "; "
        items = sep.join(
            t("brief.s.quota_item", lang, what=w, value=_number(v), unit=u) for w, v, u in quotas
        )
        sentences.append(t("brief.s.binding", lang, items=items))
        sentences.append(t("brief.s.meaning", lang))
    else:
        sentences.append(t("brief.s.no_binding", lang))
    changes = sorted(_zone_changes(data, base), key=lambda r: r[2] - r[1], reverse=True)

    def zone_line(name: str, b: float, p: float) -> str:
        return t("brief.zone_line", lang, zone=name, before=f"{b:,.1f}", after=f"{p:,.1f}",
                 delta=f"{p - b:+,.1f}")  # fmt: skip

    gains = [zone_line(*c) for c in changes if c[2] - c[1] > 0.05][:MAX_ZONES]
    losses = [zone_line(*c) for c in reversed(changes) if c[2] - c[1] < -0.05][:MAX_ZONES]
    status = run_status_label(run, lang)
    meta = t("brief.meta", lang, date=data.created, scenario=data.scenario_name, status=status)
    return Brief(
        title=t("brief.title", lang, scenario=data.scenario_name),
        meta=meta,
        base_name=base_name,
        kpis=rows,
        sentences=sentences,
        gains=gains,
        losses=losses,
        lang=lang,
        map_png=_map_png(data) if map_png is None else map_png,
    )


def _map_png(data: ExportData) -> bytes:
    """Return the outcome map (overview, or the one zone asked for) as PNG bytes (drawn once)."""
    if data.zone is None:
        return maps.map_png(data)
    return maps.map_png(data, data.zone_ids[0]) if data.zone_ids else b""


# ----------------------------------------------------------------------------- PDF


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """Split ``text`` into lines of at most ``width`` columns (a CJK character is 2).

    Latin text breaks at spaces; CJK text anywhere.
    """
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        if line and _width(line + token) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    word = ""
    for ch in text:
        if ord(ch) > 0x2E80:
            if word:
                out.append(word)
                word = ""
            out.append(ch)
        elif ch == " ":
            out.append(word + " ")
            word = ""
        else:
            word += ch
    if word:
        out.append(word)
    return out


def pdf_pages(brief: Brief) -> list[Figure]:
    """Lay the brief out on two A4 pages (text and table; map)."""
    lang = brief.lang
    left, blue = 0.08, "#1f3b73"
    pages: list[Figure] = []
    with matplotlib.rc_context(fonts.rc_params()):
        fig = plt.figure(figsize=A4_IN)
        fig.text(left, 0.95, brief.title, fontsize=16, va="top")
        fig.text(left, 0.915, brief.meta, fontsize=9, va="top", color="#555555")
        fig.text(left, 0.88, t("brief.kpis", lang), fontsize=12, va="top", color=blue)
        n = len(brief.kpis) + 1
        height = 0.024 * n
        ax = fig.add_axes((left, 0.865 - height, 1 - 2 * left, height))
        ax.axis("off")
        heads = [t("brief.col.kpi", lang), brief.base_name, t("brief.col.plan", lang),
                 t("brief.col.change", lang)]  # fmt: skip
        table = ax.table(
            cellText=[list(r) for r in brief.kpis],
            colLabels=heads,
            colWidths=[0.43, 0.19, 0.19, 0.19],
            cellLoc="right",
            loc="upper left",
            bbox=Bbox.from_bounds(0, 0, 1, 1),
        )
        table.auto_set_font_size(False)
        table.set_fontsize(9)
        for (r, c), cell in table.get_celld().items():
            cell.set_edgecolor("#bbbbbb")
            if r == 0:
                cell.set_facecolor("#dde6f2")
                cell.get_text().set_horizontalalignment("center")
            elif c == 0:
                cell.get_text().set_horizontalalignment("left")
        y = 0.865 - height - 0.03
        fig.text(left, y, t("brief.why", lang), fontsize=12, va="top", color=blue)
        y -= 0.03
        width = 92 if lang == "zh" else 100
        for s in brief.sentences:
            for i, line in enumerate(wrap(s, width)):
                fig.text(left + (0 if i == 0 else 0.02), y, ("• " if i == 0 else "") + line,
                         fontsize=10, va="top")  # fmt: skip
                y -= 0.021
            y -= 0.006
        y -= 0.015
        for heading, lines in ((t("brief.gains", lang), brief.gains),
                               (t("brief.losses", lang), brief.losses)):  # fmt: skip
            fig.text(left, y, heading, fontsize=12, va="top", color=blue)
            y -= 0.03
            for line in lines or [t("brief.none", lang)]:
                fig.text(left + 0.02, y, line, fontsize=10, va="top")
                y -= 0.021
            y -= 0.012
        pages.append(fig)
        fig2 = plt.figure(figsize=A4_IN)
        fig2.text(left, 0.95, t("brief.map", lang), fontsize=12, va="top", color=blue)
        if brief.map_png:
            img = plt.imread(io.BytesIO(brief.map_png), format="png")
            ax2 = fig2.add_axes((left, 0.1, 1 - 2 * left, 0.82))
            ax2.imshow(img)
            ax2.axis("off")
        pages.append(fig2)
        for i, page in enumerate(pages, start=1):
            page.text(0.5, 0.025, f"{i} / {len(pages)}", ha="center", fontsize=8, color="#777777")
    return pages


def write_pdf(brief: Brief, path: Path) -> Path:
    """Write the brief as a PDF with the CJK font embedded as a Type 42 subset."""
    from matplotlib.backends.backend_pdf import PdfPages

    rc = {**fonts.rc_params(), "pdf.fonttype": 42}
    with matplotlib.rc_context(rc):
        pages = pdf_pages(brief)
        with PdfPages(path, metadata={"Title": brief.title}) as pdf:
            for fig in pages:
                pdf.savefig(fig)
                plt.close(fig)
    return path


# ----------------------------------------------------------------------------- Word


DOCX_FONT = {"zh": "微软雅黑", "en": "Calibri"}
"""Font named in the Word file (Word on planners' machines has it; LibreOffice substitutes)."""


def write_docx(brief: Brief, path: Path) -> Path:
    """Write the brief as a Word document (A4, the same content as the PDF)."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    lang = brief.lang
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))
    normal = doc.styles["Normal"]
    normal.font.name = DOCX_FONT[lang]
    normal.font.size = Pt(10.5)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), DOCX_FONT["zh"])
    doc.core_properties.title = brief.title
    doc.add_heading(brief.title, level=1)
    doc.add_paragraph(brief.meta)
    doc.add_heading(t("brief.kpis", lang), level=2)
    heads = [t("brief.col.kpi", lang), brief.base_name, t("brief.col.plan", lang),
             t("brief.col.change", lang)]  # fmt: skip
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, heads, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for row in brief.kpis:
        cells = table.add_row().cells
        for i, (cell, text) in enumerate(zip(cells, row, strict=True)):
            cell.text = text
            if i:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_heading(t("brief.why", lang), level=2)
    for s in brief.sentences:
        doc.add_paragraph(s, style="List Bullet")
    for heading, lines in ((t("brief.gains", lang), brief.gains),
                           (t("brief.losses", lang), brief.losses)):  # fmt: skip
        doc.add_heading(heading, level=2)
        for line in lines or [t("brief.none", lang)]:
            doc.add_paragraph(line)
    if brief.map_png:
        doc.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
        doc.add_heading(t("brief.map", lang), level=2)
        doc.add_picture(io.BytesIO(brief.map_png), width=Cm(17.0))
    doc.save(str(path))
    return path


def write_brief(data: ExportData, folder: Path, base: Any = None) -> list[Path]:
    """Write ``brief.pdf`` and ``brief.docx`` into ``folder``; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    brief = build_brief(data, base)
    return [write_pdf(brief, folder / "brief.pdf"), write_docx(brief, folder / "brief.docx")]


def write_comparison_brief(
    runs: Any, out_dir: str | Path, lang: str | None = "zh", *, case: Any = None
) -> list[Path]:
    """Write the brief of a comparison: the last run against the first, into ``out_dir``.

    Parameters
    ----------
    runs
        Two run folders or :class:`~allocator.runs.Run` (base first), or a
        :class:`~allocator.compare.Comparison` (its first and last run).
    out_dir
        Folder for ``brief.pdf`` and ``brief.docx`` (written atomically).
    lang
        ``zh`` or ``en``.
    case
        The plan run's case when already loaded.
    """
    from allocator.runs import Run, load_run
    from allocator.safety import staged_folder

    items = list(getattr(runs, "runs", runs))
    items = [r if isinstance(r, Run) else load_run(r) for r in items]
    base, run = items[0], items[-1]
    data = collect(run, case=case, lang=lang, zone=None, require_solution=True)
    final = Path(out_dir)
    with staged_folder(final) as out:
        written = write_brief(data, out, base=base)
        names = [p.name for p in written]
    return [final / n for n in names]
