"""The public :func:`run`: HiGHS by default, CBC on request or as the fallback."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from models.allocation import Built
from models.data import SEARCHES
from models.solver.cbc import _run_cbc
from models.solver.highs import _run_highs
from models.solver.highs_api import HIGHS_AVAILABLE
from models.solver.reuse import ModelSession
from models.solver.solution import ModelSolution, Progress, _empty
from models.status import Status

FALLBACK_MIN_SHARE = 0.1
"""Share of the time limit CBC gets at least when it takes over from a failed HiGHS."""


def _highs_log(path: Path) -> str:
    """Return HiGHS's log at ``path``, the re-run's (``<path>.rerun``, removed) after it."""
    text = path.read_text(errors="replace") if path.exists() else ""
    rerun = path.with_name(path.name + ".rerun")
    if rerun.exists():
        text += "\n--- re-run without the start ---\n" + rerun.read_text(errors="replace")
        rerun.unlink()
        path.write_text(text)
    return text


def run(
    built: Built,
    solver: str = "highs",
    time_limit_s: float = 60.0,
    rel_gap: float = 1e-4,
    threads: int = 1,
    seed: int = 0,
    log_path: str | Path | None = None,
    msg: bool = False,
    duals: bool = False,
    progress: Progress | None = None,
    options: dict[str, Any] | None = None,
    heuristic: bool = True,
    work_limit: int | None = None,
    start_plan: tuple[np.ndarray, np.ndarray] | None = None,
    session: ModelSession | None = None,
    search: str = "auto",
) -> ModelSolution:
    """Solve ``built``; return a :class:`ModelSolution` with a typed status.

    Parameters
    ----------
    built
        From :func:`models.allocation.build`.
    solver
        ``"highs"`` (default) or ``"cbc"``. When HiGHS is unavailable or fails
        with an error, CBC runs instead (``fallback_from="highs"``) with the time
        HiGHS left of ``time_limit_s`` (at least :data:`FALLBACK_MIN_SHARE` of it),
        so a fallback run ends within 1.1 × the limit, not twice it.
    time_limit_s, rel_gap, threads, seed
        Solver settings; ``threads=1`` and a fixed seed make runs repeatable.
    log_path
        Write the solver log there.
    msg
        Echo the solver log to the console.
    duals
        Also compute marginal values from the LP with the integers fixed.
    progress
        Called with ``{"time_s", "objective", "bound", "gap"}`` on every
        improving solution and at most twice a second otherwise (HiGHS; CBC:
        once, for the LP-rounding start).
    options
        Extra HiGHS options (name → value), e.g. ``{"mip_lp_solver": "ipx"}``;
        an option HiGHS rejects fails the HiGHS run (CBC runs instead).
    heuristic
        First solve the LP relaxation and round it to an incumbent (see the
        module docstring); stop there when it is within ``rel_gap`` of the
        relaxation bound, else give it to the solver as a start (CBC: a MIP
        start file; needs highspy for the relaxation, else CBC starts cold).
    work_limit
        A deterministic limit beside ``time_limit_s``: HiGHS explores at most
        this many branch-and-bound nodes (``mip_max_nodes``, also in RENS), so
        a run it stops gives the same plan however busy the machine is (with
        ``threads=1`` and a fixed seed). ``ModelSolution.stopped_by`` says
        which limit ended the run. CBC ignores it.
    start_plan
        ``(y, x)`` of an earlier plan on the same firms and candidate pairs (the
        base run of a what-if): repaired to feasibility under this model's caps
        and used as the start when it beats the rounded relaxation (HiGHS;
        ignored by CBC). It changes where the search starts, never the answer's
        validity: the bound is still this model's relaxation.
    session
        A :class:`~models.solver.reuse.ModelSession` (HiGHS only): when it holds a
        model with the same columns and rows, that model is changed in place into
        ``built`` and re-solved from its basis and last plan (``start_plan`` by
        default the session's); otherwise ``built`` runs cold and the session holds
        it from then on. ``ModelSolution.reuse`` says which, and why.
    search
        What follows a start that is not within ``rel_gap`` (HiGHS): ``"lns"`` the
        neighbourhood search over zones (:mod:`models.solver.improve`) for the time
        left, ``"bnb"`` HiGHS's branch and bound on the whole model, ``"auto"``
        (default) the search from :data:`~models.solver.improve.LNS_MIN_PAIRS`
        candidate pairs on (where branch and bound stalls), else branch and bound;
        ``"none"`` the start only. With ``work_limit`` the search runs a fixed
        number of node-limited rounds. CBC ignores it.

    Every stage (relaxation, rounding, branch and bound, marginal values)
    ends by the wall-clock limit; what is left after it (reading the plan
    back) takes a few seconds at most at province scale.
    """
    solver = solver.lower()
    if solver not in ("highs", "cbc"):
        return _empty(built, Status.ERROR, solver, 0.0, f"unknown solver {solver!r}")
    if search not in SEARCHES:
        return _empty(built, Status.ERROR, solver, 0.0, f"unknown search {search!r}")
    if heuristic and _other_integers(built):
        # the rounding start rounds y and x only: another integer variable would come back
        # fractional in a plan called optimal, so such a model goes to the solver cold
        heuristic = False
    started = time.perf_counter()
    reuse: dict[str, Any] = {}
    reused = False
    if session is not None:
        change, reason = (None, "solver") if solver != "highs" else session.adopt(built)
        reused = change is not None
        reuse = {"reused": reused, "reason": reason}
        if change is not None:
            reuse["changed"] = change.to_dict()
            if start_plan is None:
                start_plan = session.plan
    if solver == "highs" and HIGHS_AVAILABLE:
        own_log = None
        if log_path is None:  # HiGHS logs to a file only: keep one for the run's solver.log
            fd, own_log = tempfile.mkstemp(suffix=".log", prefix="highs_")
            os.close(fd)
        try:
            sol = _run_highs(
                built,
                time_limit_s,
                rel_gap,
                threads,
                seed,
                log_path or own_log,
                msg,
                duals,
                progress,
                options,
                heuristic,
                work_limit,
                start_plan,
                session,
                reused,
                search,
            )
        except Exception as exc:  # noqa: BLE001 - fall back to CBC below
            sol = _empty(built, Status.ERROR, "highs", 0.0, f"HiGHS failed: {exc}")
        if not sol.log:
            sol.log = _highs_log(Path(log_path or own_log))  # type: ignore[arg-type]
        if own_log:
            Path(own_log).unlink(missing_ok=True)
        if sol.status != Status.ERROR:
            sol.reuse = reuse
            if session is not None and sol.has_solution:
                session.remember(sol.y, sol.x)
            return sol
        if session is not None:
            session.drop()  # a failed run leaves nothing to reuse
        fallback_msg = sol.message
    elif solver == "highs":
        fallback_msg = "HiGHS (highspy) not available"
    else:
        fallback_msg = ""
    cbc_limit_s = time_limit_s
    if solver == "highs":
        spent = time.perf_counter() - started
        cbc_limit_s = max(time_limit_s - spent, FALLBACK_MIN_SHARE * time_limit_s)
    sol = _run_cbc(
        built, cbc_limit_s, rel_gap, threads, seed, log_path, msg, duals, heuristic, progress
    )
    if solver == "highs":
        sol.fallback_from = "highs"
        sol.message = f"{fallback_msg}; CBC fallback: {sol.message}"
    if session is not None:
        sol.reuse = {"reused": False, "reason": reuse.get("reason") or "solver"}
    return sol


def _other_integers(built: Built) -> bool:
    """Return True when the model has integer variables besides ``y``, ``x`` and ``r``.

    Every family creates its variables through the build context, which counts the
    binaries (``built.size["binaries"]``); comparing that count is O(1), where
    asking PuLP for the problem's variables walks every row (1.6 s at scale 10).
    """
    own = len(built.y_col) + len(built.x_col)
    own += int((built.r_col >= 0).sum())  # rounded by the start too (``_fixed_plan``)
    return int(built.size.get("binaries", own)) > own
