"""Result tables from a hand-made solution; run folders written atomically and read back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_model_bruteforce import objective_of
from test_prepare import hand_prepare

from allocator import runs
from allocator.diagnosis import Diagnosis
from allocator.runs import FIRM_COLUMNS, PLOT_COLUMNS, ZONE_COLUMNS, Result, load_run, write_run
from allocator.solve import assemble


def fake_solution(prep):
    """E1 stays, E2 leaves, A1 gets B3 ({P3,P4}) with 1,500 万元, A2 gets B4, A3 refused."""
    d = prep.data
    y = np.array([1, 0, 1, 1, 0], dtype=float)
    x = np.zeros(d.n_candidates)
    for k, (f, b) in enumerate(zip(d.cand_firm, d.cand_parcel, strict=True)):
        if (d.firm_ids[f], d.parcel_ids[b]) in {("A1", "B3"), ("A2", "B4")}:
            x[k] = 1.0
    o = np.array([1000.0, 0.0, 1500.0, 450.0, 0.0])
    return y, x, o


def fake_result(prep) -> Result:
    """The fake solution as an optimal run reporting its plan's own objective (MODEL.md)."""
    y, x, o = fake_solution(prep)
    firms, zones, plots, kpis = assemble(prep, y, x, o)
    objective = objective_of(prep.data, prep.params, y, o)
    return Result(
        status="optimal",
        objective=objective,
        best_bound=objective,
        gap=0.0,
        timings={"build": 0.1, "solve": 0.2},
        model_size={"rows": 10, "columns": 9, "binaries": 5, "nonzeros": 30},
        firms=firms,
        zones=zones,
        plots=plots,
        kpis=kpis,
        scenario_name=prep.scenario.name,
        scenario_hash=prep.scenario.hash,
        scenario_toml=prep.scenario.to_toml(),
        case_hash="hand",
        solver="highs",
        solver_log="log text",
        diagnosis={"presolve": []},
    )


def test_assemble_tables():
    prep = hand_prepare({"exit": {"classes": ["D"]}})
    firms, zones, plots, kpis = assemble(prep, *fake_solution(prep))
    assert set(FIRM_COLUMNS) <= set(firms.columns)
    assert set(ZONE_COLUMNS) <= set(zones.columns)
    assert set(PLOT_COLUMNS) <= set(plots.columns)
    f = firms.set_index("firm_id")
    assert f.loc["A1", "parcel_id"] == "B3"
    assert f.loc["A1", "land_mu"] == pytest.approx(35.0)
    assert f.loc["A1", "zone_id"] == "Z1"
    assert f.loc["A1", "energy_tce"] == pytest.approx(1500 * 150 / 2000)
    assert f.loc["A1", "tax_wan"] == pytest.approx(1500 * 0.15)
    assert f.loc["A1", "request_met_share"] == pytest.approx(0.75)
    assert f.loc["E2", "reason"] == "moved_out"
    assert f.loc["A3", "reason"] == "no_candidate"
    assert f.loc["E1", "land_mu"] == pytest.approx(10.0)
    p = plots.set_index("plot_id")
    assert list(p["outcome"]) == [
        "kept",
        "freed",
        "new_project",
        "new_project",
        "new_project",
        "excluded_redline",
    ]
    assert p.loc["P3", "firm_id_after"] == "A1"
    assert pd.isna(p.loc["P2", "firm_id_after"])
    z = zones.set_index("zone_id")
    assert z.loc["Z1", "land_used_mu"] == pytest.approx(45.0)
    assert z.loc["Z1", "land_used_before_mu"] == pytest.approx(20.0)
    assert z.loc["Z1", "tax_per_mu_before"] == pytest.approx(110.0 / 20.0)
    assert z.loc["Z1", "tax_per_mu_after"] == pytest.approx((100.0 + 225.0) / 45.0)
    assert z.loc["Z1", "va_per_mu_after"] == pytest.approx(2500.0 / 45.0)
    assert z.loc["Z1", "tax_per_km2_after"] == pytest.approx(325.0 / 0.1)
    assert z.loc["Z1", "developed_share_after"] == pytest.approx(45.0 / 150.0)
    assert z.loc["Z2", "land_excluded_mu"] == pytest.approx(10.0)
    assert z.loc["Z2", "energy_tce"] == pytest.approx(450 * 60 / 900)
    assert kpis["value_added_wan"] == pytest.approx(2950.0)
    assert kpis["firms_moved_out"] == 1


def test_run_folder_round_trip(tmp_path):
    prep = hand_prepare()
    result = fake_result(prep)
    path = write_run(result, tmp_path)
    assert path.parent == tmp_path
    assert path.name.startswith("hand-")
    assert sorted(p.name for p in path.iterdir()) == sorted(runs.RUN_FILES)
    run = load_run(path)
    assert run.summary["status"] == "optimal"
    assert run.summary["model_size"]["binaries"] == 5
    for key in ("objective", "best_bound", "gap", "build_seconds", "solve_seconds",
                "scenario_name", "scenario_hash", "case_path", "case_hash", "solver",
                "versions", "created_at"):  # fmt: skip
        assert key in run.summary
    assert run.scenario["name"] == "hand"
    pd.testing.assert_frame_equal(run.firms, result.firms.reset_index(drop=True), check_dtype=False)
    assert list(run.plots["outcome"]) == list(result.plots["outcome"])
    assert run.diagnosis == Diagnosis()
    assert run.load_scenario().hash == prep.scenario.hash
    # a second run in the same second gets its own folder
    again = write_run(fake_result(prep), tmp_path)
    assert again != path
    assert runs.list_runs(tmp_path)[0] in {path, again}


def test_interrupted_write_leaves_no_folder(tmp_path, monkeypatch):
    prep = hand_prepare()
    result = fake_result(prep)
    calls = {"n": 0}
    original = pd.DataFrame.to_parquet

    def boom(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (injected)")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OSError, match="injected"):
        write_run(result, tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert result.run_path is None


def test_load_run_rejects_incomplete(tmp_path):
    (tmp_path / "summary.json").write_text("{}")
    with pytest.raises(runs.AllocatorError, match="不是运行结果文件夹"):
        load_run(tmp_path)


def test_infeasible_result_has_empty_tables(tmp_path):
    result = Result(status="infeasible", scenario_name="x", diagnosis={"elastic": {"rows": []}})
    path = write_run(result, tmp_path)
    run = load_run(path)
    assert run.status == "infeasible"
    assert not run.has_solution
    assert run.summary["objective"] is None
    assert list(run.firms.columns) == FIRM_COLUMNS
