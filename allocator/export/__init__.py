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

import functools
import sys
import types
from collections.abc import Callable, Iterable
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


MAP_JOBS = 2
"""Zone maps are drawn in this many jobs (the largest share of an export's time)."""


def _jobs(
    data: Any, fmts: list[str], out: Path, drawn: tuple[str | None, ...] = ()
) -> list[Callable[[], list[Path]]]:
    """Return the writers of ``fmts`` as independent jobs, the longest first (report, maps).

    Each job writes its own files and returns them; none reads another's output,
    so they may run in any order or at once (:func:`_run_jobs`). Maps in
    ``drawn`` (by zone id, None: the overview) are already written.
    """
    from allocator.export import brief, maps, report, tables, vector, webmap

    jobs: list[Callable[[], list[Path]]] = []
    if "report" in fmts:
        jobs.append(lambda: list(report.write_report(data, out)))
    map_formats = tuple(f for f in ("png", "pdf") if f in fmts)
    if map_formats:
        zones = [z for z in maps.map_ids(data) if z not in drawn]

        def zone_maps(part: list[str | None]) -> list[Path]:
            return [p for z in part for p in maps.write_map(data, out / "maps", z, map_formats)]

        for k in range(min(MAP_JOBS, len(zones))):
            jobs.append(functools.partial(zone_maps, zones[k::MAP_JOBS]))
    if "brief" in fmts:
        jobs.append(lambda: list(brief.write_brief(data, out)))
    if "xlsx" in fmts:
        jobs.append(lambda: [tables.write_xlsx(data, out / "tables.xlsx")])
    if "html" in fmts:
        jobs.append(lambda: [webmap.write_webmap(data, out / "webmap.html")])

    def vectors() -> list[Path]:
        written: list[Path] = []
        if "gpkg" in fmts:
            written.append(vector.write_gpkg(data, out / "allocation.gpkg"))
        if "geojson" in fmts:
            written += vector.write_geojson(data, out / "geojson")
        if "shp" in fmts:
            written.append(vector.write_shapefile_zip(data, out / "shapefile.zip"))
        if "parquet" in fmts:
            written += vector.write_geoparquet(data, out / "geoparquet")
        return written

    if any(f in fmts for f in ("gpkg", "geojson", "shp", "parquet")):
        jobs.append(vectors)
    return jobs


def _write(run: Any, data: Any, fmts: list[str], out: Path, zone: str | None) -> list[Path]:
    """Write the formats into ``out``; return the files written.

    The map of the brief and the report (the overview, or the one zone asked
    for) is drawn first, once: its PNG is kept (``data.rendered``) for them.
    The other formats are independent jobs (:func:`_jobs`), run in parallel
    where that is safe (:func:`_run_jobs`); the bundle packs the files they
    wrote, nothing is built twice.
    """
    from allocator.export import bundle, maps
    from allocator.safety import safe_filename

    written: list[Path] = []
    map_formats = tuple(f for f in ("png", "pdf") if f in fmts)
    lead = maps.map_ids(data)[:1]  # the overview, or the zone asked for
    if lead and (map_formats or "brief" in fmts or "report" in fmts):
        if map_formats:
            written += maps.write_map(data, out / "maps", lead[0], map_formats)
        if lead[0] not in data.rendered:
            maps.map_png(data, lead[0])
    drawn = tuple(lead) if map_formats else ()
    written += _run_jobs(_jobs(data, fmts, out, drawn))
    if "zip" in fmts:
        name = run.path.name + (f"-{safe_filename(zone)}" if zone else "") + ".zip"
        case_path = getattr(data.case, "source", None)
        case_file = Path(case_path) if case_path and Path(case_path).is_file() else None
        written.append(bundle.write_bundle(run, written, out, out / name, case_file))
    return written


_JOBS: list[Callable[[], list[Path]]] = []
"""The jobs of the export under way, inherited by the forked workers (:func:`_run_jobs`)."""


def _run_job(i: int) -> list[Path] | BaseException:
    """Run job ``i`` in a worker; an error comes back as a value (raised by the parent)."""
    import pickle

    try:
        return _JOBS[i]()
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that cannot cross processes
            return RuntimeError(f"{type(exc).__name__}: {exc}")
        return exc


def workers() -> int:
    """Return how many processes an export may use: the CPUs it may run on, at most 4.

    1 (no parallelism) in a process with other threads (the app's server):
    forking a multi-threaded process can deadlock the child on a lock another
    thread held; and where ``fork`` is not available.
    """
    import multiprocessing
    import os
    import threading

    if threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


def _run_jobs(jobs: list[Callable[[], list[Path]]]) -> list[Path]:
    """Run ``jobs``; in forked worker processes when :func:`workers` allows more than one.

    The workers inherit the export's data (fork: nothing is pickled but the
    file lists); the files come back in job order, whatever order they finish in.
    """
    n = min(workers(), len(jobs))
    if n <= 1:
        return [p for job in jobs for p in job()]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _JOBS
    _JOBS = jobs
    try:
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_run_job, range(len(jobs))))
    finally:
        _JOBS = []
    written: list[Path] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        written += result
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
