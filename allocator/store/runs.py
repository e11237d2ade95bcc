"""Runs in the store: written in one transaction, stamped with who made them.

A :class:`~allocator.runs.Result` becomes one ``runs`` row (summary,
resolved scenario, diagnosis, solver log) and one row per line of its firm,
zone, plot and marginal tables. Everything is written inside one transaction:
a run killed half-way leaves nothing. ``created_by`` is set by the database
(``current_user``), not by the client, and a zone manager may only write runs
scoped to its own zone. Publishing sets one flag in one statement.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.diagnosis import Diagnosis
from allocator.i18n import t
from allocator.runs import Result, Run, _clean_json, _json_default, _parquet_ready, run_folder_name
from allocator.store.cases import insert_rows
from allocator.store.db import connect, whoami
from allocator.store.errors import StoreError
from allocator.store.schema import RUN_TABLES, SCHEMA, q
from allocator.store.url import StoreUrl

Step = Callable[[str], None]
"""``step(name)`` is called after each statement of a run write (progress, tests)."""


@dataclass
class StoredRun(Run):
    """A run read back from the store: a :class:`Run` plus who made it and when."""

    run_id: int = 0
    created_by: str = ""
    created_at: datetime | None = None
    published: bool = False
    zone_scope: str | None = None
    scenario_toml: str = ""

    def load_scenario(self) -> Any:
        """Return the resolved scenario recorded with the run."""
        import tomllib

        from allocator.scenario import scenario_from_dict

        return scenario_from_dict(tomllib.loads(self.scenario_toml), where=self.name)


def _dumps(obj: Any) -> str:
    return json.dumps(_clean_json(obj), ensure_ascii=False, default=_json_default)


def _table_rows(run_id: int, name: str, frame: pd.DataFrame) -> tuple[list[str], list[tuple]]:
    typed = [c for c, _ in RUN_TABLES[name]]
    frame = _parquet_ready(frame)
    rest = [c for c in frame.columns if c not in typed]
    rows = []
    typed_values: list[list[Any]] = []
    for c in typed:
        if c in frame.columns:
            series = frame[c]
            if c in ("tax_wan", "value_added_wan"):
                vals = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
                typed_values.append([None if np.isnan(v) else float(v) for v in vals])
            else:
                typed_values.append([None if pd.isna(v) else str(v) for v in series])
        else:
            typed_values.append([None] * len(frame))
    records = frame[rest].astype(object).to_dict("records")
    for i, record in enumerate(records):
        rows.append((run_id, i, *(col[i] for col in typed_values), _dumps(record)))
    return ["run_id", "row_no", *typed, "attrs"], rows


def _columns_meta(result: Result) -> dict[str, Any]:
    return {
        name: [[c, str(dtype)] for c, dtype in _parquet_ready(getattr(result, name)).dtypes.items()]
        for name in RUN_TABLES
    }


def save_run(
    url: str | os.PathLike[str],
    result: Result,
    *,
    zone_scope: str | None = None,
    step: Step | None = None,
) -> int:
    """Write ``result`` to the store in one transaction; return its ``run_id``.

    ``zone_scope`` is the zone the run belongs to (None: province-wide, the
    planner's). A zone manager's run defaults to its zone when it has one.
    """
    parsed = StoreUrl.parse(url)
    with connect(parsed) as conn, conn.transaction():
        me = whoami(conn)
        if zone_scope is None and not me.planner and len(me.zones) == 1:
            zone_scope = me.zones[0]
        case_id = parsed.case_id
        if result.case_path and "case=" in result.case_path:
            case_id = StoreUrl.parse(result.case_path).case_id
        run_id = conn.execute(
            f"INSERT INTO {SCHEMA}.runs (case_id, name, scenario_name, status, zone_scope, "
            "summary, scenario_toml, diagnosis, solver_log, columns) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING run_id",
            (
                case_id,
                run_folder_name(result.scenario_name or "run"),
                result.scenario_name,
                str(result.status),
                zone_scope,
                _dumps(result.summary),
                result.scenario_toml,
                _dumps(result.diagnosis.to_json()),
                result.solver_log or "",
                _dumps(_columns_meta(result)),
            ),
        ).fetchone()[0]
        if step:
            step("runs")
        for name in RUN_TABLES:
            cols, rows = _table_rows(run_id, name, getattr(result, name))
            insert_rows(conn, f"{SCHEMA}.run_{name}", ", ".join(q(c) for c in cols), rows)
            if step:
                step(f"run_{name}")
    return int(run_id)


def _read_table(conn: Any, run_id: int, name: str, meta: list[list[str]]) -> pd.DataFrame:
    typed = [c for c, _ in RUN_TABLES[name]]
    readable = [
        c
        for c in typed
        if conn.execute(
            "SELECT has_column_privilege(%s, %s, 'SELECT')", (f"{SCHEMA}.run_{name}", c)
        ).fetchone()[0]
    ]
    rows = conn.execute(
        f"SELECT {', '.join(q(c) for c in readable)}{',' if readable else ''} attrs "
        f"FROM {SCHEMA}.run_{name} WHERE run_id = %s ORDER BY row_no",
        (run_id,),
    ).fetchall()
    records = []
    for row in rows:
        record = dict(row[-1])
        record.update(zip(readable, row[:-1], strict=True))
        records.append(record)
    order = [c for c, _ in meta if c in readable or c not in typed]
    frame = pd.DataFrame.from_records(records, columns=order) if records else None
    if frame is None:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in order})
    for col, dtype in meta:
        if col in frame.columns and dtype != "object":
            try:
                frame[col] = frame[col].astype(dtype)
            except (TypeError, ValueError):
                pass
    return frame


def load_stored_run(url: str | os.PathLike[str], run_id: int) -> StoredRun:
    """Read run ``run_id`` as the signed-in role may see it.

    A zone manager reading another zone's published run gets only its own
    zones' firm rows; a viewer gets the firm table without tax and output.
    """
    parsed = StoreUrl.parse(url)
    with connect(parsed) as conn:
        row = conn.execute(
            "SELECT name, summary, scenario_toml, diagnosis, columns, created_by, created_at, "
            f"published, zone_scope FROM {SCHEMA}.runs WHERE run_id = %s",
            (run_id,),
        ).fetchone()
        if row is None:
            raise StoreError(
                t("store.no_run", run=run_id, store=parsed.display, user=whoami(conn).user),
                hint=t("store.no_run_hint"),
            )
        name, summary, toml_text, diagnosis, columns, by, at, published, scope = row
        tables = {n: _read_table(conn, run_id, n, columns[n]) for n in RUN_TABLES}
    import tomllib

    return StoredRun(
        path=Path(name),
        summary=summary,
        scenario=tomllib.loads(toml_text) if toml_text.strip() else {},
        diagnosis=Diagnosis.from_json(diagnosis),
        run_id=int(run_id),
        created_by=by,
        created_at=at,
        published=bool(published),
        zone_scope=scope,
        scenario_toml=toml_text,
        **tables,
    )


@dataclass(frozen=True)
class RunEntry:
    """One line of ``allocator db list``: a run the signed-in role can see."""

    run_id: int
    case_id: str | None
    name: str
    status: str
    zone_scope: str | None
    created_by: str
    created_at: datetime
    published: bool


def list_stored_runs(url: str | os.PathLike[str]) -> list[RunEntry]:
    """Return the runs the signed-in role may see, newest first."""
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT run_id, case_id, name, status, zone_scope, created_by, created_at, published "
            f"FROM {SCHEMA}.runs ORDER BY run_id DESC"
        ).fetchall()
    return [RunEntry(*row) for row in rows]


def publish_run(url: str | os.PathLike[str], run_id: int) -> None:
    """Publish a run in one statement; the database refuses roles that may not."""
    parsed = StoreUrl.parse(url)
    with connect(parsed) as conn:
        cur = conn.execute(
            f"UPDATE {SCHEMA}.runs SET published = true WHERE run_id = %s", (run_id,)
        )
        if cur.rowcount != 1:
            raise StoreError(
                t("store.no_run", run=run_id, store=parsed.display, user=whoami(conn).user),
                hint=t("store.no_run_hint"),
            )
