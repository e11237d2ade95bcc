"""The what-if page's kept state and named scenarios (the library is allocator.ScenarioLibrary).

Kept state: the scenario being edited (its base, the changed keys, the
diagnosis' relaxations and the last result) is a draft in session state and on
disk (``<runs>/.drafts``, one file per case), written whenever it changes. A
page change drops Streamlit's widget values; a reload starts a new session:
either way the page is drawn again from the draft. A draft made on another
version of the case is cleared, with a note.

Named scenarios: ``<runs>/scenarios`` holds the scenarios saved by name; the
panel lists them by name, description and time (never by file name), and
saves, loads, renames, duplicates and deletes (after a confirmation). Buttons
work through callbacks, which run before the page is drawn, so the page shows
the new state at once; their messages wait in session state until drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from allocator import ScenarioLibrary, load_draft, save_draft
from allocator.ui import store as store_app
from allocator.ui.common import case_path, fixed, runs_dir, show_error, t

DRAFT = "whatif_draft"
"""Session key of the draft: ``base``, ``overrides``, ``relax``, ``relax_shown``, ``last``."""
_DRAFT_FOR = "_whatif_draft_for"
_WRITTEN = "_whatif_draft_written"
_NOTE = "_whatif_draft_note"
_PICK = "_whatif_pick"
_MESSAGE = "_whatif_lib_message"
_CONFIRM = "_whatif_lib_confirm"
LIBRARY_FOLDER = "scenarios"
DRAFT_FOLDER = ".drafts"


def library() -> ScenarioLibrary:
    """Return the named scenarios of this user (``<runs>/scenarios``)."""
    return ScenarioLibrary(runs_dir() / LIBRARY_FOLDER)


def draft_key() -> str:
    """Return what the draft belongs to: the active case (its store address or file)."""
    return store_app.store_address() or str(case_path().resolve())


def prefix_for(base_path: Path) -> str:
    """Return the widget-key prefix of a base scenario (saved ones apart from shipped ones)."""
    mine = base_path.parent.resolve() == library().folder.resolve()
    return f"sc:{'my-' if mine else ''}{base_path.stem}:"


# ----------------------------------------------------------------------------- the draft


def restore(case: Any) -> dict[str, Any]:
    """Load this case's draft into the session (once per session and case); return it.

    The last result and the relaxations come back only when the session has
    none of its own, and the result only while its run folder exists.
    """
    key = draft_key()
    if st.session_state.get(_DRAFT_FOR) != key:
        read = load_draft(runs_dir() / DRAFT_FOLDER, key, case.content_hash())
        data = dict(read.data or {})
        st.session_state[_DRAFT_FOR] = key
        st.session_state[DRAFT] = data
        st.session_state[_WRITTEN] = data
        if read.discarded:
            st.session_state[_NOTE] = "ui.scenlib.draft_discarded"
        elif data.get("overrides") or data.get("relax"):
            st.session_state[_NOTE] = "ui.scenlib.draft_restored"
        last = data.get("last")
        if last and "whatif_last" not in st.session_state:
            if (Path(str(last.get("run"))) / "summary.json").is_file():
                st.session_state["whatif_last"] = last
        if data.get("relax") and "whatif_relax" not in st.session_state:
            st.session_state["whatif_relax"] = data["relax"]
            st.session_state["whatif_relax_shown"] = data.get("relax_shown") or []
        if data.get("uploaded") and "whatif_uploaded" not in st.session_state:
            if Path(str(data["uploaded"])).is_file():
                st.session_state["whatif_uploaded"] = data["uploaded"]
    note = st.session_state.pop(_NOTE, None)
    if note:
        st.info(t(note))
    draft: dict[str, Any] = st.session_state[DRAFT]
    return draft


def initial(base_path: Path) -> dict[str, Any]:
    """Return the draft's changed keys when the draft is of this base (else none)."""
    draft = st.session_state.get(DRAFT) or {}
    if draft.get("base") != str(base_path):
        return {}
    return dict(draft.get("overrides") or {})


def keep(base_path: Path, overrides: dict[str, Any], case: Any) -> None:
    """Write the draft when the edited scenario, its relaxations or its last result changed."""
    state = {
        "base": str(base_path),
        "overrides": overrides,
        "relax": dict(st.session_state.get("whatif_relax") or {}),
        "relax_shown": list(st.session_state.get("whatif_relax_shown") or []),
        "last": st.session_state.get("whatif_last"),
        "uploaded": st.session_state.get("whatif_uploaded"),
    }
    st.session_state[DRAFT] = state
    if state == st.session_state.get(_WRITTEN):
        return
    try:
        save_draft(runs_dir() / DRAFT_FOLDER, draft_key(), case.content_hash(), state)
    except (OSError, TypeError, ValueError):  # the page goes on; the edit stays in the session
        import logging

        logging.getLogger("allocator.ui").warning("the what-if draft could not be written")
        return
    st.session_state[_WRITTEN] = state


def is_stale(last: dict[str, Any], scenario: Any, case: Any) -> bool:
    """Whether the last result answered other parameters (or another case) than these."""
    ran = last.get("hash")
    if ran is None:
        return False  # a result from before results recorded what they answered
    return ran != scenario.hash or last.get("case_hash") not in (None, case.content_hash())


def answered(scenario: Any, case: Any) -> dict[str, str]:
    """Return what a result answers: the scenario's and the case's hashes."""
    return {"hash": str(scenario.hash), "case_hash": str(case.content_hash())}


# ----------------------------------------------------------------------------- base choice


def base_options() -> dict[str, str]:
    """Return the saved scenarios usable as a base: path → label (their names)."""
    return {
        str(e.path): t("ui.scenlib.base_label", name=e.name) for e in library().entries() if e.ok
    }


def choose(options: list[str]) -> None:
    """Set the base selectbox's value before it is drawn: a pending pick, else the draft's."""
    pick = st.session_state.pop(_PICK, None)
    if pick in options:
        st.session_state["whatif_base"] = pick
        return
    if st.session_state.get("whatif_base") in options:
        return
    st.session_state.pop("whatif_base", None)
    base = (st.session_state.get(DRAFT) or {}).get("base")
    if base in options:
        st.session_state["whatif_base"] = base


# ----------------------------------------------------------------------------- the panel


def _say(kind: str, text: str) -> None:
    st.session_state[_MESSAGE] = (kind, text)


def _fail(exc: Exception) -> None:
    st.session_state[_MESSAGE] = ("error", exc)


def _forget_widgets(prefix: str) -> None:
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def _load(path: str, name: str) -> None:
    """Make the saved scenario the base, with no changes (its saved values); a callback."""
    _forget_widgets(prefix_for(Path(path)))
    draft = dict(st.session_state.get(DRAFT) or {})
    draft.update(base=path, overrides={})
    st.session_state[DRAFT] = draft
    st.session_state[_PICK] = path
    st.session_state.pop("whatif_relax", None)
    st.session_state.pop("whatif_relax_shown", None)
    _say("success", t("ui.scenlib.loaded", name=name))


def _save(scenario: Any, case_hash: str) -> None:
    """Save the scenario being edited under the typed name and description; a callback."""
    name = str(st.session_state.get("whatif_save_name") or "")
    description = str(st.session_state.get("whatif_save_description") or "")
    try:
        entry = library().save(scenario, name, description, case_hash=case_hash)
    except Exception as exc:  # noqa: BLE001 - shown by show_error, never as a traceback
        _fail(exc)
        return
    st.session_state["whatif_save_name"] = ""
    st.session_state["whatif_save_description"] = ""
    st.session_state["whatif_lib_pick"] = str(entry.path)
    _say("success", t("ui.scenlib.saved", name=entry.name))


def _rename(path: str, name: str) -> None:
    """Rename; a base being edited follows its file, its edits kept (a callback)."""
    try:
        entry = library().rename(name, str(st.session_state.get("whatif_lib_new_name") or ""))
    except Exception as exc:  # noqa: BLE001 - shown by show_error, never as a traceback
        _fail(exc)
        return
    draft = dict(st.session_state.get(DRAFT) or {})
    if draft.get("base") == path:
        draft["base"] = str(entry.path)
        st.session_state[DRAFT] = draft
    if st.session_state.get("whatif_base") == path:
        st.session_state[_PICK] = str(entry.path)
    st.session_state["whatif_lib_pick"] = str(entry.path)
    st.session_state["whatif_lib_new_name"] = ""
    _say("success", t("ui.scenlib.renamed", old=name, name=entry.name))


def _duplicate(name: str) -> None:
    """Save a copy under the new name, or "<name> 副本" (a callback)."""
    new = str(st.session_state.get("whatif_lib_new_name") or "").strip()
    try:
        entry = library().duplicate(name, new or t("ui.scenlib.copy_name", name=name))
    except Exception as exc:  # noqa: BLE001 - shown by show_error, never as a traceback
        _fail(exc)
        return
    st.session_state["whatif_lib_pick"] = str(entry.path)
    st.session_state["whatif_lib_new_name"] = ""
    _say("success", t("ui.scenlib.duplicated", name=entry.name))


def _ask_delete(path: str) -> None:
    st.session_state[_CONFIRM] = path


def _cancel_delete() -> None:
    st.session_state.pop(_CONFIRM, None)


def _delete(path: str, name: str) -> None:
    """Delete the file after the confirmation; a base being edited goes back (a callback)."""
    st.session_state.pop(_CONFIRM, None)
    try:
        library().delete(name)
    except Exception as exc:  # noqa: BLE001 - shown by show_error, never as a traceback
        _fail(exc)
        return
    if st.session_state.get("whatif_base") == path:
        st.session_state.pop("whatif_base", None)
    draft = dict(st.session_state.get(DRAFT) or {})
    if draft.get("base") == path:
        draft.update(base=None, overrides={})
        st.session_state[DRAFT] = draft
    st.session_state.pop("whatif_lib_pick", None)
    _say("success", t("ui.scenlib.deleted", name=name))


def _message() -> None:
    shown = st.session_state.pop(_MESSAGE, None)
    if not shown:
        return
    kind, body = shown
    if kind == "error":
        show_error(body)
    else:
        st.success(body)


def panel(scenario: Any, case: Any) -> None:
    """Draw the named scenarios: save the one being edited; list, load, rename, copy, delete."""
    lib = library()
    entries = lib.entries()
    with st.expander(t("ui.scenlib.title"), expanded=bool(entries)):
        _message()
        st.text_input(t("ui.scenlib.name"), key="whatif_save_name", max_chars=80)
        st.text_area(t("ui.scenlib.description"), key="whatif_save_description", height=68)
        st.button(
            t("ui.scenlib.save"),
            key="whatif_save_named",
            on_click=_save,
            args=(scenario, case.content_hash()),
        )
        if not entries:
            st.caption(t("ui.scenlib.empty"))
            return
        st.dataframe(_table(entries, case.content_hash()), hide_index=True, width="stretch")
        by_path = {str(e.path): e for e in entries}
        if st.session_state.get("whatif_lib_pick") not in by_path:
            st.session_state.pop("whatif_lib_pick", None)
        chosen = st.selectbox(
            t("ui.scenlib.pick"),
            list(by_path),
            format_func=fixed(lambda p: by_path[p].name if p in by_path else "—"),
            key="whatif_lib_pick",
        )
        entry = by_path[str(chosen)]
        path = str(entry.path)
        if st.session_state.get(_CONFIRM) == path:
            st.warning(t("ui.scenlib.confirm_delete", name=entry.name))
            c1, c2 = st.columns(2)
            c1.button(
                t("ui.scenlib.confirm"),
                key="whatif_lib_confirm",
                type="primary",
                on_click=_delete,
                args=(path, entry.name),
            )
            c2.button(t("ui.scenlib.cancel"), key="whatif_lib_cancel", on_click=_cancel_delete)
            return
        st.button(
            t("ui.scenlib.load"),
            key="whatif_lib_load",
            disabled=not entry.ok,
            on_click=_load,
            args=(path, entry.name),
        )
        st.text_input(
            t("ui.scenlib.new_name"),
            key="whatif_lib_new_name",
            max_chars=80,
            placeholder=t("ui.scenlib.copy_name", name=entry.name),
        )
        c1, c2, c3 = st.columns(3)
        c1.button(
            t("ui.scenlib.rename"),
            key="whatif_lib_rename",
            disabled=not entry.ok,
            on_click=_rename,
            args=(path, entry.name),
        )
        c2.button(
            t("ui.scenlib.duplicate"),
            key="whatif_lib_duplicate",
            disabled=not entry.ok,
            on_click=_duplicate,
            args=(entry.name,),
        )
        c3.button(
            t("ui.scenlib.delete"), key="whatif_lib_delete", on_click=_ask_delete, args=(path,)
        )


def _table(entries: list[Any], case_hash: str) -> pd.DataFrame:
    """Return the list as planners read it: name, description, time, and a note."""
    rows = []
    for e in entries:
        note = ""
        if not e.ok:
            note = t("ui.scenlib.damaged")
        elif e.case_hash and e.case_hash != case_hash:
            note = t("ui.scenlib.other_case")
        rows.append(
            {
                t("ui.scenlib.col_name"): e.name,
                t("ui.scenlib.col_description"): e.description,
                t("ui.scenlib.col_modified"): e.modified.strftime("%Y-%m-%d %H:%M"),
                t("ui.scenlib.col_note"): note,
            }
        )
    return pd.DataFrame(rows)
