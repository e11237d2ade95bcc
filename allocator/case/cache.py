"""One bounded cache of loaded cases, keyed by path and content.

Loading a province case takes seconds, and the CLI, the library's ``solve``
and ``diagnose`` and the app all ask for the same file again and again. A
cached case is found by its resolved path and a blake2b digest of the file's
bytes, so an edited file is reloaded even when its modification time did not
move, and a file merely touched (same bytes, new mtime) is still a hit. The
digest is recomputed only when the file's size or mtime changed (a rewrite
that keeps both exactly, to the nanosecond, is taken as unchanged). The cache
keeps the ``max_entries`` most recently used cases (least recently used out
first) so a long-running app does not grow without bound.

Cached cases are shared: callers must not modify them.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from allocator.case.io import load_case
from allocator.case.model import Case

DEFAULT_MAX_ENTRIES = 4
"""Cases kept by :data:`CASE_CACHE` (a province case holds tens of MB of frames)."""
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class _Stamp:
    """What the file system says about a file: size and modification time (ns)."""

    size: int
    mtime_ns: int


def file_digest(path: Path) -> str:
    """Return the blake2b hex digest (16 bytes) of the file's contents."""
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


class CaseCache:
    """A thread-safe LRU cache of loaded cases keyed by (resolved path, content digest).

    Parameters
    ----------
    max_entries
        How many cases to keep; the least recently used goes first.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._cases: OrderedDict[tuple[str, str], Case] = OrderedDict()
        self._digests: dict[str, tuple[_Stamp, str]] = {}
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._cases)

    def clear(self) -> None:
        """Forget every cached case and digest (counters are kept)."""
        with self._lock:
            self._cases.clear()
            self._digests.clear()

    def _digest(self, path: Path) -> str:
        st = path.stat()
        stamp = _Stamp(st.st_size, st.st_mtime_ns)
        known = self._digests.get(str(path))
        if known is not None and known[0] == stamp:
            return known[1]
        digest = file_digest(path)
        self._digests[str(path)] = (stamp, digest)
        return digest

    def load(self, path: str | os.PathLike[str]) -> Case:
        """Return the case at ``path``, from the cache when its contents are unchanged.

        Raises
        ------
        CaseError
            As :func:`allocator.case.load_case` (a missing or invalid file is not cached).
        """
        from allocator.store.url import is_store_url

        if is_store_url(path):  # the shared store: loaded fresh, as the signed-in role sees it
            from allocator.store.cases import load_store_case

            return load_store_case(str(path))
        p = Path(path).resolve()
        if not p.is_file():
            return load_case(p)  # raises the located CaseError
        with self._lock:
            key = (str(p), self._digest(p))
            case = self._cases.get(key)
            if case is not None:
                self._cases.move_to_end(key)
                self.hits += 1
                return case
            self.misses += 1
            case = load_case(p)
            for old in [k for k in self._cases if k[0] == key[0]]:
                del self._cases[old]  # an older version of this file
            self._cases[key] = case
            while len(self._cases) > self.max_entries:
                (gone, _), _ = self._cases.popitem(last=False)
                self._digests.pop(gone, None)
            return case


CASE_CACHE = CaseCache()
"""The process-wide case cache; set ``CASE_CACHE.max_entries`` to change its bound."""


def load_case_cached(path: str | os.PathLike[str]) -> Case:
    """Load a case through :data:`CASE_CACHE` (see :meth:`CaseCache.load`)."""
    return CASE_CACHE.load(path)
