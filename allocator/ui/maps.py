"""Maps for the app, drawn with pydeck (bundled with Streamlit) so they work offline.

No base tiles are fetched: the map style is an inline MapLibre style with a
plain background, and the case's own city/county boundaries (``case.admin``)
are drawn underneath as the base layer. Geometries are reprojected from
EPSG:4549 to WGS84 lon/lat for display only and simplified to ~1 m.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from typing import Any

import pandas as pd
import pydeck as pdk
import streamlit as st

from allocator.safety import escape_html

# A MapLibre style with no sources: nothing is downloaded, the background is paper-white.
OFFLINE_STYLE: dict[str, Any] = {
    "version": 8,
    "sources": {},
    "layers": [{"id": "bg", "type": "background", "paint": {"background-color": "#f6f6f2"}}],
}

OUTCOME_COLORS: dict[str, list[int]] = {
    "kept": [120, 144, 156, 200],
    "new_project": [46, 125, 50, 220],
    "freed": [239, 108, 0, 220],
    "vacant": [224, 224, 224, 200],
    "excluded_redline": [198, 40, 40, 220],
}
STATUS_COLORS: dict[str, list[int]] = {
    "occupied": [120, 144, 156, 200],
    "idle": [255, 193, 7, 210],
    "vacant": [200, 230, 201, 210],
}
CLASS_COLORS: dict[str, list[int]] = {
    "A": [27, 94, 32, 220],
    "B": [102, 187, 106, 220],
    "C": [255, 167, 38, 220],
    "D": [211, 47, 47, 220],
}
ZONE_COLOR = [21, 101, 192, 90]
REDLINE_COLOR = [211, 47, 47, 110]
ADMIN_COLOR = [236, 236, 230, 255]
HIGHLIGHT = [255, 235, 59, 255]
# Streamlit's deck.gl frontend wants the style as a URL string: a data: URL fetches nothing.
OFFLINE_STYLE_URL = "data:application/json;charset=utf-8," + urllib.parse.quote(
    json.dumps(OFFLINE_STYLE, separators=(",", ":"))
)
GREY = [189, 189, 189, 180]


@st.cache_data(show_spinner=False, max_entries=64)
def _geojson(_gdf: Any, key: tuple, columns: tuple[str, ...], tolerance_m: float) -> dict:
    gdf = _gdf[[*columns, "geometry"]].copy()
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if tolerance_m > 0:
        gdf["geometry"] = gdf.geometry.simplify(tolerance_m, preserve_topology=True)
    gdf = gdf.to_crs("EPSG:4326")
    for col in columns:
        if not pd.api.types.is_numeric_dtype(gdf[col]):
            gdf[col] = gdf[col].astype(object).where(gdf[col].notna(), None).astype(str)
    for col in columns:  # what tooltips show: escaped, as deck.gl inserts it as HTML
        gdf[col + TOOLTIP_SUFFIX] = gdf[col].map(escape_html)
    return json.loads(gdf.to_json(drop_id=True))


def features(
    gdf: Any, key: tuple, columns: list[str] | tuple[str, ...] = (), tolerance_m: float = 1.0
) -> dict:
    """Return ``gdf`` as a WGS84 GeoJSON dict with ``columns`` as properties (cached by key)."""
    cols = tuple(c for c in columns if c in gdf.columns)
    return _geojson(gdf, key, cols, tolerance_m)


def colorize(fc: dict, column: str, palette: dict[str, list[int]], default: list[int]) -> dict:
    """Return a copy of a feature collection with a ``color`` property from ``column``."""
    out: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    for feat in fc["features"]:
        props = dict(feat["properties"])
        props["color"] = palette.get(str(props.get(column)), default)
        out["features"].append({**feat, "properties": props})
    return out


def with_color(fc: dict, color: list[int], only: set[str] | None = None, id_col: str = "") -> dict:
    """Return a copy of ``fc`` with one ``color`` (for all, or for the ids in ``only``)."""
    out: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    for feat in fc["features"]:
        props = dict(feat["properties"])
        if only is None or str(props.get(id_col)) in only:
            props["color"] = color
        out["features"].append({**feat, "properties": props})
    return out


def layer(
    layer_id: str,
    fc: dict,
    *,
    fill: list[int] | None = None,
    line: list[int] | None = None,
    pickable: bool = False,
    line_width: float = 1.0,
) -> pdk.Layer:
    """Return a GeoJsonLayer; fill comes from the ``color`` property when ``fill`` is None."""
    return pdk.Layer(
        "GeoJsonLayer",
        id=layer_id,
        data=fc,
        pickable=pickable,
        stroked=True,
        filled=True,
        get_fill_color=fill if fill is not None else "properties.color",
        get_line_color=line if line is not None else [80, 80, 80, 200],
        line_width_min_pixels=line_width,
        auto_highlight=pickable,
    )


def view_for(gdf: Any, width_px: int = 900, height_px: int = 520) -> pdk.ViewState:
    """Return a view state that fits ``gdf`` (any CRS) into a map of about that many pixels.

    deck.gl (like Mapbox GL) draws the world 512 px wide at zoom 0: a map ``w`` pixels
    wide shows ``w / 512 × 360 / 2**zoom`` degrees of
    longitude; a degree of latitude is ``1 / cos(lat)`` times taller.
    """
    if gdf is None or len(gdf) == 0:
        return pdk.ViewState(longitude=120.5, latitude=29.2, zoom=6.5)
    minx, miny, maxx, maxy = gdf.to_crs("EPSG:4326").total_bounds
    lat = (miny + maxy) / 2
    span_x = max(maxx - minx, 1e-4)
    span_y = max((maxy - miny) / max(math.cos(math.radians(lat)), 0.2), 1e-4)
    zoom_x = math.log2(width_px * 360 / (512 * span_x))
    zoom_y = math.log2(height_px * 360 / (512 * span_y))
    zoom = max(3.0, min(17.0, min(zoom_x, zoom_y) - 0.35))
    return pdk.ViewState(longitude=(minx + maxx) / 2, latitude=lat, zoom=zoom)


TOOLTIP_SUFFIX = "__html"
"""Suffix of the HTML-escaped copy of each feature property, the one tooltips show."""


def tooltip_template(template: str) -> str:
    """Return ``template`` with each ``{column}`` pointing at its escaped copy.

    deck.gl fills ``{column}`` in an HTML tooltip with the raw property and
    inserts the result as HTML; :func:`features` stores an escaped copy of each
    column under ``column + TOOLTIP_SUFFIX`` and tooltips read that one.
    """
    return re.sub(r"\{(\w+)\}", lambda m: "{" + m.group(1) + TOOLTIP_SUFFIX + "}", template)


def deck(layers: list[pdk.Layer], view: pdk.ViewState, tooltip: str | None = None) -> pdk.Deck:
    """Return an offline deck (no base tiles) with an optional HTML tooltip."""
    return pdk.Deck(
        layers=layers,
        initial_view_state=view,
        map_style=OFFLINE_STYLE_URL,
        map_provider=None,
        tooltip={"html": tooltip_template(tooltip)} if tooltip else False,
    )


def admin_layer(case: Any, key: tuple) -> list[pdk.Layer]:
    """Return the city/county boundaries as a base layer (empty when the case has none)."""
    admin = getattr(case, "admin", None)
    if admin is None or len(admin) == 0:
        return []
    fc = features(admin, ("admin", *key), [c for c in ("name",) if c in admin.columns], 50.0)
    return [layer("admin", fc, fill=ADMIN_COLOR, line=[150, 150, 150, 255])]


def show(deck_obj: pdk.Deck, *, key: str, height: int = 520, select: bool = False) -> Any | None:
    """Draw a deck; with ``select`` return the Streamlit selection state (single object)."""
    if select:
        return st.pydeck_chart(
            deck_obj, height=height, key=key, on_select="rerun", selection_mode="single-object"
        )
    st.pydeck_chart(deck_obj, height=height, key=key)
    return None


def selected_property(state: Any, layer_id: str, prop: str) -> str | None:
    """Return ``prop`` of the object picked in ``layer_id`` of a pydeck selection, if any."""
    try:
        objects = state.selection.objects.get(layer_id) or []
    except AttributeError:
        try:
            objects = state["selection"]["objects"].get(layer_id) or []
        except (KeyError, TypeError):
            return None
    for obj in objects:
        props = obj.get("properties", obj) if isinstance(obj, dict) else {}
        if prop in props and props[prop] is not None:
            return str(props[prop])
    return None


def legend(palette: dict[str, list[int]], labels: dict[str, str]) -> None:
    """Draw a one-line colour legend under a map."""
    parts = []
    for key, color in palette.items():
        r, g, b = color[:3]
        parts.append(
            f"<span style='display:inline-block;width:12px;height:12px;"
            f"background:rgb({r},{g},{b});margin:0 4px 0 12px;vertical-align:middle'></span>"
            f"{escape_html(labels.get(key, key))}"
        )
    st.html("<div style='font-size:0.85rem'>" + "".join(parts) + "</div>")
