"""Cases in the store: push a :class:`Case`, load it back, list, edit with versions.

A case is stored with the same layers, tables and columns as the GeoPackage
(DATA.md), geometry as PostGIS ``geometry`` in EPSG:4549 written and read as
WKB, so that loading it back goes through the same coercion and validation as
:func:`allocator.case.load_case` and gives the same content hash. Columns
outside the case schema are kept in a ``jsonb`` column ``extra``.

What a role loads is what the database lets it read: a zone manager's case
holds its own zones' plots and firms only (row-level security, see
:mod:`allocator.store.schema`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from allocator.case.model import Case
from allocator.case.schema import ALL_LAYERS, CASE_CRS, Layer
from allocator.errors import CaseError, ProblemList
from allocator.i18n import t
from allocator.store.db import connect, whoami
from allocator.store.errors import StoreError
from allocator.store.schema import EDITABLE, SCHEMA, ZONE_LAYERS, ZONE_MANAGER, q, zone_role
from allocator.store.url import StoreUrl

_SRID = 4549


@dataclass(frozen=True)
class StoredCase:
    """One row of ``allocator db list``: a case in the store."""

    case_id: str
    version: int
    content_hash: str
    source: str
    pushed_by: str
    pushed_at: datetime
    updated_by: str
    updated_at: datetime


def _extras(frame: pd.DataFrame, layer: Layer) -> list[str]:
    canonical = {*layer.column_names, "geometry", "area_mu"}
    return [c for c in frame.columns if c not in canonical]


def _plain(value: Any) -> Any:
    """Return a Python value for the driver: NaN/NaT/NA → None, numpy scalars → Python."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _column_values(series: pd.Series, kind: str) -> list[Any]:
    if kind in ("float", "int"):
        values = series.astype(float).to_numpy()
        out: list[Any] = [None if math.isnan(v) else v for v in values.tolist()]
        if kind == "int":
            out = [None if v is None else int(v) for v in out]
        return out
    if kind == "bool":
        return [bool(v) for v in series.fillna(False).to_numpy()]
    if kind == "date":
        return [None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in series]
    return [None if pd.isna(v) else str(v) for v in series.astype(object)]


def _rows(case_id: str, frame: pd.DataFrame, layer: Layer) -> Iterable[tuple[Any, ...]]:
    """Yield COPY rows: case_id, row_no, canonical columns, geometry, area, extra."""
    columns = [_column_values(frame[c.name], c.kind) for c in layer.columns]
    n = len(frame)
    if layer.geometry is not None:
        geoms = shapely.set_srid(np.asarray(frame.geometry.array, dtype=object), _SRID)
        columns.append(list(shapely.to_wkb(geoms, hex=True, include_srid=True)))
    if layer.name in ("plots", "zones"):
        columns.append(_column_values(frame["area_mu"], "float"))
    extras = _extras(frame, layer)
    if extras:
        records = frame[extras].astype(object).to_dict("records")
        columns.append(
            [json.dumps({k: _plain(v) for k, v in r.items()}, default=str) for r in records]
        )
    else:
        columns.append([None] * n)
    for i, row in enumerate(zip(*columns, strict=True)):
        yield (case_id, i, *row)


def insert_rows(conn: Any, table: str, columns: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert ``rows`` in one pipelined batch.

    Not ``COPY``: PostgreSQL refuses ``COPY FROM`` on tables with row-level
    security for every role but their owner, and planners are not owners.
    Geometry arrives as hex EWKB text and is parsed by PostGIS.
    """
    rows = list(rows)
    if not rows:
        return
    marks = ", ".join(["%s"] * len(rows[0]))
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _copy_columns(layer: Layer) -> str:
    cols = ["case_id", "row_no", *(q(c.name) for c in layer.columns)]
    if layer.geometry is not None:
        cols.append("geom")
    if layer.name in ("plots", "zones"):
        cols.append("area_mu")
    cols.append("extra")
    return ", ".join(cols)


def default_case_id(case: Case) -> str:
    """Return the name a case gets in the store when none is given: its file's stem."""
    source = getattr(case, "source", None)
    return Path(str(source)).stem if source else "case"


def push_case(
    url: str | os.PathLike[str],
    case: Case,
    case_id: str | None = None,
    *,
    replace: bool = False,
) -> str:
    """Store ``case`` under ``case_id`` in one transaction; return the case id.

    Creates each zone's manager role (``allocator_zone_<zone>``) when missing
    and maps it to the zone. A case id already in the store is refused unless
    ``replace`` (then the old rows go in the same transaction).
    """
    parsed = StoreUrl.parse(url)
    case_id = case_id or parsed.case_id or default_case_id(case)
    extras: dict[str, dict[str, Any]] = {name: {} for name in ALL_LAYERS}
    for name, layer in ALL_LAYERS.items():
        frame = getattr(case, name)
        if frame is not None:
            extras[name] = {c: str(frame[c].dtype) for c in _extras(frame, layer)}
    with connect(parsed) as conn, conn.transaction():
        exists = conn.execute(
            f"SELECT 1 FROM {SCHEMA}.cases WHERE case_id = %s", (case_id,)
        ).fetchone()
        if exists and not replace:
            raise StoreError(
                t("store.case_exists", case=case_id, store=parsed.display),
                hint=t("store.case_exists_hint"),
            )
        if exists:
            conn.execute(f"DELETE FROM {SCHEMA}.cases WHERE case_id = %s", (case_id,))
        present = [n for n in ALL_LAYERS if getattr(case, n) is not None]
        conn.execute(
            f"INSERT INTO {SCHEMA}.cases (case_id, source, content_hash, columns) "
            "VALUES (%s, %s, %s, %s)",
            (
                case_id,
                str(case.source or ""),
                case.content_hash(),
                json.dumps({"layers": present, "extras": extras}),
            ),
        )
        _ensure_zone_roles(conn, [str(z) for z in case.zones["zone_id"]])
        for name in present:
            layer = ALL_LAYERS[name]
            frame = getattr(case, name)
            insert_rows(
                conn, f"{SCHEMA}.{q(name)}", _copy_columns(layer), _rows(case_id, frame, layer)
            )
    return case_id


def _ensure_zone_roles(conn: Any, zone_ids: list[str]) -> None:
    """Create missing zone manager roles and map them to their zones."""
    from psycopg import sql

    known = {
        r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'allocator_%'")
    }
    for zone_id in zone_ids:
        role = zone_role(zone_id)
        if role not in known:
            conn.execute(
                sql.SQL("CREATE ROLE {} NOLOGIN IN ROLE {}").format(
                    sql.Identifier(role), sql.Identifier(ZONE_MANAGER)
                )
            )
        conn.execute(
            f"INSERT INTO {SCHEMA}.zone_roles (role_name, zone_id) VALUES (%s, %s) "
            "ON CONFLICT (role_name) DO NOTHING",
            (role, zone_id),
        )


def resolve_case_id(conn: Any, parsed: StoreUrl) -> str:
    """Return the case the URL names, or the only case in the store; else a clear error."""
    ids = [r[0] for r in conn.execute(f"SELECT case_id FROM {SCHEMA}.cases ORDER BY 1")]
    if parsed.case_id:
        if parsed.case_id not in ids:
            raise CaseError(
                t("store.no_case", case=parsed.case_id, store=parsed.display, cases=", ".join(ids)),
                hint=t("store.no_case_hint"),
            )
        return parsed.case_id
    if len(ids) == 1:
        return ids[0]
    raise CaseError(
        t("store.which_case", store=parsed.display, cases=", ".join(ids) or "—"),
        hint=t("store.no_case_hint"),
    )


def _read_layer(conn: Any, case_id: str, layer: Layer, extras: Mapping[str, str]) -> pd.DataFrame:
    cols = [q(c.name) for c in layer.columns]
    if layer.geometry is not None:
        cols.append("ST_AsBinary(geom)")
    cols.append("extra")
    rows = conn.execute(
        f"SELECT {', '.join(cols)} FROM {SCHEMA}.{q(layer.name)} "
        "WHERE case_id = %s ORDER BY row_no",
        (case_id,),
    ).fetchall()
    values = list(zip(*rows, strict=True)) if rows else [()] * len(cols)
    data: dict[str, Any] = {}
    for col, vals in zip(layer.columns, values, strict=False):
        if col.kind in ("float", "int"):
            data[col.name] = pd.Series(vals, dtype=float)
        elif col.kind == "bool":
            data[col.name] = pd.Series([bool(v) for v in vals], dtype=bool)
        elif col.kind == "date":
            data[col.name] = pd.to_datetime(pd.Series(vals, dtype=object))
        else:
            data[col.name] = pd.Series(vals, dtype=object)
    frame = pd.DataFrame(data)
    extra_rows = values[-1]
    for name, dtype in extras.items():
        series = pd.Series([(r or {}).get(name) for r in extra_rows], dtype=object)
        try:
            frame[name] = series.astype(dtype)
        except (TypeError, ValueError):
            frame[name] = series
    if layer.geometry is None:
        return frame
    geoms = shapely.from_wkb(np.asarray([bytes(b) for b in values[-2]], dtype=object))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms), crs=CASE_CRS)


def load_store_case(url: str | os.PathLike[str]) -> Case:
    """Load the case a store URL names, as the signed-in role may read it.

    The frames go through the same coercion and validation as a GeoPackage
    (:func:`allocator.case.io.build_case`), so a case pushed and loaded back
    has the GeoPackage's content hash. ``Case.source`` is the URL without
    password, which runs record as their case.
    """
    from allocator.case.io import build_case

    parsed = StoreUrl.parse(url)
    with connect(parsed) as conn:
        case_id = resolve_case_id(conn, parsed)
        meta = conn.execute(
            f"SELECT columns FROM {SCHEMA}.cases WHERE case_id = %s", (case_id,)
        ).fetchone()[0]
        frames = {
            name: _read_layer(conn, case_id, ALL_LAYERS[name], meta["extras"].get(name, {}))
            for name in meta["layers"]
        }
    display = parsed.with_case(case_id)
    problems = ProblemList()
    case = build_case(
        frames,
        problems,
        files=dict.fromkeys(frames, display),
        crses=dict.fromkeys(frames, CASE_CRS),
        source=display,  # type: ignore[arg-type]  # a URL, recorded as the run's case
    )
    problems.raise_if_errors(t("case.invalid", file=display))
    assert case is not None
    return case


def list_cases(url: str | os.PathLike[str]) -> list[StoredCase]:
    """Return the cases in the store, by name."""
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT case_id, version, content_hash, source, pushed_by, pushed_at, updated_by, "
            f"updated_at FROM {SCHEMA}.cases ORDER BY case_id"
        ).fetchall()
    return [StoredCase(*row) for row in rows]


def row_versions(url: str | os.PathLike[str], layer: str) -> dict[str, int]:
    """Return ``{id: version}`` of the plots or firms the signed-in role can read."""
    if layer not in ZONE_LAYERS:
        raise StoreError(t("store.not_editable", layer=layer))
    id_col = ALL_LAYERS[layer].id_column or ""
    parsed = StoreUrl.parse(url)
    with connect(parsed) as conn:
        case_id = resolve_case_id(conn, parsed)
        rows = conn.execute(
            f"SELECT {q(id_col)}, version FROM {SCHEMA}.{layer} WHERE case_id = %s",
            (case_id,),
        ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def edit_rows(
    url: str | os.PathLike[str],
    layer: str,
    edits: Mapping[str, Mapping[str, Any]],
    versions: Mapping[str, int],
) -> int:
    """Apply ``{id: {column: value}}`` to plots or firms, all or nothing; return rows changed.

    ``versions`` gives the version each row had when it was read; the
    database refuses the whole edit if any row has moved on since
    (:class:`~allocator.store.errors.StaleEditError` names the newer version
    and who made it), and refuses rows the signed-in role may not edit.
    """
    from psycopg import sql

    if layer not in ZONE_LAYERS:
        raise StoreError(t("store.not_editable", layer=layer))
    id_col = ALL_LAYERS[layer].id_column or ""
    allowed = set(EDITABLE[layer])
    parsed = StoreUrl.parse(url)
    changed = 0
    with connect(parsed) as conn, conn.transaction():
        case_id = resolve_case_id(conn, parsed)
        for row_id, values in edits.items():
            bad = [c for c in values if c not in allowed]
            if bad:
                raise StoreError(t("store.not_editable_column", layer=layer, column=bad[0]))
            if row_id not in versions:
                raise StoreError(t("store.no_version", layer=layer, id=row_id))
            sets: list[sql.Composable] = [
                sql.SQL("{} = %s").format(sql.Identifier(c)) for c in values
            ]
            sets.append(sql.SQL("version = %s"))
            stmt = sql.SQL("UPDATE {}.{} SET {} WHERE case_id = %s AND {} = %s").format(
                sql.Identifier(SCHEMA),
                sql.Identifier(layer),
                sql.SQL(", ").join(sets),
                sql.Identifier(id_col),
            )
            params = [_plain(v) for v in values.values()]
            params += [int(versions[row_id]) + 1, case_id, row_id]
            cur = conn.execute(stmt, params)
            if cur.rowcount != 1:
                who = whoami(conn).user
                raise StoreError(
                    t("store.not_yours", layer=layer, id=row_id, user=who),
                    hint=t("store.refused_hint"),
                )
            changed += 1
    return changed
