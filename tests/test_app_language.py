"""AppTest: every page, on a feasible and an infeasible run, speaks the planner's language.

Each page is rendered in zh and in en with the real runs of the tiny case
(``conftest.solved_runs``) and its text — messages, captions, markdown,
metrics, table headers and cells of text columns, widget labels — is scanned
for internal identifiers (``app_helpers.internal_identifiers``): column names,
``None``/``nan``, model row syntax, scenario keys, English words in Chinese.
"""

from __future__ import annotations

import json

import pytest
from app_helpers import internal_identifiers, open_page, texts, use_runs

PAGES = ("overview", "whatif", "evaluation", "plotcheck", "compare", "export", "tradeoff")


def page_text(at) -> str:
    """Everything a planner reads on the page: texts, table headers and text cells, labels."""
    parts = [texts(at)]
    for frame in at.dataframe:
        value = frame.value
        config = json.loads(frame.proto.columns or "{}")
        shown = list(frame.proto.column_order) or [str(c) for c in value.columns]
        for col in shown:
            label = (config.get(col) or {}).get("label")
            if label is None and (config.get(col) or {}).get("hidden"):
                continue
            parts.append(str(label if label is not None else col))
            if col in value.columns and value[col].dtype == object:
                parts += [str(v) for v in value[col].head(50) if v is not None]
    for kind in ("selectbox", "multiselect", "slider", "toggle", "button", "number_input"):
        for widget in getattr(at, kind):
            parts.append(str(widget.label))
    for tab in at.tabs:
        parts.append(str(tab.label))
    for exp in at.expander:
        parts.append(str(exp.label))
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_page_has_no_internal_identifiers(solved_runs, tmp_path, monkeypatch, page, lang):
    use_runs(solved_runs, tmp_path, monkeypatch, "base", "infeasible")
    at = open_page(page, lang=lang, timeout=120)
    found = internal_identifiers(page_text(at), lang)
    assert found == [], sorted(set(found))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("which", ["tight", "infeasible"])
def test_whatif_result_has_no_internal_identifiers(solved_runs, tmp_path, monkeypatch, which, lang):
    """A what-if result against its base: a feasible one (tabs, tables) and an infeasible one."""
    runs = use_runs(solved_runs, tmp_path, monkeypatch, "base", which)
    at = open_page("whatif", lang=lang, timeout=120)
    at.session_state["whatif_last"] = {
        "run": str(runs[which]),
        "base": str(runs["base"]),
        "changed": True,
    }
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    found = internal_identifiers(page_text(at), lang)
    assert found == [], sorted(set(found))
