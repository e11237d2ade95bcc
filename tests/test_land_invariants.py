"""The land families on the tiny case: solved, reported, and re-checked independently.

``far_upgrade``: the tiny case's class-B firms hold plots with ``far`` below
``far_max`` (P01 1.6 → 2.5, P06 1.0 → 2.0, P07 0.9 → 1.5). With upgrades on,
the plan adds floor area within that headroom, the invariant checker finds no
violation, and a plan that adds more than the headroom, misreports the land
saved, or upgrades while the family is off is caught.
"""

from __future__ import annotations

import pytest

from allocator import load_scenario, save_case, solve
from allocator.case import load_case
from allocator.case.testing import tiny_case
from allocator.invariants import check_result
from allocator.runs import load_run
from allocator.units import M2_PER_MU

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("land")
    path = save_case(tiny_case(), folder / "tiny.gpkg")
    scen = load_scenario(
        ROOT / "scenarios" / "baseline.toml", {"case": str(path), "switches.far_upgrade": True}
    )
    base = load_scenario(ROOT / "scenarios" / "baseline.toml", {"case": str(path)})
    return load_case(path), scen, solve(scen, out_dir=folder), solve(base, out_dir=folder)


def families(violations):
    return {v.family for v in violations}


def test_upgrades_within_headroom_pass_the_checker(upgraded):
    case, scen, result, base = upgraded
    assert result.status == "optimal"
    assert check_result(result, case, scen) == []
    f = result.firms.set_index("firm_id")
    plots = case.plots.set_index("plot_id")
    head = plots.at["P01", "area_mu"] * M2_PER_MU * (2.5 - 1.6)
    assert 0 < f.at["F001", "floor_area_added_m2"] <= head * (1 + 1e-9)
    assert result.kpis["floor_area_added_m2"] == pytest.approx(f["floor_area_added_m2"].sum())
    assert result.kpis["land_saved_mu"] > 0
    # the upgrades raise the objective against the same scenario without them
    assert result.objective > base.objective
    assert base.kpis["floor_area_added_m2"] == 0


def test_kpis_read_back_from_the_run_folder(upgraded):
    _, _, result, _ = upgraded
    run = load_run(result.run_path)
    assert run.kpis["floor_area_added_m2"] == pytest.approx(result.kpis["floor_area_added_m2"])
    assert run.kpis["land_saved_mu"] == pytest.approx(result.kpis["land_saved_mu"])


def test_more_than_the_headroom_is_caught(upgraded):
    case, scen, result, _ = upgraded
    f = result.firms.copy()
    i = f.index[f["firm_id"] == "F001"][0]
    f.loc[i, "floor_area_added_m2"] *= 2
    result.firms = f
    try:
        v = check_result(result, case, scen)
    finally:
        f.loc[i, "floor_area_added_m2"] /= 2
    assert "far_upgrade" in families(v)
    assert any(x.row == "far_upgrade[F001]" for x in v)


def test_misreported_land_saved_is_caught(upgraded):
    case, scen, result, _ = upgraded
    f = result.firms.copy()
    f.loc[f["firm_id"] == "F001", "land_saved_mu"] += 5.0
    broken = type("R", (), {"firms": f, "plots": result.plots, "summary": result.summary})()
    assert any(x.row == "land_saved_mu[F001]" for x in check_result(broken, case, scen))


def test_upgrade_with_the_family_off_is_caught(upgraded):
    case, _, result, _ = upgraded
    off = load_scenario(ROOT / "scenarios" / "baseline.toml", {"case": str(case.source)})
    assert "far_upgrade" in families(check_result(result, case, off))


@pytest.fixture(scope="module")
def reused(tmp_path_factory):
    """The tiny case with idle plants worth 50 万元 per m² and year: a project takes P03."""
    folder = tmp_path_factory.mktemp("idle")
    path = save_case(tiny_case(), folder / "tiny.gpkg")
    rule = folder / "idle_rich.toml"
    rule.write_text(
        'saving_yuan_per_m2 = 500000.0\namortisation_years = 1.0\n[source]\ntag = "[I] test"\n',
        encoding="utf-8",
    )
    scen = load_scenario(
        ROOT / "scenarios" / "baseline.toml",
        {"case": str(path), "switches.idle_reuse": True, "land.idle_rule": str(rule)},
    )
    return load_case(path), scen, solve(scen, out_dir=folder)


def test_idle_plant_reused_and_checked(reused):
    case, scen, result = reused
    assert result.status == "optimal"
    assert check_result(result, case, scen) == []
    f = result.firms
    on_p03 = f[f["plot_ids"].fillna("").str.split(";").map(lambda p: "P03" in p)]
    assert len(on_p03) == 1
    plots = case.plots.set_index("plot_id")
    idle_m2 = plots.at["P03", "area_mu"] * M2_PER_MU * 0.8
    assert on_p03["idle_floor_reused_m2"].iat[0] == pytest.approx(idle_m2)
    assert result.kpis["idle_floor_area_reused_m2"] == pytest.approx(idle_m2)


def test_misreported_idle_reuse_is_caught(reused):
    case, scen, result = reused
    f = result.firms.copy()
    f["idle_floor_reused_m2"] = f["idle_floor_reused_m2"] * 0.5
    broken = type("R", (), {"firms": f, "plots": result.plots, "summary": result.summary})()
    v = check_result(broken, case, scen)
    assert "idle_reuse" in families(v)


def test_the_land_measures_appear_in_compare_the_brief_and_the_app_table(upgraded):
    """Compare, the brief and the app's KPI table add the land measures a run has, only those."""
    from allocator import compare, kpi_label
    from allocator.export.brief import build_brief
    from allocator.export.data import collect
    from allocator.ui.results import kpi_frame

    _, _, result, base = upgraded
    run, base_run = load_run(result.run_path), load_run(base.run_path)
    added, saved = kpi_label("floor_area_added_m2", "zh"), kpi_label("land_saved_mu", "zh")
    rows = compare([base_run, run]).kpis
    assert rows.loc["floor_area_added_m2"].tolist() == pytest.approx(
        [0.0, result.kpis["floor_area_added_m2"]]
    )
    assert "land_saved_mu" in rows.index
    assert "mountain_land_mu" not in rows.index  # no run has a 26县 reserve
    labels = [row[0] for row in build_brief(collect(run, lang="zh")).kpis]
    assert added in labels
    assert saved in labels
    assert kpi_label("mountain_land_mu", "zh") not in labels
    # the headline-only table of a run without upgrades stays as it was
    assert added not in [row[0] for row in build_brief(collect(base_run, lang="zh")).kpis]
    assert added in kpi_frame(run, base_run).iloc[:, 0].tolist()
