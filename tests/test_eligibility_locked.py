"""A lock does not override eligibility (MODEL.md ``locked``), on the tiny two-zone case.

A002 (梅山国际冷链物流有限公司, G5960 cold-chain logistics, 80–90 mu, candidate
Z02) is locked on P08 (W warehouse land, vacant, 90 mu, in Z02, control unit
U02): eligible as shipped. Each test breaks one eligibility test of that
parcel and expects the presolve proof to name the project, the plot and the
test, and the model to leave the pair out (so the case is infeasible).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
import shapely

from allocator.case.io import build_case
from allocator.case.testing import PLOT_H_M, PLOT_W_M, tiny_frames
from allocator.diagnose import presolve_checks
from allocator.errors import ProblemList
from allocator.prepare import prepare
from allocator.scenario import scenario_from_dict
from allocator.solve import run_model, solve

NAME = "梅山国际冷链物流有限公司"


def tiny_with(edit: Callable[[dict[str, pd.DataFrame]], None]):
    """Return the tiny case after ``edit`` changed its raw frames."""
    frames = tiny_frames()
    edit(frames)
    problems = ProblemList()
    case = build_case(frames, problems)
    problems.raise_if_errors("tiny case")
    assert case is not None
    return case


def plot_box(frames: dict[str, pd.DataFrame], plot_id: str) -> tuple[float, float, float, float]:
    plots = frames["plots"]
    return plots.geometry[plots["plot_id"] == plot_id].iloc[0].bounds


def firm_row(frames: dict[str, pd.DataFrame], firm_id: str) -> pd.Series:
    return frames["firms"]["firm_id"] == firm_id


def redline_on_p08(frames):
    x0, y0, _, _ = plot_box(frames, "P08")
    frames["redline"] = frames["redline"].set_geometry(
        [shapely.MultiPolygon([shapely.box(x0 + 100, y0 - 50, x0 + 200, y0 + 100)])]
    )


def u02_prohibits_g59(frames):
    extra = pd.DataFrame(
        [("unit", "U02", "G59", "prohibit", "测试：禁止仓储")],
        columns=frames["access_rules"].columns,
    )
    frames["access_rules"] = pd.concat([frames["access_rules"], extra], ignore_index=True)


def p08_industrial(frames):
    frames["plots"].loc[frames["plots"]["plot_id"] == "P08", "land_use"] = "M1"


def a002_wants_z01(frames):
    frames["firms"].loc[firm_row(frames, "A002"), "candidate_zones"] = "Z01"


def a002_small(frames):
    frames["firms"].loc[firm_row(frames, "A002"), ["land_min_mu", "land_max_mu"]] = [10.0, 50.0]


def z02_catalogue_without_g59(frames):
    cat = frames["catalogue"]
    frames["catalogue"] = cat[cat["industry_prefix"] != "G59"].reset_index(drop=True)


CASES = [
    # (edit, scenario, failed test, planner's word for it in zh)
    (redline_on_p08, {}, "redline", "生态保护红线"),
    (u02_prohibits_g59, {}, "access_list", "准入清单"),
    (p08_industrial, {}, "land_use", "用地性质"),
    (a002_wants_z01, {}, "zone", "候选园区"),
    (a002_small, {}, "size", "面积"),
    (z02_catalogue_without_g59, {"eligibility": {"catalogue": True}}, "catalogue", "招商目录"),
]


def locked_proofs(prep):
    return [
        (f.code, f.firm_id, f.plot_id, f.reason)
        for f in presolve_checks(prep)
        if f.severity == "infeasible"
    ]


def a002_pairs(prep) -> set[str]:
    d = prep.data
    return {d.parcel_ids[b] for f, b in zip(d.cand_firm, d.cand_parcel, strict=True)
            if d.firm_ids[f] == "A002"}  # fmt: skip


def test_shipped_lock_is_eligible_and_admitted():
    prep = prepare(tiny_with(lambda frames: None), scenario_from_dict({}))
    assert locked_proofs(prep) == []
    assert a002_pairs(prep) == {"P08"}
    assert prep.candidates.locked["eligible"].tolist() == [True]


@pytest.mark.parametrize(("edit", "overrides", "code", "word"), CASES)
def test_ineligible_lock_is_proven_infeasible(edit, overrides, code, word):
    prep = prepare(tiny_with(edit), scenario_from_dict(overrides))
    # P08 alone is the parcel, so the size test names it too
    assert locked_proofs(prep) == [("locked_ineligible", "A002", "P08", code)]
    hit = next(f for f in presolve_checks(prep) if f.code == "locked_ineligible")
    assert hit.firm_name == NAME
    for text in (NAME, "A002", "P08", word):
        assert text in hit.message_zh
    assert "A002" in hit.message_en
    assert "P08" in hit.message_en
    assert "does not override eligibility" in hit.message_en
    # the model gets no pair for the lock, so it cannot admit A002 silently
    assert a002_pairs(prep) == set()
    assert prep.data.parcel_ids[prep.data.locked_parcel[prep.data.firm_ids.index("A002")]] == "P08"


def test_size_proof_gives_area_and_request():
    prep = prepare(tiny_with(a002_small), scenario_from_dict({}))
    hit = next(f for f in presolve_checks(prep) if f.code == "locked_ineligible")
    assert hit.need == pytest.approx(PLOT_W_M * PLOT_H_M / (10_000 / 15))
    assert (hit.have, hit.unit) == (50.0, "亩")
    assert "10–50" in hit.message_zh


def test_ineligible_lock_solves_infeasible():
    prep = prepare(tiny_with(p08_industrial), scenario_from_dict({}))
    assert run_model(prep).status == "infeasible"
    result = solve(prep.scenario, prepared=prep, write=False)
    assert result.status == "infeasible"
    proofs = [p for p in result.diagnosis.proofs if p.code == "locked_ineligible"]
    assert [(p.subject_kind, p.subject_id, p.plot_id, p.test) for p in proofs] == [
        ("firm", "A002", "P08", "land_use")
    ]
    # the elastic diagnosis can only relax A002's lock (served, and on P08): its project
    # row and its parcel row are one repair, listed once
    relaxed = [(r.family, r.subject_id) for r in result.diagnosis.relaxations]
    assert relaxed == [("locked", "A002")]
