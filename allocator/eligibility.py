"""Spatial eligibility: red line, control units, access lists, candidate pairs, plot checks.

MODEL.md (section Eligibility) defines which (applicant, parcel) pairs become
model variables; this module computes them and keeps, for every rejected
(applicant, plot), the named reasons:

``redline``
    The plot's share of area inside the ecological protection red line
    (生态保护红线, all red-line polygons dissolved first so overlapping polygons
    are not counted twice, then grown by the scenario's buffer in metres) is
    **greater than** the threshold. At the default threshold 0 any overlap of
    positive area excludes; a plot that only *touches* the red line (shared
    edge or corner: share 0, distance 0) is eligible. That is deliberate:
    touching is not occupying, and a planner who wants a margin sets
    ``redline_buffer_m``.
``access_list``
    A ``prohibit`` rule of the 生态环境准入清单 matches the firm's GB/T 4754
    industry code by prefix (rule ``C26`` matches ``C2614``), for the plot's
    control unit (``scope = unit``) or for its unit's category
    (``scope = category``). ``restrict`` rules do **not** exclude: they are
    reported (``PlotCheck.industries["restricted"]``) because a restricted
    industry may enter under conditions (emission reduction, review) that the
    model cannot judge. A plot outside every control unit has no rule.
``land_use``
    The plot's land use admits the industry: some ``land_use_rules`` row for
    the plot's land use has a prefix of the industry code. A land use with no
    row admits nothing; an empty ``land_use_rules`` table means no land-use
    restriction at all.
``catalogue``
    Only when ``EligibilityParams.catalogue``: the industry matches a prefix of
    the zone's 招商 catalogue (一区一策). A zone without catalogue rows is not
    restricted (it has published none).
``status``
    The plot is ``vacant`` or ``idle``, or ``occupied`` by a firm in
    ``leaving_firms``.
``zone``
    The plot's zone is among the firm's ``candidate_zones`` (empty: any zone).
``size``
    The parcel's area lies in ``[land_min_mu, land_max_mu]`` (missing: 0 / no
    upper bound). At plot level a plot fails ``size`` when it is larger than
    ``land_max_mu``, or smaller than ``land_min_mu`` and in no candidate bundle
    of that firm.

Geometry is in EPSG:4549; areas in mu. Every overlay is vectorised with
Shapely 2 array functions and ``STRtree.query`` pairs: the tree is built on
the few large polygons (red-line parts, control units) and queried with all
plots; a plot lying properly inside a polygon takes its whole area without an
intersection, so only boundary plots pay for one.

Control units: the unit holding most of a plot's area is its ``unit_id`` (ties:
the smaller ``unit_id``); ``unit_ids`` lists every unit sharing positive area
with the plot. ``in_zone`` is True when the plot lies within its zone's polygon
grown by ``ZONE_TOLERANCE_M`` (1 m, for digitising noise); a False is a
validation warning, not a reason. ``redline_distance_m`` is the distance to the
unbuffered red line (0 when touching or overlapping), exact up to
``distance_cap_m`` (default 500 m) and NaN beyond it, because an exact nearest
search for a million plots costs far more than the rest of the overlay; pass
``distance_cap_m=None`` for exact distances everywhere. The plot check always
computes the exact distance.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from allocator.case.io import split_list
from allocator.case.schema import CASE_CRS
from allocator.errors import CaseError
from allocator.i18n import display_width, has, normalize_lang, t
from allocator.industry import industry_name
from allocator.parcels import adjacency, connected_sets
from allocator.units import M2_PER_MU

REASON_CODES: tuple[str, ...] = (
    "redline",
    "access_list",
    "land_use",
    "catalogue",
    "status",
    "zone",
    "size",
)
"""Reason codes in report order; bit ``i`` of a reason mask is ``REASON_CODES[i]``."""
BIT: dict[str, int] = {code: 1 << i for i, code in enumerate(REASON_CODES)}
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


@dataclass(frozen=True)
class EligibilityParams:
    """Scenario parameters of eligibility (MODEL.md) and of bundle adjacency."""

    redline_threshold: float = 0.0
    """Largest red-line share a plot may have (0: any overlap excludes)."""
    redline_buffer_m: float = 0.0
    """Grow the dissolved red line by this many metres first."""
    catalogue: bool = False
    """Apply the zones' 招商 catalogues (一区一策)."""
    bundle_size: int = 3
    """Largest number of adjacent plots in one parcel (k)."""
    leaving_firms: frozenset[str] = frozenset()
    """Existing firms whose occupied plots are offered (they may leave)."""
    adjacency_tolerance_m: float = 1.0
    """Plots at most this far apart may be adjacent (see :mod:`allocator.parcels`)."""
    min_shared_edge_m: float = 5.0
    """…when they share at least this much boundary (metres)."""


# --------------------------------------------------------------------------- helpers


def _geoms(frame: gpd.GeoDataFrame | None) -> np.ndarray:
    if frame is None or len(frame) == 0:
        return np.zeros(0, dtype=object)
    return np.asarray(frame.geometry.array, dtype=object)


def _text(values: Iterable[Any]) -> np.ndarray:
    """Return values as a numpy array of ``str`` with missing values as ``""``."""
    arr = np.asarray(
        values if not isinstance(values, pd.Series) else values.to_numpy(), dtype=object
    )
    if arr.ndim == 1 and pd.api.types.infer_dtype(arr, skipna=False) == "string":
        return arr  # already clean text (ids from the loader): no per-item work
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            out.append("")
        else:
            out.append(str(v).strip())
    return np.asarray(out, dtype=object)


def _clean(geoms: np.ndarray) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return geoms[ok]


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


def _positions(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Return the position of each value in ``keys`` (-1 when absent); few distinct values."""
    codes, uniques = pd.factorize(values)
    pos = {k: i for i, k in enumerate(keys)}
    lookup = np.array([pos.get(u, -1) for u in uniques] + [-1], dtype=np.int64)
    return lookup[codes]  # code -1 (missing) picks the trailing -1


# --------------------------------------------------------------------------- rule tables


def _matches(code: str, prefix: str) -> bool:
    return bool(prefix) and code.upper().startswith(prefix.upper())


@dataclass
class Rules:
    """Industry × (unit, land use, zone) lookup tables built from the case's rule tables."""

    industries: np.ndarray
    unit_ids: np.ndarray
    unit_categories: np.ndarray
    land_uses: np.ndarray
    zone_ids: np.ndarray
    prohibited: np.ndarray
    """(industries, units + 1) bool; last column: outside every unit."""
    restricted: np.ndarray
    admits: np.ndarray
    """(industries, land uses + 1) bool; last column: unknown land use."""
    in_catalogue: np.ndarray
    """(industries, zones + 1) bool: industry in the zone's catalogue (no catalogue: True)."""

    @classmethod
    def build(cls, case: Any, industries: Sequence[str]) -> Rules:
        """Build the tables for ``industries`` (GB/T 4754 codes or prefixes)."""
        inds = np.asarray([str(x) for x in industries], dtype=object)
        units = case.control_units
        uids = _text(units["unit_id"]) if len(units) else np.zeros(0, dtype=object)
        ucat = _text(units["category"]) if len(units) else np.zeros(0, dtype=object)
        upos = {u: k for k, u in enumerate(uids)}
        prohibited = np.zeros((len(inds), len(uids) + 1), dtype=bool)
        restricted = np.zeros_like(prohibited)
        rules = case.access_rules if case.access_rules is not None else pd.DataFrame()
        for row in rules.itertuples(index=False):
            scope, sid = str(row.scope).strip(), str(row.scope_id).strip()
            prefix, kind = str(row.industry_prefix).strip(), str(row.rule).strip()
            if scope == "unit":
                cols = [upos[sid]] if sid in upos else []
            else:
                cols = list(np.flatnonzero(ucat == sid))
            if not cols:
                continue
            hit = np.array([_matches(c, prefix) for c in inds], dtype=bool)
            target = prohibited if kind == "prohibit" else restricted
            target[np.ix_(hit, cols)] = True
        lu_rules = case.land_use_rules if case.land_use_rules is not None else pd.DataFrame()
        land_uses = np.asarray(
            sorted({*_text(case.plots["land_use"]), *_text(lu_rules.get("land_use", []))}),
            dtype=object,
        )
        lpos = {lu: k for k, lu in enumerate(land_uses)}
        if len(lu_rules) == 0:
            admits = np.ones((len(inds), len(land_uses) + 1), dtype=bool)
        else:
            admits = np.zeros((len(inds), len(land_uses) + 1), dtype=bool)
            for lu, prefix in zip(
                _text(lu_rules["land_use"]), _text(lu_rules["industry_prefix"]), strict=True
            ):
                hit = np.array([_matches(c, prefix) for c in inds], dtype=bool)
                admits[hit, lpos[lu]] = True
        zids = _text(case.zones["zone_id"])
        zpos = {z: k for k, z in enumerate(zids)}
        in_cat = np.ones((len(inds), len(zids) + 1), dtype=bool)
        cat = case.catalogue if case.catalogue is not None else pd.DataFrame()
        if len(cat):
            czone, cpref = _text(cat["zone_id"]), _text(cat["industry_prefix"])
            for z in sorted(set(czone)):
                if z not in zpos:
                    continue
                prefs = cpref[czone == z]
                in_cat[:, zpos[z]] = [any(_matches(c, p) for p in prefs) for c in inds]
        return cls(inds, uids, ucat, land_uses, zids, prohibited, restricted, admits, in_cat)

    def unit_index(self, unit_ids: Iterable[Any]) -> np.ndarray:
        """Map unit ids to columns (unknown or missing: the 'no unit' column)."""
        pos = {u: k for k, u in enumerate(self.unit_ids)}
        return np.array([pos.get(u, len(self.unit_ids)) for u in _text(unit_ids)], dtype=np.int64)

    def land_use_index(self, land_uses: Iterable[Any]) -> np.ndarray:
        """Map land uses to columns (unknown: the last column)."""
        pos = {u: k for k, u in enumerate(self.land_uses)}
        return np.array([pos.get(u, len(self.land_uses)) for u in _text(land_uses)], dtype=np.int64)

    def zone_index(self, zone_ids: Iterable[Any]) -> np.ndarray:
        """Map zone ids to columns (unknown: the last column)."""
        pos = {u: k for k, u in enumerate(self.zone_ids)}
        return np.array([pos.get(u, len(self.zone_ids)) for u in _text(zone_ids)], dtype=np.int64)


def industry_groups(case: Any) -> list[str]:
    """Return the GB/T 4754 divisions (letter + 2 digits) of the firms' and catalogue's codes.

    A division is checked as the code itself: a rule on a longer prefix (e.g.
    ``C2614`` within ``C26``) applies to part of the division only and is listed
    in the plot check's ``partly`` column instead of excluding the division.
    """
    groups: set[str] = set()
    for code in _text(case.firms["industry"]) if "industry" in case.firms else []:
        if code:
            groups.add(code[:3].upper())
    if case.catalogue is not None and len(case.catalogue):
        groups.update(p[:3].upper() for p in _text(case.catalogue["industry_prefix"]) if p)
    return sorted(groups)


# --------------------------------------------------------------------------- candidates


@dataclass
class Candidates:
    """Candidate parcels and (applicant, parcel) pairs, with the reasons of every rejection.

    The reasons of a pair ``(firm, plot)`` are a bit mask over
    :data:`REASON_CODES`; they are not stored densely but recomputed from small
    per-plot and per-industry tables (:meth:`mask`), so a million plots cost
    no more memory than the plots themselves.
    """

    parcels: pd.DataFrame
    """``parcel_id``, ``plot_ids`` (tuple), ``area_mu``, ``zone_id``, ``unit_id``, ``n_plots``."""
    pairs: pd.DataFrame
    """``firm_id``, ``parcel_id`` of every candidate pair."""
    firm_ids: np.ndarray
    plot_ids: np.ndarray
    params: EligibilityParams = field(default_factory=EligibilityParams)
    _rules: Rules | None = field(default=None, repr=False)
    _plot_bits: np.ndarray | None = field(default=None, repr=False)
    _plot_unit: np.ndarray | None = field(default=None, repr=False)
    _plot_lu: np.ndarray | None = field(default=None, repr=False)
    _plot_zone: np.ndarray | None = field(default=None, repr=False)
    _plot_area: np.ndarray | None = field(default=None, repr=False)
    _firm_ind: np.ndarray | None = field(default=None, repr=False)
    _firm_zone_ok: np.ndarray | None = field(default=None, repr=False)
    _lmin: np.ndarray | None = field(default=None, repr=False)
    _lmax: np.ndarray | None = field(default=None, repr=False)
    _covered: np.ndarray | None = field(default=None, repr=False)
    _summary: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def summary(self) -> pd.DataFrame:
        """Per reason code: (firm, plot) ``pairs`` failing it, ``only`` it, ``plots`` affected.

        Computed on first use (one pass over every applicant × plot, in chunks).
        """
        if self._summary is None:
            self._summary = _summary(self)
        return self._summary

    def mask(self, firms: np.ndarray | None = None, plots: np.ndarray | None = None) -> np.ndarray:
        """Return the reason masks (uint8) for firm rows × plot rows (all when None)."""
        f = np.arange(len(self.firm_ids)) if firms is None else np.asarray(firms, dtype=np.int64)
        p = np.arange(len(self.plot_ids)) if plots is None else np.asarray(plots, dtype=np.int64)
        r = self._rules
        assert r is not None
        ind = self._firm_ind[f][:, None]
        unit, lu, zone = self._plot_unit[p][None, :], self._plot_lu[p][None, :], self._plot_zone[p]
        bits = np.broadcast_to(self._plot_bits[p][None, :], (len(f), len(p))).astype(np.uint8)
        bits = bits | np.where(r.prohibited[ind, unit], BIT["access_list"], 0).astype(np.uint8)
        bits |= np.where(r.admits[ind, lu], 0, BIT["land_use"]).astype(np.uint8)
        if self.params.catalogue:
            bits |= np.where(r.in_catalogue[ind, zone[None, :]], 0, BIT["catalogue"]).astype(
                np.uint8
            )
        bits |= np.where(self._firm_zone_ok[f][:, zone], 0, BIT["zone"]).astype(np.uint8)
        area = self._plot_area[p][None, :]
        lmin, lmax = self._lmin[f][:, None], self._lmax[f][:, None]
        small = area < lmin - 1e-9
        if self._covered is not None and len(self._covered) and small.any():
            code = f[:, None] * len(self.plot_ids) + p[None, :]
            pos = np.searchsorted(self._covered, code).clip(max=len(self._covered) - 1)
            small &= self._covered[pos] != code
        bits |= np.where((area > lmax + 1e-9) | small, BIT["size"], 0).astype(np.uint8)
        return bits

    def _rows(self, firm_id: str, plot_id: str) -> tuple[int, int]:
        fpos = np.flatnonzero(self.firm_ids == str(firm_id))
        ppos = np.flatnonzero(self.plot_ids == str(plot_id))
        if len(fpos) == 0:
            raise KeyError(f"no applicant {firm_id!r}")
        if len(ppos) == 0:
            raise KeyError(f"no plot {plot_id!r}")
        return int(fpos[0]), int(ppos[0])

    def reasons_for(self, firm_id: str, plot_id: str) -> list[str]:
        """Return the failed reason codes of (applicant, plot), in :data:`REASON_CODES` order."""
        f, p = self._rows(firm_id, plot_id)
        return decode(int(self.mask([f], [p])[0, 0]))

    def reasons_text(self, firm_id: str, plot_id: str, lang: str | None = None) -> list[str]:
        """Return the failed reasons of (applicant, plot) as sentences in ``lang``."""
        return [reason_text(c, lang) for c in self.reasons_for(firm_id, plot_id)]

    def reason_table(self, firm_id: str) -> pd.DataFrame:
        """Return one row per plot with the applicant's failed codes (``;``) and ``eligible``."""
        f, _ = self._rows(firm_id, self.plot_ids[0]) if len(self.plot_ids) else (0, 0)
        bits = self.mask([f])[0]
        return pd.DataFrame(
            {
                "plot_id": self.plot_ids,
                "eligible": bits == 0,
                "reasons": [";".join(decode(int(b))) for b in bits],
            }
        )


def decode(bits: int) -> list[str]:
    """Return the reason codes set in ``bits``."""
    return [c for c in REASON_CODES if bits & BIT[c]]


def reason_text(code: str, lang: str | None = None) -> str:
    """Return the human-readable sentence of a reason code."""
    return t(f"eligibility.reason.{code}", lang)


def _firm_arrays(applicants: pd.DataFrame, zone_ids: np.ndarray) -> dict[str, np.ndarray]:
    zpos = {z: k for k, z in enumerate(zone_ids)}
    n = len(applicants)
    zone_ok = np.zeros((n, len(zone_ids) + 1), dtype=bool)
    cz = applicants["candidate_zones"] if "candidate_zones" in applicants else [None] * n
    for k, text in enumerate(cz):
        wanted = split_list(text)
        if not wanted:
            zone_ok[k, : len(zone_ids)] = True
        else:
            zone_ok[k, [zpos[z] for z in wanted if z in zpos]] = True

    def num(col: str, default: float) -> np.ndarray:
        if col not in applicants:
            return np.full(n, default)
        v = pd.to_numeric(applicants[col], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isnan(v), default, v)

    return {
        "zone_ok": zone_ok,
        "lmin": num("land_min_mu", 0.0),
        "lmax": num("land_max_mu", np.inf),
        "industry": _text(applicants["industry"] if "industry" in applicants else [None] * n),
    }


def build_candidates(
    case: Any,
    params: EligibilityParams | None = None,
    overlays: pd.DataFrame | None = None,
    applicants: pd.DataFrame | None = None,
) -> Candidates:
    """Return the candidate parcels and (applicant, parcel) pairs of ``case``.

    Parameters
    ----------
    case
        The case (plots, zones, red line, units, rule tables, firms).
    params
        Eligibility parameters (default :class:`EligibilityParams`).
    overlays
        Precomputed :func:`plot_overlays` with the same red-line buffer.
    applicants
        Firms to pair (default ``case.applicants``).
    """
    params = params or EligibilityParams()
    if overlays is None:
        overlays = plot_overlays(case, buffer_m=params.redline_buffer_m)
    if applicants is None:
        applicants = case.applicants
    applicants = applicants.reset_index(drop=True)
    plots = case.plots
    pid = _text(plots["plot_id"])
    n = len(pid)
    ov = overlays.reindex(pid)
    geoms = _geoms(plots)
    if "area_mu" in plots:
        area = pd.to_numeric(plots["area_mu"], errors="coerce").to_numpy(dtype=float)
    else:
        area = shapely.area(geoms) / M2_PER_MU
    share = ov["redline_share"].fillna(0.0).to_numpy(dtype=float)
    status = _text(plots["status"])
    occupant = _text(plots["occupant_id"]) if "occupant_id" in plots else np.full(n, "")
    leaving = np.isin(occupant, np.asarray(sorted(params.leaving_firms), dtype=object))
    status_ok = np.isin(status, ["vacant", "idle"]) | ((status == "occupied") & leaving)
    red_bad = share > params.redline_threshold
    plot_bits = np.where(red_bad, BIT["redline"], 0) | np.where(status_ok, 0, BIT["status"])
    plot_bits = plot_bits.astype(np.uint8)

    farr = _firm_arrays(applicants, _text(case.zones["zone_id"]))
    inds, firm_ind = np.unique(farr["industry"].astype(str), return_inverse=True)
    rules = Rules.build(case, list(inds))
    p_unit = rules.unit_index(ov["unit_id"])
    p_lu = rules.land_use_index(plots["land_use"])
    p_zone = rules.zone_index(plots["zone_id"])

    # ---- parcels: singles (status ok) and bundles (status and red line ok)
    single = np.flatnonzero(status_ok)
    node_ok = status_ok & ~red_bad
    nodes = np.flatnonzero(node_ok)
    order = np.argsort(pid[nodes].astype(str), kind="stable")
    nodes = nodes[order]  # node rank order == plot-id order, so sorted sets give sorted ids
    lmax_all = farr["lmax"]
    max_area = float(np.max(lmax_all)) if len(lmax_all) else np.inf
    sets: list[np.ndarray] = []
    if params.bundle_size >= 2 and len(nodes) > 1:
        edges = adjacency(
            geoms[nodes],
            p_zone[nodes],
            tolerance_m=params.adjacency_tolerance_m,
            min_shared_m=params.min_shared_edge_m,
        )
        sets = [
            nodes[s]
            for s in connected_sets(
                len(nodes), edges, params.bundle_size, area=area[nodes], max_area=max_area
            )
        ]
    k = max(params.bundle_size, 1)
    members = [np.column_stack([single, np.full((len(single), k - 1), n, dtype=np.int64)])]
    for s in sets:
        pad = np.full((len(s), k - s.shape[1]), n, dtype=np.int64)
        members.append(np.column_stack([s, pad]))
    member = np.concatenate(members).astype(np.int64) if members else np.zeros((0, k), np.int64)
    area_pad = np.append(area, 0.0)
    pid_pad = np.append(pid, "")
    p_area = area_pad[member].sum(axis=1)
    p_zone_b = p_zone[member[:, 0]] if len(member) else np.zeros(0, np.int64)
    n_plots = (member < n).sum(axis=1)
    ids_mat = pid_pad[member]
    parcel_ids = np.array(["+".join(x for x in row if x) for row in ids_mat], dtype=object)
    plot_tuples = [tuple(x for x in row if x) for row in ids_mat]
    unit_of = _parcel_units(case, geoms, member, n, ov["unit_id"].to_numpy(dtype=object))
    parcels = pd.DataFrame(
        {
            "parcel_id": parcel_ids,
            "plot_ids": plot_tuples,
            "area_mu": p_area,
            "zone_id": np.append(_text(plots["zone_id"]), None)[member[:, 0]]
            if len(member)
            else [],
            "unit_id": unit_of,
            "n_plots": n_plots,
        }
    )

    # ---- pairs, one industry at a time (all its firms share the plot tests)
    ok_base = plot_bits == 0
    by_area = np.argsort(p_area, kind="stable")
    sorted_area = p_area[by_area]
    pair_f: list[np.ndarray] = []
    pair_b: list[np.ndarray] = []
    for i in range(len(inds)):
        plot_ok = ok_base & ~rules.prohibited[i, p_unit] & rules.admits[i, p_lu]
        plot_ok = np.append(plot_ok, True)  # the padding column of ``member``
        parcel_ok = plot_ok[member].all(axis=1)
        if params.catalogue:
            parcel_ok &= rules.in_catalogue[i, p_zone_b]
        for f in np.flatnonzero(firm_ind == i):
            lo = np.searchsorted(sorted_area, farr["lmin"][f] - 1e-9, side="left")
            hi = np.searchsorted(sorted_area, farr["lmax"][f] + 1e-9, side="right")
            idx = by_area[lo:hi]
            idx = idx[parcel_ok[idx] & farr["zone_ok"][f][p_zone_b[idx]]]
            if len(idx):
                pair_f.append(np.full(len(idx), f, dtype=np.int64))
                pair_b.append(np.sort(idx))
    pf = np.concatenate(pair_f) if pair_f else np.zeros(0, np.int64)
    pb = np.concatenate(pair_b) if pair_b else np.zeros(0, np.int64)
    firm_ids = _text(applicants["firm_id"])
    pairs = pd.DataFrame({"firm_id": firm_ids[pf], "parcel_id": parcel_ids[pb]})

    # plots made usable for a firm by a candidate bundle (for the plot-level size reason)
    multi = n_plots[pb] > 1
    cov_f = np.repeat(pf[multi], k)
    cov_p = member[pb[multi]].ravel()
    real = cov_p < n
    covered = np.unique(cov_f[real] * n + cov_p[real])

    return Candidates(
        parcels=parcels,
        pairs=pairs,
        firm_ids=firm_ids,
        plot_ids=pid,
        params=params,
        _rules=rules,
        _plot_bits=plot_bits,
        _plot_unit=p_unit,
        _plot_lu=p_lu,
        _plot_zone=p_zone,
        _plot_area=area,
        _firm_ind=firm_ind.astype(np.int64),
        _firm_zone_ok=farr["zone_ok"],
        _lmin=farr["lmin"],
        _lmax=farr["lmax"],
        _covered=covered,
    )


def _parcel_units(
    case: Any, geoms: np.ndarray, member: np.ndarray, n: int, plot_unit: np.ndarray
) -> np.ndarray:
    """Return the unit holding most of each parcel's area (exact for bundles)."""
    out = np.append(plot_unit, None)[member[:, 0]] if len(member) else np.zeros(0, object)
    multi = np.flatnonzero((member < n).sum(axis=1) > 1)
    units = case.control_units
    if len(multi) == 0 or len(units) == 0:
        return out
    used = np.unique(member[multi][member[multi] < n])
    pi, uj, ua = overlap_areas(geoms[used], _geoms(units))
    pos = np.full(n + 1, -1, dtype=np.int64)
    pos[used] = np.arange(len(used))
    rows = np.repeat(multi, member.shape[1])
    mem = member[multi].ravel()
    real = mem < n
    frame = pd.DataFrame({"b": rows[real], "q": pos[mem[real]]})
    pairs = pd.DataFrame({"q": pi, "u": uj, "a": ua})
    merged = frame.merge(pairs, on="q")
    if merged.empty:
        return out
    agg = merged.groupby(["b", "u"], sort=False)["a"].sum().reset_index()
    uids = _text(units["unit_id"])
    agg["uid"] = uids[agg["u"].to_numpy()]
    agg = agg.sort_values(["b", "a", "uid"], ascending=[True, False, True]).drop_duplicates("b")
    out[agg["b"].to_numpy()] = agg["uid"].to_numpy()
    return out


def _summary(cands: Candidates, chunk: int = 256) -> pd.DataFrame:
    """Count (applicant, plot) pairs failing each reason, failing only it, and plots affected."""
    nf, n_p = len(cands.firm_ids), len(cands.plot_ids)
    pairs = np.zeros(len(REASON_CODES), dtype=np.int64)
    only = np.zeros(len(REASON_CODES), dtype=np.int64)
    plots_hit = np.zeros((len(REASON_CODES), n_p), dtype=bool)
    step = max(1, min(chunk, (20_000_000 // max(n_p, 1)) or 1))
    for s in range(0, nf, step):
        bits = cands.mask(np.arange(s, min(nf, s + step)))
        for k, code in enumerate(REASON_CODES):
            hit = (bits & BIT[code]) != 0
            pairs[k] += int(hit.sum())
            only[k] += int((bits == BIT[code]).sum())
            plots_hit[k] |= hit.any(axis=0)
    return pd.DataFrame(
        {
            "code": REASON_CODES,
            "pairs": pairs,
            "only": only,
            "plots": plots_hit.sum(axis=1),
        }
    ).set_index("code")


# --------------------------------------------------------------------------- plot checks


def _groups_for(case: Any, industry: str | None) -> list[str]:
    if industry:
        return [str(industry).strip().upper()]
    return industry_groups(case)


def _verdicts(
    rules: Rules,
    *,
    red_bad: np.ndarray,
    status_bad: np.ndarray | None,
    unit: np.ndarray,
    land_use: np.ndarray | None,
    zone: np.ndarray,
    catalogue: bool,
) -> np.ndarray:
    """Return reason masks (groups × items) for the plot-level tests of a plot check."""
    g = np.arange(len(rules.industries))[:, None]
    bits = np.zeros((len(rules.industries), len(unit)), dtype=np.uint8)
    bits |= np.where(red_bad[None, :], BIT["redline"], 0).astype(np.uint8)
    if status_bad is not None:
        bits |= np.where(status_bad[None, :], BIT["status"], 0).astype(np.uint8)
    bits |= np.where(rules.prohibited[g, unit[None, :]], BIT["access_list"], 0).astype(np.uint8)
    if land_use is not None:
        bits |= np.where(rules.admits[g, land_use[None, :]], 0, BIT["land_use"]).astype(np.uint8)
    if catalogue:
        bits |= np.where(rules.in_catalogue[g, zone[None, :]], 0, BIT["catalogue"]).astype(np.uint8)
    return bits


def check_plots(
    case: Any,
    plot_ids: Sequence[str] | None = None,
    industry: str | None = None,
    params: EligibilityParams | None = None,
    overlays: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Check many plots at once; one row per plot.

    Columns: the plot's ``zone_id``, ``land_use``, ``status``, ``area_mu``, the
    overlay columns, ``excluded_redline``, ``excluded_access`` (some industry
    group is prohibited by the access list), ``eligible_groups`` (count), and per
    industry group ``ok:<group>`` (bool) and ``why:<group>`` (failed codes,
    ``;``). Industry groups are the GB/T 4754 divisions of the case's firms and
    catalogue (:func:`industry_groups`), or just ``industry``.
    """
    params = params or EligibilityParams()
    if overlays is None:
        overlays = plot_overlays(case, buffer_m=params.redline_buffer_m)
    plots = case.plots
    pid = _text(plots["plot_id"])
    rows = np.arange(len(pid))
    if plot_ids is not None:
        want = [str(p).strip() for p in plot_ids]
        pos = {p: k for k, p in enumerate(pid)}
        missing = [p for p in want if p not in pos]
        if missing:
            raise CaseError(
                t("eligibility.error.unknown_plots", n=len(missing), ids=", ".join(missing[:10])),
                hint=t("eligibility.hint.plot_ids"),
            )
        rows = np.array([pos[p] for p in want], dtype=np.int64)
    sub = plots.iloc[rows]
    ov = overlays.reindex(pid[rows])
    groups = _groups_for(case, industry)
    rules = Rules.build(case, groups)
    share = ov["redline_share"].fillna(0.0).to_numpy(dtype=float)
    red_bad = share > params.redline_threshold
    status = _text(sub["status"])
    occupant = _text(sub["occupant_id"]) if "occupant_id" in sub else np.full(len(sub), "")
    leaving = np.isin(occupant, np.asarray(sorted(params.leaving_firms), dtype=object))
    status_bad = ~(np.isin(status, ["vacant", "idle"]) | ((status == "occupied") & leaving))
    bits = _verdicts(
        rules,
        red_bad=red_bad,
        status_bad=status_bad,
        unit=rules.unit_index(ov["unit_id"]),
        land_use=rules.land_use_index(sub["land_use"]),
        zone=rules.zone_index(sub["zone_id"]),
        catalogue=params.catalogue,
    )
    out = pd.DataFrame(
        {
            "plot_id": pid[rows],
            "zone_id": _text(sub["zone_id"]),
            "land_use": _text(sub["land_use"]),
            "status": status,
            "area_mu": pd.to_numeric(sub["area_mu"], errors="coerce").to_numpy(dtype=float)
            if "area_mu" in sub
            else shapely.area(_geoms(sub)) / M2_PER_MU,
        }
    )
    for col in OVERLAY_COLUMNS:
        out[col] = ov[col].to_numpy()
    out["excluded_redline"] = red_bad
    out["excluded_access"] = (
        ((bits & BIT["access_list"]) != 0).any(axis=0) if len(groups) else False
    )
    out["eligible_groups"] = (bits == 0).sum(axis=0) if len(groups) else 0
    for k, g in enumerate(groups):
        out[f"ok:{g}"] = bits[k] == 0
        out[f"why:{g}"] = [";".join(decode(int(b))) for b in bits[k]]
    return out


@dataclass
class PlotCheck:
    """The answer of :func:`check_plot`: facts of a plot, point or polygon; verdicts."""

    mode: str
    """``plot``, ``point`` or ``polygon``."""
    plot_id: str | None
    zone_id: str | None
    zone_name: str | None
    land_use: str | None
    status: str | None
    occupant_id: str | None
    area_mu: float | None
    redline_share: float
    redline_mu: float
    redline_distance_m: float
    unit_id: str | None
    unit_name: str | None
    unit_category: str | None
    unit_ids: str | None
    in_zone: bool
    rules: pd.DataFrame
    """Access-list rules of the unit and of its category (the access_rules columns)."""
    industries: pd.DataFrame
    """Per industry: ``industry``, ``eligible``, ``reasons``, ``reasons_text``, ``restricted``,
    ``partly`` (prohibit rules on a sub-class of the group), ``in_catalogue``."""
    overlaps: pd.DataFrame
    """Polygon mode: existing plots it overlaps (``plot_id``, ``overlap_mu``, ``share``)."""
    eligible: bool | None
    geometry: Any = None
    """The checked geometry in EPSG:4549."""
    lonlat: tuple[float, float] | None = None
    params: EligibilityParams = field(default_factory=EligibilityParams)
    note: str | None = None
    """Locale key of a remark (e.g. no plot at the point)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the check as a dict (tables as DataFrames, geometry as a Shapely object)."""
        return {
            "mode": self.mode,
            "plot_id": self.plot_id,
            "zone_id": self.zone_id,
            "zone_name": self.zone_name,
            "land_use": self.land_use,
            "status": self.status,
            "occupant_id": self.occupant_id,
            "area_mu": self.area_mu,
            "redline_share": self.redline_share,
            "redline_mu": self.redline_mu,
            "redline_distance_m": self.redline_distance_m,
            "unit_id": self.unit_id,
            "unit_name": self.unit_name,
            "unit_category": self.unit_category,
            "unit_ids": self.unit_ids,
            "in_zone": self.in_zone,
            "eligible": self.eligible,
            "rules": self.rules,
            "industries": self.industries,
            "overlaps": self.overlaps,
            "geometry": self.geometry,
            "lonlat": self.lonlat,
            "note": self.note,
        }

    def to_text(self, lang: str | None = None) -> str:
        """Return a readable report in ``lang`` (zh default)."""
        lang = normalize_lang(lang)
        dash = "—"

        def v(x: Any) -> str:
            return dash if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)

        lines = [t(f"eligibility.check.title_{self.mode}", lang, target=v(self.plot_id))]
        if self.lonlat is not None:
            lines.append(
                t(
                    "eligibility.check.lonlat",
                    lang,
                    lon=f"{self.lonlat[0]:.6f}",
                    lat=f"{self.lonlat[1]:.6f}",
                )
            )
        if self.note:
            lines.append(t(self.note, lang))
        zone = v(self.zone_id) + (f" {self.zone_name}" if self.zone_name else "")
        lines.append(t("eligibility.check.zone", lang, zone=zone))
        if not self.in_zone and self.zone_id:
            lines.append(t("eligibility.check.outside_zone", lang))
        if self.mode == "plot":
            lines.append(
                t(
                    "eligibility.check.plot",
                    lang,
                    land_use=v(self.land_use),
                    status=t(f"eligibility.status.{self.status}", lang)
                    if self.status in ("vacant", "idle", "occupied")
                    else v(self.status),
                    occupant=v(self.occupant_id),
                )
            )
        if self.area_mu is not None:
            lines.append(t("eligibility.check.area", lang, mu=f"{self.area_mu:,.2f}"))
        dist = dash if math.isnan(self.redline_distance_m) else f"{self.redline_distance_m:,.1f}"
        lines.append(
            t(
                "eligibility.check.redline",
                lang,
                mu=f"{self.redline_mu:,.2f}",
                pct=f"{100 * self.redline_share:.2f}",
                dist=dist,
            )
        )
        if self.params.redline_buffer_m > 0:
            lines.append(t("eligibility.check.buffer", lang, m=f"{self.params.redline_buffer_m:g}"))
        cat = (
            t(f"eligibility.category.{self.unit_category}", lang)
            if self.unit_category in ("priority_protection", "key_control", "general")
            else v(self.unit_category)
        )
        unit = v(self.unit_id) + (f" {self.unit_name}" if self.unit_name else "")
        lines.append(t("eligibility.check.unit", lang, unit=unit, category=cat))
        if self.unit_ids and ";" in self.unit_ids:
            lines.append(t("eligibility.check.units_all", lang, units=self.unit_ids))
        if len(self.rules):
            lines.append(t("eligibility.check.rules", lang))
            for r in self.rules.itertuples(index=False):
                if r.scope == "category" and has(f"eligibility.category.{r.scope_id}"):
                    scope = t(f"eligibility.category.{r.scope_id}", lang)
                else:
                    scope = t("eligibility.check.scope_unit", lang, unit=r.scope_id)
                name = industry_name(r.industry_prefix, lang)
                name = f" {name}" if name and len(str(r.industry_prefix)) == 3 else ""
                left, right, colon = ("（", "）", "：") if lang == "zh" else (" (", ")", ": ")
                note = colon + str(r.note) if v(r.note) != dash else ""
                lines.append(
                    f"  - {t(f'eligibility.rule.{r.rule}', lang)} {r.industry_prefix}{name}"
                    f"{left}{scope}{right}{note}"
                )
        else:
            lines.append(t("eligibility.check.no_rules", lang))
        if len(self.overlaps):
            lines.append(t("eligibility.check.overlaps", lang, n=len(self.overlaps)))
            for r in self.overlaps.itertuples(index=False):
                lines.append(f"  - {r.plot_id}: {r.overlap_mu:,.2f} mu ({100 * r.share:.1f}%)")
        if len(self.industries):
            lines.append(t("eligibility.check.verdicts", lang))
            for r in self.industries.itertuples(index=False):
                mark = t("eligibility.check.yes" if r.eligible else "eligibility.check.no", lang)
                why = "" if r.eligible else "：" if lang == "zh" else ": "
                texts = [reason_text(c, lang) for c in split_list(r.reasons)]
                name = f" {r.industry_name}" if getattr(r, "industry_name", "") else ""
                pad = display_width(t("eligibility.check.no", lang)) - display_width(mark)
                line = f"  {mark}{' ' * pad}  {r.industry}{name}"
                if texts:
                    line += why + "；".join(texts) if lang == "zh" else why + "; ".join(texts)
                if r.restricted:
                    line += " " + t("eligibility.check.restricted", lang, rules=r.restricted)
                if r.partly:
                    line += " " + t("eligibility.check.partly", lang, rules=r.partly)
                lines.append(line)
        return "\n".join(lines)


def _read_polygon(polygon: Any, source_crs: str | None) -> Any:
    """Parse a proposed polygon (GeoJSON dict/str, WKT, or a file) into EPSG:4549."""
    crs: Any = None
    geom = None
    try:
        if isinstance(polygon, shapely.Geometry):
            geom = polygon
        elif isinstance(polygon, dict):
            geom, crs = _from_geojson(polygon)
        elif isinstance(polygon, Path) or (isinstance(polygon, str) and _is_file(polygon)):
            frame = gpd.read_file(polygon)
            if len(frame) == 0:
                raise ValueError("no features")
            crs = frame.crs
            geom = shapely.union_all(_geoms(frame))
        elif isinstance(polygon, str):
            text = polygon.strip()
            if text.startswith("{"):
                geom, crs = _from_geojson(json.loads(text))
            else:
                geom = shapely.from_wkt(text)
        else:
            raise TypeError(type(polygon).__name__)
    except CaseError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure is the user's input
        raise CaseError(
            t("eligibility.error.polygon", error=str(exc)[:200]), hint=t("eligibility.hint.polygon")
        ) from exc
    if geom is None or geom.is_empty or shapely.get_type_id(geom) not in (3, 6):
        raise CaseError(
            t("eligibility.error.polygon", error="not a polygon"),
            hint=t("eligibility.hint.polygon"),
        )
    geom = shapely.make_valid(geom)
    if crs is None:
        minx, miny, maxx, maxy = geom.bounds
        crs = (
            "EPSG:4490"
            if max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90
            else CASE_CRS
        )
    series = gpd.GeoSeries([geom], crs=crs)
    if source_crs:
        from allocator.crs import convert_geometries

        series = convert_geometries(series.to_crs("EPSG:4490"), source_crs)
    return series.to_crs(CASE_CRS).iloc[0]


def _is_file(text: str) -> bool:
    """Return True when ``text`` names an existing file (not WKT or JSON text)."""
    head = text.lstrip()[:20].upper()
    if len(text) > 1000 or head[:1] in "{[" or head.startswith(("POLYGON", "MULTIPOLYGON")):
        return False
    try:
        return Path(text).is_file()
    except OSError:
        return False


def _from_geojson(obj: dict) -> tuple[Any, Any]:
    crs = None
    name = (obj.get("crs") or {}).get("properties", {}).get("name")
    if name:
        crs = name
    kind = obj.get("type")
    if kind == "FeatureCollection":
        geoms = [shapely.geometry.shape(f["geometry"]) for f in obj.get("features", [])]
        return shapely.union_all(geoms) if geoms else None, crs
    if kind == "Feature":
        return shapely.geometry.shape(obj["geometry"]), crs
    return shapely.geometry.shape(obj), crs


def check_plot(
    case: Any,
    *,
    plot_id: str | None = None,
    lonlat: tuple[float, float] | Sequence[float] | None = None,
    polygon: Any = None,
    source_crs: str | None = None,
    industry: str | None = None,
    params: EligibilityParams | None = None,
    lang: str | None = None,
) -> PlotCheck:
    """Answer "can this plot take this project, and if not, why?".

    Give exactly one of ``plot_id``; ``lonlat`` (CGCS2000/WGS84 degrees, or
    GCJ-02/BD-09 with ``source_crs``: the plot containing the point is checked,
    or the point itself when no plot holds it); ``polygon`` (GeoJSON dict or
    text, WKT, or a file path; lon/lat CGCS2000 unless it names a CRS or has
    projected coordinates, which are taken as EPSG:4549). ``industry`` checks one
    GB/T 4754 code; otherwise every industry group of the case. ``lang`` only
    sets the language of the ``reasons_text`` column.
    """
    params = params or EligibilityParams()
    given = sum(x is not None for x in (plot_id, lonlat, polygon))
    if given != 1:
        raise CaseError(t("eligibility.error.one_target"), hint=t("eligibility.hint.one_target"))
    plots = case.plots
    pid = _text(plots["plot_id"])
    geoms = _geoms(plots)
    row: int | None = None
    point_ll: tuple[float, float] | None = None
    note = None
    mode = "plot"
    if plot_id is not None:
        hit = np.flatnonzero(pid == str(plot_id).strip())
        if len(hit) == 0:
            raise CaseError(
                t("eligibility.error.unknown_plots", n=1, ids=str(plot_id)),
                hint=t("eligibility.hint.plot_ids"),
            )
        row = int(hit[0])
        geom = geoms[row]
    elif lonlat is not None:
        try:
            lon, lat = (float(x) for x in lonlat)
        except (TypeError, ValueError) as exc:
            raise CaseError(
                t("eligibility.error.lonlat", value=str(lonlat)), hint=t("eligibility.hint.lonlat")
            ) from exc
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise CaseError(
                t("eligibility.error.lonlat", value=str(lonlat)), hint=t("eligibility.hint.lonlat")
            )
        point_ll = (lon, lat)
        if source_crs:
            from allocator.crs import _TO_WGS84, normalize_web_crs

            try:
                lon, lat = _TO_WGS84[normalize_web_crs(source_crs)](lon, lat)
            except ValueError as exc:
                raise CaseError(str(exc), hint=t("eligibility.hint.source_crs")) from exc
        from allocator.crs import require_in_zhejiang

        require_in_zhejiang(lon, lat, "--lonlat")
        point = gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4490").to_crs(CASE_CRS).iloc[0]
        hit = shapely.STRtree(geoms).query(point, predicate="intersects") if len(geoms) else []
        if len(hit):
            row = int(np.min(hit))
            geom = geoms[row]
            mode = "plot"
        else:
            geom = point
            mode = "point"
            note = "eligibility.check.no_plot"
    else:
        geom = _read_polygon(polygon, source_crs)
        from allocator.crs import require_in_zhejiang

        c = gpd.GeoSeries([geom.centroid], crs=CASE_CRS).to_crs("EPSG:4490").iloc[0]
        require_in_zhejiang(c.x, c.y, "--polygon")
        mode = "polygon"

    parts = redline_parts(case, params.redline_buffer_m)
    zone_index = None
    if row is not None:
        zpos = {z: k for k, z in enumerate(_text(case.zones["zone_id"]))}
        zone_index = np.array([zpos.get(_text([plots["zone_id"].iloc[row]])[0], -1)])
    if mode == "point":
        ov = _point_overlay(geom, case, parts)
    else:
        ov = overlay_geometries(
            np.array([geom], dtype=object),
            case,
            buffer_m=params.redline_buffer_m,
            zone_index=zone_index,
            distance_cap_m=None,
            parts=parts,
        ).iloc[0]
    if row is not None:
        zone_id = _text([plots["zone_id"].iloc[row]])[0] or None
    else:
        zr = int(ov.get("zone_row", -1))
        zone_id = str(_text(case.zones["zone_id"])[zr]) if zr >= 0 else None
    zones = case.zones
    zname = None
    if zone_id is not None:
        zrow = zones[_text(zones["zone_id"]) == zone_id]
        zname = str(zrow["name"].iloc[0]) if len(zrow) else None
    unit_id = ov["unit_id"] if isinstance(ov["unit_id"], str) else None
    units = case.control_units
    uname = None
    if unit_id is not None and "name" in units:
        urow = units[_text(units["unit_id"]) == unit_id]
        uname = _text(urow["name"])[0] or None if len(urow) else None

    groups = _groups_for(case, industry)
    rules = Rules.build(case, groups)
    red_bad = np.array([float(ov["redline_share"]) > params.redline_threshold])
    status = land_use = occupant = None
    status_bad = None
    if row is not None:
        status = _text([plots["status"].iloc[row]])[0] or None
        land_use = _text([plots["land_use"].iloc[row]])[0] or None
        occupant = (
            _text([plots["occupant_id"].iloc[row]])[0] or None if "occupant_id" in plots else None
        )
        status_bad = np.array(
            [
                not (
                    status in ("vacant", "idle")
                    or (status == "occupied" and occupant in params.leaving_firms)
                )
            ]
        )
    unit_col = rules.unit_index([unit_id])
    bits = _verdicts(
        rules,
        red_bad=red_bad,
        status_bad=status_bad,
        unit=unit_col,
        land_use=rules.land_use_index([land_use]) if land_use else None,
        zone=rules.zone_index([zone_id]),
        catalogue=params.catalogue,
    )[:, 0]
    applying = _applying_rules(case, unit_id, ov["unit_category"])
    restricted, partly = [], []
    prefixes, kinds = _text(applying["industry_prefix"]), _text(applying["rule"])
    for g in groups:
        restricted.append(
            ";".join(
                p
                for p, k in zip(prefixes, kinds, strict=True)
                if k == "restrict" and _matches(g, p)
            )
        )
        partly.append(
            ";".join(
                p
                for p, k in zip(prefixes, kinds, strict=True)
                if k == "prohibit" and len(p) > len(g) and _matches(p, g)
            )
        )
    industries = pd.DataFrame(
        {
            "industry": groups,
            "industry_name": [industry_name(g, lang) for g in groups],
            "eligible": bits == 0,
            "reasons": [";".join(decode(int(b))) for b in bits],
            "reasons_text": ["；".join(reason_text(c, lang) for c in decode(int(b))) for b in bits],
            "restricted": restricted,
            "partly": partly,
            "in_catalogue": [
                bool(rules.in_catalogue[k, rules.zone_index([zone_id])[0]])
                for k in range(len(groups))
            ],
        }
    )
    overlaps = pd.DataFrame({"plot_id": [], "overlap_mu": [], "share": []})
    if mode == "polygon" and len(geoms):
        oi, _oj, oa = overlap_areas(geoms, np.array([geom], dtype=object))
        overlaps = pd.DataFrame(
            {
                "plot_id": pid[oi],
                "overlap_mu": oa / M2_PER_MU,
                "share": oa / shapely.area(geoms[oi]),
            }
        ).sort_values("plot_id", ignore_index=True)
    if industry:
        eligible: bool | None = bool(bits[0] == 0)
    else:
        eligible = bool((bits == 0).any()) if len(bits) else None
    area_mu = None if mode == "point" else float(shapely.area(geom) / M2_PER_MU)
    return PlotCheck(
        mode=mode,
        plot_id=str(pid[row]) if row is not None else None,
        zone_id=zone_id,
        zone_name=zname,
        land_use=land_use,
        status=status,
        occupant_id=occupant,
        area_mu=area_mu,
        redline_share=float(ov["redline_share"]),
        redline_mu=float(ov["redline_mu"]),
        redline_distance_m=float(ov["redline_distance_m"]),
        unit_id=unit_id,
        unit_name=uname,
        unit_category=ov["unit_category"] if isinstance(ov["unit_category"], str) else None,
        unit_ids=ov["unit_ids"] if isinstance(ov["unit_ids"], str) else None,
        in_zone=bool(ov["in_zone"]),
        rules=applying,
        industries=industries,
        overlaps=overlaps,
        eligible=eligible,
        geometry=geom,
        lonlat=point_ll,
        params=params,
        note=note,
    )


def _point_overlay(point: Any, case: Any, parts: np.ndarray) -> pd.Series:
    """Overlay a single point: inside the red line (share 1/0), its unit and zone."""
    geom = np.array([point], dtype=object)
    inside = bool(len(parts)) and bool(shapely.intersects(parts, point).any())
    plain = redline_parts(case, 0.0)
    dist = redline_distance(geom, plain, None)[0]
    units = case.control_units
    uid = ucat = None
    if len(units):
        hit = np.flatnonzero(shapely.intersects(_geoms(units), point))
        if len(hit):
            ids = _text(units["unit_id"])[hit]
            k = hit[np.argsort(ids.astype(str))[0]]
            uid, ucat = _text(units["unit_id"])[k], _text(units["category"])[k]
    zg = _geoms(case.zones)
    zhit = np.flatnonzero(shapely.intersects(zg, point)) if len(zg) else []
    return pd.Series(
        {
            "redline_share": 1.0 if inside else 0.0,
            "redline_mu": 0.0,
            "redline_distance_m": dist,
            "unit_id": uid,
            "unit_ids": uid,
            "unit_category": ucat,
            "in_zone": bool(len(zhit)),
            "zone_row": int(zhit[0]) if len(zhit) else -1,
        }
    )


def _applying_rules(case: Any, unit_id: str | None, category: Any) -> pd.DataFrame:
    """Return the access-list rules for a unit (scope unit) and its category (scope category)."""
    cols = ["scope", "scope_id", "industry_prefix", "rule", "note"]
    rules = case.access_rules
    if rules is None or len(rules) == 0 or unit_id is None:
        return pd.DataFrame(columns=cols)
    scope, sid = _text(rules["scope"]), _text(rules["scope_id"])
    cat = category if isinstance(category, str) else ""
    keep = ((scope == "unit") & (sid == unit_id)) | ((scope == "category") & (sid == cat))
    out = rules.loc[keep].copy()
    for c in cols:
        if c not in out:
            out[c] = None
    return out[cols].reset_index(drop=True)
