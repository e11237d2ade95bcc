"""Roles enforced by PostgreSQL: what each role may read, edit, write and publish.

Each rule is checked twice: through the library (what the app and CLI get) and
through raw SQL signed in with that role's own credentials (what anyone with a
database client gets). The database, not the allocator, refuses.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from store_helpers import fake_result, login_role, new_database

from allocator.case import load_case
from allocator.case.io import split_list
from allocator.cli import main
from allocator.store.cases import edit_rows, push_case, row_versions
from allocator.store.errors import StaleEditError, StoreError
from allocator.store.runs import list_stored_runs, load_stored_run, publish_run, save_run
from allocator.store.schema import PLANNER, VIEWER, zone_role

pytestmark = pytest.mark.db

OWN, OTHER = "HZ", "NBMS"


@pytest.fixture(scope="module")
def sample(sample_case_path: Path):  # noqa: ANN201
    return load_case(sample_case_path)


@pytest.fixture(scope="module")
def store(pg_admin_url: str, sample) -> dict[str, str]:  # noqa: ANN001
    """A store with the sample case and one login role per kind."""
    admin = new_database(pg_admin_url)
    assert main(["db", "init", admin]) == 0
    push_case(admin, sample)
    users = {
        "admin": admin,
        "planner": login_role(admin, "pl_anna", PLANNER),
        "zone": login_role(admin, "zm_hz_li", zone_role(OWN)),
        "other_zone": login_role(admin, "zm_nb_wang", zone_role(OTHER)),
        "viewer": login_role(admin, "vw_zhao", VIEWER),
    }
    return users


def _sql(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _own_firms(case, zone: str) -> set[str]:  # noqa: ANN001
    firms = case.firms
    existing = firms[(firms["kind"] == "existing") & (firms["zone_id"] == zone)]
    applicants = firms[
        (firms["kind"] == "applicant")
        & firms["candidate_zones"].map(lambda z: zone in split_list(z))
    ]
    return set(existing["firm_id"]) | set(applicants["firm_id"])


# ----------------------------------------------------------------------------- zone manager


def test_zone_manager_loads_only_its_zone(store: dict[str, str], sample) -> None:  # noqa: ANN001
    case = load_case(store["zone"])
    assert set(case.plots["zone_id"]) == {OWN}
    assert len(case.plots) == int((sample.plots["zone_id"] == OWN).sum())
    assert set(case.firms["firm_id"]) == _own_firms(sample, OWN)
    assert set(case.class_history["firm_id"]) <= set(case.firms["firm_id"])
    assert len(case.zones) == len(sample.zones)  # zone outlines and caps are not confidential


def test_zone_manager_raw_sql_sees_no_other_zone_firm(store: dict[str, str], sample) -> None:  # noqa: ANN001
    url = store["zone"]
    assert (
        _sql(url, "SELECT firm_id, tax_wan FROM allocator.firms WHERE zone_id = %s", (OTHER,)) == []
    )
    rows = _sql(url, "SELECT DISTINCT zone_id FROM allocator.firms WHERE kind = 'existing'")
    assert rows == [(OWN,)]
    seen = {r[0] for r in _sql(url, "SELECT firm_id FROM allocator.firms")}
    assert seen == _own_firms(sample, OWN)
    assert _sql(url, "SELECT count(*) FROM allocator.plots WHERE zone_id <> %s", (OWN,)) == [(0,)]


def test_zone_manager_reads_other_zones_only_as_aggregates(store: dict[str, str], sample) -> None:  # noqa: ANN001
    rows = _sql(
        store["zone"],
        "SELECT zone_id, firms, tax_wan FROM allocator.zone_firm_totals ORDER BY zone_id",
    )
    existing = sample.existing.groupby("zone_id")
    assert {r[0] for r in rows} == set(sample.existing["zone_id"])
    for zone_id, n, tax in rows:
        assert n == existing.size()[zone_id]
        assert tax == pytest.approx(existing["tax_wan"].sum()[zone_id])


def test_zone_manager_cannot_edit_other_zone_or_move_a_plot(store: dict[str, str], sample) -> None:  # noqa: ANN001
    other_plot = sample.plots.loc[sample.plots["zone_id"] == OTHER, "plot_id"].iloc[0]
    own_plot = sample.plots.loc[sample.plots["zone_id"] == OWN, "plot_id"].iloc[0]
    with psycopg.connect(store["zone"]) as conn:
        cur = conn.execute(
            "UPDATE allocator.plots SET far = 9, version = version + 1 WHERE plot_id = %s",
            (other_plot,),
        )
        assert cur.rowcount == 0  # invisible to this role: nothing to update
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(
            store["zone"],
            "UPDATE allocator.plots SET zone_id = %s WHERE plot_id = %s",
            (OTHER, own_plot),
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(store["zone"], "DELETE FROM allocator.firms")
    with pytest.raises(StoreError, match=str(other_plot)):
        edit_rows(store["zone"], "plots", {other_plot: {"far": 9.0}}, {other_plot: 1})
    assert (
        _sql(store["admin"], "SELECT far FROM allocator.plots WHERE plot_id = %s", (other_plot,))[
            0
        ][0]
        != 9
    )


# ----------------------------------------------------------------------------- viewer


def test_viewer_cannot_read_firms_or_plots(store: dict[str, str]) -> None:
    for query in (
        "SELECT tax_wan FROM allocator.firms",
        "SELECT * FROM allocator.plots",
        "SELECT * FROM allocator.zone_firm_totals",
        "SELECT allocator.bump_case('zhejiang_sample')",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _sql(store["viewer"], query)
    with pytest.raises(StoreError, match="permission denied for table"):
        load_case(store["viewer"])


# ----------------------------------------------------------------------------- runs


def test_runs_visibility_publish_and_tax_columns(store: dict[str, str], sample) -> None:  # noqa: ANN001
    run_id = save_run(store["planner"], fake_result(sample, "province"))
    # unpublished province run: planner only
    assert run_id in {r.run_id for r in list_stored_runs(store["planner"])}
    for who in ("zone", "other_zone", "viewer"):
        assert run_id not in {r.run_id for r in list_stored_runs(store[who])}
        with pytest.raises(StoreError):
            load_stored_run(store[who], run_id)
        assert _sql(
            store[who], "SELECT count(*) FROM allocator.run_plots WHERE run_id = %s", (run_id,)
        ) == [(0,)]
    # a zone manager may not publish the province's run
    with pytest.raises(StoreError):
        publish_run(store["zone"], run_id)
    publish_run(store["planner"], run_id)
    run = load_stored_run(store["planner"], run_id)
    assert run.published
    assert run.created_by == "pl_anna"
    assert len(run.firms) == len(sample.firms)
    # published: a zone manager sees the zones and plots, and only its own zone's firm rows
    zone_run = load_stored_run(store["zone"], run_id)
    assert len(zone_run.plots) == len(sample.plots)
    assert set(zone_run.firms["zone_id"].dropna()) == {OWN}
    assert _sql(
        store["zone"],
        "SELECT count(*) FROM allocator.run_firms WHERE run_id = %s AND zone_id <> %s",
        (run_id, OWN),
    ) == [(0,)]
    # the viewer sees the published run without firm tax and value added
    seen = load_stored_run(store["viewer"], run_id)
    assert len(seen.firms) == len(sample.firms)
    assert "tax_wan" not in seen.firms.columns
    assert "value_added_wan" not in seen.firms.columns
    assert "firm_id" in seen.firms.columns
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(store["viewer"], "SELECT tax_wan FROM allocator.run_firms")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(store["viewer"], "SELECT * FROM allocator.run_firms")


def test_zone_run_is_scoped_to_its_zone_and_stamped_by_the_database(
    store: dict[str, str],
    sample,  # noqa: ANN001
) -> None:
    own = load_case(store["zone"])
    run_id = save_run(store["zone"], fake_result(own, "hz-whatif", str(own.source)))
    run = load_stored_run(store["zone"], run_id)
    assert run.zone_scope == OWN
    assert run.created_by == "zm_hz_li"
    pd.testing.assert_frame_equal(
        run.firms[["firm_id", "tax_wan"]].reset_index(drop=True),
        own.firms[["firm_id", "tax_wan"]].reset_index(drop=True),
    )
    assert run_id not in {r.run_id for r in list_stored_runs(store["other_zone"])}
    assert run_id in {r.run_id for r in list_stored_runs(store["planner"])}
    # raw SQL: another zone's scope is refused, and who made a run cannot be forged
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(
            store["zone"],
            "INSERT INTO allocator.runs (name, status, zone_scope, summary, diagnosis, columns) "
            "VALUES ('x', 'optimal', %s, '{}', '{}', '{}') RETURNING run_id",
            (OTHER,),
        )
    forged = _sql(
        store["zone"],
        "INSERT INTO allocator.runs (name, status, zone_scope, summary, diagnosis, columns, "
        "created_by, published) VALUES ('x', 'optimal', %s, '{}', '{}', '{}', 'pl_anna', true) "
        "RETURNING created_by, published",
        (OWN,),
    )
    assert forged == [("zm_hz_li", False)]


# ----------------------------------------------------------------------------- edits


def test_stale_edit_is_refused_naming_the_newer_version(store: dict[str, str], sample) -> None:  # noqa: ANN001
    plot = sample.plots.loc[
        (sample.plots["zone_id"] == OWN) & (sample.plots["status"] == "vacant"), "plot_id"
    ].iloc[0]
    read_by_zone = row_versions(store["zone"], "plots")
    read_by_planner = row_versions(store["planner"], "plots")
    assert read_by_zone[plot] == read_by_planner[plot] == 1
    assert edit_rows(store["planner"], "plots", {plot: {"far": 1.8}}, read_by_planner) == 1
    with pytest.raises(StaleEditError) as err:
        edit_rows(store["zone"], "plots", {plot: {"far": 2.5}}, read_by_zone)
    assert err.value.version == 2
    assert err.value.by == "pl_anna"
    assert "2" in str(err.value)
    assert "pl_anna" in str(err.value)
    assert str(plot) in str(err.value)
    row = _sql(
        store["admin"], "SELECT far, version FROM allocator.plots WHERE plot_id = %s", (plot,)
    )
    assert row == [(1.8, 2)]
    # raw SQL that does not name the version it edits is refused by the database too
    with pytest.raises(psycopg.DatabaseError, match="it is at version 2"):
        _sql(store["zone"], "UPDATE allocator.plots SET far = 3 WHERE plot_id = %s", (plot,))
    # an edit against the current version goes through and moves the case version on
    before = _sql(store["admin"], "SELECT version FROM allocator.cases")[0][0]
    assert (
        edit_rows(
            store["zone"], "plots", {plot: {"far": 2.5}}, row_versions(store["zone"], "plots")
        )
        == 1
    )
    assert _sql(store["admin"], "SELECT version FROM allocator.cases")[0][0] == before + 1
    assert _sql(
        store["admin"], "SELECT updated_by FROM allocator.plots WHERE plot_id = %s", (plot,)
    ) == [("zm_hz_li",)]


# ----------------------------------------------------------------------------- atomic runs

_WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from store_helpers import fake_result
    from allocator.case import load_case
    from allocator.store.runs import save_run

    case = load_case({url!r})

    def step(name):
        if name == "run_plots":
            print("PAUSED", flush=True)
            time.sleep(120)

    save_run({url!r}, fake_result(case, "killed"), step=step)
    print("COMMITTED", flush=True)
    """
)


def test_run_killed_mid_write_leaves_nothing(store: dict[str, str]) -> None:
    url = store["planner"]
    before = {r.run_id for r in list_stored_runs(url)}
    code = _WRITER.format(tests=str(Path(__file__).parent), url=url)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "PAUSED"  # the runs row and two tables are written, not committed
        written = _sql(
            store["admin"],
            "SELECT count(*) FROM pg_stat_activity WHERE usename = 'pl_anna' "
            "AND state = 'idle in transaction'",
        )
        assert written == [(1,)]
        assert {r.run_id for r in list_stored_runs(url)} == before
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert {r.run_id for r in list_stored_runs(url)} == before
    orphans = _sql(
        store["admin"],
        "SELECT count(*) FROM allocator.run_firms f LEFT JOIN allocator.runs r USING (run_id) "
        "WHERE r.run_id IS NULL",
    )
    assert orphans == [(0,)]
    assert _sql(
        store["admin"], "SELECT count(*) FROM allocator.runs WHERE scenario_name = 'killed'"
    ) == [(0,)]


def test_db_list_says_who_is_signed_in_and_shows_only_visible_runs(
    store: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    visible = {r.run_id for r in list_stored_runs(store["other_zone"])}
    assert main(["--lang", "en", "db", "list", store["other_zone"]]) == 0
    out = capsys.readouterr().out
    assert "Signed in as zm_nb_wang (zone manager)" in out
    assert f"Runs you may see: {len(visible)}" in out
    assert main(["--lang", "en", "db", "list", store["viewer"]]) == 0
    assert "Signed in as vw_zhao (viewer)" in capsys.readouterr().out
