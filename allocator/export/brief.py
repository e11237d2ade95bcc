"""The brief (汇报材料): one run, or a run against a base run, on two A4 pages.

Page 1: title and date, the headline KPIs against the base with units, three to
five plain sentences on what changed and why (the binding quotas of
``marginals.parquet`` and what relaxing each is worth in 万元 per unit), the
zones that gain and lose. Page 2: the outcome map. Written as ``brief.pdf``
(reportlab, like the report, with the shipped Noto Sans CJK embedded as a
TrueType subset, so the text is searchable and copyable) and ``brief.docx`` (python-docx,
for planners who edit in Word). The base is the present state of the run
itself, or — for a comparison — the first run.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.export import maps
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
    zone: str = ""
    """The zone's name when the brief is about one zone (its figures alone), else ``""``."""
    map_png: bytes = field(default=b"", repr=False)
    """The outcome map as PNG (the Word file)."""
    map_jpeg: bytes = field(default=b"", repr=False)
    """The same map as JPEG (the PDF: reportlab embeds it as it is)."""


# ----------------------------------------------------------------------------- content


def _present_kpis(data: ExportData) -> dict[str, float | None]:
    """Return the present state under the headline keys (before any plan)."""
    kpis = data.kpis
    out: dict[str, float | None] = {k: kpis.get(v) for k, v in BEFORE_KPIS.items()}
    z = data.run.zones if data.zone is None else data.zones_table
    if "land_used_before_mu" in z.columns:
        out["land_used_mu"] = float(pd.to_numeric(z["land_used_before_mu"]).sum())
    f = data.run.firms
    if data.zone is not None and "occupant_before" in data.plots_table.columns:
        f = f[f["firm_id"].isin(set(data.plots_table["occupant_before"].dropna()))]
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
    """``(zone name, base, plan)`` of :data:`ZONE_METRIC` per zone with finite values.

    One zone's export lists that zone only (the other zones are not in its data).
    """
    z = data.run.zones if data.zone is None else data.zones_table
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
    with_map: bool = True,
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
    with_map
        Take the outcome map (drawn once per export: :func:`allocator.export.maps.map_png`);
        False: no map (the report's summary shows the map in its own section).
    """
    lang = data.lang
    run = data.run
    plan_kpis: Kpis = data.kpis if base is None else run.kpis
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
    ids = maps.map_ids(data)  # the overview, or the one zone asked for
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
        zone=data.zone_name(data.zone) if data.zone is not None and base is None else "",
        map_png=maps.map_png(data, ids[0]) if with_map and ids else b"",
        map_jpeg=maps.map_preview(data, ids[0]) if with_map and ids else b"",
    )


# ----------------------------------------------------------------------------- PDF


def kpi_heading(brief: Brief) -> str:
    """Return the KPI table's heading: 主要指标, or 主要指标（zone） for one zone's figures."""
    if brief.zone:
        return t("brief.kpis_zone", brief.lang, zone=brief.zone)
    return t("brief.kpis", brief.lang)


def scope_note(brief: Brief) -> str:
    """Return the sentence saying the figures are one zone's (``""`` for the whole run)."""
    return t("brief.s.zone_scope", brief.lang, zone=brief.zone) if brief.zone else ""


def brief_texts(brief: Brief) -> list[str]:
    """Return every string the brief's PDF draws (to pick the glyphs its font needs)."""
    lang = brief.lang
    out = [brief.title, brief.meta, brief.base_name, *brief.sentences, *brief.gains]
    out += [*brief.losses, "0123456789 /", *(c for row in brief.kpis for c in row)]
    keys = ("brief.kpis", "brief.col.kpi", "brief.col.plan", "brief.col.change", "brief.why",
            "brief.gains", "brief.losses", "brief.none", "brief.map")  # fmt: skip
    return out + [t(k, lang) for k in keys] + [kpi_heading(brief), scope_note(brief)]


def write_pdf(brief: Brief, path: Path) -> Path:
    """Write the brief as an A4 PDF: page 1 the text and KPI table, page 2 the map.

    Laid out by reportlab like the report (:mod:`allocator.export.report_pdf`), with
    the same CJK font: a TrueType subset (one per export, shared with the report),
    embedded, so the text is searchable and copyable.
    """
    from reportlab import rl_config
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    from allocator.export import report_pdf as rp
    from allocator.export.report_model import Figure, Table

    rl_config.useA85 = 0  # binary image streams (see report_pdf.write_pdf)
    lang = brief.lang
    font = rp.register_font("".join(brief_texts(brief)))
    styles = rp._styles(font, lang)
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=rp.MARGIN_MM * mm,
        rightMargin=rp.MARGIN_MM * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=brief.title,
        author="allocator",
        lang="zh-CN" if lang == "zh" else "en",
        initialFontName=font,
    )
    heads = [t("brief.col.kpi", lang), brief.base_name, t("brief.col.plan", lang),
             t("brief.col.change", lang)]  # fmt: skip
    table = Table(heads, [list(r) for r in brief.kpis], [False, True, True, True],
                  [0.43, 0.19, 0.19, 0.19])  # fmt: skip
    story: list[Any] = [
        Paragraph(rp._esc(brief.title), styles["title"]),
        Paragraph(rp._esc(brief.meta), styles["meta"]),
        Paragraph(rp._esc(kpi_heading(brief)), styles["h1"]),
        *([Paragraph(rp._esc(scope_note(brief)), styles["note"])] if brief.zone else []),
        rp._table(table, styles, doc.width),
        Spacer(1, 6),
        Paragraph(rp._esc(t("brief.why", lang)), styles["h1"]),
    ]
    story += [Paragraph(rp._esc(s), styles["bullet"], bulletText="•") for s in brief.sentences]
    for heading, lines in ((t("brief.gains", lang), brief.gains),
                           (t("brief.losses", lang), brief.losses)):  # fmt: skip
        story.append(Paragraph(rp._esc(heading), styles["h1"]))
        story += [Paragraph(rp._esc(x), styles["bullet"]) for x in lines or [t("brief.none", lang)]]
    total = 2 if brief.map_jpeg else 1
    if brief.map_jpeg:
        story += [PageBreak(), Paragraph(rp._esc(t("brief.map", lang)), styles["h1"])]
        story.append(rp._image(Figure(brief.map_jpeg, t("brief.map", lang)), doc.width))

    def footer(canvas: Any, page_doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor(rp.GREY))
        canvas.drawCentredString(A4[0] / 2, 9 * mm, f"{page_doc.page} / {total}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
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
    doc.add_heading(kpi_heading(brief), level=2)
    if brief.zone:
        doc.add_paragraph(scope_note(brief))
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


def write_brief(
    data: ExportData, folder: Path, base: Any = None, *, built: Brief | None = None
) -> list[Path]:
    """Write ``brief.pdf`` and ``brief.docx`` into ``folder``; return both paths.

    ``built``: the brief's content when already built (default: :func:`build_brief`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    brief = built if built is not None else build_brief(data, base)
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
