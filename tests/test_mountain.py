"""山区26县 on the tiny case: dated lists, ``partner_county``, flags, KPIs, reserves.

The tiny case's county lists name 淳安县 (in 山区26县 since 2021-07-01) and 柯城区
(2021-07-01 to 2024-08-01); its zones lie in 钱塘区 and 北仑区, so only a firm's
``partner_county`` makes it a 26县 firm. Open land (vacant and idle plots the red
line leaves): P03, P04, P05, P08, 90 mu each = 360 mu. A002 is locked on P08
(90 mu); A001 needs one 90-mu plot.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator import load_scenario, save_case, solve
from allocator.case.io import build_case
from allocator.case.testing import tiny_frames
from allocator.errors import ProblemList, ScenarioError
from allocator.invariants import check_result
from allocator.mountain import member_counties

ROOT = Path(__file__).resolve().parents[1]


def case_with(partners: dict[str, str], folder: Path) -> tuple[Path, ProblemList]:
    """The tiny case with ``partner_county`` set for some firms, saved; and its problems."""
    frames = tiny_frames()
    firms = frames["firms"]
    firms["partner_county"] = [partners.get(f) for f in firms["firm_id"]]
    problems = ProblemList()
    case = build_case(frames, problems)
    assert case is not None
    return save_case(case, folder / "tiny.gpkg"), problems


def run(case_path: Path, folder: Path, **over):
    scen = load_scenario(ROOT / "scenarios" / "baseline.toml", {"case": str(case_path), **over})
    result = solve(scen, out_dir=folder / "runs")
    from allocator.case import load_case

    assert check_result(result, load_case(case_path), scen) == []
    return result


def test_membership_is_read_on_the_reference_date():
    lists = tiny_frames()["county_lists"]
    # default: the list's latest change (2024-08-01), when 柯城区 has just left
    assert member_counties(lists) == {"淳安县"}
    assert member_counties(lists, as_of="2023-01-01") == {"淳安县", "柯城区"}
    assert member_counties(lists, "山区海岛县") == {"嵊泗县"}
    with pytest.raises(ScenarioError, match="mountain.as_of"):
        member_counties(lists, as_of="next spring")


def test_partner_county_on_no_list_is_a_warning_naming_row_and_column(tmp_path):
    _, problems = case_with({"A001": "淳安县", "A002": "某县"}, tmp_path)
    found = [p for p in problems.problems if p.code == "unknown_partner_county"]
    assert [(p.severity, p.layer, p.row, p.column) for p in found] == [
        ("warning", "firms", "A002", "partner_county")
    ]
    assert "某县" in found[0].message


def test_flags_and_kpis_of_26_county_firms(tmp_path):
    path, _ = case_with({"A001": "淳安县", "F003": "柯城区"}, tmp_path)
    result = run(path, tmp_path)
    f = result.firms.set_index("firm_id")
    assert f.at["A001", "served"]
    assert f["mountain_26"].to_dict() == {
        "F001": False, "F002": False, "F003": False, "F004": False, "A001": True, "A002": False,
    }  # fmt: skip
    assert f.at["A001", "mountain_basis"] == "partner"
    k = result.kpis
    assert k["mountain_firms_served"] == 1
    assert k["mountain_projects_admitted"] == 1
    assert k["mountain_land_mu"] == pytest.approx(f.at["A001", "land_mu"])
    assert k["mountain_energy_tce"] == pytest.approx(f.at["A001", "energy_tce"])
    # on 2023-01-01 柯城区 was on the list: F003 (existing) counts as well
    earlier = run(path, tmp_path, **{"mountain.as_of": "2023-01-01"})
    assert earlier.firms.set_index("firm_id").at["F003", "mountain_26"]
    assert earlier.kpis["mountain_firms_served"] == 2


def test_land_reserve_keeps_land_for_26_county_projects(tmp_path):
    # 200 of the 360 open mu reserved: the ordinary projects may take 160; A002 (locked) takes
    # 90, so A001 (90 mu) must stay out unless it is a 26县 project
    path, _ = case_with({}, tmp_path / "plain")
    reserve = {"switches.mountain_land": True, "mountain.reserve_mu": 200.0}
    out = run(path, tmp_path / "plain", **reserve).firms.set_index("firm_id")
    assert not out.at["A001", "served"]
    assert out.at["A002", "served"]
    # 180 reserved leaves exactly 180 for A002 and A001
    fits = run(path, tmp_path / "plain", **{**reserve, "mountain.reserve_mu": 180.0})
    assert fits.firms.set_index("firm_id").at["A001", "served"]
    # partnered with 淳安县, A001 takes reserved land
    partner, _ = case_with({"A001": "淳安县"}, tmp_path / "partner")
    kept = run(partner, tmp_path / "partner", **reserve).firms.set_index("firm_id")
    assert kept.at["A001", "served"]
    assert kept.at["A001", "mountain_26"]


def test_energy_reserve_holds_and_needs_its_amount(tmp_path):
    path, _ = case_with({"A001": "淳安县"}, tmp_path)
    result = run(path, tmp_path, **{"switches.mountain_energy": True, "mountain.reserve_tce": 2e4})
    f = result.firms
    other = f["served"].astype(bool) & ~f["mountain_26"].astype(bool)
    assert float(f.loc[other, "energy_tce"].sum()) <= 35_000.0 - 20_000.0 + 1e-6
    with pytest.raises(ScenarioError, match="mountain.reserve_tce"):
        run(path, tmp_path, **{"switches.mountain_energy": True})
