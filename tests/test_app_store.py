"""AppTest: the app on a shared store — sign in with a database account, every page
renders, a wrong password or a role without access gets a message, not a case."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from app_helpers import texts
from store_helpers import PASSWORD, login_role, new_database
from streamlit.testing.v1 import AppTest

from allocator import i18n
from allocator.case import load_case
from allocator.store.cases import push_case
from allocator.store.db import init_store
from allocator.store.schema import VIEWER, zone_role

pytestmark = [pytest.mark.db, pytest.mark.slow]

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["overview", "whatif", "plotcheck", "evaluation", "compare", "export"]
OWN = "HZ"


@pytest.fixture(scope="module")
def address(pg_admin_url: str, sample_case_path: Path) -> str:
    admin = new_database(pg_admin_url)
    init_store(admin)
    push_case(admin, load_case(sample_case_path))
    login_role(admin, "app_zm_hz", zone_role(OWN))
    login_role(admin, "app_viewer", VIEWER)
    parts = urlsplit(admin)
    return urlunsplit(
        parts._replace(netloc=f"{parts.hostname}:{parts.port}", query="case=zhejiang_sample")
    )


def _sign_in(at: AppTest, user: str, password: str) -> AppTest:
    at.sidebar.text_input(key="store_user_input").set_value(user)
    at.sidebar.text_input[1].set_value(password)
    at.sidebar.button[0].click()
    return at.run()


@pytest.fixture
def app(address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ALLOCATOR_STORE", address)
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(APP, default_timeout=120)
    return at.run()


def test_zone_manager_signs_in_and_every_page_renders(app: AppTest, sample_case_path: Path) -> None:
    assert i18n.t("store.app.sign_in_first", "zh") in texts(app)
    assert not [m for m in app.metric if m.label == i18n.t("ui.overview.n_existing", "zh")]
    _sign_in(app, "app_zm_hz", PASSWORD)
    assert not app.exception, [e.value for e in app.exception]
    assert "app_zm_hz" in " ".join(str(c.value) for c in app.sidebar.caption)
    sample = load_case(sample_case_path)
    own = int(((sample.firms["zone_id"] == OWN) & (sample.firms["kind"] == "existing")).sum())
    existing = [m.value for m in app.metric if m.label == i18n.t("ui.overview.n_existing", "zh")]
    assert existing == [f"{own:,}"]
    assert not app.error
    for page in PAGES[1:]:
        app.switch_page(f"allocator/ui/pages/{page}.py").run()
        assert not app.exception, (page, [e.value for e in app.exception])
        assert i18n.t("ui.error.unexpected", "zh") not in texts(app), page


def test_wrong_password_is_refused_and_loads_nothing(app: AppTest) -> None:
    _sign_in(app, "app_zm_hz", "not-the-password")
    assert not app.exception
    errors = " ".join(str(e.value) for e in app.sidebar.error)
    assert i18n.t("store.app.failed", "zh", error="").rstrip() in errors
    assert "not-the-password" not in errors
    assert i18n.t("store.app.sign_in_first", "zh") in texts(app)


def test_viewer_gets_the_databases_refusal_not_the_case(app: AppTest) -> None:
    _sign_in(app, "app_viewer", PASSWORD)
    assert not app.exception
    shown = texts(app)
    assert "permission denied for table" in shown
    assert not [m for m in app.metric if m.label == i18n.t("ui.overview.n_existing", "zh")]
