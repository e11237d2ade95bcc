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


def fake_run(out_dir: Path, name: str, *, f004_leaves: bool, objective: float) -> Path:
    """Write a hand-made run folder of the tiny case (no solver): two variants for comparing.

    Base: every existing firm stays, A002 gets P08. Variant (``f004_leaves``): F004 is
    moved out (P07 freed) and A001 gets P04; zone_energy[Z02] is binding only in the base.
    """
    import pandas as pd

    from allocator.diagnosis import Diagnosis
    from allocator.runs import Result, write_run

    def pick(base: object, variant: object) -> object:
        return variant if f004_leaves else base

    firms = pd.DataFrame(
        {
            "firm_id": ["F001", "F002", "F003", "F004", "A001", "A002"],
            "name": ["甲", "乙", "丙", "丁", "戊", "己"],
            "kind": ["existing"] * 4 + ["applicant"] * 2,
            "zone_id": ["Z01", "Z01", "Z02", "Z02", pick(None, "Z01"), "Z02"],
            "class": ["A", "B", "B", "D", "A", "B"],
            "served": [True, True, True, not f004_leaves, f004_leaves, True],
            "parcel_id": [None, None, None, None, pick(None, "P04"), "P08"],
            "land_mu": [90.0, 90.0, 90.0, pick(90.0, 0.0), pick(0.0, 90.0), 90.0],
            "electricity_mwh": [
                18000.0, 15000.0, 4000.0, pick(12000.0, 0.0), pick(0.0, 20000.0), 5000.0
            ],
            "energy_tce": [3000.0, 4500.0, 600.0, pick(9000.0, 0.0), pick(0.0, 3600.0), 800.0],
            "cod_t": 0.0,
            "nh3n_t": 0.0,
            "so2_t": 0.0,
            "nox_t": 0.0,
            "value_added_wan": [
                20000.0, 9000.0, 3000.0, pick(4000.0, 0.0), pick(0.0, 18000.0), 2500.0
            ],
            "tax_wan": [3000.0, 1200.0, 400.0, pick(300.0, 0.0), pick(0.0, 2500.0), 300.0],
            "request_met_share": 1.0,
            "reason": [
                "stays", "stays", "stays", pick("stays", "moved_out"),
                pick("not_admitted", "admitted"), "admitted",
            ],
        }
    )  # fmt: skip
    plots = pd.DataFrame(
        {
            "plot_id": [f"P0{i}" for i in range(1, 10)],
            "zone_id": ["Z01"] * 5 + ["Z02"] * 4,
            "land_use": ["M1", "M1", "M0", "M1", "MIX", "W", "M1", "W", "M1"],
            "area_mu": 90.0,
            "status_before": [
                "occupied", "occupied", "idle", "vacant", "vacant",
                "occupied", "occupied", "vacant", "vacant",
            ],
            "occupant_before": ["F001", "F002", None, None, None, "F003", "F004", None, None],
            "firm_id_after": [
                "F001", "F002", None, pick(None, "A001"), None,
                "F003", pick("F004", None), "A002", None,
            ],
            "outcome": [
                "kept", "kept", "vacant", pick("vacant", "new_project"), "vacant",
                "kept", pick("kept", "freed"), "new_project", "excluded_redline",
            ],
            "class_after": [
                "A", "B", None, pick(None, "A"), None, "B", pick("D", None), "B", None
            ],
            "redline_share": [0.0] * 8 + [0.5],
        }
    )  # fmt: skip
    zones = pd.DataFrame(
        {
            "zone_id": ["Z01", "Z02"],
            "name": ["杭州综合保税区", "宁波梅山综合保税区"],
            "land_used_mu": [270.0 if f004_leaves else 180.0, 180.0 if f004_leaves else 270.0],
            "land_free_mu": [180.0 if f004_leaves else 270.0, 180.0 if f004_leaves else 90.0],
            "electricity_mwh": [
                53000.0 if f004_leaves else 33000.0,
                9000.0 if f004_leaves else 21000.0,
            ],
            "electricity_cap_mwh": [60000.0, 40000.0],
            "energy_tce": [11100.0 if f004_leaves else 7500.0, 1400.0 if f004_leaves else 10400.0],
            "energy_cap_tce": [20000.0, 15000.0],
            "tax_per_mu_before": [23.3, 3.9],
            "tax_per_mu_after": [24.8 if f004_leaves else 23.3, 3.9],
            "va_per_mu_before": [161.1, 26.1],
            "va_per_mu_after": [200.0 if f004_leaves else 161.1, 30.6],
        }
    )
    marginals = pd.DataFrame(
        {
            "row": ["zone_energy[Z01]", "zone_energy[Z02]"],
            "family": ["zone_energy", "zone_energy"],
            "zone_id": ["Z01", "Z02"],
            "unit_id": [None, None],
            "value": [0.0, 0.0 if f004_leaves else 2.5],
            "unit": ["万元/tce", "万元/tce"],
            "slack": [8900.0 if f004_leaves else 12500.0, 13600.0 if f004_leaves else 0.0],
            "binding": [False, not f004_leaves],
        }
    )
    result = Result(
        status="optimal",
        objective=objective,
        best_bound=objective,
        gap=0.0,
        firms=firms,
        zones=zones,
        plots=plots,
        marginals=marginals,
        diagnosis=Diagnosis(),
        scenario_name=name,
        scenario_toml=f'name = "{name}"\n',
    )
    return write_run(result, out_dir)
