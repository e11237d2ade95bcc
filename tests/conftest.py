"""Shared fixtures."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CASE = ROOT / "gis_data" / "zhejiang_sample.gpkg"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def sample_case_path() -> Path:
    if not SAMPLE_CASE.exists():
        pytest.skip("sample case not built (make sample)")
    return SAMPLE_CASE


@pytest.fixture(autouse=True)
def _reset_language():
    """Each test starts in zh; a CLI call with --lang en must not leak into later tests."""
    from allocator import i18n

    i18n.set_lang("zh")
    yield
    i18n.set_lang("zh")


# ----------------------------------------------------------------------------- solved runs


@dataclass(frozen=True)
class SolvedRuns:
    """The tiny case and three run folders solved from it for real (read-only: copy first).

    - ``base``: the shipped baseline. Nothing binds: every firm stays and grows,
      A001 gets P05, the locked A002 gets P08.
    - ``tight``: the baseline with Z01's energy cap × 0.35 (7,000 tce), Z02's × 0.5
      (7,500 tce) and firms outside their zone's 招商 catalogue free to leave
      (``exit.non_catalogue``: only F004, chemicals C2614 in Z02, whose catalogue
      is G59/F51). F004 (floor 0.8 × 9,000 tce) no longer fits beside F003 and A002
      in Z02 and moves out; A001 (floor 0.5 × 3,000 tce) no longer fits beside
      F001 and F002 in Z01 and takes F004's plot P07 instead of P05; Z01's
      energy cap binds and F002 is cut to what is left of it.
    - ``infeasible``: the baseline with Z02's energy cap at 0: the floors of the
      firms that must stay in Z02 cannot be met; the run holds a diagnosis, no plan.
    """

    case: Path
    folder: Path
    base: Path
    tight: Path
    infeasible: Path

    def copy_to(self, dest: Path, *names: str) -> dict[str, Path]:
        """Copy the named runs (oldest first, modification times kept) into ``dest``."""
        dest.mkdir(parents=True, exist_ok=True)
        copies = {}
        for name in names:
            src = getattr(self, name)
            copies[name] = Path(shutil.copytree(src, dest / src.name))
        return copies


SOLVED_SCENARIOS: dict[str, dict[str, object]] = {
    "base": {},
    "tight": {
        "caps.zones.Z01.energy_factor": 0.35,
        "caps.zones.Z02.energy_factor": 0.5,
        "exit.non_catalogue": True,
        "exit.relocation_cost_wan_per_mu": 20.0,
    },
    "infeasible": {"caps.zones.Z02.energy_factor": 0.0},
}


@pytest.fixture(scope="session")
def solved_runs(tmp_path_factory) -> SolvedRuns:
    """Solve the tiny case's three scenarios once per test session (about 2 s)."""
    import time

    from allocator import load_scenario, save_case, solve
    from allocator.case.testing import tiny_case

    folder = tmp_path_factory.mktemp("solved")
    case = save_case(tiny_case(), folder / "tiny.gpkg")
    paths = {}
    for name, overrides in SOLVED_SCENARIOS.items():
        scenario = load_scenario(
            ROOT / "scenarios" / "baseline.toml", {"case": str(case), **overrides}
        ).with_overrides({"name": name})
        result = solve(scenario, out_dir=folder / "runs")
        assert result.run_path is not None
        paths[name] = Path(result.run_path)
        time.sleep(0.02)  # distinct modification times: list_runs sorts by them
    return SolvedRuns(case=Path(case), folder=folder / "runs", **paths)
