"""Interactive map: one self-contained HTML file (folium/Leaflet) that opens with no internet.

folium links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs by default.
Here the map keeps only Leaflet, and the rendered page gets Leaflet's JS and CSS
inlined from the copy vendored in ``allocator/export/assets/`` (Leaflet 1.9.4,
BSD-2-Clause, ``LEAFLET-LICENSE.txt``), with the CSS images as ``data:`` URIs.
There are no base tiles (an intranet machine cannot fetch them): the case's
administrative boundaries are drawn as the base layer instead. Plots are
coloured by outcome; a popup shows the plot, the firm on it and its quotas.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.export.data import (
    CODED_COLUMNS,
    FIRM_ADDITIVE_COLUMNS,
    OUTCOME_COLORS,
    REDLINE_COLOR,
    ExportData,
    label,
    outcome_label,
    outcomes_present,
    value_label,
)
from allocator.i18n import t
from allocator.safety import escape_html

ASSETS = Path(__file__).with_name("assets")
LEAFLET_VERSION = "1.9.4"
POPUP_FIELDS = (
    "plot_id",
    "zone_id",
    "land_use",
    "area_mu",
    "outcome",
    "status_before",
    "status_after",
    "firm_id_after",
    "firm_name",
    "firm_class",
    *FIRM_ADDITIVE_COLUMNS,
)
ADMIN_SIMPLIFY_M = 50.0
"""Administrative boundaries are a backdrop: simplified to 50 m to keep the page small."""
NAMESPACE_URIS = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink")
"""XML namespace identifiers inside Leaflet's code: names, never fetched."""


def _data_uri(path: Path, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def leaflet_js() -> str:
    """Leaflet's minified JS; links to its web site become plain text (nothing to fetch)."""
    js = (ASSETS / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)  # dev tools would ask for the .map file
    js = js.replace('href="https://leafletjs.com"', 'href="#"')
    return js.replace("https://leafletjs.com", "leafletjs.com")  # the licence header keeps the name


def leaflet_css() -> str:
    """Leaflet's CSS with its images inlined as ``data:`` URIs."""
    css = (ASSETS / "leaflet.css").read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)  # comments cite bug-tracker URLs

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        path = ASSETS / Path(name).name
        return f"url({_data_uri(path)})" if path.exists() else "none"

    return re.sub(r"url\((?:'|\")?images/([^)'\"]+)(?:'|\")?\)", repl, css)


def inline_assets(page: str) -> str:
    """Replace the Leaflet ``<script src>``/``<link href>`` tags of ``page`` with inline copies."""
    page = re.sub(
        r'<script src="leaflet\.js"></script>',
        lambda _: "<script>" + leaflet_js() + "</script>",
        page,
    )
    page = re.sub(
        r'<link rel="stylesheet" href="leaflet\.css"\s*/?>',
        lambda _: "<style>" + leaflet_css() + "</style>",
        page,
    )
    return page


def _props(frame: Any, fields: list[str], lang: str, simplify_m: float = 0.0) -> Any:
    """Return a GeoJSON dict: the popup/tooltip fields, lon/lat rounded to 1e-6 degree (0.1 m).

    Text values are HTML-escaped (:func:`allocator.safety.escape_html`): the
    tooltips and popups show them as HTML.
    """
    import shapely

    out = frame[[*fields, "geometry"]].copy()
    if simplify_m > 0:
        out["geometry"] = out.geometry.simplify(simplify_m, preserve_topology=True)
    if "outcome" in out.columns:
        out["outcome_key"] = frame["outcome"]
        out["outcome"] = frame["outcome"].map(lambda o: outcome_label(o, lang))
    for col in CODED_COLUMNS:
        if col in out.columns:
            out[col] = out[col].map(lambda v: value_label(v, lang)).astype(object)
    for col in fields:
        s = out[col]
        if pd.api.types.is_float_dtype(s):
            out[col] = s.round(2)
        elif not pd.api.types.is_numeric_dtype(s):
            # folium's tooltips and popups insert property values as HTML
            out[col] = s.map(lambda v: None if v is None or v is pd.NA or v != v else v)
            out[col] = out[col].map(lambda v: None if v is None else escape_html(v))
    out = out.to_crs("EPSG:4326")
    geoms = shapely.to_geojson(shapely.set_precision(out.geometry.values, 1e-6, mode="pointwise"))
    props = json.loads(pd.DataFrame(out.drop(columns="geometry")).to_json(orient="records"))
    # built directly: GeoDataFrame.__geo_interface__ iterates rows in Python (~10x slower)
    features = [
        {"type": "Feature", "properties": p, "geometry": json.loads(g) if g else None}
        for p, g in zip(props, geoms, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


PLOT_STYLE = {"color": "#404040", "weight": 0.6, "fillOpacity": 0.85}
"""Leaflet style of a plot (its ``fillColor`` is its outcome's colour)."""
REDLINE_STYLE = {
    "color": REDLINE_COLOR,
    "weight": 1.5,
    "dashArray": "6 3",
    "fillColor": REDLINE_COLOR,
    "fillOpacity": 0.25,
}
"""Leaflet style of the red line; its legend swatch is drawn from the same dict."""
ZONE_STYLE = {"color": "#1f3b73", "weight": 2, "fillOpacity": 0.0}
"""Leaflet style of a zone outline."""


def plot_style(outcome: str | None) -> dict[str, Any]:
    """Return the Leaflet style of a plot with ``outcome``."""
    return {**PLOT_STYLE, "fillColor": OUTCOME_COLORS.get(str(outcome), "#999999")}


def swatch_css(style: dict[str, Any]) -> str:
    """Return the CSS of a legend swatch that looks like a Leaflet ``style`` dict.

    Fill colour and opacity as an ``rgba`` background, the outline's width,
    colour and dash (``dashArray``) as the border: the legend shows what the
    map draws.
    """
    fill = str(style.get("fillColor", style.get("color", "#3388ff"))).lstrip("#")
    alpha = float(style.get("fillOpacity", 0.2))
    r, g, b = (int(fill[i : i + 2], 16) for i in (0, 2, 4))
    dash = "dashed" if style.get("dashArray") else "solid"
    width = max(1.0, float(style.get("weight", 3)))
    line = str(style.get("color", "#3388ff"))
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", line):
        raise ValueError(f"a legend colour must be #rrggbb, not {line!r}")
    # numbers, fixed words and a checked #rrggbb: nothing here needs escaping
    return f"background:rgba({r},{g},{b},{alpha:g});border:{width:g}px {dash} {line}"


def _legend_html(lang: str, outcomes: list[str], redline: bool) -> str:
    """Return the legend: the outcomes on the map, the red line (when drawn), the zone outline."""
    rows = "".join(
        f'<div><i style="{swatch_css(plot_style(o))}"></i>{escape_html(outcome_label(o, lang))}'
        "</div>"
        for o in outcomes
    )
    if redline:
        rows += (
            f'<div><i class="redline" style="{swatch_css(REDLINE_STYLE)}"></i>'
            f"{escape_html(t('export.legend.redline', lang))}</div>"
        )
    rows += (
        f'<div><i style="{swatch_css(ZONE_STYLE)}"></i>'
        f"{escape_html(t('export.legend.zone', lang))}</div>"
    )
    return (
        '<div class="alloc-legend" style="position:absolute;bottom:24px;right:10px;z-index:1000;'
        "background:rgba(255,255,255,0.92);padding:8px 10px;border-radius:4px;"
        'font:12px/1.5 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,0.3)">'
        f"<b>{escape_html(t('export.legend.title', lang))}</b>{rows}</div>"
        "<style>.alloc-legend i{display:inline-block;width:14px;height:12px;margin-right:6px;"
        "vertical-align:middle;box-sizing:border-box}</style>"
    )


ZONE_LABEL_CSS = (
    ".zone-label{background:rgba(255,255,255,0.9);border:1px solid #1f3b73;border-radius:3px;"
    "padding:1px 5px;font:12px/1.4 sans-serif;color:#1f3b73;white-space:nowrap;cursor:pointer;"
    "width:auto!important;height:auto!important;box-shadow:0 1px 3px rgba(0,0,0,0.25)}"
)


def _zone_labels(zones: Any) -> list[dict[str, Any]]:
    """Return one label per zone: name, point to pin it at and bounds to zoom to (lat/lon)."""
    if not len(zones):
        return []
    geo = zones.to_crs("EPSG:4326")
    out = []
    for _, row in geo.iterrows():
        point = row.geometry.representative_point()
        minx, miny, maxx, maxy = row.geometry.bounds
        name = str(row["name"]) if "name" in geo.columns and pd.notna(row["name"]) else ""
        out.append(
            {
                "label": name or str(row["zone_id"]),
                "lat": round(point.y, 7),
                "lon": round(point.x, 7),
                "bounds": [[round(miny, 7), round(minx, 7)], [round(maxy, 7), round(maxx, 7)]],
            }
        )
    return out


def _zone_label_layer(fmap: Any, zones: Any, lang: str) -> None:
    """Zone names pinned on the map (click one to zoom to its zone) and a metric scale bar.

    At province scale a zone is a few pixels; its name says where it is. Labels
    are Leaflet ``divIcon`` markers (text, no image), in a layer of their own,
    hidden beyond zoom 12 where they would cover the plots.
    """
    from branca.element import Element, MacroElement
    from jinja2 import Template

    class ZoneLabels(MacroElement):  # type: ignore[misc]
        _template = Template(
            """{% macro script(this, kwargs) %}
            (function(map){
              L.control.scale({imperial: false}).addTo(map);
              var group = L.layerGroup().addTo(map);
              {{ this.labels }}.forEach(function(z){
                var m = L.marker([z.lat, z.lon], {icon: L.divIcon({className: 'zone-label',
                  html: z.label, iconSize: null, iconAnchor: [0, 0]}), title: {{ this.hint }}});
                m.on('click', function(){ map.fitBounds(z.bounds, {padding: [20, 20]}); });
                m.addTo(group);
              });
              // names help at province and city scale; at zone scale they would cover plots
              var toggle = function(){
                if (map.getZoom() > 12) { map.removeLayer(group); } else { group.addTo(map); }
              };
              map.on('zoomend', toggle);
            })({{ this._parent.get_name() }});
            {% endmacro %}"""
        )

        def __init__(self, labels: list[dict[str, Any]], hint: str) -> None:
            super().__init__()
            self._name = "ZoneLabels"
            escaped = [{**z, "label": escape_html(z["label"])} for z in labels]
            self.labels = json.dumps(escaped, ensure_ascii=False)
            self.hint = json.dumps(hint, ensure_ascii=False)

    ZoneLabels(_zone_labels(zones), t("export.web.zoom_hint", lang)).add_to(fmap)
    fmap.get_root().header.add_child(Element(f"<style>{ZONE_LABEL_CSS}</style>"))


FIT_PADDING_PX = (20, 20)
"""Margin (px) between the first view's edge and the outermost feature."""


def first_view(data: ExportData) -> tuple[float, float, float, float]:
    """Return the lon/lat bounds the map opens on: every feature drawn on it.

    Zones, plots, the red line and the administrative backdrop: framing the
    zones alone cut off the province's south (its last zone lies well north of
    the border). Control units are off at first and not counted.
    """
    frames = [data.layers.get(k) for k in ("admin", "zones", "allocation", "redline")]
    boxes = [f.to_crs("EPSG:4326").total_bounds for f in frames if f is not None and len(f)]
    if not boxes:
        return (118.0, 27.0, 123.0, 31.2)  # Zhejiang
    b = np.array(boxes)
    # outwards to the 1e-6 degree grid the features are rounded to (:func:`_props`)
    lo = np.floor(np.array([b[:, 0].min(), b[:, 1].min()]) * 1e6) / 1e6
    hi = np.ceil(np.array([b[:, 2].max(), b[:, 3].max()]) * 1e6) / 1e6
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def build_map(data: ExportData) -> Any:
    """Return the folium map (Leaflet only, no tiles)."""
    import folium
    from branca.element import Element

    lang = data.lang
    alloc = data.layers["allocation"]
    zones = data.layers["zones"]
    minx, miny, maxx, maxy = first_view(data)
    fmap = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=10,
        tiles=None,
        control_scale=False,  # metric only: added with the zone labels
    )
    fmap.default_js = [("leaflet", "leaflet.js")]
    fmap.default_css = [("leaflet_css", "leaflet.css")]
    admin = data.layers.get("admin")
    if admin is not None and len(admin):
        folium.GeoJson(
            _props(admin, ["name"], lang, simplify_m=ADMIN_SIMPLIFY_M),
            name=t("export.legend.admin", lang),
            style_function=lambda f: {
                "color": "#8c8c8c",
                "weight": 1,
                "fillColor": "#f4f4f0",
                "fillOpacity": 1.0,
            },
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        ).add_to(fmap)
    units = data.layers["control_units"]
    if len(units):
        ufields = [c for c in ("unit_id", "name", "category") if c in units.columns]
        folium.GeoJson(
            _props(units, ufields, lang),
            name=t("export.legend.units", lang),
            style_function=lambda f: {
                "color": "#9467bd",
                "weight": 1,
                "dashArray": "4 3",
                "fillOpacity": 0.05,
            },
            show=False,
        ).add_to(fmap)
    zfields = [c for c in ("zone_id", "name") if c in zones.columns]
    folium.GeoJson(
        _props(zones, zfields, lang),
        name=t("export.legend.zone", lang),
        style_function=lambda f: ZONE_STYLE,
        tooltip=folium.GeoJsonTooltip(fields=zfields, labels=False),
    ).add_to(fmap)
    fields = [c for c in POPUP_FIELDS if c in alloc.columns]
    folium.GeoJson(
        _props(alloc, fields, lang),
        name=t("export.map.layer_plots", lang),
        style_function=lambda f: plot_style(f["properties"].get("outcome_key")),
        popup=folium.GeoJsonPopup(
            fields=fields, aliases=[label(c, lang) for c in fields], localize=True
        ),
        tooltip=folium.GeoJsonTooltip(fields=["plot_id", "outcome"], labels=False),
    ).add_to(fmap)
    red = data.layers["redline"]
    if len(red):
        rfields = [c for c in ("redline_id", "name", "kind") if c in red.columns]
        folium.GeoJson(
            _props(red, rfields, lang),
            name=t("export.legend.redline", lang),
            style_function=lambda f: REDLINE_STYLE,
            tooltip=folium.GeoJsonTooltip(fields=rfields, labels=False),
        ).add_to(fmap)
    _zone_label_layer(fmap, zones, lang)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds(
        [[miny, minx], [maxy, maxx]],
        padding_top_left=FIT_PADDING_PX,
        padding_bottom_right=FIT_PADDING_PX,
    )
    root: Any = fmap.get_root()  # a branca Figure: it has .html and .header
    root.html.add_child(Element(_legend_html(lang, outcomes_present(alloc), bool(len(red)))))
    title = t("export.web.title", lang, scenario=data.scenario_name)
    root.header.add_child(Element(f"<title>{escape_html(title)}</title>"))
    return fmap


def external_urls(page: str) -> list[str]:
    """Return every reference in ``page`` that would load something from another host.

    Looks for ``http://``/``https://`` anywhere (XML namespace identifiers
    excepted) and protocol-relative ``//host`` in ``src``/``href``/``url()``.
    """
    found = []
    for m in re.finditer(r"https?://[^\s\"'<>)]+", page):
        if m.group(0).rstrip("/") not in NAMESPACE_URIS:
            found.append(m.group(0))
    found += re.findall(r"""(?:src|href)\s*=\s*["']?//[^\s"'>]+""", page)
    found += re.findall(r"""url\(\s*["']?//[^)]+\)""", page)
    return found


def write_webmap(data: ExportData, path: Path) -> Path:
    """Write the self-contained HTML map.

    Raises
    ------
    ExportError
        The page would still reference an external URL (a folium change).
    """
    from allocator.errors import ExportError

    page = inline_assets(build_map(data).get_root().render())
    bad = external_urls(page)
    if bad:
        raise ExportError(
            f"{path}: the web map would load {len(bad)} external resource(s): {bad[:3]}",
            hint="the installed folium links new CDN files; extend webmap.inline_assets",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
