"""Near-optimal alternatives: K plans within X of the best, as different as possible.

Plan 1 is the ordinary optimum. Plan k+1 maximises its smallest distance to
plans 1..k (max-min; the ``distance_to`` rows of :mod:`models.allocation`)
subject to ``objective_floor``: MODEL.md's objective ≥ best − X·|best|, where
best is plan 1's objective. By default (``distance_weight_wan="auto"``) the
objective is MODEL.md's objective + w · (smallest distance) with
w = X·|best| / (2·P) 万元 per plot (P plots): a plan differing in every plot
would be worth half the allowed shortfall. This weighted max-min keeps the
solver's start heuristic working (on the sample case HiGHS finds no plan in
60 s for the pure max-min objective, and a plan 457 plots away from the
optimum with the weighted one); ``distance_weight_wan=None`` solves the pure
max-min. A distance is the number of plots whose assigned
firm differs, so a firm that leaves (its plots freed) and a project placed
elsewhere both count. The plan found is then *polished*: its assignments are
fixed (``change_limit`` with N = 0 against it) and the outputs re-optimised
under MODEL.md's objective, so each plan reports its own objective, the best
run's bound and its gap to that bound. The search stops early when no
near-optimal plan differs from the earlier ones (max-min distance 0).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.errors import AllocatorError, ScenarioError
from allocator.i18n import t
from allocator.prepare import Prepared, prepare
from allocator.runs import Result, run_folder_name, write_run
from allocator.scenario import Scenario, load_scenario
from allocator.settings import SolverSettings
from allocator.status import Status
from models.allocation import Analysis, PlanRef

Progress = Callable[[str, Mapping[str, Any]], None]
"""``progress(stage, info)``: ``plan`` (info ``k``, ``of``) and ``done``."""

PRESENCE = ("every", "some", "none")
"""Map classes of a plot across the plans: the same firm in every plan, a firm in some, none."""


def prepared_inputs(
    scenario: Scenario | str | Path,
    *,
    case: Any = None,
    prepared: Prepared | None = None,
    settings: SolverSettings | None = None,
    time_limit_s: float | None = None,
    rel_gap: float | None = None,
) -> tuple[Scenario, SolverSettings, Prepared]:
    """Load the scenario and its case, prepare them and resolve the solver settings once.

    The scenario must fit the case, as :func:`allocator.solve.solve` requires
    (:func:`allocator.scenario_refs.check_scenario_ids`: a saved scenario's
    ``case_hash``, the ids in its keys): a scenario made on other data is
    refused here, before any solve.
    """
    from allocator.case.cache import load_case_cached
    from allocator.scenario_refs import check_scenario_ids

    if prepared is not None:
        scenario = prepared.scenario
    elif not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    settings = SolverSettings.resolve(
        scenario, settings, time_limit_s=time_limit_s, rel_gap=rel_gap
    )
    if prepared is None:
        if case is None:
            if scenario.case_path is None:
                raise ScenarioError(
                    t("err.scenario.no_case", name=scenario.name),
                    hint=t("err.scenario.no_case_hint"),
                )
            case = load_case_cached(scenario.case_path)
        check_scenario_ids(scenario, case)
        prepared = prepare(case, scenario)
    return scenario, settings, prepared


def plan_ref(result: Result) -> PlanRef:
    """Return the plan of a solved result as a :class:`PlanRef` (model positions)."""
    d = result.prepared.data
    sol = result.solution
    return PlanRef.from_solution(d, np.asarray(sol.y, float), np.asarray(sol.x, float))


def polish(
    prep: Prepared, settings: SolverSettings, ref: PlanRef, name: str, params: Any = None
) -> Result:
    """Solve MODEL.md's objective with every assignment fixed to ``ref`` (``change_limit`` N = 0).

    Gives the plan's own objective (the outputs re-optimised); INFEASIBLE when
    the assignments of ``ref`` cannot all hold under the scenario's rows.
    """
    from allocator.solve import run_model

    result = run_model(
        prep, settings=settings, params=params, analysis=Analysis(approved=ref, max_changes=0)
    )
    result.scenario_name = name
    return result


def plan_distance(a: pd.DataFrame, b: pd.DataFrame) -> int:
    """Count the plots whose assigned firm differs between two plot tables (``firm_id_after``)."""
    fa = a.set_index(a["plot_id"].astype(str))["firm_id_after"]
    fb = b.set_index(b["plot_id"].astype(str))["firm_id_after"].reindex(fa.index)
    fa = fa.astype(object).where(fa.notna(), "")
    fb = fb.astype(object).where(fb.notna(), "")
    return int((fa.astype(str) != fb.astype(str)).sum())


def presence(plot_tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Per plot across the plans: ``presence`` (every / some / none), plans assigned, firms.

    ``every``: the same firm in every plan (the robust core); ``some``: a
    firm in at least one plan but not the same one in all (what varies);
    ``none``: no firm in any plan.
    """
    ids = plot_tables[0]["plot_id"].astype(str)
    firms = pd.DataFrame(
        {
            i: t_.set_index(t_["plot_id"].astype(str))["firm_id_after"].reindex(ids).to_numpy()
            for i, t_ in enumerate(plot_tables)
        },
        index=ids,
    ).astype(object)
    firms = firms.where(firms.notna(), None)
    assigned = firms.notna()
    n_assigned = assigned.sum(axis=1)
    same = firms.nunique(axis=1, dropna=False) == 1
    kind = np.where(
        (n_assigned == len(plot_tables)) & same,
        "every",
        np.where(n_assigned > 0, "some", "none"),
    )
    return pd.DataFrame(
        {
            "plot_id": ids.to_numpy(),
            "presence": kind,
            "plans_assigned": n_assigned.to_numpy(),
            "firms": [
                ";".join(sorted({str(v) for v in row if v is not None}))
                for row in firms.itertuples(index=False)
            ],
        }
    )


def robust_core(plot_tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Return the assignments (``plot_id``, ``firm_id``) present in every plan."""
    p = presence(plot_tables)
    core = p[p["presence"] == "every"]
    return pd.DataFrame({"plot_id": core["plot_id"], "firm_id": core["firms"]}).reset_index(
        drop=True
    )


@dataclass
class Alternatives:
    """K near-optimal plans and how they differ."""

    scenario: Scenario
    within: float
    """The allowed shortfall X (fraction of |best objective|)."""
    floor: float | None
    """best − X·|best| (万元); None without a best plan."""
    results: list[Result]
    """Plan 1 (the optimum) first; each with objective, the best run's bound, gap."""
    seconds: float
    """Wall-clock seconds for all plans."""
    stopped_early: bool = False
    """True when fewer than K plans were found (no further plan differs)."""
    out_path: Path | None = None
    plan_seconds: list[float] = field(default_factory=list)

    @property
    def distances(self) -> pd.DataFrame:
        """Distance matrix (plots whose firm differs), recomputed from the plot tables."""
        n = len(self.results)
        m = np.zeros((n, n), dtype=int)
        for i in range(n):
            for j in range(i + 1, n):
                m[i, j] = m[j, i] = plan_distance(self.results[i].plots, self.results[j].plots)
        labels = list(range(1, n + 1))
        return pd.DataFrame(m, index=labels, columns=labels)

    @property
    def table(self) -> pd.DataFrame:
        """One row per plan: ``k``, ``objective``, ``best_bound``, ``gap``, ``run``, distances."""
        dist = self.distances.to_numpy()
        rows = []
        for i, r in enumerate(self.results):
            others = np.delete(dist[i], i) if len(self.results) > 1 else np.zeros(0)
            rows.append(
                {
                    "k": i + 1,
                    "objective": r.objective,
                    "best_bound": r.best_bound,
                    "gap": r.gap,
                    "run": str(r.run_path) if r.run_path else "",
                    "min_distance": int(others.min()) if others.size else 0,
                    "mean_distance": float(others.mean()) if others.size else 0.0,
                    "shortfall": _shortfall(r.objective, self.results[0].objective),
                    "seconds": self.plan_seconds[i] if i < len(self.plan_seconds) else None,
                }
            )
        return pd.DataFrame(rows)

    @property
    def presence(self) -> pd.DataFrame:
        """Per plot: in every plan / in some / in none (see :func:`presence`)."""
        return presence([r.plots for r in self.results])

    @property
    def core(self) -> pd.DataFrame:
        """The robust core: assignments in every plan."""
        return robust_core([r.plots for r in self.results])

    def write(self, out_dir: str | Path, case: Any = None) -> Path:
        """Write the run folders, ``alternatives.csv``, distances, core, presence (and a map).

        Returns the folder ``<out_dir>/<scenario>-alternatives-<time>/``.
        """
        base = run_folder_name(f"{self.scenario.name}-alternatives")  # made safe there
        folder = Path(out_dir) / base
        n = 1
        while folder.exists():
            n += 1
            folder = Path(out_dir) / "~".join((base, str(n)))
        folder.mkdir(parents=True)
        for i, r in enumerate(self.results, start=1):
            write_run(r, folder)
            info = {
                "kind": "alternative",
                "k": i,
                "within": self.within,
                "objective_floor": self.floor,
                "best_objective": self.results[0].objective,
            }
            assert r.run_path is not None
            (r.run_path / "analysis.json").write_text(json.dumps(info, indent=1), "utf-8")
        self.table.to_csv(folder / "alternatives.csv", index=False)
        self.distances.to_csv(folder / "distances.csv", index_label="k")
        self.core.to_csv(folder / "core.csv", index=False)
        self.presence.to_csv(folder / "presence.csv", index=False)
        if case is not None and hasattr(case, "plots"):
            write_presence_map(case, self.presence, folder / "presence.gpkg")
        self.out_path = folder
        return folder


def write_presence_map(case: Any, table: pd.DataFrame, path: Path) -> Path:
    """Write the plots with their ``presence`` class as a GeoPackage layer ``alternatives``."""
    plots = case.plots[["plot_id", "geometry"]].copy()
    plots["plot_id"] = plots["plot_id"].astype(str)
    layer = plots.merge(table, on="plot_id", how="left")
    layer["presence"] = layer["presence"].fillna("none")
    layer.to_file(path, layer="alternatives", driver="GPKG")
    return path


def _shortfall(value: float | None, best: float | None) -> float | None:
    if value is None or best is None:
        return None
    return (best - value) / max(1.0, abs(best))


def alternatives(
    scenario: Scenario | str | Path,
    *,
    k: int | None = None,
    within: float | None = None,
    case: Any = None,
    prepared: Prepared | None = None,
    settings: SolverSettings | None = None,
    time_limit_s: float | None = None,
    rel_gap: float | None = None,
    progress: Progress | None = None,
    distance_weight_wan: float | str | None = "auto",
) -> Alternatives:
    """Find up to ``k`` plans within ``within`` of the best objective, as different as possible.

    Parameters
    ----------
    scenario
        A :class:`Scenario` or a scenario file.
    k, within
        Number of plans and allowed shortfall (fraction); default the
        scenario's ``alternatives.k`` and ``alternatives.within``.
    case, prepared
        A loaded case or already prepared inputs.
    settings, time_limit_s, rel_gap
        Solver settings; the time limit applies to each plan's solve.
    progress
        Callback ``progress(stage, info)``.
    distance_weight_wan
        ``"auto"`` (module docstring), a weight in 万元 per plot, or None for
        the pure max-min distance.
    """
    from allocator.scenario import check_param
    from allocator.solve import run_model
    from models import allocation
    from models import solver as msolver

    t_all = time.perf_counter()
    scenario, settings, prep = prepared_inputs(
        scenario,
        case=case,
        prepared=prepared,
        settings=settings,
        time_limit_s=time_limit_s,
        rel_gap=rel_gap,
    )
    k = int(
        check_param("alternatives.k", k if k is not None else scenario["alternatives.k"], "--k")
    )
    within = float(
        check_param(
            "alternatives.within",
            within if within is not None else scenario["alternatives.within"],
            "--within",
        )
    )

    def emit(stage: str, **info: Any) -> None:
        if progress is not None:
            progress(stage, info)

    emit("plan", k=1, of=k)
    t0 = time.perf_counter()
    best = run_model(prep, settings=settings)
    best.scenario_name = f"{scenario.name}-plan1"
    plan_seconds = [time.perf_counter() - t0]
    out = Alternatives(scenario, within, None, [best], 0.0, plan_seconds=plan_seconds)
    if not best.has_solution or best.objective is None:
        out.seconds = time.perf_counter() - t_all
        return out
    out.floor = float(best.objective) - within * abs(float(best.objective))
    refs = [plan_ref(best)]
    bound = best.best_bound
    weight = distance_weight_wan
    if weight == "auto":
        weight = within * abs(float(best.objective)) / (2.0 * max(1, prep.data.n_plots))
    weight = float(weight) if weight is not None else None
    for i in range(2, k + 1):
        emit("plan", k=i, of=k)
        t0 = time.perf_counter()
        built = allocation.build(
            prep.data,
            prep.params,
            analysis=Analysis(
                objective_floor=out.floor, distance_refs=tuple(refs), distance_weight_wan=weight
            ),
        )
        sol = msolver.run(
            built,
            **settings.solver_kwargs(),
        )
        if sol.objective is None or sol.y.size == 0:
            out.stopped_early = True
            break
        ref = PlanRef.from_solution(prep.data, sol.y, sol.x)
        distance = min(
            int((ref.plot_firm(prep.data) != r.plot_firm(prep.data)).sum()) for r in refs
        )
        if distance == 0:
            out.stopped_early = True
            break
        plan = polish(prep, settings, ref, f"{scenario.name}-plan{i}")
        if not plan.has_solution or plan.objective is None:
            raise AllocatorError(t("alternatives.polish_failed", k=i, status=str(plan.status)))
        plan.best_bound = bound
        plan.gap = (
            abs(float(bound) - float(plan.objective)) / max(1.0, abs(float(plan.objective)))
            if bound is not None
            else None
        )
        plan.status = Status.FEASIBLE
        plan.timings["solve"] = plan.timings.get("solve", 0.0) + float(sol.solve_seconds)
        plan.message = t("alternatives.message", k=i, distance=distance)
        out.results.append(plan)
        refs.append(ref)
        plan_seconds.append(time.perf_counter() - t0)
    out.seconds = time.perf_counter() - t_all
    emit("done", plans=len(out.results))
    return out
