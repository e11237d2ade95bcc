"""Build and solve the allocation model on the synthetic province cases; ratios in one run.

For each scale (1 = 13 zones, ~47k candidate pairs; 3, 10; 30 with ``--big``):

- **build**: the product's build plus its matrix step (PuLP model → HiGHS
  arrays), against the *floor*: the same arrays copied into a ``HighsLp`` and
  passed to highspy (what any builder must at least do).
- **product**: ``models.solver.run`` (LP-rounding start, RINS, HiGHS) with a
  60 s limit and a 0.1 % target; time to 1 %, 0.5 % and 0.1 % from its
  progress reports, the gap at the limit, how far the run went past its limit.
- **HiGHS alone** and **CBC alone** on the same model written to MPS, same
  limit and target (CBC: its binary, under a wall-clock guard).
- **what-if** (scale 1): every zone's energy cap × 0.85, solved cold and warm
  (from the base plan), each to the same 0.1 % gap.
- **peak memory** of the product run (each product run is its own process).

Usage: ``python benchmarks/bench_model.py [--scales 1,3,10] [--big] [--limit 60]
[--json FILE] [--quick] [--build-only [--repeat N]]``; ``--build-only`` measures
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
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import synthetic  # noqa: E402
from models.allocation import CAP_FAMILIES, build  # noqa: E402
from models.data import ModelParams  # noqa: E402
from models.solver import run, write_problem  # noqa: E402
from models.solver.highs_api import _hrun, highspy  # noqa: E402
from models.solver.problem import highs_lp  # noqa: E402

TARGET_GAP = 1e-3
MILESTONES = (1e-2, 5e-3, 1e-3)


def _first_time(trace: list[tuple[float, float]], gap: float) -> float | None:
    """First time (s) the trace's gap is at most ``gap``; None when never."""
    for t, g in trace:
        if g is not None and math.isfinite(g) and g <= gap:
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
    trace: list[tuple[float, float]] = []
    t0 = time.perf_counter()
    sol = run(
        built,
        time_limit_s=limit,
        rel_gap=TARGET_GAP,
        progress=lambda i: trace.append((time.perf_counter() - t0, i.get("gap"))),
    )
    wall = time.perf_counter() - t0
    trace.append((wall, sol.gap))
    out = {
        "scale": scale,
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
    }
    for g in MILESTONES:
        out[f"seconds_to_{g * 100:g}pct"] = _first_time(trace, g)
    if scale == 1:
        out.update(whatif(data, built, sol, limit))
    return out


def whatif(data: Any, built: Any, base: Any, limit: float) -> dict[str, Any]:
    """Every zone's energy cap × 0.85: cold (build + solve) against warm (from the base plan)."""
    changed = replace(data, zone_energy_cap_tce=np.asarray(data.zone_energy_cap_tce) * 0.85)
    t0 = time.perf_counter()
    cold = run(build(changed, ModelParams()), time_limit_s=limit, rel_gap=TARGET_GAP)
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = run(
        build(changed, ModelParams()),
        time_limit_s=limit,
        rel_gap=TARGET_GAP,
        start_plan=(base.y, base.x),
    )
    warm_s = time.perf_counter() - t0
    return {
        "whatif_cold_s": cold_s,
        "whatif_warm_s": warm_s,
        "whatif_cold_gap": cold.gap,
        "whatif_warm_gap": warm.gap,
        "whatif_objective_diff": (
            abs(cold.objective - warm.objective) / max(1.0, abs(cold.objective))
            if cold.objective is not None and warm.objective is not None
            else None
        ),
    }


def highs_alone(mps: Path, limit: float) -> dict[str, Any]:
    """HiGHS on the MPS file, no start: time to each gap, gap at the limit."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(mps))
    h.setOptionValue("time_limit", float(limit))
    h.setOptionValue("mip_rel_gap", TARGET_GAP)
    h.setOptionValue("threads", 1)
    trace: list[tuple[float, float]] = []
    t0 = time.perf_counter()

    def _cb(e: Any) -> None:
        trace.append((time.perf_counter() - t0, float(e.data_out.mip_gap)))

    h.cbMipImprovingSolution.subscribe(_cb)
    h.cbMipInterrupt.subscribe(_cb)
    _hrun(h)
    wall = time.perf_counter() - t0
    info = h.getInfo()
    gap = float(info.mip_gap) if int(info.primal_solution_status) == 2 else None
    trace.append((wall, gap if gap is not None else math.inf))
    out: dict[str, Any] = {"highs_gap_at_limit": gap, "highs_wall_s": wall}
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
    return {"cbc_gap_at_limit": gap, "cbc_wall_s": wall}


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
    ap.add_argument("--json", help="write one object per scale to this file")
    ap.add_argument("--quick", action="store_true", help="10 s limits (smoke test)")
    ap.add_argument("--one", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--build-only", action="store_true", help="only build + matrix vs floor")
    ap.add_argument("--repeat", type=int, default=3, help="runs per scale for --build-only")
    args = ap.parse_args(argv)
    limit = 10.0 if args.quick else args.limit
    if args.one is not None:  # the product run of one scale, in its own process
        print(json.dumps(product_run(args.one, limit)))
        return 0
    scales = [float(s) for s in args.scales.split(",")] + ([30.0] if args.big else [])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f} (shared); limit {limit:g} s")
    if args.build_only:
        built_rows = build_only(scales, max(1, args.repeat))
        if args.json:
            Path(args.json).write_text(json.dumps(built_rows, indent=2), encoding="utf-8")
        return 0
    rows = []
    for scale in scales:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", f"{scale:g}", "--limit", f"{limit:g}"],
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
            row.update(highs_alone(mps, limit))
            row.update(cbc_alone(mps, limit))
        row["gap_at_60s"] = row["gap_at_limit"] if limit == 60.0 else None
        rows.append(row)
        print(
            f"scale {scale:g} ({row['pairs']:,} pairs): product {row['status']} "
            f"gap {_pct(row['gap_at_limit'])} in {row['product_wall_s']:.1f} s; "
            f"HiGHS alone {_pct(row['highs_gap_at_limit'])}; CBC {_pct(row['cbc_gap_at_limit'])}",
            flush=True,
        )
    print()
    head = (
        f"{'scale':>5} {'pairs':>9} | {'product: 1%':>11} {'0.5%':>6} {'0.1%':>6} {'gap@lim':>8} "
        f"{'over s':>6} {'peak MB':>7} | {'HiGHS: 1%':>9} {'0.5%':>6} {'0.1%':>6} {'gap@lim':>8} | "
        f"{'CBC gap':>8} | {'build s':>7} {'floor s':>7} {'ratio':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['scale']:>5g} {r['pairs']:>9,} | {_fmt(r['seconds_to_1pct'], '.1f'):>11} "
            f"{_fmt(r['seconds_to_0.5pct'], '.1f'):>6} {_fmt(r['seconds_to_0.1pct'], '.1f'):>6} "
            f"{_pct(r['gap_at_limit']):>8} {r['overrun_s']:>6.1f} {r['peak_mb']:>7.0f} | "
            f"{_fmt(r['highs_seconds_to_1pct'], '.1f'):>9} "
            f"{_fmt(r['highs_seconds_to_0.5pct'], '.1f'):>6} "
            f"{_fmt(r['highs_seconds_to_0.1pct'], '.1f'):>6} {_pct(r['highs_gap_at_limit']):>8} | "
            f"{_pct(r['cbc_gap_at_limit']):>8} | {r['build_s']:>7.2f} {r['floor_build_s']:>7.2f} "
            f"{r['build_s'] / max(r['floor_build_s'], 1e-9):>5.1f}×"
        )
    for r in rows:
        if "whatif_cold_s" in r:
            print(
                f"\nwhat-if at scale {r['scale']:g} (zone energy caps × 0.85, to the 0.1 % gap): "
                f"cold {r['whatif_cold_s']:.2f} s, warm {r['whatif_warm_s']:.2f} s "
                f"(warm/cold {r['whatif_warm_s'] / max(r['whatif_cold_s'], 1e-9):.2f}); "
                f"gaps {_pct(r['whatif_cold_gap'])} / {_pct(r['whatif_warm_gap'])}, "
                f"objectives differ by {_pct(r['whatif_objective_diff'])}"
            )
    print(
        "\nover s = how far the product run went past its limit; time columns = seconds to "
        "that gap (— = not reached within the limit); build = product build + matrix, floor = "
        "the same arrays → HighsLp → passModel.\nTargets (issue 17): build ≤ 1.25× floor; scale 3 "
        "≤ 0.2 % in 60 s; scale 10 ≤ 0.5 % in ≤ 60 s; warm what-if ≤ 1.5 s; every run within "
        "1.1× its limit."
    )
    if args.json:
        keep = [
            "scale",
            "pairs",
            "build_s",
            "floor_build_s",
            "gap_at_60s",
            "gap_at_limit",
            "seconds_to_1pct",
            "seconds_to_0.5pct",
            "seconds_to_0.1pct",
            "overrun_s",
            "peak_mb",
            "status",
            "stopped_by",
            "highs_gap_at_limit",
            "highs_seconds_to_1pct",
            "highs_seconds_to_0.5pct",
            "highs_seconds_to_0.1pct",
            "cbc_gap_at_limit",
            "whatif_cold_s",
            "whatif_warm_s",
        ]
        objs = [{k: r.get(k) for k in keep if k in r or not k.startswith("whatif")} for r in rows]
        Path(args.json).write_text(json.dumps(objs, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0 if len(rows) == len(scales) else 1


if __name__ == "__main__":
    sys.exit(main())
