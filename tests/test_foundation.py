import numpy as np
import pytest

import allocator
from allocator import units
from allocator.cli import main
from allocator.errors import CaseError, Problem, ProblemList
from models import FAMILIES, SWITCHABLE, ModelParams


def test_units():
    assert units.m2_to_mu(10_000 / 15) == pytest.approx(1.0)
    assert units.mu_to_km2(1_500) == pytest.approx(1.0)
    assert units.wan_kwh_to_mwh(1.0) == 10.0
    assert units.mwh_to_tce(1000.0, 0.1229) == pytest.approx(122.9)


def test_problem_location_text():
    p = Problem(
        "error",
        "dup_id",
        "duplicate plot_id P1",
        file="a.gpkg",
        layer="plots",
        row="P1",
        column="plot_id",
        hint="make ids unique",
    )
    assert p.where("en") == "a.gpkg › plots › row P1 › column plot_id"
    assert p.where("zh") == "a.gpkg › plots › 第 P1 行 › 列 plot_id"
    assert str(p) == (
        "[错误] a.gpkg › plots › 第 P1 行 › 列 plot_id: duplicate plot_id P1 — make ids unique"
    )


def test_problem_list_raises_all_errors():
    pl = ProblemList()
    pl.warning("w", "just a warning", layer="plots")
    pl.raise_if_errors("case")  # warnings alone do not raise
    pl.error("e1", "first", layer="plots", row="1")
    pl.error("e2", "second", layer="firms", row="2")
    with pytest.raises(CaseError) as info:
        pl.raise_if_errors("case")
    assert "2 个错误" in str(info.value)
    assert len(info.value.problems) == 3


def test_lazy_api_and_unknown_name():
    assert allocator.CaseError is CaseError
    with pytest.raises(AttributeError):
        _ = allocator.no_such_thing


def test_cli_without_command_prints_help(capsys):
    assert main([]) == 2
    assert "allocator" in capsys.readouterr().out


def test_model_params_switches():
    params = ModelParams(switches={"zone_energy": False})
    assert not params.on("zone_energy")
    assert params.on("zone_electricity")
    assert params.on("plot_once")  # not switchable: always on
    assert set(SWITCHABLE) <= set(FAMILIES)
    with pytest.raises(KeyError):
        params.on("nonsense")
    assert np.isinf(params.class_cap[3])
