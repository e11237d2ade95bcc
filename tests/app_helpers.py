"""Shared set-up for the AppTest modules: the tiny case on disk and an app runner."""

from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


_TINY: dict[str, Path] = {}


def write_tiny_case(folder: Path | None = None) -> Path:
    """Return the tiny case as a GeoPackage, written once per test process (read-only use)."""
    if "path" not in _TINY or not _TINY["path"].exists():
        import atexit
        import shutil
        import tempfile

        from allocator.case import save_case
        from allocator.case.testing import tiny_case

        tmp = Path(tempfile.mkdtemp(prefix="allocator-tiny-"))
        atexit.register(shutil.rmtree, tmp, True)
        _TINY["path"] = save_case(tiny_case(), tmp / "tiny.gpkg")
    return _TINY["path"]


def open_page(page: str, lang: str = "zh", timeout: float = 60) -> AppTest:
    """Run the app, switch to ``page`` and return the AppTest (env set by the caller)."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["lang"] = lang
    at.run()
    if page != "overview":
        at.switch_page(f"allocator/ui/pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Return every message, caption, markdown and metric of the page as one string."""
    parts: list[str] = []
    for kind in ("success", "info", "warning", "error", "caption", "markdown", "subheader", "text"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label}={m.value}" for m in at.metric]
    return "\n".join(parts)


def env_for(case: Path, runs: Path) -> dict[str, str]:
    return {"ALLOCATOR_CASE": str(case), "ALLOCATOR_RUNS_DIR": str(runs)}


def set_env(monkeypatch, values: dict[str, str]) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    os.environ.update(values)


def use_runs(solved, tmp_path: Path, monkeypatch, *names: str) -> dict[str, Path]:
    """Copy the named real runs (``conftest.SolvedRuns``) into a fresh runs folder for the app.

    The app is pointed at that folder and at the case the runs were solved on;
    a test may write beside them (what-if solves, exports) without touching
    the session's runs.
    """
    runs = tmp_path / "runs"
    copies = solved.copy_to(runs, *names)
    set_env(monkeypatch, env_for(solved.case, runs))
    return copies


# ----------------------------------------------------------------------------- planner language

INTERNAL_PATTERNS: tuple[str, ...] = (
    r"\b[a-z][a-z0-9]*_(?:id|ids|wan|mu|tce|mwh|t)\b",  # column names with unit/id suffixes
    r"\b[a-z]+(?:_[a-z0-9]+)+\b",  # snake_case identifiers (managed_class, huangyan_2022)
    r"\bNone\b",
    r"\b[Nn]a[Nn]\b",
    r"\b[A-Za-z_]\w*\[",  # model row syntax: zone_energy[Z01], locked[firm=…]
    r"\bexisting/applicant\b",
    r"\bcaps\.\w",  # scenario keys
)
"""What a planner must never read: internal identifiers of the model, the data or the code."""

ZH_ALLOWED_WORDS = frozenset(
    {"GeoPackage", "GeoJSON", "TOML", "Excel", "CSV", "PDF", "HTML", "GIS", "KPI", "HiGHS", "CBC"}
    | {"kWh", "MWh", "km", "zip", "xlsx", "gpkg", "toml", "json", "csv", "pdf", "html", "png"}
    | {"Leaflet", "OpenStreetMap", "CRS", "WGS", "CGCS", "EPSG", "Streamlit", "LP", "MPS", "Dask"}
)
"""Latin words a Chinese page may show: file formats, units, software names."""


def internal_identifiers(text: str, lang: str) -> list[str]:
    """Return every internal identifier (and, in zh, every English word) found in ``text``."""
    import re

    # a file's own name (tiny.gpkg, 企业.xlsx) is the user's, not an internal identifier
    text = re.sub(r"[\w\-]+\.(?:gpkg|toml|xlsx|csv|zip|json|pdf|html|png)\b", "", text)
    hits = [m.group(0) for p in INTERNAL_PATTERNS for m in re.finditer(p, text)]
    if lang == "zh":
        for m in re.finditer(r"(?<![A-Za-z0-9_.\-/])[A-Za-z]{3,}(?![A-Za-z0-9_])", text):
            word = m.group(0)
            if word not in ZH_ALLOWED_WORDS and not word.isupper():
                hits.append(word)
    return hits
