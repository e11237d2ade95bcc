"""Zip bundle of a run: every export plus what is needed to solve it again.

Layout inside the zip::

    scenario.toml        resolved scenario; ``case = "case.gpkg"`` (relative)
    summary.json         the run's summary
    case.gpkg            the case the run was solved on
    run/...              the run folder's files (tables, diagnosis, solver log)
    export/...           the exported files (vector, tables, maps, web map, report)
    MANIFEST.json        file list with sizes and sha256

:func:`unpack_bundle` extracts a bundle safely (absolute paths, ``..`` and
links are refused) and returns the path of ``scenario.toml``, ready for
``allocator solve`` (``--from-bundle``).
"""

from __future__ import annotations

import hashlib
import json
import stat
import tomllib
import zipfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
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

        add_text(SCENARIO, bundle_scenario_toml(run.scenario))
        add_file(run.path / "summary.json", "summary.json")
        add_file(case_path, CASE)
        for f in sorted(run.path.iterdir()):
            if f.is_file():
                add_file(f, f"run/{f.name}")
        for f in files:
            f = Path(f)
            if f.resolve() == path.resolve() or not f.is_file():
                continue
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


def _safe_member(info: zipfile.ZipInfo, dest: Path) -> Path:
    name = info.filename
    pure = PurePosixPath(name.replace("\\", "/"))
    mode = info.external_attr >> 16
    if (
        pure.is_absolute()
        or ".." in pure.parts
        or (pure.parts and ":" in pure.parts[0])
        or stat.S_ISLNK(mode)
    ):
        raise ExportError(
            t("err.export.member_outside", name=repr(name)),
            hint=t("err.export.member_outside_hint"),
        )
    target = (dest / Path(*pure.parts)).resolve()
    if target != dest and dest not in target.parents:
        raise ExportError(
            t("err.export.member_outside", name=repr(name)),
            hint=t("err.export.member_outside_hint"),
        )
    return target


def unpack_bundle(zip_path: str | Path, dest: str | Path) -> Path:
    """Extract a bundle into ``dest``; return the path of its ``scenario.toml``.

    Every member is checked before anything is written: absolute paths,
    ``..`` components, drive letters and symbolic links are refused. The
    returned scenario names ``case.gpkg`` next to it.

    Raises
    ------
    ExportError
        Not a zip, a member escapes ``dest``, or ``scenario.toml`` / ``case.gpkg``
        is missing.
    """
    zip_path = Path(zip_path)
    dest = Path(dest).resolve()
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExportError(
            t("err.export.not_zip", path=zip_path, error=exc), hint=t("err.export.bundle_hint")
        ) from exc
    with zf:
        infos = zf.infolist()
        targets = [(_safe_member(i, dest), i) for i in infos]
        names = {i.filename for i in infos}
        for need in (SCENARIO, CASE):
            if need not in names:
                raise ExportError(
                    t("err.export.bundle_lacks", path=zip_path, need=need),
                    hint=t("err.export.bundle_hint"),
                )
        dest.mkdir(parents=True, exist_ok=True)
        for target, info in targets:
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, target.open("wb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
    scenario = dest / SCENARIO
    try:
        tomllib.loads(scenario.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExportError(t("err.export.bad_toml", path=scenario, error=exc)) from exc
    return scenario
