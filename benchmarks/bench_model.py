"""Build and solve the allocation model on the synthetic province cases; ratios in one run.

For each scale (1 = 13 zones, ~47k candidate pairs; 3, 10; 30 with ``--big``):

- **build**: the product's build plus its matrix step (PuLP model → HiGHS
  arrays), against the *floor*: the same arrays copied into a ``HighsLp`` and
  passed to highspy (what any builder must at least do).
- **product**: ``models.solver.run`` (greedy plan, LP-rounding start, RINS, HiGHS)
  with a 60 s limit and a 0.1 % target (scale 30: 300 s, the issue's target);
  time to the first plan (its first progress report that carries a plan) and to
  1 %, 0.5 % and 0.1 % from its progress reports, seconds after the build; the
  gap at the limit, how far the run went past its limit.
- **HiGHS alone** and **CBC alone** on the same model written to MPS, same
  limit and target (CBC: its binary, under a wall-clock guard): HiGHS's first
  plan and gaps from its callbacks; CBC's final gap from its log; how far each
  went past the limit.
- **what-if, sample case** (``whatif_cold_s`` / ``whatif_warm_s``): the sample
  case's ``energy_cap_minus_15pct`` after ``baseline``, through ``allocator.solve``
  (prepare, build, solve, marginal values, run folder written) at the scenario's
  0.2 % gap, cold against reused (``solve(reuse=ReuseSession())`` after the base
  was solved once with that session); the same at the app's 0.5 % gap
  (``whatif_app_*``). Its own process, before the scales.
- **what-if, province** (scale 1, ``province_whatif_*``): every zone's energy cap
  × 0.85 on the synthetic case, build + solve cold against build + solve with the
  base run's :class:`~models.solver.ModelSession`, each to the same 0.1 % gap.
- **peak memory** of the product run (each product run is its own process).

Usage: ``python benchmarks/bench_model.py [--scales 1,3,10] [--big] [--limit 60] [--big-limit 300]
[--json FILE] [--quick] [--no-sample] [--build-only [--repeat N]]``; ``--build-only`` measures
only build + matrix against the floor (median of N, default 3, per scale).
The machine is shared (2 cores, other jobs), so the seconds vary by tens of
percent between runs; the ratios are measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import synthetic  # noqa: E402
from models.allocation import CAP_FAMILIES, build  # noqa: E402
from models.data import ModelParams  # noqa: E402
from models.solver import ModelSession, run, write_problem  # noqa: E402
from models.solver.highs_api import _hrun, highspy  # noqa: E402
from models.solver.problem import highs_lp  # noqa: E402

TARGET_GAP = 1e-3
MILESTONES = (1e-2, 5e-3, 1e-3)


def _first_time(trace: Sequence[tuple[float, float | None]], gap: float) -> float | None:
    """First time (s) the trace's gap is at most ``gap``; None when never."""
    for t, g in trace:
        if g is not None and math.isfinite(g) and g <= gap:
            return t
    return None


def _first_plan(trace: list[tuple[float, float | None, float | None]]) -> float | None:
    """First time (s) a progress report carries a plan (a finite objective); None when never."""
    for t, _, objective in trace:
        if objective is not None and math.isfinite(objective):
            return t
    return None


def measure_build(data: Any) -> tuple[float, float, Any]:
    """Return (product build + matrix seconds, floor seconds, built).

    The product's matrix is :func:`models.solver.problem.highs_lp` (the build's
    row blocks concatenated into a ``HighsLp``, cap rows scaled); the floor
    copies the finished arrays into a ``HighsLp`` and passes it to HiGHS.
    """
    t0 = time.perf_counter()
    built = build(data, ModelParams())
    lp, _ = highs_lp(built, CAP_FAMILIES)
    build_s = time.perf_counter() - t0
    arrays = {
        "start": np.asarray(lp.a_matrix_.start_, dtype=np.int32),
        "index": np.asarray(lp.a_matrix_.index_, dtype=np.int32),
        "value": np.asarray(lp.a_matrix_.value_, dtype=float),
    }
    t0 = time.perf_counter()
    floor = highspy.HighsLp()
    floor.num_col_, floor.num_row_ = lp.num_col_, lp.num_row_
    floor.col_cost_ = np.array(lp.col_cost_)
    floor.col_lower_ = np.array(lp.col_lower_)
    floor.col_upper_ = np.array(lp.col_upper_)
    floor.row_lower_ = np.array(lp.row_lower_)
    floor.row_upper_ = np.array(lp.row_upper_)
    floor.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    floor.a_matrix_.num_col_, floor.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    floor.a_matrix_.start_ = arrays["start"].copy()
    floor.a_matrix_.index_ = arrays["index"].copy()
    floor.a_matrix_.value_ = arrays["value"].copy()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(floor)
    floor_s = time.perf_counter() - t0
    return build_s, floor_s, built


def fast_floor(built: Any) -> float:
    """The floor with the arrays handed over as memoryviews (as ``highs_lp`` does): seconds.

    ``measure_build``'s floor assigns ndarrays, which pybind11 converts element
    by element; a memoryview converts about twice as fast. The product uses
    it, so this is the stricter floor to compare with.
    """
    lp, _ = highs_lp(built, CAP_FAMILIES)
    arrays = {k: np.array(getattr(lp, k)) for k in ("col_cost_", "col_lower_", "col_upper_")} | {
        k: np.array(getattr(lp, k)) for k in ("row_lower_", "row_upper_")
    }
    a = lp.a_matrix_
    mat = {
        "start_": np.asarray(a.start_, dtype=np.int32),
        "index_": np.asarray(a.index_, dtype=np.int32),
        "value_": np.asarray(a.value_, dtype=float),
    }
    t0 = time.perf_counter()
    floor = highspy.HighsLp()
    floor.num_col_, floor.num_row_ = lp.num_col_, lp.num_row_
    for k, v in arrays.items():
        setattr(floor, k, memoryview(v.copy()))
    floor.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    floor.a_matrix_.num_col_, floor.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    for k, v in mat.items():
        setattr(floor.a_matrix_, k, memoryview(v.copy()))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(floor)
    return time.perf_counter() - t0


def build_only(scales: list[float], repeat: int) -> list[dict[str, Any]]:
    """Build + matrix against the floor per scale: medians of ``repeat`` runs, and their ratio.

    Also against :func:`fast_floor` (the floor with the product's faster array hand-over).
    """
    rows = []
    for scale in scales:
        data = synthetic.province(scale, seed=0)
        runs = []
        for _ in range(repeat):
            b, f, built = measure_build(data)
            runs.append((b, f, fast_floor(built)))
            del built
        build_s = float(np.median([b for b, _, _ in runs]))
        floor_s = float(np.median([f for _, f, _ in runs]))
        fast_s = float(np.median([g for _, _, g in runs]))
        ratios = [b / max(f, 1e-9) for b, f, _ in runs]
        rows.append(
            {
                "scale": scale,
                "pairs": int(data.n_candidates),
                "build_s": build_s,
                "floor_build_s": floor_s,
                "ratio": build_s / max(floor_s, 1e-9),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
                "fast_floor_s": fast_s,
                "ratio_fast_floor": build_s / max(fast_s, 1e-9),
            }
        )
        r = rows[-1]
        print(
            f"scale {scale:g} ({r['pairs']:,} pairs): build + matrix {build_s:.3f} s, "
            f"floor {floor_s:.3f} s, ratio {r['ratio']:.2f}× "
            f"(runs {r['ratio_min']:.2f}–{r['ratio_max']:.2f}×; target ≤ 1.25×); "
            f"against the floor with memoryview hand-over {fast_s:.3f} s: "
            f"{r['ratio_fast_floor']:.2f}×",
            flush=True,
        )
    return rows


def product_run(scale: float, limit: float) -> dict[str, Any]:
    """Solve one scale with the product (meant to run in its own process: peak memory)."""
    data = synthetic.province(scale, seed=0)
    build_s, floor_s, built = measure_build(data)
    trace: list[tuple[float, float | None, float | None]] = []
    session = ModelSession() if scale == 1 else None
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    t0 = time.perf_counter()
    sol = run(
        built,
        time_limit_s=limit,
        rel_gap=TARGET_GAP,
        progress=lambda i: trace.append(
            (time.perf_counter() - t0, i.get("gap"), i.get("objective"))
        ),
        session=session,
    )
    wall = time.perf_counter() - t0
    trace.append((wall, sol.gap, sol.objective))
    gaps = [(t, g) for t, g, _ in trace]
    out = {
        "scale": scale,
        "limit_s": limit,
        "load": load,
        "pairs": int(data.n_candidates),
        "build_s": build_s,
        "floor_build_s": floor_s,
        "status": str(sol.status),
        "objective": sol.objective,
        "gap_at_limit": sol.gap,
        "product_wall_s": wall,
        "overrun_s": max(0.0, wall - limit),
        "stopped_by": sol.stopped_by,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "seconds_to_first_plan": _first_plan(trace),
    }
    for g in MILESTONES:
        out[f"seconds_to_{g * 100:g}pct"] = _first_time(gaps, g)
    if session is not None:
        out.update(whatif(data, session, limit))
    return out


def _diff(a: Any, b: Any) -> float | None:
    """Relative difference of two objectives (None when one is missing)."""
    if a is None or b is None:
        return None
    return abs(a - b) / max(1.0, abs(a))


def whatif(data: Any, session: ModelSession, limit: float) -> dict[str, Any]:
    """Every zone's energy cap × 0.85: cold (build + solve) against reused (build + session)."""
    changed = replace(data, zone_energy_cap_tce=np.asarray(data.zone_energy_cap_tce) * 0.85)
    t0 = time.perf_counter()
    cold = run(build(changed, ModelParams()), time_limit_s=limit, rel_gap=TARGET_GAP)
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = run(
        build(changed, ModelParams()), time_limit_s=limit, rel_gap=TARGET_GAP, session=session
    )
    warm_s = time.perf_counter() - t0
    return {
        "province_whatif_cold_s": cold_s,
        "province_whatif_warm_s": warm_s,
        "province_whatif_reused": bool(warm.reuse.get("reused")),
        "province_whatif_cold_gap": cold.gap,
        "province_whatif_warm_gap": warm.gap,
        "province_whatif_objective_diff": _diff(cold.objective, warm.objective),
    }


def sample_whatif() -> dict[str, Any]:
    """The sample case's what-if after its base, cold against reused, at two gaps.

    ``energy_cap_minus_15pct`` after ``baseline`` through ``allocator.solve`` with
    marginal values and the run folder written (what the app does), at the
    scenario's gap and at the app's 0.5 %. The base is solved once per gap with
    a fresh :class:`allocator.ReuseSession`; the cold what-if runs first (both
    find the case and the eligibility cached). Beside the wall-clock seconds, the
    CPU seconds of this process (one solver thread): on a shared machine they
    vary far less with the load.
    """
    from allocator import ReuseSession, load_scenario, solve

    base = load_scenario(ROOT / "scenarios" / "baseline.toml")
    what = load_scenario(ROOT / "scenarios" / "energy_cap_minus_15pct.toml")
    out: dict[str, Any] = {"whatif_gap": float(what["solver.rel_gap"])}
    with tempfile.TemporaryDirectory() as tmp:
        for prefix, over in (("whatif_", {}), ("whatif_app_", {"solver": {"rel_gap": 0.005}})):
            b = base.with_overrides(over) if over else base
            w = what.with_overrides(over) if over else what
            session = ReuseSession()
            t0 = time.perf_counter()
            solve(b, out_dir=tmp, reuse=session)
            out[prefix + "base_s"] = time.perf_counter() - t0
            t0, c0 = time.perf_counter(), time.process_time()
            cold = solve(w, out_dir=tmp)
            out[prefix + "cold_s"] = time.perf_counter() - t0
            out[prefix + "cold_cpu_s"] = time.process_time() - c0
            t0, c0 = time.perf_counter(), time.process_time()
            warm = solve(w, out_dir=tmp, reuse=session)
            out[prefix + "warm_s"] = time.perf_counter() - t0
            out[prefix + "warm_cpu_s"] = time.process_time() - c0
            out[prefix + "reused"] = bool(warm.reuse.get("reused"))
            out[prefix + "cold_gap"], out[prefix + "warm_gap"] = cold.gap, warm.gap
            out[prefix + "status"] = f"{cold.status}/{warm.status}"
            out[prefix + "objective_diff"] = _diff(cold.objective, warm.objective)
            out[prefix + "warm_timings"] = {k: round(v, 3) for k, v in warm.timings.items()}
    return out


def _print_sample(s: dict[str, Any]) -> None:
    """Print the sample-case what-if lines (cold against reused, at both gaps)."""
    for prefix, what in (("whatif_", f"{s['whatif_gap']:.1%} gap"), ("whatif_app_", "0.5 % gap")):
        c, w = s[prefix + "cold_s"], s[prefix + "warm_s"]
        print(
            f"sample what-if (energy caps × 0.85 after the baseline, {what}): cold {c:.2f} s, "
            f"reused {w:.2f} s (reused/cold {w / max(c, 1e-9):.2f}; CPU "
            f"{s[prefix + 'cold_cpu_s']:.2f} / {s[prefix + 'warm_cpu_s']:.2f} s; reused: "
            f"{s[prefix + 'reused']}; status {s[prefix + 'status']}; gaps "
            f"{_pct(s[prefix + 'cold_gap'])} / {_pct(s[prefix + 'warm_gap'])}; objectives "
            f"differ by {_pct(s[prefix + 'objective_diff'])}); base {s[prefix + 'base_s']:.2f} s"
            f"\n  reused stages (s): {s[prefix + 'warm_timings']}",
            flush=True,
        )


def highs_alone(mps: Path, limit: float) -> dict[str, Any]:
    """HiGHS on the MPS file, no start: time to each gap, gap at the limit."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(mps))
    h.setOptionValue("time_limit", float(limit))
    h.setOptionValue("mip_rel_gap", TARGET_GAP)
    h.setOptionValue("threads", 1)
    trace: list[tuple[float, float]] = []
    first: list[float] = []
    t0 = time.perf_counter()

    def _cb(e: Any) -> None:
        trace.append((time.perf_counter() - t0, float(e.data_out.mip_gap)))
        if e.callback_type == highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution:
            first.append(time.perf_counter() - t0)

    h.cbMipImprovingSolution.subscribe(_cb)
    h.cbMipInterrupt.subscribe(_cb)
    _hrun(h)
    wall = time.perf_counter() - t0
    info = h.getInfo()
    gap = float(info.mip_gap) if int(info.primal_solution_status) == 2 else None
    trace.append((wall, gap if gap is not None else math.inf))
    out: dict[str, Any] = {
        "highs_gap_at_limit": gap,
        "highs_wall_s": wall,
        "highs_overrun_s": max(0.0, wall - limit),
        "highs_seconds_to_first_plan": first[0] if first else None,
    }
    for g in MILESTONES:
        out[f"highs_seconds_to_{g * 100:g}pct"] = _first_time(trace, g)
    return out


def cbc_alone(mps: Path, limit: float) -> dict[str, Any]:
    """CBC's binary (bundled with PuLP) on the MPS file; its final gap from its log."""
    import pulp

    cbc = pulp.PULP_CBC_CMD().path
    args = [cbc, str(mps), "-maximize", "-sec", f"{limit:g}", "-ratio", f"{TARGET_GAP:g}"]
    args += ["-threads", "1"]  # CBC does not read the OBJSENSE section: -maximize
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [*args, "-solve", "-quit"],
            capture_output=True,
            text=True,
            timeout=limit + 60,
            check=False,
        )
        log = proc.stdout
    except subprocess.TimeoutExpired as exc:
        log = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    wall = time.perf_counter() - t0
    gap = None
    m_obj = re.search(r"Objective value:\s+(\S+)", log)
    m_bound = re.search(r"(?:Lower|Upper) bound:\s+(\S+)", log)
    if "Optimal solution found" in log:
        gap = TARGET_GAP  # CBC stopped at its -ratio: within the target
    elif m_obj and m_bound and "No feasible solution" not in log:
        obj, bound = float(m_obj.group(1)), float(m_bound.group(1))
        gap = abs(bound - obj) / max(1.0, abs(obj))
    return {"cbc_gap_at_limit": gap, "cbc_wall_s": wall, "cbc_overrun_s": max(0.0, wall - limit)}


def _finite(x: Any) -> Any:
    """``x``, or None for a float that is not finite (JSON has no infinity: a gap of "—")."""
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _fmt(x: Any, spec: str = ".2f", none: str = "—") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return none
    return format(x, spec)


def _pct(x: Any) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return ">1000%" if x > 10 else f"{x:.3%}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="1,3,10")
    ap.add_argument("--big", action="store_true", help="add scale 30 (all Zhejiang)")
    ap.add_argument("--limit", type=float, default=60.0, help="wall-clock limit per run (s)")
    ap.add_argument(
        "--big-limit", type=float, default=300.0, help="limit at scale 30 (issue: 5 minutes)"
    )
    ap.add_argument("--json", help="write one object per scale to this file")
    ap.add_argument("--quick", action="store_true", help="10 s limits (smoke test)")
    ap.add_argument("--no-sample", action="store_true", help="skip the sample-case what-if")
    ap.add_argument("--one", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--sample", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--build-only", action="store_true", help="only build + matrix vs floor")
    ap.add_argument("--repeat", type=int, default=3, help="runs per scale for --build-only")
    args = ap.parse_args(argv)
    limit = 10.0 if args.quick else args.limit
    if args.one is not None:  # the product run of one scale, in its own process
        print(json.dumps(product_run(args.one, limit)))
        return 0
    if args.sample:  # the sample-case what-if, in its own process
        print(json.dumps(sample_whatif()))
        return 0
    scales = [float(s) for s in args.scales.split(",")] + ([30.0] if args.big else [])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f} (shared); limit {limit:g} s")
    if args.build_only:
        built_rows = build_only(scales, max(1, args.repeat))
        if args.json:
            Path(args.json).write_text(json.dumps(built_rows, indent=2), encoding="utf-8")
        return 0
    sample: dict[str, Any] = {}
    if not args.no_sample:
        proc = subprocess.run(
            [sys.executable, __file__, "--sample"], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            print(f"sample what-if failed\n{proc.stderr[-2000:]}")
        else:
            sample = json.loads(proc.stdout.strip().splitlines()[-1])
            _print_sample(sample)
    rows = []
    for scale in scales:
        lim = args.big_limit if scale >= 30 and not args.quick else limit
        proc = subprocess.run(
            [sys.executable, __file__, "--one", f"{scale:g}", "--limit", f"{lim:g}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(f"scale {scale:g}: product run failed\n{proc.stderr[-2000:]}")
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        with tempfile.TemporaryDirectory() as tmp:
            mps = Path(tmp) / "model.mps"
            write_problem(build(synthetic.province(scale, seed=0), ModelParams()), mps)
            row.update(highs_alone(mps, lim))
            row.update(cbc_alone(mps, lim))
        row["gap_at_60s"] = row["gap_at_limit"] if lim == 60.0 else None
        if scale == 1:
            row.update(sample)
        rows.append(row)
        print(
            f"scale {scale:g} ({row['pairs']:,} pairs, limit {lim:g} s, load {row['load']:.1f}): "
            f"product {row['status']} gap {_pct(row['gap_at_limit'])} in "
            f"{row['product_wall_s']:.1f} s; "
            f"HiGHS alone {_pct(row['highs_gap_at_limit'])}; CBC {_pct(row['cbc_gap_at_limit'])}",
            flush=True,
        )
    print()
    head = (
        f"{'scale':>5} {'pairs':>9} {'lim s':>5} | {'product: plan':>13} {'1%':>6} {'0.5%':>6} "
        f"{'0.1%':>6} {'gap@lim':>8} {'over s':>6} {'peak MB':>7} | {'HiGHS: plan':>11} "
        f"{'1%':>6} {'0.5%':>6} {'0.1%':>6} {'gap@lim':>8} {'over s':>6} | {'CBC gap':>8} "
        f"{'over s':>6} | {'build s':>7} {'floor s':>7} {'ratio':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['scale']:>5g} {r['pairs']:>9,} {r['limit_s']:>5g} | "
            f"{_fmt(r['seconds_to_first_plan'], '.1f'):>13} {_fmt(r['seconds_to_1pct'], '.1f'):>6} "
            f"{_fmt(r['seconds_to_0.5pct'], '.1f'):>6} {_fmt(r['seconds_to_0.1pct'], '.1f'):>6} "
            f"{_pct(r['gap_at_limit']):>8} {r['overrun_s']:>6.1f} {r['peak_mb']:>7.0f} | "
            f"{_fmt(r['highs_seconds_to_first_plan'], '.1f'):>11} "
            f"{_fmt(r['highs_seconds_to_1pct'], '.1f'):>6} "
            f"{_fmt(r['highs_seconds_to_0.5pct'], '.1f'):>6} "
            f"{_fmt(r['highs_seconds_to_0.1pct'], '.1f'):>6} {_pct(r['highs_gap_at_limit']):>8} "
            f"{r['highs_overrun_s']:>6.1f} | {_pct(r['cbc_gap_at_limit']):>8} "
            f"{r['cbc_overrun_s']:>6.1f} | {r['build_s']:>7.2f} {r['floor_build_s']:>7.2f} "
            f"{r['build_s'] / max(r['floor_build_s'], 1e-9):>5.1f}×"
        )
    for r in rows:
        if "province_whatif_cold_s" in r:
            c, w = r["province_whatif_cold_s"], r["province_whatif_warm_s"]
            print(
                f"\nwhat-if at scale {r['scale']:g} (zone energy caps × 0.85, to the 0.1 % gap): "
                f"cold {c:.2f} s, reused {w:.2f} s (reused/cold {w / max(c, 1e-9):.2f}, "
                f"reused: {r['province_whatif_reused']}); gaps "
                f"{_pct(r['province_whatif_cold_gap'])} / {_pct(r['province_whatif_warm_gap'])}, "
                f"objectives differ by {_pct(r['province_whatif_objective_diff'])}"
            )
    if sample:
        _print_sample(sample)
    print(
        "\nover s = how far each run went past its limit (lim s); time columns = seconds after "
        "the build to the first plan reported and to that gap (— = not reached within the "
        "limit); build = product build + matrix, floor = the same arrays → HighsLp → "
        "passModel; peak MB = the product run's process.\nTargets (issue 17): build ≤ 1.25× "
        "floor; scale 3 ≤ 0.2 % in 60 s; scale 10 a first plan ≤ 15 s and ≤ 0.5 % in ≤ 60 s; "
        "scale 30 ≤ 1 % in ≤ 300 s, ≤ 8 GB; sample what-if reused ≤ 1.5 s; every run within "
        "1.1× its limit."
    )
    if args.json:
        keep = [
            "scale",
            "limit_s",
            "load",
            "pairs",
            "build_s",
            "floor_build_s",
            "gap_at_60s",
            "gap_at_limit",
            "seconds_to_first_plan",
            "seconds_to_1pct",
            "seconds_to_0.5pct",
            "seconds_to_0.1pct",
            "overrun_s",
            "peak_mb",
            "status",
            "stopped_by",
            "highs_gap_at_limit",
            "highs_overrun_s",
            "highs_seconds_to_first_plan",
            "highs_seconds_to_1pct",
            "highs_seconds_to_0.5pct",
            "highs_seconds_to_0.1pct",
            "cbc_gap_at_limit",
            "cbc_overrun_s",
            "whatif_cold_s",
            "whatif_warm_s",
            "whatif_app_cold_s",
            "whatif_app_warm_s",
            "whatif_cold_cpu_s",
            "whatif_warm_cpu_s",
            "province_whatif_cold_s",
            "province_whatif_warm_s",
            "province_whatif_cold_gap",
            "province_whatif_warm_gap",
            "province_whatif_objective_diff",
        ]
        objs = [{k: _finite(r.get(k)) for k in keep if k in r or "whatif" not in k} for r in rows]
        Path(args.json).write_text(json.dumps(objs, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0 if len(rows) == len(scales) else 1


if __name__ == "__main__":
    sys.exit(main())
