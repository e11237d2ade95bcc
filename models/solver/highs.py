"""The HiGHS run: LP-rounding start, branch and bound, status and bound reading."""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path
from typing import Any

import pulp

from models.allocation import CAP_FAMILIES, Built
from models.solver.duals import _highs_duals
from models.solver.highs_api import _hrun, highspy
from models.solver.problem import _to_highs_lp, sense_of
from models.solver.solution import ModelSolution, Progress, _collect, _empty, _version
from models.solver.start import _lp_rounding_start
from models.status import Status


def _run_highs(
    built: Built,
    time_limit_s: float,
    rel_gap: float,
    threads: int,
    seed: int,
    log_path: str | Path | None,
    msg: bool,
    duals: bool,
    progress: Progress | None,
    options: dict[str, Any] | None = None,
    heuristic: bool = True,
) -> ModelSolution:
    t0 = time.perf_counter()
    prob = built.prob
    h = highspy.Highs()  # type: ignore[union-attr]
    h.setOptionValue("output_flag", bool(msg or log_path))
    h.setOptionValue("log_to_console", bool(msg))
    if log_path:
        h.setOptionValue("log_file", str(log_path))
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("random_seed", int(seed))
    if threads:
        h.setOptionValue("threads", int(threads))
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    scaled = {i.solver_name for i in built.registry.rows.values() if i.family in CAP_FAMILIES}
    lp, variables, names, scale = _to_highs_lp(prob, scaled)
    h.passModel(lp)
    t_start = time.perf_counter()
    start = None
    if heuristic and any(v.cat == pulp.LpInteger for v in variables):
        start = _lp_rounding_start(built, lp, variables, threads, seed, time_limit_s, rel_gap)
    if start is not None:
        inc_obj, lp_bound, col = start
        gap0 = abs(lp_bound - inc_obj) / max(abs(inc_obj), 1e-9)
        if progress is not None:
            with contextlib.suppress(Exception):
                progress(
                    {
                        "time_s": time.perf_counter() - t_start,
                        "objective": inc_obj,
                        "bound": lp_bound,
                        "gap": gap0,
                    }
                )
        if gap0 <= rel_gap:
            for v in variables:
                v.varValue = col[v.index]
            sol = ModelSolution(
                status=Status.OPTIMAL,
                objective=float(prob.objective.value()),
                best_bound=lp_bound,
                gap=gap0,
                build_seconds=built.build_seconds,
                solve_seconds=time.perf_counter() - t0,
                size=dict(built.size),
                solver="highs",
                solver_version=_version("highs"),
                message=(
                    "LP rounding: solution within the relative gap of the LP-relaxation bound "
                    f"({gap0:.3%} ≤ {rel_gap:.3%}); branch and bound not needed"
                ),
            )
            _collect(built, sol)
            if duals:
                sol.duals = _highs_duals(h, variables, names, scale, built, sense_of(prob))
                sol.solve_seconds = time.perf_counter() - t0
            return sol
        start = (inc_obj, lp_bound, col)
        h.setOptionValue("time_limit", max(0.1, float(time_limit_s) - (time.perf_counter() - t0)))
        hs = highspy.HighsSolution()  # type: ignore[union-attr]
        hs.col_value = list(col)
        hs.value_valid = True
        h.setSolution(hs)
    if progress is not None:
        last = [0.0]

        def _cb(e: Any) -> None:
            out = e.data_out
            now = float(out.running_time)
            if e.callback_type != highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution:
                if now - last[0] < 0.5:
                    return
            last[0] = now
            with contextlib.suppress(Exception):
                progress(
                    {
                        "time_s": now,
                        "objective": -float(out.mip_primal_bound),
                        "bound": -float(out.mip_dual_bound),
                        "gap": float(out.mip_gap),
                    }
                )

        h.cbMipImprovingSolution.subscribe(_cb)
        h.cbMipInterrupt.subscribe(_cb)
    _hrun(h)
    ms = h.getModelStatus()
    info = h.getInfo()
    MS = highspy.HighsModelStatus  # noqa: N806
    has_sol = int(info.primal_solution_status) == 2
    if ms == MS.kOptimal:
        status = Status.OPTIMAL
    elif ms in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
        status = Status.INFEASIBLE
    elif ms in (
        MS.kTimeLimit,
        MS.kInterrupt,
        MS.kIterationLimit,
        MS.kSolutionLimit,
        MS.kObjectiveBound,
        MS.kObjectiveTarget,
        MS.kMemoryLimit,
        getattr(MS, "kHighsInterrupt", MS.kInterrupt),
    ):
        status = Status.FEASIBLE if has_sol else Status.TIME_LIMIT_NO_SOLUTION
    else:
        status = Status.ERROR
    elapsed = time.perf_counter() - t0
    message = f"HiGHS model status: {h.modelStatusToString(ms)}"
    if status == Status.TIME_LIMIT_NO_SOLUTION and start is not None:
        status, has_sol = Status.FEASIBLE, False
        message += "; solution from LP rounding"
    if status not in (Status.OPTIMAL, Status.FEASIBLE):
        return _empty(built, status, "highs", elapsed, message)
    sol_values = h.getSolution().col_value if has_sol or start is None else start[2]
    for v in variables:
        v.varValue = sol_values[v.index]
    objective = float(prob.objective.value()) if prob.objective is not None else 0.0
    sense = sense_of(prob)
    bound = sense * float(info.mip_dual_bound)
    if not math.isfinite(bound):
        bound = objective if status == Status.OPTIMAL else float("nan")
    gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None
    if start is not None and status == Status.FEASIBLE:
        # the LP-relaxation bound is valid too: keep the tighter of the two
        lp_bound = start[1]
        if math.isnan(bound):
            bound = lp_bound
        else:
            bound = min(bound, lp_bound) if sense < 0 else max(bound, lp_bound)
        gap = abs(bound - objective) / max(abs(objective), 1e-9)
        if gap <= rel_gap:
            status = Status.OPTIMAL
    if gap is None and math.isfinite(bound):
        gap = abs(bound - objective) / max(abs(objective), 1e-9)
    sol = ModelSolution(
        status=status,
        objective=objective,
        best_bound=bound,
        gap=gap,
        build_seconds=built.build_seconds,
        solve_seconds=elapsed,
        size=dict(built.size),
        solver="highs",
        solver_version=_version("highs"),
        message=message,
    )
    _collect(built, sol)
    if duals:
        sol.duals = _highs_duals(h, variables, names, scale, built, sense)
        sol.solve_seconds = time.perf_counter() - t0
    return sol
