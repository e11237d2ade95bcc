"""Named scenarios a planner saves, and the what-if draft kept between sessions.

A :class:`ScenarioLibrary` is a folder of scenario files, one per name. Each file
is an ordinary scenario (``allocator solve saved.toml`` runs it): the resolved
parameters, the planner's ``name`` (any text, Chinese included) and
``description``, and its case given portably — a path relative to the file and
the case's content hash (``case_hash``; :func:`allocator.scenario_refs.check_case_hash`
refuses to run it on other data). File names come from
:func:`allocator.safety.safe_filename` of the name; people see names, never
file names. Every write goes to a temporary file first and is moved into place,
so a failed or refused save leaves nothing behind.

A draft (:func:`save_draft`, :func:`load_draft`) is the what-if page's
unsaved state, one JSON file per case key, so an edit survives a page change
and a browser reload; a draft written for another version of the case is
discarded when read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from allocator.errors import ScenarioError
from allocator.i18n import t
from allocator.safety import safe_child
from allocator.scenario import Scenario, load_scenario

NAME_MAX = 80
"""Longest scenario name (characters)."""

FORBIDDEN_IN_NAMES = '/\\:*?"<>|'
"""Characters a scenario name may not hold: path separators and what Windows refuses."""

DRAFT_VERSION = 1
"""Layout version of a draft file; a draft of another version is ignored."""

log = logging.getLogger("allocator")


@dataclass(frozen=True)
class SavedScenario:
    """One file of a scenario library, as the list shows it.

    ``problem`` is empty for a readable scenario; otherwise it says why the file
    cannot be used (``name`` is then the file's stem, the only name it has).
    """

    path: Path
    name: str
    description: str
    modified: datetime
    case_hash: str | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """Whether the file is a readable, valid scenario."""
        return not self.problem


def check_name(name: str) -> str:
    """Return ``name`` stripped, or raise when it cannot name a saved scenario.

    Raises
    ------
    ScenarioError
        Empty, longer than :data:`NAME_MAX`, ``.``/``..``, or holding a path
        character (:data:`FORBIDDEN_IN_NAMES`) or a control character.
    """
    text = str(name or "").strip()
    if not text:
        raise ScenarioError(t("scenlib.name_empty"), hint=t("scenlib.name_hint"))
    if len(text) > NAME_MAX:
        raise ScenarioError(
            t("scenlib.name_long", n=len(text), max=NAME_MAX), hint=t("scenlib.name_hint")
        )
    bad = sorted({c for c in text if c in FORBIDDEN_IN_NAMES or ord(c) < 32 or ord(c) == 127})
    if bad or text in (".", ".."):
        shown = " ".join(repr(c)[1:-1] for c in bad) or text
        raise ScenarioError(
            t("scenlib.name_chars", name=text, chars=shown), hint=t("scenlib.name_hint")
        )
    return text


def portable_case(case: str | Path, folder: str | Path | None) -> str:
    """Return how a scenario file in ``folder`` names ``case``: never an absolute path.

    A path relative to ``folder`` (POSIX separators) when there is one; else the
    case file's name (a scenario downloaded to an unknown place, or a case on
    another drive), to be found beside the scenario file or given with
    ``--case``. A store address (``postgresql://…``) is kept as it is.
    """
    text = str(case)
    if "://" in text:
        return text
    target = Path(text).resolve()
    if folder is not None:
        try:
            return Path(os.path.relpath(target, Path(folder).resolve())).as_posix()
        except ValueError:  # another drive (Windows): no relative path exists
            pass
    return target.name


def portable_toml(
    scenario: Scenario,
    *,
    name: str,
    description: str = "",
    folder: str | Path | None = None,
    case_hash: str | None = None,
) -> str:
    """Return ``scenario`` as a self-contained TOML file for ``folder`` (no ``extends``).

    ``name`` and ``description`` replace the scenario's; the case is named by
    :func:`portable_case` and, when given, its content hash (``case_hash``).
    """
    import tomli_w

    data = scenario.to_dict()
    data.pop("case_hash", None)
    data["name"] = name
    data["description"] = description
    if scenario.case_path is not None:
        data["case"] = portable_case(scenario.case_path, folder)
    else:
        data.pop("case", None)
    if case_hash:
        data["case_hash"] = case_hash
    head: dict[str, Any] = {}
    for key in ("name", "description", "case", "case_hash"):  # the file opens with who and what
        if key in data:
            head[key] = data.pop(key)
    text: str = tomli_w.dumps({**head, **data})
    return text


def _temp_file(folder: Path, text: str, suffix: str) -> Path:
    """Write ``text`` to a new hidden temporary file in ``folder`` (flushed to disk)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _place(tmp: Path, path: Path, *, replace: bool) -> None:
    """Move the finished temporary file ``tmp`` to ``path`` in one step.

    With ``replace=False`` an existing file is never overwritten: the name is
    hard-linked into place, which fails when it exists.
    """
    if replace:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: check, then move
        if path.exists():
            raise FileExistsError(path) from None
        os.replace(tmp, path)


def _write_atomic(path: Path, text: str, *, replace: bool) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    tmp = _temp_file(path.parent, text, path.suffix)
    try:
        _place(tmp, path, replace=replace)
    finally:
        tmp.unlink(missing_ok=True)


def _cannot_write(exc: OSError) -> ScenarioError:
    """Return the message for a library folder that cannot be written (no server path)."""
    return ScenarioError(
        t("scenlib.cannot_write", error=exc.strerror or type(exc).__name__),
        hint=t("scenlib.cannot_write_hint"),
    )


class ScenarioLibrary:
    """The named scenarios saved in one folder (the app uses ``<runs>/scenarios``).

    Names are compared ignoring case (two names that differ only in case would
    share a file on Windows and macOS).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def path_for(self, name: str) -> Path:
        """Return the file a scenario called ``name`` is (or would be) saved in."""
        return safe_child(self.folder, check_name(name), ".toml")

    def entries(self) -> list[SavedScenario]:
        """Return the saved scenarios, newest first; unreadable files carry their ``problem``."""
        if not self.folder.is_dir():
            return []
        out = []
        for path in self.folder.glob("*.toml"):
            if path.name.startswith(".") or not path.is_file():
                continue
            try:
                out.append(self._entry(path))
            except FileNotFoundError:  # deleted meanwhile (another session)
                continue
        out.sort(key=lambda e: (e.modified, e.name), reverse=True)
        return out

    @staticmethod
    def _entry(path: Path) -> SavedScenario:
        modified = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            return SavedScenario(path, path.stem, "", modified, problem=exc.message)
        raw_hash = scenario.get("case_hash")
        return SavedScenario(
            path,
            scenario.name,
            str(scenario.get("description") or ""),
            modified,
            case_hash=str(raw_hash) if raw_hash else None,
        )

    def find(self, name: str) -> SavedScenario:
        """Return the saved scenario called ``name``.

        Raises
        ------
        ScenarioError
            No saved scenario has that name.
        """
        key = str(name).strip().casefold()
        for entry in self.entries():
            if entry.name.casefold() == key:
                return entry
        raise ScenarioError(t("scenlib.not_found", name=name), hint=t("scenlib.not_found_hint"))

    def _check_free(self, name: str, keep: Path | None = None) -> Path:
        """Return the file for a new ``name``; raise when another scenario has the name."""
        name = check_name(name)
        for entry in self.entries():
            if entry.name.casefold() == name.casefold() and entry.path != keep:
                raise ScenarioError(
                    t("scenlib.duplicate", name=name), hint=t("scenlib.duplicate_hint")
                )
        path = self.path_for(name)
        if path.exists() and path != keep:  # a file no listed entry claims (unreadable)
            raise ScenarioError(t("scenlib.duplicate", name=name), hint=t("scenlib.duplicate_hint"))
        return path

    def _write_checked(self, path: Path, text: str, name: str, *, replace: bool = False) -> None:
        """Write ``text`` to ``path`` if it reads back as a scenario from this folder.

        The temporary file is checked as the CLI would read it (its relative
        case path resolved from this folder), then moved into place.
        """
        try:
            tmp = _temp_file(self.folder, text, ".toml")
        except OSError as exc:
            raise _cannot_write(exc) from None
        try:
            load_scenario(tmp)
            _place(tmp, path, replace=replace)
        except ScenarioError as exc:
            raise ScenarioError(
                t("scenlib.invalid", name=name, error=exc.message), hint=exc.hint
            ) from None
        except FileExistsError:
            raise ScenarioError(
                t("scenlib.duplicate", name=name), hint=t("scenlib.duplicate_hint")
            ) from None
        except OSError as exc:
            raise _cannot_write(exc) from None
        finally:
            tmp.unlink(missing_ok=True)

    def save(
        self,
        scenario: Scenario,
        name: str,
        description: str = "",
        *,
        case_hash: str | None = None,
    ) -> SavedScenario:
        """Save ``scenario`` under a new ``name``; return its list entry.

        The file is self-contained (the resolved parameters, no ``extends``),
        names its case relative to itself and records ``case_hash`` when given.

        Raises
        ------
        ScenarioError
            A bad or taken name, or a scenario that does not read back; nothing
            is written then.
        """
        name = check_name(name)
        path = self._check_free(name)
        text = portable_toml(
            scenario,
            name=name,
            description=str(description or "").strip(),
            folder=self.folder,
            case_hash=case_hash,
        )
        self._write_checked(path, text, name)
        return self._entry(path)

    def load(self, name: str) -> Scenario:
        """Return the saved scenario called ``name``, resolved (its case path absolute).

        Raises
        ------
        ScenarioError
            No such name, or the file is no longer a valid scenario.
        """
        entry = self._usable(name)
        return load_scenario(entry.path)

    def _usable(self, name: str) -> SavedScenario:
        entry = self.find(name)
        if not entry.ok:
            raise ScenarioError(
                t("scenlib.corrupt", file=entry.path.name, error=entry.problem),
                hint=t("scenlib.corrupt_hint"),
            )
        return entry

    def _raw(self, entry: SavedScenario) -> dict[str, Any]:
        try:
            return tomllib.loads(entry.path.read_text(encoding="utf-8-sig"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ScenarioError(
                t("scenlib.corrupt", file=entry.path.name, error=str(exc)),
                hint=t("scenlib.corrupt_hint"),
            ) from None

    def _copy(
        self, name: str, new_name: str, *, same_file: bool
    ) -> tuple[SavedScenario, Path, str]:
        """Return the entry, the new file and its text; ``same_file``: a rename may keep it."""
        import tomli_w

        entry = self._usable(name)
        new_name = check_name(new_name)
        same = same_file and new_name.casefold() == entry.name.casefold()
        path = self._check_free(new_name, keep=entry.path if same else None)
        raw = self._raw(entry)
        raw["name"] = new_name
        text: str = tomli_w.dumps(raw)
        return entry, path, text

    def rename(self, name: str, new_name: str) -> SavedScenario:
        """Give the saved scenario ``name`` a new name (its file follows); return the entry.

        Raises
        ------
        ScenarioError
            No such name, a bad or taken new name, or an unreadable file.
        """
        entry, path, text = self._copy(name, new_name, same_file=True)
        if path == entry.path:
            self._write_checked(path, text, new_name, replace=True)
        else:
            self._write_checked(path, text, new_name)
            try:
                entry.path.unlink(missing_ok=True)
            except OSError as exc:  # the new file stays; the old name is still listed
                raise _cannot_write(exc) from None
        return self._entry(path)

    def duplicate(self, name: str, new_name: str) -> SavedScenario:
        """Save a copy of the scenario ``name`` as ``new_name``; return the copy's entry.

        Raises
        ------
        ScenarioError
            No such name, a bad or taken new name, or an unreadable file.
        """
        entry, path, text = self._copy(name, new_name, same_file=False)
        self._write_checked(path, text, new_name)
        return self._entry(path)

    def delete(self, name: str) -> None:
        """Delete the saved scenario ``name`` (an unreadable one too, by its file's name).

        Raises
        ------
        ScenarioError
            No such name.
        """
        try:
            self.find(name).path.unlink(missing_ok=True)
        except OSError as exc:
            raise _cannot_write(exc) from None


# ----------------------------------------------------------------------------- drafts


@dataclass(frozen=True)
class DraftRead:
    """What :func:`load_draft` found: the draft (or None), and whether a stale one was removed."""

    data: dict[str, Any] | None
    discarded: bool = False


def draft_path(folder: str | Path, key: str) -> Path:
    """Return the draft file of ``key`` (e.g. the case's path) in ``folder``."""
    digest = hashlib.sha256(str(key).encode("utf-8")).hexdigest()[:16]
    return safe_child(folder, digest, ".json")


def save_draft(folder: str | Path, key: str, case_hash: str, data: Mapping[str, Any]) -> Path:
    """Write the draft of ``key`` (JSON-able ``data``) atomically; return its file.

    ``case_hash`` is the content hash of the case the draft was made on; a
    later :func:`load_draft` for another hash discards it.
    """
    path = draft_path(folder, key)
    payload = {"version": DRAFT_VERSION, "key": str(key), "case_hash": case_hash, "data": data}
    _write_atomic(path, json.dumps(payload, ensure_ascii=False, indent=1), replace=True)
    return path


def load_draft(folder: str | Path, key: str, case_hash: str) -> DraftRead:
    """Return the draft of ``key`` when it was made on the case with ``case_hash``.

    A draft made on another version of the case is deleted (``discarded``); an
    unreadable draft file is deleted with a note in the log (nothing to restore).
    """
    path = draft_path(folder, key)
    if not path.is_file():
        return DraftRead(None)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        ok = (
            isinstance(payload, dict)
            and payload.get("version") == DRAFT_VERSION
            and payload.get("key") == str(key)
            and isinstance(payload.get("data"), dict)
        )
    except (OSError, ValueError):
        ok = False
    if not ok:
        log.warning(t("scenlib.draft_unreadable", path=str(path)))
        path.unlink(missing_ok=True)
        return DraftRead(None)
    if payload.get("case_hash") != case_hash:
        path.unlink(missing_ok=True)
        return DraftRead(None, discarded=True)
    data: dict[str, Any] = payload["data"]
    return DraftRead(data)


def discard_draft(folder: str | Path, key: str) -> None:
    """Delete the draft of ``key`` (if any)."""
    draft_path(folder, key).unlink(missing_ok=True)
