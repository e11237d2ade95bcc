"""亩均效益 scoring: known answers (DOMAIN.md worked examples), rules, classes, CLI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from allocator.errors import CaseError, ScenarioError
from allocator.scoring import (
    class_summary,
    explanation_texts,
    load_method,
    method_from_dict,
    read_policy,
    score,
    solve_piecewise,
)
from allocator.scoring.synthetic import synth_firms


def firm(fid: str, **kw: object) -> dict:
    base = {
        "firm_id": fid,
        "name": fid,
        "kind": "existing",
        "zone_id": "Z1",
        "industry": "C39",
        "is_service": False,
        "founded_year": 2000.0,
        "under_construction": False,
    }
    base.update(kw)
    return base


def above(fid: str, tax_mu=30.0, va_mu=150.0, va_e=3.0, va_em=5000.0, va_emp=20.0, rd=0.035, **kw):
    """A 规上 firm on 10 mu with the given indicator values."""
    land, revenue = 10.0, 5000.0
    va = va_mu * land
    return (
        firm(
            fid,
            land_mu=land,
            tax_wan=tax_mu * land,
            value_added_wan=va,
            energy_tce=va / va_e,
            cod_t=va / va_em,
            nh3n_t=0.0,
            so2_t=0.0,
            nox_t=0.0,
            employees=va / va_emp,
            rd_wan=rd * revenue,
            revenue_wan=revenue,
            electricity_mwh=1000.0,
        )
        | kw
    )


def below(fid: str, tax_mu=8.0, tax_kwh=0.20, **kw):
    """A 规下 firm on 10 mu: tax per mu and tax per kWh (万元/万kWh)."""
    land = 10.0
    tax = tax_mu * land
    return (
        firm(
            fid,
            land_mu=land,
            tax_wan=tax,
            revenue_wan=1000.0,
            electricity_mwh=tax / tax_kwh * 10.0,
        )
        | kw
    )


# ---------------------------------------------------------------- known answers


def test_worked_example_above_size_2022():
    s = score(pd.DataFrame([above("a")]), "huangyan_2022", year=2024)
    row = s.table.loc["a"]
    assert row["pool"] == "above"
    assert row["score"] == pytest.approx(114.41, abs=0.005)
    expected = {
        "tax_per_mu": 37.35,
        "va_per_mu": 22.03,
        "va_per_energy": 22.27,
        "va_per_emission": 10.14,
        "va_per_employee": 11.03,
        "rd_share": 11.59,
    }
    for key, val in expected.items():
        assert row[f"part_{key}"] == pytest.approx(val, abs=0.005), key


def test_worked_example_below_size_2022():
    s = score(pd.DataFrame([below("b")]), "huangyan_2022", year=2024)
    row = s.table.loc["b"]
    assert row["pool"] == "below"
    assert row["ind_tax_per_electricity"] == pytest.approx(0.20)
    assert row["score"] == pytest.approx(77.02, abs=0.005)


def test_2021_benchmarks():
    s = score(pd.DataFrame([above("a"), below("b")]), "huangyan_2021", year=2024)
    exp_a = 30 / 26.01 * 30 + 150 / 132.27 * 20 + 3 / 2.54 * 20
    exp_a += 5000 / 4861.08 * 10 + 20 / 17.45 * 10 + 0.035 / 0.0305 * 10
    assert s.table.loc["a", "score"] == pytest.approx(exp_a)
    assert s.table.loc["b", "score"] == pytest.approx(8 / 16.601058 * 50 + 0.2 / 0.236565 * 50)


def test_method_files_carry_sources():
    for name in ("huangyan_2022", "huangyan_2021", "minmax_example"):
        m = load_method(name)
        assert {"document", "url", "tag"} <= set(m.source), name
        assert [r.weight for r in m.rules("above")] in ([30, 20, 20, 10, 10, 10],)
        assert [r.weight for r in m.rules("below")] == [50, 50]
        assert [r.weight for r in m.rules("service")] == [60, 40]
        assert m.energy_basis == "equivalent"


def test_electricity_unit_is_yuan_per_kwh():
    # 80 万元 tax on 4000 MWh = 400 万kWh → 0.2 万元/万kWh = 0.2 元/kWh
    s = score(pd.DataFrame([below("b", tax_mu=8.0, tax_kwh=0.2)]), year=2024)
    f = s.table.loc["b"]
    assert f["ind_tax_per_electricity"] == pytest.approx(80 / 400)


def test_energy_basis_conversion():
    d = read_policy("huangyan_2022")
    d["energy"]["input_basis"] = "calorific"
    m = method_from_dict(d)
    f = above("a")
    s = score(pd.DataFrame([f]), m, year=2024)
    energy_eq = f["energy_tce"] + f["electricity_mwh"] * (0.30 - 0.1229)
    assert s.table.loc["a", "ind_va_per_energy"] == pytest.approx(f["value_added_wan"] / energy_eq)


# ---------------------------------------------------------------- rules


def test_cap_limits_partial_score():
    d = read_policy("huangyan_2022")
    d["cap"] = 1.5
    m = method_from_dict(d)
    s = score(pd.DataFrame([above("a", tax_mu=300.0)]), m, year=2024)
    assert s.table.loc["a", "part_tax_per_mu"] == pytest.approx(45.0)
    assert s.benchmarks["cap"].dropna().eq(1.5).all()


def test_missing_or_zero_emissions_get_pool_average():
    rows = [above("a", va_em=5000.0), above("b", va_em=2500.0), above("c"), above("d")]
    rows[2].update(cod_t=np.nan, nh3n_t=np.nan, so2_t=np.nan, nox_t=np.nan)
    rows[3].update(cod_t=0.0)
    s = score(pd.DataFrame(rows), year=2024)
    avg = (5000 / 4929.81 * 10 + 2500 / 4929.81 * 10) / 2
    assert s.table.loc["c", "part_va_per_emission"] == pytest.approx(avg)
    assert s.table.loc["d", "part_va_per_emission"] == pytest.approx(avg)
    assert s.table["scorable"].all()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"land_mu": 0.0}, "zero:land"),
        ({"land_mu": np.nan}, "missing:land"),
        ({"employees": 0.0}, "zero:employees"),
        ({"energy_tce": np.nan}, "missing:energy"),
        ({"tax_wan": np.nan}, "missing:tax_wan"),
        ({"revenue_wan": np.nan}, "missing:revenue_wan"),
    ],
)
def test_unscorable_firms_are_listed_with_a_reason(change, code):
    rows = [above("ok"), {**above("x"), **change}]
    s = score(pd.DataFrame(rows), year=2024)
    x = s.table.loc["x"]
    assert not x["scorable"]
    assert not x["rated"]
    assert math.isnan(x["score"])
    assert x["reason_code"] == code
    assert isinstance(x["reason"], str)
    assert x["reason"]
    assert pd.isna(x["class"])
    assert x["managed_class"] == "B"
    assert s.table.loc["ok", "scorable"]


def test_zero_electricity_below_size_not_scorable():
    s = score(pd.DataFrame([below("x", electricity_mwh=0.0)]), year=2024)
    assert s.table.loc["x", "reason_code"] == "zero:electricity_mwh"


def test_unrated_firms_are_managed_as_b():
    rows = [above(f"r{i}") for i in range(5)]
    rows.append(above("new", founded_year=2023.0))
    rows.append(above("build", under_construction=True))
    rows.append(above("util", industry="D4411"))
    s = score(pd.DataFrame(rows), year=2024)
    tb = s.table
    for fid, code in (
        ("new", "unrated_new"),
        ("build", "unrated_construction"),
        ("util", "unrated_utility"),
    ):
        assert tb.loc[fid, "reason_code"] == code
        assert pd.isna(tb.loc[fid, "class"])
        assert tb.loc[fid, "managed_class"] == "B"
        assert not tb.loc[fid, "rated"]
        assert np.isfinite(tb.loc[fid, "score"])  # still scored, for information
    assert tb.loc["r0", "group_size"] == 5  # unrated firms are not ranked
    # founded two years before the evaluation year: rated
    s2 = score(pd.DataFrame([above("x", founded_year=2022.0)]), year=2024)
    assert s2.table.loc["x", "rated"]


def test_duplicate_ids_and_missing_id_raise():
    with pytest.raises(CaseError, match="a"):
        score(pd.DataFrame([above("a"), above("a")]), year=2024)
    with pytest.raises(CaseError):
        score(pd.DataFrame([above("a")]).drop(columns="firm_id"), year=2024)


def test_bad_method_files(tmp_path):
    with pytest.raises(ScenarioError, match="no_such"):
        load_method("no_such_method")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'kind = "benchmark_ratio"\n[[pools.above.indicators]]\nkey = "nope"\nweight = 1\n'
    )
    with pytest.raises(ScenarioError, match="nope"):
        load_method(bad)
    bad.write_text('[[pools.above.indicators]]\nkey = "tax_per_mu"\nweight = -3\n')
    with pytest.raises(ScenarioError, match="weight"):
        load_method(bad)
    bad.write_text(
        '[[pools.above.indicators]]\nkey = "tax_per_mu"\nweight = 3\n'
        "[classes]\nbands = { A = 0.5, B = 0.4, C = 0.9, D = 1.0 }\n"
    )
    with pytest.raises(ScenarioError, match="bands"):
        load_method(bad)


def test_method_from_path_and_include(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text(
        'include = ["classes_default"]\nname = "mine"\n[source]\ndocument = "x"\n'
        '[[pools.below.indicators]]\nkey = "tax_per_mu"\nweight = 100\nbenchmark = 10\n'
        '[classes]\njurisdiction = "case"\n'
    )
    m = load_method(p)
    assert m.name == "mine"
    assert m.classes.jurisdiction == "case"
    assert m.classes.unrated_industry_prefixes == ("D44", "D45", "D46")
    s = score(pd.DataFrame([below("b", tax_mu=5.0), above("a")]), m, year=2024)
    assert s.table.loc["b", "score"] == pytest.approx(50.0)
    assert s.table.loc["a", "reason_code"] == "pool_not_scored"


def test_pool_mean_benchmark_and_service_pool():
    rows = [
        firm("s1", is_service=True, land_mu=10.0, tax_wan=100.0, revenue_wan=1000.0),
        firm("s2", is_service=True, land_mu=10.0, tax_wan=300.0, revenue_wan=3000.0),
    ]
    s = score(pd.DataFrame(rows), year=2024)
    # mean tax/mu = 20, mean revenue/mu = 200 → s1 = 60·10/20 + 40·100/200 = 50
    assert s.table.loc["s1", "score"] == pytest.approx(50.0)
    assert s.table.loc["s2", "score"] == pytest.approx(150.0)
    assert set(s.table["pool"]) == {"service"}


def test_minmax_known_answer_and_flat_range():
    rows = [below(f"b{i}", tax_mu=v, tax_kwh=0.2) for i, v in enumerate([2.0, 4.0, 10.0])]
    s = score(pd.DataFrame(rows), "minmax_example", year=2024)
    # tax_per_mu: min 2, max 10; kWh indicator flat → full weight
    assert s.table.loc["b0", "part_tax_per_mu"] == pytest.approx(50 * 20 / 100)
    assert s.table.loc["b1", "part_tax_per_mu"] == pytest.approx(50 * (20 + 80 * 2 / 8) / 100)
    assert s.table.loc["b2", "part_tax_per_mu"] == pytest.approx(50.0)
    assert s.table["part_tax_per_electricity"].eq(50.0).all()


# ---------------------------------------------------------------- classes


def test_class_bands_twenty_firms():
    rows = [below(f"f{i:02d}", tax_mu=1.0 + i) for i in range(20)]
    s = score(pd.DataFrame(rows), year=2024)
    counts = s.table["class"].value_counts()
    assert dict(counts) == {"A": 4, "B": 12, "C": 3, "D": 1}
    assert s.table.loc["f19", "class"] == "A"
    assert s.table.loc["f00", "class"] == "D"
    assert s.table.loc["f19", "rank"] == 1


def test_ties_get_the_better_class():
    # 10 firms: A = 2 by count; firms 2nd and 3rd tie → both A
    vals = [10, 9, 9, 8, 7, 6, 5, 4, 3, 2]
    rows = [below(f"f{i}", tax_mu=float(v)) for i, v in enumerate(vals)]
    s = score(pd.DataFrame(rows), year=2024)
    assert s.table.loc[["f0", "f1", "f2"], "class"].tolist() == ["A", "A", "A"]
    assert s.table.loc["f3", "class"] == "B"


def test_jurisdiction_and_industry_groups():
    d = read_policy("huangyan_2022")
    d["classes"]["jurisdiction"] = "county"
    d["classes"]["industry_groups"] = {"电子": ["C39"]}
    m = method_from_dict(d)
    rows = [below(f"a{i}", tax_mu=1.0 + i, zone_id="Z1") for i in range(5)]
    rows += [below(f"b{i}", tax_mu=1.0 + i, zone_id="Z2") for i in range(5)]
    rows += [below(f"c{i}", tax_mu=1.0 + i, zone_id="Z3", industry="C17") for i in range(5)]
    zones = pd.DataFrame({"zone_id": ["Z1", "Z2", "Z3"], "county": ["X县", "X县", "X县"]})
    s = score(pd.DataFrame(rows), m, year=2024, zones=zones)
    assert s.table.loc["a0", "group"] == "below|X县|电子"
    assert s.table.loc["c0", "group"] == "below|X县|其他"
    assert s.table.loc["a0", "group_size"] == 10
    assert s.table.loc["c0", "group_size"] == 5


def test_applicants_classed_against_existing_thresholds():
    rows = [below(f"e{i:02d}", tax_mu=1.0 + i) for i in range(20)]
    base = score(pd.DataFrame(rows), year=2024).table
    apps = [
        below("app_top", kind="applicant", tax_mu=100.0, zone_id=None, candidate_zones="Z1;Z2"),
        below("app_low", kind="applicant", tax_mu=0.5, zone_id=None, candidate_zones="Z1"),
        below("app_mid", kind="applicant", tax_mu=10.0, zone_id=None, candidate_zones="Z1"),
    ]
    for a in apps:
        a["land_max_mu"], a["land_mu"] = a.pop("land_mu"), np.nan
    s = score(pd.DataFrame(rows + apps), year=2024).table
    pd.testing.assert_series_equal(s.loc[base.index, "class"], base["class"])
    assert s.loc["app_top", "class"] == "A"
    assert s.loc["app_low", "class"] == "D"
    assert s.loc["app_mid", "class"] == "B"  # 10 ≥ worst B (e04 = 5), < worst A (e16 = 17)
    assert s.loc["app_top", "land_used_mu"] == 10.0
    assert s.loc["app_top", "zone_id"] == "Z1"


# ---------------------------------------------------------------- explanations


def test_counterfactual_known_answer_below_size():
    # 20 规下 firms, tax per kWh fixed at 0.2352 (25 points each); 亩均税收 1..20
    rows = [below(f"f{i:02d}", tax_mu=1.0 + i, tax_kwh=0.2352) for i in range(20)]
    s = score(pd.DataFrame(rows), year=2024)
    tb = s.table
    f = tb.loc["f10"]  # B; next A threshold is f16's score
    assert f["class"] == "B"
    assert f["next_class"] == "A"
    assert f["next_threshold"] == pytest.approx(tb.loc["f16", "score"])
    # score(t) = 50·t/(10·11.5932) + 50·t/(elec/10 · 0.2352): linear in tax t
    elec = rows[10]["electricity_mwh"]
    slope = 50 / (10 * 11.5932) + 50 / (elec / 10 * 0.2352)
    assert f["cf_tax_wan"] == pytest.approx(f["gap_to_next"] / slope, rel=1e-6)
    assert f["cf_tax_per_mu"] == pytest.approx(f["cf_tax_wan"] / 10.0)
    assert math.isnan(tb.loc["f19", "cf_tax_wan"])  # already A


def test_energy_counterfactual_solves_exactly():
    rows = [above(f"f{i:02d}", tax_mu=10.0 + i) for i in range(20)]
    s = score(pd.DataFrame(rows), year=2024)
    f = s.table.loc["f05"]
    energy = rows[5]["energy_tce"]
    va = rows[5]["value_added_wan"]
    # partial = 20·VA/(E·2.694); need +gap points
    new_part = f["part_va_per_energy"] + f["gap_to_next"]
    e_new = 20 * va / (2.694 * new_part)
    assert f["cf_energy_cut_tce"] == pytest.approx(energy - e_new, rel=1e-6)
    assert f["cf_energy_cut_per_wan"] == pytest.approx((energy - e_new) / va, rel=1e-6)


def test_weakest_indicator_and_texts():
    rows = [above("a"), above("b", rd=0.001), above("c", va_e=6.0)]
    s = score(pd.DataFrame(rows), year=2024)
    assert s.table.loc["b", "weakest_indicator"] == "rd_share"
    texts = explanation_texts(s.table, "zh")
    assert "R&D" in texts["b"]
    en = explanation_texts(s.table, "en")
    assert all(isinstance(x, str) and x for x in en)


def test_solve_piecewise_with_caps():
    # 2 terms: min(2x, 5) + min(x, 100) ; target 9 → 2x capped at x=2.5 (total 7.5), then slope 1
    alpha = np.zeros((1, 2))
    beta = np.array([[2.0, 1.0]])
    lo = np.full((1, 2), -np.inf)
    hi = np.array([[5.0, 100.0]])
    x = solve_piecewise(np.array([0.0]), np.array([9.0]), np.zeros(1), alpha, beta, lo, hi)
    assert x[0] == pytest.approx(4.0)
    x = solve_piecewise(np.array([0.0]), np.array([200.0]), np.zeros(1), alpha, beta, lo, hi)
    assert math.isnan(x[0])  # everything capped: unreachable


def test_d_years_running_from_history():
    rows = [below(f"f{i:02d}", tax_mu=1.0 + i) for i in range(20)]
    hist = pd.DataFrame(
        {
            "firm_id": ["f00", "f00", "f00", "f01"],
            "year": [2023, 2022, 2020, 2023],
            "class": ["D", "D", "D", "C"],
        }
    )
    s = score(pd.DataFrame(rows), class_history=hist, year=2024)
    assert s.table.loc["f00", "class"] == "D"
    assert s.table.loc["f00", "d_years_running"] == 3  # 2024, 2023, 2022 (2021 breaks it)
    assert s.table.loc["f01", "d_years_running"] == 0


def test_summary_and_row_order():
    df = synth_firms(500, seed=1, applicants=0.05)
    s = score(df, year=2024)
    summ = class_summary(s.table)
    assert summ["total"].sum() == 500
    assert list(s.table.index) == df["firm_id"].tolist()
    assert s.table["managed_class"].isin(list("ABCD")).all()
    unclassed = s.table["class"].isna()
    assert s.table.loc[unclassed, "reason"].map(lambda r: isinstance(r, str) and bool(r)).all()


# ---------------------------------------------------------------- cases and CLI


def test_tiny_case_every_firm_classed_or_explained():
    from allocator.case.testing import tiny_case

    case = tiny_case()
    s = score(case)
    tb = s.table
    assert len(tb) == len(case.firms)
    ok = tb["class"].notna() | tb["reason"].map(lambda r: isinstance(r, str) and bool(r))
    assert ok.all()
    assert s.year == int(case.class_history["year"].max()) + 1


@pytest.mark.slow
def test_sample_case_every_firm_classed_or_explained(sample_case_path):
    from allocator.case import load_case

    case = load_case(sample_case_path)
    s = score(case)
    tb = s.table
    ok = tb["class"].notna() | tb["reason"].map(lambda r: isinstance(r, str) and bool(r))
    assert ok.all(), tb.loc[~ok, ["pool", "score", "reason_code"]]
    assert s.summary()["total"].sum() == len(case.firms)


@pytest.mark.slow
def test_cli_score_sample_case(sample_case_path, tmp_path, capsys):
    from allocator.case import load_case
    from allocator.cli import main

    out = tmp_path / "sample-scores.xlsx"
    assert main(["score", str(sample_case_path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for zone_id in load_case(sample_case_path).zones["zone_id"]:
        assert str(zone_id) in text
    assert out.exists()


def test_cli_score_writes_workbook(tmp_path, capsys):
    from allocator.case import save_case
    from allocator.case.testing import tiny_case
    from allocator.cli import main

    gpkg = tmp_path / "tiny.gpkg"
    save_case(tiny_case(), gpkg)
    out = tmp_path / "s.xlsx"
    assert main(["score", str(gpkg), "--out", str(out), "--year", "2024"]) == 0
    text = capsys.readouterr().out
    assert "Z01" in text
    assert "Z02" in text
    assert "合计" in text
    book = pd.read_excel(out, sheet_name=None)
    assert {"评分结果", "园区汇总", "分档阈值", "基准值", "差别化价格", "方法说明"} <= set(book)
    assert "综合得分（分）" in book["评分结果"].columns
    assert "亩均税收（万元/亩）" in book["评分结果"].columns


def test_cli_score_csv_and_errors(tmp_path, capsys):
    from allocator.cli import main

    df = pd.DataFrame([above("a"), below("b")])
    csv = tmp_path / "firms.csv"
    df.to_csv(csv, index=False)
    out = tmp_path / "o.xlsx"
    assert main(["score", str(csv), "--out", str(out), "--year", "2024"]) == 0
    assert out.exists()
    assert main(["score", str(tmp_path / "nope.csv")]) == 1
    assert main(["score", str(csv), "--method", "no_such"]) == 1
    assert "no_such" in capsys.readouterr().err


def test_available_methods():
    from allocator.scoring import available_methods

    names = available_methods()
    assert names[0] == "huangyan_2022"
    assert {"huangyan_2021", "minmax_example"} <= set(names)
    assert not any(n.startswith("price_") or n.endswith("_default") for n in names)


def test_benchmark_multiple_and_aggregate():
    rows = [
        firm("s1", is_service=True, land_mu=10.0, tax_wan=100.0, revenue_wan=1000.0),
        firm("s2", is_service=True, land_mu=30.0, tax_wan=900.0, revenue_wan=3000.0),
    ]
    d = read_policy("huangyan_2022")
    d["pools"]["service"]["indicators"][0].update(
        benchmark="pool_aggregate", benchmark_multiple=2.0
    )
    s = score(pd.DataFrame(rows), method_from_dict(d), year=2024)
    # Σtax/Σland = 1000/40 = 25, × 2 = 50 → s1 tax partial = 60 · 10/50
    assert s.table.loc["s1", "part_tax_per_mu"] == pytest.approx(12.0)
    b = s.benchmarks.set_index(["pool", "indicator"])
    assert b.loc[("service", "tax_per_mu"), "benchmark"] == pytest.approx(50.0)
    assert b.loc[("service", "tax_per_mu"), "computed"] == "pool_aggregate"


def test_empty_and_bare_inputs_do_not_crash():
    empty = pd.DataFrame({"firm_id": pd.Series([], dtype=str)})
    s = score(empty)
    assert s.table.empty
    assert explanation_texts(s.table).empty
    bare = score(pd.DataFrame({"firm_id": ["a"], "tax_wan": [1.0]}), year=2024).table
    assert bare.loc["a", "reason_code"] == "missing:revenue_wan"
    assert bare.loc["a", "managed_class"] == "B"


def test_cli_score_chinese_headers(tmp_path, capsys):
    from allocator.cli import main

    csv = tmp_path / "企业.csv"
    csv.write_text(
        "企业编号,企业名称,类别,所属园区,行业代码,税收(万元),营业收入(万元),用地面积(亩),用电量(万千瓦时)\n"
        "X1,甲公司,存量,Z1,C3911,80,1000,10,400\n"
        "X2,乙公司,存量,Z1,C3911,50,800,10,300\n",
        encoding="utf-8",
    )
    out = tmp_path / "o.xlsx"
    assert main(["score", str(csv), "--out", str(out), "--year", "2024"]) == 0
    sheet = pd.read_excel(out, sheet_name="评分结果").set_index("企业编号")
    # the DOMAIN.md 规下 example: 8 万元/亩 and 0.20 元/kWh → 77.02
    assert sheet.loc["X1", "综合得分（分）"] == pytest.approx(77.02, abs=0.005)
    assert sheet.loc["X1", "单位电耗税收（元/kWh）"] == pytest.approx(0.20)
    assert "Z1" in capsys.readouterr().out


def test_cli_score_single_sheet_workbook_with_chinese_headers(tmp_path):
    """A workbook whose one sheet is not named ``firms`` is read as the firms table.

    The app's evaluation page and ``allocator score`` share this reader; the CLI
    used to refuse such a file (it looked for a sheet named after a layer).
    """
    from allocator.cli import main

    xlsx = tmp_path / "亩均数据.xlsx"
    pd.DataFrame(
        {
            "企业编号": ["X1", "X2"],
            "企业名称": ["甲公司", "乙公司"],
            "类别": ["存量", "存量"],
            "所属园区": ["Z1", "Z1"],
            "行业代码": ["C3911", "C3911"],
            "税收(万元)": [80, 50],
            "营业收入(万元)": [1000, 800],
            "用地面积(亩)": [10, 10],
            "用电量(万千瓦时)": [400, 300],
        }
    ).to_excel(xlsx, index=False, sheet_name="Sheet1")
    out = tmp_path / "o.xlsx"
    assert main(["score", str(xlsx), "--out", str(out), "--year", "2024"]) == 0
    sheet = pd.read_excel(out, sheet_name="评分结果").set_index("企业编号")
    # the DOMAIN.md 规下 example, as in the CSV test above: 8 万元/亩 and 0.20 元/kWh → 77.02
    assert sheet.loc["X1", "综合得分（分）"] == pytest.approx(77.02, abs=0.005)
