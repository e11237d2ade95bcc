"""Static and web maps say what they draw: labels apart, legends of what is there, whole view.

- Overview: no two labels overlap (text boxes measured by matplotlib's renderer),
  so a zone id never sits on its city's name ("ZS" on "舟山市").
- Zone maps and the web map list only the outcomes present (no 腾退 when
  nothing was freed), and the red line only where it is drawn.
- Web map: the red line's legend swatch is its layer style; the first view
  holds every feature (framing the zones alone cut off the province's south).
"""

from __future__ import annotations

import json
import re
from itertools import combinations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest_export import make_export_run

from allocator.export.data import collect, outcome_label
from allocator.i18n import t
from allocator.runs import load_run


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return collect(load_run(make_export_run(tmp_path_factory.mktemp("maps"))))


def _boxes(ax):
    """Text boxes as saved: measured under the maps' font settings."""
    import matplotlib

    from allocator.export import fonts

    renderer = ax.figure.canvas.get_renderer()
    with matplotlib.rc_context(fonts.rc_params()):
        return [(a.get_text(), a.get_window_extent(renderer)) for a in ax.texts]


def test_overview_labels_do_not_overlap(data):
    from allocator.export import maps

    fig = maps.overview_figure(data)
    try:
        ax = fig.axes[0]
        boxes = _boxes(ax)
        texts = [s for s, _ in boxes]
        # every city name and zone id is on the map (the tiny case's city label sat on its zone)
        assert {"杭州市", "宁波市", "Z01", "Z02"} <= set(texts)
        clashes = [(a, b) for (a, ba), (b, bb) in combinations(boxes, 2) if ba.overlaps(bb)]
        assert clashes == []
        frame = ax.get_window_extent(ax.figure.canvas.get_renderer())
        assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 for _, b in boxes)
    finally:
        plt.close(fig)


def test_overview_labels_stay_apart_when_everything_is_in_one_spot(data):
    """Two zones and two cities labelled at one point: each label still finds its own place."""
    import shapely

    from allocator.export import maps

    fig = plt.figure(figsize=maps.FIGSIZE)
    try:
        ax = fig.add_axes(maps.MAP_RECT)
        ax.set_xlim(0, 1000)
        ax.set_ylim(0, 1000)
        p = shapely.Point(500, 500)
        placed = maps.place_labels(
            ax, [("舟山市", p), ("宁波市", p)], [("ZS", p), ("NBBL", shapely.Point(505, 500))]
        )
        assert [a.get_text() for a in placed] == ["舟山市", "宁波市", "ZS", "NBBL"]
        boxes = _boxes(ax)
        assert [(a, b) for (a, ba), (b, bb) in combinations(boxes, 2) if ba.overlaps(bb)] == []
    finally:
        plt.close(fig)


def _legend_texts(fig):
    return [x.get_text() for leg in fig.legends for x in leg.get_texts()]


def test_zone_legend_lists_only_the_outcomes_on_the_map(data):
    from allocator.export import maps

    plots = data.layers["allocation"]
    for zone in ("Z01", "Z02"):
        fig = maps.zone_figure(data, zone)
        try:
            shown = set(_legend_texts(fig))
        finally:
            plt.close(fig)
        present = set(plots.loc[plots["zone_id"] == zone, "outcome"])
        for o in ("kept", "new_project", "freed", "vacant", "excluded_redline"):
            assert (outcome_label(o, "zh") in shown) == (o in present), (zone, o)
    # Z01 has no plot in the red line and no red line in view; Z02 has both
    fig1, fig2 = maps.zone_figure(data, "Z01"), maps.zone_figure(data, "Z02")
    try:
        red = t("export.legend.redline", "zh")
        assert red not in _legend_texts(fig1)
        assert red in _legend_texts(fig2)
    finally:
        plt.close(fig1)
        plt.close(fig2)


def test_zone_legend_has_no_freed_entry_when_nothing_was_freed(data):
    from allocator.export import maps

    alloc = data.layers["allocation"]
    kept_all = alloc.assign(outcome=alloc["outcome"].replace({"freed": "vacant"}))
    data2 = type(data)(**{**data.__dict__, "layers": {**data.layers, "allocation": kept_all}})
    fig = maps.zone_figure(data2, "Z01")
    try:
        shown = _legend_texts(fig)
    finally:
        plt.close(fig)
    assert outcome_label("freed", "zh") not in shown
    assert outcome_label("kept", "zh") in shown


# ----------------------------------------------------------------------------- web map


@pytest.fixture(scope="module")
def page(data):
    from allocator.export import webmap

    return webmap.build_map(data).get_root().render()


def _stylers(page):
    """Map each GeoJSON layer's variable to the style its styler returns by default."""
    out = {}
    for m in re.finditer(r"function (geo_json_\w+)_styler\(feature\) \{(.*?)\n        \}", page,
                         re.DOTALL):  # fmt: skip
        styles = re.findall(r"return (\{.*?\});", m.group(2))
        out[m.group(1)] = [json.loads(s) for s in styles]
    return out


def _css(style):
    return dict(
        (k.strip(), v.strip()) for k, v in (d.split(":", 1) for d in style.split(";") if d.strip())
    )


def test_webmap_legend_draws_the_red_line_as_the_layer_does(page):
    stylers = _stylers(page)
    red_var = re.search(r'"\\u751f\\u6001\\u4fdd\\u62a4\\u7ea2\\u7ebf" : (geo_json_\w+)', page)
    assert red_var is not None  # the red line layer, by its Chinese name in the layer control
    (layer,) = stylers[red_var.group(1)]
    swatch = re.search(r'<i class="redline" style="([^"]+)"', page)
    assert swatch is not None
    css = _css(swatch.group(1))
    h = layer["fillColor"].lstrip("#")
    rgb = ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4))
    assert css["background"] == f"rgba({rgb},{layer['fillOpacity']:g})"
    width, dash, color = css["border"].split()
    assert color == layer["color"]
    assert dash == ("dashed" if layer.get("dashArray") else "solid")
    assert float(width.removesuffix("px")) == pytest.approx(layer["weight"])


def test_webmap_legend_lists_only_outcomes_present(data, page):
    legend = re.search(r'<div class="alloc-legend".*?</div></div>', page, re.DOTALL).group(0)
    present = set(data.layers["allocation"]["outcome"])
    for o in ("kept", "new_project", "freed", "vacant", "excluded_redline"):
        assert (f"</i>{outcome_label(o, 'zh')}</div>" in legend) == (o in present), o
    from allocator.export import webmap

    alloc = data.layers["allocation"]
    data2 = type(data)(**{**data.__dict__, "layers": {
        **data.layers, "allocation": alloc.assign(outcome=alloc["outcome"].replace("freed", "kept"))
    }})  # fmt: skip
    page2 = webmap.build_map(data2).get_root().render()
    assert f"</i>{outcome_label('freed', 'zh')}</div>" not in page2
    assert f"</i>{outcome_label('kept', 'zh')}</div>" in page2


def _coords(geometry):
    if isinstance(geometry, list) and geometry and isinstance(geometry[0], (int, float)):
        yield geometry
    elif isinstance(geometry, list):
        for g in geometry:
            yield from _coords(g)


def test_webmap_first_view_holds_every_feature(page):
    fits = re.findall(
        r"map_\w+\.fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", page
    )
    assert len(fits) == 1
    south, west, north, east = map(float, fits[0])
    features = 0
    for m in re.finditer(r"geo_json_\w+_add\((\{\"features\".*?\})\);\n", page):
        for f in json.loads(m.group(1))["features"]:
            for lon, lat in _coords(f["geometry"]["coordinates"]):
                assert west <= lon <= east
                assert south <= lat <= north
            features += 1
    assert features >= 9 + 2 + 1 + 2  # plots, zones, red line, cities


# ----------------------------------------------------------------------------- drawn once


def test_the_overview_is_drawn_once_for_its_files_and_the_brief(tmp_path, monkeypatch):
    """PNG, PDF and the brief's map come from one drawing (each was drawn on its own)."""
    from allocator.export import export, maps

    log = tmp_path / "draws.txt"  # a file: the export's worker processes count too
    real = maps.overview_figure

    def counting(data):
        with log.open("a") as fh:
            fh.write("overview\n")
        return real(data)

    monkeypatch.setattr(maps, "overview_figure", counting)
    run_path = make_export_run(tmp_path / "case")
    files = export(run_path, "png,pdf,brief", tmp_path / "out")
    names = {f.name for f in files}
    assert {"overview.png", "overview.pdf", "brief.pdf", "zone_Z01.png", "zone_Z02.pdf"} <= names
    assert log.read_text().splitlines() == ["overview"]


def test_parallel_and_sequential_exports_write_the_same_files(tmp_path, monkeypatch):
    import allocator.export as export_pkg
    from allocator.export import export

    run_path = make_export_run(tmp_path / "case")
    formats = "gpkg,geojson,xlsx,png,html"
    par = export(run_path, formats, tmp_path / "par")
    monkeypatch.setattr(export_pkg, "workers", lambda: 1)
    seq = export(run_path, formats, tmp_path / "seq")
    rel = sorted(p.relative_to(tmp_path / "par").as_posix() for p in par)
    assert rel == sorted(p.relative_to(tmp_path / "seq").as_posix() for p in seq)
    assert len(rel) == len(set(rel))  # each file once
    for name in ("maps/zone_Z01.png", "geojson/firms.geojson"):
        assert (tmp_path / "par" / name).read_bytes() == (tmp_path / "seq" / name).read_bytes()


def test_a_whole_export_draws_each_map_once_and_the_report_shows_its_pixels(tmp_path, monkeypatch):
    """Files, brief and report take one drawing of each map (the report drew its own)."""
    import io

    from PIL import Image

    from allocator.export import export, maps

    log = tmp_path / "draws.txt"  # a file: the export's worker processes count too
    real_overview, real_zone = maps.overview_figure, maps.zone_figure

    def overview(data):
        with log.open("a") as fh:
            fh.write("overview\n")
        return real_overview(data)

    def zone(data, zone_id):
        with log.open("a") as fh:
            fh.write(f"{zone_id}\n")
        return real_zone(data, zone_id)

    monkeypatch.setattr(maps, "overview_figure", overview)
    monkeypatch.setattr(maps, "zone_figure", zone)
    run_path = make_export_run(tmp_path / "case")
    out = tmp_path / "out"
    export(run_path, "zip", out)
    assert sorted(log.read_text().splitlines()) == ["Z01", "Z02", "overview"]
    # the report's zone maps are the exported PNG's pixels at half size, the same drawing
    pypdf = pytest.importorskip("pypdf")
    shown = [
        Image.open(io.BytesIO(img.data)).convert("RGB")
        for page in pypdf.PdfReader(out / "report.pdf").pages
        for img in page.images
    ]
    for name in ("zone_Z01.png", "zone_Z02.png"):
        with Image.open(out / "maps" / name) as png:
            small = png.convert("RGB").reduce(maps.ZONE_PREVIEW_REDUCE)
        same = [s for s in shown if s.size == small.size]
        assert same, (name, [s.size for s in shown])
        diff = min(
            np.abs(np.asarray(s, dtype=int) - np.asarray(small, dtype=int)).mean() for s in same
        )
        # JPEG error only (mean 0.5-0.8 of 255); drawn again at 100 dpi it differs by ~4
        assert diff < 1.5, (name, diff)


@pytest.mark.parametrize("channels", [3, 4])
def test_map_png_encoder_keeps_every_pixel_and_the_resolution(channels):
    """The maps' own PNG writer (faster than Pillow's for flat colours) is lossless."""
    import io

    from PIL import Image

    from allocator.export.maps import encode_png

    pixels = np.random.default_rng(channels).integers(0, 256, (37, 53, channels), dtype=np.uint8)
    pixels[:5] = 255  # a white band: runs of one colour, as on a map
    with Image.open(io.BytesIO(encode_png(pixels, 200))) as img:
        assert img.mode == ("RGB" if channels == 3 else "RGBA")
        assert img.size == (53, 37)
        assert np.array_equal(np.asarray(img), pixels)
        assert img.info["dpi"] == pytest.approx((200, 200), abs=0.01)
