"""In a real browser: the compare page attributes the difference between two shipped scenarios.

Solves ``scenarios/baseline.toml`` and ``scenarios/energy_cap_minus_15pct.toml`` on the
sample case, opens 情景对比, presses the attribution button and waits for the table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.i18n import t
from allocator.runs import run_names
from allocator.scenario import load_scenario
from allocator.solve import solve
from allocator.ui.browser import app_server, browser_page, chromium_path, wait_idle

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_compare_page_attribution_in_chromium(root, sample_case_path, tmp_path):
    if chromium_path() is None:
        pytest.skip("chromium not installed (apt-get install chromium); .ci/run installs it")
    runs = tmp_path / "runs"
    for name in ("baseline", "energy_cap_minus_15pct"):
        solve(load_scenario(root / "scenarios" / f"{name}.toml"), out_dir=runs, time_limit_s=60)
    env = {"ALLOCATOR_CASE": str(sample_case_path), "ALLOCATOR_RUNS_DIR": str(runs)}
    ARTIFACTS.mkdir(exist_ok=True)
    with app_server(env) as url, browser_page() as page:
        page.goto(f"{url}/compare")
        wait_idle(page, 120_000)
        button = page.get_by_role("button", name=t("ui.compare.attribution_run", "zh"))
        button.scroll_into_view_if_needed()
        button.click()
        page.get_by_text("Shapley 精确值", exact=False).first.wait_for(
            state="visible", timeout=300_000
        )
        wait_idle(page, 120_000)
        page.screenshot(path=str(ARTIFACTS / "browser_attribution.png"), full_page=True)
        body = page.inner_text("[data-testid='stMain']")
        assert t("ui.compare.attribution", "zh") in body
        assert "Traceback" not in body
        # the runs by the names planners read (scenario title · time), not by folder
        names = run_names([p for p in runs.iterdir() if (p / "summary.json").is_file()], "zh")
        base = next(n for n in names.values() if n.startswith("基准情景"))
        assert f"差异归因（{base} → " in body
        assert "差异归因（baseline-" not in body
