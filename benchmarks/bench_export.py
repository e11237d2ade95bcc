"""Benchmark: export one run to every format (target: the whole export ≤ 5 s on 2 cores).

Solves ``scenarios/baseline.toml`` of the sample case itself (5 % gap: a plan
of the full size in seconds; never a folder of ``runs/``, so a stale or
infeasible run there cannot decide the figure). When the sample case is
missing or has no plan, it builds a synthetic run of the sample case's size
(13 zones × 120 plots, 11 city outlines of 2,000 vertices each) on the tiny
case's firms, so the figure is still meaningful.

Prints one row per format (seconds, files, MB), then the whole export
(``--format zip``: every format once, each map drawn once, packed into the
bundle) with its wall time, the CPU time of this process and of the export's
worker processes, the number of workers and the machine's load averages
(as ``uptime`` shows them, taken just before; wall time on a shared
machine is not a property of the code: compare the CPU figures, and the ratio
to a baseline measured in the same run: writing the plot layer once as a plain
GeoPackage with pyogrio). Exits 0 whatever the time; the test suite enforces
its own bound.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_S = 5.0
FORMATS = (
    "brief", "gpkg", "geojson", "shp", "parquet", "xlsx", "png", "pdf", "html", "report", "zip"
)  # fmt: skip


def sample_run(work: Path) -> Path | None:
    """Solve the sample case's baseline into ``work``; None when impossible or without a plan.

    Never reads ``runs/``: a stale or infeasible run there must not decide the figure.
    """
    sample = ROOT / "gis_data" / "zhejiang_sample.gpkg"
    if not sample.exists():
        return None
    try:
        from allocator.solve import solve

        result = solve(
            ROOT / "scenarios" / "baseline.toml",
            out_dir=work / "runs",
            time_limit_s=60,
            rel_gap=0.05,
        )
    except Exception as exc:  # noqa: BLE001 - fall back to the synthetic run
        print(f"(could not solve the sample baseline: {type(exc).__name__}: {exc})")
        return None
    return result.run_path if result.has_solution else None


def synthetic_run(work: Path, n_zones: int = 13, per_zone: int = 120) -> Path:
    """Write a case GeoPackage and a run folder of the sample case's size; return the run."""
    from pyproj import Transformer

    from allocator.case import save_case
    from allocator.case.schema import CASE_CRS
    from allocator.case.testing import tiny_case
    from allocator.runs import Result, write_run

    rng = np.random.default_rng(7)
    case = tiny_case()
    tr = Transformer.from_crs("EPSG:4490", CASE_CRS, always_xy=True)
    lons = np.linspace(119.0, 122.0, n_zones)
    lats = 28.5 + 2.0 * rng.random(n_zones)
    lons[:2], lats[:2] = (120.33, 121.97), (30.30, 29.78)
    zone_rows, zone_geoms, plot_rows, plot_geoms = [], [], [], []
    old_z = case.zones.set_index("zone_id")
    side = int(np.ceil(np.sqrt(per_zone)))
    for i in range(n_zones):
        zid = f"Z{i + 1:02d}"
        x, y = tr.transform(lons[i], lats[i])
        x0, y0 = x - side * 60, y - side * 60
        zone_geoms.append(
            shapely.MultiPolygon([shapely.box(x0, y0, x0 + side * 120, y0 + side * 120)])
        )
        base = old_z.loc[zid] if zid in old_z.index else old_z.iloc[0]
        zone_rows.append({**base.drop("geometry").to_dict(), "zone_id": zid,
                          "name": f"综合保税区{i + 1:02d}"})  # fmt: skip
        for k in range(per_zone):
            px, py = x0 + (k % side) * 120, y0 + (k // side) * 120
            plot_rows.append({"plot_id": f"{zid}-P{k + 1:03d}", "zone_id": zid, "land_use": "M1",
                              "status": "vacant", "occupant_id": None, "far": np.nan,
                              "far_max": 2.0})  # fmt: skip
            plot_geoms.append(shapely.box(px + 5, py + 5, px + 115, py + 115))
    zones = gpd.GeoDataFrame(pd.DataFrame(zone_rows), geometry=zone_geoms, crs=CASE_CRS)
    plots = gpd.GeoDataFrame(pd.DataFrame(plot_rows), geometry=plot_geoms, crs=CASE_CRS)
    for fid, pid in (("F001", "Z01-P001"), ("F002", "Z01-P002"), ("F003", "Z02-P001"),
                     ("F004", "Z02-P002")):  # fmt: skip
        plots.loc[plots["plot_id"] == pid, ["status", "occupant_id"]] = ["occupied", fid]
    case.zones, case.plots = zones, plots
    case.firms.loc[case.firms["firm_id"] == "A002", "locked_plots"] = "Z02-P003"
    case.firms.loc[case.firms["firm_id"] == "A002", "locked"] = False
    t = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
    admin_geoms, admin_rows = [], []
    for j in range(11):
        cx, cy = tr.transform(118.5 + 0.4 * j, 28.0 + 0.3 * (j % 4))
        r = 30_000 * (1 + 0.1 * np.sin(7 * t + j))
        admin_geoms.append(
            shapely.MultiPolygon([shapely.Polygon(np.c_[cx + r * np.cos(t), cy + r * np.sin(t)])])
        )
        admin_rows.append({"admin_id": f"C{j:02d}", "name": f"城市{j:02d}", "level": "city",
                           "city": f"城市{j:02d}", "adcode": f"33{j:02d}00"})  # fmt: skip
    case.admin = gpd.GeoDataFrame(pd.DataFrame(admin_rows), geometry=admin_geoms, crs=CASE_CRS)
    case_path = save_case(case, work / "synthetic.gpkg")

    outcomes = np.array(["kept", "new_project", "freed", "vacant", "excluded_redline"])
    firm_ids = case.firms["firm_id"].to_numpy()
    n = len(plots)
    oc = outcomes[rng.integers(0, 5, n)]
    firm_after = np.where(np.isin(oc, ["kept", "new_project"]), firm_ids[rng.integers(0, 6, n)],
                          None)  # fmt: skip
    run_plots = pd.DataFrame({
        "plot_id": plots["plot_id"], "zone_id": plots["zone_id"], "land_use": "M1",
        "area_mu": plots.area / 666.6667, "status_before": plots["status"],
        "occupant_before": plots["occupant_id"], "firm_id_after": firm_after, "outcome": oc,
        "class_after": np.where(firm_after != None, "B", None),  # noqa: E711
        "redline_share": np.where(oc == "excluded_redline", 0.5, 0.0),
    })  # fmt: skip
    f = case.firms
    run_firms = pd.DataFrame({
        "firm_id": f["firm_id"], "name": f["name"], "kind": f["kind"], "zone_id": "Z01",
        "class": "B", "served": True, "parcel_id": None, "land_mu": 20.0,
        "electricity_mwh": f["electricity_mwh"], "energy_tce": f["energy_tce"],
        "cod_t": 1.0, "nh3n_t": 0.1, "so2_t": 0.5, "nox_t": 1.0,
        "value_added_wan": f["value_added_wan"], "tax_wan": f["tax_wan"],
        "request_met_share": 1.0, "reason": "stays",
    })  # fmt: skip
    zt = zones[["zone_id", "name", "electricity_cap_mwh", "energy_cap_tce"]].copy()
    for col in (
        "land_used_mu",
        "land_free_mu",
        "electricity_mwh",
        "energy_tce",
        "tax_per_mu_before",
        "tax_per_mu_after",
        "va_per_mu_before",
        "va_per_mu_after",
    ):
        zt[col] = rng.random(len(zt)) * 1000
    marg = pd.DataFrame({"row": [f"zone_energy[{z}]" for z in zt["zone_id"]],
                         "family": "zone_energy", "zone_id": zt["zone_id"], "unit_id": None,
                         "value": rng.random(len(zt)) * 10, "unit": "万元/tce", "slack": 0.0,
                         "binding": rng.random(len(zt)) < 0.5})  # fmt: skip
    result = Result(
        status="optimal", objective=1.0, best_bound=1.0, gap=0.0,
        firms=run_firms, zones=pd.DataFrame(zt), plots=run_plots, marginals=marg,
        diagnosis={"presolve": []}, scenario_name="baseline_synthetic",
        scenario_toml=f'name = "baseline_synthetic"\ncase = "{case_path.as_posix()}"\n',
        case_path=str(case_path), solver="highs",
    )  # fmt: skip
    return write_run(result, work / "runs")


def cpu_s() -> float:
    """CPU seconds of this process and of its finished children (the export's workers)."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    import os

    import pyogrio

    from allocator.export import export, workers
    from allocator.export.data import collect
    from allocator.runs import load_run

    work = Path(tempfile.mkdtemp(prefix="bench_export-"))
    try:
        run_path = sample_run(work)
        kind = "sample baseline"
        if run_path is None:
            run_path = synthetic_run(work)
            kind = "synthetic (sample size)"
        run = load_run(run_path)
        t0 = time.perf_counter()
        case = run.load_case()
        load_s = time.perf_counter() - t0
        data = collect(run, case=case)
        n_plots = len(data.layers["allocation"])
        t0 = time.perf_counter()
        pyogrio.write_dataframe(data.layers["allocation"], work / "baseline.gpkg", driver="GPKG")
        base_s = time.perf_counter() - t0

        print(f"export benchmark — run: {run.path.name} ({kind}), {n_plots} plots, "
              f"{len(data.zone_ids)} zones")  # fmt: skip
        print(f"{'format':<10}{'wall s':>9}{'CPU s':>9}{'files':>7}{'MB':>8}")
        for fmt in FORMATS[:-1]:
            t0, c0 = time.perf_counter(), cpu_s()
            files = export(run, fmt, work / "out", case=case)
            s, c = time.perf_counter() - t0, cpu_s() - c0
            mb = sum(p.stat().st_size for p in files) / 1e6
            print(f"{fmt:<10}{s:>9.2f}{c:>9.2f}{len(files):>7}{mb:>8.2f}")
        load_avg = os.getloadavg()
        t0, c0 = time.perf_counter(), cpu_s()
        files = export(run, "zip", work / "all", case=case)
        total, total_cpu = time.perf_counter() - t0, cpu_s() - c0
        mb = sum(p.stat().st_size for p in files) / 1e6
        print(f"{'WHOLE zip':<10}{total:>9.2f}{total_cpu:>9.2f}{len(files):>7}{mb:>8.2f}")
        print(f"whole export (every format, bundle): {total:.2f} s wall, {total_cpu:.2f} s CPU "
              f"in {workers()} worker process(es); load average (1/5/15 min) "
              f"{' '.join(f'{x:.2f}' for x in load_avg)} on {os.cpu_count()} CPUs; "
              f"case load {load_s:.2f} s (not counted)")  # fmt: skip
        print(f"baseline plain GPKG write {base_s:.3f} s: whole export = "
              f"{total / max(base_s, 1e-9):.0f}× baseline")  # fmt: skip
        verdict = "OK" if total <= TARGET_S else "over (see CPU and load above)"
        print(f"target ≤ {TARGET_S:.0f} s wall on 2 idle cores: {total:.1f} s — {verdict}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
