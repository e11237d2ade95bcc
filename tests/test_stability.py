"""Stability against an approved plan on the tiny case, checked by brute force.

N = 0 returns the approved plan; N = k the best plan with at most k changes
(brute-force enumeration, changes counted here); an approved plan the new
caps or eligibility forbid is diagnosed by firm and plots.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_alternatives import plot_firm_ids
from test_model_bruteforce import all_plans

from allocator.analysis.stability import change_curve, stability
from allocator.case.testing import tiny_case
from allocator.cli import main
from allocator.errors import AllocatorError
from allocator.scenario import scenario_from_dict
from allocator.solve import solve

BASE = {"name": "stab", "exit": {"classes": ["A", "B", "C", "D"]}, "service_floor": 0.8}


def scen(**caps):
    return scenario_from_dict({**BASE, "caps": caps} if caps else BASE)


def write_table(path, rows):
    pd.DataFrame(rows, columns=["firm_id", "plot_ids"]).to_csv(path, index=False)
    return path


def outcome(prep, a: dict) -> dict[str, tuple[bool, tuple[str, ...]]]:
    d = prep.data
    out = {}
    for f, fid in enumerate(d.firm_ids):
        b = int(a["parcel"][f])
        plots = tuple(d.plot_ids[p] for p in d.parcel_plots(b)) if b >= 0 else ()
        out[fid] = (bool(a["y"][f]), plots)
    return out


def n_changes(prep, a: dict, approved: dict[str, tuple[str, ...]]) -> int:
    """Plots reassigned + firms whose outcome differs, against ``approved`` (firm → plots)."""
    d = prep.data
    before = {p: None for p in d.plot_ids}
    for p, occ in zip(d.plot_ids, d.plot_occupant, strict=True):
        if occ >= 0 and d.firm_ids[occ] in approved and not d.firm_applicant[occ]:
            before[p] = d.firm_ids[occ]
    for fid, plots in approved.items():
        for p in plots:
            before[p] = fid
    now = plot_firm_ids(prep, a)
    plots_changed = sum(before[p] != now[p] for p in d.plot_ids)
    firms = outcome(prep, a)
    firms_changed = sum(
        (fid in approved, tuple(sorted(approved.get(fid, ())))) != (s, tuple(sorted(pl)))
        for fid, (s, pl) in firms.items()
    )
    return plots_changed + firms_changed


@pytest.mark.parametrize(
    "approved",
    [
        {"F001": (), "F002": (), "F003": (), "F004": (), "A001": ("P03",), "A002": ("P08",)},
        {"F001": (), "F003": (), "F004": (), "A002": ("P08",)},
    ],
)
def test_change_limit_against_a_table_known_answers(tmp_path, approved):
    table = write_table(tmp_path / "approved.csv", [(f, ";".join(p)) for f, p in approved.items()])
    curve = change_curve(scen(), [0, 1, 2, 3, 6], approved=table, case=tiny_case(), rel_gap=1e-9)
    s0 = stability(scen(), approved=table, max_changes=0, case=tiny_case(), rel_gap=1e-9)
    prep = s0.result.prepared
    plans = list(all_plans(prep.data, prep.params))
    # N = 0: the approved plan itself, at its brute-force value
    assert s0.n_changes == 0
    assert s0.changes.empty
    firms = s0.result.firms[["firm_id", "served", "plot_ids"]].itertuples(index=False)
    got = {fid: (bool(s), tuple(p.split(";")) if isinstance(p, str) else ()) for fid, s, p in firms}
    want = {fid: (fid in approved, approved.get(fid, ())) for fid in prep.data.firm_ids}
    assert got == want
    value = [v for v, a in plans if n_changes(prep, a, approved) == 0]
    assert s0.result.objective == pytest.approx(value[0], abs=1e-6)
    for row in curve.itertuples():
        expected = max(v for v, a in plans if n_changes(prep, a, approved) <= row.max_changes)
        assert row.objective == pytest.approx(expected, abs=1e-6)
        assert row.changes <= row.max_changes
        assert row.gain_wan == pytest.approx(expected - value[0], abs=1e-6)


def test_changes_listed_with_their_gain(tmp_path):
    approved = {"F001": (), "F003": (), "F004": (), "A002": ("P08",)}
    table = write_table(tmp_path / "a.csv", [(f, ";".join(p)) for f, p in approved.items()])
    s = stability(scen(), approved=table, max_changes=10, case=tiny_case(), rel_gap=1e-9)
    ch = s.changes.set_index("firm_id")
    assert ch.loc["F002", "change"] == "returned"
    assert ch.loc["A001", "change"] == "admitted"
    assert ch["delta_value_added_wan"].sum() == pytest.approx(
        s.result.firms["value_added_wan"].sum() - s.approved_result.firms["value_added_wan"].sum()
    )
    assert s.firms_changed == len(ch)
    path = s.write(tmp_path / "runs")
    assert len(pd.read_csv(path / "changes.csv")) == len(ch)


def test_change_limit_zero_infeasible_names_forbidden_assignments(tmp_path):
    """Approved under the case's caps; the new caps force F004 out; P09 is not A001's candidate."""
    ok = solve(scen(), case=tiny_case(), out_dir=tmp_path / "runs")
    s = stability(scen(energy_factor=0.4), approved=ok.run_path, max_changes=0, case=tiny_case())
    assert s.result.status == "infeasible"
    items = s.result.diagnosis.items
    assert {(i.code, i.subject_id) for i in items} >= {("approved_forbidden_by_caps", "F004")}
    assert all(i.family == "change_limit" and i.subject_kind == "firm" for i in items)
    prep = s.result.prepared
    named = {i.subject_id for i in items}
    approved = {f: () for f in ("F001", "F002", "F003", "F004")} | {
        "A001": ("P05",),
        "A002": ("P08",),
    }
    keep = [
        a for _, a in all_plans(prep.data, prep.params)
        if all(outcome(prep, a)[f] == (True, approved[f]) for f in approved if f not in named)
    ]  # fmt: skip
    assert keep, "the named assignments are not enough to explain the infeasibility"
    assert not [
        a for _, a in all_plans(prep.data, prep.params) if n_changes(prep, a, approved) == 0
    ]
    # an approved assignment that is no longer a candidate pair
    table = write_table(tmp_path / "t.csv", [("F001", ""), ("A001", "P09"), ("A002", "P08")])
    s = stability(scen(), approved=table, max_changes=0, case=tiny_case())
    item = next(i for i in s.result.diagnosis.items if i.code == "approved_not_candidate")
    assert (item.subject_id, item.row) == ("A001", "P09")
    assert "P09" in item.label_en


def test_bad_approved_table_is_refused_with_row_and_column(tmp_path):
    table = write_table(tmp_path / "bad.csv", [("F001", ""), ("NOPE", "P01")])
    with pytest.raises(AllocatorError, match=r"第 3 行，列 firm_id"):
        stability(scen(), approved=table, max_changes=0, case=tiny_case())
    table = write_table(tmp_path / "bad2.csv", [("A001", "P99")])
    with pytest.raises(AllocatorError, match=r"第 2 行，列 plot_ids"):
        stability(scen(), approved=table, max_changes=0, case=tiny_case())


def test_stability_cli_curve(tmp_path):
    from allocator.case.io import save_case

    case = tmp_path / "tiny.gpkg"
    save_case(tiny_case(), case)
    table = write_table(tmp_path / "a.csv", [("F001", ""), ("F003", ""), ("A002", "P08")])
    scen_path = tmp_path / "s.toml"
    scen_path.write_text(
        f'name = "s"\ncase = "{case.as_posix()}"\nservice_floor = 0.8\n'
        '[exit]\nclasses = ["A", "B", "C", "D"]\n'
        f'[stability]\napproved = "{table.name}"\nmax_changes = 2\n'
    )
    out = tmp_path / "out"
    assert (
        main(["--lang", "en", "stability", str(scen_path), "--curve", "0,2,4", "--out", str(out)])
        == 0
    )
    curve = pd.read_csv(next(out.glob("s-stability*")) / "curve.csv")
    assert curve["max_changes"].tolist() == [0, 2, 4]
    assert curve["objective"].is_monotonic_increasing
