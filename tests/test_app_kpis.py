"""Electricity as planners read it (万千瓦时): the app, the compare CLI and workbook, the brief."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from app_helpers import open_page, use_runs

from allocator import format_kpi


def served_total(run, column: str) -> float:
    firms = pd.read_parquet(run / "firms.parquet")
    return float(firms.loc[firms["served"].astype(bool), column].sum())


def test_whatif_kpi_table_is_shown_in_planner_units(solved_runs, tmp_path, monkeypatch):
    runs = use_runs(solved_runs, tmp_path, monkeypatch, "base", "tight")
    at = open_page("whatif", timeout=120)
    at.session_state["whatif_last"] = {
        "run": str(runs["tight"]),
        "base": str(runs["base"]),
        "changed": True,
    }
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    frame = next(d for d in at.dataframe if "指标" in d.value.columns)
    config = json.loads(frame.proto.columns or "{}")
    for col in frame.value.columns:  # every column is shown (none hidden as internal)
        assert not (config.get(col) or {}).get("hidden"), config
    table = frame.value.set_index("指标")
    # electricity in 万千瓦时: the run's MWh / 10 (1 万kWh = 10 MWh)
    mwh = served_total(runs["tight"], "electricity_mwh")
    assert mwh > 0
    assert table.loc["用电量（万千瓦时）", "本情景"] == pytest.approx(mwh / 10)
    metrics = {(m.proto.help or m.label): m.value for m in at.metric}
    assert metrics["用电量（万千瓦时）"] == format_kpi("electricity_mwh", mwh)
    assert format_kpi("electricity_mwh", mwh) == f"{mwh / 10:,.0f}"
    # the metrics' short names carry no unit: the units stand on the page, not only in the help
    units = next(c.value for c in at.caption if c.value.startswith("单位："))
    for label in ("增加值（万元）", "综合能耗（吨标准煤）", "用电量（万千瓦时）", "已用地（亩）"):
        assert label in units


def test_compare_cli_and_workbook_show_electricity_in_wan_kwh(solved_runs, tmp_path, capsys):
    """`allocator compare` and its workbook: 用电量 in 万千瓦时 (MWh / 10), no server paths."""
    from allocator.cli import main

    runs = solved_runs.copy_to(tmp_path / "runs", "base", "tight")
    base, tight = runs["base"], runs["tight"]
    mwh = {k: served_total(p, "electricity_mwh") for k, p in runs.items()}
    out = tmp_path / "对比.xlsx"
    assert main(["compare", str(base), str(tight), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    line = next(x for x in text.splitlines() if x.startswith("用电量（万千瓦时）"))
    assert f"{mwh['base'] / 10:,.1f}" in line
    assert f"{mwh['tight'] / 10:,.1f}" in line
    assert f"{(mwh['tight'] - mwh['base']) / 10:+,.1f}" in line
    sheets = pd.read_excel(out, sheet_name=None)
    kpis = sheets["主要指标"].set_index("指标")
    assert kpis.loc["用电量（万千瓦时）"].iloc[0] == pytest.approx(mwh["base"] / 10)
    assert kpis.loc["用电量（万千瓦时）"].iloc[1] == pytest.approx(mwh["tight"] / 10)
    zones = sheets["各区"]
    elec = zones[zones.iloc[:, 1] == "用电（万千瓦时）"]
    assert len(elec) == 2
    zone_mwh = pd.read_parquet(base / "zones.parquet")["electricity_mwh"].sum()
    assert elec.iloc[:, 2].sum() == pytest.approx(zone_mwh / 10)
    assert not sheets["运行"].astype(str).apply(lambda c: c.str.contains(str(tmp_path))).any().any()


def test_brief_prices_an_electricity_quota_per_wan_kwh(tmp_path):
    """A binding electricity cap is priced per 万千瓦时 (10 × its 万元/MWh marginal value)."""
    import docx

    from allocator import export, load_scenario, save_case, solve
    from allocator.case.testing import tiny_case

    case = save_case(tiny_case(), tmp_path / "tiny.gpkg")
    scenario = load_scenario(
        "scenarios/baseline.toml", {"case": str(case), "caps.electricity_factor": 0.7}
    )
    result = solve(scenario, out_dir=tmp_path / "runs")
    marg = result.marginals.set_index("row")
    # Z01's electricity cap binds: its marginal value is per MWh in the data
    assert marg.loc["zone_electricity[Z01]", "unit"] == "万元/MWh"
    per_mwh = float(marg.loc["zone_electricity[Z01]", "value"])
    assert per_mwh > 0
    files = export(result.run_path, "brief", tmp_path / "out", lang="zh")
    text = "\n".join(
        p.text for p in docx.Document(next(f for f in files if f.suffix == ".docx")).paragraphs
    )
    assert "每放宽 1 万千瓦时约值" in text
    assert "兆瓦时" not in text
    assert f"约值 {per_mwh * 10:.3g} 万元" in text
