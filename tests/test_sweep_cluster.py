"""Sweeps on a real Dask cluster: a ``dask scheduler`` and two ``dask worker`` processes.

The scheduler and workers are subprocesses on 127.0.0.1 with free ports; the
workers import this worktree's code through ``PYTHONPATH``. Every process is
stopped at the end of the test that started it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("distributed", reason="dask[distributed] is not installed")

from allocator.analysis.runner import Runner  # noqa: E402
from allocator.analysis.sweep import Vary, run_sweep  # noqa: E402
from allocator.cli import main  # noqa: E402
from allocator.scenario import scenario_from_dict  # noqa: E402

pytestmark = pytest.mark.dask
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A scheduler and two nanny-less workers, each a subprocess."""

    def __init__(self, cwd: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        dask = [sys.executable, "-m", "dask"]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": cwd, "env": env}
        self.scheduler = subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            **quiet,
        )
        self.workers = [
            subprocess.Popen(
                [
                    *dask,
                    "worker",
                    self.address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--name",
                    f"w{i}",
                ],
                **quiet,
            )
            for i in range(2)
        ]

    def wait_for_workers(self, n: int = 2, timeout_s: float = 90.0) -> None:
        from distributed import Client

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with Client(self.address, timeout="5s") as client:
                    client.wait_for_workers(n, timeout=max(1.0, deadline - time.monotonic()))
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    try:
        c.wait_for_workers()
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def tiny_gpkg(tmp_path_factory):
    from allocator.case import save_case
    from allocator.case.testing import tiny_case

    path = tmp_path_factory.mktemp("case") / "tiny.gpkg"
    save_case(tiny_case(), path)
    return path


def test_cli_sweep_runs_on_an_existing_scheduler(tmp_path, cluster, tiny_gpkg, capsys):
    scen = tmp_path / "s.toml"
    scen.write_text(f'case = "{tiny_gpkg}"\n', encoding="utf-8")
    out = tmp_path / "out"
    argv = ["--lang", "en", "sweep", str(scen), "--vary", "caps.energy_factor=0.4:1.0"]
    code = main([*argv, "--points", "3", "--scheduler", cluster.address, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert cluster.address in captured.err
    assert "3/3" in captured.err
    (folder,) = list(out.iterdir())
    table = pd.read_csv(folder / "sweep.csv")
    assert table["status"].tolist() == ["optimal"] * 3
    assert table["value"].tolist() == [0.4, 0.7, 1.0]


def test_killed_worker_sweep_completes_without_recomputing(tmp_path, cluster, tiny_gpkg):
    from allocator.case import load_case

    case = load_case(tiny_gpkg)
    scen = scenario_from_dict({"name": "kill"})
    vary = Vary.linspace("caps.province_energy_tce", 10000.0, 24000.0, 8, "--vary")
    finished: dict[str, int] = {}
    killed: list[int] = []

    def progress(done: int, total: int, row: dict) -> None:
        finished[row["key"]] = os.stat(Path(row["run"]) / "summary.json").st_mtime_ns
        if not killed:
            victim = cluster.workers[0]
            victim.kill()
            victim.wait()
            killed.append(done)

    with Runner(cluster.address) as runner:
        res = run_sweep(
            scen, case=case, vary=vary, out_dir=tmp_path, runner=runner, progress=progress
        )
    assert killed == [1]
    assert len(res.table) == 8
    assert set(res.table["status"]) == {"optimal"}
    # no point was solved twice: a task rerun after the kill finds a finished point's folder
    # (its result was lost with the worker) and does not solve it again
    assert res.reused == 0
    assert res.duplicates == 0
    assert 1 <= res.computed <= 8
    for key, stamp in finished.items():
        assert os.stat(res.path / "points" / key / "summary.json").st_mtime_ns == stamp
    assert not [p for p in (res.path / "points").iterdir() if p.name.startswith(".")]
    # and a rerun recomputes nothing
    with Runner(cluster.address) as runner:
        again = run_sweep(scen, case=case, vary=vary, out_dir=tmp_path, runner=runner)
    assert (again.computed, again.reused) == (0, 8)
