"""The report as an A4 PDF, laid out by reportlab's Platypus.

reportlab embeds TrueType (``glyf``) fonts only, and the shipped Noto Sans CJK
(:mod:`allocator.export.fonts`) is an OpenType collection with CFF outlines. So
for each report the glyphs its text uses are taken from the collection's
Simplified Chinese face, their cubic outlines converted to quadratic ones
(fontTools' ``cu2qu``) and written as a small TrueType font, which reportlab
registers and embeds as a subset: the PDF carries its own CJK font, text stays
searchable and copyable. Every page has a running header (report title; run
folder and date) and the footer ``第 n 页 / 共 m 页``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import string
from pathlib import Path
from typing import Any

from allocator.export.report_model import Figure, Heading, Para, Report, Table
from allocator.i18n import t

BLUE = "#1f3b73"
GREY = "#666666"
MARGIN_MM = 18.0
PAD = 3.0
"""Cell padding left and right (pt)."""
FONT_FAMILY_NAME = "Noto Sans CJK SC"
"""The face taken from the shipped collection (Simplified Chinese glyph forms)."""

EXTRA_CHARS = "•·—…"
"""Characters the layout adds to the report's own text (the bullet)."""
_GLYPHS: dict[str, Any] = {}
"""Converted (quadratic) glyphs and their ``(advance, lsb)`` by name, shared by the reports
of a process."""


# ----------------------------------------------------------------------------- the font


@functools.lru_cache(maxsize=1)
def _source_font() -> tuple[Any, dict[int, str], str]:
    """Return the CJK source face (fontTools, lazy), its cmap and its PostScript name.

    The shipped collection's Simplified Chinese face; without the package, the
    file matplotlib resolves the CJK family to (a system font).
    """
    from fontTools.ttLib import TTCollection, TTFont

    from allocator.export import fonts

    path = fonts.shipped_font_path() or fonts.font_file()
    if Path(path).suffix.lower() in (".ttc", ".otc"):
        faces = TTCollection(str(path), lazy=True).fonts
        face = next((f for f in faces if f["name"].getDebugName(1) == FONT_FAMILY_NAME), faces[0])
    else:
        face = TTFont(str(path), lazy=True)
    ps_name = str(face["name"].getDebugName(6) or "CJK").replace(" ", "")
    return face, face.getBestCmap(), ps_name


def subset_font(text: str, tag: str = "") -> tuple[io.BytesIO, str]:
    """Return a TrueType font holding the glyphs of ``text`` (and ``.notdef``) and its name.

    The glyphs come from :func:`_source_font`; CFF outlines are converted to
    TrueType curves so that reportlab can embed the font. ``tag`` is appended to
    the PostScript name: reportlab keeps one font per face name, so each subset
    needs its own.
    """
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    face, cmap, ps_name = _source_font()
    ps_name = f"{ps_name}-{tag}" if tag else ps_name
    # the CFF charstrings themselves (a glyph set reads the 65,000-glyph hmtx and vmtx
    # first: 0.2 s); a charstring knows its advance width once drawn
    cff = face["CFF "].cff
    charstrings = cff[cff.fontNames[0]].CharStrings
    order = [".notdef"]
    mapping: dict[int, str] = {}
    for ch in sorted(set(text)):
        name = cmap.get(ord(ch))
        if name is None:
            continue
        mapping[ord(ch)] = name
        if name not in order:
            order.append(name)
    glyphs = {}
    for name in order:
        if name not in _GLYPHS:
            source = charstrings[name]
            pen = TTGlyphPen(None)
            source.draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyph = pen.glyph()
            glyph.recalcBounds(None)
            lsb = glyph.xMin if glyph.numberOfContours else 0
            _GLYPHS[name] = (glyph, (round(source.width), int(lsb)))
        glyphs[name] = _GLYPHS[name]
    builder = FontBuilder(face["head"].unitsPerEm, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap(mapping)
    builder.setupGlyf({n: g for n, (g, _) in glyphs.items()})
    builder.setupHorizontalMetrics({n: m for n, (_, m) in glyphs.items()})
    builder.setupHorizontalHeader(ascent=face["hhea"].ascent, descent=face["hhea"].descent)
    builder.setupNameTable(
        {"familyName": FONT_FAMILY_NAME, "styleName": "Regular", "psName": ps_name}
    )
    os2 = face["OS/2"]
    builder.setupOS2(
        sTypoAscender=os2.sTypoAscender,
        sTypoDescender=os2.sTypoDescender,
        usWinAscent=os2.usWinAscent,
        usWinDescent=os2.usWinDescent,
        fsType=0,
    )
    builder.setupPost()
    buf = io.BytesIO()
    builder.save(buf)
    buf.seek(0)
    return buf, ps_name


_REGISTERED: dict[frozenset[str], str] = {}
"""The CJK subsets registered with reportlab in this process, by the characters they hold."""


def register_font(text: str) -> str:
    """Register the CJK subset for ``text`` with reportlab; return its reportlab name.

    A subset registered before in this process that holds every character of
    ``text`` is used again: the report and the brief of one export share one
    subset (reportlab embeds only the glyphs each document draws).
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    wanted = frozenset(text + string.printable.strip() + " " + EXTRA_CHARS)
    for chars, name in _REGISTERED.items():
        if wanted <= chars:
            return name
    ordered = "".join(sorted(wanted))
    tag = hashlib.sha1(ordered.encode("utf-8")).hexdigest()[:12]
    name = "CJK-" + tag
    if name not in pdfmetrics.getRegisteredFontNames():
        buf, _ = subset_font(ordered, tag)
        pdfmetrics.registerFont(TTFont(name, buf))
    _REGISTERED[wanted] = name
    return name


# ----------------------------------------------------------------------------- layout


def _styles(font: str, lang: str) -> dict[str, Any]:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    wrap = "CJK" if lang == "zh" else None
    base = ParagraphStyle("body", fontName=font, bulletFontName=font, fontSize=9.5, leading=14,
                          wordWrap=wrap, spaceAfter=3)  # fmt: skip
    cell = ParagraphStyle("cell", parent=base, fontSize=7.6, leading=9.6, spaceAfter=0)
    return {
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontSize=17,
            leading=22,
            textColor=colors.HexColor(BLUE),
            spaceAfter=4,
        ),  # fmt: skip
        "meta": ParagraphStyle(
            "meta",
            parent=base,
            fontSize=8.5,
            leading=12,
            textColor=colors.HexColor(GREY),
            spaceAfter=8,
        ),  # fmt: skip
        "h1": ParagraphStyle(
            "h1",
            parent=base,
            fontSize=13,
            leading=18,
            spaceBefore=6,
            spaceAfter=6,
            textColor=colors.HexColor(BLUE),
        ),  # fmt: skip
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontSize=10.5,
            leading=14,
            spaceBefore=8,
            spaceAfter=4,
            textColor=colors.HexColor(BLUE),
        ),  # fmt: skip
        "body": base,
        "bullet": ParagraphStyle("bullet", parent=base, leftIndent=12, bulletIndent=2),
        "note": ParagraphStyle(
            "note", parent=base, fontSize=8, leading=11, textColor=colors.HexColor(GREY)
        ),  # fmt: skip
        "cell": cell,
        "cell_num": ParagraphStyle("cell_num", parent=cell, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=cell, textColor=colors.HexColor(BLUE)),
        "caption": ParagraphStyle("caption", parent=cell, fontSize=8.5, leading=11),
    }


def _esc(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(str(text))


def _table(block: Table, styles: dict[str, Any], width: float) -> Any:
    """Return a reportlab table; a cell wraps (as a Paragraph) only when its text does not fit.

    Plain string cells draw about ten times faster than Paragraphs, which matters for
    the long firm and quota tables.
    """
    from reportlab.lib import colors
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph, TableStyle
    from reportlab.platypus import Table as RLTable

    rel = block.widths or [1.0] * len(block.headers)
    total = sum(rel)
    widths = [width * w / total for w in rel]
    cell = styles["cell"]
    font, size = cell.fontName, cell.fontSize

    def fits(text: str, j: int) -> bool:
        return "\n" not in text and stringWidth(text, font, size) <= widths[j] - 2 * PAD

    head = [
        h if fits(h, j) else Paragraph(_esc(h), styles["head"]) for j, h in enumerate(block.headers)
    ]
    body = [
        [
            c if fits(c, j) else Paragraph(_esc(c), styles["cell_num" if num else "cell"])
            for j, (c, num) in enumerate(zip(row, block.numeric, strict=True))
        ]
        for row in block.rows
    ]
    table = RLTable([head, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
    commands: list[Any] = [
        ("FONT", (0, 0), (-1, -1), font, size, cell.leading),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.HexColor(BLUE)),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f2")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f7fa")]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
    ]
    for j, num in enumerate(block.numeric):
        if num:
            commands.append(("ALIGN", (j, 1), (j, -1), "RIGHT"))
    table.setStyle(TableStyle(commands))
    return table


def _image(fig: Figure, width: float) -> Any:
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    w_px, h_px = ImageReader(io.BytesIO(fig.image)).getSize()
    w = width * fig.width
    return Image(io.BytesIO(fig.image), width=w, height=w * h_px / w_px)


def _figures(figs: list[Figure], styles: dict[str, Any], width: float) -> list[Any]:
    """Lay figures out: a full-width one alone, half-width ones two to a row with captions."""
    from reportlab.platypus import KeepTogether, Paragraph, Spacer
    from reportlab.platypus import Table as RLTable

    out: list[Any] = []
    small = [f for f in figs if f.width <= 0.5]
    for fig in figs:
        if fig.width > 0.5:
            out.append(KeepTogether([_image(fig, width), Paragraph(_esc(fig.caption),
                                     styles["caption"]), Spacer(1, 8)]))  # fmt: skip
    cells = [[_image(f, width * 0.97), Paragraph(_esc(f.caption), styles["caption"])]
             for f in small]  # fmt: skip
    for i in range(0, len(cells), 2):
        row = cells[i : i + 2] + ([""] if len(cells[i : i + 2]) == 1 else [])
        grid = RLTable([row], colWidths=[width / 2, width / 2], hAlign="LEFT")
        grid.setStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("FONT", (0, 0), (-1, -1), styles["caption"].fontName),
                       ("LEFTPADDING", (0, 0), (-1, -1), 0)])  # fmt: skip
        out.append(grid)
    return out


def _flowables(blocks: list[Any], styles: dict[str, Any], width: float) -> list[Any]:
    from reportlab.platypus import CondPageBreak, Paragraph, Spacer

    out: list[Any] = []
    pending: list[Figure] = []
    for block in [*blocks, None]:
        if isinstance(block, Figure):
            pending.append(block)
            continue
        if pending:
            out += _figures(pending, styles, width)
            pending = []
        if block is None:
            break
        if isinstance(block, Heading):
            out += [CondPageBreak(60), Paragraph(_esc(block.text), styles["h2"])]
        elif isinstance(block, Para):
            if block.style == "bullet":
                out.append(Paragraph(_esc(block.text), styles["bullet"], bulletText="•"))
            else:
                out.append(Paragraph(_esc(block.text), styles[block.style]))
        elif isinstance(block, Table):
            out += [_table(block, styles, width), Spacer(1, 6)]
        else:
            raise TypeError(f"unknown report block {type(block).__name__}")
    return out


def _canvas_class(report: Report, font: str) -> type:
    """Return a canvas class that draws the header and ``第 n 页 / 共 m 页`` at the end.

    The page count is known only when the document is built, so each page's
    state is kept and the header and footer drawn in :meth:`save`.
    """
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            w, h = self._pagesize
            self.saveState()
            self.setFont(font, 8)
            self.setFillColor(colors.HexColor(GREY))
            top = h - 11 * mm
            self.drawString(MARGIN_MM * mm, top, report.title)
            self.drawRightString(w - MARGIN_MM * mm, top, report.header)
            self.setStrokeColor(colors.HexColor("#cccccc"))
            self.setLineWidth(0.5)
            self.line(MARGIN_MM * mm, top - 2.5 * mm, w - MARGIN_MM * mm, top - 2.5 * mm)
            page = t("report.page", report.lang, n=self._pageNumber, m=total)
            self.drawCentredString(w / 2, 9 * mm, page)
            self.restoreState()

    return NumberedCanvas


def font_text(report: Report) -> str:
    """Return every character the report's PDF draws: its text, page footer and headings."""
    footer = t("report.page", report.lang, n=0, m=0) + "0123456789"
    return "".join(report.texts()) + footer + t("report.summary", report.lang)


def write_pdf(report: Report, path: Path) -> Path:
    """Write ``report`` as an A4 PDF: summary page, then one section after another."""
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import CondPageBreak, PageBreak, Paragraph, SimpleDocTemplate

    # images as binary streams: ASCII85 (reportlab's default, pure Python without its C
    # accelerator) took 7 of 10 s on the sample run and makes the file a quarter larger
    rl_config.useA85 = 0

    font = register_font(font_text(report))
    styles = _styles(font, report.lang)
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=MARGIN_MM * mm,
        rightMargin=MARGIN_MM * mm,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=report.title,
        author="allocator",
        lang="zh-CN" if report.lang == "zh" else "en",
        initialFontName=font,
    )
    width = doc.width
    story: list[Any] = [
        Paragraph(_esc(report.title), styles["title"]),
        Paragraph(_esc(report.meta), styles["meta"]),
    ]
    story += _flowables(report.summary, styles, width)
    story.append(PageBreak())
    for i, section in enumerate(report.sections):
        maps = any(isinstance(b, Figure) for b in section.blocks)
        if i and maps:
            story.append(PageBreak())
        elif i:
            story.append(CondPageBreak(200))
        story.append(Paragraph(_esc(section.title), styles["h1"]))
        story += _flowables(section.blocks, styles, width)
    doc.build(story, canvasmaker=_canvas_class(report, font))
    return path
