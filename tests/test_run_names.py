"""Run names for people (allocator.runs): scenario title · time · the user's label."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import pytest

from allocator import AllocatorError, load_run, run_label, run_name, run_names, set_run_label
from allocator.runs import CHECKED_FILES, LABEL_FILE, edited_files


def _local_time(folder) -> str:
    created = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["created_at"]
    return datetime.fromisoformat(created).astimezone().strftime("%m-%d %H:%M:%S")


def test_run_name_is_title_time_and_label(solved_runs, tmp_path):
    base = solved_runs.copy_to(tmp_path / "runs", "base")["base"]
    when = _local_time(base)
    # baseline.toml: description = "基准情景：现行政策参数 / Baseline: current policy settings"
    assert run_name(base, "zh") == f"基准情景：现行政策参数 · {when}"
    assert run_name(base, "en") == f"Baseline: current policy settings · {when}"
    assert base.name not in run_name(base, "zh")

    assert set_run_label(base, "  方案二\n 送审 ") == "方案二 送审"
    assert run_label(base) == "方案二 送审"
    assert run_name(base, "zh") == f"基准情景：现行政策参数 · {when} · 方案二 送审"
    assert run_name(load_run(base), "zh") == run_name(base, "zh")
    # the label lives beside the run files and changes none of them
    assert (base / LABEL_FILE).read_text(encoding="utf-8") == "方案二 送审\n"
    assert edited_files(load_run(base)) == []
    assert LABEL_FILE not in CHECKED_FILES
    assert not [p for p in base.iterdir() if p.name.startswith(".label-")]

    assert set_run_label(base, "") == ""
    assert not (base / LABEL_FILE).exists()
    assert run_name(base, "zh") == f"基准情景：现行政策参数 · {when}"


def test_bad_labels_are_refused_and_nothing_is_written(solved_runs, tmp_path):
    base = solved_runs.copy_to(tmp_path / "runs", "base")["base"]
    with pytest.raises(AllocatorError, match="41"):
        set_run_label(base, "长" * 41)
    assert not (base / LABEL_FILE).exists()
    with pytest.raises(AllocatorError, match="summary.json"):
        set_run_label(tmp_path, "x")
    assert not (tmp_path / LABEL_FILE).exists()


def test_run_names_are_unique_and_keep_the_order(solved_runs, tmp_path):
    runs = solved_runs.copy_to(tmp_path / "runs", "base", "tight", "infeasible")
    paths = [runs["infeasible"], runs["base"], runs["tight"]]
    names = run_names(paths, "zh")
    assert list(names) == paths
    assert len(set(names.values())) == 3
    # three runs of the same scenario text within a second would read alike: (2), (3)
    same = tmp_path / "same"
    copies = [same / f"r{i}" for i in range(3)]
    for c in copies:
        c.parent.mkdir(exist_ok=True)
        shutil.copytree(runs["base"], c)
    named = run_names(copies, "zh")
    assert len(set(named.values())) == 3
    assert sorted(v[-3:] for v in named.values())[:2] == ["(2)", "(3)"]
