"""Generate the bad-input corpus: one folder per broken input.

Run from the repository root: ``python tests/data/bad/make_bad.py``. Each folder
holds the broken file(s) for one or two layers plus ``expect.toml``:

- ``replaces``: the layers whose files in the (valid) tiny case are replaced;
- ``code``, ``file``, ``layer``, ``row``, ``column``: the problem the importer
  must report (``row``/``column`` empty for file-level problems);
- ``exit``: the CLI exit code (1 = rejected; 0 = must import fine, e.g. GBK CSV);
- ``text``: a fragment of the English message.

``tests/test_case_bad.py`` writes the tiny case as GeoJSON/CSV, swaps in these
files, runs ``allocator import`` and ``allocator validate`` and checks the
message, the exit code and that nothing was written.
"""

from __future__ import annotations

import shutil
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import shapely
import tomli_w

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from allocator.case.testing import tiny_frames  # noqa: E402

CASES: dict[str, Callable[[Path], dict]] = {}


def case(fn: Callable[[Path], dict]) -> Callable[[Path], dict]:
    CASES[fn.__name__] = fn
    return fn


def _plots() -> gpd.GeoDataFrame:
    return tiny_frames()["plots"].copy()


def _firms() -> pd.DataFrame:
    return tiny_frames()["firms"].copy()


def _geojson(frame: gpd.GeoDataFrame, path: Path) -> None:
    frame.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")


def _shapefile(frame: gpd.GeoDataFrame, folder: Path, stem: str) -> list[Path]:
    frame = frame.rename(columns={"occupant_id": "occupant_i"})  # DBF: ≤ 10 characters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        frame.to_file(folder / f"{stem}.shp", encoding="utf-8")
    return sorted(folder.glob(f"{stem}.*"))


def _expect(code, file, layer, row="", column="", exit=1, text="", replaces=None) -> dict:  # noqa: A002
    return {
        "replaces": replaces or [layer],
        "code": code,
        "file": file,
        "layer": layer,
        "row": row,
        "column": column,
        "exit": exit,
        "text": text,
    }


@case
def no_crs(d: Path) -> dict:
    frame = _plots().set_crs(None, allow_override=True)
    _shapefile(frame, d, "plots")
    return _expect("crs_missing", "plots.shp", "plots", text="no coordinate reference system")


@case
def unknown_crs(d: Path) -> dict:
    _shapefile(_plots(), d, "plots")
    (d / "plots.prj").write_text('LOCAL_CS["Hangzhou city grid",UNIT["metre",1]]')
    return _expect("crs_unknown", "plots.shp", "plots", text="unknown coordinate reference")


@case
def wrong_crs_declared(d: Path) -> dict:
    # Metres of EPSG:4549 labelled as CGCS2000 degrees.
    frame = _plots().set_crs("EPSG:4490", allow_override=True)
    pyogrio.write_dataframe(frame, d / "plots.gpkg", layer="plots")
    return _expect(
        "outside_zhejiang", "plots.gpkg", "plots", "P01", "geometry", text="outside Zhejiang"
    )


@case
def self_intersection(d: Path) -> dict:
    frame = _plots()
    x0, y0, x1, y1 = frame.geometry.iloc[3].bounds
    frame.loc[3, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    _geojson(frame, d / "plots.geojson")
    return _expect(
        "geometry_repaired",
        "plots.geojson",
        "plots",
        "P04",
        "geometry",
        exit=0,
        text="repaired with make_valid",
    )


@case
def collapsed_polygon(d: Path) -> dict:
    frame = _plots()
    x0, y0, x1, _y1 = frame.geometry.iloc[4].bounds
    frame.loc[4, "geometry"] = shapely.Polygon([(x0, y0), (x1, y0), (x0 + 10, y0), (x0, y0)])
    pyogrio.write_dataframe(frame, d / "plots.gpkg", layer="plots")  # EPSG:4549: stays flat
    return _expect(
        "empty_geometry", "plots.gpkg", "plots", "P05", "geometry", text="empty after repair"
    )


@case
def empty_geometry(d: Path) -> dict:
    frame = _plots()
    frame.loc[2, "geometry"] = None
    _geojson(frame, d / "plots.geojson")
    return _expect(
        "empty_geometry", "plots.geojson", "plots", "P03", "geometry", text="geometry is empty"
    )


@case
def point_geometry(d: Path) -> dict:
    frame = _plots()
    frame.loc[1, "geometry"] = frame.geometry.iloc[1].centroid
    _geojson(frame, d / "plots.geojson")
    return _expect(
        "geometry_type", "plots.geojson", "plots", "P02", "geometry", text="not a polygon"
    )


@case
def duplicate_id(d: Path) -> dict:
    frame = _plots()
    frame.loc[2, "plot_id"] = "P02"
    _geojson(frame, d / "plots.geojson")
    return _expect("duplicate_id", "plots.geojson", "plots", "P02", "plot_id", text="duplicated")


@case
def dangling_zone_ref(d: Path) -> dict:
    frame = _plots()
    frame.loc[4, "zone_id"] = "Z99"
    _geojson(frame, d / "plots.geojson")
    return _expect(
        "dangling_ref", "plots.geojson", "plots", "P05", "zone_id", text="Z99 does not exist"
    )


@case
def dangling_occupant(d: Path) -> dict:
    frame = _plots()
    frame.loc[0, "occupant_id"] = "F999"
    _geojson(frame, d / "plots.geojson")
    return _expect(
        "dangling_ref", "plots.geojson", "plots", "P01", "occupant_id", text="F999 does not exist"
    )


@case
def dangling_locked_plot(d: Path) -> dict:
    firms = _firms()
    firms.loc[firms["firm_id"] == "A002", "locked_plots"] = "P08;P99"
    firms.to_csv(d / "firms.csv", index=False)
    return _expect(
        "dangling_ref", "firms.csv", "firms", "A002", "locked_plots", text="P99 does not exist"
    )


@case
def dangling_candidate_zone(d: Path) -> dict:
    firms = _firms()
    firms.loc[firms["firm_id"] == "A001", "candidate_zones"] = "Z01;Z77"
    firms.to_csv(d / "firms.csv", index=False)
    return _expect(
        "dangling_ref", "firms.csv", "firms", "A001", "candidate_zones", text="Z77 does not exist"
    )


@case
def dangling_access_unit(d: Path) -> dict:
    rules = tiny_frames()["access_rules"]
    rules.loc[3, "scope_id"] = "U99"
    rules.to_csv(d / "access_rules.csv", index=False)
    return _expect("dangling_ref", "access_rules.csv", "access_rules", "#4", "scope_id", text="U99")


@case
def negative_number(d: Path) -> dict:
    firms = _firms()
    firms.loc[0, "tax_wan"] = -2700
    firms.to_csv(d / "firms.csv", index=False)
    return _expect("negative", "firms.csv", "firms", "F001", "tax_wan", text="is negative")


@case
def missing_required_number(d: Path) -> dict:
    firms = _firms()
    firms.loc[2, "land_mu"] = None
    firms.to_csv(d / "firms.csv", index=False)
    return _expect(
        "missing_value", "firms.csv", "firms", "F003", "land_mu", text="land_mu is empty"
    )


@case
def not_a_number(d: Path) -> dict:
    firms = _firms().astype({"revenue_wan": object})
    firms.loc[1, "revenue_wan"] = "约三亿"
    firms.to_csv(d / "firms.csv", index=False)
    return _expect("not_a_number", "firms.csv", "firms", "F002", "revenue_wan", text="约三亿")


@case
def bad_credit_code(d: Path) -> dict:
    firms = _firms()
    code = firms.loc[1, "credit_code"]
    firms.loc[1, "credit_code"] = code[:17] + ("0" if code[17] != "0" else "1")
    firms.to_csv(d / "firms.csv", index=False)
    return _expect(
        "credit_code_check", "firms.csv", "firms", "F002", "credit_code", text="check character"
    )


@case
def bad_industry(d: Path) -> dict:
    firms = _firms()
    firms.loc[3, "industry"] = "化工"
    firms.to_csv(d / "firms.csv", index=False)
    return _expect("bad_industry", "firms.csv", "firms", "F004", "industry", text="GB/T 4754")


@case
def land_min_above_max(d: Path) -> dict:
    firms = _firms()
    firms.loc[firms["firm_id"] == "A001", "land_min_mu"] = 120.0
    firms.to_csv(d / "firms.csv", index=False)
    return _expect(
        "land_min_above_max", "firms.csv", "firms", "A001", "land_min_mu", text="exceeds maximum"
    )


@case
def unknown_unit(d: Path) -> dict:
    firms = _firms().rename(columns={"electricity_mwh": "用电量(马力)"})
    firms.to_csv(d / "firms.csv", index=False)
    return _expect(
        "unknown_unit", "firms.csv", "firms", "", "用电量(马力)", text="cannot be converted"
    )


@case
def tiny_plot_area(d: Path) -> dict:
    frame = _plots()
    x0, y0, _x1, _y1 = frame.geometry.iloc[4].bounds
    frame.loc[4, "geometry"] = shapely.box(x0, y0, x0 + 5, y0 + 5)  # 25 m² = 0.04 mu
    _geojson(frame, d / "plots.geojson")
    return _expect(
        "plot_too_small", "plots.geojson", "plots", "P05", "geometry", text="is below 0.1 mu"
    )


@case
def huge_plot_area(d: Path) -> dict:
    frame = _plots()
    x0, y0, _x1, _y1 = frame.geometry.iloc[4].bounds
    frame.loc[4, "geometry"] = shapely.box(x0, y0, x0 + 5000, y0 + 3000)  # 22,500 mu
    _geojson(frame, d / "plots.geojson")
    return _expect(
        "plot_too_large", "plots.geojson", "plots", "P05", "geometry", text="exceeds 20,000 mu"
    )


@case
def bad_land_use(d: Path) -> dict:
    frame = _plots()
    frame.loc[6, "land_use"] = "M9"
    _geojson(frame, d / "plots.geojson")
    return _expect("bad_choice", "plots.geojson", "plots", "P07", "land_use", text="'M9'")


@case
def missing_column(d: Path) -> dict:
    frame = _plots().drop(columns="land_use")
    _geojson(frame, d / "plots.geojson")
    return _expect(
        "missing_column", "plots.geojson", "plots", "", "land_use", text="land_use is missing"
    )


@case
def bad_date(d: Path) -> dict:
    lists = tiny_frames()["county_lists"]
    lists.loc[1, "valid_from"] = "2021-13-45"
    lists.to_csv(d / "county_lists.csv", index=False)
    return _expect(
        "not_a_date", "county_lists.csv", "county_lists", "#2", "valid_from", text="not a date"
    )


@case
def missing_layer(d: Path) -> dict:
    (d / "README.txt").write_text("zones layer deliberately left out\n")
    return _expect("missing_layer", "", "zones", text="zones is missing", replaces=["zones"])


@case
def empty_file(d: Path) -> dict:
    (d / "firms.csv").write_bytes(b"")
    return _expect("empty_file", "firms.csv", "firms", text="file is empty")


@case
def non_utf8_header(d: Path) -> dict:
    body = _firms().to_csv(index=False).split("\n", 1)[1].encode("utf-8")
    # A header in Latin-1 with bytes that are neither UTF-8 nor GBK (e.g. from an old export).
    header = "firm_id,name,credit_code,kind,zone_id,industry,tax_wan,r\xe9sum\xe9\xff\n"
    (d / "firms.csv").write_bytes(header.encode("latin-1") + body)
    return _expect("bad_encoding", "firms.csv", "firms", text="encoding")


@case
def gbk_csv(d: Path) -> dict:
    firms = _firms().rename(
        columns={"name": "企业名称", "credit_code": "统一社会信用代码", "tax_wan": "税收(万元)"}
    )
    firms.to_csv(d / "firms.csv", index=False, encoding="gbk")
    return _expect("", "firms.csv", "firms", exit=0, text="GBK")


@case
def bom_csv(d: Path) -> dict:
    firms = _firms().rename(columns={"name": "企业名称", "value_added_wan": "增加值"})
    firms.to_csv(d / "firms.csv", index=False, encoding="utf-8-sig")
    return _expect("", "firms.csv", "firms", exit=0, text="UTF-8-SIG")


@case
def gbk_dbf_without_cpg(d: Path) -> dict:
    frame = _plots()
    frame["note"] = "钱塘区下沙街道"
    frame = frame.rename(columns={"occupant_id": "occupant_i"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        frame.to_file(d / "plots.shp", encoding="gbk")
    (d / "plots.cpg").unlink()
    return _expect("", "plots.shp", "plots", exit=0, text="GBK")


@case
def zip_path_traversal(d: Path) -> dict:
    parts = _shapefile(_plots(), d, "plots")
    with zipfile.ZipFile(d / "plots.zip", "w") as zf:
        for p in parts:
            zf.write(p, p.name)
        zf.writestr("../evil.txt", "this must never be extracted\n")
    for p in parts:
        p.unlink()
    return _expect("zip_unsafe", "plots.zip", "plots", text="../evil.txt")


@case
def zip_absolute_path(d: Path) -> dict:
    parts = _shapefile(_plots(), d, "plots")
    with zipfile.ZipFile(d / "plots.zip", "w") as zf:
        for p in parts:
            # ZipFile.write strips a leading "/", a hand-made ZipInfo keeps it.
            zf.writestr(zipfile.ZipInfo("/tmp/allocator-evil/" + p.name), p.read_bytes())
    for p in parts:
        p.unlink()
    return _expect("zip_unsafe", "plots.zip", "plots", text="/tmp/allocator-evil/plots.shp")


@case
def zip_without_shp(d: Path) -> dict:
    with zipfile.ZipFile(d / "plots.zip", "w") as zf:
        zf.writestr("readme.txt", "no shapefile here\n")
    return _expect("zip_no_shp", "plots.zip", "plots", text="no .shp")


@case
def merged_header(d: Path) -> dict:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "class_history"
    ws.append(["企业", None, "评价"])
    ws.append(["企业编号", "年份", "评价等级"])
    for row in tiny_frames()["class_history"].itertuples(index=False):
        ws.append(list(row))
    ws.merge_cells("A1:B1")
    wb.save(d / "class_history.xlsx")
    return _expect(
        "merged_header", "class_history.xlsx[class_history]", "class_history", "1", "A1:B1",
        text="merged cells A1:B1",
    )  # fmt: skip


def main() -> None:
    for old in HERE.iterdir():
        if old.is_dir() and (old / "expect.toml").exists():
            shutil.rmtree(old)
    for name, fn in CASES.items():
        folder = HERE / name
        folder.mkdir()
        expect = fn(folder)
        with (folder / "expect.toml").open("wb") as fh:
            tomli_w.dump(expect, fh)
    print(f"wrote {len(CASES)} bad inputs to {HERE}")


if __name__ == "__main__":
    main()
