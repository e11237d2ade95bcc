"""The app's side of the shared store: the sign-in panel and the session's store URL.

The person signs in with their own database user and password (kept in the
browser session's server-side state only, never written anywhere); the case the
app holds for them is what the database returned for that role, so rows a role
may not read never reach the server's memory for that session, let alone the
browser. The library side is :func:`allocator.store_address`,
:func:`allocator.check_sign_in`, :func:`allocator.case_version` and
:func:`allocator.with_credentials`.
"""

from __future__ import annotations

import streamlit as st

from allocator import StoreUrl, case_version, check_sign_in, store_address, with_credentials
from allocator.i18n import t

_SESSION_KEY = "_store_url"
_USER_KEY = "_store_user"


def signed_in_url() -> str | None:
    """Return this session's signed-in store URL, or None."""
    return st.session_state.get(_SESSION_KEY)


def signed_in_user() -> str | None:
    """Return this session's database user, or None when not signed in to a store."""
    return st.session_state.get(_USER_KEY)


def store_case_key() -> tuple[str, float] | None:
    """Return ``(url, case version)``, the cache key of the session's case; None if signed out.

    The URL carries the session's password, so a cached case is only reused by
    a session that signed in with the same credentials, and the version query
    re-checks them on every use.
    """
    url = signed_in_url()
    if url is None:
        return None
    return url, case_version(url)


def sign_in_panel(lang: str) -> None:
    """Draw the sidebar sign-in form (or who is signed in, with a sign-out button)."""
    address = store_address()
    if address is None:
        return
    shown = StoreUrl.parse(address).display
    box = st.sidebar.container(border=True)
    user = signed_in_user()
    if user is not None:
        kind = st.session_state.get("_store_kind", "none")
        box.caption(t("store.app.signed_in", lang, user=user, kind=t(f"store.kind.{kind}", lang)))
        if box.button(t("store.app.sign_out", lang), key="store_sign_out"):
            for key in (_SESSION_KEY, _USER_KEY, "_store_kind"):
                st.session_state.pop(key, None)
            st.rerun()
        return
    box.caption(t("store.app.store", lang, store=shown))
    with box.form("store_sign_in"):
        name = st.text_input(t("store.app.user", lang), key="store_user_input")
        password = st.text_input(t("store.app.password", lang), type="password")
        submitted = st.form_submit_button(t("store.app.sign_in", lang))
    if submitted and name:
        url = with_credentials(address, name, password)
        try:
            who, kind = check_sign_in(url)
        except Exception as exc:  # noqa: BLE001 - shown to the person, never a traceback
            box.error(t("store.app.failed", lang, error=str(exc).splitlines()[0]))
            return
        st.session_state[_SESSION_KEY] = url
        st.session_state[_USER_KEY] = who
        st.session_state["_store_kind"] = kind
        st.rerun()


def needs_sign_in() -> bool:
    """Return True when the app uses a store and this session has not signed in."""
    return store_address() is not None and signed_in_url() is None
