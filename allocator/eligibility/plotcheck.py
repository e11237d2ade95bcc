"""The plot check: "can this plot (point, polygon) take this project, and if not, why?"."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from allocator.case.io import split_list
from allocator.case.schema import CASE_CRS
from allocator.crs import require_in_zhejiang
from allocator.eligibility._arrays import _geoms, _text
from allocator.eligibility.overlays import (
    OVERLAY_COLUMNS,
    overlap_areas,
    overlay_geometries,
    plot_overlays,
    redline_distance,
    redline_parts,
)
from allocator.eligibility.params import EligibilityParams
from allocator.eligibility.reasons import BIT, decode, reason_text
from allocator.eligibility.rules import Rules, _applying_rules, industry_groups
from allocator.errors import CaseError
from allocator.i18n import display_width, has, normalize_lang, t
from allocator.industry import industry_name, matches_prefix
from allocator.units import M2_PER_MU


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
                if k == "restrict" and matches_prefix(g, p)
            )
        )
        partly.append(
            ";".join(
                p
                for p, k in zip(prefixes, kinds, strict=True)
                if k == "prohibit" and len(p) > len(g) and matches_prefix(p, g)
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
    zhit = np.flatnonzero(shapely.intersects(zg, point)) if len(zg) else np.zeros(0, np.int64)
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
