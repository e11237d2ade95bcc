"""Trade-off curves (ε-constraint): the objective against a cap, with each point's proven bound.

Along a cap that only loosens as its value grows (every ``caps.*`` key: a
factor or an absolute quota), the feasible set grows, so

- a plan of a tighter point is feasible at every looser point: the best known
  objective at a point is the running maximum of the incumbents from the tight
  side (``objective_monotone``; ``plan_from`` names the point whose plan it is,
  and the ``*_monotone`` KPI columns are that plan's figures);
- a bound of a looser point bounds every tighter point: the proven bound is
  the running minimum of the bounds from the loose side (``bound_monotone``).

So no dip on the curve is solver noise: the true optimum of each point lies in
``[objective_monotone, bound_monotone]``, drawn as an error bar. An infeasible
point has no plan and the bound −∞ (every tighter point is infeasible too).

The solver API (:func:`allocator.solve.solve`) takes no start solution, so the
next point is not warm-started; the monotone envelope uses the tighter plans
after the fact instead (a warm start would only make the solver find them).

Knees: interior points where the slope of the monotone objective falls to at
most half of the slope before it — where one more unit of the cap starts to
buy much less.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.i18n import t
from allocator.kpis import KPI_KEYS, kpi_label, kpi_value
from allocator.status import Status, has_plan, parse_status

KNEE_SLOPE_RATIO = 0.5
"""A knee is where the slope falls to at most this share of the slope before it."""

CURVE_KPIS: tuple[str, ...] = ("value_added_wan", "tax_wan", "firms_served", "land_used_mu")
"""KPIs a trade-off curve can show beside the objective."""


def loosens_with_value(key: str) -> bool:
    """Return True when a larger value of ``key`` only loosens the model (every ``caps.*`` key)."""
    return key.startswith("caps.")


def _plan_mask(table: pd.DataFrame) -> np.ndarray:
    return np.array([has_plan(parse_status(s)) for s in table["status"]], dtype=bool)


def tradeoff_table(table: pd.DataFrame, key: str) -> pd.DataFrame:
    """Return ``table`` (a sweep's rows) with the monotone envelope and the knees added.

    Adds ``objective_monotone``, ``bound_monotone``, ``plan_from`` (the point
    whose plan gives ``objective_monotone``), ``<kpi>_monotone`` for each KPI
    and ``knee``. For a key that does not loosen with its value the monotone
    columns repeat the point's own figures.
    """
    out = table.copy()
    out["value"] = out["value"].astype(float)
    order = np.argsort(out["value"].to_numpy(), kind="stable")
    plan = _plan_mask(out)
    obj = np.where(plan, pd.to_numeric(out["objective"], errors="coerce"), np.nan)
    bound = pd.to_numeric(out["best_bound"], errors="coerce").to_numpy(dtype=float)
    bound = np.where(plan & np.isnan(bound), obj, bound)
    infeasible = np.array([parse_status(s) == Status.INFEASIBLE for s in out["status"]])
    bound = np.where(infeasible, -np.inf, bound)
    n = len(out)
    obj_m = obj.copy()
    bound_m = bound.copy()
    plan_from = np.where(plan, out["point"].to_numpy(), -1).astype(int)
    if loosens_with_value(key):
        best, best_i = -np.inf, -1
        for i in order:  # tight → loose: a tighter plan stays feasible
            if plan[i] and obj[i] > best:
                best, best_i = obj[i], i
            obj_m[i] = best if best_i >= 0 else np.nan
            plan_from[i] = int(out["point"].iat[best_i]) if best_i >= 0 else -1
        low = np.inf
        for i in order[::-1]:  # loose → tight: a looser bound still bounds
            if not np.isnan(bound[i]):
                low = min(low, bound[i])
            bound_m[i] = low if math.isfinite(low) or low == -np.inf else np.nan
    out["objective_monotone"] = obj_m
    out["bound_monotone"] = bound_m
    out["plan_from"] = plan_from
    point_pos = {int(p): i for i, p in enumerate(out["point"])}
    for k in KPI_KEYS:
        src = out[k].to_numpy() if k in out else np.full(n, np.nan)
        out[f"{k}_monotone"] = [
            src[point_pos[j]] if j >= 0 else np.nan for j in out["plan_from"].astype(int)
        ]
    out["knee"] = knees(out["value"].to_numpy(), obj_m)
    return out


def knees(values: np.ndarray, objective: np.ndarray) -> np.ndarray:
    """Return a boolean per point: True where the slope falls by at least half.

    ``values`` and ``objective`` are per point (any order; NaN objectives are
    skipped).
    """
    values = np.asarray(values, dtype=float)
    objective = np.asarray(objective, dtype=float)
    out = np.zeros(len(values), dtype=bool)
    idx = [i for i in np.argsort(values, kind="stable") if np.isfinite(objective[i])]
    scale = max(1.0, float(np.nanmax(np.abs(objective)))) if len(idx) else 1.0
    for a, b, c in zip(idx, idx[1:], idx[2:], strict=False):
        s1 = (objective[b] - objective[a]) / (values[b] - values[a])
        s2 = (objective[c] - objective[b]) / (values[c] - values[b])
        if s1 * (values[c] - values[a]) > 1e-6 * scale and s2 <= KNEE_SLOPE_RATIO * s1:
            out[b] = True
    return out


def write_chart(
    table: pd.DataFrame,
    key: str,
    path: str | Path,
    lang: str | None = None,
    kpi: str | None = "value_added_wan",
) -> Path:
    """Draw the trade-off curve of a :func:`tradeoff_table` as a PNG and return its path.

    Top: the objective (incumbent dots, monotone envelope line, proven bound
    as an error bar, knees ringed). Bottom: ``kpi`` of the envelope's plan.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from allocator.export.fonts import register_cjk_font

    family = register_cjk_font()
    path = Path(path)
    rows = table.sort_values("value")
    x = rows["value"].to_numpy(dtype=float)
    obj = rows["objective_monotone"].to_numpy(dtype=float)
    bound = rows["bound_monotone"].to_numpy(dtype=float)
    raw = pd.to_numeric(rows["objective"], errors="coerce").to_numpy(dtype=float)
    n_panels = 2 if kpi else 1
    with plt.rc_context({"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False}):
        fig, axes = plt.subplots(n_panels, 1, figsize=(7.5, 3.2 * n_panels), sharex=True)
        axes = np.atleast_1d(axes)
        ax = axes[0]
        ok = np.isfinite(obj)
        upper = np.where(np.isfinite(bound) & ok, np.maximum(bound - obj, 0.0), 0.0)
        ax.errorbar(
            x[ok],
            obj[ok],
            yerr=[np.zeros(ok.sum()), upper[ok]],
            fmt="-o",
            color="#1f5fa8",
            ecolor="#8aa9cc",
            capsize=4,
            label=t("sweep.chart.incumbent", lang),
        )
        ax.plot(x, raw, "x", color="#777777", label=t("sweep.chart.raw", lang))
        knee = rows["knee"].to_numpy(dtype=bool) & ok
        if knee.any():
            ax.plot(
                x[knee],
                obj[knee],
                "o",
                ms=13,
                mfc="none",
                mec="#c0392b",
                mew=2,
                label=t("sweep.chart.knee", lang),
            )
        none = ~ok
        if none.any():
            ax.plot(
                x[none],
                np.full(none.sum(), np.nanmin(obj) if ok.any() else 0.0),
                "v",
                color="#c0392b",
                label=t("sweep.chart.no_plan", lang),
            )
        ax.set_ylabel(t("sweep.chart.objective", lang))
        ax.set_title(t("sweep.chart.title", lang, param=key))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        if kpi:
            col = f"{kpi}_monotone"
            y = pd.to_numeric(rows.get(col), errors="coerce").to_numpy(dtype=float)
            y = y * (kpi_value(kpi, 1.0) or 1.0)  # in the unit the label names
            axes[1].plot(x, y, "-s", color="#2e8b57")
            axes[1].set_ylabel(kpi_label(kpi, lang))
            axes[1].grid(alpha=0.3)
        axes[-1].set_xlabel(key)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return path
