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
