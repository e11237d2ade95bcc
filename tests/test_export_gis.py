"""GIS layers in planner terms: plot sums in QGIS match the run, codes carry Chinese words.

A firm's quantities are on its plots as its share by area, so summing a column
over the plot layer of the GeoPackage (what a planner does in QGIS) gives the
run's totals; before, a firm on two plots was counted twice.
"""

from __future__ import annotations

import shutil
import subprocess

import pyogrio
import pytest
from conftest_export import make_export_run

from allocator.export import export
from allocator.runs import load_run

SUMMED = ("electricity_mwh", "energy_tce", "value_added_wan", "tax_wan")
"""Plot-layer columns whose sum over the layer is a KPI of the same name."""


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory):
    base = tmp_path_factory.mktemp("gis")
    run_path = make_export_run(base)
    export(run_path, "gpkg", base / "out")
    return {"run": load_run(run_path), "path": base / "out" / "allocation.gpkg"}


def test_plot_layer_sums_match_the_runs_totals(gpkg):
    plots = pyogrio.read_dataframe(gpkg["path"], layer="allocation")
    kpis = gpkg["run"].kpis
    # the tiny run's A001 holds two plots (P03, P04): its figures must not count twice
    assert (plots["firm_id_after"] == "A001").sum() == 2
    for col in SUMMED:
        assert plots[col].sum() == pytest.approx(kpis[col], rel=1e-9), col
    held = plots[plots["firm_id_after"].notna()]
    assert held.groupby("firm_id_after")["firm_area_share"].sum().tolist() == pytest.approx(
        [1.0] * held["firm_id_after"].nunique()
    )


def test_coded_values_have_a_chinese_label_column(gpkg):
    plots = pyogrio.read_dataframe(gpkg["path"], layer="allocation")
    pairs = dict(zip(plots["outcome"], plots["outcome_label"], strict=True))
    assert pairs["new_project"] == "新落地项目"
    assert dict(zip(plots["status_after"], plots["status_after_label"], strict=True)) == {
        "occupied": "占用",
        "vacant": "空置",
        "excluded": "红线排除",
    }


def test_ogrinfo_shows_the_labels_and_the_aliases_are_stored(gpkg):
    import sqlite3

    con = sqlite3.connect(gpkg["path"])
    aliases = dict(
        con.execute(
            "SELECT column_name, name FROM gpkg_data_columns WHERE table_name = 'allocation'"
        ).fetchall()
    )
    con.close()
    assert aliases["electricity_mwh"] == "用电量(兆瓦时)"
    if shutil.which("ogrinfo") is None:
        pytest.skip("GDAL's ogrinfo is not installed here")
    out = subprocess.run(
        ["ogrinfo", "-q", str(gpkg["path"]), "allocation", "-where", "plot_id = 'P03'"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "outcome_label (String) = 新落地项目" in out
