"""Robustness: how often each firm and plot is chosen when the firms' figures are off.

A Monte Carlo sweep (:class:`~allocator.analysis.sweep.MonteCarlo`) solves the
scenario N times with each firm's output, energy intensity and electricity
intensity scaled by seeded uniform draws within the stated spread. Over the
points that hold a plan it reports:

- per firm: how often it is served (``admitted`` for applicants, ``kept`` for
  existing firms) — ``robustness_firms.csv``;
- per plot: how often it is given to a firm (kept or a new project) —
  ``robustness_plots.csv`` and a map layer ``robustness_plots.gpkg`` (case
  CRS) / ``robustness_plots.geojson`` (WGS84) with ``selection_frequency``;
- the KPI distribution (P10/P50/P90) — ``robustness_kpis.csv``.

With zero spread every point is the same solve, so every frequency is 0 or 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.kpis import KPI_KEYS
from allocator.status import has_plan, parse_status

GIVEN_OUTCOMES = ("kept", "new_project")
"""Plot outcomes that count as "given" (a firm holds the plot after the plan)."""
PERCENTILES = (10, 50, 90)


def _plan_runs(table: pd.DataFrame) -> list[Path]:
    return [
        Path(r)
        for r, s in zip(table["run"], table["status"], strict=True)
        if has_plan(parse_status(s))
    ]


def firm_frequencies(table: pd.DataFrame) -> pd.DataFrame:
    """Per firm: points with a plan, times served and the share (``frequency``)."""
    runs = _plan_runs(table)
    frames = [
        pd.read_parquet(r / "firms.parquet", columns=["firm_id", "name", "kind", "served"])
        for r in runs
    ]
    if not frames:
        return pd.DataFrame(columns=["firm_id", "name", "kind", "points", "served", "frequency"])
    allf = pd.concat(frames, ignore_index=True)
    allf["served"] = allf["served"].astype(bool)
    out = (
        allf.groupby(["firm_id", "name", "kind"], dropna=False, sort=False)["served"]
        .agg(points="size", served="sum")
        .reset_index()
    )
    out["frequency"] = out["served"] / out["points"]
    out["status"] = np.where(out["kind"] == "applicant", "admitted", "kept")
    return out


def plot_frequencies(table: pd.DataFrame) -> pd.DataFrame:
    """Per plot: points with a plan, times given to a firm and the share (``frequency``)."""
    runs = _plan_runs(table)
    frames = [
        pd.read_parquet(r / "plots.parquet", columns=["plot_id", "zone_id", "outcome"])
        for r in runs
    ]
    if not frames:
        return pd.DataFrame(columns=["plot_id", "zone_id", "points", "given", "frequency"])
    allp = pd.concat(frames, ignore_index=True)
    allp["given"] = allp["outcome"].isin(GIVEN_OUTCOMES)
    out = (
        allp.groupby(["plot_id", "zone_id"], sort=False)["given"]
        .agg(points="size", given="sum")
        .reset_index()
    )
    out["frequency"] = out["given"] / out["points"]
    return out


def kpi_percentiles(table: pd.DataFrame) -> pd.DataFrame:
    """Per KPI (and the objective): P10, P50, P90 over the points with a plan."""
    plan = [has_plan(parse_status(s)) for s in table["status"]]
    rows = []
    for k in ("objective", *KPI_KEYS):
        if k not in table:
            continue
        v = pd.to_numeric(table.loc[plan, k], errors="coerce").dropna().to_numpy(dtype=float)
        pct = np.percentile(v, PERCENTILES) if len(v) else [np.nan] * len(PERCENTILES)
        rows.append(
            {
                "kpi": k,
                "points": len(v),
                **{f"p{p}": q for p, q in zip(PERCENTILES, pct, strict=True)},
            }
        )
    return pd.DataFrame(rows)


def plots_layer(case: Any, plots: pd.DataFrame) -> Any:
    """Return the case's plot polygons with ``selection_frequency`` (a GeoDataFrame)."""
    geo = case.plots[["plot_id", "geometry"]].copy()
    geo["plot_id"] = geo["plot_id"].astype(str)
    freq = plots.set_index(plots["plot_id"].astype(str))
    geo["zone_id"] = geo["plot_id"].map(freq["zone_id"])
    geo["points"] = geo["plot_id"].map(freq["points"]).fillna(0).astype(int)
    geo["selection_frequency"] = geo["plot_id"].map(freq["frequency"]).astype(float)
    return geo


def write_robustness(folder: Path, table: pd.DataFrame, case: Any) -> dict[str, Path]:
    """Write the robustness tables and the plots layer into a sweep folder; return the paths."""
    folder = Path(folder)
    firms = firm_frequencies(table)
    plots = plot_frequencies(table)
    kpis = kpi_percentiles(table)
    out = {
        "firms": folder / "robustness_firms.csv",
        "plots": folder / "robustness_plots.csv",
        "kpis": folder / "robustness_kpis.csv",
    }
    firms.to_csv(out["firms"], index=False, encoding="utf-8")
    plots.to_csv(out["plots"], index=False, encoding="utf-8")
    kpis.to_csv(out["kpis"], index=False, encoding="utf-8")
    if getattr(case, "plots", None) is not None and "geometry" in case.plots:
        layer = plots_layer(case, plots)
        gpkg = folder / "robustness_plots.gpkg"
        gpkg.unlink(missing_ok=True)
        layer.to_file(gpkg, layer="plots_selection_frequency", driver="GPKG")
        geojson = folder / "robustness_plots.geojson"
        geojson.unlink(missing_ok=True)
        layer.to_crs("EPSG:4326").to_file(geojson, driver="GeoJSON")
        out["gpkg"], out["geojson"] = gpkg, geojson
    return out
