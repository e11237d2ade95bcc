"""The full report: ``allocator export RUN --format report`` read back as a planner's tools read it.

poppler's ``pdftotext`` gives each page's text (the KPI figures as displayed,
the page numbers, the planner labels), ``pdffonts`` the fonts and whether each
is embedded. Runs: the hand-made run of tests/conftest_export.py and an
infeasible run with a diagnosis.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from app_helpers import internal_identifiers
from conftest_export import make_export_run, write_infeasible_run

from allocator.cli import main
from allocator.export import export
from allocator.export.data import collect
from allocator.export.report import (
    Figure,
    Table,
    build_report,
    number_text,
    quota_meaning,
    quota_table,
)
from allocator.kpis import HEADLINE_KPIS, format_kpi, kpi_label
from allocator.runs import load_run, run_name
from allocator.status import run_status_label

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="poppler (pdftotext, pdffonts) is not installed",
)

SHORT_ZH = "宁波梅山综保区能耗上限缺口 1,200 吨标准煤"


def pdf_pages(path: Path) -> list[str]:
    """Return the text of each page (pdftotext splits pages with a form feed)."""
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                         text=True, timeout=60).stdout  # fmt: skip
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def pdf_fonts(path: Path) -> list[tuple[str, bool]]:
    """``(font name, embedded)`` for every font ``pdffonts`` lists."""
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True,
                         timeout=60).stdout  # fmt: skip
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name, type (1 or 2 words), encoding, emb, sub, uni, object, id
        rows.append((parts[0], parts[-5] == "yes"))
    return rows


def flat(text: str) -> str:
    """The text without whitespace (a table cell may wrap anywhere)."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    run_path = make_export_run(base)
    out = base / "out"
    assert main(["export", str(run_path), "--format", "report", "-o", str(out)]) == 0
    return {"run": load_run(run_path), "out": out, "pages": pdf_pages(out / "report.pdf")}


def test_report_pdf_has_the_kpis_as_displayed_on_the_summary_page(reported):
    first = reported["pages"][0]
    kpis = reported["run"].kpis
    for key in HEADLINE_KPIS:
        assert format_kpi(key, kpis[key]) in first, key
        assert kpi_label(key, "zh") in first, key
    assert "要素配置结果报告：tiny_export" in first
    assert "主要指标（与现状对比）" in first
    assert "限制方案的配额" in first
    # the binding energy quota of Z01 by its planner name, not its row code
    assert "杭州综合保税区·能耗总量" in first
    # the sections come after the summary page
    assert "各综保区指标" not in first
    later = "\n".join(reported["pages"][1:])
    for section in ("各综保区指标", "企业变化", "配额使用与放宽价值", "配置结果图", "情景参数",
                    "运行信息"):  # fmt: skip
        assert section in later, section


def test_every_page_is_numbered_and_headed(reported):
    pages = reported["pages"]
    assert len(pages) >= 3
    for n, text in enumerate(pages, start=1):
        assert f"第{n}页/共{len(pages)}页" in flat(text), n
        assert "tiny_export" in text.split("\n", 3)[0] + text  # running header: the scenario
        assert flat(run_name(reported["run"])) in flat(text), n  # running header: the run's name


def test_report_tables_carry_planner_labels_and_rounded_numbers(reported):
    text = flat("\n".join(reported["pages"]))
    labels = (
        "宁波梅山综合保税区",
        "现状已用地（亩）",
        "准入的新项目",
        "浙江晶智半导体科技有限公司",
        "腾退出区的企业",
        "宁波甬化新材料有限公司",
        "所有园区能耗上限的倍数",
        "目标函数中增加值权重（每万元）",
        run_status_label(reported["run"]),  # 在容差 …% 内最优 at a nonzero gap
    )
    for label in labels:
        assert flat(label) in text, label
    # Z01's energy: 6,900 of 6,900 吨标准煤 used, Z02's electricity share 9,000 / 40,000
    assert "100.0%" in text
    assert "22.5%" in text
    assert "e-" not in text  # no E notation anywhere


def test_report_has_no_internal_identifiers(reported):
    run = reported["run"]
    text = "\n".join(reported["pages"])
    # names the user gave (scenario, run folder) are theirs, like file names
    for own in (run.path.name, "tiny_export"):
        text = text.replace(own, "")
    assert internal_identifiers(text, "zh") == []
    assert "zone_energy" not in text
    assert "caps." not in text


def test_report_embeds_its_cjk_font(reported):
    fonts = pdf_fonts(reported["out"] / "report.pdf")
    assert any("NotoSansCJK" in name and embedded for name, embedded in fonts), fonts
    assert all(embedded for _, embedded in fonts), fonts


def test_report_html_has_the_same_content(reported):
    page = (reported["out"] / "report.html").read_text(encoding="utf-8")
    assert "杭州综合保税区·能耗总量" in page
    assert "zone_energy[" not in page
    assert page.count("data:image/") >= 2  # zone maps
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)


def test_report_in_english(reported, tmp_path):
    out = tmp_path / "en"
    assert main(["export", str(reported["run"].path), "-f", "report", "--lang", "en",
                 "-o", str(out)]) == 0  # fmt: skip
    pages = pdf_pages(out / "report.pdf")
    assert "Allocation report: tiny_export" in pages[0]
    assert "Key figures against Present" in pages[0]
    assert all(f"Page{n}of{len(pages)}" in flat(p) for n, p in enumerate(pages, start=1))
    text = "\n".join(pages)
    assert "Energy quota" in text
    assert "主要指标" not in text


def test_infeasible_run_report_shows_its_diagnosis(reported, tmp_path):
    run_path = write_infeasible_run(
        Path(reported["run"].summary["case_path"]), tmp_path / "runs", "Z02", SHORT_ZH,
        "Ningbo Meishan energy cap short by 1,200 tce",
    )  # fmt: skip
    export(run_path, "report", tmp_path / "out")
    pages = pdf_pages(tmp_path / "out" / "report.pdf")
    first = pages[0]
    assert "没有可行的配置方案" in flat(first)
    assert flat(SHORT_ZH) in flat(first)
    assert "1,200 吨标准煤" in first  # what relaxing it takes, in planner units
    assert "能耗总量" in first
    assert "宁波梅山综合保税区" in first  # the subject by its name, not Z02
    assert all(f"第{n}页/共{len(pages)}页" in flat(p) for n, p in enumerate(pages, start=1))
    assert "不可行诊断" in "\n".join(pages[1:])
    text = "\n".join(pages).replace(run_path.name, "")
    for own in ("tiny_infeasible", "tiny_export"):  # the user's scenario names
        text = text.replace(own, "")
    assert internal_identifiers(text, "zh") == []


# ----------------------------------------------------------------------------- content


def test_numbers_are_rounded_to_what_they_mean():
    assert number_text(-6.661338e-16) == "0"
    assert number_text(2.775558e-17) == "0"
    assert number_text(0.0042) == "0.0042"
    assert number_text(0.00042) == "0.00042"  # not 4.2e-04
    assert number_text(12.345) == "12.3"
    assert number_text(0.8) == "0.8"
    assert number_text(437.5) == "438"
    assert number_text(6366236.43) == "6,366,236"
    assert number_text(261.0, count=True) == "261"
    assert number_text(0.2226, share=True) == "22.3%"
    assert number_text(30.0, decimals=1) == "30.0"
    assert number_text(float("inf")) == "∞"
    assert number_text(None) == "—"
    assert number_text(float("nan")) == "—"


def test_quota_meaning_uses_a_step_within_the_cap():
    row = pd.Series({"unit": "t", "cap": 0.435, "used": 0.435, "binding": True,
                     "value": 182204.72, "family": "unit_emissions"})  # fmt: skip
    # 0.01 t (not 1 t, more than twice the cap) is worth 1,822 万元
    assert quota_meaning(row, "zh") == "每多 0.01 吨配额，方案目标约多 1,822 万元"
    elec = pd.Series({"unit": "MWh", "cap": 743550.0, "used": 743550.0, "binding": True,
                      "value": 0.1906, "family": "zone_electricity"})  # fmt: skip
    # 1 万千瓦时 = 10 MWh: 1.906 万元
    assert quota_meaning(elec, "zh") == "每多 1 万千瓦时配额，方案目标约多 1.91 万元"
    room = pd.Series({"unit": "tce", "cap": 15000.0, "used": 1400.0, "binding": False,
                      "value": 0.0, "family": "zone_energy"})  # fmt: skip
    assert quota_meaning(room, "zh") == "尚余 13,600 吨标准煤，放宽不改变方案"


def test_quota_table_from_marginals_and_from_zone_columns(reported):
    data = collect(reported["run"])
    q = quota_table(data)
    assert list(q["label"])[:1] == ["杭州综合保税区·能耗总量"]
    assert q.loc[0, "value"] == pytest.approx(11.0)
    assert bool(q.loc[0, "binding"])
    # a MIP without duals: the zone table's marginal columns
    data.marginals = data.marginals.iloc[0:0]
    data.zones_table["energy_marginal_wan_per_tce"] = [11.0, float("nan")]
    data.zones_table["electricity_marginal_wan_per_mwh"] = [0.0, 2.5]
    q = quota_table(data)
    binding = q[q["binding"]]
    # largest marginal value first
    assert list(binding["label"]) == ["杭州综合保税区·能耗总量", "宁波梅山综合保税区·用电总量"]
    assert list(binding["unit"]) == ["tce", "MWh"]
    z02 = binding.iloc[1]
    assert z02["used"] == pytest.approx(9000.0)
    assert z02["share"] == pytest.approx(9000.0 / 40000.0)


def test_summary_page_blocks_come_from_the_run(reported):
    data = collect(reported["run"])
    report = build_report(data)
    kpi_table = next(b for b in report.summary if isinstance(b, Table))
    plan = {row[0]: row[2] for row in kpi_table.rows}
    kpis = reported["run"].kpis
    assert plan[kpi_label("tax_wan", "zh")] == format_kpi("tax_wan", kpis["tax_wan"])
    maps = [b for s in report.sections for b in s.blocks if isinstance(b, Figure)]
    assert [m.caption for m in maps] == ["全省总览", "杭州综合保税区", "宁波梅山综合保税区"]
    assert all(not math.isnan(len(m.image)) and len(m.image) > 1000 for m in maps)


# ----------------------------------------------------------------------------- real runs


def test_export_page_makes_the_report_of_a_real_run(solved_runs, tmp_path, monkeypatch):
    from app_helpers import open_page, use_runs

    tight = use_runs(solved_runs, tmp_path, monkeypatch, "tight")["tight"]
    at = open_page("export")
    at.multiselect(key="export_formats").set_value(["report"]).run()
    at.button(key="export_make").click().run(timeout=180)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    labels = [b.label for b in at.get("download_button")]
    assert any("report.pdf" in label for label in labels)
    pdf = next(Path(f) for f in at.session_state["export_files"] if f.endswith("report.pdf"))
    pages = pdf_pages(pdf)
    run = load_run(tight)
    # conftest.SolvedRuns: value added 43,700 万元, F004 moved out, Z01's energy cap binds
    assert format_kpi("value_added_wan", run.kpis["value_added_wan"]) == "43,700"
    assert "43,700" in pages[0]
    assert "杭州综合保税区·能耗总量" in flat(pages[0])
    assert all(f"第{n}页/共{len(pages)}页" in flat(p) for n, p in enumerate(pages, start=1))


def test_real_infeasible_run_report_names_the_zone_to_relax(solved_runs, tmp_path):
    out = tmp_path / "out"
    assert main(["export", str(solved_runs.infeasible), "-f", "report", "-o", str(out)]) == 0
    first = pdf_pages(out / "report.pdf")[0]
    assert "没有可行的配置方案" in flat(first)
    # Z02's energy cap at 0: the diagnosis is about Z02's energy quota
    assert "宁波梅山综合保税区" in first
    assert "能耗总量" in first


def test_one_zone_report_lists_that_zones_quotas_only(reported):
    data = collect(reported["run"], zone="Z02")
    data.marginals = pd.concat(
        [data.marginals, pd.DataFrame({
            "row": ["unit_emissions[unit=U9,pollutant=cod]"], "family": ["unit_emissions"],
            "zone_id": [None], "unit_id": ["U9"], "pollutant": ["cod"], "value": [5.0],
            "unit": ["万元/t"], "slack": [0.0], "binding": [True],
        })],
        ignore_index=True,
    )  # fmt: skip
    labels = list(quota_table(data)["label"])
    assert labels == ["宁波梅山综合保税区·能耗总量"]  # not Z01's rows, not another zone's unit


def test_each_report_font_has_the_glyphs_of_its_own_text():
    from reportlab.pdfbase import pdfmetrics

    from allocator.export.report_pdf import register_font

    first = register_font("要素配置 abc")
    second = register_font("本情景没有可行方案")
    for name, text in ((first, "要素配置abc•"), (second, "本情景没有可行方案•")):
        face = pdfmetrics.getFont(name).face
        missing = [ch for ch in text if not face.charToGlyph.get(ord(ch))]
        assert missing == [], (name, missing)


def test_a_font_subset_is_made_once_for_the_texts_it_covers():
    from reportlab.pdfbase import pdfmetrics

    from allocator.export.report_pdf import register_font

    # a character no other test's text has: this text needs a subset of its own
    wide = register_font("鼋鼍蛟龙 report and brief")
    assert register_font("鼋鼍") == wide  # covered: the same subset, not a second one
    assert register_font("蛟龙 brief") == wide
    other = register_font("鼋鼍 鲲鹏")  # a character the first lacks: a new subset
    assert other != wide
    assert pdfmetrics.getFont(other).face.charToGlyph.get(ord("鲲"))


def test_one_zone_report_and_brief_show_that_zones_figures_labelled_as_its(reported, tmp_path):
    """Z01 holds F001 (16,500 万元) and A001 (16,200): 32,700, not the run's 39,300.

    F002 left Z01 (it occupied P02 before): one firm moved out of Z01.
    """
    run = reported["run"]
    out = tmp_path / "z01"
    assert main(["export", str(run.path), "--format", "report,brief", "--zone", "Z01",
                 "-o", str(out)]) == 0  # fmt: skip
    assert format_kpi("value_added_wan", run.kpis["value_added_wan"]) == "39,300"
    for pdf in (out / "report.pdf", out / "brief.pdf"):
        first = pdf_pages(pdf)[0]
        text = flat(first)
        assert "32,700" in text, pdf.name  # the zone's value added
        assert "6,570" in text, pdf.name  # the zone's tax (run: 8,670)
        assert "39,300" not in text, pdf.name
        assert "8,670" not in text, pdf.name
        assert "杭州综合保税区" in text, pdf.name
        assert "Z02" not in text, pdf.name  # no other zone (it was listed by its code)
        assert flat("以下为杭州综合保税区一区的数字") in text, pdf.name
    assert "杭州综合保税区主要指标" in flat(pdf_pages(out / "report.pdf")[0])
    assert "主要指标（杭州综合保税区）" in flat(pdf_pages(out / "brief.pdf")[0])
