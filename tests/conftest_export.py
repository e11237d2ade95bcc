"""Fixtures for the export tests: the tiny case (plus an admin layer) and a hand-made run.

The run is written with :func:`allocator.runs.write_run`, so its folder follows
the run-folder contract of CONTRIBUTING.md exactly; its tables are consistent
with the tiny case (every plot, firm and zone exists there).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from allocator.case import save_case
from allocator.case.schema import CASE_CRS
from allocator.case.testing import tiny_case
from allocator.runs import Result, write_run

PLOTS = [
    # plot, zone, land_use, area, status_before, occupant_before, firm_after, outcome, class
    ("P01", "Z01", "M1", 90.0, "occupied", "F001", "F001", "kept", "A"),
    ("P02", "Z01", "M1", 90.0, "occupied", "F002", None, "freed", None),
    ("P03", "Z01", "M0", 90.0, "idle", None, "A001", "new_project", "B"),
    ("P04", "Z01", "M1", 90.0, "vacant", None, "A001", "new_project", "B"),
    ("P05", "Z01", "MIX", 90.0, "vacant", None, None, "vacant", None),
    ("P06", "Z02", "W", 90.0, "occupied", "F003", "F003", "kept", None),
    ("P07", "Z02", "M1", 90.0, "occupied", "F004", None, "freed", None),
    ("P08", "Z02", "W", 90.0, "vacant", None, "A002", "new_project", "B"),
    ("P09", "Z02", "M1", 90.0, "vacant", None, None, "excluded_redline", None),
]


def export_case():
    """The tiny case with an ``admin`` layer: one box per city around each zone."""
    case = tiny_case()
    rows, geoms = [], []
    for i, (zid, city) in enumerate((("Z01", "杭州市"), ("Z02", "宁波市"))):
        zone = case.zones.loc[case.zones["zone_id"] == zid, "geometry"].iloc[0]
        geoms.append(
            shapely.MultiPolygon([shapely.box(*np.add(zone.bounds, (-8e3, -6e3, 8e3, 6e3)))])
        )
        rows.append((f"C{i + 1}", city, "city", city, f"33{i + 1:02d}00"))
    # P01 drawn clockwise and P05 with a courtyard (hole): the GeoJSON must re-orient both
    plots = case.plots
    p01 = plots.index[plots["plot_id"] == "P01"][0]
    p05 = plots.index[plots["plot_id"] == "P05"][0]
    plots.loc[p01, "geometry"] = shapely.orient_polygons(
        plots.loc[p01, "geometry"], exterior_cw=True
    )
    g = plots.loc[p05, "geometry"]
    cx, cy = g.centroid.x, g.centroid.y
    hole = shapely.box(cx - 30, cy - 20, cx + 30, cy + 20).exterior.coords
    plots.loc[p05, "geometry"] = shapely.Polygon(g.exterior.coords, [hole])
    case.admin = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["admin_id", "name", "level", "city", "adcode"]),
        geometry=geoms,
        crs=CASE_CRS,
    )
    return case


def export_result(case_path: Path) -> Result:
    plots = pd.DataFrame(
        PLOTS,
        columns=[
            "plot_id", "zone_id", "land_use", "area_mu", "status_before", "occupant_before",
            "firm_id_after", "outcome", "class_after",
        ],
    )  # fmt: skip
    plots["redline_share"] = [0.0] * 8 + [0.5]
    firms = pd.DataFrame(
        [
            ("F001", "杭州芯元微电子有限公司", "existing", "Z01", "A", True, None, 90.0,
             19800.0, 3300.0, 1.1, 0.11, 0.55, 1.32, 16500.0, 2970.0, 1.0, "stays"),
            ("F002", "杭州康源生物医药有限公司", "existing", None, "D", False, None, 0.0,
             0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, "moved_out"),
            ("F003", "宁波梅港供应链管理有限公司", "existing", "Z02", None, True, None, 90.0,
             4000.0, 600.0, 0.0, 0.0, 0.0, 0.0, 3000.0, 900.0, 1.0, "stays"),
            ("F004", "宁波甬化新材料有限公司", "existing", None, "D", False, None, 0.0,
             0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, "moved_out"),
            ("A001", "浙江晶智半导体科技有限公司", "applicant", "Z01", "B", True, "B03", 180.0,
             20000.0, 3600.0, 0.8, 0.1, 0.4, 1.0, 16200.0, 3600.0, 1.0, "admitted"),
            ("A002", "梅山国际冷链物流有限公司", "applicant", "Z02", "B", True, "B08", 90.0,
             5000.0, 800.0, 0.0, 0.0, 0.0, 0.0, 3600.0, 1200.0, 0.9, "admitted"),
        ],
        columns=[
            "firm_id", "name", "kind", "zone_id", "class", "served", "parcel_id", "land_mu",
            "electricity_mwh", "energy_tce", "cod_t", "nh3n_t", "so2_t", "nox_t",
            "value_added_wan", "tax_wan", "request_met_share", "reason",
        ],
    )  # fmt: skip
    zones = pd.DataFrame(
        {
            "zone_id": ["Z01", "Z02"],
            "name": ["杭州综合保税区", "宁波梅山综合保税区"],
            "land_used_mu": [270.0, 180.0],
            "land_free_mu": [180.0, 90.0],
            "land_excluded_mu": [0.0, 90.0],
            "land_used_before_mu": [180.0, 180.0],
            "electricity_mwh": [39800.0, 9000.0],
            "electricity_cap_mwh": [60000.0, 40000.0],
            "energy_tce": [6900.0, 1400.0],
            "energy_cap_tce": [6900.0, 15000.0],
            "tax_per_mu_before": [22.5, 7.5],
            "tax_per_mu_after": [24.33, 11.67],
            "va_per_mu_before": [133.3, float("inf")],  # a zero denominator
            "va_per_mu_after": [121.1, 36.7],
            "tax_per_km2_before": [2700.0, 900.0],
            "tax_per_km2_after": [4380.0, 1400.0],
            "firms_before": [2, 2],
            "firms_after": [2, 2],
        }
    )
    marginals = pd.DataFrame(
        {
            "row": ["zone_energy[Z01]", "zone_energy[Z02]", "zone_electricity[Z01]"],
            "family": ["zone_energy", "zone_energy", "zone_electricity"],
            "zone_id": ["Z01", "Z02", "Z01"],
            "unit_id": [None, None, None],
            "value": [11.0, 0.0, 0.0],
            "unit": ["万元/tce", "万元/tce", "万元/MWh"],
            "slack": [0.0, 13600.0, 20200.0],
            "binding": [True, False, False],
        }
    )
    toml = (
        'name = "tiny_export"\ndescription = "导出测试"\n'
        f'case = "{case_path.as_posix()}"\n\n[objective]\nalpha_va = 1.0\nalpha_tax = 1.0\n'
        "\n[caps]\nenergy_factor = 1.0\n"
    )
    return Result(
        status="optimal",
        objective=12345.6,
        best_bound=12350.0,
        gap=0.00036,
        timings={"build": 0.1, "solve": 0.2},
        model_size={"rows": 40, "columns": 30, "binaries": 12, "nonzeros": 160},
        firms=firms,
        zones=zones,
        plots=plots,
        marginals=marginals,
        diagnosis={
            "presolve": [
                {
                    "code": "zone_land",
                    "severity": "warning",
                    "row": "zone_land[Z02]",
                    "need": 100.0,
                    "have": 90.0,
                    "unit": "亩",
                    "message_zh": "宁波梅山综保区可用地紧张",
                    "message_en": "Ningbo Meishan has little free land",
                }
            ]
        },
        scenario_name="tiny_export",
        scenario_hash="abcdef0123456789",
        scenario_toml=toml,
        case_path=str(case_path),
        case_hash="tinyhash",
        solver="highs",
        solver_log="HiGHS log",
        created_at="2026-11-28T10:00:00+00:00",
    )


def make_export_run(folder: Path) -> Path:
    """Write the case GeoPackage and a run folder under ``folder``; return the run path."""
    folder.mkdir(parents=True, exist_ok=True)
    case_path = save_case(export_case(), folder / "tiny_export.gpkg")
    return write_run(export_result(case_path), folder / "runs")


def write_infeasible_run(
    case_path: Path, folder: Path, zone_id: str, message_zh: str, message_en: str
) -> Path:
    """Write a run without a plan whose diagnosis says ``zone_id``'s energy cap is short by
    1,200 tce (the older, untyped diagnosis layout); return its folder."""
    from allocator.diagnosis import Diagnosis

    done = export_result(case_path)
    row = {
        "row": f"zone_energy[{zone_id}]",
        "family": "zone_energy",
        "keys": [zone_id],
        "amount": 1200.0,
        "unit": "tce",
        "message_zh": message_zh,
        "message_en": message_en,
    }
    result = Result(
        status="infeasible",
        diagnosis=Diagnosis.from_json(
            {"presolve": [], "elastic": {"status": "optimal", "rows": [row]}}
        ),
        scenario_name="tiny_infeasible",
        scenario_toml=done.scenario_toml,
        case_path=done.case_path,
    )
    return write_run(result, folder)
