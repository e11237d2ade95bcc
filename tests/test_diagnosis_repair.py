"""The diagnosis' joint repair: raising the caps it names gives a plan, floors and locks kept."""

from __future__ import annotations

from app_helpers import write_tiny_case

from allocator import Diagnosis, load_scenario, repair_overrides, solve
from allocator.diagnosis import REPAIR_KEYS


def test_the_joint_repair_gives_a_plan_where_the_split_blame_does_not(tmp_path):
    """Every zone's energy cut to 0 %: the first elastic re-solve also bends a
    staying firm's service floor, so raising the caps by its amounts leaves no
    plan; the repair re-solve keeps the floor and says what the caps need."""
    case = write_tiny_case(tmp_path)
    cut = load_scenario("scenarios/baseline.toml").with_overrides(
        {"case": str(case), "caps.energy_factor": 0.0}
    )
    first = solve(cut)
    assert str(first.status) == "infeasible"
    diag = first.diagnosis
    assert any(i.family not in REPAIR_KEYS for i in diag.relaxations)  # the floor is bent
    split = solve(cut.with_overrides(repair_overrides(diag.relaxations)))
    assert str(split.status) == "infeasible"

    assert diag.repair_status is not None
    assert diag.repair
    assert all(i.family in REPAIR_KEYS for i in diag.repair)
    fixed = solve(cut.with_overrides(repair_overrides(diag.repair)))
    assert fixed.has_solution, fixed.status
    # the repair asks for at least what the split blame asked, cap by cap
    need = repair_overrides(diag.repair)
    for key, value in repair_overrides(diag.relaxations).items():
        assert need[key] >= value
    assert Diagnosis.from_json(diag.to_json()) == diag
