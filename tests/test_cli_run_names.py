"""The CLI names runs as the app does (``allocator.runs.run_name``), never by their folder."""

from __future__ import annotations

from allocator.cli import main
from allocator.runs import run_name, set_run_label


def test_export_names_the_run_it_exported(solved_runs, tmp_path, capsys):
    base = solved_runs.copy_to(tmp_path / "runs", "base")["base"]
    set_run_label(base, "给局里看的")
    out = tmp_path / "out"
    assert main(["export", str(base), "--format", "xlsx", "-o", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"运行：{run_name(base, 'zh')}"
    assert lines[0].endswith(" · 给局里看的")
    assert lines[1] == str(out / "tables.xlsx")
