"""AppTest: the overview page on the tiny case (counts, validation, zone cards, focus)."""

from __future__ import annotations

import pytest
from app_helpers import open_page, texts, write_tiny_case

from allocator.case.testing import tiny_case
from allocator.ui.summaries import zone_summary


@pytest.fixture
def tiny_env(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("case")
    case = write_tiny_case(folder)
    monkeypatch.setenv("ALLOCATOR_CASE", str(case))
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(folder / "runs"))
    return case


def test_zone_summary_known_numbers():
    s = zone_summary(tiny_case()).set_index("zone_id")
    assert s.loc["Z01", "plots"] == 5
    assert (s.loc["Z01", "plots_vacant"], s.loc["Z01", "plots_idle"]) == (2, 1)
    assert s.loc["Z02", "plots_occupied"] == 2
    assert s.loc["Z01", "energy_tce"] == pytest.approx(7500.0)
    assert s.loc["Z01", "energy_use_share"] == pytest.approx(7500.0 / 20000.0)
    assert s.loc["Z02", "electricity_mwh"] == pytest.approx(16000.0)
    assert s.loc["Z01", "applicants"] == 1
    assert s.loc["Z02", "applicants"] == 2


def test_overview_shows_counts_validation_and_cards(tiny_env):
    at = open_page("overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["综保区"] == "2"
    assert metrics["地块"] == "9"
    assert metrics["在区企业"] == "4"
    assert metrics["申请项目"] == "2"
    assert "案例数据校验通过" in texts(at)
    body = texts(at)
    assert "Z01 · 杭州综合保税区" in body
    assert "Z02 · 宁波梅山综合保税区" in body
    assert "地块：空地 2 · 闲置 1 · 在用 2" in body
    assert not at.error


def test_overview_focus_one_zone_in_english(tiny_env):
    at = open_page("overview", lang="en")
    assert at.header[0].value == "Overview"
    at.selectbox(key="overview_zone").set_value("Z02").run()
    body = texts(at)
    assert "Z02 · 宁波梅山综合保税区" in body
    assert "Z01 · 杭州综合保税区" not in body
    assert "Plots: vacant 2 · idle 0 · occupied 2" in body


def test_missing_case_is_a_message_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLOCATOR_CASE", str(tmp_path / "nope.gpkg"))
    at = open_page("overview")
    assert any("nope.gpkg" in w.value for w in at.warning)


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_uploaded_zip_with_path_traversal_is_refused(tiny_env, tmp_path):
    at = open_page("overview")
    evil = _zip_bytes({"../evil.shp": b"x" * 100, "plots.dbf": b"y" * 100})
    at.file_uploader(key="case_upload").set_value([("plots.zip", evil, "application/zip")])
    at.run()
    at.button(key="case_use").click().run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "plots.zip" in errors
    assert "../evil.shp" in errors or ".." in errors
    assert not (tmp_path.parent / "evil.shp").exists()
    assert "case_path" not in at.session_state


def test_uploaded_case_geopackage_is_used(tiny_env):
    at = open_page("overview")
    at.file_uploader(key="case_upload").set_value([("mine.gpkg", tiny_env.read_bytes(), "x")])
    at.run()
    at.button(key="case_use").click().run()
    assert not at.exception
    assert any("mine.gpkg" in s.value for s in at.success)
    assert at.session_state["case_path"].endswith("mine.gpkg")


# ----------------------------------------------------------------------------- next step


def _next_step(at) -> str:
    return next(i.value for i in at.info if i.value)


def test_next_step_without_runs_is_the_baseline(tiny_env):
    at = open_page("overview")
    assert "还没有运行结果" in _next_step(at)
    assert "▶ 运行基准情景" in texts(at)
    assert "✓ 检查案例数据" in texts(at)
    at.button(key="next_whatif").click().run()
    assert not at.exception
    assert at.header[0].value == "情景分析"


@pytest.mark.parametrize(
    ("runs", "expected", "buttons"),
    [
        (("base",), "已有基准结果「基准情景：现行政策参数 · ", ["next_whatif", "next_compare"]),
        (("base", "infeasible"), "没有可行方案", ["next_whatif", "next_export"]),
        (("base", "tight"), "已有多个情景的结果", ["next_compare", "next_export"]),
    ],
)
def test_next_step_follows_the_runs(solved_runs, tmp_path, monkeypatch, runs, expected, buttons):
    """One scenario solved → try a what-if; newest infeasible → repair; several → compare."""
    from app_helpers import use_runs

    use_runs(solved_runs, tmp_path, monkeypatch, *runs)
    at = open_page("overview")
    assert expected in _next_step(at)
    assert [b.key for b in at.button if b.key.startswith("next_")] == buttons
    at.button(key=buttons[-1]).click().run()
    assert not at.exception
    page = buttons[-1].removeprefix("next_")
    assert at.header[0].value == {"compare": "情景对比", "export": "导出"}.get(page, "情景分析")


def test_next_step_in_english(solved_runs, tmp_path, monkeypatch):
    from app_helpers import use_runs

    use_runs(solved_runs, tmp_path, monkeypatch, "base", "infeasible")
    at = open_page("overview", lang="en")
    assert "has no feasible plan" in _next_step(at)
    assert "Relax and re-run" in _next_step(at)
