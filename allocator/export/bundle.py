"""Zip bundle of a run: every export plus what is needed to solve it again.

Layout inside the zip::

    scenario.toml        resolved scenario; ``case = "case.gpkg"`` (relative)
    summary.json         the run's summary
    case.gpkg            the case the run was solved on
    run/...              the run folder's files (tables, diagnosis, solver log)
    export/...           the exported files (vector, tables, maps, web map, report)
    README.md            what the bundle holds and the one command that re-runs it (zh + en)
    MANIFEST.json        file list with sizes and sha256

The Shapefile zip is not packed again (the GeoPackage holds the same layers).

:func:`unpack_bundle` extracts a bundle safely (absolute paths, ``..`` and
links are refused) and returns the path of ``scenario.toml``, ready for
``allocator solve`` (``--from-bundle``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from allocator.errors import ExportError
from allocator.i18n import t

SCENARIO = "scenario.toml"
CASE = "case.gpkg"
STORED = {".png", ".zip", ".parquet", ".xlsx", ".pdf"}
"""Already-compressed formats are stored, not deflated again."""


def bundle_scenario_toml(scenario: dict[str, Any]) -> str:
    """Return the resolved scenario with its case pointing at the bundled ``case.gpkg``."""
    data = dict(scenario)
    data["case"] = CASE
    return tomli_w.dumps(data)


def bundle_readme(run: Any, zip_name: str) -> str:
    """Return the bundle's README: what it holds and the command that solves it again (zh + en)."""
    command = f"allocator solve --from-bundle {zip_name} --out runs"
    name = str(run.summary.get("scenario_name") or run.path.name)
    parts = [
        t("export.bundle.readme", lang, scenario=name, command=command) for lang in ("zh", "en")
    ]
    return "\n\n---\n\n".join(parts) + "\n"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_bundle(
    run: Any, files: list[Path], export_root: Path, path: Path, case_path: Path | None = None
) -> Path:
    """Write the bundle zip at ``path``.

    Parameters
    ----------
    run
        The :class:`~allocator.runs.Run`.
    files
        Exported files to include (under ``export/``, relative to ``export_root``).
    export_root
        Folder the exported files are relative to.
    path
        The zip to write.
    case_path
        The case GeoPackage (default: the run summary's ``case_path``).

    Raises
    ------
    ExportError
        The case file named by the run is missing.
    """
    case_path = Path(case_path or run.summary.get("case_path") or "")
    if not case_path.is_file():
        raise ExportError(
            t("err.export.case_missing", run=run.path, case=case_path),
            hint=t("err.export.case_missing_hint"),
        )
    manifest: list[dict[str, Any]] = []
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:

        def add_file(src: Path, arc: str) -> None:
            if src.suffix.lower() in STORED:
                zf.write(src, arc, compress_type=zipfile.ZIP_STORED)
            else:
                zf.write(src, arc, compresslevel=1)
            manifest.append({"path": arc, "bytes": src.stat().st_size, "sha256": _sha256(src)})

        def add_text(arc: str, text: str) -> None:
            raw = text.encode("utf-8")
            zf.writestr(arc, raw)
            manifest.append(
                {"path": arc, "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
            )

        add_text("README.md", bundle_readme(run, path.name))
        add_text(SCENARIO, bundle_scenario_toml(run.scenario))
        add_file(run.path / "summary.json", "summary.json")
        add_file(case_path, CASE)
        for f in sorted(run.path.iterdir()):
            if f.is_file():
                add_file(f, f"run/{f.name}")
        for f in files:
            f = Path(f)
            if f.resolve() == path.resolve() or not f.is_file() or f.suffix.lower() == ".zip":
                continue  # the bundle itself; the Shapefile zip (the GeoPackage has its layers)
            try:
                rel = f.resolve().relative_to(export_root.resolve()).as_posix()
            except ValueError:
                rel = f.name
            add_file(f, f"export/{rel}")
        meta = {
            "run": run.path.name,
            "scenario_name": run.summary.get("scenario_name"),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": manifest,
        }
        zf.writestr("MANIFEST.json", json.dumps(meta, ensure_ascii=False, indent=2))
    tmp.replace(path)
    return path


def unpack_bundle(zip_path: str | Path, dest: str | Path) -> Path:
    """Extract a bundle into ``dest``; return the path of its ``scenario.toml``.

    The bundle is extracted by :func:`allocator.archive.extract` (unsafe members,
    sizes beyond the limits and zip bombs are refused) into a temporary folder
    next to ``dest``, checked (``scenario.toml`` and ``case.gpkg`` present, the
    scenario self-contained: :func:`check_self_contained`) and only then renamed
    to ``dest``; on any failure nothing is left behind.

    Raises
    ------
    ExportError
        ``dest`` exists, ``scenario.toml`` / ``case.gpkg`` is missing, or the
        scenario names a file outside the bundle.
    ArchiveError
        Not a zip, an unsafe member or a limit exceeded.
    """
    from allocator.archive import extract

    zip_path = Path(zip_path)
    dest = Path(dest).resolve()
    if dest.exists():
        raise ExportError(t("err.export.dest_exists", path=dest))
    made = [p for p in (dest.parent, *dest.parent.parents) if not p.exists()]
    try:
        tmp = extract(zip_path, parent=dest.parent)
    except BaseException:
        _remove_empty(made)
        raise
    try:
        for need in (SCENARIO, CASE):
            if not (tmp / need).is_file():
                raise ExportError(
                    t("err.export.bundle_lacks", path=zip_path, need=need),
                    hint=t("err.export.bundle_hint"),
                )
        check_self_contained(tmp / SCENARIO, zip_path)
        _check_scenario(tmp, zip_path)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(made)
        raise
    return dest / SCENARIO


def _check_scenario(folder: Path, bundle: Path) -> None:
    """Load the unpacked scenario; its errors name the bundle, not the temporary folder."""
    from allocator.errors import ScenarioError
    from allocator.scenario import load_scenario

    try:
        load_scenario(folder / SCENARIO)
    except ScenarioError as exc:
        message = exc.message.replace(str(folder.resolve()), bundle.name).replace(
            str(folder), bundle.name
        )
        raise ScenarioError(message, problems=exc.problems, hint=exc.hint) from None


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders this unpack created (deepest first) when they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def check_self_contained(scenario: Path, bundle: Path) -> None:
    """Refuse a bundled scenario that names a file outside its bundle.

    ``case`` and ``extends`` must be relative paths inside the bundle's folder;
    ``scoring.method`` must be a shipped method's name (a path would be read
    from wherever the command runs).

    Raises
    ------
    ExportError
        Not valid TOML, or a key naming a file outside the bundle.
    """
    from allocator.scoring.method import available_methods

    root = scenario.parent.resolve()
    try:
        data = tomllib.loads(scenario.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExportError(
            t("err.export.bad_toml", path=f"{bundle.name}:{SCENARIO}", error=exc)
        ) from exc
    method = (data.get("scoring") or {}).get("method")
    if method is not None and method not in available_methods():
        raise ExportError(
            t(
                "err.export.outside_bundle",
                bundle=bundle.name,
                param="scoring.method",
                value=method,
            ),
            hint=t("err.export.bundle_method_hint", known=", ".join(available_methods())),
        )
    named = {"case": data.get("case"), "extends": data.get("extends")}
    for key, value in named.items():
        if value is None:
            continue
        target = (root / str(value)).resolve()
        if Path(str(value)).is_absolute() or (target != root and root not in target.parents):
            raise ExportError(
                t("err.export.outside_bundle", bundle=bundle.name, param=key, value=value),
                hint=t("err.export.outside_bundle_hint"),
            )
