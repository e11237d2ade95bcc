"""Scenario keys that refer to the case: its content hash and the ids in cap keys.

A scenario file is checked on its own when loaded (:mod:`allocator.scenario`);
whether the ids in its keys exist can only be checked against a case. A key
naming a zone or control unit the case does not have would otherwise be
ignored silently (the cap the user meant to set never applies). Likewise a
saved scenario's ``case_hash`` must be the content hash of the case it runs on.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from allocator.errors import ScenarioError
from allocator.i18n import t

ID_KEYS = {
    "caps.zones": ("zones", "zone_id"),
    "caps.units": ("control_units", "unit_id"),
    "land.use_share": ("zones", "zone_id"),
}
"""Scenario key prefixes whose next part is an id, and the case layer and column it names."""


def _file_setting(scenario: Any, key: str) -> str:
    """Return the file of the scenario's chain that sets ``key`` (the last one does)."""
    for path in reversed(tuple(getattr(scenario, "files", ()) or ())):
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        node: Any = data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                node = None
                break
            node = node[part]
        if node is not None:
            return str(path)
    return scenario.name


def check_case_hash(scenario: Any, case: Any) -> None:
    """Raise when the scenario records a case content hash (``case_hash``) the case lacks.

    A saved scenario (:mod:`allocator.scenario_library`) records the hash of the
    case it was made on; the same file run on changed data would answer another
    question silently.

    Raises
    ------
    ScenarioError
        Naming the scenario file, the key ``case_hash``, the case file and both
        hashes (short), with how to run it anyway.
    """
    expected = scenario.flat.get("case_hash")
    if not expected:
        return
    actual = case.content_hash()
    if str(expected) == actual:
        return
    source = getattr(case, "source", None) or scenario.flat.get("case") or ""
    raise ScenarioError(
        t(
            "err.scenario.case_changed",
            where=_file_setting(scenario, "case_hash"),
            param="case_hash",
            case=Path(str(source)).name if source else "—",
            saved=str(expected)[:12],
            actual=actual[:12],
        ),
        hint=t("err.scenario.case_changed_hint"),
    )


def check_scenario_ids(scenario: Any, case: Any) -> None:
    """Raise when the scenario does not fit the case: its case hash, or an unknown id.

    The case hash is :func:`check_case_hash`; then every ``caps.zones.<id>`` and
    ``caps.units.<id>`` key must name a zone or control unit of the case.

    Raises
    ------
    ScenarioError
        Naming the scenario file and the key: another case version, or the
        unknown id with the closest existing id as a hint.
    """
    check_case_hash(scenario, case)
    for prefix, (layer, column) in ID_KEYS.items():
        frame = getattr(case, layer, None)
        if frame is None or column not in frame.columns:
            continue
        known = [str(v) for v in frame[column].dropna()]
        known_set = set(known)
        for ident in scenario.per_id(prefix):
            if ident in known_set:
                continue
            key = next(k for k in scenario.flat if k.startswith(f"{prefix}.{ident}."))
            close = difflib.get_close_matches(ident, known, n=1)
            raise ScenarioError(
                t(
                    "err.scenario.unknown_id",
                    where=_file_setting(scenario, key),
                    param=key,
                    ident=ident,
                    layer=layer,
                ),
                hint=t("err.scenario.did_you_mean", close=close[0])
                if close
                else t("err.scenario.known_ids", ids=", ".join(known[:20])),
            )


def check_confined(path: str | Path, roots: Sequence[str | Path]) -> None:
    """Raise when an uploaded scenario reaches outside ``roots`` or names an unshipped method.

    The app lets users upload scenario files; such a file (and each file it
    ``extends``) may extend only files inside ``roots`` (the shipped scenarios
    and the session's own uploads) and may set ``scoring.method`` only to a
    shipped method's name. Messages name the uploaded file by its name and
    repeat only what the user wrote: they never show a server path, nor tell
    whether a file outside ``roots`` exists.

    Raises
    ------
    ScenarioError
        The first file of the chain that reaches outside.
    """
    from allocator.scenario import MAX_EXTENDS_DEPTH
    from allocator.scoring.method import available_methods

    allowed = [Path(r).resolve() for r in roots]
    current = Path(path).resolve()
    name = Path(path).name
    for _ in range(MAX_EXTENDS_DEPTH + 1):
        try:
            raw = tomllib.loads(current.read_text(encoding="utf-8-sig"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ScenarioError(
                t("err.upload.unreadable", name=name, error=type(exc).__name__),
                hint=t("err.upload.hint"),
            ) from None
        method = (raw.get("scoring") or {}).get("method")
        if method is not None and method not in available_methods():
            raise ScenarioError(
                t("err.upload.method", name=name, value=str(method)),
                hint=t("err.upload.method_hint", known=", ".join(available_methods())),
            )
        ext = raw.get("extends")
        if not isinstance(ext, str):
            return  # no parent (a non-text extends is load_scenario's message)
        target = (current.parent / ext).resolve()
        if not any(target == r or r in target.parents for r in allowed) or not target.is_file():
            raise ScenarioError(
                t("err.upload.extends", name=name, value=ext), hint=t("err.upload.hint")
            )
        current, name = target, target.name
    raise ScenarioError(t("err.upload.extends", name=name, value="…"), hint=t("err.upload.hint"))


def redact_paths(text: str, paths: Sequence[str | Path]) -> str:
    """Return ``text`` with each of ``paths`` (and its resolved form) cut to its last part.

    For messages shown to app users: a message about an uploaded file must not
    show the server's folders.
    """
    forms = {str(q) for p in paths for q in (Path(p), Path(p).resolve())}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form + "/", "").replace(form, Path(form).name)
    return text
