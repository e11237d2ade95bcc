"""Reading zip archives from users: one place, with limits, never outside a temp folder.

Both the case importer (a zipped Shapefile) and ``solve --from-bundle`` (an
export bundle) read zips they did not write. :func:`extract` is the only code
that turns zip members into files. It

- checks every member before writing anything: no absolute path, no ``..``, no
  drive letter, no link, not more than :data:`MAX_MEMBERS` members, and the
  sizes the zip declares within :data:`MAX_MEMBER_BYTES`, :data:`MAX_TOTAL_BYTES`
  and :data:`MAX_RATIO`;
- streams each member in chunks of :data:`CHUNK_BYTES`, counting the bytes it
  really gets (a zip's declared sizes can lie), and stops at the first limit;
- writes only into a fresh temporary folder it creates itself, which it removes
  on any failure (including Ctrl-C), so a refused archive leaves nothing behind.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from allocator.errors import AllocatorError
from allocator.i18n import t
from allocator.safety import temp_prefix

MiB = 1 << 20
GiB = 1 << 30

MAX_MEMBER_BYTES = 512 * MiB
"""Largest uncompressed member: a case layer of a whole province is well under
100 MiB; a member beyond this is a mistake or a zip bomb."""

MAX_TOTAL_BYTES = 2 * GiB
"""Largest total uncompressed size of one archive (what may land on disk)."""

MAX_RATIO = 200
"""Largest compression ratio (uncompressed / compressed bytes) of a member larger
than :data:`RATIO_FLOOR_BYTES`. Real GIS data and tables deflate 3-20x; a ratio
of hundreds or thousands is a zip bomb."""

RATIO_FLOOR_BYTES = 1 * MiB
"""Members smaller than this are not held to :data:`MAX_RATIO` (a small file of
repeated text can deflate very well and harms nobody)."""

MAX_MEMBERS = 10_000
"""Most members one archive may hold."""

CHUNK_BYTES = 1 * MiB
"""Bytes read at a time while extracting: memory use stays flat."""


class ArchiveError(AllocatorError):
    """A zip archive that is refused: unsafe member, too large, a zip bomb, unreadable."""


def _refuse(archive: Path, member: str, key: str, **fmt: object) -> ArchiveError:
    return ArchiveError(
        t("archive.refused", archive=archive.name, member=member, why=t(key, None, **fmt)),
        hint=t("archive.hint"),
    )


def member_path(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """Return a member's relative path, or None when it is absolute, has ``..`` or a drive."""
    pure = PurePosixPath(info.filename.replace("\\", "/"))
    if (
        not info.filename
        or pure.is_absolute()
        or ".." in pure.parts
        or (pure.parts and ":" in pure.parts[0])
        or "\x00" in info.filename
    ):
        return None
    return pure


def is_link(info: zipfile.ZipInfo) -> bool:
    """Return True when a member is a symbolic link (Unix mode in the external attributes)."""
    return stat.S_ISLNK(info.external_attr >> 16)


def check_members(zf: zipfile.ZipFile, archive: Path) -> list[zipfile.ZipInfo]:
    """Return the archive's members after checking names, types and declared sizes.

    Raises
    ------
    ArchiveError
        An unsafe member (absolute, ``..``, link), too many members, or declared
        sizes beyond the limits.
    """
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _refuse(archive, "", "archive.too_many", n=len(infos), limit=MAX_MEMBERS)
    total = 0
    for info in infos:
        if member_path(info) is None:
            raise _refuse(archive, info.filename, "archive.outside")
        if is_link(info):
            raise _refuse(archive, info.filename, "archive.link")
        _check_size(archive, info.filename, info.file_size, info.compress_size)
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise _refuse(archive, info.filename, "archive.total", limit=_mib(MAX_TOTAL_BYTES))
    return infos


def _mib(n: int) -> str:
    return f"{n / MiB:,.0f} MiB"


def _check_size(archive: Path, member: str, size: int, compressed: int) -> None:
    if size > MAX_MEMBER_BYTES:
        raise _refuse(archive, member, "archive.member", limit=_mib(MAX_MEMBER_BYTES))
    if size > RATIO_FLOOR_BYTES and size > MAX_RATIO * max(compressed, 1):
        raise _refuse(
            archive,
            member,
            "archive.ratio",
            ratio=f"{size / max(compressed, 1):,.0f}",
            limit=MAX_RATIO,
        )


def check_zip(path: str | Path) -> None:
    """Refuse a zip with unsafe members (paths out of the folder, links) or beyond the limits."""
    with open_zip(path) as zf:
        check_members(zf, Path(path))


def open_zip(path: str | Path) -> zipfile.ZipFile:
    """Open ``path`` as a zip, or raise :class:`ArchiveError` naming the file."""
    path = Path(path)
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveError(
            t("archive.unreadable", archive=path.name, error=exc), hint=t("archive.hint")
        ) from exc


def extract(
    path: str | Path,
    *,
    parent: str | Path | None = None,
    select: Callable[[PurePosixPath], bool] | None = None,
    rename: Callable[[PurePosixPath], str] | None = None,
) -> Path:
    """Extract the zip at ``path`` into a new temporary folder; return the folder.

    Parameters
    ----------
    path
        The zip file.
    parent
        Where the temporary folder is created (default: the system temp folder).
        Put it on the same file system as the final place to rename it there.
    select
        Extract only members for which this returns True (default: all).
    rename
        Map a member's path to the relative path it is written at (default: the
        member's own, already checked, path). The result is checked again.

    Raises
    ------
    ArchiveError
        Not a zip, an unsafe member, a limit exceeded while reading, a CRC error.
        The temporary folder is removed before the error is raised.
    """
    path = Path(path)
    with open_zip(path) as zf:
        infos = check_members(zf, path)
        if parent is not None:
            Path(parent).mkdir(parents=True, exist_ok=True)
        dest = Path(tempfile.mkdtemp(prefix=temp_prefix("archive"), dir=parent)).resolve()
        try:
            _extract_into(zf, path, infos, dest, select, rename)
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    return dest


def _extract_into(
    zf: zipfile.ZipFile,
    archive: Path,
    infos: Iterable[zipfile.ZipInfo],
    dest: Path,
    select: Callable[[PurePosixPath], bool] | None,
    rename: Callable[[PurePosixPath], str] | None,
) -> None:
    total = 0
    for info in infos:
        pure = member_path(info)
        assert pure is not None  # checked by check_members
        if select is not None and not select(pure):
            continue
        rel = PurePosixPath(rename(pure)) if rename else pure
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise _refuse(archive, info.filename, "archive.outside")
        target = dest.joinpath(*rel.parts)
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            with zf.open(info) as src, target.open("xb") as out:
                while chunk := src.read(CHUNK_BYTES):
                    written += len(chunk)
                    total += len(chunk)
                    _check_size(archive, info.filename, written, info.compress_size)
                    if total > MAX_TOTAL_BYTES:
                        raise _refuse(
                            archive, info.filename, "archive.total", limit=_mib(MAX_TOTAL_BYTES)
                        )
                    out.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise _refuse(archive, info.filename, "archive.corrupt", error=exc) from exc
        except FileExistsError as exc:  # two members with the same name
            raise _refuse(archive, info.filename, "archive.duplicate") from exc
