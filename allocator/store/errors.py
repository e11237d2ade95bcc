"""Store errors: what the database refused, in the planner's words."""

from __future__ import annotations

import json
from typing import Any

from allocator.errors import AllocatorError
from allocator.i18n import t

STALE_SQLSTATE = "AL409"
"""SQLSTATE raised by the store's version trigger on a stale edit."""


class StoreError(AllocatorError):
    """The store cannot be reached, is not initialised, or refused a request."""


class StaleEditError(StoreError):
    """An edit was made against an older version of a row; names the newer one."""

    def __init__(self, table: str, row_id: str, version: int, by: str, at: str, sent: int):
        super().__init__(
            t("store.stale", table=table, id=row_id, version=version, by=by, at=at, based=sent - 1),
            hint=t("store.stale_hint"),
        )
        self.table = table
        self.row_id = row_id
        self.version = version
        self.by = by


def translate(exc: Exception, display: str) -> StoreError:
    """Turn a psycopg error into a :class:`StoreError` naming the store and the cause."""
    import psycopg

    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate == STALE_SQLSTATE:
        diag: Any = getattr(exc, "diag", None)
        detail = json.loads(diag.message_detail) if diag and diag.message_detail else {}
        return StaleEditError(
            str(detail.get("table", "")),
            str(detail.get("id", "")),
            int(detail.get("version", 0)),
            str(detail.get("by", "")),
            str(detail.get("at", "")),
            int(detail.get("sent") or 0),
        )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return StoreError(
            t("store.refused", store=display, error=first), hint=t("store.refused_hint")
        )
    if isinstance(exc, psycopg.errors.UndefinedTable | psycopg.errors.InvalidSchemaName):
        return StoreError(t("store.not_initialised", store=display), hint=t("store.init_hint"))
    if isinstance(exc, psycopg.OperationalError):
        return StoreError(
            t("store.unreachable", store=display, error=first), hint=t("store.unreachable_hint")
        )
    return StoreError(t("store.failed", store=display, error=first))
