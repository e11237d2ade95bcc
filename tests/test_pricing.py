"""Differentiated prices by class: surcharges, the consecutive-D step, water, relief, zones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allocator.errors import ScenarioError
from allocator.pricing import PriceImpacts, load_price_table, price_impacts
from allocator.scoring import score


def firms_20() -> pd.DataFrame:
    """20 规下 firms in two zones, 亩均税收 1..20: f00 is D, f01–f03 C, f16–f19 A."""
    n = 20
    return pd.DataFrame(
        {
            "firm_id": [f"f{i:02d}" for i in range(n)],
            "name": "x",
            "kind": "existing",
            "zone_id": ["Z1"] * 10 + ["Z2"] * 10,
            "industry": "C39",
            "is_service": False,
            "land_mu": 10.0,
            "tax_wan": np.arange(1, n + 1) * 10.0,
            "revenue_wan": 500.0,
            "electricity_mwh": 1000.0,
            "water_m3": 20_000.0,
            "founded_year": 2000.0,
        }
    )


def method_case():
    from allocator.scoring import method_from_dict, read_policy

    d = read_policy("huangyan_2022")
    d["classes"]["jurisdiction"] = "case"
    return method_from_dict(d)


def test_default_surcharges_and_units():
    df = firms_20()
    s = score(df, method_case(), year=2024)
    assert s.table.loc["f00", "class"] == "D"
    assert s.table.loc["f02", "class"] == "C"
    p = price_impacts(df, s)
    assert isinstance(p, PriceImpacts)
    f = p.firms
    # 1000 MWh × 1000 kWh/MWh × 0.3 元/kWh = 300,000 元 = 30 万元
    assert f.loc["f00", "electricity_surcharge_yuan_per_kwh"] == pytest.approx(0.30)
    assert f.loc["f00", "electricity_cost_wan"] == pytest.approx(30.0)
    assert f.loc["f02", "electricity_cost_wan"] == pytest.approx(10.0)
    assert f.loc["f10", "electricity_cost_wan"] == 0.0
    assert f.loc["f00", "water_surcharge_pct"] == 30.0
    assert f.loc["f02", "water_surcharge_pct"] == 15.0
    assert np.isnan(f.loc["f00", "water_cost_wan"])  # no base price in the default table
    zones = p.zones.set_index("zone_id")
    assert zones.loc["Z1", "electricity_revenue_wan"] == pytest.approx(30.0 + 3 * 10.0)
    assert zones["firms"].sum() == 20


def test_three_consecutive_d_years_step():
    df = firms_20()
    hist = pd.DataFrame(
        {
            "firm_id": ["f00", "f00", "f00"],
            "year": [2023, 2022, 2021],
            "class": ["D", "D", "B"],
        }
    )
    s = score(df, method_case(), year=2024, class_history=hist)
    p = price_impacts(df, s, class_history=hist)
    assert p.firms.loc["f00", "years_in_class_running"] == 3
    assert p.firms.loc["f00", "electricity_surcharge_yuan_per_kwh"] == pytest.approx(0.40)
    assert p.firms.loc["f00", "electricity_cost_wan"] == pytest.approx(40.0)
    # only two years running: base surcharge
    hist2 = hist[hist["year"] != 2022]
    p2 = price_impacts(df, s, class_history=hist2)
    assert p2.firms.loc["f00", "electricity_surcharge_yuan_per_kwh"] == pytest.approx(0.30)


def test_unrated_pay_as_b_and_applicants_excluded():
    df = firms_20()
    df.loc[5, "founded_year"] = 2024.0
    extra = df.iloc[[0]].assign(firm_id="app", kind="applicant", land_max_mu=10.0, land_mu=np.nan)
    df = pd.concat([df, extra], ignore_index=True)
    s = score(df, method_case(), year=2024)
    assert s.table.loc["f05", "managed_class"] == "B"
    p = price_impacts(df, s)
    assert "app" not in p.firms.index
    assert p.firms.loc["f05", "electricity_cost_wan"] == 0.0


def test_water_sewage_and_land_tax_relief(tmp_path):
    path = tmp_path / "prices.toml"
    path.write_text(
        "[source]\ndocument='test'\n"
        "[electricity]\nsurcharge_yuan_per_kwh = { D = 0.2 }\n"
        "[water]\nsurcharge_pct = { D = 30.0 }\nbase_price_yuan_per_m3 = 5.0\n"
        "[sewage]\nadjustment_yuan_per_m3 = { D = 1.0 }\n"
        "[land_use_tax]\nrelief_share = { A = 1.0, B = 0.5 }\nrate_yuan_per_m2 = 6.0\n"
    )
    df = firms_20()
    s = score(df, method_case(), year=2024)
    p = price_impacts(df, s, path)
    f = p.firms
    # water: 20,000 m³ × 5 元 × 30 % = 30,000 元 = 3 万元; sewage 20,000 元 = 2 万元
    assert f.loc["f00", "water_cost_wan"] == pytest.approx(3.0)
    assert f.loc["f00", "sewage_cost_wan"] == pytest.approx(2.0)
    # relief: 10 mu × 666.67 m² × 6 元 = 40,000 元 = 4 万元 for A, half for B
    assert f.loc["f19", "land_tax_relief_wan"] == pytest.approx(4.0)
    assert f.loc["f10", "land_tax_relief_wan"] == pytest.approx(2.0)
    assert f.loc["f19", "total_cost_wan"] == pytest.approx(-4.0)
    z = p.zones.set_index("zone_id")
    assert z.loc["Z2", "land_tax_relief_wan"] == pytest.approx(4 * 4.0 + 6 * 2.0)


def test_shipped_price_tables_have_sources():
    for name in ("price_default", "price_haining", "price_ruian"):
        table = load_price_table(name)
        assert {"document", "url", "tag"} <= set(table.source), name
    h = load_price_table("price_haining")
    assert h.electricity_yuan_per_kwh == {"D": 0.30}
    assert h.consecutive[0].years == 3
    assert load_price_table("price_default").land_tax_relief_share == {}


def test_bad_price_table(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[electricity]\nsurcharge_yuan_per_kwh = { E = 0.2 }\n")
    with pytest.raises(ScenarioError, match="E"):
        load_price_table(path)


def test_case_input_uses_case_history():
    from allocator.case.testing import tiny_case

    case = tiny_case()
    s = score(case)
    p = price_impacts(case, s)
    assert set(p.firms.index) == set(case.existing["firm_id"])
    assert set(p.zones["zone_id"]) == {"Z01", "Z02"}
