"""End to end in a real browser: `streamlit run app.py`, headless Chromium, one what-if run.

Skips with a one-line reason when Chromium is not installed (`.ci/run` installs it).
The screenshot goes to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from app_helpers import write_tiny_case

from allocator.i18n import t
from allocator.ui.browser import (
    app_server,
    browser_page,
    chromium_path,
    cjk_renders,
    run_whatif,
    wait_idle,
)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = chromium_path()
    if exe is None:
        pytest.skip("chromium not installed (apt-get install chromium); .ci/run installs it")
    return exe


def test_whatif_run_in_chromium(chromium, tmp_path):
    case = write_tiny_case(tmp_path)
    env = {"ALLOCATOR_CASE": str(case), "ALLOCATOR_RUNS_DIR": str(tmp_path / "runs")}
    ARTIFACTS.mkdir(exist_ok=True)
    with app_server(env) as url, browser_page() as page:
        page.goto(url)
        wait_idle(page)
        assert page.get_by_role("heading", name="总览").count() == 1
        assert cjk_renders(page), "Chinese text draws as empty boxes: no CJK font reached Chromium"
        started = time.monotonic()
        run_whatif(page, url, t("kpi.value_added_wan", "zh"), t("ui.whatif.run", "zh"))
        seconds = time.monotonic() - started
        page.screenshot(path=str(ARTIFACTS / "browser_whatif.png"), full_page=True)
        body = page.inner_text("[data-testid='stMain']")
        assert t("kpi.value_added_wan", "zh") in body
        assert "状态：" in body
        assert "Traceback" not in body
        assert seconds < 60
        assert any((tmp_path / "runs").iterdir())


def test_brief_downloads_from_the_export_page(chromium, tmp_path):
    """What-if run → 导出 → 生成 → the brief PDF downloads: two A4 pages at most, CJK embedded."""
    from pypdf import PdfReader

    case = write_tiny_case(tmp_path)
    env = {"ALLOCATOR_CASE": str(case), "ALLOCATOR_RUNS_DIR": str(tmp_path / "runs")}
    with app_server(env) as url, browser_page() as page:
        run_whatif(page, url, t("kpi.value_added_wan", "zh"), t("ui.whatif.run", "zh"))
        page.goto(f"{url}/export")
        wait_idle(page)
        page.get_by_role("button", name=t("ui.export.make", "zh"), exact=True).click()
        button = page.get_by_role("button", name="brief.pdf")
        button.first.wait_for(state="visible", timeout=120_000)
        with page.expect_download(timeout=60_000) as info:
            button.first.click()
        path = tmp_path / "brief.pdf"
        info.value.save_as(str(path))
    reader = PdfReader(str(path))
    assert 1 <= len(reader.pages) <= 2
    text = "".join(p.extract_text() or "" for p in reader.pages)
    assert t("kpi.value_added_wan", "zh").split("（")[0] in text  # the KPI table, in Chinese
    fonts = [
        str(f.get_object()["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()
    ]
    assert any("Noto" in f or "CJK" in f for f in fonts), fonts
