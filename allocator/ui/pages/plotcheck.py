"""地块核查 Plot check: can this plot, point or proposed polygon take a project, and why not."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from allocator import check_plot, check_zip
from allocator.ui import draw, maps
from allocator.ui.common import (
    case_key,
    fixed,
    fmt_num,
    fmt_pct,
    get_case,
    guard,
    lang,
    page_header,
    save_upload,
    show_table,
    t,
)
from allocator.units import M2_PER_MU

MODES = ("map", "id", "coords", "polygon", "draw")


def safe_zip(path: Path) -> None:
    """Refuse a zip with unsafe members or beyond the archive limits (:mod:`allocator.archive`)."""
    check_zip(path)


def zone_name(case: Any, zone_id: Any) -> str:
    """Return a zone's name in the case (its id when the case has no such zone or no names)."""
    zones = case.zones
    if "name" not in zones:
        return str(zone_id)
    names = dict(zip(zones["zone_id"].astype(str), zones["name"].astype(str), strict=True))
    return names.get(str(zone_id), str(zone_id))


def choose_zone(case: Any) -> str:
    """Return the zone chosen in the zone selector (shared by the map modes)."""
    zones = case.zones["zone_id"].astype(str).tolist()
    names = dict(zip(zones, case.zones["name"].astype(str), strict=True))
    return st.selectbox(
        t("ui.plot.zone"), zones, format_func=lambda z: f"{z} · {names[z]}", key="plot_zone"
    )


class SerializedDeck:
    """A deck turned into its JSON once; Streamlit asks for ``to_json()`` on every rerun.

    Serialising a zone's plots and the red line took most of a plot-check action
    (profiled on the sample case: ~1.5 s of JSON per map per rerun); the text is
    the same every time, so it is made once per zone (or checked shape) and kept.
    """

    def __init__(self, deck: Any) -> None:
        """Serialise ``deck`` (a ``pydeck.Deck``) and keep what ``st.pydeck_chart`` reads."""
        self.spec: str = deck.to_json()
        widget = getattr(deck, "deck_widget", None)
        tooltip = getattr(widget, "tooltip", None) if widget is not None else None
        self._tooltip = tooltip if isinstance(tooltip, dict) else getattr(deck, "_tooltip", None)
        self.deck_widget = None
        self.mapbox_key = getattr(deck, "mapbox_key", None)
        self.width = getattr(deck, "width", None)
        self.layers = None  # nothing left for Streamlit to convert

    def to_json(self) -> str:
        """Return the deck's JSON (made once)."""
        return self.spec


@st.cache_resource(show_spinner=False, max_entries=32)
def _pick_deck(zone: str, key: tuple, _case: Any) -> SerializedDeck:
    case = _case
    plots = case.plots[case.plots["zone_id"].astype(str) == zone]
    fc = maps.features(plots, ("plots", zone, *key), ["plot_id", "status", "land_use"], 0.5)
    layers = maps.admin_layer(case, key)
    layers.append(
        maps.layer(
            "plots", maps.colorize(fc, "status", maps.STATUS_COLORS, maps.GREY), pickable=True
        )
    )
    if len(case.redline):
        red = maps.features(case.redline, ("redline", *key), ["name"], 2.0)
        layers.append(maps.layer("redline", red, fill=maps.REDLINE_COLOR))
    return SerializedDeck(
        maps.deck(layers, maps.view_for(plots), "{plot_id} · {land_use} · {status}")
    )


def pick_on_map(case: Any) -> str | None:
    """Draw one zone's plots; return the plot id picked on the map."""
    zone = choose_zone(case)
    key = case_key() or ("", 0.0)
    state = maps.show(_pick_deck(zone, key, case), key=f"plot_map_{zone}", select=True)
    maps.legend(maps.STATUS_COLORS, {k: t(f"ui.status.{k}") for k in maps.STATUS_COLORS})
    return maps.selected_property(state, "plots", "plot_id")


def draw_on_map(case: Any) -> dict | None:
    """Show a zone's map with the drawing tools; return ``check_plot`` arguments once drawn.

    The drawn shape is WGS84/CGCS2000 lon/lat (the frame the map is drawn in), so no
    GCJ-02 option applies. A new zone starts with nothing drawn.
    """
    zone = choose_zone(case)
    if st.session_state.get("plot_draw_zone") not in (None, zone):
        st.session_state[draw.DRAWN_KEY] = None
    st.session_state["plot_draw_zone"] = zone
    st.caption(t("ui.draw.help"))
    drawn = draw.draw_map(case, zone, case_key() or ("", 0.0))
    maps.legend(
        {**maps.STATUS_COLORS, "redline": maps.REDLINE_COLOR},
        {**{k: t(f"ui.status.{k}") for k in maps.STATUS_COLORS}, "redline": t("ui.draw.redline")},
    )
    if not drawn:
        st.info(t("ui.draw.hint"))
        return None
    if st.button(t("ui.draw.clear_button"), key="plot_draw_clear"):
        st.session_state[draw.DRAWN_KEY] = None
        st.rerun()
    return {"polygon": draw.drawn_polygon(drawn)}


def inputs(case: Any) -> dict | None:
    """Draw the input for the chosen mode; return the keyword arguments for ``check_plot``."""
    mode = st.radio(
        t("ui.plot.mode"),
        MODES,
        format_func=fixed(lambda m: t(f"ui.plot.mode_{m}")),
        horizontal=True,
        key="plot_mode",
    )
    if mode == "map":
        picked = pick_on_map(case)
        if picked:
            st.session_state["plot_picked"] = picked
        picked = st.session_state.get("plot_picked")
        if not picked:
            st.caption(t("ui.plot.pick_hint"))
            return None
        return {"plot_id": picked}
    if mode == "id":
        plot_id = st.text_input(t("ui.plot.plot_id"), key="plot_id").strip()
        return {"plot_id": plot_id} if plot_id else None
    if mode == "coords":
        c1, c2, c3 = st.columns(3)
        lon = c1.number_input(t("ui.plot.lon"), value=None, format="%.6f", key="plot_lon")
        lat = c2.number_input(t("ui.plot.lat"), value=None, format="%.6f", key="plot_lat")
        crs = c3.radio(
            t("ui.plot.crs"),
            ["wgs84", "gcj02"],
            format_func=fixed(lambda c: t(f"ui.plot.crs_{c}")),
            key="plot_crs",
        )
        if lon is None or lat is None:
            return None
        return {"lonlat": (float(lon), float(lat)), "source_crs": None if crs == "wgs84" else crs}
    if mode == "draw":
        return draw_on_map(case)
    upload = st.file_uploader(
        t("ui.plot.polygon_file"),
        type=["geojson", "json", "zip", "gpkg", "kml"],
        key="plot_polygon_file",
        max_upload_size=20,
    )
    text = st.text_area(t("ui.plot.polygon_text"), key="plot_polygon_text", height=100)
    crs = st.radio(
        t("ui.plot.crs"),
        ["wgs84", "gcj02"],
        format_func=fixed(lambda c: t(f"ui.plot.crs_{c}")),
        key="plot_poly_crs",
        horizontal=True,
    )
    source_crs = None if crs == "wgs84" else crs
    if upload is not None:
        path = save_upload(upload, "polygons")
        if path.suffix.lower() == ".zip":
            safe_zip(path)
        return {"polygon": path, "source_crs": source_crs}
    if text.strip():
        return {"polygon": text.strip(), "source_crs": source_crs}
    return None


def as_dict(check: Any) -> dict:
    """Return a plot check as a dict of its fields."""
    if isinstance(check, dict):
        return check
    if hasattr(check, "to_dict"):
        return dict(check.to_dict())
    if is_dataclass(check):
        return {f: getattr(check, f) for f in asdict(check)}  # type: ignore[arg-type]  # an instance; keep frames
    return {k: v for k, v in vars(check).items() if not k.startswith("_")}


def verdict_table(check: dict) -> pd.DataFrame | None:
    """Return the per-industry eligibility table of a check, if it has one."""
    for name in ("industries", "eligibility", "verdicts", "groups", "table"):
        value = check.get(name)
        if isinstance(value, pd.DataFrame) and not value.empty:
            return value
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return pd.DataFrame(value)
    return None


def overlap_geometry(case: Any, check: dict) -> Any | None:
    """Return the checked geometry (EPSG:4549) of a check, or the plot's own."""
    geom = check.get("geometry")
    if geom is not None and hasattr(geom, "geom_type"):
        return geom
    plot_id = check.get("plot_id")
    if plot_id:
        rows = case.plots[case.plots["plot_id"].astype(str) == str(plot_id)]
        if len(rows):
            return rows.geometry.iloc[0]
    return None


@st.cache_resource(show_spinner=False, max_entries=64)
def _overlap_deck(
    tag: str, shape_wkb: bytes, key: tuple, _case: Any
) -> tuple[SerializedDeck, float]:
    """Return the overlap map of one checked shape (serialised) and the overlap in mu."""
    import geopandas as gpd
    import shapely

    case = _case
    geom = shapely.from_wkb(shape_wkb)
    crs = case.plots.crs
    shape = gpd.GeoDataFrame({"name": ["checked"]}, geometry=[geom], crs=crs)
    area = gpd.GeoDataFrame(geometry=[geom.buffer(max(200.0, geom.length * 0.3))], crs=crs)
    red = case.redline[case.redline.intersects(area.geometry.iloc[0])]
    overlap_mu = 0.0
    # no city/county layer: at a few hundred metres it shows nothing, and the province's
    # boundaries were most of this map's JSON (each new shape would serialise them again)
    layers: list[Any] = []
    near = case.plots[case.plots.intersects(area.geometry.iloc[0])]
    if len(near):
        fc = maps.features(near, ("near", tag, *key), ["plot_id", "status"], 0.2)
        layers.append(maps.layer("near", fc, fill=[230, 230, 230, 120]))
    if len(red):
        layers.append(
            maps.layer(
                "redline",
                maps.features(red, ("red", tag, *key), ["name"], 0.5),
                fill=maps.REDLINE_COLOR,
            )
        )
    layers.append(
        maps.layer(
            "checked",
            maps.features(shape, ("checked", tag, shape_wkb), ["name"], 0.0),
            fill=[21, 101, 192, 90],
            line=[21, 101, 192, 255],
            line_width=2,
        )
    )
    if len(red):
        inter = red.geometry.union_all().intersection(geom)
        if not inter.is_empty:
            overlap_mu = inter.area / M2_PER_MU
            ov = gpd.GeoDataFrame({"name": ["overlap"]}, geometry=[inter], crs=crs)
            layers.append(
                maps.layer(
                    "overlap",
                    maps.features(ov, ("overlap", tag, shape_wkb), ["name"], 0.0),
                    fill=[183, 28, 28, 230],
                    line=[0, 0, 0, 255],
                    line_width=2,
                )
            )
    deck = maps.deck(layers, maps.view_for(area, width_px=600, height_px=420), None)
    return SerializedDeck(deck), overlap_mu


def draw_overlap(case: Any, geom: Any, tag: str) -> float:
    """Draw the checked area, the red line near it and their overlap; return the overlap in mu."""
    deck, overlap_mu = _overlap_deck(tag, geom.wkb, case_key() or ("", 0.0), case)
    maps.show(deck, key=f"plot_overlap_{tag}", height=420)
    maps.legend(
        {"checked": [21, 101, 192], "redline": maps.REDLINE_COLOR, "overlap": [183, 28, 28]},
        {k: t(f"ui.plot.legend_{k}") for k in ("checked", "redline", "overlap")},
    )
    return overlap_mu


def report(case: Any, check: Any) -> None:
    """Show a plot check: facts, red-line overlap, verdicts per industry, and the map."""
    data = as_dict(check)
    eligible = data.get("eligible")
    if eligible is None and (table := verdict_table(data)) is not None and "eligible" in table:
        eligible = bool(table["eligible"].astype(bool).any())
    share = data.get("redline_share")
    redline_mu = data.get("redline_mu")
    if eligible is True:
        st.success(t("ui.plot.eligible"))
    elif eligible is False:
        st.error(t("ui.plot.not_eligible"))
    cols = st.columns([1, 2, 1, 1])  # the zone's name is the widest value
    cols[0].metric(t("ui.plot.f_plot"), str(data.get("plot_id") or "—"))
    zone = data.get("zone_id")
    cols[1].metric(  # the zone by its name (its id in the help), as the zone list names it
        t("ui.plot.f_zone"),
        zone_name(case, zone) if zone else "—",
        help=str(zone) if zone else None,
    )
    cols[2].metric(t("ui.plot.f_redline_share"), fmt_pct(share))
    cols[3].metric(t("ui.plot.f_redline_mu"), fmt_num(redline_mu, 2))
    if share is not None and float(share or 0) > 0:
        st.warning(t("ui.plot.overlap", share=fmt_pct(share), mu=fmt_num(redline_mu, 2)))
    left, right = st.columns([1, 1], gap="medium")
    with left:
        text = None
        for name in ("to_text", "text", "render"):
            fn = getattr(check, name, None)
            if callable(fn):
                try:
                    text = fn(lang=lang())
                except TypeError:
                    text = fn()
                break
        if text:
            st.code(str(text), language=None, wrap_lines=True)
    with right:
        geom = overlap_geometry(case, data)
        if geom is not None:
            st.markdown(f"**{t('ui.plot.map')}**")
            with guard():
                draw_overlap(case, geom, str(data.get("plot_id") or "polygon"))
    table = verdict_table(data)
    if table is not None:
        st.subheader(t("ui.plot.verdicts"))
        show_table(table, hide_index=True)
    facts = {
        k: v
        for k, v in data.items()
        if not isinstance(v, pd.DataFrame | list | dict) and not hasattr(v, "geom_type")
    }
    with st.expander(t("ui.plot.all_facts")):
        show_table(
            pd.DataFrame({"field": list(facts), "value": [str(v) for v in facts.values()]}),
            hide_index=True,
        )
    overlaps = data.get("overlaps")
    if isinstance(overlaps, pd.DataFrame) and not overlaps.empty:
        st.subheader(t("ui.plot.overlaps"))
        show_table(overlaps, hide_index=True)


@st.cache_resource(show_spinner=False, max_entries=256)
def _check(key: tuple, target: tuple, industry: str | None, page_lang: str, _case: Any) -> Any:
    return check_plot(_case, industry=industry, lang=page_lang, **dict(target))


def checked(case: Any, industry: str | None, kwargs: dict) -> Any:
    """Return ``check_plot`` of the target; a plot id or a point is checked once per case."""
    key = case_key()
    if key is not None and set(kwargs) <= {"plot_id", "lonlat", "source_crs"}:
        target = tuple(
            sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in kwargs.items())
        )
        return _check(key, target, industry, lang(), case)
    return check_plot(case, industry=industry, lang=lang(), **kwargs)


def render() -> None:
    """Draw the plot-check page."""
    page_header("ui.plot.title", "ui.plot.caption")
    case = get_case()
    if case is None:
        return
    with guard():
        kwargs = inputs(case)
        industry = st.text_input(t("ui.plot.industry"), key="plot_industry").strip() or None
        if kwargs is None:
            return
        check = checked(case, industry, kwargs)
        if st.session_state.get("plot_mode") == "draw":
            data = as_dict(check)
            st.markdown(
                t(
                    "ui.draw.summary",
                    mu=fmt_num(data.get("area_mu"), 2),
                    share=fmt_pct(data.get("redline_share")),
                    redline_mu=fmt_num(data.get("redline_mu"), 2),
                )
            )
        report(case, check)


with guard():
    render()
