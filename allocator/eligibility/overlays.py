"""Overlays of plots (or any polygons) with the red line, the control units and the zones."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from allocator.eligibility._arrays import _clean, _geoms, _positions, _text
from allocator.units import M2_PER_MU

ZONE_TOLERANCE_M = 1.0
"""A plot counts as inside its zone when within the zone grown by this much (metres)."""
DISTANCE_CAP_M = 500.0
"""Default search radius for ``redline_distance_m`` in :func:`plot_overlays`."""
OVERLAY_COLUMNS = (
    "redline_share",
    "redline_mu",
    "redline_distance_m",
    "unit_id",
    "unit_ids",
    "unit_category",
    "in_zone",
)


def redline_parts(case: Any, buffer_m: float = 0.0) -> np.ndarray:
    """Return the dissolved red line (grown by ``buffer_m``) as disjoint polygon parts."""
    red = _clean(_geoms(case.redline))
    if len(red) == 0:
        return np.zeros(0, dtype=object)
    bad = ~shapely.is_valid(red)
    if bad.any():  # the loader repairs geometry; a hand-made case may not have been
        red = red.copy()
        red[bad] = shapely.make_valid(red[bad])
    merged = shapely.union_all(red)
    if buffer_m > 0:
        merged = shapely.buffer(merged, buffer_m, quad_segs=16)  # as GeoSeries.buffer
    parts = shapely.get_parts(merged)
    parts = parts[shapely.get_type_id(parts) == 3]  # polygons only
    parts = parts[shapely.area(parts) > 0]
    return parts


def overlap_areas(
    geoms: np.ndarray, polys: np.ndarray, touched: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return pairs ``(i, j, area_m2)`` where ``geoms[i]`` and ``polys[j]`` share positive area.

    The tree is built on ``polys`` and queried with every geometry; a pair
    whose plot lies properly inside the polygon takes the plot's area, others
    get ``shapely.intersection`` (boundary plots only). When ``touched`` (a
    bool array, one per geometry) is given, it is set for every geometry that
    intersects some polygon at all, touching included.
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(polys) == 0 or len(geoms) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    tree = shapely.STRtree(polys)
    i, j = tree.query(geoms, predicate="intersects")
    if touched is not None:
        touched[i] = True
    shapely.prepare(polys)
    inside = shapely.contains_properly(polys[j], geoms[i])
    area = np.empty(len(i))
    area[inside] = shapely.area(geoms[i[inside]])
    cut = ~inside
    if cut.any():
        area[cut] = shapely.area(shapely.intersection(geoms[i[cut]], polys[j[cut]]))
    keep = area > 0
    return i[keep], j[keep], area[keep]


def redline_distance(
    geoms: np.ndarray,
    parts: np.ndarray,
    cap_m: float | None = DISTANCE_CAP_M,
    touched: np.ndarray | None = None,
) -> np.ndarray:
    """Return each geometry's distance (m) to the nearest of ``parts`` (NaN beyond ``cap_m``)."""
    geoms = np.asarray(geoms, dtype=object)
    dist = np.full(len(geoms), np.nan)
    if len(parts) == 0 or len(geoms) == 0:
        return dist
    tree = shapely.STRtree(parts)
    if touched is None:
        touched = np.zeros(len(geoms), dtype=bool)
        touched[tree.query(geoms, predicate="intersects")[0]] = True
    dist[touched] = 0.0
    rest = np.flatnonzero(~touched)
    if len(rest) == 0 or (cap_m is not None and cap_m <= 0):
        return dist
    if cap_m is None:
        (qi, _tj), d = tree.query_nearest(geoms[rest], return_distance=True, all_matches=False)
        dist[rest[qi]] = d
        return dist
    # candidates: plot boxes meeting red-line boxes grown by the cap; one exact distance each
    # (cheaper than the 'dwithin' predicate, which computes the distance twice)
    grown = shapely.bounds(parts) + np.array([-cap_m, -cap_m, cap_m, cap_m])
    qi, tj = shapely.STRtree(shapely.box(*grown.T)).query(geoms[rest])
    if len(qi):
        d = shapely.distance(geoms[rest[qi]], parts[tj])
        best = np.full(len(rest), np.inf)
        np.minimum.at(best, qi, d)
        hit = best <= cap_m
        dist[rest[hit]] = best[hit]
    return dist


def _majority(
    n: int, i: np.ndarray, j: np.ndarray, area: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return per item the polygon with most area (-1: none) and the sorted id lists."""
    best = np.full(n, -1, dtype=np.int64)
    joined = np.full(n, None, dtype=object)
    if len(i) == 0:
        return best, joined
    rank = np.argsort(np.argsort(ids.astype(str), kind="stable"), kind="stable")
    order = np.lexsort((rank[j], -area, i))
    i_s, j_s = i[order], j[order]
    first = np.unique(i_s, return_index=True)[1]
    best[i_s[first]] = j_s[first]
    counts = np.bincount(i_s, minlength=n)
    joined[counts == 1] = ids[best[counts == 1]]
    multi = counts > 1
    if multi.any():
        sel = multi[i_s]
        mi, mj = i_s[sel], j_s[sel]
        order = np.lexsort((rank[mj], mi))  # by item, then by id
        mi, mj = mi[order], mj[order]
        start = np.r_[0, np.flatnonzero(mi[1:] != mi[:-1]) + 1]
        pos = np.arange(len(mi)) - np.repeat(start, np.diff(np.r_[start, len(mi)]))
        text = ids[mj].astype(str).astype(object)
        acc = text[start].copy()
        for r in range(1, int(pos.max()) + 1):  # loop over list positions, not items
            at = np.flatnonzero(pos == r)
            grp = np.searchsorted(start, at, side="right") - 1
            acc[grp] = acc[grp] + ";" + text[at]
        joined[mi[start]] = acc
    return best, joined


def overlay_geometries(
    geoms: np.ndarray,
    case: Any,
    *,
    buffer_m: float = 0.0,
    zone_index: np.ndarray | None = None,
    distance_cap_m: float | None = DISTANCE_CAP_M,
    parts: np.ndarray | None = None,
) -> pd.DataFrame:
    """Overlay arbitrary polygons (EPSG:4549) with the case's red line, units and zones.

    ``zone_index`` gives each geometry's zone (row of ``case.zones``, -1 none)
    for ``in_zone``; when None the zone holding most of the geometry is used
    (and returned as ``zone_row``). Returns a positional DataFrame with the
    :data:`OVERLAY_COLUMNS`.
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    area = shapely.area(geoms)
    if parts is None:
        parts = redline_parts(case, buffer_m)
    touched = np.zeros(n, dtype=bool)
    ri, _rj, ra = overlap_areas(geoms, parts, touched)
    red_m2 = np.bincount(ri, weights=ra, minlength=n) if n else np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(area > 0, np.minimum(red_m2 / area, 1.0), 0.0)
    if buffer_m <= 0:  # the same red line: reuse who touches it
        dist = redline_distance(geoms, parts, distance_cap_m, touched)
    else:
        dist = redline_distance(geoms, redline_parts(case, 0.0), distance_cap_m)

    units = case.control_units
    ugeoms = _geoms(units)
    uids = _text(units["unit_id"]) if len(ugeoms) else np.zeros(0, dtype=object)
    ucat = _text(units["category"]) if len(ugeoms) else np.zeros(0, dtype=object)
    ui, uj, ua = overlap_areas(geoms, ugeoms)
    best, joined = _majority(n, ui, uj, ua, uids)
    has = best >= 0
    unit_id = np.full(n, None, dtype=object)
    unit_cat = np.full(n, None, dtype=object)
    unit_id[has] = uids[best[has]]
    unit_cat[has] = ucat[best[has]]

    zgeoms = _geoms(case.zones)
    out = pd.DataFrame(
        {
            "redline_share": share,
            "redline_mu": red_m2 / M2_PER_MU,
            "redline_distance_m": dist,
            "unit_id": pd.Series(unit_id, dtype=object),
            "unit_ids": pd.Series(joined, dtype=object),
            "unit_category": pd.Series(unit_cat, dtype=object),
        }
    )
    if zone_index is None:
        zi, zj, za = overlap_areas(geoms, zgeoms)
        zbest, _ = _majority(n, zi, zj, za, _text(case.zones["zone_id"]))
        zone_index = zbest
        out["zone_row"] = zbest
    zone_index = np.asarray(zone_index, dtype=np.int64)
    in_zone = np.zeros(n, dtype=bool)
    ok = zone_index >= 0
    if ok.any() and len(zgeoms):
        grown = shapely.buffer(zgeoms, ZONE_TOLERANCE_M)
        shapely.prepare(grown)
        in_zone[ok] = shapely.covers(grown[zone_index[ok]], geoms[ok])
    out["in_zone"] = in_zone
    return out


def plot_overlays(
    case: Any, buffer_m: float = 0.0, *, distance_cap_m: float | None = DISTANCE_CAP_M
) -> pd.DataFrame:
    """Return the plot overlays, one row per plot indexed by ``plot_id``.

    Columns: ``redline_share`` (0–1, of the plot's area inside the dissolved
    red line grown by ``buffer_m``), ``redline_mu``, ``redline_distance_m``
    (to the unbuffered red line; NaN beyond ``distance_cap_m``), ``unit_id``
    (the control unit holding most of the plot), ``unit_ids`` (every unit
    sharing area, ``;``-joined, sorted), ``unit_category`` and ``in_zone``.
    """
    plots = case.plots
    geoms = _geoms(plots)
    zone_index = _positions(_text(plots["zone_id"]), _text(case.zones["zone_id"]))
    parts = redline_parts(case, buffer_m)
    out = overlay_geometries(
        geoms,
        case,
        buffer_m=buffer_m,
        zone_index=zone_index,
        distance_cap_m=distance_cap_m,
        parts=parts,
    )
    out.index = pd.Index(_text(plots["plot_id"]), dtype=object, name="plot_id")
    return out[list(OVERLAY_COLUMNS)]
