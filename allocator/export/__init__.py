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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Job:
    """One writer of an export: the files it writes, its rough cost, the jobs it waits for.

    ``cost_s`` (seconds on the sample case, 2 cores) only orders the jobs: the
    longest chain first (:func:`_order`), so the workers finish together.
    """

    name: str
    run: Callable[[], list[Path]]
    cost_s: float
    after: tuple[str, ...] = ()


MAP_COST_S = {"overview": 0.45, "zone": 0.2, "zone_pixels": 0.12}
"""Rough cost of drawing a map (PNG and PDF; pixels only: the report's preview)."""


VECTOR_COST_S = {"gpkg": 0.3, "geojson": 0.55, "shp": 0.4, "parquet": 0.15}
"""Rough cost of each vector format (each its own job: the workers finish closer together)."""


def _jobs(data: Any, fmts: list[str], out: Path) -> list[Job]:
    """Return the writers of ``fmts`` as jobs; each map is its own job, drawn once.

    A map job writes the map's PNG and PDF (when exported) and keeps its
    pixels and preview (``data.rendered``, ``data.previews``) for the brief
    and the report, which wait for the map jobs they show. The report and the
    brief are one job when both are exported: they share the CJK font subset.
    Each writer's module is imported by its job (a GeoPackage alone does not
    load matplotlib).
    """
    jobs: list[Job] = []
    map_formats = tuple(f for f in ("png", "pdf") if f in fmts)
    report_maps = "report" in fmts and data.run.has_solution
    if map_formats or report_maps or "brief" in fmts:
        from allocator.export import maps

        ids = maps.map_ids(data)
        drawn = ids if map_formats or report_maps else ids[:1]
        for zid in drawn:
            kind = "overview" if zid is None else "zone" if map_formats else "zone_pixels"
            shown = report_maps or ("brief" in fmts and zid == ids[0])  # its preview is needed
            write = functools.partial(
                maps.write_map, data, out / "maps", zid, map_formats, preview=shown
            )
            jobs.append(Job(f"map:{zid}", write, MAP_COST_S[kind]))
    all_maps = tuple(j.name for j in jobs)
    if "report" in fmts and "brief" in fmts:
        jobs.append(Job("report+brief", lambda: _report_and_brief(data, out), 1.6, all_maps))
    elif "report" in fmts:
        jobs.append(Job("report", lambda: _report(data, out), 1.4, all_maps))
    elif "brief" in fmts:
        jobs.append(Job("brief", lambda: _brief(data, out), 0.5, all_maps[:1]))
    if "xlsx" in fmts:
        jobs.append(Job("xlsx", lambda: [_xlsx(data, out)], 1.3))
    if "html" in fmts:
        jobs.append(Job("html", lambda: [_webmap(data, out)], 0.9))
    for fmt, cost in VECTOR_COST_S.items():
        if fmt in fmts:
            jobs.append(Job(fmt, functools.partial(_vector, fmt, data, out), cost))
    return jobs


def _report(data: Any, out: Path) -> list[Path]:
    from allocator.export import report

    return report.write_report(data, out)


def _brief(data: Any, out: Path) -> list[Path]:
    from allocator.export import brief

    return brief.write_brief(data, out)


def _xlsx(data: Any, out: Path) -> Path:
    from allocator.export import tables

    return tables.write_xlsx(data, out / "tables.xlsx")


def _webmap(data: Any, out: Path) -> Path:
    from allocator.export import webmap

    return webmap.write_webmap(data, out / "webmap.html")


def _vector(fmt: str, data: Any, out: Path) -> list[Path]:
    """Write one vector format (the layers are made once per process: ``data.vector_layers``)."""
    from allocator.export import vector

    if fmt == "gpkg":
        return [vector.write_gpkg(data, out / "allocation.gpkg")]
    if fmt == "geojson":
        return list(vector.write_geojson(data, out / "geojson"))
    if fmt == "shp":
        return [vector.write_shapefile_zip(data, out / "shapefile.zip")]
    return list(vector.write_geoparquet(data, out / "geoparquet"))


def _report_and_brief(data: Any, out: Path) -> list[Path]:
    """Write the report and the brief with one CJK font subset (registered for both texts)."""
    from allocator.export import brief, report, report_pdf

    the_report = report.build_report(data)
    the_brief = brief.build_brief(data)
    report_pdf.register_font(
        report_pdf.font_text(the_report) + "".join(brief.brief_texts(the_brief))
    )
    written = report.write_report(data, out, built=the_report)
    return written + brief.write_brief(data, out, built=the_brief)


def _order(jobs: list[Job]) -> dict[str, float]:
    """Return each job's rank: its cost plus the longest chain of jobs waiting for it."""
    rank: dict[str, float] = {}
    waiting = {j.name: [k for k in jobs if j.name in k.after] for j in jobs}

    def of(job: Job) -> float:
        if job.name not in rank:
            rank[job.name] = job.cost_s + max((of(k) for k in waiting[job.name]), default=0.0)
        return rank[job.name]

    for job in jobs:
        of(job)
    return rank


def _write(run: Any, data: Any, fmts: list[str], out: Path, zone: str | None) -> list[Path]:
    """Write the formats into ``out``; return the files written.

    Every map is drawn once (its own job); the brief and the report take its
    pixels. The jobs run in parallel where that is safe (:func:`_run_jobs`);
    the bundle packs the files they wrote, nothing is built twice.
    """
    from allocator.export import bundle
    from allocator.safety import safe_filename

    written = _run_jobs(_jobs(data, fmts, out), data)
    if "zip" in fmts:
        name = run.path.name + (f"-{safe_filename(zone)}" if zone else "") + ".zip"
        case_path = getattr(data.case, "source", None)
        case_file = Path(case_path) if case_path and Path(case_path).is_file() else None
        written.append(bundle.write_bundle(run, written, out, out / name, case_file))
    return written


_JOBS: list[Job] = []
"""The jobs of the export under way, inherited by the forked workers (:func:`_run_jobs`)."""
_DATA: Any = None
"""The export's data, inherited by the forked workers: maps drawn elsewhere are added to it."""

Drawn = dict[str | None, tuple[bytes, bytes]]
"""Maps drawn by a job: ``{zone id: (PNG or b"", preview JPEG)}`` (None: the overview)."""


def _run_job(i: int, handed: Drawn) -> tuple[list[Path], Drawn] | BaseException:
    """Run job ``i`` in a worker, given the maps drawn by other workers.

    Returns the files and the maps this job drew; an error comes back as a value
    (raised by the parent).
    """
    import pickle

    try:
        for zid, (png, preview) in handed.items():
            _DATA.previews[zid] = preview
            if png:
                _DATA.rendered[zid] = png
        before = set(_DATA.previews)
        files = _JOBS[i].run()
        new = {
            z: (_DATA.rendered.get(z, b""), _DATA.previews[z])
            for z in _DATA.previews
            if z not in before
        }
        return files, new
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


def _run_jobs(jobs: list[Job], data: Any) -> list[Path]:
    """Run ``jobs``, each when the jobs it waits for are done, the highest rank first.

    In forked worker processes when :func:`workers` allows more than one: they
    inherit the export's data (nothing is pickled but file lists and the maps
    a waiting job needs). The files come back in job order, whatever order
    the jobs finish in.
    """
    rank = _order(jobs)
    n = min(workers(), len(jobs))
    done: dict[str, list[Path]] = {}
    if n <= 1:
        while len(done) < len(jobs):
            ready = [j for j in jobs if j.name not in done and all(a in done for a in j.after)]
            job = max(ready, key=lambda j: rank[j.name])
            done[job.name] = job.run()
        return [p for j in jobs for p in done[j.name]]
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    global _JOBS, _DATA
    _JOBS, _DATA = jobs, data
    index = {j.name: i for i, j in enumerate(jobs)}
    drawn: Drawn = {}
    running: dict[Future[Any], str] = {}
    try:
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")) as pool:
            while len(done) < len(jobs):
                ready = sorted(
                    (j for j in jobs if j.name not in done and j.name not in running.values()
                     and all(a in done for a in j.after)),
                    key=lambda j: -rank[j.name],
                )  # fmt: skip
                # one job more than workers: a worker that finishes takes the next at
                # once instead of waiting for this process to be scheduled (a busy machine)
                for job in ready[: n + 1 - len(running)]:
                    handed = {z: drawn[z] for z in drawn} if job.after else {}
                    running[pool.submit(_run_job, index[job.name], handed)] = job.name
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    result = future.result()
                    if isinstance(result, BaseException):
                        raise result
                    done[name], new = result
                    drawn.update(new)
    finally:
        _JOBS, _DATA = [], None
    return [p for j in jobs for p in done[j.name]]


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
