"""Known answers for ``land_supply`` (弹性供地): modes follow the rule table; prices move them.

The micro case has one zone and four applicants, each alone on its own 10-mu
parcel, under the shipped rule table (``allocator/policy/land_supply_default.toml``,
plan period 20 years, return value 300,000 元/mu discounted at 5 %):

- A0 ``C3971`` (electronics, cycle 10 years) → row 短周期产业: flexible (15 years),
  lease_then_transfer, lease_transfer_mix, long_lease; default flexible.
- A1 ``G5920`` (warehousing) → row 物流仓储: flexible, long_lease, lease_then_transfer;
  default long_lease.
- A2 ``C2710`` class A (pharmaceuticals, cycle 30) → row A类长周期产业: full_term,
  flexible, lease_transfer_mix; default full_term.
- A3 ``C2710`` class C → row 其他工业项目: flexible, lease_then_transfer, full_term.

Weights by hand (万元 per mu and year, ``(income over 20 years + V·1.05^−T) / 20 / 10⁴``):
flexible 20 y = (120,000 + 300,000·1.05^−20) / 2·10⁵ = 1.16534; full_term 50 y =
(120,000 + 300,000·1.05^−50) / 2·10⁵ = 0.73081; so the model chooses flexible for A1,
A2 and A3, and the 15-year flexible term (1.17153) for A0.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_model_bruteforce import brute_force

from allocator import load_scenario, save_case, solve
from allocator.case import load_case
from allocator.case.testing import tiny_case
from allocator.invariants import check_result
from allocator.land_supply import (
    MODES,
    land_income_by_year,
    land_returned_mu,
    load_supply_rule,
    supply_table,
)
from allocator.solve import chosen_modes
from models.allocation import build
from models.data import ModelData, ModelParams
from models.solver import Status, run

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
INDUSTRY = ["C3971", "G5920", "C2710", "C2710"]
CLASSES = ["B", "B", "A", "C"]
ON = ModelParams(switches={"land_supply": True})
OFF = ModelParams(switches={"land_supply": False})


def weight_by_hand(years: float, price: float = 6000.0, lease_years: float = 0.0) -> float:
    """(Σ income over 20 plan years + 300,000 · 1.05^−years) / 20 / 10⁴ (lease at 4,000)."""
    income = sum((4000.0 if t <= lease_years else price) for t in range(1, 21) if t <= years)
    return (income + 300_000.0 * 1.05 ** (-years)) / 20 / 1.0e4


def supply_case(weight: np.ndarray) -> ModelData:
    """Four applicants (100 万元 each on 10 mu), four 10-mu parcels, one per applicant."""
    nan = float("nan")
    n = 4
    return ModelData(
        zone_ids=("Z1",),
        zone_electricity_cap_mwh=np.array([nan]),
        zone_energy_cap_tce=np.array([nan]),
        zone_intensity_cap_tce_per_wan=np.array([nan]),
        unit_ids=("U1",),
        unit_emission_cap_t=np.full((1, 4), nan),
        plot_ids=tuple(f"P{i}" for i in range(n)),
        plot_zone=np.zeros(n, int),
        plot_area_mu=np.full(n, 10.0),
        plot_occupant=np.full(n, -1),
        firm_ids=tuple(f"A{i}" for i in range(n)),
        firm_applicant=np.ones(n, bool),
        firm_zone=np.full(n, -1),
        firm_unit=np.full(n, -1),
        firm_class=np.array([1, 1, 0, 2]),
        va_mu=np.full(n, 10.0),
        tax_va=np.zeros(n),
        el=np.zeros(n),
        en=np.zeros(n),
        em=np.zeros((n, 4)),
        o0=np.zeros(n),
        oreq=np.full(n, 100.0),
        growth_cap=np.ones(n),
        land_min_mu=np.full(n, 10.0),
        land_max_mu=np.full(n, 10.0),
        land0_mu=np.zeros(n),
        may_exit=np.zeros(n, bool),
        locked=np.zeros(n, bool),
        locked_parcel=np.full(n, -1),
        parcel_ids=tuple(f"B{i}" for i in range(n)),
        parcel_ptr=np.arange(n + 1),
        parcel_plot=np.arange(n),
        parcel_area_mu=np.full(n, 10.0),
        parcel_zone=np.zeros(n, int),
        parcel_unit=np.zeros(n, int),
        cand_firm=np.arange(n),
        cand_parcel=np.arange(n),
        supply_weight_wan_per_mu=weight,
    )


def solve_modes(data: ModelData, params: ModelParams = ON) -> tuple[list[str | None], float]:
    built = build(data, params)
    sol = run(built, time_limit_s=30, rel_gap=0.0)
    assert sol.status == Status.OPTIMAL
    chosen = chosen_modes(built)
    assert chosen is not None
    return [MODES[c] if c >= 0 else None for c in chosen], float(sol.objective)


def default_weights(rule_path: str = "land_supply_default") -> np.ndarray:
    rule = load_supply_rule(rule_path)
    return supply_table(rule, INDUSTRY, CLASSES, np.ones(4, bool), 20).weight


def test_land_supply_weights_by_hand():
    w = default_weights()
    flex, full = MODES.index("flexible"), MODES.index("full_term")
    assert w[1, flex] == pytest.approx(weight_by_hand(20))
    assert w[1, flex] == pytest.approx(1.16534, abs=1e-5)
    assert w[2, full] == pytest.approx(weight_by_hand(50))
    assert w[2, full] == pytest.approx(0.73081, abs=1e-5)
    assert w[0, flex] == pytest.approx(weight_by_hand(15))  # the row's own 15-year term
    ltt = MODES.index("lease_then_transfer")
    assert w[3, ltt] == pytest.approx(weight_by_hand(20, lease_years=5))
    # the rows permit exactly these modes (NaN elsewhere)
    permitted = [{MODES[m] for m in np.flatnonzero(np.isfinite(r))} for r in w]
    assert permitted == [
        {"flexible", "lease_then_transfer", "lease_transfer_mix", "long_lease"},
        {"flexible", "long_lease", "lease_then_transfer"},
        {"full_term", "flexible", "lease_transfer_mix"},
        {"flexible", "lease_then_transfer", "full_term"},
    ]


def test_land_supply_chooses_among_the_permitted_modes():
    w = default_weights()
    data = supply_case(w)
    modes, objective = solve_modes(data)
    # brute force over each project's permitted modes: the best weight wins
    best = [MODES[int(np.nanargmax(r))] for r in w]
    assert modes == best == ["flexible", "flexible", "flexible", "flexible"]
    # A2 (class A, long cycle) by default gets full_term: the choice departs from the default
    rule = load_supply_rule()
    assert rule.row_for("C2710", "A").default == "full_term"
    expected, _ = brute_force(data, ON)
    assert objective == pytest.approx(expected, rel=1e-9)
    assert objective == pytest.approx(400.0 + 10.0 * float(np.nanmax(w, axis=1).sum()), rel=1e-9)


def test_land_supply_switched_off_builds_nothing():
    data = supply_case(default_weights())
    built = build(data, OFF)
    assert built.family_rows["land_supply"] == 0
    assert chosen_modes(built) is None
    sol = run(built, time_limit_s=30, rel_gap=0.0)
    assert float(sol.objective) == pytest.approx(400.0)


def test_land_supply_choice_changes_with_prices(tmp_path):
    text = (ROOT / "allocator" / "policy" / "land_supply_default.toml").read_text(encoding="utf-8")
    head, tail = text.split("[modes.full_term]")
    tail = tail.replace("price_yuan_per_mu_year = 6000.0", "price_yuan_per_mu_year = 12000.0", 1)
    dear = head + "[modes.full_term]" + tail
    assert dear != text
    path = tmp_path / "dear_full_term.toml"
    path.write_text(dear, encoding="utf-8")
    w = default_weights(str(path))
    # full term at 12,000 元/mu/yr: (240,000 + 300,000·1.05^−50) / 2·10⁵ = 1.33081 > 1.16534
    assert w[2, MODES.index("full_term")] == pytest.approx(weight_by_hand(50, price=12000.0))
    modes, _ = solve_modes(supply_case(w))
    # A2 and A3 may take full_term and now do; A0 and A1 are not permitted it
    assert modes == ["flexible", "flexible", "full_term", "full_term"]


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("supply")
    path = save_case(tiny_case(), folder / "tiny.gpkg")
    base = ROOT / "scenarios" / "baseline.toml"
    off = load_scenario(base, {"case": str(path)})
    on = load_scenario(base, {"case": str(path), "switches.land_supply": True})
    return load_case(path), off, on, solve(off, out_dir=folder), solve(on, out_dir=folder)


def test_land_supply_default_assigned_and_checked_on_the_tiny_case(tiny_runs):
    case, off, on, r_off, r_on = tiny_runs
    rule = load_supply_rule()
    for scen, result in ((off, r_off), (on, r_on)):
        assert result.status == "optimal"
        assert check_result(result, case, scen) == []
        f = result.firms
        admitted = f[f["served"] & (f["kind"] == "applicant")]
        assert len(admitted) >= 1
        assert f.loc[~(f["served"] & (f["kind"] == "applicant")), "supply_mode"].isna().all()
        for _, row in admitted.iterrows():
            rule_row = rule.row_for(row["industry"], row["class"])
            assert row["supply_mode"] in rule_row.modes
            if scen is off:
                assert row["supply_mode"] == rule_row.default
            assert row["supply_years"] == rule.term(rule_row, row["supply_mode"])
        # the year × zone table adds up to the KPI; land back by the set year likewise
        table = land_income_by_year(f, 2026, 20)
        assert table.shape[0] == 20
        assert float(table.to_numpy().sum()) == pytest.approx(result.kpis["land_income_wan"])
        back = land_returned_mu(f, 2046)
        assert float(back.sum()) == pytest.approx(result.kpis["land_returned_mu"])


def test_land_supply_misreported_mode_is_caught(tiny_runs):
    case, off, _, r_off, _ = tiny_runs
    f = r_off.firms.copy()
    i = f.index[f["served"] & (f["kind"] == "applicant")][0]
    rule = load_supply_rule()
    row = rule.row_for(f.at[i, "industry"], f.at[i, "class"])
    f.at[i, "supply_mode"] = next(m for m in MODES if m not in row.modes)
    broken = type("R", (), {"firms": f, "plots": r_off.plots, "summary": r_off.summary})()
    assert any(v.family == "land_supply" for v in check_result(broken, case, off))
    f.at[i, "supply_mode"] = next(m for m in row.modes if m != row.default)
    assert any(v.family == "land_supply" for v in check_result(broken, case, off))


def test_land_supply_in_the_workbook(tiny_runs, tmp_path):
    import openpyxl

    from allocator import export, load_run

    _, _, _, _, r_on = tiny_runs
    paths = export(load_run(r_on.run_path), ["xlsx"], tmp_path, lang="zh")
    book = openpyxl.load_workbook(next(p for p in paths if p.suffix == ".xlsx"))
    firms = book["企业"]
    heads = [c.value for c in firms[1]]
    assert "供地方式" in heads
    assert "年限（年）" in heads
    col = heads.index("供地方式")
    shown = {r[col].value for r in firms.iter_rows(min_row=2) if r[col].value}
    assert shown
    assert shown <= {"出让", "弹性年期出让", "先租后让", "租让结合", "长期租赁"}
    income = book["土地收入（万元）"]
    rows = list(income.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 20  # one row per plan year
    assert rows[0][0] == 2026
    assert sum(r[-1] for r in rows) == pytest.approx(r_on.kpis["land_income_wan"])
