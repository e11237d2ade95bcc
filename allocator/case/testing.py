"""A tiny hand-made case for tests: two zones, nine plots, six firms.

Geometry is real EPSG:4549 around 杭州综合保税区 (下沙, 120.33E 30.30N) and
宁波梅山综合保税区 (121.97E 29.78N); every number is easy to check by hand.
Layout (plots are 300 m × 200 m = 90 mu; each zone is 1.5 km × 1 km = 2,250 mu):

- Z01 Hangzhou: plots P01–P05; F001 on P01 (IC design), F002 on P02 (biomedicine),
  P03 idle, P04/P05 vacant. Control unit U01 (key_control) covers Z01.
- Z02 Ningbo Meishan: plots P06–P09; F003 on P06 (logistics), F004 on P07
  (chemicals C2614, in a general unit), P08/P09 vacant; red line R01 (水源保护)
  covers the east half of P09. Control unit U02 (general) covers Z02.
- Applicants A001 (IC, candidate Z01;Z02, 40–90 mu) and A002 (logistics,
  locked on P08, candidate Z02).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from allocator.case.io import build_case
from allocator.case.model import Case
from allocator.case.schema import CASE_CRS
from allocator.errors import ProblemList

ZONE_CENTRES = {"Z01": (120.33, 30.30), "Z02": (121.97, 29.78)}
"""Zone centres in lon/lat (CGCS2000 ≈ WGS84)."""
PLOT_W_M, PLOT_H_M = 300.0, 200.0
ZONE_W_M, ZONE_H_M = 1500.0, 1000.0


def _centre_4549(zone_id: str) -> tuple[float, float]:
    lon, lat = ZONE_CENTRES[zone_id]
    tr = Transformer.from_crs("EPSG:4490", CASE_CRS, always_xy=True)
    x, y = tr.transform(lon, lat)
    return round(x), round(y)


def _box(x0: float, y0: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(x0, y0, x0 + w, y0 + h)


def tiny_frames() -> dict[str, pd.DataFrame]:
    """Return the raw layers and tables of the tiny case (before coercion)."""
    zones_geom, plots_rows = [], []
    # Plot grid: row of plots along the zone's southern edge, 100 m in from the corner.
    layout = {"Z01": ["P01", "P02", "P03", "P04", "P05"], "Z02": ["P06", "P07", "P08", "P09"]}
    corners = {}
    for zid, plot_ids in layout.items():
        cx, cy = _centre_4549(zid)
        x0, y0 = cx - ZONE_W_M / 2, cy - ZONE_H_M / 2
        corners[zid] = (x0, y0)
        zones_geom.append(shapely.MultiPolygon([_box(x0, y0, ZONE_W_M, ZONE_H_M)]))
        for k, pid in enumerate(plot_ids):
            px = x0 + (k % 4) * PLOT_W_M
            py = y0 + (k // 4) * PLOT_H_M
            plots_rows.append((pid, zid, _box(px, py, PLOT_W_M, PLOT_H_M)))
    zones = gpd.GeoDataFrame(
        {
            "zone_id": ["Z01", "Z02"],
            "name": ["杭州综合保税区", "宁波梅山综合保税区"],
            "name_en": ["Hangzhou CBZ", "Ningbo Meishan CBZ"],
            "city": ["杭州市", "宁波市"],
            "county": ["钱塘区", "北仑区"],
            "approved_km2": [1.5, 1.5],
            "electricity_cap_mwh": [60_000.0, 40_000.0],
            "energy_cap_tce": [20_000.0, 15_000.0],
            "intensity_cap_tce_per_wan": [0.3, None],
            "positioning": ["加工制造;研发设计;销售服务", "物流分拨;销售服务"],
        },
        geometry=zones_geom,
        crs=CASE_CRS,
    )
    plot_info = {
        # plot: land_use, status, occupant, far, far_max
        "P01": ("M1", "occupied", "F001", 1.6, 2.5),
        "P02": ("M1", "occupied", "F002", 1.2, 2.0),
        "P03": ("M0", "idle", None, 0.8, 3.0),
        "P04": ("M1", "vacant", None, None, 2.5),
        "P05": ("MIX", "vacant", None, None, 3.0),
        "P06": ("W", "occupied", "F003", 1.0, 2.0),
        "P07": ("M1", "occupied", "F004", 0.9, 1.5),
        "P08": ("W", "vacant", None, None, 2.0),
        "P09": ("M1", "vacant", None, None, 2.0),
    }
    plots = gpd.GeoDataFrame(
        {
            "plot_id": [r[0] for r in plots_rows],
            "zone_id": [r[1] for r in plots_rows],
            "land_use": [plot_info[r[0]][0] for r in plots_rows],
            "status": [plot_info[r[0]][1] for r in plots_rows],
            "occupant_id": [plot_info[r[0]][2] for r in plots_rows],
            "far": [plot_info[r[0]][3] for r in plots_rows],
            "far_max": [plot_info[r[0]][4] for r in plots_rows],
        },
        geometry=[r[2] for r in plots_rows],
        crs=CASE_CRS,
    )
    # Red line over the east half of P09 (Z02, 4th plot, k=3).
    x0, y0 = corners["Z02"]
    red = _box(x0 + 3 * PLOT_W_M + PLOT_W_M / 2, y0 - 50, 400, 150)
    redline = gpd.GeoDataFrame(
        {"redline_id": ["R01"], "name": ["梅山水库水源保护区"], "kind": ["水源保护"]},
        geometry=[shapely.MultiPolygon([red])],
        crs=CASE_CRS,
    )
    units = gpd.GeoDataFrame(
        {
            "unit_id": ["U01", "U02"],
            "name": ["钱塘区产业集聚重点管控单元", "北仑区一般管控单元"],
            "category": ["key_control", "general"],
            "cap_cod_t": [50.0, 30.0],
            "cap_nh3n_t": [5.0, 3.0],
            "cap_so2_t": [20.0, 10.0],
            "cap_nox_t": [40.0, None],
        },
        geometry=[
            shapely.MultiPolygon([shapely.box(*np.add(g.bounds, (-200, -200, 200, 200)))])
            for g in zones.geometry
        ],
        crs=CASE_CRS,
    )
    nan = np.nan
    firms = pd.DataFrame(
        [
            # firm_id, name, credit_code, kind, zone_id, candidate_zones, industry, is_service,
            # tax, va, revenue, rd, employees, energy, elec, cod, nh3n, so2, nox,
            # land_mu, land_min, land_max, energy_req, locked, locked_plots, founded, uc
            ("F001", "杭州芯元微电子有限公司", "91330100716105852F", "existing", "Z01", None,
             "C3973", False, 2700.0, 15000.0, 60000.0, 2400.0, 420.0, 3000.0, 18000.0,
             1.0, 0.1, 0.5, 1.2, 90.0, nan, nan, nan, False, None, 2012, False),
            ("F002", "杭州康源生物医药有限公司", "91330101MA2B3C4D5X", "existing", "Z01", None,
             "C2710", False, 1350.0, 9000.0, 30000.0, 1500.0, 260.0, 4500.0, 15000.0,
             3.0, 0.3, 1.0, 2.0, 90.0, nan, nan, nan, False, None, 2015, False),
            ("F003", "宁波梅港供应链管理有限公司", "91330206MA2C5E6F7Y", "existing", "Z02", None,
             "G5932", True, 900.0, 3000.0, 25000.0, nan, 120.0, 600.0, 4000.0,
             nan, nan, nan, nan, 90.0, nan, nan, nan, False, None, 2016, False),
            ("F004", "宁波甬化新材料有限公司", "91330206MA2D7G8H9L", "existing", "Z02", None,
             "C2614", False, 450.0, 4000.0, 20000.0, 200.0, 150.0, 9000.0, 12000.0,
             6.0, 0.8, 4.0, 6.0, 90.0, nan, nan, nan, False, None, 2009, False),
            ("A001", "浙江晶智半导体科技有限公司", "91330100MA2E9J1K2M", "applicant", None,
             "Z01;Z02", "C3973", False, 3600.0, 16200.0, 54000.0, 2700.0, 300.0, 3600.0,
             20000.0, 0.8, 0.1, 0.4, 1.0, nan, 40.0, 90.0, 3000.0, False, None, nan, False),
            ("A002", "梅山国际冷链物流有限公司", "91330206MA2F1L2M3N", "applicant", None,
             "Z02", "G5960", True, 1200.0, 3600.0, 30000.0, nan, 150.0, 800.0, 5000.0,
             nan, nan, nan, nan, nan, 80.0, 90.0, nan, True, "P08", nan, False),
        ],
        columns=[
            "firm_id", "name", "credit_code", "kind", "zone_id", "candidate_zones", "industry",
            "is_service", "tax_wan", "value_added_wan", "revenue_wan", "rd_wan", "employees",
            "energy_tce", "electricity_mwh", "cod_t", "nh3n_t", "so2_t", "nox_t", "land_mu",
            "land_min_mu", "land_max_mu", "energy_req_tce", "locked", "locked_plots",
            "founded_year", "under_construction",
        ],
    )  # fmt: skip
    firms["credit_code"] = [_fix_check(c) for c in firms["credit_code"]]
    class_history = pd.DataFrame(
        {
            "firm_id": ["F001", "F001", "F002", "F002", "F004", "F004", "F004"],
            "year": [2022, 2023, 2022, 2023, 2021, 2022, 2023],
            "class": ["A", "A", "B", "B", "D", "D", "D"],
        }
    )
    access_rules = pd.DataFrame(
        {
            "scope": ["category", "category", "category", "unit"],
            "scope_id": ["priority_protection", "general", "general", "U01"],
            "industry_prefix": ["C", "C25", "C26", "C2614"],
            "rule": ["prohibit", "prohibit", "prohibit", "restrict"],
            "note": [
                "优先保护单元禁止新建工业项目",
                "一般管控单元禁止新建石油加工项目",
                "一般管控单元禁止新建化工项目",
                "有机化学原料制造限制类",
            ],
        }
    )
    catalogue = pd.DataFrame(
        {
            "zone_id": ["Z01", "Z01", "Z02", "Z02"],
            "industry_prefix": ["C39", "C27", "G59", "F51"],
            "priority": [1, 2, 1, 2],
        }
    )
    land_use_rules = pd.DataFrame(
        {
            "land_use": ["M1", "M0", "M0", "W", "RD", "B", "B", "MIX", "MIX"],
            "industry_prefix": ["C", "C39", "M73", "G59", "M73", "F51", "F52", "C39", "F51"],
        }
    )
    county_lists = pd.DataFrame(
        {
            "county": ["淳安县", "柯城区", "嵊泗县"],
            "city": ["杭州市", "衢州市", "舟山市"],
            "list_name": ["山区26县", "山区26县", "山区海岛县"],
            "valid_from": ["2021-07-01", "2021-07-01", "2024-08-01"],
            "valid_to": [None, "2024-08-01", None],
        }
    )
    return {
        "zones": zones,
        "plots": plots,
        "redline": redline,
        "control_units": units,
        "firms": firms,
        "class_history": class_history,
        "access_rules": access_rules,
        "catalogue": catalogue,
        "land_use_rules": land_use_rules,
        "county_lists": county_lists,
    }


def _fix_check(code: str) -> str:
    """Replace the last character of a made-up code by its GB 32100 check character."""
    from allocator.case.validate import credit_check_char

    return code[:17] + credit_check_char(code[:17])


def tiny_case() -> Case:
    """Return the tiny, valid two-zone case (EPSG:4549) described in the module docstring."""
    problems = ProblemList()
    case = build_case(tiny_frames(), problems)
    problems.raise_if_errors("tiny_case")
    assert case is not None
    return case
