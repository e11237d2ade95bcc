"""GIS layers in planner terms: sums in QGIS match the run, codes carry Chinese words.

A firm's quantities are on its plots as its share by area, and once on the firm
layer (one feature per firm served, at its plots' union), so summing a column
over either layer of the GeoPackage (what a planner does in QGIS) gives the
run's totals; before, a firm on two plots was counted twice. Layers carry
Chinese titles and field aliases (``gpkg_contents``, ``gpkg_data_columns``, the
default QGIS styles), Shapefile field names are documented and distinct.
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


def _ogrinfo(*args):
    if shutil.which("ogrinfo") is None:
        pytest.skip("GDAL's ogrinfo is not installed here")
    return subprocess.run(["ogrinfo", *map(str, args)], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


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


def test_firm_layer_has_one_feature_per_firm_and_sums_to_the_runs_totals(gpkg):
    firms = pyogrio.read_dataframe(gpkg["path"], layer="firms")
    run = gpkg["run"]
    served = run.firms[run.firms["served"]]
    assert sorted(firms["firm_id"]) == sorted(served["firm_id"])
    for col in SUMMED:
        assert firms[col].sum() == pytest.approx(run.kpis[col], rel=1e-9), col
    a001 = firms.set_index("firm_id").loc["A001"]
    # the firm's own figures (not a share) on the union of its two plots
    assert a001["electricity_mwh"] == 20000.0
    assert (a001["plot_count"], a001["plot_ids"]) == (2, "P03,P04")
    plots = pyogrio.read_dataframe(gpkg["path"], layer="allocation").set_index("plot_id")
    union = plots.loc[["P03", "P04"]].geometry.union_all()
    assert a001.geometry.symmetric_difference(union).area == pytest.approx(0.0, abs=1e-6)
    assert firms.loc[firms["firm_id"] == "F001", "firm_kind_label"].item() == "现有企业"


def test_layers_have_chinese_titles_and_their_styles_chinese_aliases(gpkg):
    out = _ogrinfo("-so", gpkg["path"], "firms")
    assert "IDENTIFIER=企业" in out
    assert "DESCRIPTION=每家获得配置的企业一行" in out
    assert "IDENTIFIER=地块配置" in _ogrinfo("-so", gpkg["path"], "allocation")
    styles = _ogrinfo("-q", gpkg["path"], "layer_styles", "-where", "useAsDefault = 1")
    assert "styleName (String) = 地块配置：按配置结果" in styles
    assert "styleName (String) = 企业：按企业分类" in styles
    assert '<alias field="electricity_mwh" index=' in styles
    assert 'name="用电量(兆瓦时)"/>' in styles
    assert 'name="地块数(块)"/>' in styles  # the firm layer's plot count


def test_shapefile_fields_are_documented_distinct_and_explained_beside_them(tmp_path):
    """The solver's zone columns (A-class flags, marginal values) get documented short names."""
    import csv
    import io
    import zipfile

    from conftest_export import export_case, export_result

    from allocator.case import save_case
    from allocator.export.vector import SHP_FIELDS
    from allocator.runs import write_run

    result = export_result(save_case(export_case(), tmp_path / "tiny.gpkg"))
    zones = result.zones
    zones["a_class_before"] = [True, False]
    zones["a_class_after"] = [True, True]
    zones["electricity_marginal_wan_per_mwh"] = [0.0, 1.5]
    zones["energy_marginal_wan_per_tce"] = [11.0, 0.0]
    zones["intensity_marginal_wan_per_tce"] = [0.0, 0.0]
    zones["intensity_tce_per_wan"] = [0.4, 0.3]  # beside the marginal value: distinct names
    files = export(write_run(result, tmp_path / "runs"), "shp", tmp_path / "out")
    with zipfile.ZipFile(files[0]) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("fields.csv").decode("utf-8-sig"))))
        names = set(zf.namelist())
    assert {"firms.shp", "firms.dbf", "allocation.shp", "zones.shp", "README.txt"} <= names
    undocumented = [r["column"] for r in rows if r["column"] not in SHP_FIELDS]
    assert undocumented == []
    for layer in {r["layer"] for r in rows}:
        fields = [r["shp_field"].lower() for r in rows if r["layer"] == layer]
        assert len(fields) == len(set(fields)), layer
    zone_map = {r["column"]: r for r in rows if r["layer"] == "zones"}
    assert zone_map["intensity_marginal_wan_per_tce"]["shp_field"] == "intens_mv"
    assert (
        zone_map["intensity_marginal_wan_per_tce"]["label_zh"] == "能耗强度边际价值(万元/吨标准煤)"
    )
    assert zone_map["intensity_tce_per_wan"]["shp_field"] == "intensity"
