"""AppTest: the export page writes the library's exports of a run and offers them for download."""

from __future__ import annotations

import pytest
from app_helpers import fake_run, open_page, texts, write_tiny_case


@pytest.fixture
def one_run(tmp_path, monkeypatch):
    case = write_tiny_case(tmp_path)
    runs = tmp_path / "runs"
    run = fake_run(runs, "base", f004_leaves=False, objective=38500.0)
    monkeypatch.setenv("ALLOCATOR_CASE", str(case))
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(runs))
    return run


def test_no_runs_is_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("ALLOCATOR_CASE", str(write_tiny_case()))
    at = open_page("export")
    assert "还没有运行结果" in at.info[0].value


def test_export_workbook_and_geopackage(one_run):
    at = open_page("export")
    assert at.selectbox(key="export_run").value == str(one_run)
    at.multiselect(key="export_formats").set_value(["xlsx", "gpkg", "geojson"]).run()
    at.button(key="export_make").click().run(timeout=120)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert "已生成" in texts(at)
    labels = [b.label for b in at.get("download_button")]
    assert any(".xlsx" in label for label in labels)
    assert any(".gpkg" in label for label in labels)
    assert any(".geojson" in label for label in labels)


def test_export_in_english_has_english_labels(one_run):
    at = open_page("export", lang="en")
    assert at.header[0].value == "Export"
    assert at.button(key="export_make").label == "Make files"
