"""Why B differs from A: Shapley attribution on the tiny case, every combination brute-forced."""

from __future__ import annotations

import itertools
import math

import pytest
from test_model_bruteforce import brute_force

from allocator.analysis.attribution import attribute, differing_keys, mix
from allocator.case.testing import tiny_case
from allocator.prepare import prepare
from allocator.runs import run_names
from allocator.scenario import scenario_from_dict
from allocator.solve import solve

EXIT_ALL = {"classes": ["A", "B", "C", "D"]}
A = {"name": "a", "exit": EXIT_ALL, "service_floor": 0.8, "caps": {"energy_factor": 0.7}}
B = {
    "name": "b",
    "exit": EXIT_ALL,
    "service_floor": 0.3,
    "caps": {"energy_factor": 0.5},
    "objective": {"alpha_tax": 2.0},
}
"""Caps and floors interact here: tighter caps alone force a firm out (52,100), with the lower
floor too the firms stay at reduced output (55,116.1); the objective weights change every value."""


def runs(tmp_path, a: dict, b: dict):
    case = tiny_case()
    ra = solve(scenario_from_dict(a), case=case, out_dir=tmp_path, rel_gap=1e-9)
    rb = solve(scenario_from_dict(b), case=case, out_dir=tmp_path, rel_gap=1e-9)
    return case, ra, rb


def test_shapley_sums_to_the_change_and_matches_brute_force(tmp_path):
    case, ra, rb = runs(tmp_path, A, B)
    att = attribute(ra.run_path, rb.run_path, case=case, rel_gap=1e-9)
    assert att.method == "shapley"
    assert att.groups == ["caps", "floors", "objective"]
    assert len(att.values) == 8
    # every combination's objective is the brute-force optimum of its mixed scenario
    sa, sb = scenario_from_dict(A), scenario_from_dict(B)
    v = {}
    for r in range(4):
        for s in itertools.combinations(att.groups, r):
            prep = prepare(case, mix(sa, sb, list(s)))
            v[frozenset(s)], _ = brute_force(prep.data, prep.params)
    got = dict(zip(att.values["groups"], att.values["objective"], strict=True))
    for s, value in v.items():
        label = "+".join(g for g in att.groups if g in s) or "—"
        assert got[label] == pytest.approx(value, abs=1e-6)
    # Shapley by its definition, written out for three players
    g = att.groups
    for i in g:
        others = [x for x in g if x != i]
        phi = 0.0
        for r in range(3):
            for s in itertools.combinations(others, r):
                w = math.factorial(r) * math.factorial(2 - r) / 6
                phi += w * (v[frozenset(s) | {i}] - v[frozenset(s)])
        assert att.contributions.loc[i, "objective"] == pytest.approx(phi, abs=1e-6)
    # sums to the total change, which is the recorded runs' change (gap 1e-9)
    for m, total in att.total.items():
        assert att.contributions[m].sum() == pytest.approx(total, abs=1e-6)
        assert total == pytest.approx(att.recorded[m], abs=1e-5 * max(1.0, abs(total)))
    assert att.recorded["objective"] == pytest.approx(rb.objective - ra.objective, abs=1e-6)
    # the energy caps bind in B and not in A
    assert any(att.appeared["family"] == "zone_energy")


def test_more_than_six_groups_in_stated_order(tmp_path):
    b = {
        **B,
        "exit": {"classes": ["D"]},
        "caps": {"energy_factor": 0.7},
        "switches": {"class_cap": False},
        "classes": {"floor": {"A": 0.2}, "growth": {"B": 1.2}},
        "eligibility": {"redline_threshold": 0.5},
        "objective": {"alpha_tax": 2.0},
        "energy": {"trade_price_wan_per_tce": 0.1},
    }
    case, ra, rb = runs(tmp_path, A, b)
    sa, sb = scenario_from_dict(A), scenario_from_dict(b)
    assert set(differing_keys(sa, sb)["group"]) == {
        "exit", "floors", "eligibility", "classes", "objective", "energy", "switches"
    }  # fmt: skip
    att = attribute(ra.run_path, rb.run_path, case=case, rel_gap=1e-9)
    assert att.method == "sequential"
    assert len(att.values) == 8
    assert att.contributions["objective"].sum() == pytest.approx(att.total["objective"], abs=1e-6)
    assert att.total["objective"] == pytest.approx(rb.objective - ra.objective, abs=1e-6)


def test_explain_in_compare_cli_and_workbook(tmp_path, capsys):
    from openpyxl import load_workbook

    from allocator.case.io import save_case
    from allocator.cli import main

    case = save_case(tiny_case(), tmp_path / "tiny.gpkg")
    _, ra, rb = runs(tmp_path, {**A, "case": str(case)}, {**B, "case": str(case)})
    out = tmp_path / "cmp.xlsx"
    code = main(["--lang", "en", "compare", str(ra.run_path), str(rb.run_path), "--explain",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "Shapley" in text
    assert "caps.energy_factor from 0.7 to 0.5" in text
    a, b = run_names([ra.run_path, rb.run_path], "en").values()  # never the folders
    assert f"Why {b} differs from {a} (exact Shapley" in text
    book = load_workbook(out)
    assert "Attribution" in book.sheetnames
