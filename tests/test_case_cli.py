"""CLI sub-commands validate, import and info; the sample case when present."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from allocator.case import load_case, save_case, validate_case
from allocator.case.testing import tiny_case
from allocator.cli import main
from allocator.commands.info import zone_summary

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "data" / "import_example"
SAMPLE = ROOT / "gis_data" / "zhejiang_sample.gpkg"


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory) -> Path:
    return save_case(tiny_case(), tmp_path_factory.mktemp("tiny") / "tiny.gpkg")


def test_validate_ok(tiny_path, capsys):
    assert main(["--lang", "en", "validate", str(tiny_path)]) == 0
    assert "no errors" in capsys.readouterr().out


def test_validate_json(tiny_path, capsys):
    assert main(["validate", "--json", str(tiny_path)]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_validate_missing_file(tmp_path, capsys):
    assert main(["--lang", "en", "validate", str(tmp_path / "none.gpkg")]) == 1
    out = capsys.readouterr()
    assert "not found" in out.out
    assert "Traceback" not in out.err


def test_validate_not_a_gpkg(tmp_path, capsys):
    bogus = tmp_path / "case.gpkg"
    bogus.write_text("hello")
    assert main(["--lang", "en", "validate", str(bogus)]) == 1
    captured = capsys.readouterr()
    assert "cannot read" in captured.out + captured.err
    assert "Traceback" not in captured.err


def test_import_then_info(tmp_path, capsys):
    out = tmp_path / "case.gpkg"
    assert main(["--lang", "zh", "import", str(EXAMPLE), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "税收(万元)" in text
    assert "已写入" in text
    assert main(["--lang", "en", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 zones, 9 plots, 6 firms (4 existing, 2 applicants)" in text
    assert "Z01" in text
    assert "2,250" in text
    assert "100.0%" in text


def test_info_missing_case(tmp_path, capsys):
    assert main(["--lang", "en", "info", str(tmp_path / "x.gpkg")]) == 1
    assert "not found" in capsys.readouterr().err


def test_zone_summary(tiny_path):
    summary = zone_summary(load_case(tiny_path)).set_index("zone_id")
    assert summary.loc["Z01", "plots"] == 5
    assert summary.loc["Z01", "vacant_mu"] == pytest.approx(270.0)
    assert summary.loc["Z02", "applicants"] == 2
    assert summary.loc["Z01", "area_km2"] == pytest.approx(1.5)


# -- the sample case (built by gis_data/build_sample.py) --------------------------------
needs_sample = pytest.mark.skipif(not SAMPLE.exists(), reason="sample case not built")

DOMAIN_KM2 = {"杭州": (2.01, 2.41), "北仑港": (2.99,), "温州": (1.44,), "衢州": (1.11,)}
"""Approved areas in DOMAIN.md (Hangzhou: 2.01, or 2.41 with the 2025 extension)."""


@pytest.fixture(scope="module")
def sample():
    """The loaded sample case and the best of two load times (the CI machine is shared)."""
    times = []
    for _ in range(2):
        start = time.perf_counter()
        case = load_case(SAMPLE)
        times.append(time.perf_counter() - start)
        if times[-1] < 1.0:
            break
    return case, min(times)


@needs_sample
def test_sample_validates_and_loads_fast(sample):
    case, elapsed = sample
    assert elapsed < 2.0, f"loading the sample took {elapsed:.2f} s"
    assert len(case.zones) == 13
    assert len(case.plots) >= 3000
    assert [p for p in validate_case(case) if p.severity == "error"] == []


@needs_sample
def test_sample_cli(capsys):
    assert main(["--lang", "en", "validate", str(SAMPLE)]) == 0
    assert "no errors" in capsys.readouterr().out
    assert main(["--lang", "en", "info", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "13 zones" in out


@needs_sample
def test_sample_zone_areas_match_approved(sample):
    summary = zone_summary(sample[0])
    with_approved = summary[summary["approved_km2"].notna() & (summary["approved_km2"] > 0)]
    assert len(with_approved) > 0
    ratio = with_approved["area_km2"] / with_approved["approved_km2"]
    assert ratio.between(0.95, 1.05).all(), with_approved[["zone_id", "area_km2", "approved_km2"]]
    for key, figures in DOMAIN_KM2.items():
        rows = summary[summary["name"].str.contains(key)]
        assert len(rows) == 1, key
        area = float(rows["area_km2"].iloc[0])
        assert any(abs(area / f - 1) <= 0.05 for f in figures), (key, area, figures)
