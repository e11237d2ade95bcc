"""Exports of real solves: the tiny case end to end, and the sample baseline in ≤ 30 s.

Both skip until the solve pipeline (eligibility, models.solver) is in the tree; the sample
test also needs gis_data/zhejiang_sample.gpkg.
"""

from __future__ import annotations

import time

import pyogrio
import pytest
from conftest_export import export_case

from allocator.case import save_case
from allocator.export import export
from allocator.export.bundle import unpack_bundle
from allocator.runs import load_run

pytest.importorskip("allocator.eligibility", reason="solve pipeline (eligibility) not in the tree")
pytest.importorskip("models.solver", reason="solve pipeline (models.solver) not in the tree")


@pytest.mark.slow
def test_export_of_a_real_solve_and_rerun_from_bundle(tmp_path):
    from allocator.scenario import load_scenario
    from allocator.solve import solve

    save_case(export_case(), tmp_path / "tiny.gpkg")
    (tmp_path / "s.toml").write_text('name = "tiny"\ncase = "tiny.gpkg"\n', encoding="utf-8")
    result = solve(load_scenario(tmp_path / "s.toml"), out_dir=tmp_path / "runs")
    assert result.has_solution
    run = load_run(result.run_path)
    files = export(run, "gpkg,geojson,xlsx,png,html,zip", tmp_path / "out")
    alloc = pyogrio.read_dataframe(tmp_path / "out" / "allocation.gpkg", layer="allocation")
    got = alloc.set_index("plot_id")
    want = run.plots.set_index("plot_id")
    assert sorted(got.index) == sorted(want.index)
    for col in ("outcome", "firm_id_after", "zone_id"):
        assert got[col].fillna("").to_dict() == want[col].fillna("").to_dict()
    bundle = next(f for f in files if f.suffix == ".zip")
    scenario = unpack_bundle(bundle, tmp_path / "rerun")
    again = solve(load_scenario(scenario), out_dir=tmp_path / "rerun" / "runs")
    assert again.status == result.status
    assert again.objective == pytest.approx(result.objective, rel=1e-6)


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children (the export's workers)."""
    import resource

    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


@pytest.mark.slow
def test_sample_baseline_exports_in_30_seconds(sample_case_path, root, tmp_path):
    from allocator.solve import solve

    # a 5 % gap is enough to have an allocation of the full size (solves in seconds)
    result = solve(
        root / "scenarios" / "baseline.toml",
        out_dir=tmp_path / "runs",
        time_limit_s=30,
        rel_gap=0.05,
    )
    if not result.has_solution:
        pytest.skip(f"sample baseline has no solution ({result.status})")
    run = load_run(result.run_path)
    started, cpu = time.perf_counter(), _cpu_s()
    files = export(run, None, tmp_path / "out")
    seconds, cpu_s = time.perf_counter() - started, _cpu_s() - cpu
    # CPU time of this process and its export workers: the 2-core test machine is shared,
    # wall time is not a property of the code (measured: 12.5 s CPU, 13 s wall alone,
    # 26-31 s wall under load 5)
    assert cpu_s <= 30.0, f"export of the sample baseline took {cpu_s:.1f} s CPU"
    assert seconds <= 120.0, f"export of the sample baseline took {seconds:.1f} s wall"
    assert any(f.name == "overview.png" for f in files)
