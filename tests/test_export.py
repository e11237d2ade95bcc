"""Exports of a run: vector round trips, GDAL's ogrinfo, RFC 7946, Excel, CJK font, web map,
report, bundle, CLI.

The run is a hand-made run folder on the tiny case (tests/conftest_export.py), written by
``allocator.runs.write_run`` so it follows the run-folder contract.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest_export import PLOTS, make_export_run, write_infeasible_run
from hypothesis import given
from hypothesis import strategies as st

from allocator.archive import ArchiveError
from allocator.case import load_case
from allocator.cli import main
from allocator.errors import ExportError
from allocator.export import FORMATS, export, parse_formats
from allocator.export.bundle import unpack_bundle
from allocator.export.vector import SHP_FIELDS
from allocator.kpis import kpi_label
from allocator.runs import load_run

QGIS_STYLE_COLUMNS = [
    "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
    "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time",
]  # fmt: skip
COMPARED = ["zone_id", "land_use", "area_mu", "status_before", "occupant_before",
            "firm_id_after", "outcome", "class_after", "redline_share"]  # fmt: skip


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    run_path = make_export_run(base)
    out = base / "out"
    files = export(run_path, None, out)
    return {"run": load_run(run_path), "out": out, "files": files, "base": base}


@pytest.fixture(scope="module")
def case(exported):
    return load_case(exported["run"].summary["case_path"])


def _norm(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    return v


def _assert_plots_equal(frame, run, fields=None):
    """Every plot id present once and every compared value equal to the run's table."""
    fields = fields or {c: c for c in COMPARED}
    got = frame.set_index(fields.get("plot_id", "plot_id"))
    want = run.plots.set_index("plot_id")
    assert sorted(got.index) == sorted(want.index)
    for col, name in fields.items():
        if col == "plot_id":
            continue
        for pid in want.index:
            a, b = _norm(got.loc[pid, name]), _norm(want.loc[pid, col])
            if isinstance(b, float):
                assert a == pytest.approx(b, abs=1e-9), (pid, col)
            else:
                assert a == b, (pid, col, a, b)


def _assert_geometry_close(frame, case_layer, id_col, tol):
    want = case_layer.set_index(id_col).geometry
    got = frame.set_index(id_col).geometry
    for key in want.index:
        d = shapely.hausdorff_distance(got.loc[key], want.loc[key])
        assert d <= tol, (key, d)


# ----------------------------------------------------------------------------- formats


def test_allocator_export_is_callable_after_submodule_imports(exported, tmp_path):
    import allocator
    import allocator.export.vector  # noqa: F401 - binds the package to allocator.export

    files = allocator.export(exported["run"], "xlsx", tmp_path)
    assert [f.name for f in files] == ["tables.xlsx"]


def test_parse_formats():
    assert parse_formats(None) == list(FORMATS)
    assert parse_formats("gpkg, PNG,gpkg") == ["gpkg", "png"]
    assert parse_formats(["shapefile", "excel"]) == ["shp", "xlsx"]
    with pytest.raises(ExportError, match="bogus"):
        parse_formats("gpkg,bogus")


def test_every_format_written(exported):
    out = exported["out"]
    names = {p.relative_to(out).as_posix() for p in exported["files"]}
    for need in ("allocation.gpkg", "geojson/allocation.geojson", "shapefile.zip",
                 "geoparquet/allocation.parquet", "tables.xlsx", "maps/overview.png",
                 "maps/overview.pdf", "maps/zone_Z01.png", "maps/zone_Z02.pdf", "webmap.html",
                 "report.html", "report.pdf"):  # fmt: skip
        assert need in names
    assert any(n.endswith(".zip") and n != "shapefile.zip" for n in names)
    assert all(p.exists() and p.stat().st_size > 0 for p in exported["files"])


# ----------------------------------------------------------------------------- vector


def test_gpkg_round_trip(exported, case):
    path = exported["out"] / "allocation.gpkg"
    layers = [name for name, _ in pyogrio.list_layers(path)]
    assert {"allocation", "zones", "redline", "control_units", "layer_styles"} <= set(layers)
    alloc = pyogrio.read_dataframe(path, layer="allocation")
    assert alloc.crs.to_epsg() == 4549
    _assert_plots_equal(alloc, exported["run"])
    _assert_geometry_close(alloc, case.plots, "plot_id", 1e-3)
    a = alloc.set_index("plot_id")
    f = exported["run"].firms.set_index("firm_id")
    assert a.loc["P03", "firm_name"] == f.loc["A001", "name"]
    # A001 holds P03 and P04 (90 mu each): each plot carries half its energy
    assert a.loc["P03", "firm_area_share"] == pytest.approx(0.5)
    assert a.loc["P03", "energy_tce"] == pytest.approx(0.5 * f.loc["A001", "energy_tce"])
    assert a.loc["P08", "tax_wan"] == pytest.approx(f.loc["A002", "tax_wan"])
    assert a.loc["P02", "status_after"] == "vacant"
    zones = pyogrio.read_dataframe(path, layer="zones").set_index("zone_id")
    zt = exported["run"].zones.set_index("zone_id")
    for col in ("land_used_mu", "tax_per_mu_after", "energy_cap_tce"):
        assert zones[col].to_dict() == pytest.approx(zt[col].to_dict())
    _assert_geometry_close(zones.reset_index(), case.zones, "zone_id", 1e-3)
    red = pyogrio.read_dataframe(path, layer="redline")
    _assert_geometry_close(red, case.redline, "redline_id", 1e-3)
    units = pyogrio.read_dataframe(path, layer="control_units")
    assert list(units["unit_id"]) == list(case.control_units["unit_id"])


def test_gpkg_qgis_styles(exported):
    path = exported["out"] / "allocation.gpkg"
    with sqlite3.connect(path) as con:
        cols = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
        rows = con.execute(
            "SELECT f_table_name, styleName, styleQML, styleSLD, useAsDefault, "
            "f_geometry_column FROM layer_styles"
        ).fetchall()
        geom_col = con.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name='allocation'"
        ).fetchone()[0]
    assert [c for c in cols if c != "id" and c != "fid"] == QGIS_STYLE_COLUMNS
    defaults = {}
    for table, _name, qml, sld, default, gcol in rows:
        assert gcol == geom_col
        root = ElementTree.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
        assert root.tag == "qgis"
        ElementTree.fromstring(sld.encode("utf-8"))
        if default:
            assert table not in defaults, f"two default styles for {table}"
            defaults[table] = root
    assert set(defaults) == {"allocation", "firms", "zones", "redline", "control_units"}
    renderer = defaults["allocation"].find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol"
    assert renderer.get("attr") == "outcome"
    values = {c.get("value") for c in renderer.iter("category")}
    assert values == {"kept", "new_project", "freed", "vacant", "excluded_redline"}
    labels = {c.get("label") for c in renderer.iter("category")}
    assert "新落地项目" in labels
    hatch = defaults["redline"].find(".//Option[@name='style']")
    assert hatch.get("value") == "b_diagonal"
    class_styles = [r for r in rows if r[0] == "allocation" and 'attr="class_after"' in r[2]]
    assert len(class_styles) == 1


def _no_constant(name):
    raise AssertionError(f"{name} is not JSON (RFC 8259)")


def _rings(geom):
    polys = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
    for p in polys:
        yield True, p.exterior
        for hole in p.interiors:
            yield False, hole


def _coords(obj):
    if isinstance(obj, list) and obj and isinstance(obj[0], int | float):
        yield obj
    elif isinstance(obj, list):
        for item in obj:
            yield from _coords(item)


@pytest.mark.parametrize("layer", ["allocation", "zones", "redline", "control_units"])
def test_geojson_rfc7946(exported, case, layer):
    path = exported["out"] / "geojson" / f"{layer}.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    text = path.read_text(encoding="utf-8")
    decimals = [len(m) for m in re.findall(r"-?\d+\.(\d+)(?=[,\]])", text.split('"features"')[1])]
    assert max(decimals) <= 7
    holes = 0
    for feat in doc["features"]:
        assert "crs" not in feat
        for lon, lat in (c[:2] for c in _coords(feat["geometry"]["coordinates"])):
            assert -180 <= lon <= 180
            assert -90 <= lat <= 90
            assert 118 <= lon <= 123.5  # Zhejiang: lon first, then lat
            assert 27 <= lat <= 31.5
        geom = shapely.geometry.shape(feat["geometry"])
        for exterior, ring in _rings(geom):
            assert ring.is_ccw == exterior, "RFC 7946: exterior CCW, holes CW"
            holes += not exterior
    got = gpd.GeoDataFrame.from_features(doc["features"], crs="EPSG:4326")
    id_col = {"allocation": "plot_id", "zones": "zone_id", "redline": "redline_id",
              "control_units": "unit_id"}[layer]  # fmt: skip
    want = getattr(case, "plots" if layer == "allocation" else layer).to_crs("EPSG:4326")
    _assert_geometry_close(got, want, id_col, 1e-7)
    if layer == "allocation":
        _assert_plots_equal(got, exported["run"])
        assert holes == 1  # P05's courtyard (and P01, drawn clockwise in the case)
        assert not case.plots.set_index("plot_id").geometry["P01"].exterior.is_ccw


def test_shapefile_zip(exported, case):
    path = exported["out"] / "shapefile.zip"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        for stem in ("allocation", "zones", "redline", "units"):
            for ext in ("shp", "shx", "dbf", "prj", "cpg"):
                assert f"{stem}.{ext}" in names
        assert zf.read("allocation.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
        assert "4549" in zf.read("allocation.prj").decode() or "Gauss" in zf.read(
            "allocation.prj"
        ).decode("latin-1")
        mapping = list(csv.DictReader(io.StringIO(zf.read("fields.csv").decode("utf-8-sig"))))
        assert "README.txt" in names
    assert all(len(r["shp_field"]) <= 10 for r in mapping)
    alloc_map = {r["column"]: r["shp_field"] for r in mapping if r["layer"] == "allocation"}
    assert alloc_map["firm_id_after"] == SHP_FIELDS["firm_id_after"] == "firm_after"
    shp = pyogrio.read_dataframe(f"/vsizip/{path}/allocation.shp")
    assert all(len(c) <= 10 for c in shp.columns)
    fields = {c: alloc_map[c] for c in ["plot_id", *COMPARED]}
    _assert_plots_equal(shp, exported["run"], fields)
    _assert_geometry_close(shp, case.plots, "plot_id", 1e-3)
    s = shp.set_index("plot_id")
    assert s.loc["P01", alloc_map["firm_name"]] == "杭州芯元微电子有限公司"


def test_geoparquet_round_trip(exported, case):
    alloc = gpd.read_parquet(exported["out"] / "geoparquet" / "allocation.parquet")
    assert alloc.crs.to_epsg() == 4549
    _assert_plots_equal(alloc, exported["run"])
    _assert_geometry_close(alloc, case.plots, "plot_id", 1e-3)
    zones = gpd.read_parquet(exported["out"] / "geoparquet" / "zones.parquet")
    assert sorted(zones["zone_id"]) == ["Z01", "Z02"]
    try:  # pyogrio's wheel may lack a working Parquet driver (it needs libduckdb)
        via_gdal = pyogrio.read_dataframe(exported["out"] / "geoparquet" / "allocation.parquet")
    except pyogrio.errors.DataSourceError:
        return
    _assert_plots_equal(via_gdal, exported["run"])


def _vector_files(out: Path) -> list[str]:
    files = [str(out / "allocation.gpkg"), f"/vsizip/{out / 'shapefile.zip'}"]
    files += sorted(str(p) for p in (out / "geojson").glob("*.geojson"))
    files += sorted(str(p) for p in (out / "geoparquet").glob("*.parquet"))
    return files


def test_ogrinfo_opens_every_vector_file_without_warnings(exported):
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.skip("GDAL's ogrinfo is missing (Debian package gdal-bin; .ci/run installs it)")
    drivers = subprocess.run([ogrinfo, "--formats"], capture_output=True, text=True).stdout
    checked = 0
    for f in _vector_files(exported["out"]):
        if f.endswith(".parquet") and "Parquet" not in drivers:
            continue  # this GDAL build has no Parquet driver; pyogrio's own GDAL reads it
        proc = subprocess.run([ogrinfo, "-ro", "-al", "-so", f], capture_output=True, text=True)
        assert proc.returncode == 0, (f, proc.stderr)
        noise = proc.stderr + "\n".join(
            line for line in proc.stdout.splitlines() if line.startswith(("Warning", "ERROR"))
        )
        assert "Warning" not in noise, (f, noise)
        assert "ERROR" not in noise, (f, noise)
        assert "Feature Count" in proc.stdout
        checked += 1
    assert checked >= 6


# ----------------------------------------------------------------------------- tables


def test_xlsx_workbook(exported):
    from openpyxl import load_workbook

    wb = load_workbook(exported["out"] / "tables.xlsx")
    assert wb.sheetnames[:6] == ["概要", "综保区", "企业", "地块", "情景参数", "诊断"]
    plots = wb["地块"]
    headers = [c.value for c in plots[1]]
    assert "用地面积(亩)" in headers
    assert "企业名称" in headers
    assert "能耗(吨标准煤)" in [c.value for c in wb["企业"][1]]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
    col = headers.index("用地面积(亩)") + 1
    cell = plots.cell(row=2, column=col)
    assert cell.value == pytest.approx(90.0)
    assert cell.number_format == "#,##0"  # every plot of the tiny case is a whole 90 mu
    letter = cell.column_letter
    assert plots.column_dimensions[letter].width >= 10
    outcomes = {plots.cell(row=r, column=headers.index("配置结果") + 1).value
                for r in range(2, plots.max_row + 1)}  # fmt: skip
    assert "新落地项目" in outcomes
    status_after = {plots.cell(row=r, column=headers.index("配置后状态") + 1).value
                    for r in range(2, plots.max_row + 1)}  # fmt: skip
    assert status_after == {"占用", "空置", "红线排除"}
    share = plots.cell(row=2, column=headers.index("红线占比") + 1)
    assert share.number_format == "0.0%"
    zones = wb["综保区"]
    assert "配置后亩均税收(万元/亩)" in [c.value for c in zones[1]]
    assert zones.max_row == 3
    diag = [c.value for c in wb["诊断"]["G"]]
    assert "宁波梅山综保区可用地紧张" in diag


def test_xlsx_english(exported, tmp_path):
    from openpyxl import load_workbook

    files = export(exported["run"], "xlsx", tmp_path, lang="en")
    wb = load_workbook(files[0])
    assert wb.sheetnames[:6] == ["summary", "zones", "firms", "plots", "scenario", "diagnosis"]
    assert "Area (mu)" in [c.value for c in wb["plots"][1]]


# ----------------------------------------------------------------------------- maps


def test_zone_map_uses_the_cjk_font(exported):
    import matplotlib
    from matplotlib import font_manager as fm
    from matplotlib.text import Text

    from allocator.export import fonts, maps
    from allocator.export.data import collect

    data = collect(exported["run"], lang="zh")
    fig = maps.zone_figure(data, "Z01")
    cjk_texts = []
    with matplotlib.rc_context(fonts.rc_params()):
        fig.canvas.draw()  # a missing glyph would warn here, and warnings are errors
        for text in fig.findobj(Text):
            s = text.get_text()
            if any("\u4e00" <= ch <= "\u9fff" for ch in s):
                cjk_texts.append(s)
                path = Path(fm.findfont(text.get_fontproperties(), fallback_to_default=False))
                assert fonts.has_glyphs(path, "".join(ch for ch in s if ch > "\u2e80"))
                shipped = fonts.shipped_font_path()
                if shipped is not None:
                    assert path == shipped
    matplotlib.pyplot.close(fig)
    assert any("杭州综合保税区" in s for s in cjk_texts)  # title
    assert "新落地项目" in cjk_texts  # legend
    assert "北" in cjk_texts  # north arrow


def test_shipped_font_is_installed():
    from allocator.export import fonts

    path = fonts.shipped_font_path()
    assert path is not None, "noto-cjk-sans-otc (a dependency) is not installed"
    assert fonts.has_glyphs(path)
    assert fonts.font_file() == path


def test_map_files(exported):
    from PIL import Image

    png = exported["out"] / "maps" / "zone_Z01.png"
    with Image.open(png) as im:
        dpi = im.info.get("dpi", (0, 0))
        assert round(dpi[0]) == 200
        assert im.size[0] >= 1600
    pdf = (exported["out"] / "maps" / "zone_Z01.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"/Subtype /Image" not in pdf  # vector, no raster image


def test_scale_bar_lengths():
    from allocator.export.maps import _nice_length

    assert _nice_length(2000) == 500
    assert _nice_length(180_000) == 20_000
    assert _nice_length(900) == 200


# ----------------------------------------------------------------------------- web map


def test_webmap_has_no_external_url(exported):
    page = (exported["out"] / "webmap.html").read_text(encoding="utf-8")
    allowed = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= allowed, urls - allowed
    assert not re.search(r"""<script[^>]*\bsrc\s*=""", page)
    assert not re.search(r"""<link[^>]*\bhref\s*=""", page)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?//""", page)
    assert not re.search(r"""url\(\s*["']?(?:https?:)?//""", page)
    assert not re.search(r"@import", page)
    assert "L.map(" in page
    assert "Leaflet 1.9.4" in page  # the library is inlined
    assert "L.tileLayer(" not in page  # no base tiles
    assert "sourceMappingURL" not in page
    for text in ("杭州芯元微电子有限公司", "新落地项目"):  # popup data, legend
        assert text in page or json.dumps(text)[1:-1] in page


# ----------------------------------------------------------------------------- bundle


def test_bundle_round_trip(exported, tmp_path):
    from allocator.scenario import load_scenario

    bundle = next(p for p in exported["files"] if p.suffix == ".zip" and p.name != "shapefile.zip")
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("MANIFEST.json"))
    for need in ("scenario.toml", "summary.json", "case.gpkg", "run/plots.parquet",
                 "export/allocation.gpkg", "export/tables.xlsx", "export/webmap.html",
                 "export/report.pdf", "export/maps/zone_Z01.png"):  # fmt: skip
        assert need in names
    assert {f["path"] for f in manifest["files"]} == names - {"MANIFEST.json"}
    scenario = unpack_bundle(bundle, tmp_path / "unpacked")
    assert scenario == (tmp_path / "unpacked" / "scenario.toml").resolve()
    scen = load_scenario(scenario)
    assert scen.case_path == (tmp_path / "unpacked" / "case.gpkg").resolve()
    unpacked = load_case(scen.case_path)
    assert sorted(unpacked.plots["plot_id"]) == sorted(p[0] for p in PLOTS)
    assert scen.get("objective.alpha_va") == 1.0


@pytest.mark.parametrize("member", ["../evil.txt", "/tmp/evil.txt", "a/../../evil.txt", "C:/x"])
def test_unpack_refuses_path_traversal(tmp_path, member):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("scenario.toml", 'case = "case.gpkg"\n')
        zf.writestr("case.gpkg", b"x")
        zf.writestr(member, "boom")
    dest = tmp_path / "dest"
    with pytest.raises(ArchiveError, match="指向解压文件夹之外"):
        unpack_bundle(bad, dest)
    assert not dest.exists()
    assert not (tmp_path / "evil.txt").exists()


def test_unpack_refuses_symlink_and_non_bundles(tmp_path):
    bad = tmp_path / "link.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ArchiveError, match="符号链接"):
        unpack_bundle(bad, tmp_path / "d")
    (tmp_path / "plain.zip").write_text("not a zip")
    with pytest.raises(ArchiveError, match="无法作为 zip 压缩包读取"):
        unpack_bundle(tmp_path / "plain.zip", tmp_path / "d2")
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "x")
    with pytest.raises(ExportError, match="scenario.toml"):
        unpack_bundle(empty, tmp_path / "d3")


# ----------------------------------------------------------------------------- options, CLI


def test_one_zone(exported, tmp_path):
    files = export(exported["run"], "gpkg,png", tmp_path, zone="Z02")
    alloc = pyogrio.read_dataframe(tmp_path / "allocation.gpkg", layer="allocation")
    assert set(alloc["zone_id"]) == {"Z02"}
    assert sorted(p.name for p in files if p.suffix == ".png") == ["zone_Z02.png"]
    with pytest.raises(ExportError, match="Z99"):
        export(exported["run"], "gpkg", tmp_path, zone="Z99")


SHORT_ZH = "杭州综保区能耗上限缺口 1,200 tce"


def test_run_without_solution(exported, tmp_path):
    from openpyxl import load_workbook

    run_path = write_infeasible_run(
        Path(exported["run"].summary["case_path"]), tmp_path, "Z01", SHORT_ZH,
        "Z01 energy cap short by 1,200 tce",
    )  # fmt: skip
    with pytest.raises(ExportError, match="没有可导出的配置结果"):
        export(run_path, "gpkg", tmp_path / "out")
    files = export(run_path, "xlsx,report", tmp_path / "out")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert SHORT_ZH in page
    assert "infeasible" in page
    wb = load_workbook(next(f for f in files if f.suffix == ".xlsx"))
    assert SHORT_ZH in [c.value for c in wb["诊断"]["G"]]


def test_cli_export(exported, tmp_path, capsys):
    out = tmp_path / "cli"
    rc = main(["export", str(exported["run"].path), "--format", "gpkg,xlsx", "--lang", "en",
               "--zone", "Z01", "-o", str(out)])  # fmt: skip
    assert rc == 0
    assert (out / "allocation.gpkg").exists()
    assert (out / "tables.xlsx").exists()
    assert "Wrote 2 files" in capsys.readouterr().out
    assert main(["export", str(exported["run"].path), "--format", "nope", "-o", str(out)]) == 1
    assert "nope" in capsys.readouterr().err


def test_english_zone_map_labels(exported):
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from allocator.export import maps
    from allocator.export.data import collect

    fig = maps.zone_figure(collect(exported["run"], lang="en"), "Z02")
    texts = {t.get_text() for t in fig.findobj(Text)}
    plt.close(fig)
    assert any(
        s.startswith("Ningbo Meishan CBZ: plot allocation | scenario: tiny_export") for s in texts
    )
    assert {"New project", "Excluded by red line", "Ecological red line", "N", "200 m"} <= texts


@given(st.lists(st.text(alphabet="abcdefghij_0123456789", min_size=1, max_size=30), max_size=40,
                unique=True))  # fmt: skip
def test_shapefile_field_names_unique_and_short(columns):
    from allocator.export.vector import shp_field_map

    mapping = shp_field_map(columns)
    assert list(mapping) == columns
    names = [n.lower() for n in mapping.values()]
    assert len(set(names)) == len(names)
    assert all(1 <= len(n) <= 10 for n in names)


def test_zone_panels_split_far_apart_parts_only():
    import shapely

    from allocator.export.maps import zone_panels

    main = shapely.box(0, 0, 2000, 1500)
    near = shapely.box(2300, 0, 2800, 600)  # 300 m away: same panel
    far = shapely.box(9000, -6000, 9600, -5500)  # ~10 km away: its own panel
    assert zone_panels(main) == [main.bounds]
    assert zone_panels(shapely.MultiPolygon([main, near])) == [(0.0, 0.0, 2800.0, 1500.0)]
    panels = zone_panels(shapely.MultiPolygon([far, main, near]))
    assert panels == [(0.0, 0.0, 2800.0, 1500.0), far.bounds]  # largest cluster first
    many = shapely.MultiPolygon([shapely.box(i * 20e3, 0, i * 20e3 + 500, 500) for i in range(5)])
    assert zone_panels(many) == [many.bounds]  # more than MAX_PANELS: one frame


def test_zone_map_of_a_two_part_zone_has_a_panel_per_part(exported):
    import matplotlib.pyplot as plt
    import shapely
    from matplotlib.text import Text

    from allocator.export import maps
    from allocator.export.data import collect

    data = collect(exported["run"], lang="zh")
    zones = data.layers["zones"]
    i = zones.index[zones["zone_id"] == "Z01"][0]
    g = zones.at[i, "geometry"]
    minx, miny, maxx, maxy = g.bounds
    far = shapely.box(maxx + 20e3, miny, maxx + 20e3 + 400, miny + 300)
    zones.at[i, "geometry"] = shapely.MultiPolygon([*getattr(g, "geoms", [g]), far])
    fig = maps.zone_figure(data, "Z01")
    axes = fig.axes
    texts = {t.get_text() for t in fig.findobj(Text)}
    plt.close(fig)
    assert len(axes) == 2
    assert {"片区 1/2", "片区 2/2"} <= texts
    assert fig.get_suptitle().startswith("杭州综合保税区地块配置")
    x0, x1 = axes[1].get_xlim()
    assert x0 < far.centroid.x < x1
    assert axes[0].get_xlim()[1] < far.bounds[0]  # the main panel is not zoomed out to both
    assert fig.get_figheight() < maps.FIGSIZE[1]  # one row of panels: a shorter page


def test_report_numbers_read_as_planners_expect(exported):
    from allocator.export.data import collect
    from allocator.export.tables import scenario_frame, summary_rows

    data = collect(exported["run"], lang="zh")
    rows = dict(summary_rows(data))
    assert rows["相对间隙"].endswith("%")
    admitted = data.run.kpis.get("applicants_admitted")
    assert admitted is not None
    assert admitted > 0
    assert rows[kpi_label("applicants_admitted", "zh")] == int(admitted)
    assert isinstance(rows[kpi_label("applicants_admitted", "zh")], int)
    assert rows[kpi_label("tax_wan", "zh")] == pytest.approx(data.run.kpis.get("tax_wan"))
    scen = scenario_frame(data).set_index("key")
    assert scen.loc["caps.energy_factor", "description"] == "所有园区能耗上限的倍数"


def test_webmap_pins_zone_names_and_uses_a_metric_scale(exported):

    page = (exported["out"] / "webmap.html").read_text(encoding="utf-8")
    assert "L.control.scale({imperial: false})" in page
    assert "control.scale()" not in page.replace(" ", "")
    labels = json.loads(re.search(r"(\[\{\"label\".*?\}\])\.forEach", page).group(1))
    assert {z["label"] for z in labels} == {"杭州综合保税区", "宁波梅山综合保税区"}
    for z in labels:
        (s, w), (n, e) = z["bounds"]
        assert s <= z["lat"] <= n
        assert w <= z["lon"] <= e
