r"""Safe, reversible row and variable names.

A row has a *display name* used in every report, ``zone_energy[Z03]`` when it
has one key and ``zone_split[firm=F12,zone=Z03]`` when it has several, and a
*solver name* given to PuLP. PuLP silently rewrites ``-+[] ->/`` to ``_`` and
LP/MPS files dislike non-ASCII text, so the solver name is an ASCII-only
sanitised form made unique with a numeric suffix; :class:`NameRegistry` keeps
the mapping both ways, so nothing is lost. Display names are themselves
parseable back into ``(family, keys)`` by :func:`parse`: the characters
``\ , = [ ]`` inside a value are escaped with a backslash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_ESCAPE = re.compile(r"([\\,=\[\]])")
_SAFE = re.compile(r"[^A-Za-z0-9_.]")


def _esc(value: str) -> str:
    if "\\" in value or "," in value or "=" in value or "[" in value or "]" in value:
        return _ESCAPE.sub(r"\\\1", value)
    return value


def display_name(family: str, keys: Mapping[str, str] | None = None) -> str:
    """Return the display name of a row or variable.

    Parameters
    ----------
    family
        Constraint family (or variable kind), e.g. ``zone_energy``.
    keys
        Ordered key → value mapping. One key is written as ``family[value]``;
        several as ``family[k1=v1,k2=v2]``; none as ``family``.
    """
    if not keys:
        return family
    items = list(keys.items())
    if len(items) == 1:
        return f"{family}[{_esc(str(items[0][1]))}]"
    inner = ",".join(f"{_esc(str(k))}={_esc(str(v))}" for k, v in items)
    return f"{family}[{inner}]"


def _split(text: str, sep: str) -> list[str]:
    """Split on unescaped ``sep``; keep escapes (removed by :func:`_unesc`)."""
    parts, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def _unesc(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse(name: str, single_key: str = "key") -> tuple[str, dict[str, str]]:
    """Parse a display name back into ``(family, keys)``.

    A one-key name (``zone_energy[Z03]``) has no key name in the text; it is
    returned under ``single_key``. Use :meth:`NameRegistry.keys` to get the
    original key names.
    """
    if "[" not in name:
        return name, {}
    family, rest = name.split("[", 1)
    if not rest.endswith("]"):
        raise ValueError(f"not a row name: {name!r}")
    inner = rest[:-1]
    parts = _split(inner, ",")
    if len(parts) == 1 and len(_split(parts[0], "=")) == 1:
        return family, {single_key: _unesc(parts[0])}
    keys: dict[str, str] = {}
    for part in parts:
        kv = _split(part, "=")
        if len(kv) != 2:
            raise ValueError(f"not a row name: {name!r}")
        keys[_unesc(kv[0])] = _unesc(kv[1])
    return family, keys


def solver_name(display: str) -> str:
    """Return an ASCII-only, PuLP/LP/MPS-safe (but lossy) form of a display name."""
    return _SAFE.sub("_", display.replace("[", "_").replace("]", "").replace("=", "_"))


@dataclass(frozen=True)
class RowInfo:
    """What a model row is: family, keys (ordered), unit, sense and right-hand side."""

    name: str
    """Display name, e.g. ``zone_energy[Z03]``."""
    solver_name: str
    """The name PuLP and the LP/MPS files see."""
    family: str
    keys: tuple[tuple[str, str], ...]
    unit: str
    """Unit of the row's left-hand side (``tce``, ``MWh``, ``t``, ``万元``, ``mu``…)."""
    sense: str
    """``<=``, ``>=`` or ``==``."""
    rhs: float

    @property
    def key_dict(self) -> dict[str, str]:
        """Keys as a dict."""
        return dict(self.keys)


@dataclass
class NameRegistry:
    """Both-way map between display names and unique solver names."""

    rows: dict[str, RowInfo] = field(default_factory=dict)
    by_solver: dict[str, str] = field(default_factory=dict)
    _used: dict[str, int] = field(default_factory=dict)

    def unique_solver_name(self, display: str) -> str:
        """Return a fresh solver name for ``display`` (suffix ``_2``, ``_3``… on clash)."""
        base = solver_name(display)
        n = self._used.get(base, 0)
        self._used[base] = n + 1
        if n == 0 and base not in self.by_solver:
            return base
        while True:
            n += 1
            cand = f"{base}_{n}"
            if cand not in self.by_solver and cand not in self._used:
                self._used[cand] = 1
                return cand

    def add(
        self,
        family: str,
        keys: Mapping[str, str] | None,
        unit: str,
        sense: str,
        rhs: float,
    ) -> RowInfo:
        """Register a row; raise ``ValueError`` on a duplicate display name."""
        display = display_name(family, keys)
        if display in self.rows:
            raise ValueError(f"duplicate row name {display!r}")
        sname = self.unique_solver_name(display)
        info = RowInfo(display, sname, family, tuple((keys or {}).items()), unit, sense, float(rhs))
        self.rows[display] = info
        self.by_solver[sname] = display
        return info

    def display(self, solver: str) -> str:
        """Return the display name of a solver name."""
        return self.by_solver[solver]

    def keys(self, display: str) -> dict[str, str]:
        """Return the ordered keys of a row."""
        return self.rows[display].key_dict
