"""Faults: unwritable outputs are refused before any work; killed writes leave nothing behind.

Every command that writes is run through the CLI with an output it cannot
write (a path under a regular file, a folder where a file is expected, a file
where a folder is expected): exit 1, one located message naming the option and
the path, no traceback, nothing written, and no work done first. A process
killed while writing its run folder leaves a temporary folder that the next
write or listing removes with a note; a failing export leaves no export folder.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from allocator.case import save_case
from allocator.case.testing import tiny_case, tiny_frames
from allocator.cli import main
from allocator.runs import list_runs, load_run, write_run
from allocator.safety import sweep_leftovers

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    """The tiny case, a scenario for it and one run folder (solved through the CLI)."""
    pytest.importorskip("models.solver")
    folder = tmp_path_factory.mktemp("tiny")
    save_case(tiny_case(), folder / "case.gpkg")
    (folder / "s.toml").write_text('name = "tiny"\ncase = "case.gpkg"\n', encoding="utf-8")
    tiny_frames()["firms"].to_csv(folder / "firms.csv", index=False)
    assert main(["solve", str(folder / "s.toml"), "--out", str(folder / "runs")]) == 0
    (run,) = list_runs(folder / "runs")
    return {"dir": folder, "scenario": folder / "s.toml", "run": run, "case": folder / "case.gpkg"}


def _snapshot(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*")}


BLOCKER = "blocker.txt"
"""A regular file in the work folder: nothing can be created under it."""

COMMANDS = {
    # name: (argv builder, output kind)
    "import": (lambda d, out: ["import", str(d["src"]), "-o", out], "file"),
    "solve": (lambda d, out: ["solve", str(d["scenario"]), "--out", out], "folder"),
    "export": (lambda d, out: ["export", str(d["run"]), "-f", "xlsx", "-o", out], "folder"),
    "compare": (lambda d, out: ["compare", str(d["run"]), str(d["run"]), "--out", out], "file"),
    "write-lp": (lambda d, out: ["write-lp", str(d["scenario"]), "-o", out], "file"),
    "score": (lambda d, out: ["score", str(d["dir"] / "firms.csv"), "--out", out], "file"),
    "check": (lambda d, out: ["check", str(d["case"]), "--out", out], "file"),
}
SUFFIX = {
    "import": ".gpkg",
    "compare": ".xlsx",
    "write-lp": ".lp",
    "score": ".xlsx",
    "check": ".xlsx",
}


def _bad_outputs(name: str, work: Path) -> list[tuple[str, str]]:
    """Return (output path, expected reason fragment) pairs the command cannot write."""
    suffix = SUFFIX.get(name, "")
    kind = COMMANDS[name][1]
    out = [(str(work / BLOCKER / "sub" / f"out{suffix}"), "is a file")]
    if kind == "file":
        (work / f"folder{suffix}").mkdir(exist_ok=True)
        out.append((str(work / f"folder{suffix}"), "is a folder"))
    else:
        out.append((str(work / BLOCKER), "not a folder"))
    return out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_unwritable_output_is_refused_before_any_work(name, tiny, tmp_path, capsys):
    from allocator.i18n import set_lang

    work = tmp_path / "work"
    work.mkdir()
    (work / BLOCKER).write_text("x")
    src = tmp_path / "src"
    src.mkdir()
    for layer, frame in tiny_frames().items():
        if hasattr(frame, "geometry"):
            frame.to_crs("EPSG:4326").to_file(src / f"{layer}.geojson", driver="GeoJSON")
        else:
            frame.to_csv(src / f"{layer}.csv", index=False)
    data = {**tiny, "src": src}
    argv_for = COMMANDS[name][0]
    for out, why in _bad_outputs(name, work):
        before = _snapshot(tmp_path)
        runs_before = _snapshot(tiny["dir"])
        set_lang("en")
        code = main(["--lang", "en", *argv_for(data, out)])
        captured = capsys.readouterr()
        assert code == 1, captured.err
        assert "Traceback" not in captured.err
        assert "Internal error" not in captured.err
        assert "cannot write" in captured.err
        assert out in captured.err
        assert why in captured.err
        assert "no work was done" in captured.err
        # nothing solved, loaded or printed before the refusal; nothing written
        assert captured.out == ""
        assert "Solving" not in captured.err
        assert _snapshot(tmp_path) == before
        assert _snapshot(tiny["dir"]) == runs_before


# ---------------------------------------------------------------- killed writes


KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from allocator.runs import Result, write_run

    # a long solver log: the write of the run folder takes a noticeable time
    result = Result(status="optimal", scenario_name="killed", solver_log="x" * 400_000_000)
    write_run(result, sys.argv[1])
    """
)


def test_kill_during_the_run_write_leaves_a_leftover_the_next_write_removes(tmp_path, caplog):
    out = tmp_path / "runs"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    leftover = None
    for _attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(out)], env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            temps = [p for p in out.iterdir() if p.name.startswith(".tmp-")]
            if temps and (temps[0] / "diagnosis.json").exists():
                proc.send_signal(signal.SIGKILL)
                leftover = temps[0]
                break
            time.sleep(0.002)
        proc.wait(timeout=30)
        if leftover is not None and proc.returncode == -signal.SIGKILL:
            break
        leftover = None
    assert leftover is not None, "the writer finished before it could be killed"
    assert leftover.exists()  # what a killed write leaves behind
    assert list_runs(out) == []  # never listed as a run
    with caplog.at_level(logging.WARNING, logger="allocator"):
        (kept,) = [write_run_result(out)]
    assert not leftover.exists()
    assert any(
        "interrupted write" in r.getMessage() or "中断" in r.getMessage() for r in caplog.records
    )
    assert [p.name for p in out.iterdir()] == [kept.name]
    assert load_run(kept).status == "optimal"


def write_run_result(out: Path) -> Path:
    from allocator.runs import Result

    return write_run(Result(status="optimal", scenario_name="next"), out)


def test_leftover_of_a_live_writer_is_kept(tmp_path):
    """A temporary folder whose writer is still running is not touched."""
    import tempfile

    from allocator.safety import temp_prefix

    live = Path(tempfile.mkdtemp(prefix=temp_prefix("busy"), dir=tmp_path))
    assert sweep_leftovers(tmp_path) == []
    assert live.exists()


def test_failing_export_leaves_no_export_folder(tiny, tmp_path):
    from allocator.errors import ExportError
    from allocator.export import export

    run = load_run(tiny["run"])
    run.summary["case_path"] = str(tmp_path / "gone.gpkg")  # the bundle needs the case file
    case = tiny_case()
    case.source = tmp_path / "gone.gpkg"
    out = tmp_path / "deep" / "export"
    with pytest.raises(ExportError):
        export(run, "xlsx,zip", out, case=case)
    assert not (tmp_path / "deep").exists()
    assert list(tmp_path.iterdir()) == []
