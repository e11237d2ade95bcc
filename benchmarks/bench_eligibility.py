"""Benchmark: plot overlays (1,000,000 plots) and candidate generation (1,000 x 20,000).

1. ``plot_overlays`` for 1,000,000 plots (a 1000 × 1000 grid of 100 m × 80 m
   plots) against 500 red-line polygons (overlapping, irregular) and 300
   control units (a Voronoi tiling). Target ≤ 5 s. Baseline, same run: the
   naive vectorised overlay (``shapely.intersection`` of every plot with the
   whole dissolved red line and with every unit whose box it meets), timed on
   a 50,000-plot sample and scaled ×20.
2. ``build_candidates`` for 1,000 applicants × 20,000 plots (10 zones, 60 %
   vacant or idle, bundles of up to 3 plots), overlays precomputed. Target
   ≤ 5 s. Baseline: one dense reason-mask pass over all 20 M (firm, plot)
   pairs (``Candidates.mask``), the least a non-factorised engine must do.

Usage: ``python benchmarks/bench_eligibility.py [n_side] [n_plots_2]``.
"""

from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from allocator.case.schema import CASE_CRS
from allocator.eligibility import EligibilityParams, build_candidates, plot_overlays
from allocator.units import M2_PER_MU

N_SIDE = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
N_PLOTS_2 = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
TARGET_S = 5.0
X0, Y0 = 400_000.0, 3_200_000.0


def blobs(rng, n, extent, r_lo, r_hi):
    """Irregular polygons: noisy circles of 24 vertices."""
    cx = rng.uniform(extent[0], extent[2], n)
    cy = rng.uniform(extent[1], extent[3], n)
    ang = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    out = []
    for x, y in zip(cx, cy, strict=True):
        r = rng.uniform(r_lo, r_hi) * rng.uniform(0.7, 1.3, len(ang))
        out.append(shapely.Polygon(np.column_stack([x + r * np.cos(ang), y + r * np.sin(ang)])))
    return shapely.make_valid(np.array(out, dtype=object))


def units_tiling(rng, n, extent):
    pts = shapely.multipoints(rng.uniform(extent[:2], extent[2:], (n, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=shapely.box(*extent)))
    return shapely.intersection(cells, shapely.box(*extent))


def big_case(n_side, rng):
    w, h = 100.0, 80.0
    xs, ys = np.meshgrid(np.arange(n_side) * w + X0, np.arange(n_side) * h + Y0)
    xs, ys = xs.ravel(), ys.ravel()
    extent = (X0, Y0, X0 + n_side * w, Y0 + n_side * h)
    n_zones = 10
    zone_w = (extent[2] - extent[0]) / n_zones
    zone_of = np.minimum(((xs - X0) // zone_w).astype(int), n_zones - 1)
    plots = gpd.GeoDataFrame(
        {
            "plot_id": np.char.add("P", np.arange(len(xs)).astype(str)).astype(object),
            "zone_id": np.char.add("Z", zone_of.astype(str)).astype(object),
        },
        geometry=shapely.box(xs, ys, xs + w, ys + h),
        crs=CASE_CRS,
    )
    zones = gpd.GeoDataFrame(
        {"zone_id": [f"Z{k}" for k in range(n_zones)]},
        geometry=[
            shapely.box(X0 + k * zone_w, extent[1], X0 + (k + 1) * zone_w, extent[3])
            for k in range(n_zones)
        ],
        crs=CASE_CRS,
    )
    scale = n_side / 1000
    red = gpd.GeoDataFrame(
        {"redline_id": [f"R{k}" for k in range(500)]},
        geometry=blobs(rng, 500, extent, 100 * scale, 800 * scale),
        crs=CASE_CRS,
    )
    cells = units_tiling(rng, 300, extent)
    units = gpd.GeoDataFrame(
        {
            "unit_id": [f"U{k:03d}" for k in range(len(cells))],
            "category": rng.choice(["key_control", "general", "priority_protection"], len(cells)),
        },
        geometry=cells,
        crs=CASE_CRS,
    )
    return SimpleNamespace(plots=plots, zones=zones, redline=red, control_units=units)


def naive_overlay_seconds(case, sample=50_000):
    """Naive vectorised overlay on a sample, scaled to the full plot count."""
    geoms = np.asarray(case.plots.geometry.array, dtype=object)
    idx = np.linspace(0, len(geoms) - 1, min(sample, len(geoms))).astype(int)
    sub = geoms[idx]
    t0 = time.perf_counter()
    red = shapely.union_all(np.asarray(case.redline.geometry.array, dtype=object))
    shapely.area(shapely.intersection(sub, red))
    ugeoms = np.asarray(case.control_units.geometry.array, dtype=object)
    i, j = shapely.STRtree(ugeoms).query(sub)  # bounding boxes only
    shapely.area(shapely.intersection(sub[i], ugeoms[j]))
    return (time.perf_counter() - t0) * len(geoms) / len(sub)


def candidate_case(n_plots, rng):
    side = int(np.ceil(np.sqrt(n_plots)))
    # plots of varying width along each row: 40–160 m wide, 100 m deep (6–24 mu)
    widths = rng.uniform(40, 160, (side, side))
    xs = np.cumsum(widths, axis=1) - widths
    ys = np.repeat(np.arange(side)[:, None] * 100.0, side, axis=1)
    xs, ys, widths = xs.ravel()[:n_plots], ys.ravel()[:n_plots], widths.ravel()[:n_plots]
    xs, ys = xs + X0, ys + Y0
    extent = (X0, Y0, X0 + float(xs.max() - X0 + 200), Y0 + side * 100.0)
    n_zones = 10
    band = (extent[3] - extent[1]) / n_zones
    zone_of = np.minimum(((ys - Y0) // band).astype(int), n_zones - 1)
    geoms = shapely.box(xs, ys, xs + widths, ys + 100.0)
    status = rng.choice(["vacant", "idle", "occupied"], n_plots, p=[0.4, 0.2, 0.4])
    plots = gpd.GeoDataFrame(
        {
            "plot_id": [f"P{k:05d}" for k in range(n_plots)],
            "zone_id": [f"Z{z}" for z in zone_of],
            "land_use": rng.choice(["M1", "M0", "W", "RD", "B", "MIX"], n_plots),
            "status": status,
            "occupant_id": [f"F{k}" if s == "occupied" else None for k, s in enumerate(status)],
            "area_mu": shapely.area(geoms) / M2_PER_MU,
        },
        geometry=geoms,
        crs=CASE_CRS,
    )
    zones = gpd.GeoDataFrame(
        {"zone_id": [f"Z{k}" for k in range(n_zones)]},
        geometry=[
            shapely.box(extent[0], extent[1] + k * band, extent[2], extent[1] + (k + 1) * band)
            for k in range(n_zones)
        ],
        crs=CASE_CRS,
    )
    red = gpd.GeoDataFrame(
        {"redline_id": [f"R{k}" for k in range(50)]},
        geometry=blobs(rng, 50, extent, 50, 300),
        crs=CASE_CRS,
    )
    cells = units_tiling(rng, 30, extent)
    units = gpd.GeoDataFrame(
        {
            "unit_id": [f"U{k:02d}" for k in range(len(cells))],
            "category": rng.choice(["key_control", "general", "priority_protection"], len(cells)),
        },
        geometry=cells,
        crs=CASE_CRS,
    )
    codes = [f"C{d}{k}" for d in range(13, 44) for k in (11, 21)] + [
        "G5932",
        "G5960",
        "F5121",
        "M7320",
        "I6510",
    ]
    n_f = 1000
    cz = [
        ";".join(sorted(rng.choice([f"Z{k}" for k in range(n_zones)], rng.integers(1, 4), False)))
        for _ in range(n_f)
    ]
    lmin = rng.uniform(5, 60, n_f)
    firms = pd.DataFrame(
        {
            "firm_id": [f"A{k:04d}" for k in range(n_f)],
            "kind": "applicant",
            "industry": rng.choice(codes, n_f),
            "candidate_zones": cz,
            "land_min_mu": lmin,
            "land_max_mu": lmin * rng.uniform(1.2, 2.0, n_f),
        }
    )
    access = pd.DataFrame(
        {
            "scope": ["category", "category", "category", "category", "unit", "unit"],
            "scope_id": ["priority_protection", "general", "general", "key_control", "U01", "U02"],
            "industry_prefix": ["C", "C25", "C26", "C2614", "C17", "C39"],
            "rule": ["prohibit", "prohibit", "prohibit", "restrict", "prohibit", "prohibit"],
            "note": None,
        }
    )
    land_use_rules = pd.DataFrame(
        {
            "land_use": ["M1", "M0", "M0", "W", "W", "RD", "B", "B", "MIX", "MIX"],
            "industry_prefix": ["C", "C39", "M73", "G59", "F51", "M73", "F51", "I65", "C", "G"],
        }
    )
    catalogue = pd.DataFrame(
        {"zone_id": ["Z0", "Z1"], "industry_prefix": ["C39", "G59"], "priority": [1, 1]}
    )
    return SimpleNamespace(
        plots=plots,
        zones=zones,
        redline=red,
        control_units=units,
        firms=firms,
        applicants=firms,
        access_rules=access,
        land_use_rules=land_use_rules,
        catalogue=catalogue,
    )


def timed(fn):
    """Return (wall seconds, CPU seconds of this process, result)."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def main() -> None:
    rng = np.random.default_rng(20261128)
    rows = []

    t0 = time.perf_counter()
    case = big_case(N_SIDE, rng)
    print(f"built {len(case.plots):,} plots in {time.perf_counter() - t0:.1f} s (not timed)")
    t_nodist = timed(lambda: plot_overlays(case, distance_cap_m=0.0))
    t_ov = timed(lambda: plot_overlays(case))
    ov = t_ov[2]
    t_buf = timed(lambda: plot_overlays(case, buffer_m=200.0))
    t_2km = timed(lambda: plot_overlays(case, distance_cap_m=2000.0))
    base = naive_overlay_seconds(case)
    n_red = int((ov["redline_share"] > 0).sum())
    n_multi = int(ov["unit_ids"].str.contains(";", regex=False).sum())
    rows += [
        ("overlays (default: distances to 500 m)", len(ov), t_ov, TARGET_S),
        ("overlays, distances to 2 km", len(ov), t_2km, None),
        ("overlays, no distance search", len(ov), t_nodist, None),
        ("overlays, 200 m buffer", len(ov), t_buf, None),
        ("baseline: naive intersection (x20 sample)", len(ov), (base, base, None), None),
    ]
    print(f"plots touching the red line: {n_red:,}; plots in >= 2 units: {n_multi:,}")

    cc = candidate_case(N_PLOTS_2, rng)
    t_ov2 = timed(lambda: plot_overlays(cc))
    t_c = timed(lambda: build_candidates(cc, EligibilityParams(), overlays=t_ov2[2]))
    cands = t_c[2]
    t_mask = timed(cands.mask)
    n_b = cands.parcels["n_plots"].value_counts().sort_index().to_dict()
    print(
        f"candidates: {len(cands.parcels):,} parcels {n_b}, {len(cands.pairs):,} pairs, "
        f"{len(cands.firm_ids):,} applicants x {len(cands.plot_ids):,} plots"
    )
    rows += [
        ("overlays for the candidate case", len(cands.plot_ids), t_ov2, None),
        ("build_candidates (1,000 applicants, k=3)", len(cands.plot_ids), t_c, TARGET_S),
        ("baseline: dense reason mask, all pairs", len(cands.plot_ids), t_mask, None),
    ]

    print()
    print(f"{'step':<44} {'plots':>10} {'wall s':>8} {'CPU s':>8} {'target':>7}")
    for name, n, (wall, cpu, _), target in rows:
        tgt = f"{target:.1f}" if target else ""
        print(f"{name:<44} {n:>10,} {wall:>8.2f} {cpu:>8.2f} {tgt:>7}")
    print(
        f"load average (1 min) during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    t_ov, t_c, t_mask = t_ov[0], t_c[0], t_mask[0]
    print(f"overlays / naive baseline: {t_ov / base:.2f}")
    print(f"candidates / dense-mask baseline: {t_c / t_mask:.2f}")


if __name__ == "__main__":
    main()
