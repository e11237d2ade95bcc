"""Draw a polygon by hand on a map of one zone: an offline Leaflet + Leaflet.draw component.

The map is a Streamlit ``st.components.v2`` component whose JavaScript is inline:
Leaflet 1.9.4 (``allocator/export/assets``) and Leaflet.draw 1.0.4
(``allocator/ui/assets/leaflet-draw``, MIT) are embedded in it as text and run
once per page as a classic script, their images as ``data:`` URIs. Nothing is
fetched from the network: there is no tile layer, the case's own city/county
boundaries, zone outline, plots and red line are the base map.

The browser sends the drawn shape back as GeoJSON text (WGS84 lon/lat, the
frame the layers are drawn in); :func:`drawn_polygon` turns it into a Shapely
polygon for :func:`allocator.eligibility.check_plot`.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from pathlib import Path
from typing import Any

import streamlit as st

from allocator import leaflet_css, leaflet_js
from allocator.errors import CaseError
from allocator.ui import maps
from allocator.ui.common import t

ASSETS = Path(__file__).resolve().parent / "assets" / "leaflet-draw"
DRAWN_KEY = "plot_drawn"
"""Session key of the drawn polygon (GeoJSON text, WGS84); None when nothing is drawn."""
MAP_HEIGHT_PX = 520

# Leaflet.draw's toolbar and tooltip texts (L.drawLocal paths) -> our locale keys.
DRAW_LOCAL: dict[str, str] = {
    "draw.toolbar.actions.title": "ui.draw.cancel_title",
    "draw.toolbar.actions.text": "ui.draw.cancel",
    "draw.toolbar.finish.title": "ui.draw.finish_title",
    "draw.toolbar.finish.text": "ui.draw.finish",
    "draw.toolbar.undo.title": "ui.draw.undo_title",
    "draw.toolbar.undo.text": "ui.draw.undo",
    "draw.toolbar.buttons.polygon": "ui.draw.button_polygon",
    "draw.toolbar.buttons.rectangle": "ui.draw.button_rectangle",
    "draw.handlers.polygon.tooltip.start": "ui.draw.tip_start",
    "draw.handlers.polygon.tooltip.cont": "ui.draw.tip_cont",
    "draw.handlers.polygon.tooltip.end": "ui.draw.tip_end",
    "draw.handlers.polyline.error": "ui.draw.tip_error",
    "draw.handlers.rectangle.tooltip.start": "ui.draw.tip_rectangle",
    "draw.handlers.simpleshape.tooltip.end": "ui.draw.tip_release",
    "edit.toolbar.actions.save.title": "ui.draw.save_title",
    "edit.toolbar.actions.save.text": "ui.draw.save",
    "edit.toolbar.actions.cancel.title": "ui.draw.cancel_edit_title",
    "edit.toolbar.actions.cancel.text": "ui.draw.cancel",
    "edit.toolbar.actions.clearAll.title": "ui.draw.clear_title",
    "edit.toolbar.actions.clearAll.text": "ui.draw.clear",
    "edit.toolbar.buttons.edit": "ui.draw.button_edit",
    "edit.toolbar.buttons.editDisabled": "ui.draw.button_edit_disabled",
    "edit.toolbar.buttons.remove": "ui.draw.button_remove",
    "edit.toolbar.buttons.removeDisabled": "ui.draw.button_remove_disabled",
    "edit.handlers.edit.tooltip.text": "ui.draw.edit_text",
    "edit.handlers.edit.tooltip.subtext": "ui.draw.edit_subtext",
    "edit.handlers.remove.tooltip.text": "ui.draw.remove_text",
}

_CSS = """
.alloc-draw-map { width: 100%; border: 1px solid #ddd; border-radius: 4px; }
.alloc-draw-map.leaflet-container { background: #f6f6f2; font: 13px/1.4 sans-serif; }
"""

# The component's module. The libraries run as a classic script (they are written for
# the global scope and not strict-mode clean); the map lives on the parent element so a
# Python rerun (new data) keeps the user's view and only swaps what changed.
_JS = r"""
const LIBS = __LIBS__;
const CSS = __LIBCSS__;

function ensureLibs() {
  if (window.L && window.L.Draw && window.L.Control && window.L.Control.Draw) return;
  if (!document.getElementById("alloc-leaflet-css")) {
    const style = document.createElement("style");
    style.id = "alloc-leaflet-css";
    style.textContent = CSS;
    document.head.appendChild(style);
  }
  const script = document.createElement("script");
  script.textContent = LIBS;
  document.head.appendChild(script);  // inline classic scripts run on insertion
}

function setPath(obj, path, value) {
  const parts = path.split(".");
  let o = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    o[parts[i]] = o[parts[i]] || {};
    o = o[parts[i]];
  }
  o[parts[parts.length - 1]] = value;
}

function rgba(c, fallback) {
  if (!Array.isArray(c)) return fallback;
  const a = c.length > 3 ? c[3] / 255 : 1;
  return { color: `rgb(${c[0]},${c[1]},${c[2]})`, opacity: a };
}

function styleFor(spec) {
  return (feature) => {
    const fill = rgba((feature && feature.properties && feature.properties.color) || spec.fill,
                      { color: "#bdbdbd", opacity: 0.7 });
    const line = rgba(spec.line, { color: "#505050", opacity: 0.8 });
    return {
      color: line.color, opacity: line.opacity, weight: spec.weight || 1,
      fillColor: fill.color, fillOpacity: spec.filled === false ? 0 : fill.opacity,
      interactive: false,
    };
  };
}

function drawnGeometry(group) {
  const layers = group.getLayers();
  if (!layers.length) return null;
  return JSON.stringify(layers[layers.length - 1].toGeoJSON().geometry);
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  ensureLibs();
  const L = window.L;
  for (const [path, text] of Object.entries(data.local || {})) setPath(L.drawLocal, path, text);

  let st = parentElement.__allocDraw;
  if (!st) {
    const div = document.createElement("div");
    div.className = "alloc-draw-map";
    div.setAttribute("data-testid", "allocDrawMap");
    div.style.height = (data.height || 520) + "px";
    parentElement.appendChild(div);
    const map = L.map(div, { attributionControl: false, zoomSnap: 0.25, preferCanvas: false });
    const base = L.layerGroup().addTo(map);
    const drawn = L.featureGroup().addTo(map);
    st = { map, base, drawn, div, control: null, localKey: null, layersKey: null, gen: 0 };
    parentElement.__allocDraw = st;
    const send = () => st.setStateValue("polygon", drawnGeometry(drawn));
    map.on(L.Draw.Event.CREATED, (e) => {
      drawn.clearLayers();  // one polygon at a time: a new one replaces the old
      drawn.addLayer(e.layer);
      send();
    });
    map.on(L.Draw.Event.EDITED, send);
    map.on(L.Draw.Event.DELETED, send);
    setTimeout(() => map.invalidateSize(), 50);
  }
  st.gen += 1;
  st.setStateValue = setStateValue;  // the latest mount's sender
  const gen = st.gen;

  // the toolbar reads L.drawLocal when it is built: rebuild it when the language changes
  const localKey = JSON.stringify(data.local || {});
  if (st.localKey !== localKey) {
    if (st.control) st.map.removeControl(st.control);
    st.control = new L.Control.Draw({
      position: "topleft",
      draw: {
        polygon: { allowIntersection: false, showArea: false,
                   shapeOptions: { color: "#1565c0", weight: 2, fillOpacity: 0.25 } },
        rectangle: { showArea: false,
                     shapeOptions: { color: "#1565c0", weight: 2, fillOpacity: 0.25 } },
        polyline: false, circle: false, marker: false, circlemarker: false,
      },
      edit: { featureGroup: st.drawn, remove: true },
    });
    st.map.addControl(st.control);
    st.localKey = localKey;
  }

  if (st.layersKey !== data.layers_key) {
    st.base.clearLayers();
    for (const spec of data.layers || []) {
      L.geoJSON(spec.fc, { style: styleFor(spec), interactive: false }).addTo(st.base);
    }
    st.layersKey = data.layers_key;
    const b = data.bounds;
    if (b) st.map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [10, 10] });
  }
  const want = data.drawn || null;
  if (want !== drawnGeometry(st.drawn)) {
    st.drawn.clearLayers();
    if (want) {
      L.geoJSON(JSON.parse(want), {
        style: { color: "#1565c0", weight: 2, fillOpacity: 0.25 },
      }).eachLayer((layer) => st.drawn.addLayer(layer));
    }
  }

  return () => {
    if (parentElement.__allocDraw === st && st.gen === gen) {
      st.map.remove();
      st.div.remove();
      delete parentElement.__allocDraw;
    }
  };
}
"""


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _plain_urls(js: str) -> str:
    """Drop source-map hints; web-site names (licence header, one error text) lose ``https://``.

    Leaflet.draw 1.0.4 names three sites only in text; it fetches nothing.
    """
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    return re.sub(r"https?://", "", js)


def draw_css() -> str:
    """Leaflet.draw's CSS with its sprite images inlined as ``data:`` URIs."""
    css = (ASSETS / "leaflet.draw.css").read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    mimes = {".svg": "image/svg+xml", ".png": "image/png"}

    def repl(m: re.Match[str]) -> str:
        path = ASSETS / Path(m.group(1)).name
        if not path.exists():
            return "none"
        return f"url('{_data_uri(path, mimes.get(path.suffix, 'image/png'))}')"

    return re.sub(r"url\((?:'|\")?images/([^)'\"]+)(?:'|\")?\)", repl, css)


@functools.cache
def component_js() -> str:
    """Return the component's module: our code with Leaflet and Leaflet.draw inlined."""
    libs = (
        leaflet_js()
        + "\n;\n"
        + _plain_urls((ASSETS / "leaflet.draw.js").read_text(encoding="utf-8"))
    )
    css = leaflet_css() + "\n" + draw_css()
    # "</script" can't end anything here (module text, not HTML), but keep JSON safe anyway.
    return _JS.replace("__LIBS__", json.dumps(libs).replace("</", "<\\/")).replace(
        "__LIBCSS__", json.dumps(css).replace("</", "<\\/")
    )


@functools.cache
def _component() -> Any:
    return st.components.v2.component(
        "allocator.draw_polygon", css=_CSS, js=component_js(), isolate_styles=False
    )


def local_texts() -> dict[str, str]:
    """Return Leaflet.draw's toolbar/tooltip texts in the current language."""
    return {path: t(key) for path, key in DRAW_LOCAL.items()}


def zone_layers(case: Any, zone: str, key: tuple) -> tuple[list[dict], list[float] | None]:
    """Return the base layers of a zone's map (admin, zone, plots, red line) and its bounds."""
    layers: list[dict] = []
    zones = case.zones[case.zones["zone_id"].astype(str) == zone]
    admin = getattr(case, "admin", None)
    if admin is not None and len(admin) and len(zones):
        # only the surroundings (5 km): the whole province's boundaries would be ~1 MB a rerun
        minx, miny, maxx, maxy = zones.total_bounds
        near = admin.clip((minx - 5000, miny - 5000, maxx + 5000, maxy + 5000))
        if len(near):
            cols = [c for c in ("name",) if c in near]
            fc = maps.features(near, ("admin-near", zone, *key), cols, 10.0)
            layers.append({"fc": fc, "fill": maps.ADMIN_COLOR, "line": [150, 150, 150, 255]})
    if len(zones):
        fc = maps.features(zones, ("zone", zone, *key), ["zone_id"], 1.0)
        layers.append({"fc": fc, "filled": False, "line": [21, 101, 192, 255], "weight": 2})
    plots = case.plots[case.plots["zone_id"].astype(str) == zone]
    fc = maps.features(plots, ("plots", zone, *key), ["plot_id", "status", "land_use"], 0.5)
    layers.append({"fc": maps.colorize(fc, "status", maps.STATUS_COLORS, maps.GREY)})
    red = case.redline
    if len(red) and len(plots):
        area = plots.geometry.union_all().buffer(500.0)
        red = red[red.intersects(area)]
        if len(red):
            fc = maps.features(red, ("redline", zone, *key), ["name"], 1.0)
            layers.append({"fc": fc, "fill": maps.REDLINE_COLOR, "line": [183, 28, 28, 255]})
    frame = plots if len(plots) else zones
    bounds = [float(v) for v in frame.to_crs("EPSG:4326").total_bounds] if len(frame) else None
    return layers, bounds


def _store(key: str) -> None:
    """Copy the component's ``polygon`` state into :data:`DRAWN_KEY` (also None on delete)."""
    state = st.session_state.get(key)
    value = None
    if isinstance(state, dict) or hasattr(state, "get"):
        value = state.get("polygon")  # type: ignore[union-attr]  # hasattr() ruled out None
    st.session_state[DRAWN_KEY] = value or None


def draw_map(case: Any, zone: str, case_key: tuple, *, height: int = MAP_HEIGHT_PX) -> str | None:
    """Show the drawing map of ``zone``; return the drawn polygon as GeoJSON text, or None."""
    layers, bounds = zone_layers(case, zone, case_key)
    key = f"plot_draw_{zone}"
    drawn = st.session_state.get(DRAWN_KEY)
    _component()(
        key=key,
        data={
            "layers": layers,
            "layers_key": "|".join(str(k) for k in (zone, *case_key)),
            "bounds": bounds,
            "drawn": drawn,
            "height": height,
            "local": local_texts(),
        },
        default={"polygon": None},
        height=height + 4,
        on_polygon_change=lambda: _store(key),
    )
    return st.session_state.get(DRAWN_KEY)


def drawn_polygon(value: Any) -> Any:
    """Return the drawn shape (GeoJSON text or dict, lon/lat) as a valid Shapely polygon.

    Accepts a Polygon/MultiPolygon geometry, a Feature or a FeatureCollection (its
    polygons are merged). Raises :class:`CaseError` with a hint when the shape is not
    a polygon with an area, or its coordinates are not lon/lat degrees.
    """
    import shapely
    import shapely.geometry

    def bad(error: str) -> CaseError:
        return CaseError(t("ui.draw.bad_polygon", error=error), hint=t("ui.draw.bad_polygon_hint"))

    try:
        obj = json.loads(value) if isinstance(value, str) else value
        if not isinstance(obj, dict):
            raise bad(type(obj).__name__)
        if obj.get("type") == "FeatureCollection":
            geoms = [shapely.geometry.shape(f["geometry"]) for f in obj.get("features") or []]
            geom = shapely.union_all(geoms) if geoms else shapely.Polygon()
        elif obj.get("type") == "Feature":
            geom = shapely.geometry.shape(obj["geometry"])
        else:
            geom = shapely.geometry.shape(obj)
    except CaseError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure is the browser's input
        raise bad(str(exc)[:200]) from exc
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise bad(geom.geom_type if not geom.is_empty else "empty")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise bad(f"bounds {geom.bounds}")
    geom = shapely.make_valid(geom)
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(parts) if parts else shapely.Polygon()
    if geom.is_empty or geom.area <= 0:
        raise bad("area 0")
    return geom
