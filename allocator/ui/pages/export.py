"""导出 Export: download any export of a run (maps, vector files, workbook, report, bundle)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import streamlit as st

from allocator import export
from allocator.ui.common import (
    fixed,
    get_case,
    get_run,
    guard,
    lang,
    list_runs,
    page_header,
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
    picked = st.selectbox(
        t("ui.export.run"),
        [str(p) for p in paths],
        format_func=lambda p: Path(p).name,
        key="export_run",
    )
    run = get_run(Path(picked))
    if run is None:
        return
    zones = ["", *sorted(run.zones["zone_id"].astype(str))] if "zone_id" in run.zones else [""]
    c1, c2 = st.columns([3, 1])
    formats = c1.multiselect(
        t("ui.export.formats"),
        FORMATS,
        default=["brief", "xlsx", "gpkg"],
        format_func=fixed(lambda f: t(f"ui.export.fmt_{f}")),
        key="export_formats",
    )
    zone = c2.selectbox(
        t("ui.export.zone"),
        zones,
        format_func=fixed(lambda z: t("ui.overview.all_zones") if z == "" else z),
        key="export_zone",
    )
    if st.button(t("ui.export.make"), type="primary", key="export_make", disabled=not formats):
        out = session_dir() / "exports" / short_hash(f"{picked}{formats}{zone}{lang()}")
        out.mkdir(parents=True, exist_ok=True)
        with st.spinner(t("ui.export.working")):
            try:
                files = export(
                    run, formats, out, lang=lang(), zone=zone or None, case=run_case(run)
                )
            except Exception as exc:  # noqa: BLE001
                show_error(exc)
                return
        st.session_state["export_files"] = [str(f) for f in files]
    files = [Path(f) for f in st.session_state.get("export_files", []) if Path(f).exists()]
    if not files:
        return
    st.success(t("ui.export.ready", n=len(files)))
    previews = [f for f in files if f.suffix.lower() == ".png"][:3]
    if previews:
        cols = st.columns(len(previews))
        for col, path in zip(cols, previews, strict=True):
            col.image(str(path), caption=path.name)
    for i, path in enumerate(files):
        data = path.read_bytes() if path.is_file() else _zip_dir(path)
        name = path.name if path.is_file() else f"{path.name}.zip"
        st.download_button(
            f"⬇ {name} ({len(data) / 1024:,.0f} KB)",
            data=data,
            file_name=name,
            mime=MIME.get(Path(name).suffix.lower(), "application/octet-stream"),
            key=f"export_dl_{i}",
        )


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


def _zip_dir(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder))
    return buf.getvalue()


with guard():
    render()
