"""AppTest: the what-if page — schema widgets, results against the base, real solves."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from app_helpers import APP, ROOT, open_page, texts, use_runs, write_tiny_case
from streamlit.testing.v1 import AppTest


@pytest.fixture
def tiny_env(tmp_path, monkeypatch):
    case = write_tiny_case(tmp_path)
    runs = tmp_path / "runs"
    monkeypatch.setenv("ALLOCATOR_CASE", str(case))
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(runs))
    return case, runs


def test_widgets_come_from_the_schema(tiny_env):
    at = open_page("whatif")
    keys = {s.key for s in at.slider}
    assert "sc:baseline:caps.energy_factor" in keys
    assert {f"sc:baseline:caps.zones.{z}.energy_factor" for z in ("Z01", "Z02")} <= keys
    toggles = {tg.key for tg in at.toggle}
    assert "sc:baseline:switches.zone_energy" in toggles
    assert at.slider(key="sc:baseline:caps.zones.Z01.energy_factor").value == 100.0
    labels = [e.label for e in at.expander]
    assert "总量上限（能耗、用电、排放）" in labels
    assert "求解设置" in labels


def test_changing_a_widget_is_listed_and_saved_as_toml(tiny_env):
    at = open_page("whatif")
    at.slider(key="sc:baseline:caps.zones.Z02.energy_factor").set_value(80.0).run()
    assert "已修改 1 个参数： 宁波梅山综合保税区 · 能耗上限 = 80%" in texts(at)
    button = at.get("download_button")[0]
    assert button.label == "保存情景（TOML）"


def show_last(whatif: Path, base: Path) -> AppTest:
    """Open the what-if page with ``whatif`` as the session's last run against ``base``."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("allocator/ui/pages/whatif.py")
    at.session_state["whatif_last"] = {"run": str(whatif), "base": str(base), "changed": True}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def served_total(run: Path, column: str) -> float:
    """Sum ``column`` over the firms a run serves, straight from its firms.parquet."""
    firms = pd.read_parquet(run / "firms.parquet")
    return float(firms.loc[firms["served"].astype(bool), column].sum())


def test_result_shows_kpi_deltas_against_base(solved_runs, tmp_path, monkeypatch):
    runs = use_runs(solved_runs, tmp_path, monkeypatch, "base", "tight")
    base, tight = runs["base"], runs["tight"]
    at = show_last(tight, base)
    metrics = {(m.proto.help or m.label): (m.value, m.delta) for m in at.metric}
    # Hand check (conftest.SolvedRuns): value added 49,650 → 43,700 (F004 leaves with
    # its 4,200; F002 is cut from 9,450 to 7,700 by Z01's 7,000 tce cap).
    va = served_total(tight, "value_added_wan"), served_total(base, "value_added_wan")
    assert va == (43_700, 49_650)
    assert metrics["增加值（万元）"] == ("43,700", "-5,950")
    energy = served_total(tight, "energy_tce"), served_total(base, "energy_tce")
    assert energy == (11_430, 21_755)
    assert metrics["综合能耗（吨标准煤）"] == ("11,430", "-10,325")
    assert metrics["腾退出区企业数"] == ("1", "+1")
    assert metrics["准入新项目数"] == ("2", "")  # both projects in both runs: no delta
    assert at.success[0].value.startswith("状态：已证最优 · 间隙 0.00 % · 目标值 51,035")
    firms = next(d.value for d in at.dataframe if "served" in d.value.columns)
    assert len(firms) == 6
    at.multiselect(key="whatif_firms_zone").set_value(["Z02"]).run()
    firms = next(d.value for d in at.dataframe if "served" in d.value.columns)
    # A001 now sits in Z02 (on F004's old plot P07); F004 stays listed, not served.
    assert sorted(firms["firm_id"]) == ["A001", "A002", "F003", "F004"]
    assert not firms.set_index("firm_id").loc["F004", "served"]


def test_infeasible_result_shows_its_diagnosis_and_no_figures(solved_runs, tmp_path, monkeypatch):
    runs = use_runs(solved_runs, tmp_path, monkeypatch, "base", "infeasible")
    at = show_last(runs["infeasible"], runs["base"])
    assert at.error[0].value.startswith("状态：无可行解")
    metrics = {(m.proto.help or m.label): (m.value, m.delta) for m in at.metric}
    assert len(metrics) == 8
    assert set(metrics.values()) == {("—", "")}  # no plan: a dash and no change, never 0
    assert "诊断：为何无解、需放宽哪些约束" in texts(at)
    items = json.loads((runs["infeasible"] / "diagnosis.json").read_text(encoding="utf-8"))
    assert items["items"]
    errors = [e.value for e in at.error]
    body = texts(at)
    for item in items["items"]:
        if item["source"] == "presolve":  # proofs as sentences
            assert item["label_zh"] in errors, item["label_zh"]
        else:  # relaxations as rows of the repair table: the policy and its subject by name
            assert item["subject_name"] in body, item
    assert "能耗总量" in body
    assert "重大项目锁定" in body
    # The presolve proof comes first: Z02's floors need 8,080 tce against a cap of 0.
    assert (
        at.error[1].value
        == "能耗总量·宁波梅山综合保税区：仅保障下限就需要 8,080 吨标准煤，上限为 0 吨标准煤"
    )
    assert not any(d.value.columns.isin(["served"]).any() for d in at.dataframe)


def _kpi(at: AppTest, label: str) -> float:
    value = {(m.proto.help or m.label): m.value for m in at.metric}[label]
    return float(value.replace(",", ""))


def _run(at: AppTest) -> AppTest:
    at.button(key="whatif_run").click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_tightening_a_cap_changes_the_kpi(tiny_env):
    at = open_page("whatif")
    _run(at)
    base_energy = _kpi(at, "综合能耗（吨标准煤）")
    at.slider(key="sc:baseline:caps.zones.Z01.energy_factor").set_value(40.0)
    _run(at)
    assert _kpi(at, "综合能耗（吨标准煤）") < base_energy
    deltas = {(m.proto.help or m.label): m.delta for m in at.metric}
    assert deltas["综合能耗（吨标准煤）"].startswith("-")


@pytest.mark.slow
def test_infeasible_whatif_shows_the_diagnosis(tiny_env):
    at = open_page("whatif")
    # Every (class B) firm must produce its full request, but zone Z02 gets no energy.
    at.slider(key="sc:baseline:caps.zones.Z02.energy_factor").set_value(0.0)
    at.slider(key="sc:baseline:classes.floor.B").set_value(1.0)
    _run(at)
    assert "无可行解" in at.error[0].value
    body = texts(at)
    assert "诊断：为何无解、需放宽哪些约束" in body
    assert "能耗总量" in body
    assert "宁波梅山综合保税区" in body
    assert "zone_energy" not in body
    assert "建议放宽" in body


@pytest.mark.slow
def test_whatif_on_the_sample_case_is_interactive(sample_case_path, tmp_path, monkeypatch):
    """Base solved in the background while the user sets a slider; Run then takes ~4 s here.

    The issue asks ≤ 10 s end to end; the bound below leaves room for a loaded CI machine.
    """
    import time

    monkeypatch.setenv("ALLOCATOR_CASE", str(sample_case_path))
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(tmp_path / "runs"))
    at = open_page("whatif", timeout=300)

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((tmp_path / "runs").glob("*/summary.json")):
        time.sleep(0.5)  # the user is still choosing a value
    at.slider(key="sc:baseline:caps.energy_factor").set_value(85.0)
    started = time.monotonic()
    at.button(key="whatif_run").click().run(timeout=300)
    seconds = time.monotonic() - started
    assert not at.exception
    deltas = {(m.proto.help or m.label): m.delta for m in at.metric}
    assert deltas["综合能耗（吨标准煤）"].startswith("-")
    assert seconds < 15, seconds


def test_load_a_scenario_toml(tiny_env, tmp_path):
    from allocator.scenario import load_scenario

    text = (
        load_scenario(ROOT / "scenarios" / "energy_cap_minus_15pct.toml")
        .with_overrides({"name": "mine"})
        .to_toml()
    )
    at = open_page("whatif")
    at.file_uploader(key="whatif_upload").set_value(("mine.toml", text.encode(), "x")).run()
    at.button(key="whatif_use_upload").click().run()
    assert not at.exception
    assert at.selectbox(key="whatif_base").value.endswith("mine.toml")
    assert "情景 能耗双控收紧：各综保区能耗总量上限压减15%" in texts(at)  # its title
    assert at.slider(key="sc:mine:caps.energy_factor").value == 85.0


def test_bad_scenario_toml_is_refused_with_its_message(tiny_env):
    at = open_page("whatif")
    bad = b'name = "x"\n[caps]\nenergy_factr = 0.8\n'
    at.file_uploader(key="whatif_upload").set_value(("bad.toml", bad, "x")).run()
    at.button(key="whatif_use_upload").click().run()
    assert not at.exception
    assert "energy_factr" in at.error[0].value


def test_relax_and_rerun_turns_an_infeasible_scenario_feasible(tiny_env):
    """The diagnosis' "放宽并重算" raises Z02's energy cap by what it takes and re-runs."""
    from allocator import load_run

    at = open_page("whatif", timeout=120)
    at.slider(key="sc:baseline:caps.zones.Z02.energy_factor").set_value(0.0).run()
    at.button(key="whatif_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    first = at.session_state["whatif_last"]["run"]
    assert str(load_run(first).status) == "infeasible"
    page = texts(at)
    # grouped by policy, the zone by its name, what it takes in 吨标准煤; the lock has no button
    assert "能耗总量" in page
    assert "宁波梅山综合保税区" in page
    assert "8,080 吨标准煤" in page
    buttons = {b.key: b.label for b in at.button if b.key and "repair" in b.key}
    assert buttons["whatif_repair_0"] == "放宽并重算"
    assert "whatif_repair_all" in buttons
    at.button(key="whatif_repair_0").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["whatif_relax"] == {"caps.zones.Z02.energy_tce": 8081.0}
    second = at.session_state["whatif_last"]["run"]
    assert second != first
    run = load_run(second)
    assert run.has_solution
    assert str(run.status) == "optimal"
    assert "能耗总量·宁波梅山综合保税区：上限 8,081 吨标准煤" in texts(at)
    # undo: the relaxation is gone from the scenario
    at.button(key="whatif_clear_relax").click().run()
    assert "whatif_relax" not in at.session_state


def test_any_gap_the_schema_allows_can_be_chosen(tiny_env):
    """The gap is set in percent to any value (0.25 %), not a slider's 1 % steps."""
    at = open_page("whatif")
    box = at.number_input(key="sc:baseline:solver.rel_gap")
    assert box.value == pytest.approx(0.5)  # the interactive 0.5 %
    box.set_value(0.25).run()
    assert "= 0.0025" in texts(at)


def test_kpi_change_inside_the_combined_gap_is_within_tolerance():
    """|Δ| below gap_a·|obj_a| + gap_b·|obj_b| (as a share) is solver tolerance, not policy."""
    from types import SimpleNamespace

    from allocator.ui.results import tolerance_share, within_tolerance

    a = SimpleNamespace(summary={"gap": 0.005, "objective": 1000.0})
    b = SimpleNamespace(summary={"gap": 0.004, "objective": 1010.0})
    share = tolerance_share(a, b)
    assert share == pytest.approx((5.0 + 4.04) / 1010.0)
    assert within_tolerance(1005.0, 1000.0, share)  # 0.5 % < 0.895 %
    assert not within_tolerance(1100.0, 1000.0, share)  # 10 % is a real change
    none = SimpleNamespace(summary={"gap": None, "objective": None})
    assert tolerance_share(a, none) is None  # a run without a plan: nothing to compare


def test_relax_all_after_a_cut_on_every_zone_turns_the_run_feasible(tiny_env):
    """Every zone cut to 0 %: 一次放宽全部并重算 sets each zone's cap; the re-run has a plan."""
    from allocator import load_run

    at = open_page("whatif", timeout=120)
    at.slider(key="sc:baseline:caps.energy_factor").set_value(0.0).run()
    at.button(key="whatif_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert str(load_run(at.session_state["whatif_last"]["run"]).status) == "infeasible"
    at.button(key="whatif_repair_all").click().run()
    assert not at.exception, [e.value for e in at.exception]
    relax = at.session_state["whatif_relax"]
    assert relax
    assert all(k.startswith("caps.zones.") for k in relax), relax
    run = load_run(at.session_state["whatif_last"]["run"])
    assert run.has_solution, run.status


@pytest.mark.slow
def test_a_whatif_stopped_at_its_limit_offers_to_continue_from_its_plan(tmp_path, monkeypatch):
    """The sample case in 1 s: the page says the run stopped before its gap (with
    or without a plan) and "从当前方案继续求解" solves the same edits with 5× the limit,
    from the plan it had."""
    from allocator import load_run

    monkeypatch.setenv("ALLOCATOR_CASE", str(ROOT / "gis_data" / "zhejiang_sample.gpkg"))
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("ALLOCATOR_APP_TIME_LIMIT_S", "1")
    monkeypatch.setenv("ALLOCATOR_APP_REL_GAP", "0.0001")
    at = open_page("whatif", timeout=300)
    at.slider(key="sc:baseline:caps.energy_factor").set_value(90.0).run()
    at.button(key="whatif_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    first = load_run(at.session_state["whatif_last"]["run"])
    answered = at.session_state["whatif_last"]["hash"]
    offered = [b for b in at.button if b.key == "whatif_continue_button"]
    if str(first.status) == "optimal":  # a machine that proved 0.01 % within 1 s: no offer
        assert offered == []
        return
    page = texts(at)
    assert "尚未达到目标" in page or "秒时限内未找到可行方案" in page
    assert len(offered) == 1
    offered[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    second = load_run(at.session_state["whatif_last"]["run"])
    assert second.path != first.path
    assert second.summary["settings"]["time_limit_s"] == pytest.approx(5.0)
    assert at.session_state["whatif_last"]["hash"] == answered  # the same edits, not stale
    assert "上次结果（参数修改前）" not in texts(at)
    if first.has_solution:  # it starts from the plan it had
        assert second.summary["objective"] >= first.summary["objective"] * (1 - 1e-9)
