"""Signing in to the shared store with the person's database account (no streamlit here).

The app's panel and session state are in :mod:`allocator.ui.store`.

When ``ALLOCATOR_STORE`` names a ``postgresql://`` store, the app loads its case
from there and nowhere else. Each person signs in with their own database user
and password (kept in their browser session's server-side state only, never
written anywhere); the case the app holds for them is what the database
returned for that role, so rows a role may not read never reach the server's
memory for that session, let alone the browser.
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlsplit, urlunsplit

from allocator.store.url import ENV_STORE, StoreUrl, is_store_url


def store_address() -> str | None:
    """Return the store the app is pointed at (``ALLOCATOR_STORE``), or None."""
    value = os.environ.get(ENV_STORE, "").strip()
    return value if is_store_url(value) else None


def with_credentials(address: str, user: str, password: str) -> str:
    """Return ``address`` signing in as ``user`` with ``password``."""
    parts = urlsplit(address)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    login = quote(user, safe="")
    if password:
        login += ":" + quote(password, safe="")
    return urlunsplit(parts._replace(netloc=f"{login}@{host}"))


def check_sign_in(url: str) -> tuple[str, str]:
    """Connect as the URL's user; return ``(user, role kind)`` or raise StoreError."""
    from allocator.store.db import connect, whoami

    with connect(url) as conn:
        me = whoami(conn)
    return me.user, me.role_kind


def case_version(url: str) -> float:
    """Return the version of the case the URL names (signs in, so it checks the password)."""
    from allocator.store.cases import resolve_case_id
    from allocator.store.db import connect
    from allocator.store.schema import SCHEMA

    parsed = StoreUrl.parse(url)
    with connect(parsed) as conn:
        case_id = resolve_case_id(conn, parsed)
        row = conn.execute(
            f"SELECT version FROM {SCHEMA}.cases WHERE case_id = %s", (case_id,)
        ).fetchone()
    return float(row[0])


__all__ = ["case_version", "check_sign_in", "store_address", "with_credentials"]
