"""Several people at once on one stored case: no lost or mixed-up run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from store_helpers import fake_result, login_role, new_database

from allocator.case import load_case
from allocator.scenario import load_scenario
from allocator.solve import solve
from allocator.store.cases import push_case
from allocator.store.db import init_store
from allocator.store.runs import list_stored_runs, load_stored_run, save_run
from allocator.store.schema import PLANNER, zone_role

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def store(pg_admin_url: str, sample_case_path: Path) -> str:
    url = new_database(pg_admin_url)
    init_store(url)
    push_case(url, load_case(sample_case_path))
    return url


def test_concurrent_run_writes_are_neither_lost_nor_mixed(
    store: str, sample_case_path: Path
) -> None:
    case = load_case(sample_case_path)
    urls = [login_role(store, f"cc_pl_{i}", PLANNER) for i in range(8)]

    def write(i: int) -> int:
        result = fake_result(case, f"writer-{i}")
        result.firms["tax_wan"] = case.firms["tax_wan"].to_numpy() * (i + 1)
        return save_run(urls[i], result)

    with ThreadPoolExecutor(8) as pool:
        run_ids = list(pool.map(write, range(8)))
    assert len(set(run_ids)) == 8
    assert {r.run_id for r in list_stored_runs(urls[0])} >= set(run_ids)
    base = case.firms["tax_wan"].sum()
    for i, run_id in enumerate(run_ids):
        run = load_stored_run(urls[0], run_id)
        assert run.scenario_name == f"writer-{i}"
        assert run.created_by == f"cc_pl_{i}"
        assert run.firms["tax_wan"].sum() == pytest.approx(base * (i + 1))


@pytest.mark.slow
def test_two_zone_managers_solve_at_once(store: str) -> None:
    zones = ("HZ", "QZ")
    urls = {z: login_role(store, f"cc_zm_{z.lower()}", zone_role(z)) for z in zones}
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml")

    def whatif(zone: str) -> tuple[int, int]:
        case = load_case(urls[zone])
        result = solve(scenario, case=case, write=False, time_limit_s=30)
        assert result.has_solution
        return save_run(urls[zone], result), len(result.firms)

    with ThreadPoolExecutor(2) as pool:
        done = dict(zip(zones, pool.map(whatif, zones), strict=True))
    for zone, (run_id, n_firms) in done.items():
        run = load_stored_run(urls[zone], run_id)
        assert run.zone_scope == zone
        assert len(run.firms) == n_firms
        assert set(run.firms["zone_id"].dropna()) <= {zone}
        assert run.kpis.get("tax_wan") == pytest.approx(run.summary["kpis"]["tax_wan"])
        other = urls[next(z for z in zones if z != zone)]
        assert run_id not in {r.run_id for r in list_stored_runs(other)}
