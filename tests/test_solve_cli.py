"""CLI solve / diagnose / write-lp on the tiny case saved as a GeoPackage."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.cli import main
from allocator.runs import run_name

for _mod in ("allocator.eligibility", "allocator.scoring", "models.solver"):
    pytest.importorskip(_mod)


@pytest.fixture(scope="module")
def tiny_gpkg(tmp_path_factory):
    from allocator.case import save_case
    from allocator.case.testing import tiny_case

    path = tmp_path_factory.mktemp("case") / "tiny.gpkg"
    save_case(tiny_case(), path)
    return path


def scenario(tmp_path, case, extra=""):
    path = tmp_path / "s.toml"
    path.write_text(f'case = "{case}"\n{extra}\n[solver]\ntime_limit_s = 20.0\n', encoding="utf-8")
    return path


def test_cli_solve_prints_status_gap_and_zones(tmp_path, tiny_gpkg, capsys):
    code = main(
        [
            "--lang",
            "en",
            "solve",
            str(scenario(tmp_path, tiny_gpkg)),
            "--out",
            str(tmp_path / "runs"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "Status: proven optimal" in out
    assert "Gap:" in out
    # zones by name, not by id
    assert "杭州综合保税区" in out
    assert "宁波梅山综合保税区" in out
    assert "Z01" not in out
    assert "tax/mu after" in out
    assert "building the model" in err
    assert "solving" in err
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1
    # the run by its name for people, then the folder to type in other commands
    assert f"Run name: {run_name(runs[0], 'en')}\nRun folder: {runs[0]}" in out


def test_cli_solve_summary_in_chinese_is_aligned(tmp_path, tiny_gpkg, capsys):
    assert main(["solve", str(scenario(tmp_path, tiny_gpkg)), "--no-write"]) == 0
    out = capsys.readouterr().out
    assert "耗时: 建模 " in out
    assert "模型规模: 约束数 " in out
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("园区"))
    assert set(lines[head + 1].replace(" ", "")) == {"-"}

    # every row's last number ends where the header ends (CJK counted double)
    def display(text: str) -> int:
        return sum(2 if ord(c) > 0x2E80 else 1 for c in text)

    width = display(lines[head])
    assert all(display(row) == width for row in lines[head + 2 : head + 4])
    assert "用电(万千瓦时)" in lines[head]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cli_diagnose_infeasible_speaks_planner_language(tmp_path, tiny_gpkg, capsys, lang):
    """Zones by name, policies by their words, no model row names, no English in zh."""
    from app_helpers import internal_identifiers

    extra = "service_floor = 1.0\n[caps]\nenergy_factor = 0.01\n"
    code = main(["--lang", lang, "diagnose", str(scenario(tmp_path, tiny_gpkg, extra))])
    out, _ = capsys.readouterr()
    assert code == 2
    assert ("无可行解" if lang == "zh" else "infeasible") in out
    assert ("超出上限" if lang == "zh" else "over the cap by") in out
    assert "宁波梅山综合保税区" in out  # Z02 by its name
    assert ("能耗总量" if lang == "zh" else "Energy quota") in out
    assert "Z01" not in out
    assert "Z02" not in out
    assert internal_identifiers(out, lang) == []
    if lang == "zh":
        assert "吨标准煤" in out


def test_cli_diagnose_feasible_lists_marginals(tmp_path, tiny_gpkg, capsys):
    code = main(["--lang", "en", "diagnose", str(scenario(tmp_path, tiny_gpkg))])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "Marginal values" in out
    assert "万元/tce" in out


@pytest.mark.parametrize("suffix", [".lp", ".mps"])
def test_cli_write_lp(tmp_path, tiny_gpkg, capsys, suffix):
    out_file = tmp_path / f"model{suffix}"
    code = main(["write-lp", str(scenario(tmp_path, tiny_gpkg)), "-o", str(out_file)])
    assert code == 0
    text = out_file.read_text()
    assert "zone_energy_Z01" in text


def test_cli_solve_from_bundle_reproduces_the_run(tmp_path, tiny_gpkg, capsys):
    import json

    runs = tmp_path / "runs"
    assert main(["solve", str(scenario(tmp_path, tiny_gpkg)), "--out", str(runs)]) == 0
    (run,) = runs.iterdir()
    assert main(["export", str(run), "--format", "zip", "-o", str(tmp_path / "exp")]) == 0
    bundle = tmp_path / "exp" / f"{run.name}.zip"
    assert bundle.is_file()
    rerun = tmp_path / "rerun"
    assert main(["solve", "--from-bundle", str(bundle), "--out", str(rerun)]) == 0
    (again,) = [p for p in rerun.iterdir() if p.name != "bundles"]
    first = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    second = json.loads((again / "summary.json").read_text(encoding="utf-8"))
    assert second["objective"] == pytest.approx(first["objective"], rel=1e-9)
    assert second["case_hash"] == first["case_hash"]
    capsys.readouterr()
    assert main(["solve"]) == 1
    assert "--from-bundle" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["solve", "--time-limit", "-5"],
            "--time-limit：参数 'solver.time_limit_s'：-5.0 低于最小值 0.1",
        ),
        (["solve", "--gap", "2"], "--gap：参数 'solver.rel_gap'：2.0 高于最大值 1.0"),
        (["diagnose", "--time-limit", "0"], "低于最小值 0.1"),
    ],
)
def test_solver_flags_out_of_range_are_one_message(tmp_path, capsys, args, expected):
    cmd, *flags = args
    scenario = str(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml")
    extra = ["--out", str(tmp_path)] if cmd == "solve" else []
    assert main([cmd, scenario, *flags, *extra]) == 1
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err
    assert not any(tmp_path.iterdir())
