"""Helpers shared by every page: language, cached case loading, errors, formatting.

Pages call the public ``allocator`` API directly (names in ``allocator.__all__``
and the public modules listed in docs/boundary.md; ``tests/test_ui_imports.py``
keeps it so). Errors never reach the user as a traceback: they are shown with
:func:`show_error` (the message, the library's hint, and the located problems
in an expander); the traceback goes to the server log only.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from allocator import (
    available_methods,
    i18n,
    load_case_cached,
    load_method,
    load_run,
    plot_overlays,
    run_name,
    score,
)
from allocator import title_in as run_title_in
from allocator.errors import AllocatorError
from allocator.ui import store as store_app

log = logging.getLogger("allocator.ui")
T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CASE = ROOT / "gis_data" / "zhejiang_sample.gpkg"
SCENARIO_DIR = ROOT / "scenarios"
LANG_NAMES = {"zh": "中文", "en": "English"}
MAX_UPLOAD_MB = 50


# --- language --------------------------------------------------------------------------------


_LANG_PINNED: contextvars.ContextVar[str | None] = contextvars.ContextVar("lang", default=None)


def lang() -> str:
    """Return the language chosen in the sidebar (zh by default, or ``ALLOCATOR_LANG``)."""
    pinned = _LANG_PINNED.get()
    if pinned:
        return pinned
    try:
        value = st.session_state.get("lang")
    except Exception:  # noqa: BLE001 - outside a script run (e.g. a test formatting labels)
        value = None
    if value in LANG_NAMES:
        return value
    return "en" if os.environ.get("ALLOCATOR_LANG", "zh").lower().startswith("en") else "zh"


def fixed(fn: Callable[[Any], str]) -> Callable[[Any], str]:
    """Return ``fn`` pinned to the current language.

    For ``format_func``: Streamlit may call it again outside the script run,
    where the session's language is unknown.
    """
    current = lang()

    def wrapped(value: Any) -> str:
        token = _LANG_PINNED.set(current)
        try:
            return fn(value)
        finally:
            _LANG_PINNED.reset(token)

    return wrapped


def t(key: str, **fmt: object) -> str:
    """Translate ``key`` into the session's language."""
    return i18n.t(key, lang=lang(), **fmt)


def language_switch() -> None:
    """Draw the language selector in the sidebar; the choice lives in session state."""
    if "lang" not in st.session_state:
        st.session_state["lang"] = lang()
    st.sidebar.radio(
        t("app.language"),
        list(LANG_NAMES),
        format_func=LANG_NAMES.__getitem__,
        key="lang",
        horizontal=True,
    )


# --- paths -----------------------------------------------------------------------------------


def case_path() -> Path:
    """Return the active case: uploaded in this session, ``ALLOCATOR_CASE``, or the sample."""
    chosen = st.session_state.get("case_path")
    if chosen:
        return Path(chosen)
    env = os.environ.get("ALLOCATOR_CASE")
    return Path(env) if env else DEFAULT_CASE


def runs_dir() -> Path:
    """Return the folder runs are written to (``ALLOCATOR_RUNS_DIR`` or ``runs/``)."""
    env = os.environ.get("ALLOCATOR_RUNS_DIR")
    base = Path(env) if env else ROOT / "runs"
    user = store_app.signed_in_user()  # signed in to a shared store: one folder per account
    return base / user if user else base


def scenario_dir() -> Path:
    """Return the folder of shipped scenarios (``ALLOCATOR_SCENARIOS`` or ``scenarios/``)."""
    env = os.environ.get("ALLOCATOR_SCENARIOS")
    return Path(env) if env else SCENARIO_DIR


def session_dir() -> Path:
    """Return a private temporary folder for this session's uploads."""
    path = st.session_state.get("_tmpdir")
    if not path or not Path(path).is_dir():
        path = tempfile.mkdtemp(prefix="allocator-ui-")
        st.session_state["_tmpdir"] = path
    return Path(path)


def save_upload(upload: Any, subdir: str = "uploads") -> Path:
    """Write an uploaded file into the session folder and return its path.

    The file name is reduced to its last component so an upload can never
    write outside the session folder.
    """
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_MB * 1024 * 1024:
        raise AllocatorError(t("ui.upload.too_big", name=upload.name, mb=MAX_UPLOAD_MB))
    folder = session_dir() / subdir
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(str(upload.name).replace("\\", "/")).name or "upload"
    dest = folder / name
    dest.write_bytes(upload.getvalue())
    return dest


# --- errors ----------------------------------------------------------------------------------


def show_error(exc: BaseException) -> None:
    """Show an error as a message with its details in an expander (never a traceback)."""
    if isinstance(exc, AllocatorError):
        text = exc.message
        if exc.problems:
            errors = [p for p in exc.problems if p.severity == "error"] or exc.problems
            lines = [f"- {p.where()}: {p.message}" for p in errors[:5]]
            more = len(errors) - 5
            text = "\n".join(
                [exc.message.splitlines()[0], "", *lines, *([f"- … (+{more})"] if more > 0 else [])]
            )
        st.error(text)
        if exc.hint:
            st.caption(exc.hint)
        if exc.problems:
            with st.expander(t("error.details")):
                st.dataframe(
                    pd.DataFrame([p.to_dict() for p in exc.problems]),
                    hide_index=True,
                    width="stretch",
                )
        return
    log.exception("unexpected error in the app", exc_info=exc)
    st.error(t("ui.error.unexpected"))
    with st.expander(t("error.details")):
        st.text(f"{type(exc).__name__}: {exc}")


@contextmanager
def guard() -> Iterator[None]:
    """Run a block; any error is shown with :func:`show_error` and the page goes on."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the user sees a message, the log the traceback
        show_error(exc)


def attempt(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Call ``fn``; on error show it and return None."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return None


# --- cached case and derived tables ----------------------------------------------------------


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


def _load_case(path: str, mtime: float) -> Any:
    return load_case_cached(path)  # the one bounded case cache (path and content)


def case_key() -> tuple[str, float] | None:
    """Return ``(path, mtime)`` of the active case, the cache key of everything derived."""
    if store_app.store_address():  # a shared store: (signed-in URL, case version)
        return store_app.store_case_key()
    path = case_path()
    if not path.exists():
        return None
    return str(path), _mtime(path)


def get_case(show: bool = True) -> Any | None:
    """Return the active case (loaded once per file version), or None with a message."""
    if store_app.needs_sign_in():
        if show:
            st.info(t("store.app.sign_in_first"))
        return None
    path = case_path()
    if not path.exists() and not store_app.store_address():
        if show:
            st.warning(t("ui.case.missing", path=str(path)))
        return None
    try:
        key = case_key()
        assert key is not None
        return _load_case(*key)
    except Exception as exc:  # noqa: BLE001
        if show:
            show_error(exc)
        return None


@st.cache_resource(show_spinner=False, max_entries=4)
def _overlays(path: str, mtime: float, buffer_m: float, _case: Any) -> pd.DataFrame:
    return plot_overlays(_case, buffer_m=buffer_m)


def get_overlays(case: Any, buffer_m: float = 0.0) -> pd.DataFrame | None:
    """Return the plot overlays of the active case (cached), or None with a message."""
    key = case_key()
    if key is None:
        return None
    return attempt(_overlays, *key, float(buffer_m), case)


@st.cache_resource(show_spinner=False, max_entries=8)
def _scores(path: str, mtime: float, method: str, _case: Any) -> Any:
    return score(_case, method=method)


def get_scores(case: Any, method: str = "huangyan_2022") -> Any | None:
    """Return the 亩均 scores of the active case's firms (cached), or None with a message."""
    key = case_key()
    if key is None:
        return None
    return attempt(_scores, *key, method, case)


@st.cache_data(show_spinner=False, ttl=300)
def list_methods() -> list[str]:
    """Return the complete scoring methods shipped in ``allocator/policy``, default first."""
    return list(available_methods()) or ["huangyan_2022"]


def method_title(name: str) -> str:
    """Return a scoring method's title for people (``ui.choice.<name>``, else the file's title).

    A method file without a locale entry is named by its own ``title``; its
    file name is shown only when it has neither.
    """
    key = f"ui.choice.{name}"
    if i18n.has(key):
        return t(key)
    try:
        title = getattr(load_method(name), "title", None)
    except Exception:  # noqa: BLE001 - a method that does not load is named by its name
        title = None
    return str(title) if title else name


def list_scenarios() -> list[Path]:
    """Return the shipped scenario files, baseline first."""
    files = sorted(scenario_dir().glob("*.toml"))
    files.sort(key=lambda p: (p.stem != "baseline", p.stem))
    return files


def title_in(description: str, lang_code: str) -> str:
    """Return one language's part of a bilingual "中文 / English" title (else the whole text)."""
    return run_title_in(description, lang_code)


@st.cache_data(show_spinner=False, max_entries=256)
def _scenario_description(path: str, mtime: float) -> str:
    import tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return ""
    return str(data.get("description") or data.get("name") or "")


def scenario_title(path: str | Path) -> str:
    """Return a scenario file's title in the session's language (its description, not its name).

    A planner chooses "能耗双控收紧：…", not ``energy_cap_minus_15pct``; a file
    without a description is shown by its scenario name.
    """
    path = Path(path)
    text = _scenario_description(str(path), _mtime(path))
    return title_in(text, lang()) if text else path.stem.replace("_", " ")


def run_title(path: Path, run: Any) -> str:
    """Return a run's name for people (``allocator.run_name``): scenario title · time · label."""
    return run_name(run if run is not None else path, lang())


def list_runs() -> list[Path]:
    """Return the run folders (with a ``summary.json``), newest first."""
    folder = runs_dir()
    if not folder.is_dir():
        return []
    runs = [
        p for p in folder.iterdir() if not p.name.startswith(".") and (p / "summary.json").is_file()
    ]
    runs.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return runs


@st.cache_resource(show_spinner=False, max_entries=32)
def _load_run(path: str, mtime: float) -> Any:
    return load_run(path)


def get_run(path: Path) -> Any | None:
    """Return a run folder loaded with ``allocator.load_run`` (cached), or None with a message."""
    return attempt(_load_run, str(path), _mtime(path / "summary.json"))


def short_hash(data: bytes | str) -> str:
    """Return a short stable hash (for widget keys and cache keys)."""
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()[:10]


# --- formatting ------------------------------------------------------------------------------


def fmt_num(value: Any, digits: int = 1) -> str:
    """Format a number with thousands separators, or an em dash when missing."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if number != number:  # NaN
        return "—"
    if abs(number) >= 100 or digits == 0:
        return f"{number:,.0f}"
    return f"{number:,.{digits}f}"


def fmt_pct(value: Any, digits: int = 2) -> str:
    """Format a share (0.0123) as a percentage (1.23 %), or an em dash."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if number != number:
        return "—"
    return f"{100 * number:.{digits}f} %"


_CSS = """<style>
[data-testid="stMetricValue"] { font-size: 1.55rem; }
[data-testid="stMetricLabel"] p { font-size: 0.85rem; }
</style>"""


def page_header(title_key: str, caption_key: str | None = None) -> None:
    """Draw a page's title (and caption) in the session's language."""
    st.html(_CSS)
    st.header(t(title_key))
    if caption_key:
        st.caption(t(caption_key))


COLUMN_LABELS: tuple[str, ...] = ("ui.col.", "export.col.", "scoring.h.", "ui.ind.")
"""Where a column's planner label is looked up, in order (the app's, the exports', the scores')."""


def column_label(col: Any) -> str | None:
    """Return the planner's header of a table column, or None when it has none.

    ``ind_<x>`` is the indicator ``<x>`` (``ui.ind.<x>``) and ``part_<x>`` its
    score part (``ui.col.part``); other names go through :data:`COLUMN_LABELS`.
    """
    if not isinstance(col, str):
        return None
    for prefix in COLUMN_LABELS:
        if i18n.has(prefix + col):
            return t(prefix + col)
    for head, key in (("ind_", "ui.col.indicator"), ("part_", "ui.col.part")):
        indicator = f"ui.ind.{col[len(head) :]}"
        if col.startswith(head) and i18n.has(indicator):
            return t(key, indicator=t(indicator))
    return None


def show_table(frame: pd.DataFrame, **kwargs: Any) -> Any:
    """Show a DataFrame with column headers in the session's language (data unchanged).

    Known columns get their planner label (:func:`column_label`); a column with
    no label is an internal one and is hidden, so a planner never reads a
    column name. The underlying column names stay canonical, so downloads and
    tests see the library's names.
    """
    config = dict(kwargs.pop("column_config", {}) or {})
    for col in frame.columns:
        if col in config:
            continue
        label = column_label(col)
        config[col] = st.column_config.Column(label) if label is not None else None
    index_label = column_label(frame.index.name)
    if "_index" not in config and index_label is not None:
        config["_index"] = st.column_config.Column(index_label)
    kwargs.setdefault("width", "stretch")
    return st.dataframe(frame, column_config=config, **kwargs)
