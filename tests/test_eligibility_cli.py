"""``allocator check``: batch summary, outputs, single reports, errors; sample-case counts."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from allocator.case import save_case
from allocator.case.testing import tiny_case
from allocator.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "gis_data" / "zhejiang_sample.gpkg"


@pytest.fixture(scope="module")
def tiny_gpkg(tmp_path_factory):
    path = tmp_path_factory.mktemp("case") / "tiny.gpkg"
    save_case(tiny_case(), path)
    return path


def counts(out: str) -> dict[str, int]:
    found = {}
    for key, pattern in {
        "plots": r"Plots checked: (\d+)",
        "redline": r"excluded by the red line: (\d+)",
        "access": r"excluded by access rules \(for at least one industry\): (\d+)",
    }.items():
        m = re.search(pattern, out)
        assert m, (key, out)
        found[key] = int(m.group(1))
    return found


def test_batch_summary_and_outputs(tiny_gpkg, tmp_path, capsys):
    for suffix in (".csv", ".xlsx", ".gpkg"):
        out_path = tmp_path / f"report{suffix}"
        assert main(["--lang", "en", "check", str(tiny_gpkg), "--out", str(out_path)]) == 0
        out, _ = capsys.readouterr()
        assert counts(out) == {"plots": 9, "redline": 1, "access": 4}
        assert out_path.exists()
    table = pd.read_csv(tmp_path / "report.csv")
    assert set(table["plot_id"]) == {f"P0{k}" for k in range(1, 10)}
    geo = gpd.read_file(tmp_path / "report.gpkg")
    assert len(geo) == 9
    assert geo.crs.to_epsg() == 4549


def test_batch_industry_and_plot_list(tiny_gpkg, tmp_path, capsys):
    ids = tmp_path / "ids.txt"
    ids.write_text("P04\nP08\nP09\n", encoding="utf-8")
    code = main(
        ["--lang", "en", "check", str(tiny_gpkg), "--plots", str(ids), "--industry", "C2614"]
    )
    assert code == 0
    out, _ = capsys.readouterr()
    assert counts(out) == {"plots": 3, "redline": 1, "access": 2}


def test_single_reports(tiny_gpkg, capsys):
    assert main(["--lang", "en", "check", str(tiny_gpkg), "--plot", "P09"]) == 0
    out, _ = capsys.readouterr()
    assert "Plot check: P09" in out
    assert "22.50 mu (25.00%)" in out
    code = main(
        ["--lang", "zh", "check", str(tiny_gpkg), "--lonlat", "120.33,30.30", "--industry", "C3973"]
    )
    assert code == 0
    out, _ = capsys.readouterr()
    assert "坐标点核查" in out
    assert main(["check", str(tiny_gpkg), "--lonlat", "120.33,30.30", "--source-crs", "gcj02"]) == 0


@pytest.mark.parametrize(
    "extra",
    [
        ["--plot", "NOPE"],
        ["--lonlat", "abc"],
        ["--lonlat", "120.3,30.3", "--source-crs", "mars"],
        ["--plot", "P01", "--lonlat", "120.3,30.3"],
        ["--plots", "/no/such/file.txt"],
        ["--out", "report.docx"],
        ["--threshold", "2"],
        ["--polygon", "POLYGON ((0 0, 1"],
    ],
)
def test_errors_are_one_paragraph(tiny_gpkg, tmp_path, capsys, extra, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["check", str(tiny_gpkg), *extra]) == 1
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    assert err.strip()


def test_missing_case_is_an_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "none.gpkg")]) == 1
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLE.exists(), reason="sample case not built")
def test_sample_counts_match_plain_geopandas(capsys):
    """The red-line and access-rule exclusions printed match a manual geopandas count."""
    assert main(["--lang", "en", "check", str(SAMPLE)]) == 0
    printed = counts(capsys.readouterr().out)

    plots = gpd.read_file(SAMPLE, layer="plots").to_crs(4549)
    red = gpd.read_file(SAMPLE, layer="redline").to_crs(4549)
    units = gpd.read_file(SAMPLE, layer="control_units").to_crs(4549)
    firms = gpd.read_file(SAMPLE, layer="firms")
    rules = gpd.read_file(SAMPLE, layer="access_rules")
    catalogue = gpd.read_file(SAMPLE, layer="catalogue")
    plots["plot_id"] = plots["plot_id"].astype(str)

    inter = gpd.overlay(plots[["plot_id", "geometry"]], red[["geometry"]], how="intersection")
    inter = inter[inter.area > 0]
    n_red = inter["plot_id"].nunique()

    pu = gpd.overlay(
        plots[["plot_id", "geometry"]],
        units[["unit_id", "category", "geometry"]],
        how="intersection",
    )
    pu["a"] = pu.area
    pu = pu[pu["a"] > 0].sort_values(["plot_id", "a", "unit_id"], ascending=[True, False, True])
    major = pu.drop_duplicates("plot_id").set_index("plot_id")
    groups = {str(c)[:3].upper() for c in firms["industry"].dropna()}
    groups |= {str(c)[:3].upper() for c in catalogue["industry_prefix"].dropna()}
    prohibit = rules[rules["rule"] == "prohibit"]
    n_access = 0
    for pid in plots["plot_id"]:
        if pid not in major.index:
            continue
        unit, cat = major.at[pid, "unit_id"], major.at[pid, "category"]
        hit = False
        for r in prohibit.itertuples():
            scope_ok = (r.scope == "unit" and r.scope_id == unit) or (
                r.scope == "category" and r.scope_id == cat
            )
            if scope_ok and any(g.startswith(str(r.industry_prefix)) for g in groups):
                hit = True
                break
        n_access += hit
    assert printed == {"plots": len(plots), "redline": n_red, "access": n_access}
