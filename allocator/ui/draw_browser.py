"""Drive the plot-check drawing map in headless Chromium, with every web request blocked.

Used by tests/test_browser_draw.py and for the README screenshot::

    python -m allocator.ui.draw_browser docs/screenshots/plotcheck_draw.png [PLOT_ID]

draws a polygon over ``PLOT_ID`` (default NBMS-P0076, partly in the red line) of
the sample case vertex by vertex with Leaflet.draw's polygon tool and saves a
1440×900 PNG of the map and the report.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from allocator.ui.browser import ROOT, app_server, browser_page, wait_idle

MAP = "[data-testid='allocDrawMap']"
_TO_SCREEN = """([sel, corners]) => {
    const st = document.querySelector(sel).parentElement.__allocDraw;
    const box = st.div.getBoundingClientRect();
    return corners.map(([lon, lat]) => {
        const p = st.map.latLngToContainerPoint([lat, lon]);
        return [box.left + p.x, box.top + p.y];
    });
}"""
_ZOOM_TO = """([sel, lon, lat, zoom]) => {
    document.querySelector(sel).parentElement.__allocDraw.map.setView([lat, lon], zoom);
}"""


def block_external(page: Any, url: str) -> list[str]:
    """Abort every request of the page's context that is not to ``url``'s host; return them."""
    local = urlparse(url).netloc
    blocked: list[str] = []

    def route(r: Any) -> None:
        target = urlparse(r.request.url)
        if target.scheme in ("http", "https", "ws", "wss") and target.netloc != local:
            blocked.append(r.request.url)
            r.abort()
        else:
            r.continue_()

    page.context.route("**/*", route)
    return blocked


def inner_corners(geom: Any, margin: float = 0.02) -> list[tuple[float, float]]:
    """Return four lon/lat corners just inside a (WGS84) geometry's bounding box."""
    minx, miny, maxx, maxy = geom.bounds
    dx, dy = (maxx - minx) * margin, (maxy - miny) * margin
    return [
        (minx + dx, miny + dy),
        (maxx - dx, miny + dy),
        (maxx - dx, maxy - dy),
        (minx + dx, maxy - dy),
    ]


def open_draw_mode(page: Any, url: str, zone_label: str, mode_label: str) -> None:
    """Open the plot-check page, choose the drawing mode and the zone whose label has text."""
    page.goto(f"{url}/plotcheck")
    wait_idle(page)
    page.get_by_text(mode_label, exact=True).first.click()
    wait_idle(page)
    page.get_by_role("combobox").first.click()
    page.get_by_role("option").filter(has_text=zone_label).first.click()
    wait_idle(page)
    page.wait_for_selector(f"{MAP} path", state="attached")


def draw_polygon(page: Any, lonlats: Sequence[tuple[float, float]]) -> None:
    """Press the polygon tool, click each vertex, then the first one again to close."""
    page.locator("a.leaflet-draw-draw-polygon").click()
    points = page.evaluate(_TO_SCREEN, [MAP, [list(p) for p in lonlats]])
    for x, y in [*points, points[0]]:
        page.mouse.click(x, y)
        page.wait_for_timeout(150)


def click_lonlat(page: Any, lon: float, lat: float) -> None:
    """Click the drawing map at a lon/lat."""
    ((x, y),) = page.evaluate(_TO_SCREEN, [MAP, [[lon, lat]]])
    page.mouse.click(x, y)


def drawn_count(page: Any) -> int:
    """Return how many shapes the drawing map holds."""
    return int(
        page.evaluate(
            "(sel) => document.querySelector(sel).parentElement"
            ".__allocDraw.drawn.getLayers().length",
            MAP,
        )
    )


def screenshot(out: Path, plot_id: str = "NBMS-P0076") -> Path:
    """Save a 1440×900 screenshot of a polygon drawn over ``plot_id`` of the sample case."""
    from allocator import load_case
    from allocator.i18n import t

    case_path = ROOT / "gis_data" / "zhejiang_sample.gpkg"
    case = load_case(case_path)
    plot = case.plots[case.plots["plot_id"] == plot_id]
    zone = str(plot["zone_id"].iloc[0])
    # vertices a few metres apart would be one click: simplify (in metres) first
    geom = plot.geometry.simplify(3.0).to_crs("EPSG:4326").iloc[0]
    out.parent.mkdir(parents=True, exist_ok=True)
    with app_server({"ALLOCATOR_CASE": str(case_path)}) as url, browser_page() as page:
        blocked = block_external(page, url)
        open_draw_mode(page, url, zone, t("ui.plot.mode_draw", "zh"))
        # zoom in around the plot so the drawn vertices are clear
        page.evaluate(_ZOOM_TO, [MAP, geom.centroid.x, geom.centroid.y, 17])
        page.wait_for_timeout(500)
        draw_polygon(page, list(geom.exterior.coords)[:-1])
        page.get_by_text(t("ui.plot.map", "zh")).first.wait_for(timeout=60_000)
        wait_idle(page)
        page.locator(MAP).scroll_into_view_if_needed()
        page.get_by_text(t("ui.draw.help", "zh")).first.evaluate("e => e.scrollIntoView()")
        wait_idle(page)
        page.screenshot(path=str(out))
        if blocked:
            raise RuntimeError(f"the page asked the web for: {blocked}")
    return out


if __name__ == "__main__":
    target = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs/screenshots/plotcheck_draw.png"
    )
    print(screenshot(target, *(sys.argv[2:3] or [])))
