"""Scenario keys that name case objects (``caps.zones.<id>.…``, ``caps.units.<id>.…``).

A scenario file is checked on its own when loaded (:mod:`allocator.scenario`);
whether the ids in its keys exist can only be checked against a case. A key
naming a zone or control unit the case does not have would otherwise be
ignored silently (the cap the user meant to set never applies).
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

from allocator.errors import ScenarioError
from allocator.i18n import t

ID_KEYS = {"caps.zones": ("zones", "zone_id"), "caps.units": ("control_units", "unit_id")}
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


def check_scenario_ids(scenario: Any, case: Any) -> None:
    """Raise when a scenario key names a zone or control unit the case does not have.

    Raises
    ------
    ScenarioError
        Naming the scenario file, the key and the unknown id, with the closest
        existing id as a hint.
    """
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
