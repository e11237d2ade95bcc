"""总览 Overview: the province map of zones, per-zone cards and the case's validation status."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from allocator import has_plan, import_case, load_case, run_name, validate_case
from allocator.ui import maps
from allocator.ui.common import (
    attempt,
    case_key,
    case_path,
    fixed,
    fmt_num,
    fmt_pct,
    get_case,
    get_scores,
    guard,
    lang,
    list_runs,
    page_header,
    save_upload,
    session_dir,
    short_hash,
    show_table,
    t,
)
from allocator.ui.summaries import CLASSES, zone_summary
from allocator.units import planner_unit


@st.cache_resource(show_spinner=False, max_entries=4)
def _validation(path: str, mtime: float, _case: Any) -> list:
    return list(validate_case(_case))


CASE_TYPES = [
    "gpkg",
    "zip",
    "csv",
    "xlsx",
    "geojson",
    "json",
    "parquet",
    "shp",
    "shx",
    "dbf",
    "prj",
    "cpg",
]


def case_upload() -> None:
    """Let the user switch to another case: a case GeoPackage, or layer files to import.

    Layer files (``plots.zip``, ``firms.xlsx``, ``地块.geojson`` …) go through the
    library's importer, which maps Chinese headers, validates everything and
    refuses unsafe zips (members with ``..`` or absolute paths).
    """
    with st.expander(t("ui.case.other")):
        uploads = st.file_uploader(
            t("ui.case.upload"),
            type=CASE_TYPES,
            accept_multiple_files=True,
            key="case_upload",
            max_upload_size=50,
        )
        if uploads and st.button(t("ui.case.use"), key="case_use"):
            with guard():
                use_uploaded_case(uploads)
        if st.session_state.get("case_path") and st.button(t("ui.case.reset"), key="case_reset"):
            st.session_state.pop("case_path", None)
            st.rerun()


def use_uploaded_case(uploads: list) -> None:
    """Validate (and import when needed) uploaded case files; switch the session to the case."""
    folder = session_dir() / f"case-{short_hash(''.join(sorted(u.name for u in uploads)))}"
    paths = [save_upload(u, folder.name) for u in uploads]
    if len(paths) == 1 and paths[0].suffix.lower() == ".gpkg":
        load_case(paths[0])  # raises CaseError listing every problem
        path = paths[0]
    else:
        path = session_dir() / f"{folder.name}.gpkg"
        _, report = import_case(folder, path)
        if report:
            with st.expander(t("ui.case.report")):
                st.text("\n".join(str(line) for line in report))
    st.session_state["case_path"] = str(path)
    st.success(t("ui.case.switched", name=path.name))


def validation_status(case: Any) -> None:
    """Show the case's validation problems (errors and warnings)."""
    key = case_key()
    problems = attempt(_validation, *key, case) if key else None
    if problems is None:
        return
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    if errors:
        st.error(t("ui.overview.invalid", errors=len(errors), warnings=len(warnings)))
    elif warnings:
        st.warning(t("ui.overview.valid_warnings", warnings=len(warnings)))
    else:
        st.success(t("ui.overview.valid"))
    if problems:
        with st.expander(t("ui.overview.problems")):
            show_table(
                pd.DataFrame([p.to_dict() for p in problems]), hide_index=True, width="stretch"
            )


def zone_map(case: Any, summary: pd.DataFrame, focus: str | None) -> str | None:
    """Draw the zones (and the focused zone's plots); return a zone id picked on the map."""
    key = case_key() or ("", 0.0)
    layers = maps.admin_layer(case, key)
    zones_fc = maps.features(case.zones, ("zones", *key), ["zone_id", "name", "city"], 5.0)
    color = maps.with_color(zones_fc, maps.ZONE_COLOR)
    if focus:
        color = maps.with_color(color, [255, 193, 7, 160], {focus}, "zone_id")
    # Zones are a few km across: one pickable dot per zone is what the user clicks. (With the
    # polygons pickable as well, Streamlit 1.67 reported no selection at all for a click.)
    layers.append(maps.layer("zones", color, line=[21, 101, 192, 255]))
    view_gdf = case.zones
    if focus:
        plots = case.plots[case.plots["zone_id"].astype(str) == focus]
        fc = maps.features(plots, ("plots", focus, *key), ["plot_id", "status", "land_use"], 0.5)
        layers.append(
            maps.layer("plots", maps.colorize(fc, "status", maps.STATUS_COLORS, maps.GREY))
        )
        red = case.redline
        if len(red):
            red_fc = maps.features(red, ("redline", *key), ["name"], 2.0)
            layers.append(maps.layer("redline", red_fc, fill=maps.REDLINE_COLOR))
        view_gdf = case.zones[case.zones["zone_id"].astype(str) == focus]
    layers.append(zone_markers(case))
    tip = "<b>{zone_id}</b> {name}" if not focus else "{zone_id} {name} {plot_id} {status}"
    state = maps.show(
        maps.deck(layers, maps.view_for(view_gdf, width_px=760, height_px=560), tip),
        key=f"overview_map_{focus}",
        select=True,
        height=560,
    )
    if focus:
        maps.legend(maps.STATUS_COLORS, {k: t(f"ui.status.{k}") for k in maps.STATUS_COLORS})
    return maps.selected_property(state, "zone_markers", "zone_id")


def zone_markers(case: Any) -> Any:
    """Return a layer of one pickable dot per zone (at its representative point)."""
    import pydeck as pdk

    pts = case.zones.geometry.representative_point().to_crs("EPSG:4326")
    data = [
        {"zone_id": str(z), "name": str(n), "lon": float(p.x), "lat": float(p.y)}
        for z, n, p in zip(case.zones["zone_id"], case.zones["name"], pts, strict=True)
    ]
    return pdk.Layer(
        "ScatterplotLayer",
        id="zone_markers",
        data=data,
        get_position="[lon, lat]",
        get_radius=3000,
        radius_min_pixels=6,
        radius_max_pixels=14,
        get_fill_color=[21, 101, 192, 220],
        get_line_color=[255, 255, 255, 255],
        stroked=True,
        line_width_min_pixels=1.5,
        pickable=True,
    )


def zone_card(row: pd.Series, has_classes: bool) -> None:
    """Draw one zone's card: area, plots, firms by class, energy and power vs caps, 亩均税收."""
    with st.container(border=True):
        st.markdown(f"**{row['zone_id']} · {row['name']}**")
        c1, c2, c3 = st.columns(3)
        c1.metric(t("ui.overview.area"), f"{fmt_num(row['area_mu'], 0)} {t('unit.mu')}")
        c2.metric(t("ui.overview.plots"), fmt_num(row["plots"], 0))
        c3.metric(  # a short name: a card's column cuts longer ones; the unit is in the help
            t("pages.overview.tax_per_mu"),
            f"{fmt_num(row['tax_per_mu'], 2)}",
            help=t("ui.overview.tax_per_mu"),
        )
        st.caption(
            t(
                "ui.overview.plot_status",
                vacant=int(row["plots_vacant"]),
                idle=int(row["plots_idle"]),
                occupied=int(row["plots_occupied"]),
            )
        )
        if has_classes:
            mix = " · ".join(f"{c} {int(row[f'class_{c}'])}" for c in CLASSES)
            st.caption(t("ui.overview.firm_classes", firms=int(row["firms"]), mix=mix))
        else:
            st.caption(t("ui.overview.firms", firms=int(row["firms"])))
        for what, unit in (("energy", "tce"), ("electricity", "MWh")):
            share = row[f"{what}_use_share"]
            use = row["energy_tce" if what == "energy" else "electricity_mwh"]
            cap = row["energy_cap_tce" if what == "energy" else "electricity_cap_mwh"]
            factor, unit_label = planner_unit(unit, lang())  # electricity in 万千瓦时
            label = t(
                f"ui.overview.{what}_use",
                use=fmt_num(use * factor, 0),
                cap=fmt_num(cap * factor, 0),
                unit=unit_label,
                share=fmt_pct(share, 0),
            )
            if share == share:  # not NaN
                st.progress(min(max(float(share), 0.0), 1.0), text=label)
            else:
                st.caption(label)


# The planner's way through the app, in order.
STEPS: tuple[str, ...] = ("check", "baseline", "whatif", "compare", "export")


def current_step(case: Any) -> tuple[str, Any]:
    """Return the step to do now and the run it is about (None when none).

    The case's data has errors → check; no run yet → run the baseline; the
    newest run has no plan → repair it (its diagnosis); every run is one
    scenario → try a what-if; else compare, then export.
    """
    key = case_key()
    problems = attempt(_validation, *key, case) if key else None
    if problems and any(p.severity == "error" for p in problems):
        return "check", None
    paths = list_runs()
    if not paths:
        return "baseline", None
    summaries = [_summary(p) for p in paths[:20]]  # summary.json only: no tables loaded
    if not has_plan(summaries[0].get("status")):
        return "repair", paths[0]
    scenarios = {
        str(s.get("scenario_hash") or p.name) for s, p in zip(summaries, paths, strict=False)
    }
    if len(scenarios) < 2:
        return "whatif", paths[0]
    return "compare", paths[0]


def _summary(path: Any) -> dict:
    """Return a run folder's ``summary.json`` ({} when it cannot be read)."""
    import json

    try:
        data = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def next_step(case: Any) -> None:
    """Say what to do next (check → baseline → what-if → compare → export), with page buttons."""
    step, run_path = current_step(case)
    order = list(STEPS)
    now = "whatif" if step == "repair" else step
    done = order[: order.index(now)]
    with st.container(border=True):
        st.markdown(f"**{t('app_runs.next.title')}**")
        st.caption(
            " → ".join(
                ("✓ " if s in done else "▶ " if s == now else "") + t(f"app_runs.next.step.{s}")
                for s in order
            )
        )
        name = run_name(run_path, lang()) if run_path is not None else ""
        st.info(t(f"app_runs.next.do.{step}", run=name))
        targets = {
            "check": [],
            "baseline": ["whatif"],
            "repair": ["whatif", "export"],
            "whatif": ["whatif", "compare"],
            "compare": ["compare", "export"],
        }[step]
        if targets:
            cols = st.columns(len(targets) + 1)
            for i, page in enumerate(targets):
                if cols[i].button(
                    t(f"app_runs.next.go.{page}"),
                    key=f"next_{page}",
                    type="primary" if i == 0 else "secondary",
                ):
                    st.switch_page(f"allocator/ui/pages/{page}.py")


def render() -> None:
    """Draw the overview page."""
    page_header("ui.overview.title", "ui.overview.caption")
    case = get_case()
    case_upload()
    if case is None:
        return
    st.caption(t("ui.overview.case", path=case_path().name))
    next_step(case)
    scores = get_scores(case)
    summary = zone_summary(case, scores)
    c = st.columns(4)
    c[0].metric(t("ui.overview.n_zones"), fmt_num(len(case.zones), 0))
    c[1].metric(t("ui.overview.n_plots"), fmt_num(len(case.plots), 0))
    c[2].metric(t("ui.overview.n_existing"), fmt_num((case.firms["kind"] == "existing").sum(), 0))
    c[3].metric(
        t("pages.overview.n_applicants"), fmt_num((case.firms["kind"] == "applicant").sum(), 0)
    )
    validation_status(case)

    ids = summary["zone_id"].tolist()
    labels = dict(zip(summary["zone_id"], summary["name"], strict=True))
    options = ["", *ids]
    picked = st.session_state.pop("_zone_picked", None)
    if picked in ids:
        st.session_state["overview_zone"] = picked
    left, right = st.columns([3, 2], gap="medium")
    with left:
        focus = st.selectbox(
            t("ui.overview.focus"),
            options,
            format_func=fixed(
                lambda z: t("ui.overview.all_zones") if z == "" else f"{z} · {labels[z]}"
            ),
            key="overview_zone",
        )
        with guard():
            clicked = zone_map(case, summary, focus or None)
            if clicked and clicked != focus and clicked in ids:
                st.session_state["_zone_picked"] = clicked
                st.rerun()
    with right:
        st.subheader(t("ui.overview.cards"))
        shown = summary[summary["zone_id"] == focus] if focus else summary
        has_classes = "class_A" in summary.columns
        if not has_classes:
            st.caption(t("ui.overview.no_scores"))
        with st.container(height=620, border=False):
            for _, row in shown.iterrows():
                zone_card(row, has_classes)


with guard():
    render()
