"""Why run B differs from run A: the KPI change attributed to the parameters that differ.

The scenario keys that differ between the two runs are grouped (caps, exit
policy, floors, eligibility …; :data:`GROUPS`). For g ≤ :data:`MAX_EXACT`
groups every subset S of them is solved (A's scenario with B's values for
the groups in S: 2^g solves, ∅ = A and all = B re-solved under the same
settings) and each group gets its exact Shapley value

    φ_i = Σ_{S ⊆ G∖{i}} |S|! (g − |S| − 1)! / g! · (v(S ∪ {i}) − v(S)),

whose sum is v(G) − v(∅), the re-solved B minus the re-solved A (equal to
the recorded runs' difference up to their solver gaps). With more groups the
groups are applied one after another in :data:`GROUPS` order (g + 1 solves)
and each gets its marginal change in that order. A whole group always comes
from one side, so the mixed scenarios never combine, say, A's zone energy
factor with B's absolute zone cap. The binding cap rows that appeared or
vanished are read from the two runs' marginal-value tables.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.errors import AllocatorError
from allocator.i18n import t
from allocator.kpis import HEADLINE_KPIS, kpi_label
from allocator.runs import Run, load_run, run_names
from allocator.scenario import Scenario, scenario_from_dict
from allocator.settings import SolverSettings

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("caps", ("caps.",)),
    ("exit", ("exit.",)),
    ("floors", ("classes.floor.", "service_floor")),
    ("eligibility", ("eligibility.",)),
    ("classes", ("classes.cap.", "classes.growth.")),
    ("objective", ("objective.",)),
    ("energy", ("energy.",)),
    ("switches", ("switches.",)),
    ("scoring", ("scoring.",)),
)
"""Parameter groups by key prefix, in the order used when there are too many for Shapley."""

IGNORED: tuple[str, ...] = (
    "name",
    "description",
    "case",
    "solver.",
    "alternatives.",
    "stability.",
)
"""Keys that do not change the plan (labels, solver settings, analysis settings)."""

MAX_EXACT = 6
"""Up to this many groups the attribution is the exact Shapley value (2^g solves)."""

MEASURES: tuple[str, ...] = ("objective", *HEADLINE_KPIS)
"""What is attributed: MODEL.md's objective and the headline KPIs."""


def group_of(key: str) -> str | None:
    """Return the group of a scenario key (None for keys that do not change the plan)."""
    if any(key == p or key.startswith(p) for p in IGNORED if p.endswith(".")) or key in IGNORED:
        return None
    for name, prefixes in GROUPS:
        if any(key == p or key.startswith(p) for p in prefixes):
            return name
    return key.split(".")[0]


def differing_keys(a: Scenario, b: Scenario) -> pd.DataFrame:
    """Return the keys that differ: ``group``, ``key``, ``value_a``, ``value_b``."""
    rows = []
    for key in sorted(set(a.flat) | set(b.flat)):
        va, vb = a.flat.get(key), b.flat.get(key)
        if _same(va, vb):
            continue
        group = group_of(key)
        if group is not None:
            rows.append({"group": group, "key": key, "value_a": va, "value_b": vb})
    return pd.DataFrame(rows, columns=["group", "key", "value_a", "value_b"])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return sorted(map(str, a)) == sorted(map(str, b))
    return bool(a == b)


def mix(a: Scenario, b: Scenario, groups: Sequence[str]) -> Scenario:
    """A's scenario with B's value for every key of ``groups`` (whole groups from one side)."""
    take = set(groups)
    flat = {}
    for key in set(a.flat) | set(b.flat):
        src = b if group_of(key) in take else a
        value = src.flat.get(key)
        if value is not None:
            flat[key] = list(value) if isinstance(value, tuple) else value
    flat["name"] = f"{a.name}+{'+'.join(groups)}" if groups else a.name
    return scenario_from_dict(flat, where=f"{a.name} + {', '.join(groups) or '—'}")


def shapley(
    values: dict[frozenset[str], dict[str, float | None]], groups: list[str]
) -> pd.DataFrame:
    """Exact Shapley values (rows: groups; columns: measures) from v(S) for every subset S."""
    g = len(groups)
    measures = list(next(iter(values.values())).keys())
    out = pd.DataFrame(0.0, index=groups, columns=measures)
    for i in groups:
        others = [x for x in groups if x != i]
        for r in range(g):
            w = math.factorial(r) * math.factorial(g - r - 1) / math.factorial(g)
            for s in itertools.combinations(others, r):
                lo, hi = values[frozenset(s)], values[frozenset(s) | {i}]
                for m in measures:
                    a, b = lo[m], hi[m]
                    if a is None or b is None:
                        out.loc[i, m] = np.nan
                    else:
                        out.loc[i, m] += w * (float(b) - float(a))
    return out


def sequential(
    values: dict[frozenset[str], dict[str, float | None]], groups: list[str]
) -> pd.DataFrame:
    """Marginal change of each group when the groups are applied one after another."""
    measures = list(next(iter(values.values())).keys())
    out = pd.DataFrame(0.0, index=groups, columns=measures)
    done: frozenset[str] = frozenset()
    for i in groups:
        lo, hi = values[done], values[done | {i}]
        for m in measures:
            a, b = lo[m], hi[m]
            out.loc[i, m] = np.nan if a is None or b is None else float(b) - float(a)
        done = done | {i}
    return out


@dataclass
class Attribution:
    """The KPI change from run A to run B, by group of changed parameters."""

    label_a: str
    """Run A's name for people (:func:`allocator.runs.run_names`), likewise ``label_b``."""
    label_b: str
    keys: pd.DataFrame
    """The differing keys: ``group``, ``key``, ``value_a``, ``value_b``."""
    groups: list[str]
    method: str
    """``shapley`` (exact, ≤ :data:`MAX_EXACT` groups) or ``sequential`` (:data:`GROUPS` order)."""
    values: pd.DataFrame
    """One row per solved combination: ``groups`` applied, ``status``, each measure."""
    contributions: pd.DataFrame
    """Rows: groups; columns: measures (the attribution)."""
    total: dict[str, float | None]
    """v(all) − v(∅): what the contributions sum to."""
    recorded: dict[str, float | None]
    """The recorded runs' difference B − A."""
    appeared: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Cap rows binding in B and not in A (``row``, ``family``, marginal value in B)."""
    vanished: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Cap rows binding in A and not in B."""
    seconds: float = 0.0

    def table(self) -> pd.DataFrame:
        """Return the contributions with the total and the recorded change as the last rows."""
        out = self.contributions.copy()
        out.loc["total"] = pd.Series(self.total)
        out.loc["recorded"] = pd.Series(self.recorded)
        return out.rename_axis("group").reset_index()


def _measures(result: Any) -> dict[str, float | None]:
    if not result.has_solution:
        return dict.fromkeys(MEASURES)
    out: dict[str, float | None] = {"objective": result.objective}
    for k in HEADLINE_KPIS:
        v = result.kpis[k]
        out[k] = None if v is None else float(v)
    return out


def _binding(run: Run) -> pd.DataFrame:
    m = run.marginals
    if m is None or not len(m) or "binding" not in m.columns:
        return pd.DataFrame(columns=["row", "family", "value"])
    b = m[m["binding"].astype(bool)]
    return b[["row", "family", "value"]].reset_index(drop=True)


def attribute(
    run_a: str | Path | Run,
    run_b: str | Path | Run,
    *,
    case: Any = None,
    settings: SolverSettings | None = None,
    time_limit_s: float | None = None,
    rel_gap: float | None = None,
) -> Attribution:
    """Attribute the KPI change from run A to run B to the groups of parameters that differ.

    Both runs must be solved on the same case (same content hash); the
    combinations are solved on it under ``settings`` (default: run B's).
    """
    import time

    from allocator.case.cache import load_case_cached
    from allocator.solve import solve

    t0 = time.perf_counter()
    a = run_a if isinstance(run_a, Run) else load_run(run_a)
    b = run_b if isinstance(run_b, Run) else load_run(run_b)
    if (a.summary.get("case_hash") or "") != (b.summary.get("case_hash") or ""):
        raise AllocatorError(
            t("attribution.err.case", a=a.path.name, b=b.path.name),
            hint=t("attribution.err.case_hint"),
        )
    sa = scenario_from_dict(a.scenario, where=str(a.path / "scenario.toml"))
    sb = scenario_from_dict(b.scenario, where=str(b.path / "scenario.toml"))
    keys = differing_keys(sa, sb)
    groups = [name for name, _ in GROUPS if name in set(keys["group"])]
    groups += sorted(set(keys["group"]) - set(groups))
    if case is None:
        path = a.summary.get("case_path") or sa.case_path
        if not path:
            raise AllocatorError(t("err.scenario.no_case", name=sa.name))
        case = load_case_cached(path)
    if settings is None:
        settings = b.settings or SolverSettings.from_scenario(sb)
    settings = SolverSettings.resolve(sb, settings, time_limit_s=time_limit_s, rel_gap=rel_gap)
    method = "shapley" if len(groups) <= MAX_EXACT else "sequential"
    if method == "shapley":
        subsets = [
            frozenset(s) for r in range(len(groups) + 1) for s in itertools.combinations(groups, r)
        ]
    else:
        subsets = [frozenset(groups[:r]) for r in range(len(groups) + 1)]
    values: dict[frozenset[str], dict[str, float | None]] = {}
    rows = []
    for s in subsets:
        ordered = [g for g in groups if g in s]
        result = solve(
            mix(sa, sb, ordered),
            case=case,
            write=False,
            settings=settings,
            diagnose_infeasible=False,
            marginals=False,
        )
        values[s] = _measures(result)
        rows.append({"groups": "+".join(ordered) or "—", "status": str(result.status), **values[s]})
    full: frozenset[str] = frozenset(groups)
    empty: frozenset[str] = frozenset()
    if groups:
        contrib = shapley(values, groups) if method == "shapley" else sequential(values, groups)
    else:
        contrib = pd.DataFrame(columns=list(MEASURES))
    total = {
        m: None if values[full][m] is None or values[empty][m] is None
        else float(values[full][m]) - float(values[empty][m])  # type: ignore[arg-type]
        for m in MEASURES
    }  # fmt: skip
    ma, mb = _measures_of_run(a), _measures_of_run(b)
    recorded = {
        m: None if ma[m] is None or mb[m] is None else float(mb[m]) - float(ma[m])  # type: ignore[arg-type]
        for m in MEASURES
    }
    ba, bb = _binding(a), _binding(b)
    appeared = bb[~bb["row"].isin(set(ba["row"]))].reset_index(drop=True)
    vanished = ba[~ba["row"].isin(set(bb["row"]))].reset_index(drop=True)
    names = run_names([a.path, b.path])  # as the app and the comparison name them
    return Attribution(
        label_a=names[a.path],
        label_b=names[b.path],
        keys=keys,
        groups=groups,
        method=method,
        values=pd.DataFrame(rows),
        contributions=contrib,
        total=total,
        recorded=recorded,
        appeared=appeared,
        vanished=vanished,
        seconds=time.perf_counter() - t0,
    )


def _measures_of_run(run: Run) -> dict[str, float | None]:
    if not run.has_solution:
        return dict.fromkeys(MEASURES)
    out: dict[str, float | None] = {"objective": run.summary.get("objective")}
    kpis = run.kpis
    for k in HEADLINE_KPIS:
        v = kpis[k]
        out[k] = None if v is None else float(v)
    return out


def attribution_sheet(att: Attribution, lang: str | None = None) -> pd.DataFrame:
    """Return the attribution as one table for a workbook sheet (headers in ``lang``).

    Rows: each group's contribution, the total, the recorded change; then
    the differing keys, then the binding rows that appeared or vanished.
    """
    table = att.table()
    out = pd.DataFrame(
        {
            t("attribution.col.group", lang): [
                t(f"attribution.row.{g}", lang)
                if g in ("total", "recorded")
                else group_label(g, lang)
                for g in table["group"]
            ],
            **{measure_label(m, lang): table[m] for m in MEASURES},
        }
    )
    extra = [
        {
            t("attribution.col.group", lang): t(
                "attribution.key",
                lang,
                group=group_label(r.group, lang),
                param=r.key,
                a=r.value_a,
                b=r.value_b,
            )
        }
        for r in att.keys.itertuples(index=False)
    ]
    extra += [
        {t("attribution.col.group", lang): t(f"attribution.{kind}", lang, row=r.row)}
        for kind, frame in (("appeared", att.appeared), ("vanished", att.vanished))
        for r in frame.itertuples(index=False)
    ]
    return pd.concat([out, pd.DataFrame(extra)], ignore_index=True)


def measure_label(name: str, lang: str | None = None) -> str:
    """Return the label of an attributed measure (the objective or a KPI)."""
    return t("compare.kpi.objective", lang) if name == "objective" else kpi_label(name, lang)


def group_label(group: str, lang: str | None = None) -> str:
    """Return the planner's name of a parameter group (the group key when it has none)."""
    from allocator.i18n import has

    key = f"attribution.group.{group}"
    return t(key, lang) if has(key) else group
