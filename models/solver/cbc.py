"""The CBC run: PuLP's bundled binary under a wall-clock guard, with the LP-rounding start."""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pulp

from models.allocation import CAP_FAMILIES, Built
from models.solver.duals import _cbc_duals
from models.solver.highs_api import HIGHS_AVAILABLE, _hrun, highspy
from models.solver.problem import direction_of, pulp_lp
from models.solver.solution import (
    ModelSolution,
    Progress,
    _collect,
    _empty,
    _plan_objective,
    _version,
    report_start,
)
from models.solver.start import _lp_rounding_start
from models.status import Status, classify

CBC_MARGIN_S = 2.0
"""CBC's own ``-sec`` is this much (at most 10 %) shorter than the time left.

So that a CBC stopping on its own time limit has written its solution before
the wall-clock guard acts.
"""


CBC_GRACE_S = 3.0
"""Seconds between SIGINT at the time limit and SIGKILL for a CBC still running.

CBC checks ``-sec`` only between nodes and heuristics and ignores SIGINT
during its root LP: at ten times province scale it ran for more than eight
minutes past a 120 s limit before the guard existed.
"""


@dataclass
class _CbcRun:
    """What one CBC process left behind."""

    ended: str
    """``exit`` (CBC stopped itself), ``interrupted`` (SIGINT) or ``killed``."""
    head: str = ""
    """First line of CBC's solution file, e.g. ``Stopped on time - objective value 3``."""
    status: int = pulp.LpStatusNotSolved
    sol_status: int = pulp.LpSolutionNoSolutionFound
    values: dict[str, float] | None = None
    log: str = ""
    seconds: float = 0.0
    sign: float = 1.0
    """-1 when CBC solved the negated (minimisation) problem: its log's numbers flip."""


def _cbc_process(
    prob: pulp.LpProblem,
    *,
    start: bool,
    sec: float,
    wall_s: float,
    rel_gap: float,
    threads: int,
    seed: int,
    log_file: str,
) -> _CbcRun:
    """Run PuLP's bundled CBC binary on ``prob`` under a wall-clock guard.

    ``pulp.PULP_CBC_CMD`` waits for CBC without a timeout, and CBC checks
    ``-sec`` only at certain points (not during its root LP and presolve), so
    the binary is run here the way PuLP runs it (same MPS file with renamed
    columns, same ``-mips`` start file and solution reader) but waited for at
    most ``wall_s`` seconds; then it gets SIGINT (CBC stops and writes its
    best solution) and, ``CBC_GRACE_S`` later, SIGKILL. ``start``: write the
    variables' current values as CBC's MIP start. ``-timeMode elapsed`` makes
    ``-sec`` count wall-clock seconds (CBC's default is CPU seconds, which run
    slower than the clock on a shared machine).
    """
    cmd = pulp.PULP_CBC_CMD(msg=False)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="allocator_cbc_") as tmp:
        mps, mst, solf = (os.path.join(tmp, f"model.{e}") for e in ("mps", "mst", "sol"))
        # CBC 2.10 with -max gets the sign of a MIP start's cost wrong (it logs the
        # start of a maximisation as a minimisation cost of +obj, the worst
        # possible incumbent): hand it the equivalent minimisation instead
        flip = prob.sense == pulp.LpMaximize and prob.objective is not None
        if flip:
            objective, prob.objective, prob.sense = prob.objective, -prob.objective, pulp.LpMinimize
        try:
            vs, vnames, cnames, _ = prob.writeMPS(mps, rename=1)
        finally:
            if flip:
                prob.objective, prob.sense = objective, pulp.LpMaximize
        # line-buffered output (coreutils' stdbuf, when present): a CBC that has to
        # be killed still leaves its log up to that point
        stdbuf = shutil.which("stdbuf")
        args = [*([stdbuf, "-oL", "-eL"] if stdbuf else []), cmd.path, mps]
        if start:
            cmd.writesol(mst, prob, vs, vnames, cnames)
            args += ["-mips", mst]
        sec = max(1.0, sec - (time.perf_counter() - t0))
        wall_s = max(1.0, wall_s - (time.perf_counter() - t0))
        args += ["-sec", f"{sec:.2f}", "-timeMode", "elapsed", "-ratio", repr(float(rel_gap))]
        if threads:
            args += ["-threads", str(int(threads))]
        if seed > 0:
            args += ["-randomCbcSeed", str(int(seed))]
        args += ["-solve", "-printingOptions", "all", "-solution", solf]
        with open(log_file, "w") as out:
            proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
            ended = "exit"
            try:
                proc.wait(timeout=wall_s)
            except subprocess.TimeoutExpired:
                ended = "interrupted"
                try:
                    proc.send_signal(signal.SIGINT)
                    proc.wait(timeout=CBC_GRACE_S)
                except (subprocess.TimeoutExpired, ValueError, OSError):  # Windows: no SIGINT
                    ended = "killed"
                    proc.kill()
                    proc.wait()
            finally:
                if proc.poll() is None:  # interrupted from outside (e.g. Ctrl-C in Python)
                    proc.kill()
                    proc.wait()
        run = _CbcRun(ended=ended, seconds=time.perf_counter() - t0, sign=-1.0 if flip else 1.0)
        run.log = Path(log_file).read_text(errors="replace")
        if ended == "exit" and proc.returncode != 0:
            raise RuntimeError(f"CBC exited with code {proc.returncode}")
        # a killed CBC may have left half a file; an interrupted one writes it whole
        if ended != "killed" and os.path.exists(solf) and os.path.getsize(solf) > 0:
            with open(solf) as f:
                run.head = f.readline().strip()
            st, values, _, _, _, sst = cmd.readsol_MPS(solf, prob, vs, vnames, cnames)
            run.status, run.sol_status = st, sst
            if sst in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
                run.values = values
    return run


_CBC_NUM = r"([-+]?\d[\d.eE+-]*)"


def _cbc_log_numbers(text: str) -> dict[str, float]:
    """Read CBC's closing summary: objective and bound in the sense CBC solved."""
    out = {}
    for key, pat in (
        ("objective", r"Objective value:\s*" + _CBC_NUM),
        ("bound", r"(?:Lower|Upper) bound:\s*" + _CBC_NUM),
    ):
        m = re.findall(pat, text)
        if m:
            with contextlib.suppress(ValueError):
                out[key] = float(m[-1])
    return out


def _cbc_start_note(log: str, sign: float = 1.0) -> str:
    """Summarise what CBC said about the MIP start (``MIPStart provided solution …``)."""
    m = re.search(r"MIPStart provided solution with cost\s*" + _CBC_NUM, log)
    if m:
        return f"CBC accepted the LP-rounding start (objective {sign * float(m.group(1)):.6g})"
    if "MIPStart values read" in log and "Continuous objective value" not in log:
        return "CBC read the LP-rounding start but did not finish its root LP"
    if re.search(r"mipstart", log, re.I):
        return "CBC did not use the LP-rounding start"
    return "CBC stopped before it read the LP-rounding start"


def _cbc_start(
    built: Built, time_limit_s: float, rel_gap: float, threads: int, seed: int
) -> tuple[float, float, np.ndarray, list[pulp.LpVariable]] | None:
    """Compute the LP-rounding start and LP-relaxation bound HiGHS gets (needs highspy).

    Returns ``(objective, bound, values, variables)`` with ``values[i]`` the
    start value of ``variables[i]``, or None (no highspy, no binaries, or the
    heuristic failed).
    """
    if not HIGHS_AVAILABLE:
        return None
    try:
        lp, variables, _, _ = pulp_lp(built, CAP_FAMILIES)
        integer = np.array([v.cat == pulp.LpInteger for v in variables], dtype=bool)
        if not integer.any():
            return None
        start = _lp_rounding_start(built, lp, integer, threads, seed, time_limit_s, rel_gap)
    except Exception:  # noqa: BLE001 - CBC then starts cold
        return None
    if start is None:
        return None
    # by position in ``variables``: PuLP's writeMPS re-sorts the problem's variables
    # (and a later _to_highs_lp renumbers ``index``)
    return start[0], start[1], start[2][[v.index for v in variables]], variables


def _cbc_polish(built: Built, threads: int, seed: int, time_s: float) -> bool:
    """Re-solve the outputs of CBC's plan with its binaries fixed (HiGHS LP).

    CBC's solution file prints about eight significant digits, so its plan
    misses rows such as ``o_fz − Σ cap·x ≤ 0`` by up to 1e-4; the LP with the
    binaries fixed gives exact outputs, and an objective at least as good.
    Returns True when the PuLP variables were updated.
    """
    if not HIGHS_AVAILABLE:
        return False
    MS = highspy.HighsModelStatus  # noqa: N806
    try:
        lp, variables, _, _ = pulp_lp(built, CAP_FAMILIES)
        ints = np.array([v.cat == pulp.LpInteger for v in variables], dtype=bool)
        vals = np.array([v.varValue or 0.0 for v in variables], dtype=float)
        lo, up = np.array(lp.col_lower_), np.array(lp.col_upper_)
        lo[ints] = up[ints] = np.round(vals[ints])
        lp.col_lower_, lp.col_upper_ = lo, up
        lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_  # type: ignore[union-attr]
        h = highspy.Highs()  # type: ignore[union-attr]
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(max(0.5, time_s)))
        h.setOptionValue("random_seed", int(seed))
        if threads:
            h.setOptionValue("threads", int(threads))
        h.passModel(lp)
        _hrun(h)
        if h.getModelStatus() != MS.kOptimal:
            return False
        col = h.getSolution().col_value
        for v in variables:
            v.varValue = float(col[v.index])
        return True
    except Exception:  # noqa: BLE001 - keep CBC's own values
        return False


def _set_values(variables: list[pulp.LpVariable], values: np.ndarray) -> None:
    for v, val in zip(variables, values, strict=True):
        v.varValue = float(val)


def _run_cbc(
    built: Built,
    time_limit_s: float,
    rel_gap: float,
    threads: int,
    seed: int,
    log_path: str | Path | None,
    msg: bool,
    duals: bool,
    heuristic: bool = True,
    progress: Progress | None = None,
) -> ModelSolution:
    """CBC with the LP-rounding start, the LP bound and a hard wall-clock limit.

    The whole run (start, MPS file, CBC) returns within ``time_limit_s`` plus
    ``CBC_GRACE_S`` and a few seconds of file reading. The plan written is the
    better of CBC's and the start; its objective, against the tighter of CBC's
    bound and the LP bound, gives the status by :func:`classify` (``optimal``
    only when that closes ``rel_gap``); without a plan the run is
    ``infeasible``, ``time_limit_no_solution`` or ``error``.
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit_s)
    prob = built.prob
    maximise = prob.sense == pulp.LpMaximize
    start = _cbc_start(built, time_limit_s, rel_gap, threads, seed) if heuristic else None
    notes = []
    if start is not None:
        _, lp_bound, start_values, variables = start
        _set_values(variables, start_values)
        inc_obj = _plan_objective(built)
        status0, gap0 = classify(True, inc_obj, lp_bound, rel_gap, direction_of(prob))
        start = (inc_obj, lp_bound, start_values, variables)
        notes.append(f"LP rounding {gap0:.3%} from the LP-relaxation bound")
        report_start(progress, time.perf_counter() - t0, inc_obj, lp_bound, gap0)
        if status0 == Status.OPTIMAL:
            return _cbc_solution(
                built,
                rel_gap,
                lp_bound,
                t0,
                duals,
                msg,
                "",
                f"LP rounding: solution within the relative gap of the LP-relaxation bound "
                f"({gap0:.3%} ≤ {rel_gap:.3%}); CBC not needed",
            )
    remaining = deadline - time.perf_counter()
    if start is not None and remaining < 1.0:
        return _cbc_solution(
            built,
            rel_gap,
            start[1],
            t0,
            duals,
            msg,
            "",
            "; ".join([*notes, "no time left for CBC: solution from LP rounding"]),
        )
    tmp = None
    if log_path is None:
        fd, tmp = tempfile.mkstemp(suffix=".log", prefix="cbc_")
        os.close(fd)
        log_file = tmp
    else:
        log_file = str(log_path)
    try:
        cbc = _cbc_process(
            prob,
            start=start is not None,
            sec=max(1.0, remaining - min(CBC_MARGIN_S, 0.1 * remaining)),
            wall_s=max(1.0, remaining),
            rel_gap=rel_gap,
            threads=threads,
            seed=seed,
            log_file=log_file,
        )
    except Exception as exc:  # noqa: BLE001 - a crashing solver is an 'error' status
        if start is not None:
            _set_values(start[3], start[2])
            return _cbc_solution(
                built,
                rel_gap,
                start[1],
                t0,
                duals,
                msg,
                "",
                "; ".join([*notes, f"CBC failed ({exc}): solution from LP rounding"]),
            )
        return _empty(built, Status.ERROR, "cbc", time.perf_counter() - t0, f"CBC: {exc}")
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    log = cbc.log
    if msg:
        print(log, flush=True)
    stopped = cbc.ended != "exit" or cbc.head.lower().startswith("stopped")
    if start is not None:
        notes.append(_cbc_start_note(log, cbc.sign))
    if cbc.ended != "exit":
        notes.append(f"CBC {cbc.ended} by the wall-clock guard after {cbc.seconds:.0f} s")
    notes.insert(0, f"CBC: {cbc.head or 'no solution file'}")
    message = "; ".join(notes)
    # CBC's plan, if any, against the start
    nums = {k: cbc.sign * v for k, v in _cbc_log_numbers(log).items()}
    cbc_obj = None
    shift = None  # CBC's log omits the objective constant
    if cbc.values is not None:
        prob.assignVarsVals(cbc.values)
        cbc_obj = float(prob.objective.value()) if prob.objective is not None else 0.0
        if "objective" in nums:
            shift = cbc_obj - nums["objective"]
        _cbc_polish(built, threads, seed, min(10.0, deadline + CBC_GRACE_S - time.perf_counter()))
        cbc_obj = float(prob.objective.value()) if prob.objective is not None else 0.0
    # CBC's solution file rounds values to 8 significant digits or so: keep CBC's
    # plan unless the start is clearly better
    tol = 1e-7 * max(1.0, abs(start[0])) if start is not None else 0.0
    use_start = start is not None and (
        cbc_obj is None or (start[0] > cbc_obj + tol if maximise else start[0] < cbc_obj - tol)
    )
    if use_start:
        assert start is not None
        _set_values(start[3], start[2])
        message += "; solution from LP rounding"
    if cbc.values is None and not use_start:
        if cbc.status == pulp.LpStatusInfeasible or cbc.sol_status == pulp.LpSolutionInfeasible:
            status = Status.INFEASIBLE
        elif stopped or cbc.status == pulp.LpStatusNotSolved:
            status = Status.TIME_LIMIT_NO_SOLUTION
        else:
            status = Status.ERROR
        return _empty(built, status, "cbc", time.perf_counter() - t0, message, log)
    finished = not stopped and cbc.sol_status == pulp.LpSolutionOptimal and not use_start
    objective = float(prob.objective.value()) if prob.objective is not None else 0.0
    bounds = [start[1]] if start is not None else []
    if shift is not None and "bound" in nums:
        bounds.append(nums["bound"] + shift)
    if finished and "bound" not in nums:
        bounds.append(objective)  # search completed: CBC prints no separate bound
    bound = (min(bounds) if maximise else max(bounds)) if bounds else None
    return _cbc_solution(
        built,
        rel_gap,
        bound,
        t0,
        duals,
        msg,
        log,
        message,
    )


def _cbc_solution(
    built: Built,
    rel_gap: float,
    bound: float | None,
    t0: float,
    duals: bool,
    msg: bool,
    log: str,
    message: str,
) -> ModelSolution:
    """ModelSolution from the PuLP variable values; status and gap by :func:`classify`.

    The objective is that of the values written, and the run is optimal only
    when it closes ``rel_gap`` to ``bound`` (CBC's, shifted by the objective
    constant, or the LP-relaxation bound; the plan's own objective when CBC
    finished its search without printing a bound).
    """
    prob = built.prob
    objective = _plan_objective(built)
    if bound is None or not math.isfinite(bound):
        bound = float("nan")
    empty = all((v.varValue or 0.0) <= 1e-9 for v in built.o)
    status, gap = classify(True, objective, bound, rel_gap, direction_of(prob), empty_plan=empty)
    if status == Status.TIME_LIMIT_NO_SOLUTION:
        sol = _empty(built, status, "cbc", time.perf_counter() - t0, message, log)
        sol.best_bound = bound
        return sol
    sol = ModelSolution(
        status=status,
        objective=objective,
        best_bound=bound,
        gap=gap,
        build_seconds=built.build_seconds,
        solve_seconds=time.perf_counter() - t0,
        size=dict(built.size),
        solver="cbc",
        solver_version=_version("cbc"),
        message=message,
        log=log or message + "\n",  # CBC did not run: the run folder's solver.log says why
    )
    _collect(built, sol)
    if duals:
        sol.duals = _cbc_duals(built, msg)
        sol.solve_seconds = time.perf_counter() - t0
    return sol
