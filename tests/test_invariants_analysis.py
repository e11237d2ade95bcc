"""The invariant checker verifies the analysis families on their written runs.

Alternatives: each plan's objective ≥ its floor, and ``min_distance`` in
``alternatives.csv`` is the recounted distance; stability: the changes
against the approved plan, recounted from the tables, are the reported ones
and within ``max_changes``. Each check is shown to fail on a tampered folder.
"""

from __future__ import annotations

import json

import pandas as pd

from allocator.analysis.alternatives import alternatives
from allocator.analysis.stability import stability
from allocator.case.testing import tiny_case
from allocator.invariants import check_result
from allocator.runs import load_run
from allocator.scenario import scenario_from_dict

EXIT_ALL = {"classes": ["A", "B", "C", "D"]}


def families(run, case) -> set[str]:
    return {v.family for v in check_result(run, case, run.scenario)}


def test_alternative_runs_pass_and_tampering_fails(tmp_path):
    case = tiny_case()
    alt = alternatives(
        scenario_from_dict({"name": "alt", "exit": EXIT_ALL}), case=case, k=3, within=0.5
    )
    folder = alt.write(tmp_path)
    table = pd.read_csv(folder / "alternatives.csv")
    for r in table["run"]:
        assert check_result(load_run(r), case, load_run(r).scenario) == []
    # a reported distance that is not the real one
    bad = table.copy()
    bad.loc[1, "min_distance"] += 1
    bad.to_csv(folder / "alternatives.csv", index=False)
    assert families(load_run(bad.loc[1, "run"]), case) == {"distance_to"}
    table.to_csv(folder / "alternatives.csv", index=False)
    # a floor the plan does not meet
    info_path = load_run(table.loc[2, "run"]).path / "analysis.json"
    info = json.loads(info_path.read_text())
    info["objective_floor"] = table.loc[2, "objective"] + 10.0
    info_path.write_text(json.dumps(info))
    assert families(load_run(table.loc[2, "run"]), case) == {"objective_floor"}


def test_stability_run_passes_and_tampering_fails(tmp_path):
    case = tiny_case()
    pd.DataFrame(
        {"firm_id": ["F001", "F003", "F004", "A002"], "plot_ids": ["", "", "", "P08"]}
    ).to_csv(tmp_path / "a.csv", index=False)
    scen = scenario_from_dict({"name": "s", "exit": EXIT_ALL, "service_floor": 0.8})
    s = stability(scen, approved=tmp_path / "a.csv", max_changes=10, case=case)
    assert s.n_changes > 0
    path = s.write(tmp_path / "runs")
    assert check_result(load_run(path), case, load_run(path).scenario) == []
    info = json.loads((path / "analysis.json").read_text())
    info["max_changes"] = s.n_changes - 1
    (path / "analysis.json").write_text(json.dumps(info))
    assert families(load_run(path), case) == {"change_limit"}
    info["max_changes"], info["plots_changed"] = 10, s.plots_changed + 1
    (path / "analysis.json").write_text(json.dumps(info))
    assert families(load_run(path), case) == {"change_limit"}
