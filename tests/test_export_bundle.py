"""The bundle says how to re-run it, carries the solver log, and not the Shapefile zip."""

from __future__ import annotations

import zipfile

import pytest
from conftest_export import make_export_run

from allocator.export import export


def test_bundle_readme_log_and_no_shapefile_zip(tmp_path):
    run_path = make_export_run(tmp_path)
    files = export(run_path, "zip", tmp_path / "out")
    bundle = next(p for p in files if p.suffix == ".zip" and p.name != "shapefile.zip")
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        readme = zf.read("README.md").decode("utf-8")
        log = zf.read("run/solver.log").decode("utf-8")
    assert f"allocator solve --from-bundle {bundle.name} --out runs" in readme
    assert "重新求解" in readme
    assert "To solve it again" in readme
    assert log == "HiGHS log"  # the run's own solver log (conftest_export)
    assert not any(n.endswith(".zip") for n in names)
    assert "export/brief.pdf" in names


def test_a_solved_run_keeps_highs_log(tmp_path):
    """``solve`` passes no log file: HiGHS (which logs to a file only) still leaves its log."""
    pytest.importorskip("highspy")
    from conftest_export import export_case

    from allocator.case import save_case
    from allocator.scenario import load_scenario
    from allocator.solve import solve

    save_case(export_case(), tmp_path / "tiny.gpkg")
    (tmp_path / "s.toml").write_text('name = "tiny"\ncase = "tiny.gpkg"\n', encoding="utf-8")
    result = solve(load_scenario(tmp_path / "s.toml"), out_dir=tmp_path / "runs")
    assert result.has_solution
    assert result.solver == "highs"
    # the bundle packs the run folder's solver.log (test above)
    log = (result.run_path / "solver.log").read_text(encoding="utf-8")
    assert "Model status" in log
    assert not list(tmp_path.glob("**/*.rerun"))
