"""Streamlit entry point: page navigation only (the pages live in allocator/ui/pages/)."""

from __future__ import annotations

import streamlit as st

from allocator.ui.common import language_switch, t

st.set_page_config(page_title=t("app.title"), page_icon="🗺️", layout="wide")
language_switch()
st.sidebar.caption(t("app.title"))

PAGES = [
    ("allocator/ui/pages/overview.py", "ui.nav.overview", "overview", ":material/map:"),
    ("allocator/ui/pages/whatif.py", "ui.nav.whatif", "whatif", ":material/tune:"),
    ("allocator/ui/pages/plotcheck.py", "ui.nav.plotcheck", "plotcheck", ":material/search:"),
    (
        "allocator/ui/pages/evaluation.py",
        "ui.nav.evaluation",
        "evaluation",
        ":material/leaderboard:",
    ),
    ("allocator/ui/pages/compare.py", "ui.nav.compare", "compare", ":material/compare_arrows:"),
    ("allocator/ui/pages/tradeoff.py", "ui.nav.tradeoff", "tradeoff", ":material/ssid_chart:"),
    ("allocator/ui/pages/export.py", "ui.nav.export", "export", ":material/download:"),
]
pages = [
    st.Page(path, title=t(key), url_path=url, icon=icon, default=(url == "overview"))
    for path, key, url, icon in PAGES
]
st.navigation(pages).run()
