"""Coordinate systems: CGCS2000, Zhejiang Gauss-Kruger zones, GCJ-02 and BD-09.

AMap/Tencent boundaries are in GCJ-02 and Baidu's in BD-09, offset by up to
~700 m from CGCS2000/WGS84 (which agree to well under a metre for planning
purposes). PROJ has no code for them: the forward transforms below are the
standard published algorithms, and the inverses are solved iteratively to
better than 1e-9 degrees (≈ 0.1 mm), so a round trip is exact for our needs.
All functions are vectorised over numpy arrays and also accept floats.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely

CGCS2000 = "EPSG:4490"
"""CGCS2000 geographic (lon/lat); treated as equal to WGS84."""
ZJ_GK_CM117 = "EPSG:4548"
"""CGCS2000 / 3-degree Gauss-Kruger CM 117E (westernmost Zhejiang)."""
ZJ_GK_CM120 = "EPSG:4549"
"""CGCS2000 / 3-degree Gauss-Kruger CM 120E: the case CRS; all areas come from it."""
ZJ_GK_CM123 = "EPSG:4550"
"""CGCS2000 / 3-degree Gauss-Kruger CM 123E (Zhoushan islands)."""
ZHEJIANG_BBOX = (118.0, 27.0, 123.2, 31.2)
"""Zhejiang's bounding box (lon_min, lat_min, lon_max, lat_max)."""
WEB_CRSES = ("gcj02", "bd09")
"""Names accepted by ``--source-crs``."""
ZHEJIANG_MARGIN_DEG = 0.5
"""Margin around :data:`ZHEJIANG_BBOX` (about 50 km) before a point counts as outside."""


def require_in_zhejiang(lon: float, lat: float, what: str = "") -> None:
    """Raise when a lon/lat point lies outside Zhejiang (with :data:`ZHEJIANG_MARGIN_DEG`).

    A point far outside the province touches no zone, red line or control unit,
    so every check on it would pass: an error is the only honest answer.

    Raises
    ------
    CaseError
        Naming the point (and ``what`` it came from) and the province's box.
    """
    from allocator.errors import CaseError
    from allocator.i18n import t

    x0, y0, x1, y1 = ZHEJIANG_BBOX
    m = ZHEJIANG_MARGIN_DEG
    if not (x0 - m <= lon <= x1 + m and y0 - m <= lat <= y1 + m):
        raise CaseError(
            t("crs.outside_zhejiang", what=what, lon=f"{lon:.6f}", lat=f"{lat:.6f}"),
            hint=t("crs.hint.outside_zhejiang", box=f"{x0}–{x1}E, {y0}–{y1}N"),
        )


_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
INVERSE_TOLERANCE_DEG = 1e-9
"""The iterative inverses stop once the forward image is within this of the target."""
_MAX_ITER = 50


def gk_zone_crs(lon: float) -> str:
    """Return the Zhejiang 3-degree Gauss-Kruger CRS whose central meridian is nearest ``lon``."""
    cm = 3 * round(lon / 3)
    return {117: ZJ_GK_CM117, 120: ZJ_GK_CM120, 123: ZJ_GK_CM123}.get(cm, ZJ_GK_CM120)


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return True where GCJ-02 applies (the published rough China box)."""
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 (lon, lat)."""
    x, y = lon - 105.0, lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _arrays(lon: object, lat: object) -> tuple[np.ndarray, np.ndarray, bool]:
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return x, y, x.ndim == 0 and y.ndim == 0


def _out(lon: np.ndarray, lat: np.ndarray, scalar: bool) -> tuple:
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def wgs84_to_gcj02(lon: object, lat: object) -> tuple:
    """Convert WGS84/CGCS2000 lon/lat to GCJ-02 (no change outside China)."""
    lon, lat, scalar = _arrays(lon, lat)
    dlon, dlat = _delta(lon, lat)
    inside = _in_china(lon, lat)
    return _out(np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat), scalar)


def gcj02_to_bd09(lon: object, lat: object) -> tuple:
    """Convert GCJ-02 lon/lat to Baidu BD-09."""
    x, y, scalar = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006, scalar)


def _bd09_to_gcj02_approx(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple],
    lon: np.ndarray,
    lat: np.ndarray,
    start: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x) = target`` by fixed-point iteration from ``start``.

    The offsets vary slowly (their derivative is ~1e-5), so ``x ← x − (f(x) − t)``
    contracts fast: 2–4 iterations reach 1e-9 degrees.
    """
    x, y = (np.array(a, dtype=float, copy=True) for a in start)
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x -= ex
        y -= ey
        err = np.maximum(np.abs(ex), np.abs(ey))
        if not np.any(err >= INVERSE_TOLERANCE_DEG):
            break
    return x, y


def gcj02_to_wgs84(lon: object, lat: object) -> tuple:
    """Convert GCJ-02 lon/lat to WGS84/CGCS2000 (exact iterative inverse)."""
    lon, lat, scalar = _arrays(lon, lat)
    lon1, lat1 = np.atleast_1d(lon), np.atleast_1d(lat)
    x, y = _invert(wgs84_to_gcj02, lon1, lat1, (lon1, lat1))
    return _out(x.reshape(lon.shape), y.reshape(lat.shape), scalar)


def bd09_to_gcj02(lon: object, lat: object) -> tuple:
    """Convert Baidu BD-09 lon/lat to GCJ-02 (exact iterative inverse)."""
    lon, lat, scalar = _arrays(lon, lat)
    lon1, lat1 = np.atleast_1d(lon), np.atleast_1d(lat)
    x, y = _invert(gcj02_to_bd09, lon1, lat1, _bd09_to_gcj02_approx(lon1, lat1))
    return _out(x.reshape(lon.shape), y.reshape(lat.shape), scalar)


def wgs84_to_bd09(lon: object, lat: object) -> tuple:
    """Convert WGS84/CGCS2000 lon/lat to Baidu BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: object, lat: object) -> tuple:
    """Convert Baidu BD-09 lon/lat to WGS84/CGCS2000."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}


def normalize_web_crs(name: str) -> str:
    """Map spellings such as ``GCJ-02``, ``gcj02``, ``BD09`` to ``gcj02``/``bd09``."""
    key = name.lower().replace("-", "").replace("_", "")
    if key not in _TO_WGS84:
        raise ValueError(f"unknown source CRS {name!r}; use one of {', '.join(WEB_CRSES)}")
    return key


def convert_geometries(geoseries: gpd.GeoSeries, source_crs: str) -> gpd.GeoSeries:
    """Convert lon/lat geometries in GCJ-02 or BD-09 to CGCS2000 (EPSG:4490).

    The input's own CRS label (if any) is ignored: web-map coordinates are
    usually labelled EPSG:4326 although they are offset. Every vertex is
    moved with ``shapely.transform`` in one vectorised call.
    """
    inverse = _TO_WGS84[normalize_web_crs(source_crs)]

    def move(coords: np.ndarray) -> np.ndarray:
        lon, lat = inverse(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    geoms = shapely.transform(np.asarray(geoseries.array, dtype=object), move)
    return gpd.GeoSeries(geoms, index=geoseries.index, crs=CGCS2000)
