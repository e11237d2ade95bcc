"""The zones' national assessment: A-class flags before and after a plan, and their KPIs.

Known answer on the tiny case (baseline scenario): Z01 has 2,700 万元 tax and
16,000 万元 value added per km² now, 4,835 and 25,800 after the plan, and 8 %
→ 12 % of its 1.5 km² developed; Z02 stays far below (900 → 1,745 tax per km²).
With thresholds 3,000 / 20,000 / 10 %, Z01 reaches A class by the plan and Z02
does not: zones reaching A class 0 → 1.
"""

from __future__ import annotations

import pytest

from allocator import load_scenario, save_case, solve
from allocator.case.testing import tiny_case
from allocator.errors import ScenarioError
from allocator.land import load_assessment_rule
from allocator.runs import load_run

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def rule_file(folder, tax=3000.0, va=20000.0, share=0.10):
    path = folder / "a_class.toml"
    path.write_text(
        f"min_tax_wan_per_km2 = {tax}\nmin_va_wan_per_km2 = {va}\n"
        f'min_developed_share = {share}\n[source]\ntag = "[I] test"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("assess")
    case = save_case(tiny_case(), folder / "tiny.gpkg")
    scen = load_scenario(
        ROOT / "scenarios" / "baseline.toml",
        {"case": str(case), "assessment.rule": str(rule_file(folder))},
    )
    return solve(scen, out_dir=folder / "runs")


def test_a_class_before_and_after(planned):
    z = planned.zones.set_index("zone_id")
    assert z.at["Z01", "tax_per_km2_before"] == pytest.approx(2700.0)
    assert z.at["Z01", "tax_per_km2_after"] == pytest.approx(4835.0)
    assert not z.at["Z01", "a_class_before"]
    assert z.at["Z01", "a_class_after"]
    assert not z.at["Z02", "a_class_before"]
    assert not z.at["Z02", "a_class_after"]
    assert planned.kpis["zones_reaching_a_class_before"] == 0
    assert planned.kpis["zones_reaching_a_class"] == 1


def test_a_class_kpis_read_back(planned):
    run = load_run(planned.run_path)
    assert run.kpis["zones_reaching_a_class"] == 1
    assert run.kpis["zones_reaching_a_class_before"] == 0


def test_default_thresholds_have_their_source():
    rule = load_assessment_rule()
    assert rule.min_developed_share == pytest.approx(0.65)
    assert "署贸函〔2024〕8号" in rule.source["number"]
    assert rule.source["tag"].startswith("[N]")


def test_bad_threshold_names_file_and_key(tmp_path):
    path = rule_file(tmp_path, share=-0.1)
    with pytest.raises(ScenarioError, match="min_developed_share"):
        load_assessment_rule(path)
