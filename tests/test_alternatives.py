"""Near-optimal alternatives on the tiny case, against the brute-force enumeration of all plans.

Each plan's objective is within X of the brute-force optimum and equals the
brute-force value of its own assignment; the distances in ``alternatives.csv``
are recomputed from the written run folders' plot tables; the robust core is
the set of assignments common to the brute-force plans the alternatives are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_model_bruteforce import all_plans

from allocator.analysis.alternatives import alternatives
from allocator.case.testing import tiny_case
from allocator.cli import main
from allocator.runs import load_run
from allocator.scenario import scenario_from_dict

SCENARIOS = {
    "exits": {"name": "alt", "exit": {"classes": ["C", "D"]}},
    "floors": {"name": "alt", "exit": {"classes": ["B", "C", "D"]}, "service_floor": 0.5},
}


def plot_firm_ids(prep, a: dict) -> dict[str, str | None]:
    """Plot id → firm id under brute-force assignment ``a`` (written from the case's rules)."""
    d = prep.data
    out: dict[str, str | None] = {}
    for p, pid in enumerate(d.plot_ids):
        occ = int(d.plot_occupant[p])
        keep = occ >= 0 and a["y"][occ] and not d.firm_applicant[occ]
        out[pid] = d.firm_ids[occ] if keep else None
    for f in range(d.n_firms):
        if a["parcel"][f] >= 0:
            for p in d.parcel_plots(int(a["parcel"][f])):
                out[d.plot_ids[p]] = d.firm_ids[f]
    return out


def written_assignment(run_path: Path) -> dict[str, str | None]:
    plots = pd.read_parquet(run_path / "plots.parquet")
    firm = plots["firm_id_after"].astype(object).where(plots["firm_id_after"].notna(), None)
    return dict(zip(plots["plot_id"].astype(str), firm, strict=True))


@pytest.mark.parametrize("weight", ["auto", None])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_alternatives_within_x_with_real_distances_and_core(tmp_path, name, weight):
    within = 0.5
    alt = alternatives(
        scenario_from_dict(SCENARIOS[name]),
        case=tiny_case(),
        k=4,
        within=within,
        rel_gap=1e-9,
        distance_weight_wan=weight,
    )
    prep = alt.results[0].prepared
    plans = list(all_plans(prep.data, prep.params))
    best = max(v for v, _ in plans)
    assert alt.results[0].objective == pytest.approx(best, abs=1e-6)
    assert len(alt.results) >= 3
    folder = alt.write(tmp_path)
    table = pd.read_csv(folder / "alternatives.csv")
    assert list(table.columns[:6]) == ["k", "objective", "best_bound", "gap", "run", "min_distance"]
    assigned = [written_assignment(Path(r)) for r in table["run"]]
    matched = []
    for row, plots in zip(table.itertuples(), assigned, strict=True):
        # within X of the brute-force optimum, and the best value of its own assignment
        assert row.objective >= best - within * abs(best) - 1e-6
        values = [v for v, a in plans if plot_firm_ids(prep, a) == plots]
        assert values, "a plan that is not a feasible assignment"
        assert row.objective == pytest.approx(max(values), abs=1e-6)
        matched.append(next(a for v, a in plans if plot_firm_ids(prep, a) == plots))
        # the reported distances are the real ones
        real = [
            sum(plots[p] != other[p] for p in plots) for other in assigned if other is not plots
        ]
        assert row.min_distance == min(real)
        assert row.min_distance >= 1
        run = load_run(row.run)
        assert run.status in ("optimal", "feasible")
    # the robust core: brute-forced assignments common to every plan found
    maps = [plot_firm_ids(prep, a) for a in matched]
    common = {(p, f) for p, f in maps[0].items() if f is not None and all(m[p] == f for m in maps)}
    core = pd.read_csv(folder / "core.csv", dtype=str)
    assert set(zip(core["plot_id"], core["firm_id"], strict=True)) == common
    presence = pd.read_csv(folder / "presence.csv", dtype=str).set_index("plot_id")["presence"]
    for p in maps[0]:
        firms = {m[p] for m in maps}
        kind = "every" if (p, maps[0][p]) in common else ("none" if firms == {None} else "some")
        assert presence[p] == kind


def test_pure_max_min_second_plan_is_farthest():
    """Plan 2 (pure max-min) is as far from plan 1 as any near-optimal plan (brute force)."""
    within = 0.3
    alt = alternatives(
        scenario_from_dict(SCENARIOS["exits"]),
        case=tiny_case(),
        k=2,
        within=within,
        rel_gap=1e-9,
        distance_weight_wan=None,
    )
    prep = alt.results[0].prepared
    plans = list(all_plans(prep.data, prep.params))
    best = max(v for v, _ in plans)
    first = alt.results[0].plots.set_index("plot_id")["firm_id_after"]
    first_map = {str(p): (None if pd.isna(f) else f) for p, f in first.items()}
    expected = max(
        sum(plot_firm_ids(prep, a)[p] != first_map[p] for p in first_map)
        for v, a in plans
        if v >= best - within * abs(best) - 1e-7
    )
    assert expected > 0
    assert alt.table["min_distance"].tolist() == [expected, expected]


def test_alternatives_cli_writes_folders_and_csv(tmp_path):
    scen = tmp_path / "s.toml"
    case_path = tmp_path / "tiny.gpkg"
    from allocator.case.io import save_case

    save_case(tiny_case(), case_path)
    scen.write_text(
        f'name = "tiny"\ncase = "{case_path.as_posix()}"\n[exit]\nclasses = ["C", "D"]\n'
    )
    out = tmp_path / "out"
    assert main(["--lang", "en", "alternatives", str(scen), "--k", "3", "--within", "0.5",
                 "--out", str(out)]) == 0  # fmt: skip
    folder = next(out.glob("tiny-alternatives-*"))
    table = pd.read_csv(folder / "alternatives.csv")
    assert table["k"].tolist() == [1, 2, 3]
    assert all((Path(r) / "summary.json").exists() for r in table["run"])
    assert (folder / "presence.gpkg").exists()
    assert main(["alternatives", str(scen), "--within", "3"]) == 1  # refused, names --within
    assert not np.any([p.name.startswith(".tmp") for p in out.iterdir()])
