"""AppTest: the export page writes the library's exports of a real run and offers them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
from app_helpers import open_page, texts, use_runs, write_tiny_case

from allocator import kpi_label
from allocator.i18n import t


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


def _shown_text(at) -> str:
    """Every text a person reads on the page, including the options of the selectboxes."""
    options = [o for box in at.selectbox for o in box.options]
    return "\n".join([texts(at), *options, *(b.label for b in at.get("download_button"))])


def test_runs_are_listed_by_their_names_and_any_run_exports(solved_runs, tmp_path, monkeypatch):
    """The newest run is infeasible: it is listed by name and exports its diagnosis."""
    from allocator import run_names

    runs = use_runs(solved_runs, tmp_path, monkeypatch, "base", "infeasible")
    at = open_page("export")
    box = at.selectbox(key="export_run")
    assert box.value == str(runs["infeasible"])  # newest first
    names = run_names(list(runs.values()), "zh")
    assert sorted(box.options) == sorted(names.values())
    assert all(o.startswith("基准情景：现行政策参数 · ") for o in box.options)
    shown = _shown_text(at)
    for folder in runs.values():
        assert folder.name not in shown
    assert str(tmp_path) not in shown

    # no plan: the diagnosis is what it has; the workbook and report carry it
    assert "没有可行方案" in texts(at)
    proofs = [e.value for e in at.error]  # the diagnosis' proof, shown as an error
    formats = at.multiselect(key="export_formats_planless")
    assert formats.options == [t("ui.export.fmt_xlsx", "zh"), t("ui.export.fmt_report", "zh")]
    assert formats.value == ["xlsx"]
    at.button(key="export_make").click().run(timeout=120)
    assert not at.exception
    assert [e.value for e in at.error] == proofs  # no failure beside the diagnosis
    (xlsx,) = [Path(f) for f in at.session_state["export_files"]]
    sheets = pd.read_excel(xlsx, sheet_name=None)
    diag = next(frame for name, frame in sheets.items() if "诊断" in name)
    # Z02's energy cap at 0 (conftest.SolvedRuns): the diagnosis names Z02 by its name
    assert diag.astype(str).apply(lambda c: c.str.contains("宁波梅山综合保税区")).any().any()
    assert str(tmp_path) not in _shown_text(at)

    # the feasible run is picked by its name too and offers every format again
    at.selectbox(key="export_run").set_value(str(runs["base"])).run()
    assert "brief" in at.multiselect(key="export_formats").value


def test_a_run_label_is_kept_in_the_run_and_names_it(solved_runs, tmp_path, monkeypatch):
    from allocator import run_label

    base = use_runs(solved_runs, tmp_path, monkeypatch, "base")["base"]
    at = open_page("export")
    before = at.selectbox(key="export_run").options[0]
    (box,) = [w for w in at.text_input if w.key.startswith("run_label_")]
    box.set_value("送审稿").run()
    at.button(key="run_label_save").click().run()
    assert not at.exception
    assert run_label(base) == "送审稿"
    assert at.selectbox(key="export_run").options == [f"{before} · 送审稿"]
    # another session (a fresh page) reads the label from the run folder, on every page
    again = open_page("compare")
    assert not again.exception
    assert open_page("export").selectbox(key="export_run").options == [f"{before} · 送审稿"]
