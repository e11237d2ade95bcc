from __future__ import annotations

import pandas as pd
import pytest
from test_prepare import hand_prepare
from test_runs import fake_result

from allocator.compare import compare
from allocator.errors import AllocatorError
from allocator.runs import write_run


def test_compare_two_runs(tmp_path):
    prep = hand_prepare({"exit": {"classes": ["D"]}})
    base = fake_result(prep)
    base.marginals = pd.DataFrame(
        {"row": ["zone_energy[Z1]"], "family": ["zone_energy"], "zone_id": ["Z1"],
         "unit_id": [None], "value": [0.0], "unit": ["万元/tce"], "slack": [10.0],
         "binding": [False]}
    )  # fmt: skip
    other = fake_result(prep)
    firms = other.firms.copy()
    i = firms.index[firms["firm_id"] == "A1"][0]
    firms.loc[i, ["served", "value_added_wan"]] = [False, 0.0]
    other.firms = firms
    plots = other.plots.copy()
    plots.loc[plots["plot_id"].isin(["P3", "P4"]), ["outcome", "firm_id_after"]] = ["vacant", None]
    other.plots = plots
    zones = other.zones.copy()
    zones.loc[zones["zone_id"] == "Z1", "land_used_mu"] -= 35.0
    other.zones = zones
    other.marginals = base.marginals.assign(value=[3.5], binding=[True], slack=[0.0])
    p1 = write_run(base, tmp_path)
    p2 = write_run(other, tmp_path)
    cmp = compare([p1, p2])
    assert cmp.labels == [p1.name, p2.name]
    assert cmp.kpis.loc["value_added_wan", p1.name] == pytest.approx(2950.0)
    assert cmp.kpis.loc["value_added_wan", p2.name] == pytest.approx(1450.0)
    assert cmp.kpis.loc["applicants_admitted", p2.name] == 1
    assert set(cmp.plots["plot_id"]) == {"P3", "P4"}
    lost = cmp.firms.set_index("firm_id").loc["A1"]
    assert lost["change"] == "lost"
    assert lost["binding_changed"] == "zone_energy[Z1]"
    assert list(cmp.binding["row"]) == ["zone_energy[Z1]"]
    z = cmp.zones[cmp.zones["metric"] == "land_used_mu"].set_index("zone_id")
    assert z.loc["Z1", f"delta_{p2.name}"] == pytest.approx(-35.0)


def test_compare_needs_two():
    with pytest.raises(AllocatorError, match="at least two"):
        compare([fake_result(hand_prepare())])
