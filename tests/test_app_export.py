"""AppTest: the export page writes the library's exports of a real run and offers them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
from app_helpers import open_page, texts, use_runs, write_tiny_case

from allocator import kpi_label


def test_no_runs_is_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("ALLOCATOR_CASE", str(write_tiny_case()))
    at = open_page("export")
    assert "还没有运行结果" in at.info[0].value


def test_export_workbook_and_geopackage(solved_runs, tmp_path, monkeypatch):
    tight = use_runs(solved_runs, tmp_path, monkeypatch, "tight")["tight"]
    at = open_page("export")
    assert at.selectbox(key="export_run").value == str(tight)
    at.multiselect(key="export_formats").set_value(["xlsx", "gpkg", "geojson"]).run()
    at.button(key="export_make").click().run(timeout=120)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert "已生成" in texts(at)
    labels = [b.label for b in at.get("download_button")]
    assert any(".xlsx" in label for label in labels)
    assert any(".gpkg" in label for label in labels)
    assert any(".geojson" in label for label in labels)

    files = {Path(f).suffix: Path(f) for f in at.session_state["export_files"]}
    firms = pd.read_parquet(tight / "firms.parquet")
    plots = pd.read_parquet(tight / "plots.parquet").set_index("plot_id")
    served = firms["served"].astype(bool)
    # The workbook's summary carries the run's own figures: value added 43,700 万元
    # (conftest.SolvedRuns: F004 out, F002 cut to 7,700) and one firm moved out.
    summary = pd.read_excel(files[".xlsx"], sheet_name="概要").set_index("项目")["取值"]
    assert float(summary[kpi_label("value_added_wan", "zh")]) == 43_700
    assert (
        float(summary[kpi_label("value_added_wan", "zh")])
        == firms.loc[served, "value_added_wan"].sum()
    )
    assert float(summary[kpi_label("firms_moved_out", "zh")]) == 1
    # The GeoPackage's plots say who is where after the plan: A001 on F004's P07.
    layer = pyogrio.read_dataframe(files[".gpkg"], layer="allocation").set_index("plot_id")
    assert layer.loc["P07", "firm_id_after"] == plots.loc["P07", "firm_id_after"] == "A001"
    assert pd.isna(layer.loc["P05", "firm_id_after"])
    assert sorted(layer.index) == sorted(plots.index)


def test_export_in_english_has_english_labels(solved_runs, tmp_path, monkeypatch):
    use_runs(solved_runs, tmp_path, monkeypatch, "base")
    at = open_page("export", lang="en")
    assert at.header[0].value == "Export"
    assert at.button(key="export_make").label == "Make files"


def test_brief_is_offered_first_and_downloads(solved_runs, tmp_path, monkeypatch):
    use_runs(solved_runs, tmp_path, monkeypatch, "tight")
    at = open_page("export")
    formats = at.multiselect(key="export_formats")
    assert formats.options[0] == "汇报材料（PDF + Word，两页）"
    assert "brief" in formats.value
    formats.set_value(["brief"]).run()
    at.button(key="export_make").click().run(timeout=120)
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert any("brief.pdf" in label for label in labels)
    assert any("brief.docx" in label for label in labels)
    pdf = next(Path(f) for f in at.session_state["export_files"] if f.endswith("brief.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF")
