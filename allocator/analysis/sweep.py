"""Sweeps: one scenario, many points (a parameter range or random perturbations), run on Dask.

A solve is a pure function of (case hash, frozen scenario, settings, data
perturbation), so each point has a key — the sha256 of those four — and its
run folder is ``<sweep>/points/<key>/``, an ordinary run folder that opens in
compare and export. A point whose folder exists is finished (run folders are
written atomically and renamed into place), so an interrupted sweep resumes
and recomputes nothing that finished, whether the client or a worker died.

The case is loaded and prepared once on the client. What is scattered to the
workers is a :class:`PreparedCase`: the case with the geometry-derived pieces
(scores, plot overlays, candidate parcels and pairs). A point then re-runs only
the array step of :func:`allocator.prepare.prepare` with its own scenario,
which is exact for every parameter those pieces do not depend on (caps and
cap factors, prices, weights, class floors/caps/growth, switches, the energy
basis). Parameters that change scores or eligibility — ``eligibility.*``
(red-line threshold and buffer, bundle size, catalogue), ``scoring.method``
and the exit policy ``exit.classes`` / ``exit.non_catalogue`` (the leaving
firms' plots become candidates) — need a full re-prepare; such a point
prepares from the scattered case on its worker (see :func:`reuses_prepared`).

Points that are infeasible or stop early are rows with that status, not
errors. ``sweep.csv`` holds one row per point with at least ``value``,
``status``, ``objective``, ``best_bound``, ``gap`` and ``run``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.errors import AllocatorError, ScenarioError
from allocator.i18n import t
from allocator.kpis import KPI_KEYS
from allocator.runs import RUN_FILES
from allocator.safety import safe_filename
from allocator.scenario import Scenario, field_for, load_scenario
from allocator.settings import SolverSettings

REPREPARE_PREFIXES: tuple[str, ...] = (
    "eligibility.",
    "scoring.",
    "exit.classes",
    "exit.non_catalogue",
)
"""Scenario keys whose change alters scores, overlays or candidates (a full re-prepare)."""

PERTURBED = ("output", "energy", "electricity")
"""Firm figures a Monte Carlo point perturbs: value added, energy and electricity intensity."""

SWEEP_COLUMNS = (
    "point",
    "value",
    "status",
    "objective",
    "best_bound",
    "gap",
    "run",
    "key",
    "solve_seconds",
)
"""The leading columns of ``sweep.csv``; every KPI of :data:`KPI_KEYS` follows."""

PointProgress = Callable[[int, int, Mapping[str, Any]], None]
"""``progress(done, total, row)`` after each point (finished now or found on disk)."""


def reuses_prepared(key: str) -> bool:
    """Return True when a point varying ``key`` can reuse the case's prepared pieces."""
    return not key.startswith(REPREPARE_PREFIXES)


# ----------------------------------------------------------------------------- what varies


@dataclass(frozen=True)
class Vary:
    """One scenario parameter over a range of values."""

    key: str
    values: tuple[float, ...]

    @classmethod
    def parse(cls, text: str, points: int, where: str = "--vary") -> Vary:
        """Read ``PARAM=START:STOP`` with ``points`` evenly spaced values.

        Raises :class:`ScenarioError` naming ``where`` (or ``--points``) for an
        unknown or non-numeric parameter, a malformed or out-of-range range.
        """
        key, sep, rng = text.partition("=")
        key = key.strip()
        start_s, sep2, stop_s = rng.partition(":")
        if not sep or not sep2 or not key:
            raise ScenarioError(
                t("sweep.err.vary_syntax", where=where, text=text),
                hint=t("sweep.err.vary_syntax_hint"),
            )
        try:
            start, stop = float(start_s), float(stop_s)
        except ValueError as exc:
            raise ScenarioError(
                t("sweep.err.vary_syntax", where=where, text=text),
                hint=t("sweep.err.vary_syntax_hint"),
            ) from exc
        return cls.linspace(key, start, stop, points, where)

    @classmethod
    def linspace(cls, key: str, start: float, stop: float, points: int, where: str) -> Vary:
        """Return ``points`` evenly spaced values of ``key`` from ``start`` to ``stop``."""
        fld = field_for(key)
        if fld is None or fld.type not in ("float", "int"):
            problem = "sweep.err.not_numeric" if fld is not None else "sweep.err.unknown_param"
            raise ScenarioError(t(problem, where=where, param=key), hint=t("sweep.err.param_hint"))
        if isinstance(points, bool) or int(points) < 2:
            raise ScenarioError(
                t("sweep.err.points", where="--points", points=points),
                hint=t("sweep.err.points_hint"),
            )
        if not (math.isfinite(start) and math.isfinite(stop)) or start == stop:
            raise ScenarioError(
                t("sweep.err.empty_range", where=where, param=key, start=start, stop=stop),
                hint=t("sweep.err.vary_syntax_hint"),
            )
        from allocator.scenario import check_param

        values = np.linspace(start, stop, int(points))
        if fld.type == "int":
            values = np.unique(np.rint(values))
        for v in (values[0], values[-1]):
            check_param(key, int(v) if fld.type == "int" else float(v), where)
        return cls(key, tuple(float(v) for v in values))

    def overrides(self, value: float) -> dict[str, Any]:
        """Return the scenario overrides of one point."""
        fld = field_for(self.key)
        return {self.key: int(value) if fld is not None and fld.type == "int" else float(value)}


@dataclass(frozen=True)
class MonteCarlo:
    """``n`` perturbations of the firms' figures, each uniform within ± ``spread``.

    ``spread`` maps each of :data:`PERTURBED` to a relative half-width (0.1 =
    ±10 %); the draws of point ``i`` come from ``numpy.random.default_rng([seed, i])``.
    """

    n: int
    spread: Mapping[str, float]
    seed: int = 0

    @classmethod
    def uniform(cls, n: int, spread_pct: float, seed: int = 0) -> MonteCarlo:
        """Return ``n`` draws with the same spread (in percent) for every figure."""
        if isinstance(n, bool) or int(n) < 1:
            raise ScenarioError(
                t("sweep.err.points", where="--monte-carlo", points=n),
                hint=t("sweep.err.points_hint"),
            )
        if not math.isfinite(spread_pct) or not 0 <= spread_pct < 100:
            raise ScenarioError(
                t("sweep.err.spread", where="--spread", spread=spread_pct),
                hint=t("sweep.err.spread_hint"),
            )
        return cls(int(n), {k: spread_pct / 100.0 for k in PERTURBED}, int(seed))

    def factors(self, index: int, n_firms: int) -> np.ndarray:
        """Return the ``(n_firms, 3)`` multiplicative factors of point ``index``."""
        rng = np.random.default_rng([int(self.seed), int(index)])
        draws = rng.uniform(-1.0, 1.0, size=(n_firms, len(PERTURBED)))
        half = np.array([float(self.spread.get(k, 0.0)) for k in PERTURBED])
        return 1.0 + draws * half

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for keys and ``sweep.json``)."""
        return {"n": self.n, "spread": dict(sorted(self.spread.items())), "seed": self.seed}


@dataclass(frozen=True)
class Point:
    """One solve of a sweep: its scenario, its data perturbation (if any) and its key."""

    index: int
    value: float
    scenario: Scenario
    key: str
    perturb: MonteCarlo | None = None


def point_key(
    case_hash: str, scenario: Scenario, settings: SolverSettings, perturb: Mapping | None
) -> str:
    """Return the key of a solve: sha256 of (case hash, scenario hash, settings, perturbation)."""
    text = json.dumps(
        {
            "case": case_hash,
            "scenario": scenario.hash,
            "settings": settings.to_dict(),
            "perturb": perturb,
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# ----------------------------------------------------------------------------- the prepared case


@dataclass
class PreparedCase:
    """The case and its geometry-derived pieces, prepared once and scattered to workers."""

    case: Any
    scores: pd.DataFrame
    overlays: pd.DataFrame
    candidates: Any
    case_hash: str
    base_scenario: Scenario
    prepare_seconds: float = 0.0

    @classmethod
    def build(cls, case: Any, scenario: Scenario) -> PreparedCase:
        """Prepare ``case`` under ``scenario`` once (timed) and keep the reusable pieces."""
        from allocator.prepare import prepare

        t0 = time.perf_counter()
        prep = prepare(case, scenario)
        return cls(
            case=case,
            scores=prep.scores,
            overlays=prep.overlays,
            candidates=prep.candidates,
            case_hash=prep.case_hash,
            base_scenario=scenario,
            prepare_seconds=time.perf_counter() - t0,
        )

    def prepare(self, scenario: Scenario) -> Any:
        """Return the :class:`~allocator.prepare.Prepared` inputs of ``scenario``.

        Reuses the pieces when ``scenario`` agrees with the base on every key
        of :data:`REPREPARE_PREFIXES`; prepares from scratch otherwise.
        """
        from allocator.prepare import prepare

        same = all(
            scenario.flat.get(k) == self.base_scenario.flat.get(k)
            for k in set(scenario.flat) | set(self.base_scenario.flat)
            if not reuses_prepared(k)
        )
        if same:
            return prepare(
                self.case,
                scenario,
                scores=self.scores,
                overlays=self.overlays,
                candidates=self.candidates,
            )
        return prepare(self.case, scenario)


def perturb_prepared(prep: Any, factors: np.ndarray) -> Any:
    """Return ``prep`` with each firm's output, energy and electricity intensity scaled.

    ``factors`` is ``(n_firms, 3)`` for :data:`PERTURBED`: output scales the
    firm's value added (current ``o0``, request ``oreq`` and value added per
    mu), the other two its intensities per 万元 (``en``, ``el``).
    """
    d = prep.data
    f_out, f_en, f_el = factors[:, 0], factors[:, 1], factors[:, 2]
    data = replace(
        d,
        o0=d.o0 * f_out,
        oreq=d.oreq * f_out,
        va_mu=d.va_mu * f_out,
        en=d.en * f_en,
        el=d.el * f_el,
    )
    firms = prep.firms.copy()
    firms["o0_wan"] = data.o0
    firms["oreq_wan"] = data.oreq
    firms["va_mu"] = data.va_mu
    firms["en"] = data.en
    firms["el"] = data.el
    return replace(prep, data=data, firms=firms)


# ----------------------------------------------------------------------------- one point


def point_complete(folder: Path) -> bool:
    """Return True when ``folder`` is a finished run folder (every run file present)."""
    return folder.is_dir() and all((folder / name).exists() for name in RUN_FILES)


def solve_point(
    base: PreparedCase, point: Point, settings: SolverSettings, points_dir: str, marginals: bool
) -> dict[str, Any]:
    """Solve one point on a worker and write its run folder ``points_dir/<key>``.

    Returns ``{"key", "computed", "duplicate"}``: ``computed`` is False when the
    folder was already there (a resumed sweep, or a task rerun after its
    worker died); ``duplicate`` is True when this call solved the point but
    another solve of it finished first.
    """
    from allocator.solve import solve

    root = Path(points_dir)
    final = root / point.key
    if point_complete(final):
        return {"key": point.key, "computed": False, "duplicate": False}
    prep = base.prepare(point.scenario)
    if point.perturb is not None:
        prep = perturb_prepared(prep, point.perturb.factors(point.index, prep.data.n_firms))
    staging = root / f".staging-{point.key}-{uuid.uuid4().hex[:8]}"
    try:
        result = solve(
            point.scenario,
            prepared=prep,
            settings=settings,
            out_dir=staging,
            write=True,
            diagnose_infeasible=False,
            marginals=marginals,
        )
        assert result.run_path is not None
        try:
            os.rename(result.run_path, final)
        except OSError:
            if not point_complete(final):
                raise
            # solved twice at once (two workers, two sweeps): keep the first, count the waste
            return {"key": point.key, "computed": False, "duplicate": True}
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"key": point.key, "computed": True, "duplicate": False}


def point_row(point: Point, folder: Path) -> dict[str, Any]:
    """Read a finished point's row of ``sweep.csv`` from its run folder."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    kpis = summary.get("kpis") or {}
    return {
        "point": point.index,
        "value": point.value,
        "status": summary.get("status"),
        "objective": summary.get("objective"),
        "best_bound": summary.get("best_bound"),
        "gap": summary.get("gap"),
        "run": str(folder),
        "key": point.key,
        "solve_seconds": summary.get("solve_seconds"),
        **{k: kpis.get(k) for k in KPI_KEYS},
    }


# ----------------------------------------------------------------------------- the sweep


@dataclass
class Sweep:
    """A planned sweep: base scenario, settings, points and its folder."""

    scenario: Scenario
    settings: SolverSettings
    points: list[Point]
    path: Path
    vary: Vary | None = None
    monte_carlo: MonteCarlo | None = None

    @property
    def points_dir(self) -> Path:
        """Where the points' run folders go."""
        return self.path / "points"

    def pending(self) -> list[Point]:
        """Return the points without a finished run folder."""
        return [p for p in self.points if not point_complete(self.points_dir / p.key)]


@dataclass
class SweepResult:
    """A finished sweep: its folder, its table and how many points this call solved."""

    path: Path
    table: pd.DataFrame
    vary: Vary | None
    monte_carlo: MonteCarlo | None
    computed: int
    """Points solved by this call."""
    reused: int
    """Points whose run folder was already finished when this call started."""
    prepare_seconds: float
    seconds: float
    dashboard: str | None = None
    duplicates: int = 0
    """Solves wasted on a point another solve finished first (0 in a single sweep)."""
    extra: dict[str, Path] = field(default_factory=dict)
    """Further files written (chart, quota values, robustness tables and map layer)."""


def plan_sweep(
    scenario: Scenario | str | Path,
    *,
    case_hash: str,
    vary: Vary | None = None,
    monte_carlo: MonteCarlo | None = None,
    settings: SolverSettings | None = None,
    out_dir: str | Path = "runs",
) -> Sweep:
    """Return the points of a sweep and its folder (nothing is written).

    Exactly one of ``vary`` and ``monte_carlo`` is given. Every point's
    scenario is built (and so validated) here, before anything runs.
    """
    if (vary is None) == (monte_carlo is None):
        raise AllocatorError(t("sweep.err.one_kind"), hint=t("sweep.err.vary_syntax_hint"))
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    settings = SolverSettings.resolve(scenario, settings)
    points: list[Point] = []
    if vary is not None:
        for i, value in enumerate(vary.values):
            over = vary.overrides(value)
            scen = scenario.with_overrides(over, where="--vary").with_overrides(
                {"name": f"{scenario.name}-{vary.key}={value:g}"}
            )
            points.append(Point(i, value, scen, point_key(case_hash, scen, settings, None)))
        spec: dict[str, Any] = {"vary": vary.key, "values": list(vary.values)}
    else:
        assert monte_carlo is not None
        for i in range(monte_carlo.n):
            scen = scenario.with_overrides({"name": f"{scenario.name}-mc{i}"})
            mc = {**monte_carlo.to_dict(), "index": i}
            points.append(
                Point(i, float(i), scen, point_key(case_hash, scen, settings, mc), monte_carlo)
            )
        spec = {"monte_carlo": monte_carlo.to_dict()}
    ident = json.dumps(
        {"case": case_hash, "scenario": scenario.hash, "settings": settings.to_dict(), **spec},
        sort_keys=True,
    )
    kind = "mc" if monte_carlo is not None else "sweep"
    digest = hashlib.sha256(ident.encode()).hexdigest()[:10]
    folder = Path(out_dir) / f"{safe_filename(scenario.name or 'sweep')}-{kind}-{digest}"
    return Sweep(scenario, settings, points, folder, vary, monte_carlo)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False, encoding="utf-8")
    os.replace(tmp, path)


def run_sweep(
    scenario: Scenario | str | Path,
    *,
    vary: Vary | None = None,
    monte_carlo: MonteCarlo | None = None,
    case: Any = None,
    settings: SolverSettings | None = None,
    out_dir: str | Path = "runs",
    runner: Any = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    progress: PointProgress | None = None,
    on_runner: Callable[[Any], None] | None = None,
    marginals: bool = True,
    lang: str | None = None,
    kpi: str = "value_added_wan",
) -> SweepResult:
    """Run a sweep (a parameter range, or Monte Carlo perturbations) and write its folder.

    Parameters
    ----------
    scenario
        The base scenario (or its file).
    vary, monte_carlo
        What varies: exactly one of them.
    case
        The loaded case (default: the scenario's).
    settings
        Solver settings of every point (default: the scenario's).
    out_dir
        Parent of the sweep folder ``<scenario>-sweep-<hash>``; running the
        same sweep again finds the same folder and solves only what is missing.
    runner, scheduler, n_workers
        A :class:`~allocator.analysis.runner.Runner` to use, or the address
        of a scheduler to connect to (default: a ``LocalCluster`` of
        ``n_workers`` for this call, started only when a point is left to solve).
    progress
        ``progress(done, total, row)`` after each point.
    on_runner
        Called with the runner once it is up (the CLI prints the dashboard).
    marginals
        Compute each point's LP marginal values (the quota value curve shows them).
    lang
        Language of the chart's labels.
    kpi
        The KPI drawn under the objective on the trade-off chart.
    """
    from allocator.analysis.runner import DASK_MISSING_HINT, Runner, dask_available
    from allocator.scenario_refs import check_scenario_ids
    from allocator.solve import load_case_cached

    t_all = time.perf_counter()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if case is None:
        if scenario.case_path is None:
            raise ScenarioError(
                t("err.scenario.no_case", name=scenario.name), hint=t("err.scenario.no_case_hint")
            )
        case = load_case_cached(scenario.case_path)
    # the scenario must fit the case, as solve requires: refused before anything is
    # prepared, written or submitted to a cluster
    check_scenario_ids(scenario, case)
    _check_ids(case, vary)
    if runner is None and not dask_available():
        raise AllocatorError(t("sweep.err.no_dask"), hint=DASK_MISSING_HINT)
    base = PreparedCase.build(case, scenario)
    sweep = plan_sweep(
        scenario,
        case_hash=base.case_hash,
        vary=vary,
        monte_carlo=monte_carlo,
        settings=settings,
        out_dir=out_dir,
    )
    sweep.points_dir.mkdir(parents=True, exist_ok=True)
    sweep.scenario.save(sweep.path / "scenario.toml")
    spec = {
        "scenario_hash": sweep.scenario.hash,
        "case_hash": base.case_hash,
        "settings": sweep.settings.to_dict(),
        "vary": {"key": vary.key, "values": list(vary.values)} if vary else None,
        "monte_carlo": monte_carlo.to_dict() if monte_carlo else None,
        "points": {p.key: p.value for p in sweep.points},
        "prepare_seconds": base.prepare_seconds,
    }
    (sweep.path / "sweep.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")

    total = len(sweep.points)
    pending = sweep.pending()
    pending_keys = {p.key for p in pending}
    done = 0
    rows: dict[str, dict[str, Any]] = {}
    for p in sweep.points:
        if p.key not in pending_keys:
            rows[p.key] = point_row(p, sweep.points_dir / p.key)
            done += 1
            if progress is not None:
                progress(done, total, rows[p.key])
    computed = duplicates = 0
    dashboard = None
    if pending:
        own = runner is None
        runner = runner if runner is not None else Runner(scheduler, n_workers=n_workers)
        try:
            dashboard = runner.dashboard_link
            if on_runner is not None:
                on_runner(runner)
            shared = runner.scatter(base)
            by_key = {p.key: p for p in pending}
            futures = [
                runner.submit(
                    solve_point,
                    shared,
                    p,
                    sweep.settings,
                    str(sweep.points_dir),
                    marginals,
                    key=f"point-{p.key}",
                )
                for p in pending
            ]
            for fut in runner.as_completed(futures):
                answer = fut.result()
                p = by_key[answer["key"]]
                computed += int(answer["computed"])
                duplicates += int(answer["duplicate"])
                rows[p.key] = point_row(p, sweep.points_dir / p.key)
                done += 1
                if progress is not None:
                    progress(done, total, rows[p.key])
        finally:
            if own:
                runner.close()
        for orphan in sweep.points_dir.glob(".staging-*"):  # left by a worker that died
            shutil.rmtree(orphan, ignore_errors=True)
    table = pd.DataFrame([rows[p.key] for p in sweep.points])
    result = SweepResult(
        path=sweep.path,
        table=table,
        vary=vary,
        monte_carlo=monte_carlo,
        computed=computed,
        reused=total - len(pending),
        prepare_seconds=base.prepare_seconds,
        seconds=0.0,
        dashboard=dashboard,
        duplicates=duplicates,
    )
    if vary is not None:
        from allocator.analysis.tradeoff import tradeoff_table, write_chart

        result.table = tradeoff_table(table, vary.key)
        result.extra["chart"] = write_chart(
            result.table, vary.key, sweep.path / "tradeoff.png", lang
        )
        from allocator.analysis.quota import quota_key_info

        if quota_key_info(vary.key) is not None:
            from allocator.analysis.quota import quota_value_curve

            quota = quota_value_curve(result.table, vary.key)
            _write_csv(quota, sweep.path / "quota_value.csv")
            result.extra["quota"] = sweep.path / "quota_value.csv"
    else:
        from allocator.analysis.robustness import write_robustness

        result.extra.update(write_robustness(sweep.path, table, case))
    _write_csv(result.table, sweep.path / "sweep.csv")
    result.seconds = time.perf_counter() - t_all
    return result


def _check_ids(case: Any, vary: Vary | None) -> None:
    """Refuse a ``caps.zones.<id>`` / ``caps.units.<id>`` key whose id is not in the case."""
    if vary is None:
        return
    parts = vary.key.split(".")
    if len(parts) < 4 or parts[0] != "caps" or parts[1] not in ("zones", "units"):
        return
    table, col = (case.zones, "zone_id") if parts[1] == "zones" else (case.control_units, "unit_id")
    known = [str(v) for v in table[col]]
    if parts[2] not in known:
        raise ScenarioError(
            t("sweep.err.unknown_id", where="--vary", param=vary.key, id=parts[2]),
            hint=t("sweep.err.known_ids", ids=", ".join(known)),
        )


def load_sweep(path: str | Path) -> pd.DataFrame:
    """Read a sweep folder's ``sweep.csv``."""
    path = Path(path)
    csv = path / "sweep.csv" if path.is_dir() else path
    if not csv.exists():
        raise AllocatorError(
            t("sweep.err.not_a_sweep", path=path), hint=t("sweep.err.not_a_sweep_hint")
        )
    return pd.read_csv(csv)
