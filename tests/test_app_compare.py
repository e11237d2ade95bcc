"""AppTest: the compare page on two hand-made runs of the tiny case."""

from __future__ import annotations

import pytest
from app_helpers import fake_run, open_page, texts, write_tiny_case


@pytest.fixture
def two_runs(tmp_path, monkeypatch):
    case = write_tiny_case(tmp_path)
    runs = tmp_path / "runs"
    base = fake_run(runs, "base", f004_leaves=False, objective=38500.0)
    other = fake_run(runs, "variant", f004_leaves=True, objective=52500.0)
    monkeypatch.setenv("ALLOCATOR_CASE", str(case))
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(runs))
    return base, other


def test_compare_needs_two_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("ALLOCATOR_CASE", str(write_tiny_case()))
    at = open_page("compare")
    assert "至少需要两个运行结果（当前 0 个）" in at.info[0].value


def test_compare_two_runs(two_runs):
    base, other = two_runs
    at = open_page("compare")
    at.multiselect(key="compare_runs").set_value([str(base), str(other)]).run()
    at.selectbox(key="compare_base").set_value(base.name).run()
    assert not at.exception
    kpis = at.dataframe[0].value
    assert list(kpis.columns) == [base.name, other.name]
    row = kpis.loc["增加值（万元）"]
    assert row[base.name] == "38,500"
    assert row[other.name] == "52,500"
    body = texts(at)
    assert "结果变化的地块：2 个" in body
    assert "企业得失：新增 1 家，失去 1 家" in body
    frames = [d.value for d in at.dataframe]
    changed = next(f for f in frames if "outcome_a" in f.columns)
    assert sorted(changed["plot_id"]) == ["P04", "P07"]
    firms = next(f for f in frames if "change" in f.columns)
    assert dict(zip(firms["firm_id"], firms["change"], strict=True)) == {
        "A001": "新增",
        "F004": "失去",
    }
    why = dict(zip(firms["firm_id"], firms["binding_changed"], strict=True))
    assert why["F004"] == "zone_energy[Z02]"
    binding = frames[-1]
    assert list(binding["row"]) == ["zone_energy[Z02]"]
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["下载对比工作簿（Excel）"]
