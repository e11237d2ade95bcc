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

import gc
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

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


_SENSES = {-1: "<=", 0: "==", 1: ">="}


class _Take:
    """The values ``ids[index[i]]`` of one key, looked up only when names are made."""

    def __init__(self, ids: Sequence[str], index: np.ndarray) -> None:
        self.ids = ids
        self.index = index

    def __len__(self) -> int:
        return len(self.index)

    def values(self) -> list[str]:
        ids = self.ids
        return [ids[i] for i in self.index.tolist()]


def take(ids: Sequence[str], index: np.ndarray) -> _Take:
    """Key values ``ids[index]`` for :meth:`NameRegistry.add_block`, materialised lazily."""
    return _Take(ids, np.asarray(index, dtype=np.int64))


KeyColumns = Mapping[str, "Sequence[str] | _Take | str"]
"""Keys of a block of rows, by column: key name → one value per row (or one for all)."""


@dataclass
class _PendingBlock:
    family: str
    unit: str
    n: int
    keys: KeyColumns | list[Mapping[str, str] | None] | None
    sense: np.ndarray
    rhs: np.ndarray


class NameRegistry:
    """Both-way map between display names and unique solver names.

    Rows come one at a time (:meth:`add`) or as blocks (:meth:`add_block`: a
    family, its keys by column, senses and right-hand sides as arrays); the
    names of a block are made only when something asks for them (``rows``,
    ``by_solver``, :meth:`display`), in row order, so they are the same as if
    each row had been added on its own. :meth:`families` answers without names.
    """

    def __init__(self) -> None:
        self._rows: dict[str, RowInfo] = {}
        self._by_solver: dict[str, str] = {}
        self._used: dict[str, int] = {}
        self._pending: list[_PendingBlock] = []
        self._family_runs: list[tuple[str, int]] = []
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def rows(self) -> dict[str, RowInfo]:
        """Display name → :class:`RowInfo`, in row order."""
        self._materialise()
        return self._rows

    @property
    def by_solver(self) -> dict[str, str]:
        """Solver name → display name."""
        self._materialise()
        return self._by_solver

    def families(self) -> np.ndarray:
        """Return the family of every row, in row order (no names are made)."""
        out = np.empty(self._n, dtype=object)
        at = 0
        for fam, n in self._family_runs:
            out[at : at + n] = fam
            at += n
        return out

    def solver_names(self) -> list[str]:
        """Return the solver name of every row, in row order."""
        return [i.solver_name for i in self.rows.values()]

    def unique_solver_name(self, display: str) -> str:
        """Return a fresh solver name for ``display`` (suffix ``_2``, ``_3``… on clash)."""
        base = solver_name(display)
        n = self._used.get(base, 0)
        self._used[base] = n + 1
        if n == 0 and base not in self._by_solver:
            return base
        while True:
            n += 1
            cand = f"{base}_{n}"
            if cand not in self._by_solver and cand not in self._used:
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
        self._materialise()
        self._count(family, 1)
        return self._add(family, keys, unit, sense, float(rhs))

    def add_block(
        self,
        family: str,
        unit: str,
        n: int,
        keys: KeyColumns | list[Mapping[str, str] | None] | None,
        sense: np.ndarray,
        rhs: np.ndarray,
    ) -> None:
        """Register ``n`` rows of ``family`` whose names are made later.

        ``keys`` is None (no keys), a mapping key name → values (one per row,
        a :func:`take`, or a single string for every row) or a list of one
        mapping per row; ``sense`` holds -1 (≤), 0 (=) or 1 (≥) per row.
        """
        if n:
            self._pending.append(_PendingBlock(family, unit, n, keys, sense, rhs))
            self._count(family, n)

    def _count(self, family: str, n: int) -> None:
        self._n += n
        if self._family_runs and self._family_runs[-1][0] == family:
            self._family_runs[-1] = (family, self._family_runs[-1][1] + n)
        else:
            self._family_runs.append((family, n))

    def _add(
        self, family: str, keys: Mapping[str, str] | None, unit: str, sense: str, rhs: float
    ) -> RowInfo:
        display = display_name(family, keys)
        if display in self._rows:
            raise ValueError(f"duplicate row name {display!r}")
        sname = self.unique_solver_name(display)
        info = RowInfo(display, sname, family, tuple((keys or {}).items()), unit, sense, rhs)
        self._rows[display] = info
        self._by_solver[sname] = display
        return info

    def _materialise(self) -> None:
        if not self._pending:
            return
        enabled = gc.isenabled()
        gc.disable()  # many small objects: the cyclic collector would rescan them all
        try:
            self._make_names()
        finally:
            if enabled:
                gc.enable()

    def _make_names(self) -> None:
        pending, self._pending = self._pending, []
        for b in pending:
            senses = [_SENSES[int(c)] for c in b.sense.tolist()]
            rhs = b.rhs.tolist()
            if isinstance(b.keys, list):
                per_row = b.keys
            elif b.keys:
                cols = []
                for vals in b.keys.values():
                    if isinstance(vals, str):
                        cols.append([vals] * b.n)
                    elif isinstance(vals, _Take):
                        cols.append(vals.values())
                    else:
                        cols.append(list(vals))
                names = list(b.keys)
                per_row = [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]
            else:
                per_row = [None] * b.n
            for keys, sense, r in zip(per_row, senses, rhs, strict=True):
                self._add(b.family, keys, b.unit, sense, r)

    def display(self, solver: str) -> str:
        """Return the display name of a solver name."""
        return self.by_solver[solver]

    def keys(self, display: str) -> dict[str, str]:
        """Return the ordered keys of a row."""
        return self.rows[display].key_dict
