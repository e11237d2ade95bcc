"""AppTest: navigation, language switch and the no-traceback rule on every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import write_tiny_case
from streamlit.testing.v1 import AppTest

from allocator import i18n

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["overview", "whatif", "plotcheck", "evaluation", "compare", "export", "tradeoff"]
TITLES = {
    "overview": "ui.overview.title",
    "whatif": "ui.whatif.title",
    "plotcheck": "ui.plot.title",
    "evaluation": "ui.eval.title",
    "compare": "ui.compare.title",
    "export": "ui.export.title",
    "tradeoff": "ui.tradeoff.title",
}


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("ALLOCATOR_CASE", str(write_tiny_case()))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


def test_default_page_is_overview_in_chinese(app):
    assert not app.exception
    assert [h.value for h in app.header] == ["总览"]
    assert app.sidebar.radio[0].value == "zh"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(app, page):
    app.switch_page(f"allocator/ui/pages/{page}.py").run()
    assert not app.exception, app.exception
    assert [h.value for h in app.header] == [i18n.t(TITLES[page], "zh")]


def test_switching_to_english_changes_labels(app):
    app.switch_page("allocator/ui/pages/compare.py").run()
    assert app.header[0].value == "情景对比"
    app.sidebar.radio[0].set_value("en").run()
    assert app.header[0].value == "Compare scenarios"
    assert app.sidebar.radio[0].label == "Language"
    app.switch_page("allocator/ui/pages/overview.py").run()
    assert app.header[0].value == "Overview"


def test_page_titles_exist_in_both_languages():
    for page in PAGES:
        assert i18n.t(f"ui.nav.{page}", "zh") != i18n.t(f"ui.nav.{page}", "en")
