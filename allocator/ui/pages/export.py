"""导出 Export: download any export of a run (maps, vector files, workbook, report, bundle)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import streamlit as st

from allocator import (
    AllocatorError,
    export,
    has_plan,
    redact_paths,
    run_label,
    run_names,
    run_status_label,
    set_run_label,
)
from allocator.ui import results
from allocator.ui.common import (
    fixed,
    get_case,
    get_run,
    guard,
    lang,
    list_runs,
    page_header,
    runs_dir,
    session_dir,
    short_hash,
    show_error,
    t,
)

FORMATS = (
    "brief",
    "xlsx",
    "gpkg",
    "shp",
    "geojson",
    "parquet",
    "png",
    "pdf",
    "html",
    "report",
    "zip",
)
# What a run without a plan can export: its diagnosis and settings (workbook, report).
PLANLESS_FORMATS = ("xlsx", "report")
# With more files than this, the single-file buttons fold away under one zip of them all.
MANY_FILES = 6
MIME = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".gpkg": "application/geopackage+sqlite3",
    ".zip": "application/zip",
    ".geojson": "application/geo+json",
    ".png": "image/png",
    ".pdf": "application/pdf",
    ".html": "text/html",
    ".parquet": "application/octet-stream",
}


def render() -> None:
    """Draw the export page."""
    page_header("ui.export.title", "ui.export.caption")
    paths = list_runs()
    if not paths:
        st.info(t("ui.export.no_runs"))
        return
    names = {str(p): name for p, name in run_names(paths, lang()).items()}
    picked = st.selectbox(
        t("ui.export.run"),
        [str(p) for p in paths],
        format_func=fixed(lambda p: names.get(p, t("runs.damaged"))),
        key="export_run",
    )
    run = get_run(Path(picked))
    if run is None:
        return
    label_editor(Path(picked))
    planless = not has_plan(run.status)
    st.caption(t("app_runs.export.status", status=run_status_label(run, lang())))
    if planless:
        st.warning(t("app_runs.export.no_plan"))
        with st.expander(t("app_runs.export.diagnosis"), expanded=False):
            results.diagnosis(run, heading=False)
    offered = PLANLESS_FORMATS if planless else FORMATS
    zones = ["", *sorted(run.zones["zone_id"].astype(str))] if "zone_id" in run.zones else [""]
    names_by_zone = (
        dict(zip(run.zones["zone_id"].astype(str), run.zones["name"].astype(str), strict=True))
        if {"zone_id", "name"} <= set(run.zones.columns)
        else {}
    )
    c1, c2 = st.columns([3, 1])
    formats = c1.multiselect(
        t("ui.export.formats"),
        offered,
        default=["xlsx"] if planless else ["brief", "xlsx", "gpkg"],
        format_func=fixed(lambda f: t(f"ui.export.fmt_{f}")),
        key=f"export_formats{'_planless' if planless else ''}",
    )
    zone = c2.selectbox(
        t("ui.export.zone"),
        zones,
        format_func=fixed(
            lambda z: t("ui.overview.all_zones") if z == "" else names_by_zone.get(z, z)
        ),
        key="export_zone",
        disabled=planless,
    )
    zone = "" if planless else zone  # a run without a plan exports its diagnosis, all zones
    if st.button(t("ui.export.make"), type="primary", key="export_make", disabled=not formats):
        out = session_dir() / "exports" / short_hash(f"{picked}{formats}{zone}{lang()}")
        out.mkdir(parents=True, exist_ok=True)
        with st.spinner(t("ui.export.working")):
            try:
                files = export(
                    run, formats, out, lang=lang(), zone=zone or None, case=run_case(run)
                )
            except Exception as exc:  # noqa: BLE001
                show_error(_without_paths(exc, [runs_dir(), session_dir(), Path(picked)]))
                return
        st.session_state["export_files"] = [str(f) for f in files]
        st.session_state["export_of"] = picked
    if st.session_state.get("export_of") != picked:
        return  # the files made are another run's
    files = [Path(f) for f in st.session_state.get("export_files", []) if Path(f).exists()]
    if not files:
        return
    downloads(files)


def label_editor(path: Path) -> None:
    """Let the user give the run a short label (kept in the run folder, shown in its name)."""
    with st.expander(t("app_runs.label.title")):
        key = f"run_label_{short_hash(str(path))}"
        if key not in st.session_state:
            st.session_state[key] = run_label(path)
        c1, c2 = st.columns([3, 1])
        text = c1.text_input(
            t("app_runs.label.input"), key=key, max_chars=40, placeholder=t("app_runs.label.hint")
        )
        c2.write("")
        if c2.button(t("app_runs.label.save"), key="run_label_save"):
            try:
                set_run_label(path, text)
            except AllocatorError as exc:
                show_error(exc)
                return
            st.rerun()


def downloads(files: list[Path]) -> None:
    """Offer the files made: previews, one zip of them all and (folded when many) each file."""
    st.success(t("ui.export.ready", n=len(files)))
    previews = [f for f in files if f.suffix.lower() == ".png"][:3]
    if previews:
        cols = st.columns(len(previews))
        for col, path in zip(cols, previews, strict=True):
            col.image(str(path), caption=path.name)
    if len(files) > 1:
        st.download_button(
            t("app_runs.export.all", n=len(files)),
            data=lambda: _zip_files(files),
            file_name=t("app_runs.export.all_name"),
            mime="application/zip",
            key="export_dl_all",
            type="primary",
        )
    box = st.expander(t("app_runs.export.each", n=len(files))) if len(files) > MANY_FILES else None
    for i, path in enumerate(files):
        data = path.read_bytes() if path.is_file() else _zip_dir(path)
        name = path.name if path.is_file() else f"{path.name}.zip"
        (box or st).download_button(
            f"⬇ {name} ({len(data) / 1024:,.0f} KB)",
            data=data,
            file_name=name,
            mime=MIME.get(Path(name).suffix.lower(), "application/octet-stream"),
            key=f"export_dl_{i}",
        )


def _without_paths(exc: Exception, folders: list[Path]) -> Exception:
    """Return ``exc`` with the server's folders cut from its message (the user sees names)."""
    if isinstance(exc, AllocatorError):
        exc.message = redact_paths(exc.message, folders)
        exc.hint = redact_paths(exc.hint, folders) if exc.hint else exc.hint
    return exc


def run_case(run: Any) -> Any | None:
    """Return the active case when the run was solved on it (saves loading it again)."""
    case = get_case(show=False)
    if case is None:
        return None
    summary = run.summary or {}
    wanted = summary.get("case_hash")
    if not wanted or not summary.get("case_path") or wanted == case.content_hash():
        return case
    return None


def _zip_files(files: list[Path]) -> bytes:
    """Return one zip of the files (folders with their contents), named as offered."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            if f.is_file():
                zf.write(f, f.name)
            else:
                for g in sorted(f.rglob("*")):
                    if g.is_file():
                        zf.write(g, Path(f.name) / g.relative_to(f))
    return buf.getvalue()


def _zip_dir(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder))
    return buf.getvalue()


with guard():
    render()
