"""Importing planners' files: formats, Chinese headers, units, encodings, web-map CRSes."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from allocator.case import import_case, load_case
from allocator.case.importers import add_industry_section, map_header, read_source
from allocator.case.schema import ALL_LAYERS
from allocator.case.testing import tiny_case, tiny_frames
from allocator.crs import wgs84_to_bd09, wgs84_to_gcj02
from allocator.errors import CaseError, ProblemList

EXAMPLE = Path(__file__).parent / "data" / "import_example"


@pytest.fixture(scope="module")
def tiny():
    return tiny_case()


def _same_as_tiny(case, tiny, geom_tol=1.0):
    for name in ("zones", "plots", "redline", "control_units"):
        a, b = getattr(tiny, name), getattr(case, name)
        assert list(a[ALL_LAYERS[name].id_column]) == list(b[ALL_LAYERS[name].id_column])
        assert (a.geometry.symmetric_difference(b.geometry).area < geom_tol).all(), name
    cols = [c for c in tiny.firms.columns]
    pd.testing.assert_frame_equal(tiny.firms[cols], case.firms[cols], check_exact=False)
    for name in ("class_history", "access_rules", "catalogue", "land_use_rules", "county_lists"):
        pd.testing.assert_frame_equal(
            getattr(tiny, name), getattr(case, name)[list(getattr(tiny, name).columns)]
        )


def test_import_example(tiny, tmp_path):
    out = tmp_path / "case.gpkg"
    case, report = import_case(EXAMPLE, out)
    assert out.exists()
    _same_as_tiny(case, tiny)
    _same_as_tiny(load_case(out), tiny)
    text = "\n".join(report)
    assert "税收(万元)" in text
    assert "electricity_mwh" in text
    assert "GBK" in text
    np.testing.assert_allclose(case.plots["area_mu"], 90.0, rtol=1e-6)


@pytest.mark.parametrize(
    ("header", "column", "factor"),
    [
        ("企业名称", "name", 1.0),
        ("统一社会信用代码", "credit_code", 1.0),
        ("税收", "tax_wan", 1.0),
        ("税收(万元)", "tax_wan", 1.0),
        ("税收（元）", "tax_wan", 1e-4),
        ("增加值", "value_added_wan", 1.0),
        ("营业收入", "revenue_wan", 1.0),
        ("用地面积(亩)", "land_mu", 1.0),
        ("用地面积(平方米)", "land_mu", 0.0015),
        ("综合能耗", "energy_tce", 1.0),
        ("用电量(万千瓦时)", "electricity_mwh", 10.0),
        ("用电量（万kWh）", "electricity_mwh", 10.0),
        ("用电量(MWh)", "electricity_mwh", 1.0),
        ("用电量万千瓦时", "electricity_mwh", 10.0),
        ("研发经费", "rd_wan", 1.0),
        ("从业人数", "employees", 1.0),
        ("职工人数", "employees", 1.0),
        ("行业代码", "industry", 1.0),
        ("TAX_WAN", "tax_wan", 1.0),
    ],
)
def test_firm_headers(header, column, factor):
    col, f, _unit = map_header(header, ALL_LAYERS["firms"])
    assert col == column
    assert f == pytest.approx(factor)


def test_layer_specific_headers():
    assert map_header("地块编号", ALL_LAYERS["plots"])[0] == "plot_id"
    assert map_header("编号", ALL_LAYERS["plots"])[0] == "plot_id"
    assert map_header("编号", ALL_LAYERS["zones"])[0] == "zone_id"
    assert map_header("用地性质", ALL_LAYERS["plots"])[0] == "land_use"
    assert map_header("化学需氧量(吨)", ALL_LAYERS["control_units"])[0] == "cap_cod_t"
    assert map_header("化学需氧量(吨)", ALL_LAYERS["firms"])[0] == "cod_t"
    col, factor, unit = map_header("用电量(马力)", ALL_LAYERS["firms"])
    assert col == "electricity_mwh"
    assert np.isnan(factor)
    assert unit == "马力"


def test_industry_sections():
    codes, count = add_industry_section(pd.Series(["3973", "c 39", "G5932", None, "0511", "6520"]))
    assert list(codes[:3]) == ["C3973", "C39", "G5932"]
    assert pd.isna(codes[3])
    assert codes[4] == "A0511"
    assert codes[5] == "I6520"
    assert count == 3


def _write_folder(tmp_path: Path, frames: dict, skip=()) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    for name, frame in frames.items():
        if name in skip:
            continue
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_file(folder / f"{name}.geojson", driver="GeoJSON")
        else:
            frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.mark.parametrize(("web", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_source_crs_web(tiny, tmp_path, web, forward):
    frames = tiny_frames()
    for name in ("zones", "plots", "redline", "control_units"):
        g = frames[name].to_crs("EPSG:4326")
        moved = shapely.transform(
            g.geometry.values, lambda xy: np.column_stack(forward(xy[:, 0], xy[:, 1]))
        )
        frames[name] = g.set_geometry(gpd.GeoSeries(moved, crs="EPSG:4326"))
    folder = _write_folder(tmp_path, frames)
    # Imported without conversion, everything is shifted by ~500 m.
    shifted, _ = import_case(folder, tmp_path / "shifted.gpkg")
    offset = shifted.plots.centroid.distance(tiny.plots.centroid)
    assert offset.min() > 100
    case, report = import_case(folder, tmp_path / "fixed.gpkg", source_crs=web)
    assert case.plots.centroid.distance(tiny.plots.centroid).max() < 0.5
    assert any(web.upper() in line for line in report)


def test_source_crs_assigned_when_missing(tiny, tmp_path):
    frames = tiny_frames()
    folder = _write_folder(tmp_path, frames, skip=("plots",))
    # A Shapefile without .prj; DBF names cut to 10 characters as GDAL does (occupant_i).
    plots = frames["plots"].rename(columns={"occupant_id": "occupant_i"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "no CRS" warning from the writer
        plots.set_crs(None, allow_override=True).to_file(folder / "plots.shp")
    with pytest.raises(CaseError, match="plots"):
        import_case(folder, tmp_path / "a.gpkg")
    case, _ = import_case(folder, tmp_path / "b.gpkg", source_crs="EPSG:4549")
    np.testing.assert_allclose(case.plots["area_mu"], 90.0)


def test_workbook_source(tiny, tmp_path):
    # A single workbook with tables, next to the spatial files.
    frames = tiny_frames()
    folder = _write_folder(
        tmp_path, frames, skip=("firms", "class_history", "catalogue", "county_lists")
    )
    with pd.ExcelWriter(folder / "数据.xlsx", engine="openpyxl") as xl:
        frames["firms"].to_excel(xl, sheet_name="企业", index=False)
        frames["class_history"].to_excel(xl, sheet_name="评价结果", index=False)
        frames["catalogue"].to_excel(xl, sheet_name="一区一策", index=False)
        frames["county_lists"].to_excel(xl, sheet_name="县名单", index=False)
    case, _ = import_case(folder, tmp_path / "c.gpkg")
    _same_as_tiny(case, tiny)


def test_read_source_reports_two_sources(tmp_path):
    folder = tmp_path / "src"
    shutil.copytree(EXAMPLE, folder)
    shutil.copy(folder / "企业.csv", folder / "firms.csv")
    problems = ProblemList()
    read_source(folder, problems)
    assert [p.code for p in problems.errors] == ["two_sources"]
    assert problems.errors[0].layer == "firms"


def test_corrupt_layer_file_is_a_located_problem(tmp_path):
    """A file that fails to parse is reported against its name, not a TypeError."""
    folder = tmp_path / "src"
    shutil.copytree(EXAMPLE, folder)
    for old in folder.glob("企业.*"):
        old.unlink()
    (folder / "firms.xlsx").write_bytes(b"not a workbook at all")
    problems = ProblemList()
    read_source(folder, problems)
    bad = [p for p in problems.errors if p.code == "unreadable"]
    assert [(p.file, p.layer) for p in bad] == [("firms.xlsx", "firms")]
    assert "firms.xlsx" in bad[0].message


def test_web_crs_on_projected_layer_is_refused(tmp_path):
    with pytest.raises(CaseError) as info:
        import_case(EXAMPLE, tmp_path / "x.gpkg", source_crs="gcj02")
    codes = {(p.code, p.layer) for p in info.value.problems if p.severity == "error"}
    assert ("web_crs_projected", "plots") in codes
    assert not (tmp_path / "x.gpkg").exists()


def test_unknown_source_crs(tmp_path):
    with pytest.raises(CaseError, match="EPSG:999999"):
        import_case(EXAMPLE, tmp_path / "x.gpkg", source_crs="EPSG:999999")


def test_single_geopackage_source_with_chinese_layer_names(tiny, tmp_path):
    import pyogrio

    src = tmp_path / "交付.gpkg"
    names = {"zones": "园区", "plots": "地块", "firms": "企业", "class_history": "评价结果"}
    for name, frame in tiny_frames().items():
        layer = names.get(name, name)
        if isinstance(frame, gpd.GeoDataFrame):
            pyogrio.write_dataframe(
                frame.to_crs("EPSG:4490"), src, layer=layer, append=src.exists()
            )
        else:
            pyogrio.write_dataframe(frame, src, layer=layer, append=src.exists())
    case, _ = import_case(src, tmp_path / "case.gpkg")
    _same_as_tiny(case, tiny)
