"""Streamlit entry point: page navigation only (pages live in allocator/ui/)."""

from __future__ import annotations

import streamlit as st

from allocator.i18n import t

st.set_page_config(page_title=t("app.title"), layout="wide")
st.title(t("app.title"))
st.write("Bonded-zone allocator — the app pages are being built.")
