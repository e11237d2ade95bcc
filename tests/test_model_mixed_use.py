"""Known answers for mixed use (混合布局): ``use_share_min`` and the compatibility table.

``use_share_min`` micro case: one zone, two 10-mu parcels. A0 (industrial,
100 万元/mu) asks for B0, A1 (warehouse, 10 万元/mu) for B1. Unconstrained both
are admitted (objective 1,000 + 100 = 1,100) and warehouses hold 10 of 20 mu
(50 %). A warehouse share of at least 60 % leaves two plans: A1 alone (100 %,
objective 100) or nobody (0 ≥ 0, objective 0); the model must take A1 alone,
a lower objective than without the share. At exactly 50 % both stay admitted.

Compatibility (``land.mixed_use``) on the tiny case: A001 (IC design) declared
an office project may only take the idle M0 plot P03 or the MIX plot P05 (the
table admits offices on M0, RD, B and MIX; the tiny case's other free plots are M1).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_model_bruteforce import brute_force

from allocator import load_scenario, save_case, solve
from allocator.case import load_case
from allocator.case.testing import tiny_case
from allocator.invariants import check_result
from allocator.land_supply import load_use_rule
from allocator.prepare import prepare
from models.allocation import build
from models.data import USES, ModelData, ModelParams
from models.solver import Status, run

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def share_case(warehouse_share: float) -> ModelData:
    """A0 industrial on B0, A1 warehouse on B1 (10 mu each), one zone."""
    nan = float("nan")
    share = np.zeros((1, len(USES)))
    share[0, USES.index("warehouse")] = warehouse_share
    return ModelData(
        zone_ids=("Z1",),
        zone_electricity_cap_mwh=np.array([nan]),
        zone_energy_cap_tce=np.array([nan]),
        zone_intensity_cap_tce_per_wan=np.array([nan]),
        unit_ids=("U1",),
        unit_emission_cap_t=np.full((1, 4), nan),
        plot_ids=("P0", "P1"),
        plot_zone=np.zeros(2, int),
        plot_area_mu=np.full(2, 10.0),
        plot_occupant=np.full(2, -1),
        firm_ids=("A0", "A1"),
        firm_applicant=np.ones(2, bool),
        firm_zone=np.full(2, -1),
        firm_unit=np.full(2, -1),
        firm_class=np.array([1, 1]),
        va_mu=np.array([100.0, 10.0]),
        tax_va=np.zeros(2),
        el=np.zeros(2),
        en=np.zeros(2),
        em=np.zeros((2, 4)),
        o0=np.zeros(2),
        oreq=np.array([1000.0, 100.0]),
        growth_cap=np.ones(2),
        land_min_mu=np.full(2, 10.0),
        land_max_mu=np.full(2, 10.0),
        land0_mu=np.zeros(2),
        may_exit=np.zeros(2, bool),
        locked=np.zeros(2, bool),
        locked_parcel=np.full(2, -1),
        parcel_ids=("B0", "B1"),
        parcel_ptr=np.arange(3),
        parcel_plot=np.arange(2),
        parcel_area_mu=np.full(2, 10.0),
        parcel_zone=np.zeros(2, int),
        parcel_unit=np.zeros(2, int),
        cand_firm=np.arange(2),
        cand_parcel=np.arange(2),
        firm_use=np.array([USES.index("industrial"), USES.index("warehouse")]),
        use_share_min=share,
    )


def solved(data: ModelData, params: ModelParams) -> tuple[np.ndarray, float]:
    sol = run(build(data, params), time_limit_s=30, rel_gap=0.0)
    assert sol.status == Status.OPTIMAL
    return np.rint(np.asarray(sol.y, float)).astype(int), float(sol.objective)


def test_use_share_min_forces_a_lower_objective_plan():
    on = ModelParams()  # use_share_min is built by default (no rows without a share)
    free_y, free_obj = solved(share_case(0.0), on)
    assert free_y.tolist() == [1, 1]
    assert free_obj == pytest.approx(1100.0)
    y, obj = solved(share_case(0.6), on)
    assert y.tolist() == [0, 1]
    assert obj == pytest.approx(100.0)
    expected, plan = brute_force(share_case(0.6), on)
    assert obj == pytest.approx(expected)
    assert plan["y"].tolist() == [0, 1]
    # at exactly the share the plan holds: both admitted
    y, obj = solved(share_case(0.5), on)
    assert y.tolist() == [1, 1]
    assert obj == pytest.approx(1100.0)


def test_use_share_min_switched_off_ignores_the_share():
    off = ModelParams(switches={"use_share_min": False})
    built = build(share_case(0.6), off)
    assert built.family_rows["use_share_min"] == 0
    y, obj = solved(share_case(0.6), off)
    assert y.tolist() == [1, 1]
    assert obj == pytest.approx(1100.0)


def test_use_share_min_elastic_names_the_row():
    built = build(share_case(1.0), ModelParams(elastic=True))
    assert "use_share_min[zone=Z1,use=warehouse]" in built.slacks


def test_compatibility_table_admits_uses_by_land_use():
    rule = load_use_rule()
    assert rule.admitted("MIX", "office")
    assert rule.admitted("MIX", "industrial")
    assert rule.admitted("W", "warehouse")
    assert not rule.admitted("W", "industrial")
    assert not rule.admitted("M1", "office")
    assert rule.source["number"] == "浙政办发〔2023〕3号"


@pytest.fixture(scope="module")
def office_case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixed")
    case = tiny_case()
    case.firms["use"] = [
        "office" if f == "A001" else ("warehouse" if f == "A002" else None)
        for f in case.firms["firm_id"]
    ]
    path = save_case(case, folder / "tiny.gpkg")
    base = ROOT / "scenarios" / "baseline.toml"
    on = load_scenario(base, {"case": str(path), "land.mixed_use": True})
    off = load_scenario(base, {"case": str(path)})
    return load_case(path), on, off, folder


def test_mixed_use_compatibility_limits_the_candidates(office_case):
    case, on, off, folder = office_case
    assert case.firms.set_index("firm_id").at["A001", "use"] == "office"

    def plots_of(scen):
        prep = prepare(case, scen)
        d = prep.data
        a = d.firm_ids.index("A001")
        return {tuple(prep.parcels["plot_ids"].iat[b]) for b in d.cand_parcel[d.cand_firm == a]}

    with_table, without = plots_of(on), plots_of(off)
    assert with_table == {("P03",), ("P05",)}
    assert len(without) > 1
    result = solve(on, out_dir=folder)
    assert result.status == "optimal"
    assert check_result(result, case, on) == []
    f = result.firms.set_index("firm_id")
    if f.at["A001", "served"]:
        assert f.at["A001", "plot_ids"] in ("P03", "P05")


def test_mixed_use_violation_is_caught(office_case):
    case, on, off, folder = office_case
    result = solve(off, out_dir=folder)
    f = result.firms.copy()
    i = f.index[f["firm_id"] == "A001"][0]
    f.loc[i, ["served", "plot_ids"]] = [True, "P04"]  # an M1 plot: no offices
    broken = type("R", (), {"firms": f, "plots": result.plots, "summary": result.summary})()
    assert any(v.row == "mixed_use[A001]" for v in check_result(broken, case, on))


def test_mixed_use_case_column_is_validated_and_imported(tmp_path):
    import pandas as pd

    from allocator.case import validate_case
    from allocator.case.importers import map_values

    mapped = map_values(pd.Series(["仓储", "研发", "办公", "工业"]), "use")
    assert mapped.tolist() == ["warehouse", "rd", "office", "industrial"]
    case = tiny_case()
    assert "use" in case.firms.columns  # optional: present, empty
    assert case.firms["use"].isna().all()
    case.firms["use"] = ["shop" if f == "A001" else None for f in case.firms["firm_id"]]
    problems = [p for p in validate_case(case) if p.column == "use"]
    assert len(problems) == 1
    assert problems[0].layer == "firms"
    assert problems[0].severity == "error"
