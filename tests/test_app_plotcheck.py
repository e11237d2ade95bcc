"""AppTest: the plot-check page on the tiny case (P09 is half… a quarter inside the red line)."""

from __future__ import annotations

import pytest
from app_helpers import open_page, texts, write_tiny_case

from allocator.case.testing import tiny_case
from allocator.crs import wgs84_to_gcj02


@pytest.fixture
def tiny_env(tmp_path, monkeypatch):
    case = write_tiny_case(tmp_path)
    monkeypatch.setenv("ALLOCATOR_CASE", str(case))
    return case


def _centre_lonlat(plot_id: str) -> tuple[float, float]:
    plots = tiny_case().plots
    geom = plots.loc[plots["plot_id"] == plot_id].to_crs("EPSG:4326").geometry.iloc[0]
    # a point in the western (outside the red line) part of the plot
    return geom.centroid.x - 0.0005, geom.centroid.y


def _by_id(plot_id: str, lang: str = "zh"):
    at = open_page("plotcheck", lang=lang)
    at.radio(key="plot_mode").set_value("id").run()
    at.text_input(key="plot_id").set_value(plot_id).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _verdicts(at):
    return next(d.value for d in at.dataframe if "eligible" in d.value.columns)


def test_redline_plot_shows_overlap_and_not_eligible(tiny_env):
    at = _by_id("P09")
    assert at.error[0].value.startswith("不可落地")
    assert "与生态保护红线重叠 25.00 %（22.50 亩）" in at.warning[0].value
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["红线占比"] == "25.00 %"
    assert metrics["红线重叠（亩）"] == "22.50"
    # the zone by its name, as the case names it (not its id)
    zones = tiny_case().zones.set_index("zone_id")["name"]
    plots = tiny_case().plots.set_index("plot_id")["zone_id"]
    assert metrics["综保区"] == zones[plots["P09"]]
    verdicts = _verdicts(at)
    assert not verdicts["eligible"].any()
    assert verdicts["reasons"].str.contains("redline").all()
    assert "红线重叠示意" in texts(at)
    assert len(at.get("deck_gl_json_chart")) == 1  # the overlap map


def test_vacant_industrial_plot_is_eligible_for_some_industry(tiny_env):
    at = _by_id("P04")
    assert at.success[0].value.startswith("可以落地")
    assert _verdicts(at)["eligible"].any()
    assert not at.warning


def test_unknown_plot_is_a_message(tiny_env):
    at = _by_id("P99")
    assert at.error
    assert "P99" in at.error[0].value


def test_coordinates_with_and_without_gcj02(tiny_env):
    lon, lat = _centre_lonlat("P04")
    at = open_page("plotcheck")
    at.radio(key="plot_mode").set_value("coords").run()
    at.number_input(key="plot_lon").set_value(lon)
    at.number_input(key="plot_lat").set_value(lat).run()
    assert {m.label: m.value for m in at.metric}["地块"] == "P04"
    glon, glat = wgs84_to_gcj02(lon, lat)
    at.number_input(key="plot_lon").set_value(float(glon))
    at.number_input(key="plot_lat").set_value(float(glat))
    at.radio(key="plot_crs").set_value("gcj02").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["地块"] == "P04"


def test_pasted_polygon_over_the_red_line(tiny_env):
    plots = tiny_case().plots
    geom = plots.loc[plots["plot_id"] == "P09"].to_crs("EPSG:4326").geometry.iloc[0]
    at = open_page("plotcheck")
    at.radio(key="plot_mode").set_value("polygon").run()
    at.text_area(key="plot_polygon_text").set_value(geom.wkt).run()
    assert not at.exception
    assert at.error[0].value.startswith("不可落地")
    assert "与生态保护红线重叠" in at.warning[0].value


def test_polygon_zip_with_path_traversal_is_refused(tiny_env):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../evil.shp", b"x" * 64)
    at = open_page("plotcheck")
    at.radio(key="plot_mode").set_value("polygon").run()
    at.file_uploader(key="plot_polygon_file").set_value(("site.zip", buf.getvalue(), "x")).run()
    assert not at.exception
    assert "site.zip" in at.error[0].value
    assert "../../evil.shp" in at.error[0].value


def test_english_labels(tiny_env):
    at = _by_id("P09", lang="en")
    assert at.header[0].value == "Plot check"
    assert at.error[0].value.startswith("Not eligible")
