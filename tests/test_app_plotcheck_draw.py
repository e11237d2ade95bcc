"""AppTest: the plot-check page's "draw a polygon" mode, and what the drawing map sends.

The browser side (clicking vertices with Leaflet.draw) is tests/test_browser_draw.py;
here the drawn shape is put into the session as the component's callback would
(GeoJSON text, lon/lat rounded to 6 decimals like Leaflet's ``toGeoJSON``).
"""

from __future__ import annotations

import json
import re

import pytest
import shapely
import shapely.geometry
from app_helpers import open_page, texts, write_tiny_case

from allocator.case.testing import tiny_case
from allocator.errors import CaseError
from allocator.ui import draw

NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


@pytest.fixture
def tiny_env(tmp_path, monkeypatch):
    case = write_tiny_case(tmp_path)
    monkeypatch.setenv("ALLOCATOR_CASE", str(case))
    return case


@pytest.fixture
def sample_env(sample_case_path, monkeypatch):
    monkeypatch.setenv("ALLOCATOR_CASE", str(sample_case_path))
    return sample_case_path


def _as_drawn(geom) -> str:
    """The GeoJSON text Leaflet.draw would send for ``geom`` (WGS84, 6 decimals)."""
    return json.dumps(shapely.geometry.mapping(shapely.set_precision(geom, 1e-6)))


def _plot_lonlat(case, plot_id: str):
    plots = case.plots
    return plots.loc[plots["plot_id"] == plot_id].to_crs("EPSG:4326").geometry.iloc[0]


def _draw_mode(zone: str, lang: str = "zh"):
    at = open_page("plotcheck", lang=lang)
    at.radio(key="plot_mode").set_value("draw").run()
    at.selectbox(key="plot_zone").set_value(zone).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _component(at):
    found = at.get("bidi_component")
    assert len(found) == 1
    return found[0].proto


def test_draw_mode_shows_the_map_and_waits(tiny_env):
    at = _draw_mode("Z02")
    proto = _component(at)
    assert proto.component_name == "allocator.draw_polygon"
    data = json.loads(proto.json)
    assert [len(layer["fc"]["features"]) for layer in data["layers"]][-2:] == [4, 1]  # plots, red
    assert data["drawn"] is None
    assert "尚未绘制范围" in at.info[0].value
    assert not at.error
    assert len(at.get("deck_gl_json_chart")) == 0  # no report yet


def test_what_the_page_sends_has_no_web_address(tiny_env):
    """Leaflet, Leaflet.draw, their CSS and images are inline: no CDN, no tiles."""
    proto = _component(_draw_mode("Z02"))
    sent = "\n".join([proto.js_content, proto.css_content, proto.html_content, proto.json])
    assert "L.Control.Draw" in proto.js_content
    assert "leaflet-draw-toolbar" in proto.js_content
    assert not proto.js_source_path
    assert not proto.css_source_path
    urls = set(re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s\"'<>)\\]*", sent, re.I))
    assert {u for u in urls if not u.startswith(tuple(NAMESPACES))} == set()
    assert not re.search(r"""url\(\s*["']?(?:https?:)?//""", sent)
    assert "tileLayer(" not in proto.js_content.split("export default", 1)[1]


def test_drawn_polygon_over_the_red_line_sample_case(sample_env):
    """A polygon drawn over NBMS-P0076 (57.5 % in the red line) gets the full report."""
    from allocator.case import load_case

    case = load_case(sample_env)
    at = _draw_mode("NBMS")
    at.session_state[draw.DRAWN_KEY] = _as_drawn(_plot_lonlat(case, "NBMS-P0076"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    all_text = texts(at)
    # the plot itself: 21.22 mu, 57.54 % (12.21 mu) red line; drawn to 0.1 m it moves a hair
    assert "所绘范围 **21.22 亩**，与生态保护红线重叠 **57.57 %**（12.22 亩）" in all_text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["红线占比"] == "57.57 %"
    assert metrics["红线重叠（亩）"] == "12.22"
    assert metrics["综保区"] == "宁波梅山综合保税区"  # its name, not the id NBMS
    assert at.error[0].value.startswith("不可落地")
    assert "与生态保护红线重叠 57.57 %（12.22 亩）" in at.warning[0].value
    assert "红线重叠示意" in all_text
    assert len(at.get("deck_gl_json_chart")) == 1  # the overlap map
    overlaps = next(d.value for d in at.dataframe if "overlap_mu" in d.value.columns)
    assert "NBMS-P0076" in set(overlaps["plot_id"])
    # the drawing map shows the drawn shape back (so a rerun keeps it on screen)
    assert json.loads(_component(at).json)["drawn"] == at.session_state[draw.DRAWN_KEY]


def test_drawn_polygon_on_tiny_case_and_clear(tiny_env):
    at = _draw_mode("Z02")
    at.session_state[draw.DRAWN_KEY] = _as_drawn(_plot_lonlat(tiny_case(), "P09"))
    at.run()
    assert "所绘范围 **90.02 亩**，与生态保护红线重叠 **25.00 %**（22.50 亩）" in texts(at)
    at.button(key="plot_draw_clear").click().run()
    assert not at.exception
    assert at.session_state[draw.DRAWN_KEY] is None
    assert "尚未绘制范围" in at.info[0].value
    assert not at.metric


def test_another_zone_starts_with_nothing_drawn(tiny_env):
    at = _draw_mode("Z02")
    at.session_state[draw.DRAWN_KEY] = _as_drawn(_plot_lonlat(tiny_case(), "P09"))
    at.run()
    assert at.metric
    at.selectbox(key="plot_zone").set_value("Z01").run()
    assert not at.exception
    assert at.session_state[draw.DRAWN_KEY] is None
    assert not at.metric


def test_degenerate_drawing_is_a_message_not_a_traceback(tiny_env):
    at = _draw_mode("Z02")
    at.session_state[draw.DRAWN_KEY] = json.dumps(
        {"type": "LineString", "coordinates": [[120.0, 30.0], [120.001, 30.001]]}
    )
    at.run()
    assert not at.exception
    assert "所绘范围无法核查" in at.error[0].value
    assert "LineString" in at.error[0].value


def test_english_labels(tiny_env):
    at = _draw_mode("Z02", lang="en")
    assert "Draw a polygon" in at.radio(key="plot_mode").options
    assert at.info[0].value.startswith("Nothing drawn yet")
    local = json.loads(_component(at).json)["local"]
    assert local["draw.toolbar.buttons.polygon"] == "Draw a polygon"
    at = _draw_mode("Z02")
    assert json.loads(_component(at).json)["local"]["draw.toolbar.finish.text"] == "完成"


# --- the conversion from what the browser sends ---------------------------------------------

SQUARE = [[120.0, 30.0], [120.001, 30.0], [120.001, 30.001], [120.0, 30.001], [120.0, 30.0]]


@pytest.mark.parametrize(
    "value",
    [
        {"type": "Polygon", "coordinates": [SQUARE]},
        json.dumps({"type": "Polygon", "coordinates": [SQUARE]}),
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
        },
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}
            ],
        },
    ],
)
def test_drawn_polygon_accepts_geometry_feature_and_collection(value):
    geom = draw.drawn_polygon(value)
    assert geom.geom_type == "Polygon"
    assert geom.bounds == pytest.approx((120.0, 30.0, 120.001, 30.001))


def test_self_crossing_drawing_is_repaired():
    bowtie = [[120.0, 30.0], [120.001, 30.001], [120.001, 30.0], [120.0, 30.001], [120.0, 30.0]]
    geom = draw.drawn_polygon({"type": "Polygon", "coordinates": [bowtie]})
    assert geom.is_valid
    assert geom.area > 0


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("not json", "Expecting value"),
        ({"type": "Point", "coordinates": [120, 30]}, "Point"),
        ({"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [120, 30]]]}, "area 0"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[500000, 3300000], [500100, 3300000], [500100, 3300100], [500000, 3300000]]
                ],
            },
            "bounds",
        ),  # noqa: E501
        ({"type": "FeatureCollection", "features": []}, "empty"),
        ([1, 2], "list"),
    ],
)
def test_drawn_polygon_refuses_what_is_not_a_lonlat_polygon(value, needle):
    with pytest.raises(CaseError, match=needle) as info:
        draw.drawn_polygon(value)
    assert info.value.hint


def test_drawn_polygon_checks_like_an_uploaded_one():
    """check_plot gives the same answer for the drawn shape as for the pasted WKT."""
    from allocator.eligibility import check_plot

    case = tiny_case()
    geom = _plot_lonlat(case, "P09")
    drawn = check_plot(case, polygon=draw.drawn_polygon(_as_drawn(geom)))
    pasted = check_plot(case, polygon=geom.wkt)
    assert drawn.redline_share == pytest.approx(pasted.redline_share, abs=1e-4)
    assert drawn.area_mu == pytest.approx(pasted.area_mu, rel=1e-3)  # vertices to 0.1 m
    assert drawn.eligible == pasted.eligible is False


def test_every_toolbar_text_has_a_locale_key():
    from allocator import i18n

    missing = [key for key in draw.DRAW_LOCAL.values() if not i18n.has(key)]
    assert missing == []
