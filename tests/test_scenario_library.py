"""Named scenarios (allocator.scenario_library): save, list, rename, duplicate, delete, load.

Each saved file is a scenario the CLI runs: its case is named relative to the file
plus a content hash, so the folder can move and a changed case is refused by name.
Bad names and damaged files are clear messages and leave the folder as it was.
Drafts (the what-if page's unsaved edits) round-trip and are dropped for another
version of the case.
"""

from __future__ import annotations

import math
import shutil
import tomllib
from pathlib import Path

import pytest

from allocator import (
    ScenarioLibrary,
    discard_draft,
    load_draft,
    load_scenario,
    portable_toml,
    save_draft,
    solve,
)
from allocator.errors import ScenarioError
from allocator.safety import safe_filename

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def place(tmp_path):
    """A work folder: the tiny case in ``data/``, a library in ``work/scenarios/``."""
    from allocator import save_case
    from allocator.case.testing import tiny_case

    case_path = save_case(tiny_case(), tmp_path / "data" / "tiny.gpkg")
    scenario = load_scenario(
        ROOT / "scenarios" / "baseline.toml",
        {"case": str(case_path), "caps.zones.Z01.energy_factor": 0.7},
    )
    return tmp_path, case_path, scenario, ScenarioLibrary(tmp_path / "work" / "scenarios")


def _case_hash(case_path: Path) -> str:
    from allocator import load_case

    return load_case(case_path).content_hash()


def _files(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_saved_file_names_its_case_portably_and_lists_by_name(place):
    tmp, case_path, scenario, lib = place
    digest = _case_hash(case_path)
    entry = lib.save(scenario, "能耗收紧 七成", "梅山能耗上限压到 70%", case_hash=digest)
    assert entry.path == lib.folder / f"{safe_filename('能耗收紧 七成')}.toml"
    assert entry.path.name == "能耗收紧_七成~" + entry.path.name.split("~")[1]
    text = entry.path.read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    assert raw["case"] == "../../data/tiny.gpkg"  # relative to the scenario file
    assert raw["case_hash"] == digest
    assert raw["name"] == "能耗收紧 七成"
    assert "extends" not in raw
    assert str(tmp) not in text  # no absolute path anywhere
    (listed,) = lib.entries()
    assert (listed.name, listed.description, listed.ok) == (
        "能耗收紧 七成",
        "梅山能耗上限压到 70%",
        True,
    )
    assert listed.case_hash == digest
    assert listed.modified.tzinfo is not None
    again = lib.load("能耗收紧 七成")
    assert again.hash == scenario.hash  # the same parameters
    assert again.case_path == case_path.resolve()
    assert again.get("caps.zones.Z01.energy_factor") == 0.7


def test_the_library_folder_moves_with_its_case(place):
    tmp, case_path, scenario, lib = place
    lib.save(scenario, "a", case_hash=_case_hash(case_path))
    moved = tmp / "elsewhere"
    shutil.copytree(tmp / "data", moved / "data")
    shutil.copytree(tmp / "work", moved / "work")
    shutil.rmtree(tmp / "data")
    loaded = ScenarioLibrary(moved / "work" / "scenarios").load("a")
    assert loaded.case_path == (moved / "data" / "tiny.gpkg").resolve()
    assert loaded.case_path.is_file()


def test_a_saved_scenario_solves_like_the_scenario_it_saved(place):
    tmp, case_path, scenario, lib = place
    entry = lib.save(scenario, "比较", case_hash=_case_hash(case_path))
    direct = solve(scenario, write=False)
    from_file = solve(entry.path, write=False)
    assert direct.summary["objective"] == pytest.approx(from_file.summary["objective"], rel=1e-9)
    assert direct.summary["scenario_hash"] == from_file.summary["scenario_hash"]


def test_a_changed_case_is_refused_by_its_key(place, capsys):
    from allocator import save_case
    from allocator.case.testing import tiny_case
    from allocator.cli import main

    tmp, case_path, scenario, lib = place
    entry = lib.save(scenario, "旧数据", case_hash=_case_hash(case_path))
    changed = tiny_case()
    changed.firms.loc[0, "value_added_wan"] = float(changed.firms.loc[0, "value_added_wan"]) + 1
    save_case(changed, case_path)
    with pytest.raises(ScenarioError) as info:
        solve(entry.path, write=False)
    assert "case_hash" in info.value.message
    assert entry.path.name in info.value.message
    assert "tiny.gpkg" in info.value.message
    assert "case_hash" in info.value.hint
    assert main(["solve", str(entry.path), "--no-write"]) == 1
    err = capsys.readouterr().err
    assert "case_hash" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "不能为空"),
        ("   ", "不能为空"),
        ("a/b", "不允许的字符"),
        ("..\\x", "不允许的字符"),
        ("..", "不允许的字符"),
        ("a:b", "不允许的字符"),
        ("tab\there", "不允许的字符"),
        ("长" * 81, "过长"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_written(place, name, words):
    tmp, case_path, scenario, lib = place
    lib.save(scenario, "kept")
    before = _files(lib.folder)
    with pytest.raises(ScenarioError) as info:
        lib.save(scenario, name)
    assert words in info.value.message
    with pytest.raises(ScenarioError):
        lib.rename("kept", name)
    with pytest.raises(ScenarioError):
        lib.duplicate("kept", name)
    assert _files(lib.folder) == before


def test_a_taken_name_is_refused_ignoring_case(place):
    tmp, case_path, scenario, lib = place
    lib.save(scenario, "Plan A")
    lib.save(scenario, "Plan B")
    before = _files(lib.folder)
    for taken in ("Plan A", "plan a", " PLAN A "):
        with pytest.raises(ScenarioError, match="已有名为"):
            lib.save(scenario, taken)
        with pytest.raises(ScenarioError, match="已有名为"):
            lib.duplicate("Plan B", taken)
        with pytest.raises(ScenarioError, match="已有名为"):
            lib.rename("Plan B", taken)
    assert _files(lib.folder) == before


def test_rename_duplicate_delete(place):
    tmp, case_path, scenario, lib = place
    first = lib.save(scenario, "方案一", "说明", case_hash="abc")
    renamed = lib.rename("方案一", "方案甲")
    assert not first.path.exists()
    assert renamed.path == lib.path_for("方案甲")
    assert (renamed.name, renamed.description, renamed.case_hash) == ("方案甲", "说明", "abc")
    copy = lib.duplicate("方案甲", "方案乙")
    assert sorted(e.name for e in lib.entries()) == ["方案乙", "方案甲"]
    assert lib.load("方案乙").hash == lib.load("方案甲").hash == scenario.hash
    assert lib.load("方案乙").case_path == case_path.resolve()  # the relative path still holds
    assert copy.path != renamed.path
    # a rename that only changes letter case keeps one file
    lib.save(scenario, "abc")
    lib.rename("abc", "ABC")
    assert [e.name for e in lib.entries() if e.name.casefold() == "abc"] == ["ABC"]
    with pytest.raises(ScenarioError, match="已有名为"):  # a copy needs another name
        lib.duplicate("ABC", "abc")
    lib.rename("方案乙", "方案乙")  # its own name: nothing changes
    assert lib.find("方案乙").path == copy.path
    lib.delete("方案甲")
    assert not renamed.path.exists()
    assert sorted(e.name for e in lib.entries()) == ["ABC", "方案乙"]
    with pytest.raises(ScenarioError, match="没有名为"):
        lib.delete("方案甲")
    with pytest.raises(ScenarioError, match="没有名为"):
        lib.load("方案甲")
    assert not [p for p in lib.folder.iterdir() if p.name.startswith(".")]  # no temp left


def test_a_damaged_file_is_listed_with_its_problem(place):
    tmp, case_path, scenario, lib = place
    lib.save(scenario, "good")
    bad = lib.folder / "broken.toml"
    bad.write_text('name = "broken"\n[caps\nenergy_factor = 0.8\n', encoding="utf-8")
    unknown = lib.folder / "odd.toml"
    unknown.write_text('name = "odd"\ncaps.energy_factr = 0.8\n', encoding="utf-8")
    entries = {e.name: e for e in lib.entries()}
    assert entries["good"].ok
    assert not entries["broken"].ok
    assert not entries["odd"].ok
    assert "energy_factr" in entries["odd"].problem
    before = _files(lib.folder)
    for action in (
        lambda: lib.load("broken"),
        lambda: lib.rename("broken", "fixed"),
        lambda: lib.duplicate("odd", "copy"),
    ):
        with pytest.raises(ScenarioError) as info:
            action()
        assert "已损坏" in info.value.message
        assert ".toml" in info.value.message
    with pytest.raises(ScenarioError, match="已有名为"):  # its file name is taken
        lib.save(scenario, "broken")
    assert _files(lib.folder) == before
    lib.delete("broken")
    assert not bad.exists()


def test_portable_toml_without_a_folder_names_the_case_file_only(place):
    tmp, case_path, scenario, lib = place
    text = portable_toml(scenario, name="x", description="d", case_hash="h")
    raw = tomllib.loads(text)
    assert raw["case"] == "tiny.gpkg"
    assert raw["case_hash"] == "h"
    assert text.splitlines()[0] == 'name = "x"'
    # beside the case, the downloaded file runs as it is
    beside = case_path.parent / "x.toml"
    beside.write_text(text, encoding="utf-8")
    assert load_scenario(beside).case_path == case_path.resolve()


def test_drafts_round_trip_and_are_dropped_for_another_case(tmp_path):
    folder = tmp_path / ".drafts"
    data = {"base": "x.toml", "overrides": {"classes.cap.A": math.inf, "caps.energy_factor": 0.8}}
    path = save_draft(folder, "/cases/a.gpkg", "hash-1", data)
    assert path.parent == folder
    read = load_draft(folder, "/cases/a.gpkg", "hash-1")
    assert read.data == data
    assert not read.discarded
    assert load_draft(folder, "/cases/b.gpkg", "hash-1").data is None  # one draft per case
    stale = load_draft(folder, "/cases/a.gpkg", "hash-2")
    assert (stale.data, stale.discarded) == (None, True)
    assert not path.exists()
    save_draft(folder, "k", "h", {"a": 1})
    discard_draft(folder, "k")
    assert load_draft(folder, "k", "h").data is None
    # a damaged draft is dropped (nothing to restore), not an error
    path = save_draft(folder, "k", "h", {"a": 1})
    path.write_text("{not json", encoding="utf-8")
    assert load_draft(folder, "k", "h").data is None
    assert not path.exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp")]


def test_a_folder_that_cannot_be_written_is_a_message(place):
    tmp, case_path, scenario, lib = place
    blocked = tmp / "not-a-folder"
    blocked.write_text("x", encoding="utf-8")
    with pytest.raises(ScenarioError, match="无法写入情景库文件夹") as info:
        ScenarioLibrary(blocked).save(scenario, "x")
    assert str(tmp) not in info.value.message  # no server path
    assert blocked.read_text(encoding="utf-8") == "x"
