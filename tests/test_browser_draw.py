"""Real browser, no internet: draw a polygon on the plot-check map and get the report.

`streamlit run app.py` on the tiny case, headless Chromium with every request that
is not to the local server aborted (and recorded). The polygon is clicked vertex by
vertex over P09 (a quarter inside the red line) with Leaflet.draw's polygon tool.
Skips with a one-line reason when Chromium is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from app_helpers import write_tiny_case

from allocator.case.testing import tiny_case
from allocator.i18n import t
from allocator.ui.browser import app_server, browser_page, chromium_path, wait_idle
from allocator.ui.draw_browser import (
    block_external,
    click_lonlat,
    draw_polygon,
    drawn_count,
    inner_corners,
    open_draw_mode,
)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = chromium_path()
    if exe is None:
        pytest.skip("chromium not installed (apt-get install chromium); .ci/run installs it")
    return exe


def test_draw_polygon_offline_in_chromium(chromium, tmp_path):
    case = write_tiny_case(tmp_path)
    env = {"ALLOCATOR_CASE": str(case), "ALLOCATOR_RUNS_DIR": str(tmp_path / "runs")}
    plots = tiny_case().plots
    p09 = plots.loc[plots["plot_id"] == "P09"].to_crs("EPSG:4326").geometry.iloc[0]
    ARTIFACTS.mkdir(exist_ok=True)
    started = time.monotonic()
    with app_server(env) as url, browser_page() as page:
        blocked = block_external(page, url)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_draw_mode(page, url, "Z02", t("ui.plot.mode_draw", "zh"))
        assert "尚未绘制范围" in page.inner_text("[data-testid='stMain']")
        tool = page.locator("a.leaflet-draw-draw-polygon")
        assert tool.get_attribute("title") == t("ui.draw.button_polygon", "zh")  # zh toolbar
        draw_polygon(page, inner_corners(p09))
        page.get_by_text(t("ui.plot.map", "zh")).first.wait_for(timeout=60_000)
        wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / "browser_draw.png"), full_page=True)
        body = page.inner_text("[data-testid='stMain']")
        (ARTIFACTS / "browser_draw.txt").write_text(body, encoding="utf-8")
        # the bin tool deletes it: back to "nothing drawn"
        page.locator("a.leaflet-draw-edit-remove").click()
        click_lonlat(page, p09.centroid.x, p09.centroid.y)
        page.get_by_text(t("ui.draw.save", "zh"), exact=True).click()
        page.get_by_text(t("ui.draw.hint", "zh")).first.wait_for(timeout=30_000)
        assert drawn_count(page) == 0
    seconds = time.monotonic() - started
    assert "Traceback" not in body
    assert "不可落地" in body
    # clicked just inside P09's lon/lat box (P09: 90 mu, a quarter in the red line)
    found = re.search(r"所绘范围 ([\d.]+) 亩，与生态保护红线重叠 ([\d.]+) %（([\d.]+) 亩）", body)
    assert found, body[:2000]
    area_mu, share_pct, red_mu = (float(x) for x in found.groups())
    assert 80 < area_mu < 95
    assert 20 < share_pct < 30
    assert red_mu == pytest.approx(area_mu * share_pct / 100, abs=0.02)
    assert blocked == []
    assert errors == []
    assert seconds < 60
