"""Fixtures for the ``db`` tests: a PostgreSQL + PostGIS server and fresh stores.

The server is ``ALLOCATOR_TEST_PG`` (a superuser URL, set by ``.ci/run``), or a
throw-away cluster started here when the PostgreSQL and PostGIS packages are
installed; otherwise every ``db`` test is skipped with a one-line reason.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pg_cluster
import pytest

PASSWORD = "allocator-test-pw"  # throw-away roles of a throw-away cluster


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A superuser URL of a server with PostGIS (skips the test when there is none)."""
    url = os.environ.get("ALLOCATOR_TEST_PG")
    if url:
        yield url
        return
    reason = pg_cluster.missing_reason()
    if reason:
        pytest.skip(f"db tests need PostgreSQL + PostGIS: {reason}; or set ALLOCATOR_TEST_PG")
    directory = Path(tempfile.mkdtemp(prefix="allocator-pg-")) / "cluster"
    try:
        yield pg_cluster.start(directory)
    finally:
        pg_cluster.stop(directory)
        directory.parent.rmdir()


def with_db(url: str, dbname: str) -> str:
    """``url`` pointing at database ``dbname``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def with_user(url: str, user: str, password: str = PASSWORD) -> str:
    """``url`` signing in as ``user``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def new_database(admin_url: str) -> str:
    """Create an empty database with PostGIS; return its superuser URL."""
    import psycopg

    name = f"store_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = with_db(admin_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


def login_role(admin_url: str, user: str, *groups: str) -> str:
    """Create (or reset) login role ``user`` in ``groups``; return a URL signing in as it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(user), sql.Literal(PASSWORD)
            )
        )
        for group in groups:
            conn.execute(
                sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(user))
            )
    return with_user(admin_url, user)


def fake_result(case, scenario_name: str = "store-test", case_path: str = ""):  # noqa: ANN001, ANN201
    """A :class:`Result` whose tables come from ``case`` (the store's input, not a solve).

    Every firm is "served" in its own zone with its own tax and value added,
    so what a role reads back can be checked row by row against the case.
    """
    import pandas as pd

    from allocator.runs import Result
    from allocator.status import Status

    firms = pd.DataFrame(case.firms[["firm_id", "name", "kind", "zone_id", "tax_wan"]])
    firms["value_added_wan"] = case.firms["value_added_wan"].to_numpy()
    firms["served"] = True
    firms["land_mu"] = case.firms["land_mu"].to_numpy()
    zones = pd.DataFrame(case.zones[["zone_id", "name"]])
    zones["land_used_mu"] = case.zones["area_mu"].to_numpy()
    plots = pd.DataFrame(case.plots[["plot_id", "zone_id", "land_use", "area_mu"]])
    marginals = pd.DataFrame({"row": ["e_HZ"], "family": ["zone_energy"], "zone_id": ["HZ"]})
    marginals["value"] = [1.5]
    return Result(
        status=Status.OPTIMAL,
        objective=1.0,
        firms=firms,
        zones=zones,
        plots=plots,
        marginals=marginals,
        scenario_name=scenario_name,
        scenario_toml=f'name = "{scenario_name}"\n',
        case_path=case_path,
    )
