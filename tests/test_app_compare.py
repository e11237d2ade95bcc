"""AppTest: the compare page on real runs of the tiny case (conftest.SolvedRuns).

Expected figures come from the run folders' own tables, summed with plain pandas,
and are checked by hand against the tiny case in the comments.
"""

from __future__ import annotations

import json

import pandas as pd
from app_helpers import open_page, texts, use_runs, write_tiny_case
from test_app_language import shown_columns


def served_total(run, column: str) -> float:
    """Sum ``column`` over the firms a run serves, straight from its firms.parquet."""
    firms = pd.read_parquet(run / "firms.parquet")
    return float(firms.loc[firms["served"].astype(bool), column].sum())


def test_compare_needs_two_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("ALLOCATOR_CASE", str(write_tiny_case()))
    at = open_page("compare")
    assert "至少需要两个运行结果（当前 0 个）" in at.info[0].value


def test_compare_two_real_runs(solved_runs, tmp_path, monkeypatch):
    runs = use_runs(solved_runs, tmp_path, monkeypatch, "base", "tight")
    base, tight = runs["base"], runs["tight"]
    at = open_page("compare")
    at.multiselect(key="compare_runs").set_value([str(base), str(tight)]).run()
    # runs are named by their scenario's title and time, not by their folders
    labels = list(at.dataframe[0].value.columns)
    assert all(label.startswith("基准情景：现行政策参数 · ") for label in labels), labels
    assert base.name not in " ".join(labels)
    at.selectbox(key="compare_base").set_value(str(base)).run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]

    kpis = at.dataframe[0].value
    assert list(kpis.columns) == labels
    assert kpis.loc["状态"].tolist() == ["已证最优", "已证最优"]
    # Value added. Base: every firm stays and grows by class B's 1.05 (F001 15,750,
    # F002 9,450, F003 3,150, F004 4,200) and both projects come (A001 13,500,
    # A002 3,600) = 49,650. Tight: F004 leaves; Z01's 7,000 tce leave F002
    # 7,000 − 3,150 = 3,850 tce of its 4,500, i.e. 9,000 × 3,850 / 4,500 = 7,700 → 43,700.
    assert served_total(base, "value_added_wan") == 49_650
    assert served_total(tight, "value_added_wan") == 43_700
    assert kpis.loc["增加值（万元）"].tolist() == ["49,650", "43,700"]
    # Energy: base 3,150 + 4,725 + 630 + 9,450 + 3,000 + 800; tight without F004's
    # 9,450 and with F002 at 3,850 instead of 4,725.
    assert served_total(base, "energy_tce") == 21_755
    assert served_total(tight, "energy_tce") == 11_430
    assert kpis.loc["综合能耗（吨标准煤）"].tolist() == ["21,755", "11,430"]
    assert kpis.loc["腾退出区企业数"].tolist() == ["0", "1"]

    body = texts(at)
    # A001 moves from P05 (base) to F004's plot P07 (tight): two plots change.
    assert "结果变化的地块：2 个" in body
    frames = [d.value for d in at.dataframe]
    changed_table = next(d for d in at.dataframe if "outcome_a" in d.value.columns)
    changed = changed_table.value.set_index("plot_id")
    assert sorted(changed.index) == ["P05", "P07"]
    # outcomes in words and zone names (not ids), under headers naming the run
    assert changed.loc["P05", ["outcome_a", "outcome_b"]].tolist() == ["新落地项目", "空置"]
    assert changed.loc["P07", ["firm_a", "firm_b"]].tolist() == ["F004", "A001"]
    assert changed.loc["P07", "outcome_b"] == "新落地项目"
    zone_names = pd.read_parquet(tight / "zones.parquet").set_index("zone_id")["name"]
    plots = pd.read_parquet(tight / "plots.parquet").set_index("plot_id")
    assert changed.loc["P05", "zone_name"] == zone_names[plots.loc["P05", "zone_id"]]
    heads = {c: h for c, h in shown_columns(changed_table)}
    assert heads["outcome_a"] == "基准情景结果"
    assert heads["outcome_b"] == "对比情景结果"
    assert heads["zone_name"] == "综保区"

    # the full key-figure table: the runs' names as headers, KPI labels with units
    full = next(d for d in at.dataframe if "综合能耗（吨标准煤）" in list(d.value.index))
    assert [h for _, h in shown_columns(full)] == labels
    assert full.value.loc["综合能耗（吨标准煤）"].tolist() == ["21,755", "11,430"]
    assert full.value.loc["状态"].tolist() == ["已证最优", "已证最优"]

    # F004 is the one firm lost (A001 is served in both runs, on another plot).
    assert "企业得失：新增 0 家，失去 1 家" in body
    firms = next(f for f in frames if "change" in f.columns)
    assert dict(zip(firms["firm_id"], firms["change"], strict=True)) == {"F004": "失去"}
    assert firms.set_index("firm_id").loc["F004", "reason_zh"].startswith("置换出区")

    # The binding row that changed is Z01's energy cap: slack in the base, binding in
    # tight at 7,000 tce with a marginal value > 0 (its own marginals table says so).
    marg = pd.read_parquet(tight / "marginals.parquet").set_index("row")
    assert bool(marg.loc["zone_energy[Z01]", "binding"])
    binding = frames[-1]
    assert list(binding["row"]) == ["zone_energy[Z01]"]
    assert binding["value"].iloc[0] == marg.loc["zone_energy[Z01]", "value"] > 0
    zones = pd.read_parquet(tight / "zones.parquet").set_index("zone_id")
    assert zones.loc["Z01", "energy_tce"] == zones.loc["Z01", "energy_cap_tce"] == 7_000

    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == [
        "下载对比工作簿（Excel）",
        "下载汇报材料（PDF，后一情景对比首个情景）",
        "下载汇报材料（Word）",
    ]
    # the brief behind the PDF button: the tight run's figures against the base's
    import io

    import pypdf

    from allocator import compare, format_kpi, load_run
    from allocator.ui.pages.compare import brief_bytes

    pdf = brief_bytes(compare([base, tight]), "zh", ".pdf")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for run in (base, tight):
        assert format_kpi("value_added_wan", load_run(run).kpis["value_added_wan"]) in text
    assert "43,700" in text  # the tight run's value added (see above)


def test_compare_with_an_infeasible_run_shows_its_diagnosis(solved_runs, tmp_path, monkeypatch):
    runs = use_runs(solved_runs, tmp_path, monkeypatch, "base", "infeasible")
    base, bad = runs["base"], runs["infeasible"]
    at = open_page("compare")
    at.multiselect(key="compare_runs").set_value([str(base), str(bad)]).run()
    assert not at.exception

    kpis = at.dataframe[0].value
    base_label, bad_label = kpis.columns  # in the order picked
    assert kpis.loc["状态", bad_label] == "无可行解"
    figures = kpis.drop(index=["状态", "间隙"])
    assert (figures[bad_label] == "—").all()  # no plan: a dash, never 0
    assert figures.loc["增加值（万元）", base_label] == "49,650"

    # Every diagnosis item of the run, in zh, proofs as errors and relaxations listed.
    items = json.loads((bad / "diagnosis.json").read_text(encoding="utf-8"))["items"]
    assert items
    errors = [e.value for e in at.error]
    for item in items:  # proofs as sentences, relaxations as rows naming their subject
        if item["source"] == "presolve":
            assert any(item["label_zh"] in text for text in errors), item["label_zh"]
        else:
            assert item["subject_name"] in texts(at), item
    # Z02's energy cap at 0 while F003, F004 (may not leave) and the locked A002 need
    # 0.8 × 600 + 0.8 × 9,000 + 0.5 × 800 = 8,080 tce at least.
    assert (
        "能耗总量·宁波梅山综合保税区：仅保障下限就需要 8,080 吨标准煤，上限为 0 吨标准煤"
        in at.error[0].value
    )
    assert f"{bad_label}：无可行解，没有方案可对比" in texts(at)
    # No made-up differences: the pair cannot be compared plot by plot.
    assert "结果变化的地块" not in texts(at)
    assert "没有方案" in at.info[0].value


def test_the_base_run_is_chosen_not_the_order_of_clicks(solved_runs, tmp_path, monkeypatch):
    from allocator import run_names

    runs = use_runs(solved_runs, tmp_path, monkeypatch, "base", "tight")
    base, tight = runs["base"], runs["tight"]
    names = run_names([base, tight], "zh")
    at = open_page("compare")
    # clicked newest first: the base is still the earliest run until the user picks another
    at.multiselect(key="compare_runs").set_value([str(tight), str(base)]).run()
    assert at.selectbox(key="compare_base").value == str(base)
    assert list(at.dataframe[0].value.columns) == [names[base], names[tight]]
    assert f"基准「{names[base]}」→「{names[tight]}」" in texts(at)

    # the run columns are shown (an unlabelled column would be hidden as an internal one)
    config = json.loads(at.dataframe[0].proto.columns or "{}")
    for name in (names[base], names[tight]):
        assert config[name].get("label") == name, config
        assert not config[name].get("hidden"), config

    at.selectbox(key="compare_base").set_value(str(tight)).run()
    assert not at.exception
    kpis = at.dataframe[0].value
    assert list(kpis.columns) == [names[tight], names[base]]
    assert kpis.loc["增加值（万元）"].tolist() == ["43,700", "49,650"]
    assert f"基准「{names[tight]}」→「{names[base]}」" in texts(at)
    # seen from tight, the base run gains F004 back
    frames = [d.value for d in at.dataframe]
    firms = next(f for f in frames if "change" in f.columns)
    assert dict(zip(firms["firm_id"], firms["change"], strict=True)) == {"F004": "新增"}
