"""The typed values at the boundary: SolverSettings, Status, Diagnosis, Kpis.

One settings value reaches every solve of a run (the diagnosis re-solve too) and
is recorded; a run folder read back gives the same typed values; runs written
before the values were typed still load; the CLI summary, the app's KPI table
and the Excel export show the same KPI keys and values for one run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from app_helpers import open_page, set_env

from allocator import (
    KPI_KEYS,
    Diagnosis,
    Kpis,
    SolverSettings,
    Status,
    format_kpi,
    kpi_label,
    kpi_value,
    load_scenario,
    shown_kpis,
    status_label,
)
from allocator.cli import main
from allocator.errors import ScenarioError
from allocator.runs import load_run
from allocator.scenario import scenario_from_dict


@pytest.fixture(scope="module")
def tiny_gpkg(tmp_path_factory):
    from allocator.case import save_case
    from allocator.case.testing import tiny_case

    path = tmp_path_factory.mktemp("case") / "tiny.gpkg"
    save_case(tiny_case(), path)
    return path


def _scenario(tmp_path: Path, case: Path, extra: str = "", name: str = "s") -> Path:
    path = tmp_path / f"{name}.toml"
    text = f'case = "{case}"\n{extra}\n[solver]\ntime_limit_s = 20.0\nrel_gap = 0.001\n'
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- settings


def test_settings_come_from_the_scenario_then_the_flags():
    scen = scenario_from_dict({"solver": {"time_limit_s": 12.0, "rel_gap": 0.01, "seed": 3}})
    base = SolverSettings.from_scenario(scen)
    assert base == SolverSettings("highs", 12.0, 0.01, 1, 3)
    resolved = SolverSettings.resolve(scen, time_limit_s=5.0)
    assert resolved == SolverSettings("highs", 5.0, 0.01, 1, 3)
    # explicit settings win over the scenario; flags still apply on top
    given = SolverSettings(time_limit_s=30.0, rel_gap=0.2, seed=7)
    assert SolverSettings.resolve(scen, given, rel_gap=0.05).rel_gap == 0.05
    assert SolverSettings.resolve(scen, given).seed == 7


@pytest.mark.parametrize(
    ("flag", "kwargs"),
    [("--gap", {"rel_gap": 2.0}), ("--time-limit", {"time_limit_s": -5.0})],
)
def test_settings_out_of_range_name_the_flag(flag, kwargs):
    scen = scenario_from_dict({})
    with pytest.raises(ScenarioError, match=flag):
        SolverSettings.resolve(scen, **kwargs)


def test_settings_round_trip():
    s = SolverSettings("cbc", 7.5, 0.003, 2, 11)
    assert SolverSettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert SolverSettings.from_dict(None) is None


# ----------------------------------------------------------------------------- status


def test_optimal_at_the_tolerance_is_not_called_proven():
    """A what-if asked for 0.5 % that stops at 0.42 % is optimal within its tolerance only."""
    assert status_label("optimal", "zh", gap=0.0042, tolerance=0.005) == "在容差 0.5% 内最优"
    assert status_label("optimal", "en", gap=0.0042, tolerance=0.005) == (
        "optimal within the 0.5% tolerance"
    )
    assert "已证最优" not in status_label("optimal", "zh", gap=0.0042)
    # (near) zero gap: proven
    assert status_label("optimal", "zh", gap=0.0, tolerance=0.005) == "已证最优"
    assert status_label("optimal", "zh", gap=5e-5, tolerance=0.005) == "已证最优"
    assert status_label("optimal", "zh") == "已证最优"


def test_a_solve_stopped_at_its_tolerance_says_so(sample_case_path, root):
    """A real sample solve at a 5 % tolerance stops at a nonzero gap: not 已证最优."""
    from allocator import run_status_label, solve

    scenario = load_scenario(
        root / "scenarios" / "baseline.toml",
        {"case": str(sample_case_path), "solver.rel_gap": 0.05, "solver.time_limit_s": 120},
    )
    result = solve(scenario, write=False)
    assert str(result.status) == "optimal"  # by the one rule: the gap closed within 5 %
    assert 1e-4 < result.gap <= 0.05
    assert run_status_label(result, "zh") == "在容差 5% 内最优"
    assert run_status_label(result, "en") == "optimal within the 5% tolerance"


def test_status_labels_in_both_languages():
    assert status_label(Status.OPTIMAL, "zh") == "已证最优"
    assert status_label("feasible", "zh", gap=0.0043) == "可行解，与最优差距 ≤ 0.43%"
    assert status_label("feasible", "en", gap=0.0043) == "feasible, within 0.43% of optimal"
    assert status_label("time_limit_no_solution", "en") == "stopped before a plan was found"
    assert status_label("something else", "en") == "solver error"
    for s in Status:
        assert status_label(s, "zh") != status_label(s, "en")


# ----------------------------------------------------------------------------- diagnosis


def test_infeasible_solve_diagnoses_with_the_settings_of_the_flags(tmp_path, tiny_gpkg, capsys):
    """``solve S --gap G --time-limit T``: the elastic re-solve runs with exactly G and T."""
    extra = "service_floor = 1.0\n[caps]\nenergy_factor = 0.01\n"
    path = _scenario(tmp_path, tiny_gpkg, extra)
    out = tmp_path / "runs"
    args = ["--lang", "en", "solve", str(path), "--out", str(out)]
    code = main([*args, "--gap", "0.0137", "--time-limit", "17.5"])
    printed = capsys.readouterr().out
    assert code == 2
    assert "infeasible" in printed
    (folder,) = list(out.iterdir())
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    diagnosis = json.loads((folder / "diagnosis.json").read_text(encoding="utf-8"))
    expected = {
        "solver": "highs",
        "time_limit_s": 17.5,
        "rel_gap": 0.0137,
        "threads": 1,
        "seed": 0,
        "work_limit": None,
        "search": "auto",
    }
    assert summary["settings"] == expected
    assert diagnosis["settings"] == expected
    run = load_run(folder)
    assert run.status is Status.INFEASIBLE
    assert run.settings == SolverSettings(**expected)
    assert run.diagnosis.settings == run.settings
    assert run.diagnosis.elastic_status in ("optimal", "feasible")
    assert run.diagnosis.relaxations  # the rows that had to give, in repair order
    shares = [i.share_of_cap for i in run.diagnosis.relaxations if i.share_of_cap is not None]
    assert shares == sorted(shares, reverse=True)


def test_diagnose_command_uses_the_same_settings(tmp_path, tiny_gpkg, capsys):
    extra = "service_floor = 1.0\n[caps]\nenergy_factor = 0.01\n"
    path = _scenario(tmp_path, tiny_gpkg, extra)
    args = ["diagnose", str(path), "--json", "--gap", "0.02", "--time-limit", "9"]
    assert main(args) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["settings"]["rel_gap"] == 0.02
    assert report["settings"]["time_limit_s"] == 9.0
    assert report["diagnosis"]["settings"] == report["settings"]


def test_diagnosis_json_round_trip_and_legacy_layout():
    legacy = {
        "presolve": [
            {
                "code": "floors_exceed_cap",
                "severity": "infeasible",
                "row": "zone_energy[Z01]",
                "need": 180.0,
                "have": 150.0,
                "unit": "tce",
                "message_zh": "zh",
                "message_en": "en",
            }
        ],
        "elastic": {
            "status": "optimal",
            "rows": [
                {"row": "zone_energy[Z02]", "family": "zone_energy", "amount": 5.0, "unit": "tce"}
            ],
        },
        "marginals_error": "ValueError: x",
    }
    diag = Diagnosis.from_json(legacy)
    assert [i.source for i in diag.items] == ["presolve", "elastic"]
    proof = diag.proofs[0]
    assert proof.amount == pytest.approx(30.0)
    assert proof.share_of_cap == pytest.approx(0.2)
    assert (proof.subject_kind, proof.subject_id) == ("zone", "Z01")
    assert diag.relaxations[0].subject_id == "Z02"
    assert diag.notes == ("ValueError: x",)
    again = Diagnosis.from_json(json.loads(json.dumps(diag.to_json())))
    assert again == diag


# ----------------------------------------------------------------------------- KPIs


def test_kpis_of_no_plan_are_none_not_zero():
    none = Kpis.none()
    assert not none.has_plan
    assert all(v is None for _, v in none.items())
    assert format_kpi("value_added_wan", none.get("value_added_wan")) == "—"
    assert Kpis.from_dict({"firms_exited": 3.0}).get("firms_moved_out") == 3.0


def test_old_run_folder_still_loads(tmp_path, tiny_gpkg):
    """A run folder written before the typed values (untyped diagnosis, old KPI keys) loads."""
    path = _scenario(tmp_path, tiny_gpkg)
    out = tmp_path / "runs"
    assert main(["solve", str(path), "--out", str(out)]) == 0
    (folder,) = list(out.iterdir())
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    fresh = load_run(folder)
    summary.pop("settings")
    summary["kpis"] = {"value_added_wan": summary["kpis"]["value_added_wan"], "firms_exited": 0}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    (folder / "diagnosis.json").write_text(json.dumps({"presolve": []}), encoding="utf-8")
    old = load_run(folder)
    assert old.settings is None
    assert old.status is Status.OPTIMAL
    assert old.diagnosis == Diagnosis()
    assert old.kpis == fresh.kpis


def test_cli_app_and_excel_show_the_same_kpis(tmp_path, tiny_gpkg, capsys, monkeypatch):
    """One run: the CLI summary, the app's KPI table and the Excel summary agree key by key."""
    from openpyxl import load_workbook

    from allocator.commands.solve import print_kpis
    from allocator.export import export

    path = _scenario(tmp_path, tiny_gpkg, 'name = "kpi_check"\n')
    out = tmp_path / "runs"
    assert main(["--lang", "zh", "solve", str(path), "--out", str(out)]) == 0
    capsys.readouterr()
    (folder,) = list(out.iterdir())
    run = load_run(folder)
    kpis = run.kpis
    recorded = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["kpis"]
    assert set(recorded) == set(KPI_KEYS)
    for key in KPI_KEYS:
        assert recorded[key] == pytest.approx(kpis.get(key))
    assert kpis.get("value_added_wan") > 0

    # CLI: the KPI table printed by `allocator solve`
    print_kpis(kpis)
    cli = {}
    for line in capsys.readouterr().out.splitlines():
        for key in shown_kpis(kpis):
            if line.startswith(kpi_label(key, "zh")):
                cli[key] = line[len(kpi_label(key, "zh")) :].split()[0]
    assert cli == {k: format_kpi(k, kpis.get(k)) for k in shown_kpis(kpis)}

    # app: the what-if page's KPI table for this run
    set_env(monkeypatch, {"ALLOCATOR_CASE": str(tiny_gpkg), "ALLOCATOR_RUNS_DIR": str(out)})
    from allocator.ui.results import kpi_frame

    frame = kpi_frame(run, None)
    app = dict(zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True))
    # every figure in the unit its label names: electricity in 万千瓦时 (MWh / 10)
    assert app == {kpi_label(k, "zh"): kpi_value(k, kpis.get(k)) for k in shown_kpis(kpis)}
    assert kpi_label("electricity_mwh", "zh") == "用电量（万千瓦时）"
    assert app["用电量（万千瓦时）"] == pytest.approx(kpis.get("electricity_mwh") / 10)
    assert cli["electricity_mwh"] == format_kpi("electricity_mwh", kpis.get("electricity_mwh"))
    assert cli["electricity_mwh"] == f"{kpis.get('electricity_mwh') / 10:,.0f}"
    at = open_page("whatif")
    assert not at.exception

    # Excel: the summary sheet of the export
    files = export(folder, "xlsx", tmp_path / "export", lang="zh")
    book = load_workbook(next(f for f in files if Path(f).suffix == ".xlsx"), read_only=True)
    sheet = book[book.sheetnames[0]]
    excel = {str(r[0]): r[1] for r in sheet.iter_rows(values_only=True) if r and r[0]}
    for key in KPI_KEYS:
        value = excel[kpi_label(key, "zh")]
        assert not isinstance(value, str)
        assert float(value) == pytest.approx(kpi_value(key, kpis.get(key)))
    assert excel["用电量（万千瓦时）"] == pytest.approx(kpis.get("electricity_mwh") / 10)
    assert not any(math.isnan(float(v)) for v in pd.Series(list(app.values())))
