"""Ids and names are data: never paths, never markup, never formulas.

Every value that comes from a user's files (a zone id, a firm name, a scenario
name) may hold anything: ``../``, ``<script>``, ``=HYPERLINK(…)``. Three
helpers turn such a value into something safe for the place it goes, and every
writer uses them (``tests/test_safety.py`` scans ``allocator/`` for writers that
do not):

- :func:`safe_filename` — a file or folder name built from an id;
- :func:`escape_html` — a value put into an HTML page or an HTML template
  (web map tooltips and popups, the report, the app's map tooltips);
- :func:`neutralise_cell` / :func:`neutralise_frame` — a text cell in a
  spreadsheet or CSV file, which Excel would otherwise run as a formula;
  :data:`XLSX_OPTIONS` / :func:`excel_writer` switch off xlsxwriter's own
  string-to-formula and string-to-link conversions.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

SAFE_CHARS = re.compile(r"[^A-Za-z0-9_\-\u4e00-\u9fa5]")
"""Characters a file name built from an id may not keep: all but ASCII letters,
digits, ``_``, ``-`` and the common CJK ideographs (一-龥)."""

SAFE_NAME_MAX = 64
"""Longest kept part of a safe name (characters); longer ids are cut and hashed."""

HASH_SEP = "~"
"""Separator before the hash of a changed id; never kept from an id, so a changed
id's name can not equal an unchanged id's name."""

WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(10)] + [f"LPT{i}" for i in range(10)]
)
"""Device names Windows refuses as file names, whatever the extension."""


def safe_filename(value: Any) -> str:
    r"""Return a file-name-safe form of ``value`` (an id or name); never a path.

    Ids made only of ASCII letters, digits, ``_``, ``-`` and CJK ideographs (and
    at most :data:`SAFE_NAME_MAX` long, not a Windows device name, not starting
    with ``-``) are kept as they are, so ``ZJ01`` stays ``ZJ01``. Anything else
    has the other characters replaced by ``_``, is cut to
    :data:`SAFE_NAME_MAX` and gets ``~`` plus 16 hex digits of the SHA-256 of
    the original appended: two different ids never share a name (up to a
    64-bit hash collision) and no result holds ``/``, ``\``, ``.`` or a NUL, so
    ``folder / safe_filename(x)`` is always directly inside ``folder``.
    """
    text = "" if value is None else str(value)
    kept = SAFE_CHARS.sub("_", text)
    changed = (
        kept != text
        or not text
        or len(text) > SAFE_NAME_MAX
        or text.startswith("-")
        or text.upper() in WINDOWS_RESERVED
    )
    if not changed:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    if kept.startswith("-"):  # not an option to a command that gets the name
        kept = "_" + kept[1:]
    return f"{kept[:SAFE_NAME_MAX]}{HASH_SEP}{digest}"


def safe_child(folder: str | Path, value: Any, suffix: str = "") -> Path:
    """Return ``folder / (safe_filename(value) + suffix)``: a path inside ``folder``."""
    return Path(folder) / f"{safe_filename(value)}{suffix}"


def escape_html(value: Any) -> str:
    """Return ``value`` as text safe inside HTML elements and quoted attributes.

    Escapes ``& < > " '`` and also ``/`` (OWASP's rule for HTML content), so a
    name holding a URL is not mistaken for a link the page loads (the web map
    checks that it loads nothing from another host).
    """
    if value is None:
        return ""
    return html.escape(str(value), quote=True).replace("/", "&#x2F;")


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make Excel / LibreOffice read a text cell as a formula
(OWASP "CSV injection")."""


def neutralise_cell(value: Any) -> Any:
    """Return ``value`` with a leading ``'`` when it is text starting like a formula.

    Numbers, booleans and other values are returned unchanged; only text cells
    beginning with one of :data:`FORMULA_PREFIXES` are changed.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` with every text cell and header neutralised."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            mapped = series.map(neutralise_cell)
            if isinstance(series.dtype, pd.StringDtype):
                mapped = mapped.astype(series.dtype)
            out[col] = mapped
    out.columns = [neutralise_cell(c) for c in out.columns]
    if out.index.dtype == object:
        out.index = out.index.map(neutralise_cell)
    return out


XLSX_OPTIONS: dict[str, Any] = {"strings_to_formulas": False, "strings_to_urls": False}
"""xlsxwriter workbook options for every workbook we write: text stays text."""


def excel_writer(path: Any) -> pd.ExcelWriter:
    """Return a ``pd.ExcelWriter`` (xlsxwriter) writing text cells as text, never formulas.

    Frames written through it should still go through :func:`neutralise_frame`,
    so a user who later edits a cell does not turn it into a formula.
    """
    return pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": dict(XLSX_OPTIONS)})


# ----------------------------------------------------------------------------- output places


def check_output(path: str | Path, *, folder: bool = False, option: str = "") -> Path:
    """Check that ``path`` can be written, before any work is done; return it.

    ``folder``: the output is a folder (``solve --out``, ``export -o``), else a
    file. The path itself, when it exists, must be of that kind and writable;
    otherwise its nearest existing ancestor must be a writable folder (the
    missing folders in between are created only when the output is written).

    Raises
    ------
    AllocatorError
        One located message naming the option and the path, and why it cannot
        be written.
    """
    from allocator.errors import AllocatorError
    from allocator.i18n import t

    p = Path(path)

    def refuse(key: str, where: Path) -> AllocatorError:
        return AllocatorError(
            t("output.cannot_write", option=option or "-o", path=str(p), why=t(key, path=where)),
            hint=t("output.hint"),
        )

    if p.exists() or p.is_symlink():
        if folder and not p.is_dir():
            raise refuse("output.not_a_folder", p)
        if not folder and p.is_dir():
            raise refuse("output.is_a_folder", p)
        if not os.access(p, os.W_OK) or (folder and not os.access(p, os.X_OK)):
            raise refuse("output.read_only", p)
        return p
    parent = p.parent
    while not (parent.exists() or parent.is_symlink()):
        if parent == parent.parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        raise refuse("output.parent_not_folder", parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise refuse("output.read_only", parent)
    return p


@contextmanager
def staged_folder(final: str | Path) -> Iterator[Path]:
    """Build a folder's content in a temporary folder; move it to ``final`` when complete.

    Yields the temporary folder (a hidden sibling of ``final``). When the block
    ends normally, each file in it is moved into ``final`` (created if needed;
    files already there with the same names are replaced, others are kept).
    When the block raises, the temporary folder and any parent folders this
    created are removed: a failed export leaves no empty or half folder.
    """
    final = Path(final)
    made = [q for q in (final.parent, *final.parent.parents) if not q.exists()]
    final.parent.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(final.parent)
    stage = Path(tempfile.mkdtemp(prefix=temp_prefix(final.name), dir=final.parent))
    try:
        yield stage
        final.mkdir(exist_ok=True)
        for src in sorted(stage.rglob("*")):
            if src.is_dir():
                continue
            dst = final / src.relative_to(stage)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.is_dir():
                shutil.rmtree(dst)
            os.replace(src, dst)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        for q in made:
            try:
                q.rmdir()
            except OSError:
                break
        raise
    shutil.rmtree(stage, ignore_errors=True)


# ----------------------------------------------------------------------------- leftovers

TEMP_PREFIX = ".tmp-"
"""Hidden temporary folders of writes in progress start with this."""

STALE_AFTER_S = 3600.0
"""A temporary folder older than this is a leftover even if its owner's id is reused."""

_TEMP_NAME = re.compile(r"^\.tmp-.*-(\d+)-[A-Za-z0-9_]{8}$")


def temp_prefix(label: str) -> str:
    """Return the ``mkdtemp`` prefix of a write's temporary folder: label and process id.

    The process id lets :func:`sweep_leftovers` tell a folder whose writer was
    killed from one still being written.
    """
    return f"{TEMP_PREFIX}{safe_filename(label)}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def sweep_leftovers(folder: str | Path) -> list[Path]:
    """Remove temporary folders left in ``folder`` by killed writes; return them.

    A temporary folder (named by :func:`temp_prefix`) is a leftover when the
    process that made it is gone, or when it is older than
    :data:`STALE_AFTER_S`. Each removal is logged as a warning (logger
    ``allocator``), so the user hears about the interrupted write.
    """
    import logging
    import time

    from allocator.i18n import t

    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    now = time.time()
    for p in folder.iterdir():
        m = _TEMP_NAME.match(p.name)
        if not m or not p.is_dir() or p.is_symlink():
            continue
        try:
            old = now - p.stat().st_mtime > STALE_AFTER_S
        except OSError:
            continue
        if old or not _alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
            logging.getLogger("allocator").warning(t("output.leftover_removed", path=str(p)))
    return removed
