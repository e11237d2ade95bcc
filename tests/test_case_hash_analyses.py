"""``alternatives``, ``stability`` and ``sweep`` refuse a scenario saved on a changed case.

A saved scenario records its case's content hash (``case_hash``); run on changed
data it would answer another question silently. Both commands refuse it with the
message of :func:`allocator.scenario_refs.check_case_hash` (naming the scenario file
and the key), exit 1, no traceback, nothing written and — for a sweep — nothing
submitted to a cluster.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.cli import main

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = {
    "alternatives": ["alternatives", "--k", "2"],
    "stability": ["stability", "--max-changes", "1"],
    "sweep": ["sweep", "--vary", "caps.energy_factor=0.5:1", "--points", "2", "--workers", "1"],
    # an address where nothing listens: reached only after the check, so never here
    "sweep on a cluster": [
        "sweep", "--vary", "caps.energy_factor=0.5:1", "--points", "2",
        "--scheduler", "tcp://127.0.0.1:9",
    ],
}  # fmt: skip


@pytest.fixture
def changed_case_scenario(tmp_path):
    """A scenario saved on the tiny case, whose case file then changed; return its path."""
    from allocator import ScenarioLibrary, load_case, load_scenario, save_case
    from allocator.case.testing import tiny_case

    case_path = save_case(tiny_case(), tmp_path / "data" / "tiny.gpkg")
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml", {"case": str(case_path)})
    library = ScenarioLibrary(tmp_path / "scenarios")
    saved = library.save(scenario, "旧数据", case_hash=load_case(case_path).content_hash())
    changed = tiny_case()
    changed.firms.loc[0, "value_added_wan"] = float(changed.firms.loc[0, "value_added_wan"]) + 1
    save_case(changed, case_path)
    return saved.path


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_changed_case_is_refused_before_any_work(
    changed_case_scenario, tmp_path, capsys, command
):
    argv = COMMANDS[command]
    out = tmp_path / "out"
    code = main([argv[0], str(changed_case_scenario), *argv[1:], "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    first = captured.err.splitlines()[0]
    # the same message solve gives: the scenario file, its key, the case file
    assert first.startswith(f"错误: {changed_case_scenario}：参数 case_hash 记录的案例指纹")
    assert "与案例 tiny.gpkg 的当前指纹" in first
    assert "删除情景文件中的 case_hash 一行" in captured.err
    assert "Traceback" not in captured.err
    assert "本机" not in captured.err  # no local cluster was started (its announcement)
    assert "调度器" not in captured.err  # nor a scheduler reached
    assert captured.out == ""
    assert not out.exists()
