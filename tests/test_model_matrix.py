"""The matrix path and the PuLP path give the same model (issue 17, point 2).

``build`` writes each family's rows as one block of arrays; the solver's
``HighsLp`` is those blocks concatenated (:func:`models.solver.problem.highs_lp`),
while LP/MPS files and CBC use the PuLP problem made from the same blocks
(``built.prob``). These tests compare the two, row by row and column by
column by name, and as arrays in the same order: matrix, row and column
bounds, objective (with its constant), integrality and the cap-row scaling.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_model_bruteforce import hand_case

from models import synthetic
from models.allocation import CAP_FAMILIES, ELASTIC_FAMILIES, Analysis, PlanRef, build
from models.data import FAMILIES, ModelData, ModelParams
from models.solver import Status, run
from models.solver.problem import _to_highs_lp, highs_lp

ROOT = Path(__file__).resolve().parents[1]


def _arrays(lp) -> dict[str, np.ndarray]:
    a = lp.a_matrix_
    return {
        "start": np.asarray(a.start_),
        "index": np.asarray(a.index_),
        "value": np.asarray(a.value_),
        "row_lower": np.asarray(lp.row_lower_),
        "row_upper": np.asarray(lp.row_upper_),
        "col_lower": np.asarray(lp.col_lower_),
        "col_upper": np.asarray(lp.col_upper_),
        "col_cost": np.asarray(lp.col_cost_),
        "integrality": np.array([int(v) for v in lp.integrality_]),
        "offset": np.array([lp.offset_]),
    }


def _rows_by_name(lp, row_names: list[str], col_names: list[str]) -> dict[str, tuple]:
    """Row name → (lower, upper, {column name: coefficient})."""
    a = _arrays(lp)
    out = {}
    for r, name in enumerate(row_names):
        lo, hi = a["start"][r], a["start"][r + 1]
        coefs = {col_names[j]: v for j, v in zip(a["index"][lo:hi], a["value"][lo:hi], strict=True)}
        assert len(coefs) == hi - lo, f"{name}: a column twice"
        out[name] = (a["row_lower"][r], a["row_upper"][r], coefs)
    return out


def _cols_by_name(lp, col_names: list[str]) -> dict[str, tuple]:
    """Column name → (lower, upper, cost, integrality)."""
    a = _arrays(lp)
    keys = ("col_lower", "col_upper", "col_cost", "integrality")
    return {n: tuple(a[k][j] for k in keys) for j, n in enumerate(col_names)}


def assert_same_model(built) -> None:
    """Both paths: same rows, columns, bounds, objective, integrality, scaling."""
    scaled = {i.solver_name for i in built.rows.values() if i.family in CAP_FAMILIES}
    lp_m, scale_m = highs_lp(built, CAP_FAMILIES)
    lp_p, variables, names_p, scale_p = _to_highs_lp(built.prob, scaled)
    cols_p = [v.name for v in variables]
    names_m = built.registry.solver_names()
    cols_m = built.column_names()
    # by name: every row and column, whatever the order
    assert _rows_by_name(lp_m, names_m, cols_m) == _rows_by_name(lp_p, names_p, cols_p)
    assert _cols_by_name(lp_m, cols_m) == _cols_by_name(lp_p, cols_p)
    assert lp_m.offset_ == lp_p.offset_
    # and the same order, so HiGHS sees the same problem either way
    assert names_m == names_p
    assert cols_m == cols_p
    am, ap = _arrays(lp_m), _arrays(lp_p)
    for key in am:
        np.testing.assert_array_equal(am[key], ap[key], err_msg=key)
    np.testing.assert_array_equal(scale_m, scale_p)
    assert lp_m.num_row_ == built.size["rows"] == sum(built.family_rows.values())
    assert int(np.count_nonzero(am["value"])) == built.size["nonzeros"]
    assert int(am["integrality"].sum()) == built.size["binaries"]


def test_micro_case_matrix_equals_pulp():
    built = build(hand_case(), ModelParams())
    assert_same_model(built)
    assert built.family_rows["plot_once"] > 0
    assert built.family_rows["zone_energy"] == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic_cases_every_switch(seed):
    d = synthetic.tiny(seed, 6, 8, n_applicants=3, n_locked=1, max_cands=9)
    assert_same_model(build(d, ModelParams()))
    assert_same_model(build(d, ModelParams(), relax_land=True))
    off = ModelParams(
        switches=dict.fromkeys(("zone_energy", "class_floor", "unit_emissions"), False)
    )
    assert_same_model(build(d, off))


def test_province_case_with_splits_and_caps():
    d = synthetic.province(0.1, seed=1)
    built = build(d, ModelParams())
    assert built.family_rows["zone_split"] > 0  # applicants with parcels in several zones
    assert built.family_rows["unit_emissions"] > 0
    assert_same_model(built)


def test_elastic_mode_matrix_equals_pulp():
    built = build(hand_case(energy_cap=100.0), ModelParams(elastic=True))
    assert_same_model(built)
    # one slack per elastic row, in the objective at minus its penalty
    assert set(built.slacks) == {n for n, i in built.rows.items() if i.family in ELASTIC_FAMILIES}
    lp, _ = highs_lp(built)
    names = built.column_names()
    cost = dict(zip(names, np.asarray(lp.col_cost_), strict=True))
    for row, s in built.slacks.items():
        assert cost[s.name] == pytest.approx(built.slack_penalty[row])  # HiGHS minimises


def test_analysis_families_matrix_equals_pulp():
    d = synthetic.tiny(1, 6, 8, n_applicants=3, n_locked=1, max_cands=9)
    y = np.ones(d.n_firms)
    x = np.zeros(d.n_candidates)
    ref = PlanRef.from_solution(d, y, x)
    analysis = Analysis(
        objective_floor=10.0, distance_refs=(ref,), approved=ref, max_changes=3, change_cost_wan=2.0
    )
    for a in (analysis, Analysis(distance_refs=(ref,))):
        built = build(d, ModelParams(), analysis=a)
        for fam in ("distance_to", "change_limit") if a.approved else ("distance_to",):
            assert built.family_rows[fam] == 1
        assert_same_model(built)
    built = build(d, ModelParams(elastic=True), analysis=analysis)
    assert built.family_rows["objective_floor"] == 1
    assert_same_model(built)


def _sample(
    path: Path, scenario: str, overrides: dict | None = None
) -> tuple[ModelData, ModelParams]:
    """The sample case prepared under a shipped scenario (as ``tests/test_solve_sample.py``)."""
    from allocator.prepare import prepare
    from allocator.scenario import load_scenario
    from allocator.solve import load_case_cached

    case = load_case_cached(path)
    more = {"case": str(path), **(overrides or {})}
    scen = load_scenario(ROOT / "scenarios" / f"{scenario}.toml", overrides=more)
    prep = prepare(case, scen)
    return prep.data, prep.params


@pytest.mark.parametrize("scenario", ["baseline", "far_upgrade"])
def test_sample_case_matrix_equals_pulp(sample_case_path, scenario):
    data, params = _sample(sample_case_path, scenario)
    built = build(data, params)
    assert_same_model(built)
    families = {f for f in FAMILIES if built.family_rows[f]}
    assert {"plot_once", "one_parcel", "output_by_land", "zone_energy"} <= families
    if scenario == "far_upgrade":
        assert "far_upgrade" in families
    assert_same_model(build(data, replace(params, elastic=True)))


NEW_FAMILIES = {
    # land_supply on (flexible_land), a least warehouse share in one zone, both 山区26县 reserves
    "flexible_land": (
        {
            "land.use_share.HZ.warehouse": 0.2,
            "switches.mountain_land": True,
            "mountain.reserve_mu": 100.0,
            "switches.mountain_energy": True,
            "mountain.reserve_tce": 2e4,
        },
        {"land_supply", "use_share_min", "mountain_land", "mountain_energy"},
    ),
    # the shipped file uses the objective form (no count row): the count row as well
    "a_class_target": (
        {"assessment.target_mode": "constraint", "assessment.target_zones": 4},
        {"a_class_reach", "a_class_target"},
    ),
}


@pytest.mark.parametrize("scenario", sorted(NEW_FAMILIES))
def test_sample_case_new_families_matrix_equals_pulp(sample_case_path, scenario):
    overrides, wanted = NEW_FAMILIES[scenario]
    data, params = _sample(sample_case_path, scenario, overrides)
    built = build(data, params)
    assert wanted <= {f for f in FAMILIES if built.family_rows[f]}
    assert_same_model(built)
    if scenario == "flexible_land":
        assert (built.q_col >= 0).any()
        assert built.q.shape == built.q_col.shape
    else:
        assert (built.r_col >= 0).any()
        assert built.r_fixed.shape == (data.n_zones,)
    elastic = build(data, replace(params, elastic=True))
    assert_same_model(elastic)
    slacked = {elastic.rows[n].family for n in elastic.slacks}
    assert wanted - {"land_supply", "a_class_reach"} <= slacked  # floors and reserves relaxed
    # elastic_only: slacks on the listed families' rows only, in blocks and single rows alike
    only = tuple(sorted(wanted - {"land_supply", "a_class_reach"}))
    some = build(data, replace(params, elastic=True, elastic_only=only))
    assert_same_model(some)
    assert {some.rows[n].family for n in some.slacks} == set(only)
    assert len(some.slacks) == sum(some.family_rows[f] for f in only)


def test_elastic_only_on_vectorised_blocks():
    # zone_energy is written as one block (ctx.rows), locked row by row (ctx.row):
    # elastic_only reaches both, and the other elastic families stay hard
    d = synthetic.tiny(0, 6, 8, n_applicants=3, n_locked=1, max_cands=9)
    only = ("locked", "zone_energy")
    built = build(d, ModelParams(elastic=True, elastic_only=only))
    assert all(built.family_rows[f] > 0 for f in (*only, "zone_electricity", "unit_emissions"))
    assert {built.rows[n].family for n in built.slacks} == set(only)
    assert len(built.slacks) == sum(built.family_rows[f] for f in only)
    assert_same_model(built)


def test_highs_solve_needs_no_pulp_and_pulp_sees_its_plan():
    # the HiGHS path works on the arrays: making PuLP inside the run's time limit
    # cost seconds at scale; PuLP made afterwards carries the same plan
    built = build(hand_case(), ModelParams())
    sol = run(built, time_limit_s=30, rel_gap=1e-9)
    assert sol.status == Status.OPTIMAL
    assert not built.pulp_made
    prob = built.prob
    assert built.pulp_made
    np.testing.assert_array_equal([v.varValue for v in built.y], sol.y)
    np.testing.assert_array_equal([v.varValue for v in built.x], sol.x)
    np.testing.assert_allclose([v.varValue for v in built.o], sol.o)
    assert prob.objective.value() == pytest.approx(sol.objective, rel=1e-12)
