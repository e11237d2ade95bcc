"""Ctrl-C during a solve: the solver stops, the run says "stopped by the user", exit 130.

The test runs ``allocator solve`` as a user does (a subprocess on the sample
baseline with a long time limit and a zero gap, so it would run for minutes),
waits until the solver stage has started and sends SIGINT.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _solve_and_interrupt(out: Path, after_s: float) -> tuple[int, str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable, "-m", "allocator.cli", "--lang", "en", "solve",
        str(ROOT / "scenarios" / "baseline.toml"),
        "--time-limit", "900", "--gap", "0", "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    err: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        err.append(line)
        if line.strip().endswith("] solving"):
            break
    else:
        proc.wait(timeout=60)
        pytest.fail("the solve ended before its solver stage:\n" + "".join(err))
    time.sleep(after_s)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        _out, rest = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the solve did not stop within 120 s of Ctrl-C")
    return proc.returncode, "".join(err) + rest, time.monotonic() - sent


@pytest.mark.slow
def test_ctrl_c_during_the_solve_stops_it_and_says_so(sample_case_path, tmp_path):
    out = tmp_path / "runs"
    code, err, seconds = _solve_and_interrupt(out, after_s=1.5)
    assert code == 130, err
    assert seconds < 30, seconds
    assert "Traceback" not in err
    assert "stopped by the user" in err
    runs = [p for p in out.iterdir() if not p.name.startswith(".")] if out.exists() else []
    assert len(runs) <= 1
    if runs:  # the best plan so far is kept, marked as stopped, never optimal
        summary = json.loads((runs[0] / "summary.json").read_text(encoding="utf-8"))
        assert summary["status"] != "optimal"
        assert summary["status"] in ("feasible", "time_limit_no_solution", "error")
        assert summary["stopped_by"] == "user"
        assert "stopped by the user" in summary["message"]
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")] if out.exists() else True
