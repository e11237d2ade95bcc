"""``allocator db init|push|pull|list|grant|publish``: the shared PostGIS store.

Every ``URL`` is a ``postgresql://user@host:port/db`` address (``?case=NAME``
picks a case); the password comes from libpq (``PGPASSWORD``, ``~/.pgpass``),
never from a file of ours. ``URL`` may be left out when ``ALLOCATOR_STORE`` is set.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from allocator.errors import AllocatorError
from allocator.i18n import t
from allocator.store.url import ENV_STORE, StoreUrl, is_store_url


def register(subparsers: Any) -> None:
    """Add the ``db`` sub-command and its actions."""
    p = subparsers.add_parser("db", help=t("store.cli.help"))
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = sub.add_parser("init", help=t("store.cli.init"))
    init.add_argument("url", nargs="?", help=t("store.cli.url"))
    init.set_defaults(func=run_init)
    push = sub.add_parser("push", help=t("store.cli.push"))
    push.add_argument("case", help=t("store.cli.case"))
    push.add_argument("url", nargs="?", help=t("store.cli.url"))
    push.add_argument("--name", default=None, help=t("store.cli.name"))
    push.add_argument("--replace", action="store_true", help=t("store.cli.replace"))
    push.set_defaults(func=run_push)
    pull = sub.add_parser("pull", help=t("store.cli.pull"))
    pull.add_argument("url", help=t("store.cli.url"))
    pull.add_argument("out", help=t("store.cli.out"))
    pull.set_defaults(func=run_pull)
    lst = sub.add_parser("list", help=t("store.cli.list"))
    lst.add_argument("url", nargs="?", help=t("store.cli.url"))
    lst.set_defaults(func=run_list)
    grant = sub.add_parser("grant", help=t("store.cli.grant"))
    grant.add_argument("role", help=t("store.cli.role"))
    grant.add_argument("url", nargs="?", help=t("store.cli.url"))
    kind = grant.add_mutually_exclusive_group(required=True)
    kind.add_argument("--planner", action="store_true", help=t("store.cli.planner"))
    kind.add_argument("--viewer", action="store_true", help=t("store.cli.viewer"))
    kind.add_argument("--zone", default=None, help=t("store.cli.zone"))
    grant.set_defaults(func=run_grant)
    publish = sub.add_parser("publish", help=t("store.cli.publish"))
    publish.add_argument("run_id", type=int, help=t("store.cli.run_id"))
    publish.add_argument("url", nargs="?", help=t("store.cli.url"))
    publish.set_defaults(func=run_publish)


def store_url(value: str | None) -> str:
    """Return the store URL given, or ``ALLOCATOR_STORE``; a clear error when neither is."""
    url = value or os.environ.get(ENV_STORE, "")
    if not is_store_url(url):
        raise AllocatorError(
            t("store.cli.need_url", value=value or "", env=ENV_STORE), hint=t("store.cli.url_hint")
        )
    return url


def run_init(args: argparse.Namespace) -> int:
    """Create the schema, roles, grants and row policies."""
    from allocator.store.db import init_store

    url = store_url(args.url)
    roles = init_store(url)
    print(t("store.cli.initialised", store=StoreUrl.parse(url).display, roles=", ".join(roles)))
    return 0


def run_push(args: argparse.Namespace) -> int:
    """Load a case GeoPackage (validated) into the store."""
    from allocator.case import load_case
    from allocator.store.cases import push_case

    url = store_url(args.url)
    case = load_case(args.case)
    case_id = push_case(url, case, args.name, replace=args.replace)
    print(
        t(
            "store.cli.pushed",
            case=case_id,
            store=StoreUrl.parse(url).with_case(case_id),
            plots=len(case.plots),
            firms=len(case.firms),
        )
    )
    return 0


def run_pull(args: argparse.Namespace) -> int:
    """Write the case the URL names (as the signed-in role reads it) to a GeoPackage."""
    from allocator.case import load_case, save_case

    case = load_case(store_url(args.url))
    path = save_case(case, args.out)
    print(t("store.cli.pulled", path=str(path), plots=len(case.plots), firms=len(case.firms)))
    return 0


def run_list(args: argparse.Namespace) -> int:
    """List the cases and the runs the signed-in role may see."""
    from allocator.commands.info import render_table
    from allocator.store.cases import list_cases
    from allocator.store.db import connect, whoami
    from allocator.store.runs import list_stored_runs

    url = store_url(args.url)
    with connect(url) as conn:
        me = whoami(conn)
    print(t("store.cli.signed_in", user=me.user, kind=t(f"store.kind.{me.role_kind}")))
    cases = list_cases(url)
    rows = [
        [c.case_id, str(c.version), c.updated_by, f"{c.updated_at:%Y-%m-%d %H:%M}", c.source]
        for c in cases
    ]
    heads = [t(f"store.cli.col.{k}") for k in ("case", "version", "by", "at", "source")]
    print(t("store.cli.cases", n=len(cases)))
    if rows:
        for line in render_table(heads, rows, right={1}):
            print(line)
    runs = list_stored_runs(url)
    print(t("store.cli.runs", n=len(runs)))
    rows = [
        [
            str(r.run_id),
            r.name,
            r.status,
            r.zone_scope or "—",
            r.created_by,
            f"{r.created_at:%Y-%m-%d %H:%M}",
            t("store.cli.yes") if r.published else "",
        ]
        for r in runs
    ]
    heads = [
        t(f"store.cli.col.{k}") for k in ("run", "name", "status", "scope", "by", "at", "published")
    ]
    if rows:
        for line in render_table(heads, rows, right={0}):
            print(line)
    return 0


def run_grant(args: argparse.Namespace) -> int:
    """Make a login role a planner, a viewer or a zone's manager."""
    from allocator.store.db import grant

    kind = "planner" if args.planner else "viewer" if args.viewer else "zone"
    group = grant(store_url(args.url), args.role, kind, args.zone)
    print(t("store.cli.granted", role=args.role, group=group))
    return 0


def run_publish(args: argparse.Namespace) -> int:
    """Publish a run (one statement: it is published or it is not)."""
    from allocator.store.runs import publish_run

    publish_run(store_url(args.url), args.run_id)
    print(t("store.cli.published", run=args.run_id))
    return 0
