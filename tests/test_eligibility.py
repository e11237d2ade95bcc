"""Eligibility: overlays against brute force, each reason code by hand, touching red line."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator.case.model import Case
from allocator.case.schema import CASE_CRS
from allocator.case.testing import tiny_case
from allocator.eligibility import (
    BIT,
    REASON_CODES,
    EligibilityParams,
    build_candidates,
    check_plot,
    check_plots,
    plot_overlays,
)
from allocator.errors import CaseError
from allocator.units import M2_PER_MU

X0, Y0 = 500_000.0, 3_300_000.0  # inside EPSG:4549's area of use


def make_case(plots, redline=(), units=(), zones=None, **tables) -> Case:
    """Build a Case directly from shapely geometries (offset to X0, Y0)."""

    def move(g):
        return shapely.affinity.translate(g, X0, Y0)

    plot_rows = []
    for k, p in enumerate(plots):
        geom, attrs = (p, {}) if isinstance(p, shapely.Geometry) else p
        row = {
            "plot_id": f"P{k:02d}",
            "zone_id": "Z1",
            "land_use": "M1",
            "status": "vacant",
            "occupant_id": None,
        }
        row.update(attrs)
        row["geometry"] = move(geom)
        plot_rows.append(row)
    pl = gpd.GeoDataFrame(plot_rows, geometry="geometry", crs=CASE_CRS)
    pl["area_mu"] = pl.geometry.area / M2_PER_MU
    if zones is None:
        zones = [("Z1", shapely.box(-10_000, -10_000, 10_000, 10_000))]
    zn = gpd.GeoDataFrame(
        {"zone_id": [z for z, _ in zones], "name": [f"zone {z}" for z, _ in zones]},
        geometry=[move(g) for _, g in zones],
        crs=CASE_CRS,
    )
    zn["area_mu"] = zn.geometry.area / M2_PER_MU
    rl = gpd.GeoDataFrame(
        {"redline_id": [f"R{k}" for k in range(len(redline))]},
        geometry=[move(g) for g in redline],
        crs=CASE_CRS,
    )
    un = gpd.GeoDataFrame(
        {
            "unit_id": [u for u, _, _ in units],
            "name": [f"unit {u}" for u, _, _ in units],
            "category": [c for _, c, _ in units],
        },
        geometry=[move(g) for _, _, g in units],
        crs=CASE_CRS,
    )
    empty = pd.DataFrame()
    return Case(
        zones=zn,
        plots=pl,
        redline=rl,
        control_units=un,
        firms=tables.get("firms", pd.DataFrame({"firm_id": [], "kind": [], "industry": []})),
        class_history=empty,
        access_rules=tables.get(
            "access_rules",
            pd.DataFrame(columns=["scope", "scope_id", "industry_prefix", "rule", "note"]),
        ),
        catalogue=tables.get(
            "catalogue", pd.DataFrame(columns=["zone_id", "industry_prefix", "priority"])
        ),
        land_use_rules=tables.get(
            "land_use_rules", pd.DataFrame(columns=["land_use", "industry_prefix"])
        ),
        county_lists=empty,
    )


# ---------------------------------------------------------------- property: brute force


def brute_force(case: Case, buffer_m: float = 0.0) -> pd.DataFrame:
    """Per-plot loop with plain shapely (the reference)."""
    red = shapely.union_all(list(case.redline.geometry)) if len(case.redline) else None
    if red is not None and buffer_m > 0:
        red = red.buffer(buffer_m)
    rows = []
    for geom in case.plots.geometry:
        area = geom.area
        inter = geom.intersection(red).area if red is not None else 0.0
        units = []
        for uid, ugeom in zip(
            case.control_units["unit_id"], case.control_units.geometry, strict=True
        ):
            a = geom.intersection(ugeom).area
            if a > 0:
                units.append((uid, a))
        units.sort(key=lambda x: (-x[1], x[0]))
        rows.append(
            {
                "share": inter / area,
                "mu": inter / M2_PER_MU,
                "unit_id": units[0][0] if units else None,
                "top": units[0][1] if units else 0.0,
                "second": units[1][1] if len(units) > 1 else 0.0,
                "unit_ids": ";".join(sorted(u for u, _ in units)) if units else None,
                "dist": geom.distance(shapely.union_all(list(case.redline.geometry)))
                if len(case.redline)
                else math.nan,
            }
        )
    return pd.DataFrame(rows)


coord = st.integers(min_value=0, max_value=12).map(lambda v: v * 10.0)


@st.composite
def box(draw, lo=10.0):
    x0, y0 = draw(coord), draw(coord)
    w = draw(st.integers(1, 6)) * lo
    h = draw(st.integers(1, 6)) * lo
    return shapely.box(x0, y0, x0 + w, y0 + h)


@st.composite
def red_shape(draw):
    """A red-line polygon: box, box with a hole, circle, or a multipolygon."""
    kind = draw(st.sampled_from(["box", "hole", "circle", "multi"]))
    b = draw(box())
    if kind == "hole":
        shell = b.buffer(20, join_style="mitre")
        return shell.difference(b)
    if kind == "circle":
        return shapely.Point(draw(coord), draw(coord)).buffer(draw(st.integers(5, 40)))
    if kind == "multi":
        other = draw(box())
        return shapely.MultiPolygon([b, shapely.box(*np.add(other.bounds, (150, 0, 150, 0)))])
    return b


@st.composite
def random_case(draw):
    plots = draw(st.lists(box(), min_size=1, max_size=12))
    # odd shapes: a plot with a hole, a triangle
    if draw(st.booleans()):
        plots.append(shapely.box(0, 0, 60, 60).difference(shapely.box(20, 20, 40, 40)))
    if draw(st.booleans()):
        plots.append(shapely.Polygon([(5, 5), (95, 15), (35, 85)]))
    reds = draw(st.lists(red_shape(), min_size=0, max_size=5))
    # control units: vertical strips of random widths (tiling), plus maybe one overlapping unit
    cuts = sorted(set(draw(st.lists(coord, min_size=1, max_size=4))) | {-100.0, 400.0})
    units = [
        (f"U{k}", "general", shapely.box(a, -100, b, 400))
        for k, (a, b) in enumerate(zip(cuts[:-1], cuts[1:], strict=True))
        if b > a
    ]
    if draw(st.booleans()):
        units.append(("UX", "key_control", draw(box(lo=20.0))))
    buffer_m = draw(st.sampled_from([0.0, 0.0, 5.0]))
    return make_case(plots, reds, units), buffer_m


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_case())
def test_overlays_match_brute_force(data):
    case, buffer_m = data
    got = plot_overlays(case, buffer_m=buffer_m, distance_cap_m=None)
    ref = brute_force(case, buffer_m)
    assert list(got.index) == list(case.plots["plot_id"])
    np.testing.assert_allclose(got["redline_share"], ref["share"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(got["redline_mu"], ref["mu"], rtol=1e-6, atol=1e-9)
    if len(case.redline):
        np.testing.assert_allclose(got["redline_distance_m"], ref["dist"], rtol=1e-6, atol=1e-9)
    assert (got["redline_share"] <= 1.0).all()
    assert list(got["unit_ids"]) == list(ref["unit_ids"])
    clear = ref["top"] - ref["second"] > 1e-9 * ref["top"].clip(lower=1.0)
    assert list(got["unit_id"][clear.to_numpy()]) == list(ref["unit_id"][clear])


def test_overlapping_redline_polygons_not_double_counted():
    plot = shapely.box(0, 0, 100, 100)
    reds = [shapely.box(0, 0, 60, 100), shapely.box(40, 0, 100, 100)]  # overlap 40..60
    ov = plot_overlays(make_case([plot], reds))
    assert ov["redline_share"].iloc[0] == pytest.approx(1.0)
    assert ov["redline_mu"].iloc[0] == pytest.approx(10_000 / M2_PER_MU)


def test_buffer_grows_the_red_line():
    plot = shapely.box(0, 0, 100, 100)
    red = shapely.box(120, 0, 200, 100)  # 20 m east of the plot
    case = make_case([plot], [red])
    assert plot_overlays(case)["redline_share"].iloc[0] == 0.0
    assert plot_overlays(case)["redline_distance_m"].iloc[0] == pytest.approx(20.0)
    ov = plot_overlays(case, buffer_m=30.0)
    assert ov["redline_share"].iloc[0] == pytest.approx(0.10, rel=1e-6)
    assert ov["redline_distance_m"].iloc[0] == pytest.approx(20.0)  # to the unbuffered line


def test_distance_cap_gives_nan_beyond():
    case = make_case([shapely.box(0, 0, 10, 10)], [shapely.box(5000, 0, 5010, 10)])
    assert math.isnan(plot_overlays(case, distance_cap_m=1000)["redline_distance_m"].iloc[0])
    assert plot_overlays(case, distance_cap_m=None)["redline_distance_m"].iloc[0] == pytest.approx(
        4990.0
    )


def test_in_zone_with_tolerance():
    zone = shapely.box(0, 0, 100, 100)
    plots = [
        shapely.box(10, 10, 50, 50),
        shapely.box(50, 50, 100.5, 100),  # 0.5 m outside: digitising noise, inside
        shapely.box(80, 80, 120, 120),  # clearly outside
    ]
    ov = plot_overlays(make_case(plots, zones=[("Z1", zone)]))
    assert list(ov["in_zone"]) == [True, True, False]


# ---------------------------------------------------------------- touching red line


@pytest.mark.parametrize(
    "red",
    [shapely.box(100, 0, 200, 100), shapely.box(100, 100, 200, 200)],
    ids=["shared-edge", "corner"],
)
def test_plot_touching_red_line_is_eligible_at_threshold_zero(red):
    plot = shapely.box(0, 0, 100, 100)
    firms = applicants(["C3973"])
    case = make_case([plot], [red], firms=firms)
    ov = plot_overlays(case)
    assert ov["redline_share"].iloc[0] == 0.0
    assert ov["redline_distance_m"].iloc[0] == 0.0
    cands = build_candidates(case, EligibilityParams(), overlays=ov)
    assert "redline" not in cands.reasons_for("A0", "P00")
    assert list(cands.pairs["parcel_id"]) == ["P00"]
    assert not check_plots(case)["excluded_redline"].iloc[0]


def applicants(industries, zones="Z1", lmin=0.0, lmax=1e9) -> pd.DataFrame:
    n = len(industries)
    return pd.DataFrame(
        {
            "firm_id": [f"A{k}" for k in range(n)],
            "kind": ["applicant"] * n,
            "industry": industries,
            "candidate_zones": [zones] * n,
            "land_min_mu": [lmin] * n,
            "land_max_mu": [lmax] * n,
        }
    )


# ---------------------------------------------------------------- each reason code (tiny case)


@pytest.fixture(scope="module")
def tiny():
    return tiny_case()


def firm(industry, zones, lmin=40.0, lmax=90.0, fid="X1") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "firm_id": [fid],
            "kind": ["applicant"],
            "industry": [industry],
            "candidate_zones": [zones],
            "land_min_mu": [lmin],
            "land_max_mu": [lmax],
        }
    )


def reasons(case, frame, plot, **params):
    cands = build_candidates(case, EligibilityParams(**params), applicants=frame)
    return cands.reasons_for(frame["firm_id"].iloc[0], plot)


def test_reason_redline(tiny):
    assert reasons(tiny, firm("C3973", "Z02"), "P09") == ["redline"]
    # a threshold above P09's 25 % share lets it through
    assert reasons(tiny, firm("C3973", "Z02"), "P09", redline_threshold=0.3) == []


def test_reason_access_list_prohibit_by_category(tiny):
    # general units prohibit C26; P09 is M1 (admits C) in the general unit U02
    assert reasons(tiny, firm("C2614", "Z02"), "P09", redline_threshold=0.5) == ["access_list"]


def test_restrict_rule_does_not_exclude_but_is_reported(tiny):
    # U01 restricts C2614 (scope unit): P04 stays eligible
    assert reasons(tiny, firm("C2614", "Z01"), "P04") == []
    check = check_plot(tiny, plot_id="P04", industry="C2614")
    assert check.eligible is True
    assert check.industries["restricted"].iloc[0] == "C2614"
    assert "C2614" in set(check.rules["industry_prefix"])


def test_reason_land_use(tiny):
    assert reasons(tiny, firm("C3973", "Z02"), "P08") == ["land_use"]  # W admits G59 only


def test_reason_catalogue_only_when_switched_on(tiny):
    frame = firm("C3973", "Z02")
    assert reasons(tiny, frame, "P09", redline_threshold=0.5) == []
    assert reasons(tiny, frame, "P09", redline_threshold=0.5, catalogue=True) == ["catalogue"]


def test_reason_status_and_leaving_firms(tiny):
    assert reasons(tiny, firm("C3973", "Z01"), "P01") == ["status"]
    assert reasons(tiny, firm("C3973", "Z01"), "P01", leaving_firms=frozenset({"F001"})) == []
    cands = build_candidates(
        tiny, EligibilityParams(leaving_firms=frozenset({"F001"})), applicants=firm("C3973", "Z01")
    )
    assert "P01" in set(cands.pairs["parcel_id"])


def test_reason_zone(tiny):
    assert reasons(tiny, firm("C3973", "Z02"), "P04") == ["zone"]
    # empty candidate zones: any zone
    assert reasons(tiny, firm("C3973", None), "P04") == []


def test_reason_size_and_bundles(tiny):
    big = firm("C3973", "Z01", lmin=100.0, lmax=200.0)
    cands = build_candidates(tiny, EligibilityParams(), applicants=big)
    # P03 + P04 (adjacent, 180 mu) is a candidate bundle; P05 sits alone above occupied P01
    assert list(cands.pairs["parcel_id"]) == ["P03+P04"]
    assert cands.reasons_for("X1", "P03") == []  # usable through the bundle
    assert cands.reasons_for("X1", "P05") == ["size"]
    small = firm("C3973", "Z01", lmin=10.0, lmax=50.0)
    assert reasons(tiny, small, "P04") == ["size"]


def test_several_reasons_and_summary(tiny):
    cands = build_candidates(tiny, EligibilityParams(), applicants=firm("C2614", "Z01"))
    assert cands.reasons_for("X1", "P07") == ["access_list", "status", "zone"]
    assert cands.reasons_text("X1", "P07", "en")[0].startswith("The environmental access list")
    assert set(cands.summary.index) == set(REASON_CODES)
    mask = cands.mask()
    for code in REASON_CODES:
        assert cands.summary.loc[code, "pairs"] == int(((mask & BIT[code]) != 0).sum())
    table = cands.reason_table("X1")
    assert table.set_index("plot_id").loc["P07", "reasons"] == "access_list;status;zone"


def test_candidates_on_tiny_case(tiny):
    cands = build_candidates(tiny, EligibilityParams())
    assert set(map(tuple, cands.pairs.to_numpy())) == {
        ("A001", "P03"),
        ("A001", "P04"),
        ("A001", "P05"),
        ("A002", "P08"),
    }
    parcels = cands.parcels.set_index("parcel_id")
    assert parcels.loc["P09", "unit_id"] == "U02"
    assert parcels.loc["P03", "plot_ids"] == ("P03",)
    # every pair passes every test
    for f, b in cands.pairs.to_numpy():
        for p in parcels.loc[b, "plot_ids"]:
            assert cands.reasons_for(f, p) == []


def test_bundle_parcels_ids_zone_unit(tiny):
    cands = build_candidates(
        tiny, EligibilityParams(redline_threshold=0.5), applicants=firm("C3973", "Z02", 100, 200)
    )
    parcels = cands.parcels.set_index("parcel_id")
    assert "P08+P09" in parcels.index
    row = parcels.loc["P08+P09"]
    assert row["plot_ids"] == ("P08", "P09")
    assert row["n_plots"] == 2
    assert row["zone_id"] == "Z02"
    assert row["unit_id"] == "U02"
    assert row["area_mu"] == pytest.approx(180.0)
    # P08 is W: the bundle fails land use for an industrial firm
    assert cands.pairs.empty


# ---------------------------------------------------------------- plot checks


def test_check_plot_by_id(tiny):
    check = check_plot(tiny, plot_id="P09", industry="C3973")
    assert check.zone_id == "Z02"
    assert check.redline_share == pytest.approx(0.25)
    assert check.redline_mu == pytest.approx(22.5)
    assert check.unit_id == "U02"
    assert check.unit_category == "general"
    assert check.eligible is False
    assert check.industries["reasons"].iloc[0] == "redline"
    text_zh, text_en = check.to_text("zh"), check.to_text("en")
    assert "22.50" in text_zh
    assert "生态保护红线" in text_zh
    assert "25.00%" in text_en
    assert "not eligible" in text_en
    d = check.to_dict()
    assert d["plot_id"] == "P09"
    assert isinstance(d["industries"], pd.DataFrame)


def test_check_plot_all_groups(tiny):
    check = check_plot(tiny, plot_id="P08")
    verdict = check.industries.set_index("industry")
    assert bool(verdict.loc["G59", "eligible"])
    assert verdict.loc["C39", "reasons"] == "land_use"
    assert verdict.loc["C26", "reasons"] == "access_list;land_use"


def test_check_plot_by_point_wgs84_and_gcj02(tiny):
    centre = tiny.plots.set_index("plot_id").geometry["P04"].centroid
    lon, lat = gpd.GeoSeries([centre], crs=CASE_CRS).to_crs("EPSG:4490").iloc[0].coords[0]
    assert check_plot(tiny, lonlat=(lon, lat)).plot_id == "P04"
    from allocator.crs import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(lon, lat)
    assert check_plot(tiny, lonlat=(glon, glat), source_crs="gcj02").plot_id == "P04"
    # without the conversion the GCJ-02 point (~500 m off) misses the plot
    assert check_plot(tiny, lonlat=(glon, glat)).plot_id != "P04"


def test_check_point_outside_plots(tiny):
    check = check_plot(tiny, lonlat=(120.33, 30.30))  # zone centre, no plot there
    assert check.mode == "point"
    assert check.plot_id is None
    assert check.zone_id == "Z01"
    assert check.unit_id == "U01"
    assert "no plot" in check.to_text("en").lower()


def test_check_polygon_wkt_geojson_file(tiny, tmp_path):
    plots = tiny.plots.set_index("plot_id")
    geom = plots.geometry["P08"].union(plots.geometry["P09"])
    ll = gpd.GeoSeries([geom], crs=CASE_CRS).to_crs("EPSG:4490").iloc[0]
    a = check_plot(tiny, polygon=ll.wkt)
    assert a.mode == "polygon"
    assert a.area_mu == pytest.approx(180.0, rel=1e-6)
    assert a.redline_mu == pytest.approx(22.5, rel=1e-4)
    assert set(a.overlaps["plot_id"]) == {"P08", "P09"}
    b = check_plot(tiny, polygon=shapely.geometry.mapping(ll))
    assert b.area_mu == pytest.approx(a.area_mu)
    path = tmp_path / "site.geojson"
    gpd.GeoDataFrame(geometry=[geom], crs=CASE_CRS).to_file(path)
    c = check_plot(tiny, polygon=str(path))
    assert c.area_mu == pytest.approx(180.0, rel=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"plot_id": "P01", "lonlat": (120.3, 30.3)},
        {"plot_id": "NOPE"},
        {"lonlat": (500, 30)},
        {"polygon": "not a polygon"},
        {"lonlat": (120.3, 30.3), "source_crs": "mars"},
    ],
)
def test_check_plot_errors_are_case_errors(tiny, kwargs):
    with pytest.raises(CaseError):
        check_plot(tiny, **kwargs)


def test_check_plots_batch(tiny):
    table = check_plots(tiny, industry="C2614")
    row = table.set_index("plot_id")
    assert row.loc["P09", "excluded_redline"]
    assert row.loc["P08", "excluded_access"]
    assert not row.loc["P04", "excluded_access"]
    assert row.loc["P04", "ok:C2614"]
    sub = check_plots(tiny, plot_ids=["P01", "P02"])
    assert list(sub["plot_id"]) == ["P01", "P02"]
    with pytest.raises(CaseError):
        check_plots(tiny, plot_ids=["P01", "ZZ"])
