"""AppTest: the compare page attributes the difference between two real runs of the tiny case."""

from __future__ import annotations

from app_helpers import open_page, texts, write_tiny_case

from allocator.scenario import scenario_from_dict
from allocator.solve import solve

EXIT_ALL = {"classes": ["A", "B", "C", "D"]}


def test_compare_page_shows_the_attribution(tmp_path, monkeypatch):
    case = write_tiny_case(tmp_path)
    runs = tmp_path / "runs"
    common = {"case": str(case), "exit": EXIT_ALL}
    a = solve(
        scenario_from_dict({**common, "name": "a", "service_floor": 0.8}),
        out_dir=runs,
        rel_gap=1e-9,
    ).run_path
    b = solve(
        scenario_from_dict(
            {**common, "name": "b", "service_floor": 0.3, "caps": {"energy_factor": 0.5}}
        ),
        out_dir=runs,
        rel_gap=1e-9,
    ).run_path
    monkeypatch.setenv("ALLOCATOR_CASE", str(case))
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(runs))
    at = open_page("compare", lang="en")
    at.multiselect(key="compare_runs").set_value([str(a), str(b)]).run()
    labels = list(at.dataframe[0].value.columns)  # runs named by scenario and time
    assert all(x.startswith(("a · ", "b · ")) for x in labels), labels
    at.selectbox(key="compare_base").set_value(str(a)).run()  # the base run, chosen
    assert "Attribution: which parameter groups made the difference" in texts(at)
    at.button(key="compare_attribution").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[-1].value
    groups = list(table.iloc[:, 0])
    assert groups[:2] == ["caps", "floors"]
    assert "caps: caps.energy_factor from 1.0 to 0.5" in groups
    objective = table.iloc[:, 1]
    assert abs(objective.iloc[0] + objective.iloc[1] - objective.iloc[2]) < 1e-6
