"""Store addresses: ``postgresql://user@host:port/db?case=NAME``.

The ``case`` query parameter names the case inside the database (libpq does
not know it, so it is taken off before connecting). Passwords are never kept
by the allocator: libpq reads them from the URL, ``PGPASSWORD`` or
``~/.pgpass``, and :attr:`StoreUrl.display` drops them before the address is
shown or written to a run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")
ENV_STORE = "ALLOCATOR_STORE"
"""Environment variable naming the store the app and CLI use when none is given."""


def is_store_url(text: object) -> bool:
    """Return True when ``text`` is a ``postgresql://`` (or ``postgres://``) address."""
    if not isinstance(text, str | os.PathLike):
        return False
    value = os.fspath(text)
    return (
        isinstance(value, str) and value.split("://", 1)[0].lower() in SCHEMES and ("://" in value)
    )


@dataclass(frozen=True)
class StoreUrl:
    """A parsed store address: what libpq connects to, and which case."""

    dsn: str
    """The address without the ``case`` parameter, as libpq takes it."""
    case_id: str | None
    """The case named by ``?case=``, or None (then the only case in the store)."""
    display: str
    """The address without password, safe to print and to record in a run."""

    @classmethod
    def parse(cls, url: str | os.PathLike[str]) -> StoreUrl:
        """Split ``url`` into the libpq address, the case name and a printable form."""
        parts = urlsplit(os.fspath(url))
        query = parse_qsl(parts.query, keep_blank_values=True)
        case_id = next((v for k, v in query if k == "case"), None) or None
        rest = [(k, v) for k, v in query if k != "case"]
        dsn = urlunsplit(parts._replace(query=urlencode(rest)))
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        user = f"{parts.username}@" if parts.username else ""
        shown = [(k, v) for k, v in query if k != "password"]
        display = urlunsplit(parts._replace(netloc=f"{user}{host}", query=urlencode(shown)))
        return cls(dsn=dsn, case_id=case_id, display=display)

    def with_case(self, case_id: str) -> str:
        """Return the printable address naming ``case_id``."""
        parts = urlsplit(self.display)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "case"]
        query.append(("case", case_id))
        return urlunsplit(parts._replace(query=urlencode(query)))
