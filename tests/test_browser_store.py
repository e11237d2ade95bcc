"""In a real browser: a zone manager signs in with their database account and sees
only their own zone's firms (the app shows what PostgreSQL returns for that role).

Needs Chromium and PostgreSQL + PostGIS; skips with a one-line reason otherwise.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from store_helpers import PASSWORD, login_role, new_database

from allocator.case import load_case
from allocator.i18n import t
from allocator.store.cases import push_case
from allocator.store.db import init_store
from allocator.store.schema import zone_role
from allocator.ui.browser import app_server, browser_page, chromium_path, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.db]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
OWN = "HZ"


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = chromium_path()
    if exe is None:
        pytest.skip("chromium not installed (apt-get install chromium); .ci/run installs it")
    return exe


def test_zone_manager_sees_only_own_zone_firms_in_the_app(
    chromium: str,
    pg_admin_url: str,
    sample_case_path: Path,
    tmp_path: Path,
) -> None:
    admin = new_database(pg_admin_url)
    init_store(admin)
    sample = load_case(sample_case_path)
    push_case(admin, sample)
    login_role(admin, "zm_hz_app", zone_role(OWN))
    parts = urlsplit(admin)
    host = f"{parts.hostname}:{parts.port}"
    address = urlunsplit(parts._replace(netloc=host, query="case=zhejiang_sample"))
    env = {"ALLOCATOR_STORE": address, "ALLOCATOR_RUNS_DIR": str(tmp_path / "runs")}
    own_existing = int(
        ((sample.firms["zone_id"] == OWN) & (sample.firms["kind"] == "existing")).sum()
    )
    ARTIFACTS.mkdir(exist_ok=True)
    with app_server(env) as url, browser_page() as page:
        page.goto(url)
        wait_idle(page)
        body = page.inner_text("[data-testid='stMain']")
        assert t("store.app.sign_in_first", "zh") in body
        page.get_by_label(t("store.app.user", "zh")).fill("zm_hz_app")
        page.get_by_label(t("store.app.password", "zh")).fill(PASSWORD)
        page.get_by_role("button", name=t("store.app.sign_in", "zh")).click()
        wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / "browser_store_zone.png"), full_page=True)
        side = page.inner_text("[data-testid='stSidebar']")
        body = page.inner_text("[data-testid='stMain']")
        html = page.content()
    assert "zm_hz_app" in side
    assert "Traceback" not in body
    assert t("ui.error.unexpected", "zh") not in body
    # the own zone's card counts its firms; every other zone's card shows none
    assert t("ui.overview.firm_classes", "zh", firms=own_existing, mix="").strip() in body
    others = sample.zones.loc[sample.zones["zone_id"] != OWN]
    assert body.count(t("ui.overview.firm_classes", "zh", firms=0, mix="").strip()) == len(others)
    other_firms = sample.firms.loc[
        (sample.firms["kind"] == "existing") & (sample.firms["zone_id"] != OWN), "name"
    ]
    assert not [name for name in other_firms if name in html]
