"""The PostGIS schema of the shared store: tables, roles, grants, row-level security.

One table per case layer (DATA.md names, same columns, ``geom`` in EPSG:4549)
keyed by ``(case_id, row_no)``; runs in ``runs`` plus one table per result
table. Who sees what is decided here, by PostgreSQL, never by the app:

- ``allocator_planner``: every zone, every run, reads and writes all.
- ``allocator_zone_manager``: base grants for zone managers. Each zone has a
  group role ``allocator_zone_<zone>`` (listed in ``zone_roles``) that is a
  member of it; a person's login role is granted the zone role. Row-level
  security lets a zone manager read and edit only its zones' plots and firms
  (and the applicants naming its zones), read other zones only through the
  aggregate views ``zone_firm_totals`` and ``zone_plot_totals``, and see only
  its zones' runs unless a run is published; a published run's firm rows are
  limited to its own zones' firms.
- ``allocator_viewer``: reads published runs, without the firm tax and output
  columns (column privileges), and the reference layers.

Firms' tax and output figures (``tax_wan``, ``value_added_wan``,
``revenue_wan``, ``rd_wan``) are thus readable only by the planner and the
owning zone's role. Edits of plots and firms carry a row ``version``: an
``UPDATE`` must set ``version`` to the version read plus one, else a trigger
refuses it naming the newer version and who made it.
"""

from __future__ import annotations

from allocator.case.schema import ALL_LAYERS, Column, Layer

SCHEMA = "allocator"
PLANNER = "allocator_planner"
ZONE_MANAGER = "allocator_zone_manager"
VIEWER = "allocator_viewer"
GROUP_ROLES = (PLANNER, ZONE_MANAGER, VIEWER)
ZONE_ROLE_PREFIX = "allocator_zone_"

CONFIDENTIAL_FIRM_COLUMNS = ("tax_wan", "value_added_wan", "revenue_wan", "rd_wan")
"""Firm columns only the planner and the owning zone's role may read."""
RUN_FIRM_CONFIDENTIAL = ("tax_wan", "value_added_wan")
"""Run firm-table columns a viewer may not read."""
ZONE_LAYERS = ("plots", "firms")
"""Layers whose rows belong to a zone: row-level security and versioned edits."""
EDITABLE = {
    "plots": ("land_use", "status", "occupant_id", "far", "far_max", "extra"),
    "firms": tuple(
        c.name for c in ALL_LAYERS["firms"].columns if c.name not in ("firm_id", "kind", "zone_id")
    )
    + ("extra",),
}
"""Columns a zone manager may update (ids and zone assignment stay the planner's)."""
RUN_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "firms": (
        ("firm_id", "text"),
        ("zone_id", "text"),
        ("tax_wan", "double precision"),
        ("value_added_wan", "double precision"),
    ),
    "zones": (("zone_id", "text"),),
    "plots": (("plot_id", "text"), ("zone_id", "text")),
    "marginals": (("zone_id", "text"),),
}
"""Typed columns of each run result table (the rest of a row is kept in ``attrs``)."""

_SQL_TYPES = {
    "str": "text",
    "float": "double precision",
    "int": "bigint",
    "bool": "boolean",
    "date": "timestamp",
}


def q(name: str) -> str:
    """Quote an identifier (``class`` is a column name)."""
    return '"' + name.replace('"', '""') + '"'


def sql_type(col: Column) -> str:
    """Return the PostgreSQL type of a case column."""
    return _SQL_TYPES[col.kind]


def zone_role(zone_id: str) -> str:
    """Return the group role of a zone's managers, e.g. ``allocator_zone_zj01``."""
    safe = "".join(ch if ch.isalnum() else "_" for ch in zone_id.lower())
    return f"{ZONE_ROLE_PREFIX}{safe}"[:63]


def _layer_table(layer: Layer) -> list[str]:
    cols = [f"{q(c.name)} {sql_type(c)}" for c in layer.columns]
    if layer.geometry is not None:
        cols.append("geom geometry(Geometry, 4549)")
    if layer.name in ("plots", "zones"):
        cols.append("area_mu double precision")
    table = f"{SCHEMA}.{q(layer.name)}"
    stmts = [
        f"""CREATE TABLE {table} (
            case_id text NOT NULL REFERENCES {SCHEMA}.cases ON DELETE CASCADE,
            row_no integer NOT NULL,
            {", ".join(cols)},
            extra jsonb,
            version bigint NOT NULL DEFAULT 1,
            updated_by text NOT NULL DEFAULT current_user,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (case_id, row_no))"""
    ]
    if layer.id_column:
        stmts.append(f"CREATE UNIQUE INDEX ON {table} (case_id, {q(layer.id_column)})")
    if layer.geometry is not None:
        stmts.append(f"CREATE INDEX ON {table} USING gist (geom)")
    if layer.name in ZONE_LAYERS or layer.name == "class_history":
        stmts.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    if layer.name in ZONE_LAYERS:
        stmts.append(
            f"CREATE TRIGGER versioned BEFORE UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.check_version('{layer.id_column}')"
        )
    return stmts


_ROLES = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{PLANNER}') THEN
    CREATE ROLE {PLANNER} NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ZONE_MANAGER}') THEN
    CREATE ROLE {ZONE_MANAGER} NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{VIEWER}') THEN
    CREATE ROLE {VIEWER} NOLOGIN; END IF;
END $$"""

_FUNCTIONS = [
    f"""CREATE FUNCTION {SCHEMA}.is_planner() RETURNS boolean LANGUAGE sql STABLE
        AS $$ SELECT pg_has_role(current_user, '{PLANNER}', 'MEMBER') $$""",
    f"""CREATE FUNCTION {SCHEMA}.my_zones() RETURNS SETOF text LANGUAGE sql STABLE
        AS $$ SELECT zone_id FROM {SCHEMA}.zone_roles
              WHERE pg_has_role(current_user, role_name, 'MEMBER') $$""",
    f"""CREATE FUNCTION {SCHEMA}.zone_list(text) RETURNS text[] LANGUAGE sql IMMUTABLE
        AS $$ SELECT coalesce(regexp_split_to_array(btrim($1), '\\s*[;；,，]\\s*'), '{{}}') $$""",
    # Runs as the table owner so that a zone manager's edit can bump the case version;
    # the editor is the session's login role (session_user), which a caller cannot choose.
    f"""CREATE FUNCTION {SCHEMA}.bump_case(p_case text) RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, {SCHEMA}
        AS $$ UPDATE {SCHEMA}.cases SET version = version + 1, updated_by = session_user,
              updated_at = now() WHERE case_id = p_case $$""",
    f"REVOKE EXECUTE ON FUNCTION {SCHEMA}.bump_case(text) FROM PUBLIC",
    f"""CREATE FUNCTION {SCHEMA}.check_version() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          row_id text := to_jsonb(OLD) ->> TG_ARGV[0];
        BEGIN
          IF NEW.version IS DISTINCT FROM OLD.version + 1 THEN
            RAISE EXCEPTION USING
              ERRCODE = 'AL409',
              MESSAGE = format('stale edit of %s %s: it is at version %s (by %s at %s); '
                               'an edit must set version = %s', TG_TABLE_NAME, row_id,
                               OLD.version, OLD.updated_by, OLD.updated_at, OLD.version + 1),
              DETAIL = json_build_object('table', TG_TABLE_NAME, 'id', row_id,
                                         'version', OLD.version, 'by', OLD.updated_by,
                                         'at', OLD.updated_at, 'sent', NEW.version)::text;
          END IF;
          NEW.updated_by := current_user;
          NEW.updated_at := now();
          PERFORM {SCHEMA}.bump_case(OLD.case_id);
          RETURN NEW;
        END $$""",
    f"""CREATE FUNCTION {SCHEMA}.stamp_run() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            NEW.created_by := current_user;
            NEW.created_at := now();
            NEW.published := false;
            NEW.published_by := NULL;
            NEW.published_at := NULL;
          ELSIF NEW.published AND NOT OLD.published THEN
            NEW.published_by := current_user;
            NEW.published_at := now();
          END IF;
          RETURN NEW;
        END $$""",
]


def _runs_tables() -> list[str]:
    stmts = [
        f"""CREATE TABLE {SCHEMA}.runs (
            run_id bigserial PRIMARY KEY,
            case_id text,
            name text NOT NULL,
            scenario_name text NOT NULL DEFAULT '',
            status text NOT NULL,
            zone_scope text,
            summary jsonb NOT NULL,
            scenario_toml text NOT NULL DEFAULT '',
            diagnosis jsonb NOT NULL,
            solver_log text NOT NULL DEFAULT '',
            columns jsonb NOT NULL,
            created_by text NOT NULL DEFAULT current_user,
            created_at timestamptz NOT NULL DEFAULT now(),
            published boolean NOT NULL DEFAULT false,
            published_by text,
            published_at timestamptz)""",
        f"CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON {SCHEMA}.runs "
        f"FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.stamp_run()",
        f"ALTER TABLE {SCHEMA}.runs ENABLE ROW LEVEL SECURITY",
    ]
    for name, cols in RUN_TABLES.items():
        typed = ", ".join(f"{q(c)} {t}" for c, t in cols)
        table = f"{SCHEMA}.run_{name}"
        stmts += [
            f"""CREATE TABLE {table} (
                run_id bigint NOT NULL REFERENCES {SCHEMA}.runs ON DELETE CASCADE,
                row_no integer NOT NULL, {typed}, attrs jsonb NOT NULL,
                PRIMARY KEY (run_id, row_no))""",
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        ]
    return stmts


_MINE = f"(SELECT {SCHEMA}.my_zones())"
_FIRM_MINE = (
    f"(zone_id IN {_MINE} OR (kind = 'applicant' AND "
    f"{SCHEMA}.zone_list(candidate_zones) && ARRAY{_MINE}))"
)


def _policies() -> list[str]:
    s = SCHEMA
    stmts = []
    for name in (*ZONE_LAYERS, "class_history", "runs", *(f"run_{n}" for n in RUN_TABLES)):
        stmts.append(f"CREATE POLICY planner_all ON {s}.{name} TO {PLANNER} USING (true)")
    stmts += [
        f"CREATE POLICY zone_read ON {s}.plots FOR SELECT TO {ZONE_MANAGER} "
        f"USING (zone_id IN {_MINE})",
        f"CREATE POLICY zone_edit ON {s}.plots FOR UPDATE TO {ZONE_MANAGER} "
        f"USING (zone_id IN {_MINE}) WITH CHECK (zone_id IN {_MINE})",
        f"CREATE POLICY zone_read ON {s}.firms FOR SELECT TO {ZONE_MANAGER} USING {_FIRM_MINE}",
        f"CREATE POLICY zone_edit ON {s}.firms FOR UPDATE TO {ZONE_MANAGER} "
        f"USING {_FIRM_MINE} WITH CHECK {_FIRM_MINE}",
        # class history follows the firm: the subquery is itself filtered by the firms policy
        f"CREATE POLICY zone_read ON {s}.class_history FOR SELECT TO {ZONE_MANAGER} "
        f"USING (EXISTS (SELECT 1 FROM {s}.firms f WHERE f.case_id = class_history.case_id "
        f"AND f.firm_id = class_history.firm_id))",
        f"CREATE POLICY zone_read ON {s}.runs FOR SELECT TO {ZONE_MANAGER} "
        f"USING (published OR zone_scope IN {_MINE})",
        f"CREATE POLICY zone_write ON {s}.runs FOR INSERT TO {ZONE_MANAGER} "
        f"WITH CHECK (zone_scope IN {_MINE})",
        f"CREATE POLICY zone_publish ON {s}.runs FOR UPDATE TO {ZONE_MANAGER} "
        f"USING (zone_scope IN {_MINE}) WITH CHECK (zone_scope IN {_MINE})",
        f"CREATE POLICY viewer_read ON {s}.runs FOR SELECT TO {VIEWER} USING (published)",
    ]
    own_run = (
        f"run_id IN (SELECT r.run_id FROM {s}.runs r WHERE r.zone_scope IN {_MINE} "
        "AND NOT r.published)"
    )
    for name in RUN_TABLES:
        table = f"{s}.run_{name}"
        if name == "firms":
            zone_read = (
                f"EXISTS (SELECT 1 FROM {s}.runs r WHERE r.run_id = run_firms.run_id AND "
                f"(r.zone_scope IN {_MINE} OR (r.published AND run_firms.zone_id IN {_MINE})))"
            )
        else:
            zone_read = f"run_id IN (SELECT run_id FROM {s}.runs)"
        stmts += [
            f"CREATE POLICY zone_read ON {table} FOR SELECT TO {ZONE_MANAGER} USING ({zone_read})",
            f"CREATE POLICY zone_write ON {table} FOR INSERT TO {ZONE_MANAGER} "
            f"WITH CHECK ({own_run})",
            f"CREATE POLICY viewer_read ON {table} FOR SELECT TO {VIEWER} "
            f"USING (run_id IN (SELECT run_id FROM {s}.runs WHERE published))",
        ]
    return stmts


def _views() -> list[str]:
    s = SCHEMA
    # Views run with their owner's rights (not security_invoker): they bypass the
    # row policies and expose only per-zone aggregates.
    return [
        f"""CREATE VIEW {s}.zone_firm_totals AS
            SELECT case_id, zone_id, count(*) AS firms,
                   sum(tax_wan) AS tax_wan, sum(value_added_wan) AS value_added_wan,
                   sum(revenue_wan) AS revenue_wan, sum(land_mu) AS land_mu,
                   sum(energy_tce) AS energy_tce, sum(electricity_mwh) AS electricity_mwh
            FROM {s}.firms WHERE kind = 'existing' GROUP BY case_id, zone_id""",
        f"""CREATE VIEW {s}.zone_plot_totals AS
            SELECT case_id, zone_id, count(*) AS plots, sum(area_mu) AS area_mu,
                   sum(area_mu) FILTER (WHERE status IN ('vacant', 'idle')) AS free_mu
            FROM {s}.plots GROUP BY case_id, zone_id""",
    ]


def _grants() -> list[str]:
    s = SCHEMA
    everyone = ", ".join(GROUP_ROLES)
    reference = [n for n in ALL_LAYERS if n not in (*ZONE_LAYERS, "class_history")]
    stmts = [
        f"GRANT USAGE ON SCHEMA {s} TO {everyone}",
        f"GRANT SELECT ON {s}.cases, {s}.zone_roles TO {everyone}",
        f"GRANT SELECT ON {', '.join(f'{s}.{n}' for n in reference)} TO {everyone}",
        f"GRANT ALL ON ALL TABLES IN SCHEMA {s} TO {PLANNER}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {PLANNER}, {ZONE_MANAGER}",
        f"GRANT SELECT ON {s}.plots, {s}.firms, {s}.class_history TO {ZONE_MANAGER}",
        f"GRANT SELECT ON {s}.zone_firm_totals, {s}.zone_plot_totals TO {PLANNER}, {ZONE_MANAGER}",
        f"GRANT EXECUTE ON FUNCTION {s}.bump_case(text) TO {PLANNER}, {ZONE_MANAGER}",
        f"GRANT SELECT, INSERT ON {s}.runs TO {ZONE_MANAGER}",
        f"GRANT UPDATE (published) ON {s}.runs TO {ZONE_MANAGER}",
        f"GRANT SELECT ON {s}.runs TO {VIEWER}",
    ]
    for name in ZONE_LAYERS:
        cols = ", ".join(q(c) for c in (*EDITABLE[name], "version"))
        stmts.append(f"GRANT UPDATE ({cols}) ON {s}.{name} TO {ZONE_MANAGER}")
    for name, typed in RUN_TABLES.items():
        table = f"{s}.run_{name}"
        stmts.append(f"GRANT SELECT, INSERT ON {table} TO {ZONE_MANAGER}")
        visible = [c for c, _ in typed if name != "firms" or c not in RUN_FIRM_CONFIDENTIAL]
        cols = ", ".join(q(c) for c in ("run_id", "row_no", *visible, "attrs"))
        stmts.append(f"GRANT SELECT ({cols}) ON {table} TO {VIEWER}")
    return stmts


def ddl() -> list[str]:
    """Every statement ``allocator db init`` runs, in order (one transaction)."""
    s = SCHEMA
    stmts = [
        _ROLES,
        f"CREATE SCHEMA {s}",
        f"""CREATE TABLE {s}.cases (
            case_id text PRIMARY KEY,
            source text NOT NULL DEFAULT '',
            content_hash text NOT NULL,
            columns jsonb NOT NULL,
            version bigint NOT NULL DEFAULT 1,
            pushed_by text NOT NULL DEFAULT current_user,
            pushed_at timestamptz NOT NULL DEFAULT now(),
            updated_by text NOT NULL DEFAULT current_user,
            updated_at timestamptz NOT NULL DEFAULT now())""",
        f"""CREATE TABLE {s}.zone_roles (
            role_name text PRIMARY KEY, zone_id text NOT NULL)""",
        *_FUNCTIONS,
    ]
    for layer in ALL_LAYERS.values():
        stmts += _layer_table(layer)
    stmts += _runs_tables()
    stmts += _policies()
    stmts += _views()
    stmts += _grants()
    return stmts
