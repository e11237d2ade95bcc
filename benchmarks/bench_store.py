"""Benchmark: 20 concurrent what-ifs on the sample case through the shared store.

Each what-if is a separate client process on the loopback interface, signed in
with its own database role: the first 13 are zone managers (one per sample
zone, solving their own zone as the database lets them see it), the other 7
are provincial planners solving the whole province. Every client loads the
case from PostGIS, solves the baseline with its own energy-cap factor, and
writes its run to the store in one transaction. All 20 start together.

Then the planner reads every run back and checks that none is lost or mixed
up: 20 runs, each with its client's scenario name, energy factor, scenario
hash and database role, and firm rows only from the zones that role may see.

Prints p50/p95 latency (end to end, and the store's own parts: loading the
case and writing the run), overall and by role. The machine has 2 cores
shared with other work, so full sample solves are capped by a short time
limit (``--time-limit``, default 15 s, printed with the figures): the solve
figures are not the optimiser's speed, the store figures are the point.

The database is ``ALLOCATOR_TEST_PG`` (a superuser URL), else a throw-away
cluster started with ``tests/pg_cluster.py``; without PostgreSQL + PostGIS the
benchmark says so and exits 0.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
CLIENTS = 20
SAMPLE = ROOT / "gis_data" / "zhejiang_sample.gpkg"
BASELINE = ROOT / "scenarios" / "baseline.toml"


def client(url: str, index: int, time_limit_s: float) -> None:
    """One loopback client: wait for GO, load, solve, save; print its record as JSON."""
    from allocator.case import load_case
    from allocator.scenario import load_scenario
    from allocator.solve import solve
    from allocator.store.runs import save_run

    scenario = load_scenario(BASELINE).with_overrides(
        {"name": f"whatif-{index:02d}", "caps.energy_factor": round(0.80 + 0.01 * index, 2)}
    )
    print("READY", flush=True)
    sys.stdin.readline()
    t0 = time.perf_counter()
    case = load_case(url)
    t1 = time.perf_counter()
    result = solve(scenario, case=case, write=False, time_limit_s=time_limit_s)
    t2 = time.perf_counter()
    run_id = save_run(url, result)
    t3 = time.perf_counter()
    record = {
        "index": index,
        "run_id": run_id,
        "scenario_hash": scenario.hash,
        "status": str(result.status),
        "firms": len(case.firms),
        "firm_rows": len(result.firms),
        "firms_digest": firms_digest(result.firms),
        "load_s": t1 - t0,
        "solve_s": t2 - t1,
        "save_s": t3 - t2,
        "total_s": t3 - t0,
    }
    print(json.dumps(record), flush=True)


def firms_digest(firms: pd.DataFrame) -> str:
    """Return a digest of a run's firm table (ids, zones, tax): a mixed-up run differs."""
    if firms.empty:
        return "empty"
    cols = [firms[c].astype(str).tolist() for c in ("firm_id", "zone_id", "tax_wan")]
    return hashlib.sha256(json.dumps(cols).encode()).hexdigest()


def _percentiles(values: list[float]) -> str:
    arr = np.asarray(values, dtype=float)
    return f"p50 {np.percentile(arr, 50):6.2f} s   p95 {np.percentile(arr, 95):6.2f} s"


def main() -> int:
    """Set up a store, run the clients, check every run, print the latencies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=15.0, help="solver limit per what-if")
    parser.add_argument("--client", nargs=2, metavar=("URL", "INDEX"), help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()  # run_all.py passes its own filter words
    if args.client:
        client(args.client[0], int(args.client[1]), args.time_limit)
        return 0
    import pg_cluster
    from store_helpers import login_role, new_database

    if not SAMPLE.exists():
        print("skipped: sample case not built (make sample)")
        return 0
    admin = os.environ.get("ALLOCATOR_TEST_PG")
    cluster: Path | None = None
    if not admin:
        reason = pg_cluster.missing_reason()
        if reason:
            print(f"skipped: no database for the store benchmark: {reason}")
            return 0
        cluster = Path(tempfile.mkdtemp(prefix="allocator-bench-pg-")) / "cluster"
        admin = pg_cluster.start(cluster)
    try:
        return _run(admin, args.time_limit, login_role, new_database)
    finally:
        if cluster is not None:
            pg_cluster.stop(cluster)
            cluster.parent.rmdir()


def _start(url: str, index: int, time_limit_s: float, env: dict[str, str]) -> subprocess.Popen:
    """Start one client process (it waits for GO once its imports are done)."""
    cmd = [sys.executable, __file__, "--client", url, str(index), "--time-limit", str(time_limit_s)]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)


def _finish(procs: list[subprocess.Popen]) -> tuple[list[dict], float] | None:
    """Wait until every client is ready, say GO to all at once, collect their records.

    Returns the records and the wall-clock seconds from GO to the last run
    written, or None when a client failed.
    """
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "READY":
            print(f"client failed to start: {line!r}")
            return None
    start = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("GO\n")
        proc.stdin.flush()
    records = []
    for proc in procs:
        out, _ = proc.communicate(timeout=1800)
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            print(f"client exited {proc.returncode}")
            return None
        records.append(json.loads(lines[-1]))
    return records, time.perf_counter() - start


def _run(admin: str, time_limit_s: float, login_role, new_database) -> int:  # noqa: ANN001
    from allocator.case import load_case
    from allocator.case.io import split_list
    from allocator.store.cases import push_case
    from allocator.store.db import init_store
    from allocator.store.runs import list_stored_runs, load_stored_run
    from allocator.store.schema import PLANNER, zone_role

    url = new_database(admin)
    init_store(url)
    case = load_case(SAMPLE)
    push_case(url, case)
    zones = list(case.zones["zone_id"])
    roles: list[tuple[str, str, str | None]] = []  # (login, url, zone)
    for i in range(CLIENTS):
        if i < len(zones):
            name, zone = f"bench_zm_{i:02d}", zones[i]
            roles.append((name, login_role(url, name, zone_role(zone)), zone))
        else:
            name = f"bench_pl_{i:02d}"
            roles.append((name, login_role(url, name, PLANNER), None))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # one planner alone first: the same what-if without contention, for reference
    alone_url = login_role(url, "bench_pl_alone", PLANNER)
    alone = _start(alone_url, CLIENTS, time_limit_s, env)
    alone_done = _finish([alone])
    if alone_done is None:
        return 1
    alone_records = alone_done[0]
    procs = [_start(role_url, i, time_limit_s, env) for i, (_, role_url, _) in enumerate(roles)]
    found = _finish(procs)
    if found is None:
        return 1
    records, wall = found
    # ---- no lost or mixed-up run
    planner_url = roles[-1][1]
    runs = {r.run_id: r for r in list_stored_runs(planner_url)}
    problems = []
    runs.pop(alone_records[0]["run_id"], None)
    if len(runs) != CLIENTS or {r["run_id"] for r in records} != set(runs):
        problems.append(f"expected {CLIENTS} runs, found {len(runs)}")
    for rec in records:
        login, _, zone = roles[rec["index"]]
        run = load_stored_run(planner_url, rec["run_id"])
        factor = run.scenario.get("caps", {}).get("energy_factor")
        if run.scenario_name != f"whatif-{rec['index']:02d}":
            problems.append(f"run {rec['run_id']}: scenario {run.scenario_name}")
        if factor is None or abs(factor - round(0.80 + 0.01 * rec["index"], 2)) > 1e-12:
            problems.append(f"run {rec['run_id']}: energy factor {factor}")
        if run.summary.get("scenario_hash") != rec["scenario_hash"]:
            problems.append(f"run {rec['run_id']}: scenario hash differs")
        if run.created_by != login or run.zone_scope != zone:
            problems.append(f"run {rec['run_id']}: by {run.created_by} scope {run.zone_scope}")
        if firms_digest(run.firms) != rec["firms_digest"] or len(run.firms) != rec["firm_rows"]:
            problems.append(f"run {rec['run_id']}: firm table differs from what its client wrote")
        if zone is not None and len(run.firms):
            own = case.firms[
                (case.firms["zone_id"] == zone)
                | case.firms["candidate_zones"].map(lambda z, zone=zone: zone in split_list(z))
            ]
            if set(run.firms["firm_id"]) != set(own["firm_id"]):
                problems.append(f"run {rec['run_id']}: firm rows of other zones")
    print(
        f"{CLIENTS} concurrent what-ifs on the sample case via PostGIS on 127.0.0.1 "
        f"({len(zones)} zone managers on their zone, {CLIENTS - len(zones)} planners on the "
        f"province; solver time limit {time_limit_s:g} s each; 2 shared cores)"
    )
    ref = alone_records[0]
    print(
        f"  one planner alone first ({ref['status']}): end to end {ref['total_s']:.2f} s, "
        f"load case {ref['load_s']:.2f} s, write run {ref['save_s']:.2f} s, "
        f"solve {ref['solve_s']:.2f} s"
    )
    print(f"  wall clock for all {CLIENTS} at once: {wall:.1f} s")
    groups = {
        "all": records,
        "zone managers": [r for r in records if roles[r["index"]][2] is not None],
        "planners": [r for r in records if roles[r["index"]][2] is None],
    }
    for label, recs in groups.items():
        if not recs:
            continue
        counts: dict[str, int] = {}
        for rec in recs:
            counts[rec["status"]] = counts.get(rec["status"], 0) + 1
        status_text = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        print(f"  {label} ({len(recs)}; {status_text}):")
        for key, name in (
            ("total_s", "end to end "),
            ("load_s", "load case  "),
            ("save_s", "write run  "),
            ("solve_s", "solve      "),
        ):
            print(f"    {name} {_percentiles([r[key] for r in recs])}")
    if problems:
        print("LOST OR MIXED-UP RUNS:\n  " + "\n  ".join(problems))
        return 1
    print(f"  runs checked: {len(records)} written, {len(runs)} in the store, none lost or mixed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
