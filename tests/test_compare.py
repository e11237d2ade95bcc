from __future__ import annotations

import pandas as pd
import pytest
from test_prepare import hand_prepare
from test_runs import fake_result

from allocator.compare import compare
from allocator.errors import AllocatorError
from allocator.runs import run_name, run_names, set_run_label, write_run


def _two_runs(tmp_path):
    prep = hand_prepare({"exit": {"classes": ["D"]}})
    base = fake_result(prep)
    base.marginals = pd.DataFrame(
        {"row": ["zone_energy[Z1]"], "family": ["zone_energy"], "zone_id": ["Z1"],
         "unit_id": [None], "value": [0.0], "unit": ["万元/tce"], "slack": [10.0],
         "binding": [False]}
    )  # fmt: skip
    other = fake_result(prep)
    firms = other.firms.copy()
    i = firms.index[firms["firm_id"] == "A1"][0]
    firms.loc[i, ["served", "value_added_wan"]] = [False, 0.0]
    other.firms = firms
    plots = other.plots.copy()
    plots.loc[plots["plot_id"].isin(["P3", "P4"]), ["outcome", "firm_id_after"]] = ["vacant", None]
    other.plots = plots
    zones = other.zones.copy()
    zones.loc[zones["zone_id"] == "Z1", "land_used_mu"] -= 35.0
    other.zones = zones
    other.marginals = base.marginals.assign(value=[3.5], binding=[True], slack=[0.0])
    return write_run(base, tmp_path), write_run(other, tmp_path)


def test_compare_two_runs(tmp_path):
    p1, p2 = _two_runs(tmp_path)
    cmp = compare([p1, p2])
    n1, n2 = run_names([p1, p2]).values()  # one scenario, maybe in one second: (2)
    assert cmp.labels == [n1, n2]
    assert cmp.kpis.loc["value_added_wan", n1] == pytest.approx(2950.0)
    assert cmp.kpis.loc["value_added_wan", n2] == pytest.approx(1450.0)
    assert cmp.kpis.loc["applicants_admitted", n2] == 1
    assert set(cmp.plots["plot_id"]) == {"P3", "P4"}
    lost = cmp.firms.set_index("firm_id").loc["A1"]
    assert lost["change"] == "lost"
    assert lost["binding_changed"] == "zone_energy[Z1]"
    assert list(cmp.binding["row"]) == ["zone_energy[Z1]"]
    z = cmp.zones[cmp.zones["metric"] == "land_used_mu"].set_index("zone_id")
    assert z.loc["Z1", f"delta_{n2}"] == pytest.approx(-35.0)


def test_compare_needs_two():
    with pytest.raises(AllocatorError, match="至少需要两个运行结果"):
        compare([fake_result(hand_prepare())])


def test_compare_cli_prints_and_writes_the_workbook(tmp_path, capsys):
    from allocator.cli import main

    p1, p2 = _two_runs(tmp_path)
    n1, n2 = run_names([p1, p2]).values()
    out = tmp_path / "对比.xlsx"
    assert main(["compare", str(p1), str(p2), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"[1] {n2}（文件夹 {p2.name}）" in text
    va = next(line for line in text.splitlines() if line.startswith("增加值"))
    assert "2,950.0" in va
    assert "1,450.0" in va
    assert "-1,500.0 (-50.85%)" in va
    assert "结果变化的地块（[1]）：2 个" in text
    assert "企业得失（[1]）：新增 0 家，失去 1 家" in text
    assert "失去 A1" in text
    assert "zone_energy[Z1]" in text
    assert "zone_energy[Z1]: 松 → 紧, 0.00 → 3.50 万元/tce" in text
    sheets = pd.read_excel(out, sheet_name=None)
    assert list(sheets) == ["运行", "主要指标", "各区", "变化地块", "企业得失", "紧约束变化"]
    kpis = sheets["主要指标"].set_index("指标")
    assert kpis.loc["增加值（万元）", n2] == pytest.approx(1450.0)
    assert kpis.loc["状态", n1] == "已证最优"
    firms = sheets["企业得失"]
    assert list(firms["企业编号"]) == ["A1"]
    assert list(firms["变化"]) == ["失去"]
    assert sorted(sheets["变化地块"]["地块编号"]) == ["P3", "P4"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".compare-")]


def test_compare_cli_in_english(tmp_path, capsys):
    from allocator.cli import main

    p1, p2 = _two_runs(tmp_path)
    assert main(["--lang", "en", "compare", str(p1), str(p2), "--top", "0"]) == 0
    text = capsys.readouterr().out
    assert "Comparison against base" in text
    assert "Value added (10k yuan)" in text
    assert "Firms ([1]): 0 gained, 1 lost" in text
    assert "… 1 more (the full table is in --out)" in text


@pytest.mark.parametrize("case", ["bad_suffix", "missing_folder", "not_a_run", "one_run"])
def test_compare_cli_bad_input_is_one_message_and_writes_nothing(tmp_path, capsys, case):
    from allocator.cli import main

    p1, p2 = _two_runs(tmp_path)
    out = tmp_path / "cmp.xlsx"
    args = {
        "bad_suffix": [str(p1), str(p2), "--out", str(tmp_path / "cmp.csv")],
        "missing_folder": [str(p1), str(p2), "--out", str(tmp_path / "nope" / "cmp.xlsx")],
        "not_a_run": [str(p1), str(tmp_path / "nope")],
        "one_run": [str(p1), "--out", str(out)],
    }[case]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert main(["compare", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("错误")
    assert "Traceback" not in err
    expected = {
        "bad_suffix": "cmp.csv",
        "missing_folder": "nope",
        "not_a_run": "不是运行结果文件夹",
        "one_run": "至少需要两个运行结果",
    }[case]
    assert expected in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def _labelled_pair(solved_runs, tmp_path):
    """The base and tight runs of the tiny case, the tight one labelled "方案二"."""
    runs = solved_runs.copy_to(tmp_path / "runs", "base", "tight")
    set_run_label(runs["tight"], "方案二")
    return runs["base"], runs["tight"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_compare_workbook_names_runs_as_the_app_does(solved_runs, tmp_path, lang):
    base, tight = _labelled_pair(solved_runs, tmp_path)
    names = [run_name(base, lang), run_name(tight, lang)]
    assert names[1].endswith(" · 方案二")
    out = compare([base, tight]).to_excel(tmp_path / "cmp.xlsx", lang)  # made in zh
    sheets = pd.read_excel(out, sheet_name=None)
    runs, kpis, zones, plots, firms = list(sheets.values())[:5]
    # the workbook's language names the runs, whatever the comparison was made in
    assert list(kpis.columns[1:]) == names
    change = "变化" if lang == "zh" else "change"
    assert list(zones.columns[2:]) == [*names, f"{change}: {names[1]}"]
    assert set(plots.iloc[:, 1]) == {names[1]}
    assert set(firms.iloc[:, 1]) == {names[1]}
    assert list(runs.iloc[:, 1]) == names
    heads = {
        "zh": ["运行", "运行名称", "文件夹", "情景"],
        "en": ["Run", "Run name", "Folder", "Scenario"],
    }
    assert list(runs.columns) == heads[lang]
    # the folder stays in the runs sheet only: what to type on the command line
    assert list(runs.iloc[:, 2]) == [base.name, tight.name]
    for sheet in list(sheets.values())[1:]:
        text = sheet.to_csv()
        assert base.name not in text
        assert tight.name not in text


def test_compare_cli_names_the_runs_by_their_planner_names(solved_runs, tmp_path, capsys):
    from allocator.cli import main

    base, tight = _labelled_pair(solved_runs, tmp_path)
    assert main(["compare", str(base), str(tight)]) == 0
    text = capsys.readouterr().out
    zh = [run_name(base, "zh"), run_name(tight, "zh")]
    assert text.splitlines()[:3] == [
        f"情景对比：基准 {zh[0]}",
        f"  [0] {zh[0]}（文件夹 {base.name}）",
        f"  [1] {zh[1]}（文件夹 {tight.name}）",
    ]
    assert "方案二" in zh[1]
    assert main(["--lang", "en", "compare", str(base), str(tight)]) == 0
    en = capsys.readouterr().out.splitlines()
    assert en[0] == f"Comparison against base {run_name(base, 'en')}"
    assert en[2] == f"  [1] {run_name(tight, 'en')} (folder {tight.name})"


def test_compare_cli_zone_electricity_is_in_the_unit_its_header_names(
    solved_runs, tmp_path, capsys
):
    from allocator.cli import main

    runs = solved_runs.copy_to(tmp_path / "runs", "base", "tight")
    comp = compare([runs["base"], runs["tight"]])
    z = comp.zones[comp.zones["metric"] == "electricity_mwh"].set_index("zone_id")
    delta_mwh = z.iloc[:, -1]  # the tight run minus the base, per zone (MWh)
    kpi = comp.kpis.loc["electricity_mwh"]
    assert delta_mwh.sum() == pytest.approx(kpi.iloc[1] - kpi.iloc[0])  # the zones add up
    assert main(["compare", str(runs["base"]), str(runs["tight"])]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("园区"))
    assert "用电（万千瓦时）" in lines[head]
    column = lines[head].split().index("用电（万千瓦时）")
    shown = {line.split()[0]: line.split()[column] for line in lines[head + 2 : head + 4]}
    # 1 万千瓦时 = 10 MWh, as in the key figures above the table
    assert shown == {
        zone: f"{v / 10:+,.1f}" if round(v / 10, 1) else "0" for zone, v in delta_mwh.items()
    }
