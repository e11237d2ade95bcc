"""Exports of a run: vector layers, Excel tables, static maps, web map, report, zip bundle.

``export(run, formats, out_dir, lang="zh", zone=None)`` is the one entry
point (the CLI ``allocator export`` and the app call it). Formats:

========  ==============================================================
brief     ``brief.pdf`` and ``brief.docx``: the two-page 汇报材料
gpkg      ``allocation.gpkg`` (layers + QGIS ``layer_styles``)
geojson   ``geojson/<layer>.geojson`` (RFC 7946)
shp       ``shapefile.zip`` (UTF-8 ``.cpg``, ``.prj``, ``fields.csv``)
parquet   ``geoparquet/<layer>.parquet``
xlsx      ``tables.xlsx``
png       ``maps/overview.png``, ``maps/zone_<id>.png`` (200 dpi)
pdf       ``maps/overview.pdf``, ``maps/zone_<id>.pdf`` (vector)
html      ``webmap.html`` (self-contained, offline)
report    ``report.html`` and ``report.pdf``
zip       ``<run>.zip``: all of the above + scenario, summary, case
========  ==============================================================
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from allocator.errors import ExportError

FORMATS = (
    "brief",
    "gpkg",
    "geojson",
    "shp",
    "parquet",
    "xlsx",
    "png",
    "pdf",
    "html",
    "report",
    "zip",
)


def parse_formats(formats: str | Iterable[str] | None) -> list[str]:
    """Normalise ``"gpkg,png"`` / a list / None (= all) / ``"all"`` into known format names.

    Raises
    ------
    ExportError
        An unknown format name.
    """
    from allocator.i18n import t

    if formats is None:
        return list(FORMATS)
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out: list[str] = []
    for raw in items:
        name = str(raw).strip().lower().lstrip(".")
        name = {"shapefile": "shp", "geoparquet": "parquet", "excel": "xlsx"}.get(name, name)
        if not name:
            continue
        if name == "all":
            return list(FORMATS)
        if name not in FORMATS:
            raise ExportError(t("export.error.format", fmt=name, formats=",".join(FORMATS)))
        if name not in out:
            out.append(name)
    return out or list(FORMATS)


def export(
    run: Any,
    formats: str | Iterable[str] | None = None,
    out_dir: str | Path | None = None,
    lang: str | None = "zh",
    zone: str | None = None,
    *,
    case: Any = None,
) -> list[Path]:
    """Export ``run`` in ``formats`` into ``out_dir``; return the files written.

    Parameters
    ----------
    run
        A :class:`~allocator.runs.Run` or the path of a run folder.
    formats
        Names from :data:`FORMATS` (list or comma-separated); None or ``"all"``: all.
    out_dir
        Output folder (default: ``<run>/export``).
    lang
        ``zh`` (default) or ``en``: headers, legends, titles, report.
    zone
        Export one zone only (its plots, firms, KPIs and map).
    case
        The run's case, when already loaded (default: ``run.load_case()``).

    Raises
    ------
    ExportError
        Unknown format or zone, a run without solution, a missing case file.
    """
    from allocator.export.data import collect
    from allocator.runs import Run, load_run
    from allocator.safety import staged_folder

    if not isinstance(run, Run):
        run = load_run(run)
    fmts = parse_formats(formats)
    if fmts == ["zip"]:  # a bundle alone holds every other format too
        fmts = list(FORMATS)
    final = Path(out_dir) if out_dir is not None else run.path / "export"
    needs_allocation = any(f not in ("xlsx", "report") for f in fmts)
    data = collect(run, case=case, lang=lang, zone=zone, require_solution=needs_allocation)
    # built in a hidden temporary folder, moved into place only when every file is written
    with staged_folder(final) as out:
        written = _write(run, data, fmts, out, zone)
        staged = [p.relative_to(out) for p in written]
    return [final / rel for rel in staged]


def _write(run: Any, data: Any, fmts: list[str], out: Path, zone: str | None) -> list[Path]:
    """Write the formats into ``out``; return the files written."""
    from allocator.export import brief, bundle, maps, report, tables, vector, webmap
    from allocator.safety import safe_filename

    written: list[Path] = []
    if "brief" in fmts:
        written += brief.write_brief(data, out)
    if "gpkg" in fmts:
        written.append(vector.write_gpkg(data, out / "allocation.gpkg"))
    if "geojson" in fmts:
        written += vector.write_geojson(data, out / "geojson")
    if "shp" in fmts:
        written.append(vector.write_shapefile_zip(data, out / "shapefile.zip"))
    if "parquet" in fmts:
        written += vector.write_geoparquet(data, out / "geoparquet")
    if "xlsx" in fmts:
        written.append(tables.write_xlsx(data, out / "tables.xlsx"))
    map_formats = tuple(f for f in ("png", "pdf") if f in fmts)
    if map_formats:
        written += maps.write_maps(data, out / "maps", map_formats)
    if "html" in fmts:
        written.append(webmap.write_webmap(data, out / "webmap.html"))
    if "report" in fmts:
        written += report.write_report(data, out)
    if "zip" in fmts:
        name = run.path.name + (f"-{safe_filename(zone)}" if zone else "") + ".zip"
        case_path = getattr(data.case, "source", None)
        case_file = Path(case_path) if case_path and Path(case_path).is_file() else None
        written.append(bundle.write_bundle(run, written, out, out / name, case_file))
    return written


class _CallableModule(types.ModuleType):
    """The ``allocator.export`` package, callable as :func:`export`.

    ``allocator.export`` is both the lazily imported API function (CONTRIBUTING.md)
    and this package: once any ``allocator.export.<module>`` is imported, Python
    binds the package to the ``allocator.export`` attribute, shadowing the
    function. Making the package callable keeps ``allocator.export(run, ...)``
    working either way.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> list[Path]:
        return export(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["FORMATS", "export", "parse_formats"]
