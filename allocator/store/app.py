"""The app's side of the shared store: sign in with the person's database account.

When ``ALLOCATOR_STORE`` names a ``postgresql://`` store, the app loads its case
from there and nowhere else. Each person signs in with their own database user
and password (kept in their browser session's server-side state only, never
written anywhere); the case the app holds for them is what the database
returned for that role, so rows a role may not read never reach the server's
memory for that session, let alone the browser.
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlsplit, urlunsplit

from allocator.i18n import t
from allocator.store.url import ENV_STORE, StoreUrl, is_store_url

_SESSION_KEY = "_store_url"
_USER_KEY = "_store_user"


def store_address() -> str | None:
    """Return the store the app is pointed at (``ALLOCATOR_STORE``), or None."""
    value = os.environ.get(ENV_STORE, "").strip()
    return value if is_store_url(value) else None


def with_credentials(address: str, user: str, password: str) -> str:
    """Return ``address`` signing in as ``user`` with ``password``."""
    parts = urlsplit(address)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    login = quote(user, safe="")
    if password:
        login += ":" + quote(password, safe="")
    return urlunsplit(parts._replace(netloc=f"{login}@{host}"))


def check_sign_in(url: str) -> tuple[str, str]:
    """Connect as the URL's user; return ``(user, role kind)`` or raise StoreError."""
    from allocator.store.db import connect, whoami

    with connect(url) as conn:
        me = whoami(conn)
    return me.user, me.role_kind


def case_version(url: str) -> float:
    """Return the version of the case the URL names (signs in, so it checks the password)."""
    from allocator.store.cases import resolve_case_id
    from allocator.store.db import connect
    from allocator.store.schema import SCHEMA

    parsed = StoreUrl.parse(url)
    with connect(parsed) as conn:
        case_id = resolve_case_id(conn, parsed)
        row = conn.execute(
            f"SELECT version FROM {SCHEMA}.cases WHERE case_id = %s", (case_id,)
        ).fetchone()
    return float(row[0])


def signed_in_url() -> str | None:
    """Return this session's signed-in store URL, or None."""
    import streamlit as st

    return st.session_state.get(_SESSION_KEY)


def signed_in_user() -> str | None:
    """Return this session's database user, or None when not signed in to a store."""
    import streamlit as st

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
    import streamlit as st

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


__all__ = [
    "case_version",
    "check_sign_in",
    "needs_sign_in",
    "sign_in_panel",
    "signed_in_url",
    "signed_in_user",
    "store_address",
    "store_case_key",
    "with_credentials",
]
