"""AppTest: the what-if page keeps the scenario being edited, and names saved scenarios.

Kept state: an edit survives a page change and a reload (a new session reads the
draft on disk); a draft made on another version of the case is cleared; a result
that no longer answers the edits is marked as the previous one. Named scenarios:
saved, listed (by name, never by file name), loaded, renamed, duplicated and
deleted through the page; bad names are refused with nothing written; a saved
scenario run from the CLI reaches the app's objective.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from app_helpers import ROOT, open_page, texts
from streamlit.testing.v1 import AppTest

SLIDER = "sc:baseline:caps.zones.Z02.energy_factor"
OTHER = "sc:baseline:caps.zones.Z01.energy_factor"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A private copy of the tiny case (tests may change it) and an empty runs folder."""
    from allocator import save_case
    from allocator.case.testing import tiny_case

    case = save_case(tiny_case(), tmp_path / "data" / "tiny.gpkg")
    runs = tmp_path / "runs"
    monkeypatch.setenv("ALLOCATOR_CASE", str(case))
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(runs))
    return case, runs


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _switch(at: AppTest, page: str) -> AppTest:
    return _ok(at.switch_page(f"allocator/ui/pages/{page}.py").run())


def _library_rows(at: AppTest) -> list[dict]:
    frames = [d.value for d in at.dataframe if "名称" in d.value.columns]
    return frames[0].to_dict("records") if frames else []


def _save(at: AppTest, name: str, description: str = "") -> AppTest:
    at.text_input(key="whatif_save_name").input(name)
    at.text_area(key="whatif_save_description").input(description)
    return _ok(at.button(key="whatif_save_named").click().run())


# ----------------------------------------------------------------------------- kept state


def test_edits_survive_a_page_change(env):
    at = open_page("whatif")
    at.slider(key=SLIDER).set_value(80.0).run()
    at.slider(key=OTHER).set_value(60.0).run()
    at.toggle(key="sc:baseline:exit.non_catalogue").set_value(True).run()
    for page in ("overview", "compare"):
        _switch(at, page)
        _switch(at, "whatif")
        assert at.slider(key=SLIDER).value == 80.0
        assert at.slider(key=OTHER).value == 60.0
        assert at.toggle(key="sc:baseline:exit.non_catalogue").value is True
        assert "已修改 3 个参数" in texts(at)


def test_the_base_choice_survives_a_page_change_and_a_reload(env):
    at = open_page("whatif")
    path = ROOT / "scenarios" / "energy_cap_minus_15pct.toml"
    at.selectbox(key="whatif_base").set_value(str(path)).run()
    chosen = at.selectbox(key="whatif_base").value
    assert chosen.endswith("energy_cap_minus_15pct.toml")
    key = "sc:energy_cap_minus_15pct:caps.zones.Z01.energy_factor"
    at.slider(key=key).set_value(50.0).run()
    _switch(at, "overview")
    _switch(at, "whatif")
    assert at.selectbox(key="whatif_base").value == chosen
    assert at.slider(key=key).value == 50.0
    again = open_page("whatif")  # a reload: a new session
    assert again.selectbox(key="whatif_base").value == chosen
    assert again.slider(key=key).value == 50.0


def test_edits_and_the_last_result_survive_a_reload(env):
    at = open_page("whatif")
    at.slider(key=SLIDER).set_value(80.0).run()
    _ok(at.button(key="whatif_run").click().run(timeout=120))
    run = at.session_state["whatif_last"]["run"]
    again = open_page("whatif")
    assert again.slider(key=SLIDER).value == 80.0
    assert "已恢复上次未保存的编辑" in texts(again)
    assert "已修改 1 个参数" in texts(again)
    assert again.session_state["whatif_last"]["run"] == run
    assert any(s.value.startswith("结果：") for s in again.subheader)  # shown as the answer
    assert not again.warning


def test_a_draft_of_an_older_case_version_is_cleared(env):
    from allocator import save_case
    from allocator.case.testing import tiny_case

    case, runs = env
    at = open_page("whatif")
    at.slider(key=SLIDER).set_value(80.0).run()
    assert list((runs / ".drafts").glob("*.json"))
    changed = tiny_case()
    changed.firms.loc[0, "value_added_wan"] = float(changed.firms.loc[0, "value_added_wan"]) + 1
    save_case(changed, case)
    again = open_page("whatif")
    assert again.slider(key=SLIDER).value == 100.0
    assert "案例数据已更改，上次未保存的编辑已清除" in texts(again)
    assert "已修改" not in texts(again)


def test_a_result_is_marked_stale_once_the_edits_differ(env):
    at = open_page("whatif")
    at.slider(key=SLIDER).set_value(80.0).run()
    _ok(at.button(key="whatif_run").click().run(timeout=120))
    assert not at.warning
    assert at.subheader[0].value.startswith("结果：")
    at.slider(key=SLIDER).set_value(70.0).run()
    assert at.warning[0].value == "参数已修改，下面的结果仍是修改前的运行结果。点击“运行”更新。"
    assert at.subheader[0].value.startswith("上次结果（参数修改前）：")
    _switch(at, "overview")
    _switch(at, "whatif")  # still stale after a page change
    assert at.subheader[0].value.startswith("上次结果（参数修改前）：")
    at.slider(key=SLIDER).set_value(80.0).run()  # back to what was run
    assert not at.warning
    assert at.subheader[0].value.startswith("结果：")


# ----------------------------------------------------------------------------- named scenarios


def test_a_named_scenario_is_saved_listed_loaded_renamed_duplicated_deleted(env):
    case, runs = env
    at = open_page("whatif")
    at.slider(key=SLIDER).set_value(80.0).run()
    _save(at, "梅山能耗收紧", "梅山综保区能耗上限压到八成")
    assert "已保存情景“梅山能耗收紧”。" in texts(at)
    (row,) = _library_rows(at)
    assert row["名称"] == "梅山能耗收紧"
    assert row["说明"] == "梅山综保区能耗上限压到八成"
    assert row["修改时间"][:2] == "20"
    assert row["备注"] == ""
    (saved,) = (runs / "scenarios").glob("*.toml")
    assert ".toml" not in texts(at) + json.dumps(_library_rows(at), ensure_ascii=False)
    # load into the editor: the saved values, as the base (no changes left over)
    at.slider(key=SLIDER).set_value(100.0).run()
    _ok(at.button(key="whatif_lib_load").click().run())
    assert at.selectbox(key="whatif_base").value == str(saved)
    assert "已载入情景“梅山能耗收紧”。" in texts(at)
    loaded_key = f"sc:my-{saved.stem}:caps.zones.Z02.energy_factor"
    assert at.slider(key=loaded_key).value == 80.0
    assert "已修改" not in texts(at)
    # rename the base being edited: the editor follows it, a page change keeps it
    at.slider(key=loaded_key).set_value(90.0).run()
    at.text_input(key="whatif_lib_new_name").input("梅山收紧八成")
    _ok(at.button(key="whatif_lib_rename").click().run())
    assert [r["名称"] for r in _library_rows(at)] == ["梅山收紧八成"]
    assert not saved.exists()
    (renamed,) = (runs / "scenarios").glob("*.toml")
    assert at.selectbox(key="whatif_base").value == str(renamed)
    new_key = f"sc:my-{renamed.stem}:caps.zones.Z02.energy_factor"
    assert at.slider(key=new_key).value == 90.0  # the edit on top of it kept
    # duplicate (default name "… 副本"), then delete the copy after a confirmation
    _ok(at.button(key="whatif_lib_duplicate").click().run())
    names = sorted(r["名称"] for r in _library_rows(at))
    assert names == ["梅山收紧八成", "梅山收紧八成 副本"]
    copy = next(p for p in (runs / "scenarios").glob("*.toml") if "副本" in p.name)
    at.selectbox(key="whatif_lib_pick").set_value(str(copy)).run()
    _ok(at.button(key="whatif_lib_delete").click().run())
    assert "确定删除情景“梅山收紧八成 副本”吗？此操作无法撤销。" in texts(at)
    assert len(list((runs / "scenarios").glob("*.toml"))) == 2  # not yet
    _ok(at.button(key="whatif_lib_confirm").click().run())
    assert [r["名称"] for r in _library_rows(at)] == ["梅山收紧八成"]
    assert "已删除情景“梅山收紧八成 副本”。" in texts(at)
    # a reload lists it and keeps it as the base being edited
    again = open_page("whatif")
    assert [r["名称"] for r in _library_rows(again)] == ["梅山收紧八成"]
    assert again.selectbox(key="whatif_base").value == str(renamed)
    assert again.slider(key=new_key).value == 90.0


def test_deleting_needs_the_confirmation(env):
    case, runs = env
    at = open_page("whatif")
    _save(at, "留着")
    _ok(at.button(key="whatif_lib_delete").click().run())
    _ok(at.button(key="whatif_lib_cancel").click().run())
    assert [r["名称"] for r in _library_rows(at)] == ["留着"]
    assert len(list((runs / "scenarios").glob("*.toml"))) == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "情景名称不能为空"),
        ("a/b", "情景名称“a/b”含有不允许的字符：/"),
        ("已有", "已有名为“已有”的情景"),
    ],
)
def test_bad_names_are_refused_with_nothing_written(env, name, message):
    case, runs = env
    at = open_page("whatif")
    _save(at, "已有")
    _save(at, "其他")  # now the one chosen in the list
    before = sorted(p.name for p in (runs / "scenarios").iterdir())
    _save(at, name)
    assert at.error[0].value == message
    assert sorted(p.name for p in (runs / "scenarios").iterdir()) == before
    for button in ("whatif_lib_rename", "whatif_lib_duplicate"):
        at.text_input(key="whatif_lib_new_name").input(name or " ")
        _ok(at.button(key=button).click().run())
        if name:  # an empty new name duplicates as "其他 副本"
            assert at.error[0].value == message
            assert sorted(p.name for p in (runs / "scenarios").iterdir()) == before
    assert [r["名称"] for r in _library_rows(at)][-2:] == ["其他", "已有"]


def test_a_damaged_saved_file_is_listed_not_fatal(env):
    case, runs = env
    at = open_page("whatif")
    _save(at, "好的")
    (runs / "scenarios" / "坏的.toml").write_text("name = [broken", encoding="utf-8")
    _ok(at.run())
    rows = {r["名称"]: r for r in _library_rows(at)}
    assert rows["坏的"]["备注"] == "文件已损坏"
    assert rows["好的"]["备注"] == ""
    options = at.selectbox(key="whatif_base").options
    assert not any("坏的" in o for o in options)  # not offered as a base


def test_a_saved_scenario_runs_the_same_from_the_cli(env, tmp_path):
    from allocator.cli import main

    case, runs = env
    at = open_page("whatif")
    at.slider(key=SLIDER).set_value(60.0).run()
    at.slider(key="sc:baseline:classes.floor.B").set_value(0.5).run()
    _save(at, "命令行复算", "能耗收紧后在命令行复算")
    (saved,) = (runs / "scenarios").glob("*.toml")
    raw = tomllib.loads(saved.read_text(encoding="utf-8"))
    assert raw["case"] == "../../data/tiny.gpkg"
    assert str(tmp_path) not in saved.read_text(encoding="utf-8")
    _ok(at.button(key="whatif_lib_load").click().run())
    _ok(at.button(key="whatif_run").click().run(timeout=120))
    app_run = Path(at.session_state["whatif_last"]["run"])
    app = json.loads((app_run / "summary.json").read_text(encoding="utf-8"))
    out = tmp_path / "cli-runs"
    assert main(["solve", str(saved), "--out", str(out)]) == 0
    (cli_run,) = [p for p in out.iterdir() if (p / "summary.json").is_file()]
    cli = json.loads((cli_run / "summary.json").read_text(encoding="utf-8"))
    assert cli["status"] == app["status"] == "optimal"
    assert cli["objective"] == pytest.approx(app["objective"], rel=1e-9)
    assert cli["scenario_hash"] == app["scenario_hash"]
    assert cli["case_hash"] == app["case_hash"] == raw["case_hash"]
    assert cli["scenario_name"] == "命令行复算"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_with_saved_scenarios_speaks_the_planners_language(env, lang):
    """The panel, the list, a loaded scenario, a stale result: no internal identifiers."""
    from app_helpers import internal_identifiers
    from test_app_language import result_page_text

    at = open_page("whatif", lang=lang)
    at.slider(key=SLIDER).set_value(80.0).run()
    _save(at, "梅山收紧" if lang == "zh" else "Meishan tighter", "")
    _ok(at.button(key="whatif_lib_load").click().run())
    _ok(at.button(key="whatif_run").click().run(timeout=120))
    (saved,) = (env[1] / "scenarios").glob("*.toml")
    at.slider(key=f"sc:my-{saved.stem}:caps.zones.Z02.energy_factor").set_value(70.0).run()
    assert at.warning  # the stale result is on the page being scanned
    _ok(at.button(key="whatif_lib_delete").click().run())  # the confirmation too
    found = internal_identifiers(result_page_text(at), lang)
    assert found == [], sorted(set(found))
