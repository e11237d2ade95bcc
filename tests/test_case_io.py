"""Round trips of the canonical case GeoPackage and the tiny test case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from allocator.case import load_case, save_case, split_list, validate_case
from allocator.case.schema import ALL_LAYERS, CASE_CRS
from allocator.case.testing import tiny_case
from allocator.errors import CaseError


@pytest.fixture(scope="module")
def tiny():
    return tiny_case()


def test_tiny_case_is_valid(tiny):
    assert tiny.problems == []
    assert validate_case(tiny) == []
    assert len(tiny.zones) == 2
    assert len(tiny.plots) == 9
    assert len(tiny.applicants) == 2
    assert len(tiny.existing) == 4
    assert tiny.plots.crs == CASE_CRS
    np.testing.assert_allclose(tiny.plots["area_mu"], 90.0)
    np.testing.assert_allclose(tiny.zones["area_mu"], 2250.0)


def test_round_trip(tiny, tmp_path):
    path = save_case(tiny, tmp_path / "case.gpkg")
    names = {n for n, _ in pyogrio.list_layers(path)}
    assert names == {n for n in ALL_LAYERS if n != "admin"}
    back = load_case(path)
    assert back.content_hash() == tiny.content_hash()
    for name in tiny.LAYER_NAMES:
        a, b = getattr(tiny, name), getattr(back, name)
        if a is None:
            assert b is None
            continue
        pd.testing.assert_frame_equal(
            pd.DataFrame(a).drop(columns="geometry", errors="ignore"),
            pd.DataFrame(b).drop(columns="geometry", errors="ignore"),
        )
        if "geometry" in a.columns:
            assert a.geometry.geom_equals_exact(b.geometry, 1e-6).all()
    assert back.source == path


def test_dtypes(tiny):
    firms = tiny.firms
    assert firms["tax_wan"].dtype == np.float64
    assert firms["locked"].dtype == bool
    assert pd.api.types.is_string_dtype(firms["firm_id"])
    assert tiny.class_history["year"].dtype == np.int64
    assert pd.api.types.is_datetime64_any_dtype(tiny.county_lists["valid_from"])
    assert pd.isna(tiny.county_lists["valid_to"].iloc[0])
    assert isinstance(tiny.plots.index, pd.RangeIndex)


def test_load_reprojects_4490(tiny, tmp_path):
    path = save_case(tiny, tmp_path / "case.gpkg")
    # Rewrite the plots layer in CGCS2000 geographic: areas must not change.
    plots = tiny.plots.drop(columns="area_mu").to_crs("EPSG:4490")
    pyogrio.write_dataframe(plots, path, layer="plots", driver="GPKG")
    back = load_case(path)
    assert back.plots.crs == CASE_CRS
    np.testing.assert_allclose(back.plots["area_mu"], 90.0, rtol=1e-6)


def test_save_is_atomic(tiny, tmp_path, monkeypatch):
    import allocator.case.io as io_mod

    path = tmp_path / "case.gpkg"
    path.write_bytes(b"old")
    real = io_mod.pyogrio.write_dataframe
    calls = []

    def failing(*args, **kwargs):
        calls.append(kwargs.get("layer"))
        if len(calls) == 5:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(io_mod.pyogrio, "write_dataframe", failing)
    with pytest.raises(OSError, match="disk full"):
        save_case(tiny, path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["case.gpkg"]


def test_load_missing_file(tmp_path):
    with pytest.raises(CaseError, match="nope.gpkg"):
        load_case(tmp_path / "nope.gpkg")


def test_load_reports_all_errors(tiny, tmp_path):
    path = save_case(tiny, tmp_path / "case.gpkg")
    firms = tiny.firms.copy()
    firms.loc[0, "tax_wan"] = -5
    firms.loc[1, "zone_id"] = "Z99"
    pyogrio.write_dataframe(firms.astype({"firm_id": object}), path, layer="firms", driver="GPKG")
    with pytest.raises(CaseError) as info:
        load_case(path)
    codes = {(p.code, p.row, p.column) for p in info.value.problems if p.severity == "error"}
    assert ("negative", "F001", "tax_wan") in codes
    assert ("dangling_ref", "F002", "zone_id") in codes


def test_split_list():
    assert split_list("Z01; Z02;;") == ["Z01", "Z02"]
    assert split_list(None) == []
    assert split_list(float("nan")) == []
    assert split_list(pd.NA) == []
    assert split_list("Z01；Z03") == ["Z01", "Z03"]
    assert split_list("") == []


def test_make_valid_repairs_and_warns(tiny, tmp_path):
    path = save_case(tiny, tmp_path / "case.gpkg")
    plots = tiny.plots.drop(columns="area_mu").copy()
    x0, y0, x1, y1 = plots.geometry.iloc[3].bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    plots.loc[3, "geometry"] = bowtie
    pyogrio.write_dataframe(plots, path, layer="plots", driver="GPKG")
    back = load_case(path)
    warn = [p for p in back.problems if p.code == "geometry_repaired"]
    assert len(warn) == 1
    assert warn[0].row == "P04"
    assert back.plots.geometry.is_valid.all()
