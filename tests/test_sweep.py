"""Sweeps on the tiny case: points equal single solves, monotone bounds, quota values, resume.

Tests that run points need a Dask ``LocalCluster`` (marker ``dask``); one
two-worker cluster serves the module and is closed at its end.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

from allocator.analysis.quota import quota_value_curve
from allocator.analysis.runner import dask_available
from allocator.analysis.sweep import MonteCarlo, Vary, point_complete, reuses_prepared, run_sweep
from allocator.analysis.tradeoff import knees, tradeoff_table
from allocator.cli import main
from allocator.runs import load_run
from allocator.scenario import scenario_from_dict
from allocator.solve import solve


@pytest.fixture(scope="module")
def tiny():
    from allocator.case.testing import tiny_case

    return tiny_case()


@pytest.fixture(scope="module")
def runner():
    if not dask_available():
        pytest.skip("dask[distributed] is not installed")
    from allocator.analysis.runner import Runner

    with Runner(n_workers=2) as r:
        yield r


def base_scenario():
    return scenario_from_dict({"name": "tiny", "solver.time_limit_s": 20.0})


# ----------------------------------------------------------------------------- no cluster


def test_vary_parse_spaces_points_and_checks_values():
    v = Vary.parse("caps.energy_factor=0.5:1.5", 5)
    assert v.key == "caps.energy_factor"
    assert v.values == (0.5, 0.75, 1.0, 1.25, 1.5)
    assert reuses_prepared("caps.energy_factor")
    assert not reuses_prepared("eligibility.redline_buffer_m")


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--vary", "caps.no_such=0:1"], "--vary"),
        (["--vary", "caps.energy_factor=1:1"], "--vary"),
        (["--vary", "caps.energy_factor=-1:1"], "--vary"),
        (["--vary", "caps.energy_factor=0.5"], "--vary"),
        (["--vary", "energy.basis=0:1"], "--vary"),
        (["--vary", "caps.energy_factor=0.5:1", "--points", "1"], "--points"),
        (["--monte-carlo", "3", "--spread", "120"], "--spread"),
        (["--vary", "caps.energy_factor=0.5:1", "--scheduler", "localhost"], "--scheduler"),
        (["--vary", "caps.zones.Z99.energy_tce=1:2", "--points", "2"], "--vary"),
    ],
)
def test_cli_bad_flags_are_one_located_message(tmp_path, tiny, capsys, argv, flag):
    from allocator.case import save_case

    save_case(tiny, tmp_path / "tiny.gpkg")
    scen = tmp_path / "s.toml"
    scen.write_text('case = "tiny.gpkg"\n', encoding="utf-8")
    out = tmp_path / "out"
    code = main(["--lang", "en", "sweep", str(scen), *argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert flag in err
    assert "Traceback" not in err
    assert not out.exists()


def test_monotone_envelope_removes_solver_noise():
    # a dip at 2 (incumbent worse than at 1) and a loose bound at 1 (worse than 2's bound)
    table = pd.DataFrame(
        {
            "point": [0, 1, 2, 3],
            "value": [1.0, 2.0, 3.0, 4.0],
            "status": ["optimal", "feasible", "feasible", "time_limit_no_solution"],
            "objective": [10.0, 9.0, 15.0, None],
            "best_bound": [10.0, 16.0, 15.5, None],
            "run": ["a", "b", "c", "d"],
        }
    )
    out = tradeoff_table(table, "caps.energy_factor")
    assert out["objective_monotone"].tolist() == [10.0, 10.0, 15.0, 15.0]
    assert out["plan_from"].tolist() == [0, 0, 2, 2]
    assert out["bound_monotone"].tolist()[:3] == [10.0, 15.5, 15.5]
    # not a cap: nothing is carried between points
    other = tradeoff_table(table, "objective.alpha_tax")
    assert other["objective_monotone"].tolist()[:3] == [10.0, 9.0, 15.0]


def test_infeasible_point_bounds_every_tighter_point():
    table = pd.DataFrame(
        {
            "point": [0, 1, 2],
            "value": [0.1, 0.2, 0.3],
            "status": ["time_limit_no_solution", "infeasible", "optimal"],
            "objective": [None, None, 5.0],
            "best_bound": [None, None, 5.0],
            "run": ["a", "b", "c"],
        }
    )
    out = tradeoff_table(table, "caps.province_energy_tce")
    assert out["bound_monotone"].tolist() == [-math.inf, -math.inf, 5.0]


def test_knee_is_where_the_slope_halves():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([0.0, 10.0, 20.0, 24.0, 28.0])
    assert knees(x, y).tolist() == [False, False, True, False, False]


def test_quota_interval_from_neighbouring_bounds():
    table = pd.DataFrame(
        {
            "value": [100.0, 200.0],
            "objective_monotone": [50.0, 80.0],
            "bound_monotone": [60.0, 85.0],
            "run": ["nowhere-a", "nowhere-b"],
        }
    )
    q = quota_value_curve(table, "caps.province_energy_tce")
    row = q.iloc[0]
    assert row["value_per_unit"] == pytest.approx(0.30)
    assert row["value_per_unit_low"] == pytest.approx((80 - 60) / 100)
    assert row["value_per_unit_high"] == pytest.approx((85 - 50) / 100)
    assert row["unit"] == "万元/tce"


# ----------------------------------------------------------------------------- on a cluster


@pytest.mark.dask
def test_every_point_equals_a_single_solve(tmp_path, tiny, runner):
    scen = base_scenario()
    vary = Vary.linspace("caps.energy_factor", 0.3, 1.0, 3, "--vary")
    res = run_sweep(scen, case=tiny, vary=vary, out_dir=tmp_path, runner=runner)
    csv = pd.read_csv(res.path / "sweep.csv")
    assert {"value", "status", "objective", "best_bound", "gap", "run"} <= set(csv.columns)
    assert (res.path / "tradeoff.png").stat().st_size > 0
    assert (res.path / "scenario.toml").exists()
    assert res.computed == 3
    for _, row in csv.iterrows():
        single = solve(
            scen.with_overrides({"caps.energy_factor": row["value"]}), case=tiny, write=False
        )
        assert row["status"] == str(single.status)
        tol = 1e-4 * max(1.0, abs(single.objective)) + 1e-6
        assert row["objective"] == pytest.approx(single.objective, abs=tol)
        run = load_run(row["run"])  # an ordinary run folder
        assert (
            run.summary["scenario_hash"]
            == scen.with_overrides({"caps.energy_factor": row["value"]}).hash
        )


@pytest.mark.dask
def test_proven_bound_is_monotone_in_the_cap(tmp_path, tiny, runner):
    vary = Vary.linspace("caps.province_energy_tce", 8000.0, 22000.0, 5, "--vary")
    res = run_sweep(base_scenario(), case=tiny, vary=vary, out_dir=tmp_path, runner=runner)
    t = res.table.sort_values("value")
    bound = t["bound_monotone"].to_numpy(dtype=float)
    obj = t["objective_monotone"].to_numpy(dtype=float)
    assert np.all(np.diff(bound) >= -1e-6)
    assert np.all(np.diff(obj[np.isfinite(obj)]) >= -1e-6)
    assert np.all(obj[np.isfinite(obj)] <= bound[np.isfinite(obj)] + 1e-6)


@pytest.mark.dask
def test_quota_value_curve_matches_the_hand_computed_price(tmp_path, tiny, runner):
    # Between 13,000 and 19,000 tce of provincial quota every firm but F004 (chemicals) runs
    # at its request and F004, which must stay, takes what is left: one more tce buys
    # 1 / en_F004 万元 of its value added plus the tax on it (weight 1, alpha 1 + 1).
    f = tiny.firms.set_index("firm_id").loc["F004"]
    en = f["energy_tce"] / f["value_added_wan"]
    price = (1.0 + f["tax_wan"] / f["value_added_wan"]) / en
    vary = Vary.linspace("caps.province_energy_tce", 13000.0, 19000.0, 4, "--vary")
    res = run_sweep(base_scenario(), case=tiny, vary=vary, out_dir=tmp_path, runner=runner)
    quota = pd.read_csv(res.path / "quota_value.csv")
    assert len(quota) == 3
    assert quota["value_per_unit"].to_numpy() == pytest.approx([price] * 3, rel=1e-6)
    assert (quota["value_per_unit_low"] <= quota["value_per_unit"] + 1e-9).all()
    assert (quota["value_per_unit_high"] >= quota["value_per_unit"] - 1e-9).all()
    assert quota["lp_marginal_to"].to_numpy() == pytest.approx([price] * 3, rel=1e-6)


@pytest.mark.dask
def test_resume_recomputes_nothing_that_finished(tmp_path, tiny, runner):
    vary = Vary.linspace("caps.energy_factor", 0.4, 1.0, 3, "--vary")
    first = run_sweep(base_scenario(), case=tiny, vary=vary, out_dir=tmp_path, runner=runner)
    assert first.computed == 3
    runs = [first.path / "points" / k for k in first.table["key"]]
    stamps = {p: os.stat(p / "summary.json").st_mtime_ns for p in runs}
    again = run_sweep(base_scenario(), case=tiny, vary=vary, out_dir=tmp_path, runner=runner)
    assert again.path == first.path
    assert (again.computed, again.reused) == (0, 3)
    assert {p: os.stat(p / "summary.json").st_mtime_ns for p in runs} == stamps
    # an interrupted sweep: one point never finished
    import shutil

    shutil.rmtree(runs[1])
    third = run_sweep(base_scenario(), case=tiny, vary=vary, out_dir=tmp_path, runner=runner)
    assert (third.computed, third.reused) == (1, 2)
    assert point_complete(runs[1])
    assert os.stat(runs[0] / "summary.json").st_mtime_ns == stamps[runs[0]]
    pd.testing.assert_frame_equal(
        third.table.drop(columns=["run", "solve_seconds"]),
        first.table.drop(columns=["run", "solve_seconds"]),
        check_dtype=False,
    )


@pytest.mark.dask
def test_infeasible_point_is_a_row_not_a_crash(tmp_path, tiny, runner):
    # every firm must be served at its full request: a tiny energy quota cannot hold them
    scen = base_scenario().with_overrides({"service_floor": 1.0})
    vary = Vary.linspace("caps.energy_factor", 0.01, 1.0, 2, "--vary")
    res = run_sweep(scen, case=tiny, vary=vary, out_dir=tmp_path, runner=runner)
    statuses = res.table.sort_values("value")["status"].tolist()
    assert statuses == ["infeasible", "optimal"]
    assert math.isnan(float(res.table.sort_values("value")["objective"].iloc[0]))


@pytest.mark.dask
def test_zero_spread_robustness_gives_zero_or_one(tmp_path, tiny, runner):
    import geopandas as gpd

    scen = base_scenario().with_overrides({"caps.province_energy_tce": 14000.0})
    res = run_sweep(
        scen, case=tiny, monte_carlo=MonteCarlo.uniform(3, 0.0), out_dir=tmp_path, runner=runner
    )
    firms = pd.read_csv(res.extra["firms"])
    plots = pd.read_csv(res.extra["plots"])
    assert set(firms["frequency"]) <= {0.0, 1.0}
    assert set(plots["frequency"]) <= {0.0, 1.0}
    assert (firms["points"] == 3).all()
    kpis = pd.read_csv(res.extra["kpis"]).set_index("kpi")
    assert kpis.loc["objective", "p10"] == pytest.approx(kpis.loc["objective", "p90"])
    layer = gpd.read_file(res.extra["gpkg"], layer="plots_selection_frequency")
    assert len(layer) == len(tiny.plots)
    assert set(layer["selection_frequency"].dropna()) <= {0.0, 1.0}


@pytest.mark.dask
def test_spread_moves_the_figures(tmp_path, tiny, runner):
    scen = base_scenario().with_overrides({"caps.province_energy_tce": 14000.0})
    mc = MonteCarlo.uniform(4, 20.0, seed=7)
    res = run_sweep(scen, case=tiny, monte_carlo=mc, out_dir=tmp_path, runner=runner)
    kpis = pd.read_csv(res.extra["kpis"]).set_index("kpi")
    assert kpis.loc["objective", "p90"] > kpis.loc["objective", "p10"]
    f = mc.factors(0, 6)
    assert f.shape == (6, 3)
    assert (np.abs(f - 1.0) <= 0.2 + 1e-12).all()
    assert np.array_equal(f, mc.factors(0, 6))
