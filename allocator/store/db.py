"""Connections to the store and ``allocator db init``.

The allocator signs in as the person's own database role: the URL (or libpq's
``PGUSER``/``PGPASSWORD``/``~/.pgpass``) carries the credentials, and the
allocator keeps none of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from allocator.store.errors import StoreError, translate
from allocator.store.schema import PLANNER, SCHEMA, ddl
from allocator.store.url import StoreUrl


@contextmanager
def connect(url: str | os.PathLike[str] | StoreUrl) -> Iterator[Any]:
    """Yield a psycopg connection to the store; database errors become :class:`StoreError`.

    The connection is not in autocommit mode: the caller's ``with conn.transaction()``
    blocks (or the commit on leaving this context) decide what is kept.
    """
    import psycopg

    parsed = url if isinstance(url, StoreUrl) else StoreUrl.parse(url)
    try:
        conn = psycopg.connect(parsed.dsn, application_name="allocator", connect_timeout=10)
    except psycopg.Error as exc:
        raise translate(exc, parsed.display) from exc
    try:
        with conn:
            yield conn
    except StoreError:
        raise
    except psycopg.Error as exc:
        raise translate(exc, parsed.display) from exc
    finally:
        conn.close()


@dataclass(frozen=True)
class Identity:
    """Who the store says we are: the database role, planner or not, and its zones."""

    user: str
    planner: bool
    zones: tuple[str, ...]
    viewer: bool

    @property
    def role_kind(self) -> str:
        """``planner``, ``zone_manager``, ``viewer`` or ``none``."""
        if self.planner:
            return "planner"
        if self.zones:
            return "zone_manager"
        return "viewer" if self.viewer else "none"


def whoami(conn: Any) -> Identity:
    """Ask the database which role we are signed in as and what it may see."""
    row = conn.execute(
        f"SELECT current_user::text, {SCHEMA}.is_planner(), "
        f"ARRAY(SELECT {SCHEMA}.my_zones() ORDER BY 1), "
        "pg_has_role(current_user, 'allocator_viewer', 'MEMBER')"
    ).fetchone()
    return Identity(user=row[0], planner=bool(row[1]), zones=tuple(row[2]), viewer=bool(row[3]))


def is_initialised(conn: Any) -> bool:
    """Return True when the store's schema exists in this database."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.cases",)).fetchone()
    return bool(row[0])


def init_store(url: str | os.PathLike[str]) -> list[str]:
    """Create the schema, tables, roles, grants and row policies (one transaction).

    Needs a role that may create schemas and roles (the database owner with
    CREATEROLE, or a superuser). PostGIS must be installed in the database
    (``CREATE EXTENSION postgis`` is tried when missing). Returns the group
    roles created or found. Refuses a database that already holds the store.
    """
    from allocator.i18n import t

    parsed = StoreUrl.parse(url)
    with connect(parsed) as conn:
        if is_initialised(conn):
            raise StoreError(t("store.already", store=parsed.display), hint=t("store.already_hint"))
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            for stmt in ddl():
                conn.execute(stmt)
    return [PLANNER, "allocator_zone_manager", "allocator_viewer"]


def grant(url: str | os.PathLike[str], role: str, kind: str, zone_id: str | None = None) -> str:
    """Make the login ``role`` a planner, a viewer or the manager of ``zone_id``.

    Returns the group role granted. Only a role allowed to grant it (an admin)
    may do this; the database refuses anyone else.
    """
    from psycopg import sql

    from allocator.i18n import t
    from allocator.store.schema import VIEWER

    parsed = StoreUrl.parse(url)
    with connect(parsed) as conn:
        if kind == "planner":
            group = PLANNER
        elif kind == "viewer":
            group = VIEWER
        else:
            found = conn.execute(
                f"SELECT role_name FROM {SCHEMA}.zone_roles WHERE zone_id = %s", (zone_id,)
            ).fetchone()
            if found is None:
                raise StoreError(
                    t("store.no_zone_role", zone=str(zone_id), store=parsed.display),
                    hint=t("store.no_zone_role_hint"),
                )
            group = found[0]
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(role)))
    return group
