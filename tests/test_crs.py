"""Coordinates: GCJ-02/BD-09 transforms, their inverses, and areas in EPSG:4549."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from allocator import crs
from allocator.case.schema import CASE_CRS
from allocator.units import M2_PER_MU

GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid differs from GRS80 by 0.1 mm in b
W, S, E, N = crs.ZHEJIANG_BBOX


def _grid(n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.linspace(W, E, n), np.linspace(S, N, n))
    return lon.ravel(), lat.ravel()


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_known_answers():
    # Published values of the standard algorithm (e.g. coordTransform's README example point).
    lon, lat = crs.wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-12)
    assert lat == pytest.approx(39.91640428150164, abs=1e-12)
    lon, lat = crs.gcj02_to_bd09(116.404, 39.915)
    assert lon == pytest.approx(116.41036949371029, abs=1e-12)
    assert lat == pytest.approx(39.92133699351021, abs=1e-12)


def test_offset_size_in_zhejiang():
    lon, lat = _grid(30)
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    offset = _metres(lon, lat, glon, glat)
    assert offset.min() > 100  # "offset ~100-700 m"
    assert offset.max() < 800


def test_outside_china_unchanged():
    assert crs.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
        (crs.gcj02_to_bd09, crs.bd09_to_gcj02),
        (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
    ],
)
def test_round_trip_over_zhejiang(forward, inverse):
    lon, lat = _grid()
    back_lon, back_lat = inverse(*forward(lon, lat))
    err_m = _metres(lon, lat, back_lon, back_lat)
    assert err_m.max() < 0.5
    assert err_m.max() < 1e-3  # in fact sub-millimetre: the inverse is iterated to 1e-9 deg
    # and the other way round: inverse then forward lands on the web-map coordinate
    flon, flat = forward(*inverse(lon, lat))
    assert _metres(lon, lat, flon, flat).max() < 1e-3


@settings(max_examples=200, deadline=None)
@given(st.floats(W, E), st.floats(S, N))
def test_round_trip_property(lon, lat):
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    assert isinstance(back[0], float)
    assert math.hypot(back[0] - lon, back[1] - lat) < 1e-8


def test_convert_geometries_moves_every_vertex():
    lon, lat = 120.33, 30.30
    square = shapely.box(lon, lat, lon + 0.01, lat + 0.01)
    glon, glat = crs.wgs84_to_gcj02(np.array([lon, lon + 0.01]), np.array([lat, lat + 0.01]))
    gcj_square = shapely.box(glon[0], glat[0], glon[1], glat[1])
    series = gpd.GeoSeries([gcj_square, None], crs="EPSG:4326")
    out = crs.convert_geometries(series, "GCJ-02")
    assert out.crs == crs.CGCS2000
    assert out.iloc[1] is None
    assert np.allclose(
        np.asarray(out.iloc[0].exterior.coords), np.asarray(square.exterior.coords), atol=1e-8
    )
    with pytest.raises(ValueError, match="unknown source CRS"):
        crs.convert_geometries(series, "wgs99")


def test_gk_zone():
    assert crs.gk_zone_crs(118.2) == crs.ZJ_GK_CM117
    assert crs.gk_zone_crs(120.9) == crs.ZJ_GK_CM120
    assert crs.gk_zone_crs(122.3) == crs.ZJ_GK_CM123
    assert crs.ZJ_GK_CM120 == CASE_CRS


@pytest.mark.parametrize(
    ("lon", "lat"), [(118.0, 29.0), (120.33, 30.30), (123.2, 31.2), (121.97, 29.78), (119.8, 27.0)]
)
def test_area_mu_matches_geodesic(lon, lat):
    """area_mu from EPSG:4549 equals the ellipsoidal area within 0.5 % anywhere in Zhejiang."""
    from allocator.case.io import build_case  # noqa: F401 - the loader derives area_mu this way

    poly = shapely.Polygon(
        [(lon, lat), (lon + 0.004, lat), (lon + 0.005, lat + 0.003), (lon, lat + 0.0035)]
    )
    geodesic_m2 = abs(GEOD.geometry_area_perimeter(poly)[0])
    projected = gpd.GeoSeries([poly], crs=crs.CGCS2000).to_crs(CASE_CRS)
    area_mu = projected.area.iloc[0] / M2_PER_MU
    assert area_mu == pytest.approx(geodesic_m2 / M2_PER_MU, rel=0.005)


def test_tiny_case_area_is_geodesic():
    from allocator.case.testing import tiny_case

    case = tiny_case()
    geo = case.plots.to_crs(crs.CGCS2000)
    geodesic = np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in geo.geometry])
    np.testing.assert_allclose(case.plots["area_mu"], geodesic / M2_PER_MU, rtol=0.005)
