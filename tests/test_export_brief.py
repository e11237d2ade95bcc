"""The brief (汇报材料): ``allocator export RUN --format brief`` and ``compare --brief``.

Checks the files as a planner's tools read them: the PDF's page count and size,
its embedded CJK font and its text (pypdf), the Word file read back by
python-docx and — when LibreOffice is installed — converted by it.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest_export import export_result, make_export_run

from allocator.cli import main
from allocator.kpis import HEADLINE_KPIS, format_kpi
from allocator.runs import load_run, write_run

pypdf = pytest.importorskip("pypdf")
docx = pytest.importorskip("docx")

A4_PT = (595.0, 842.0)


@pytest.fixture(scope="module")
def briefed(tmp_path_factory):
    base = tmp_path_factory.mktemp("brief")
    run_path = make_export_run(base)
    out = base / "out"
    assert main(["export", str(run_path), "--format", "brief", "-o", str(out)]) == 0
    return {"run": load_run(run_path), "out": out, "base": base}


def _pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages)


def _embedded_fonts(path: Path) -> list[tuple[str, bool]]:
    """``(base font name, has an embedded font file)`` for every font the PDF uses."""
    out = []
    for page in pypdf.PdfReader(path).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descs = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
            for d in descs:
                fd = d.get("/FontDescriptor")
                fd = fd.get_object() if fd is not None else {}
                embedded = any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                out.append((str(font.get("/BaseFont")), embedded))
    return out


def test_brief_pdf_is_two_a4_pages_with_the_runs_kpis(briefed):
    pdf = briefed["out"] / "brief.pdf"
    reader = pypdf.PdfReader(pdf)
    assert 1 <= len(reader.pages) <= 2
    for page in reader.pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(w - A4_PT[0]) < 2
        assert abs(h - A4_PT[1]) < 2
    text = _pdf_text(pdf)
    kpis = briefed["run"].kpis
    for key in HEADLINE_KPIS:
        assert format_kpi(key, kpis[key]) in text, key
    # the hand-made run: value added 19,800 + ... is in the table; Chinese text is real text
    assert "要素配置方案汇报" in text
    assert "增加值（万元）" in text
    # the binding zone energy quota of Z01 at 11 万元/tce, in planner words
    assert "能耗总量每放宽 1 吨标准煤约值 11 万元" in text


def test_brief_pdf_embeds_a_cjk_font(briefed):
    fonts = _embedded_fonts(briefed["out"] / "brief.pdf")
    cjk = [name for name, embedded in fonts if "CJK" in name and embedded]
    assert cjk, fonts
    assert all(embedded for _, embedded in fonts), fonts


def test_brief_docx_reads_back(briefed):
    doc = docx.Document(str(briefed["out"] / "brief.docx"))
    section = doc.sections[0]
    assert abs(section.page_width.cm - 21.0) < 0.1
    assert abs(section.page_height.cm - 29.7) < 0.1
    table = doc.tables[0]
    cells = [[c.text for c in row.cells] for row in table.rows]
    kpis = briefed["run"].kpis
    plan = {row[0]: row[2] for row in cells[1:]}
    assert plan["增加值（万元）"] == format_kpi("value_added_wan", kpis["value_added_wan"])
    assert plan["在区/入区企业数"] == format_kpi("firms_served", kpis["firms_served"])
    assert doc.inline_shapes, "the outcome map is in the document"


def test_brief_docx_opens_in_libreoffice(briefed, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed here")
    subprocess.run(
        [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
         str(briefed["out"] / "brief.docx")],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    text = _pdf_text(tmp_path / "brief.pdf")
    assert format_kpi("tax_wan", briefed["run"].kpis["tax_wan"]) in text


def test_brief_in_english(briefed, tmp_path):
    out = tmp_path / "en"
    assert main(["export", str(briefed["run"].path), "-f", "brief", "--lang", "en",
                 "-o", str(out)]) == 0  # fmt: skip
    text = _pdf_text(out / "brief.pdf")
    assert "Allocation plan brief" in text
    assert "Value added (10k yuan)" in text
    assert "要素配置" not in text


def test_comparison_brief_reports_the_second_run_against_the_first(briefed, tmp_path, capsys):
    first = briefed["run"]
    result = export_result(Path(first.summary["case_path"]))
    firms = result.firms.copy()
    f001 = firms["firm_id"] == "F001"
    old = float(firms.loc[f001, "value_added_wan"].iloc[0])
    firms.loc[f001, "value_added_wan"] = old + 5200.0
    second = write_run(
        dataclasses.replace(result, firms=firms, scenario_name="tiny_more"), tmp_path / "runs"
    )
    out = tmp_path / "cmp"
    assert main(["compare", str(first.path), str(second), "--brief", str(out)]) == 0
    assert "brief.pdf" in capsys.readouterr().out
    text = _pdf_text(out / "brief.pdf")
    before = first.kpis["value_added_wan"]
    after = load_run(second).kpis["value_added_wan"]
    assert after - before == pytest.approx(5200.0)
    assert format_kpi("value_added_wan", before) in text
    assert format_kpi("value_added_wan", after) in text
    assert "+5,200" in text
    assert "tiny_export" in text  # the base column is named after the first run


@pytest.mark.skipif(
    shutil.which("pdffonts") is None or shutil.which("pdftoppm") is None,
    reason="poppler (pdffonts, pdftoppm) is not installed",
)
def test_brief_pdf_font_is_an_embedded_truetype_subset_poppler_reads_cleanly(briefed, tmp_path):
    pdf = briefed["out"] / "brief.pdf"
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    rows = out.stdout.splitlines()[2:]
    assert rows, out.stdout
    for row in rows:
        parts = row.split()
        # name, type, encoding, emb, sub, uni, object, id: a subset name is "ABCDEF+..."
        assert parts[1] == "TrueType", row
        assert parts[-5:-2] == ["yes", "yes", "yes"], row
        assert re.fullmatch(r"[A-Z]{6}\+\S*CJK\S*", parts[0]), row
    assert "Mismatch" not in out.stderr
    raster = subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(tmp_path / "p")],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert raster.returncode == 0
    assert raster.stderr.strip() == "", raster.stderr  # no "Mismatch between font type" warning
