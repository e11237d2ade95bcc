"""The hostile corpus: bad input and faults, each through the CLI as a user runs it.

Each case builds its input on the fly in a fresh folder, runs one ``allocator``
command and checks the exit code, that stderr holds one located message (the
file / layer / row / column or scenario key it names, no traceback, no
"internal error") and that nothing was written (a snapshot of the folder
before and after). Kinds: numbers that are not finite or implausible, layers
that disagree, unreadable layer files, unsafe or oversized archives, scenario
keys naming unknown zones and units, long ``extends`` chains, points outside
the province, damaged run folders, bundles that are not self-contained.
"""

from __future__ import annotations

import json
import logging
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from allocator.case import save_case
from allocator.case.testing import tiny_case, tiny_frames
from allocator.cli import main
from allocator.runs import list_runs


@dataclass
class Hostile:
    """One hostile case: the command, the exit code and the fragments stderr must name."""

    argv: list[str]
    fragments: list[str]
    exit: int = 1
    extra_dirs: list[Path] = field(default_factory=list)


CASES: dict[str, Callable[[Path, dict], Hostile]] = {}


def case(fn: Callable[[Path, dict], Hostile]) -> Callable[[Path, dict], Hostile]:
    CASES[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> dict:
    """A case file, a scenario and a solved run folder, made once (never modified)."""
    pytest.importorskip("models.solver")
    folder = tmp_path_factory.mktemp("shared")
    save_case(tiny_case(), folder / "case.gpkg")
    (folder / "s.toml").write_text('name = "tiny"\ncase = "case.gpkg"\n', encoding="utf-8")
    assert main(["solve", str(folder / "s.toml"), "--out", str(folder / "runs")]) == 0
    (run,) = list_runs(folder / "runs")
    return {"dir": folder, "case": folder / "case.gpkg", "run": run}


def _source(d: Path, edit: Callable[[dict], None] | None = None) -> Path:
    """Write the tiny case as GeoJSON + CSV into ``d/src`` after ``edit(frames)``."""
    frames = tiny_frames()
    if edit:
        edit(frames)
    src = d / "src"
    src.mkdir()
    for name, frame in frames.items():
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_crs("EPSG:4326").to_file(src / f"{name}.geojson", driver="GeoJSON")
        else:
            frame.to_csv(src / f"{name}.csv", index=False)
    return src


def _import(d: Path, src: Path) -> list[str]:
    return ["import", str(src), "-o", str(d / "out" / "case.gpkg")]


def _set(layer: str, ident: str, column: str, value: object) -> Callable[[dict], None]:
    def edit(frames: dict) -> None:
        frame = frames[layer]
        id_col = {"firms": "firm_id", "zones": "zone_id", "plots": "plot_id"}.get(layer, "unit_id")
        frame[column] = frame[column].astype(object)
        frame.loc[frame[id_col] == ident, column] = value

    return edit


# ---------------------------------------------------------------- numbers


def _number_case(layer: str, ident: str, column: str, value: object, text: str) -> None:
    file = f"{layer}.csv" if layer == "firms" else f"{layer}.geojson"

    def build(d: Path, shared: dict) -> Hostile:
        src = _source(d, _set(layer, ident, column, value))
        return Hostile(_import(d, src), [file, layer, ident, column, text])

    build.__name__ = f"number_{layer}_{column}_{str(value).replace('-', 'minus_')}"
    case(build)


_number_case("firms", "F001", "energy_tce", "inf", "not a finite number")
_number_case("firms", "F002", "tax_wan", "1e400", "not a finite number")
_number_case("firms", "F003", "value_added_wan", "-inf", "not a finite number")
_number_case("firms", "F004", "electricity_mwh", "1e15", "beyond the plausible range")
_number_case("firms", "F001", "employees", "5000000", "beyond the plausible range")
_number_case("firms", "F002", "land_mu", "1e9", "beyond the plausible range")
_number_case("firms", "A001", "land_max_mu", "1e300", "beyond the plausible range")
_number_case("zones", "Z01", "electricity_cap_mwh", "1e13", "beyond the plausible range")
_number_case("zones", "Z02", "approved_km2", "5000", "beyond the plausible range")
_number_case("plots", "P03", "far", "55", "beyond the plausible range")
_number_case("plots", "P04", "far_max", "inf", "not a finite number")
_number_case("control_units", "U01", "cap_cod_t", "inf", "not a finite number")


# ---------------------------------------------------------------- layers that disagree


@case
def occupant_in_another_zone(d: Path, shared: dict) -> Hostile:
    src = _source(d, _set("firms", "F001", "zone_id", "Z02"))
    return Hostile(_import(d, src), ["plots.geojson", "P01", "occupant_id", "belongs to Z02"])


@case
def existing_firm_on_zero_land(d: Path, shared: dict) -> Hostile:
    src = _source(d, _set("firms", "F002", "land_mu", 0.0))
    return Hostile(_import(d, src), ["firms.csv", "F002", "land_mu", "zero land"])


# ---------------------------------------------------------------- unreadable files


def _garbage_case(name: str, data: bytes, fragments: list[str]) -> None:
    def build(d: Path, shared: dict) -> Hostile:
        src = _source(d)
        layer = name.split(".")[0]
        for f in src.glob(f"{layer}.*"):
            f.unlink()
        (src / name).write_bytes(data)
        return Hostile(_import(d, src), [name, *fragments])

    build.__name__ = f"unreadable_{name.replace('.', '_')}"
    case(build)


_garbage_case("plots.geojson", b'{"type": "FeatureCollection", "features": [', ["cannot read"])
_garbage_case("zones.gpkg", b"SQLite format 3\x00" + b"\x13" * 200, ["cannot read"])
_garbage_case("firms.xlsx", b"PK\x03\x04 not really a workbook", ["cannot read"])
_garbage_case("plots.parquet", b"PAR1 garbage PAR1", ["cannot read"])
_garbage_case("plots.zip", b"PK\x05\x06" + b"\x00" * 10, ["plots.zip"])


def _zip_case(name: str, writer: Callable[[zipfile.ZipFile], None], fragments: list[str]) -> None:
    def build(d: Path, shared: dict) -> Hostile:
        src = _source(d)
        (src / "plots.geojson").unlink()
        with zipfile.ZipFile(src / "plots.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            writer(zf)
        return Hostile(_import(d, src), ["plots.zip", *fragments])

    build.__name__ = f"import_zip_{name}"
    case(build)


def _link(zf: zipfile.ZipFile) -> None:
    info = zipfile.ZipInfo("plots.shp")
    info.external_attr = 0o120777 << 16
    zf.writestr(info, "/etc/passwd")


def _ratio_bomb(zf: zipfile.ZipFile) -> None:
    zf.writestr("plots.shp", bytes(16 << 20))  # 16 MiB of zeros: ratio ≈ 1000


def _drive(zf: zipfile.ZipFile) -> None:
    zf.writestr("C:/plots.shp", b"x")


_zip_case("symlink", _link, ["plots.shp"])
_zip_case("ratio_bomb", _ratio_bomb, ["plots.shp", "compression ratio"])
_zip_case("drive_letter", _drive, ["C:/plots.shp"])


# ---------------------------------------------------------------- scenarios


def _scenario_case(name: str, body: str, fragments: list[str], command: str = "solve") -> None:
    def build(d: Path, shared: dict) -> Hostile:
        shutil.copy(shared["case"], d / "case.gpkg")
        (d / "s.toml").write_text(f'case = "case.gpkg"\n{body}', encoding="utf-8")
        if command == "solve":
            argv = ["solve", str(d / "s.toml"), "--out", str(d / "runs")]
        else:
            argv = ["write-lp", str(d / "s.toml"), "-o", str(d / "m.lp")]
        return Hostile(argv, ["s.toml", *fragments])

    build.__name__ = f"scenario_{name}"
    case(build)


_scenario_case(
    "unknown_zone", "[caps.zones.Z99]\nenergy_tce = 100.0\n", ["caps.zones.Z99", "Z99", "zones"]
)
_scenario_case(
    "unknown_zone_near_miss",
    "[caps.zones.z01]\nenergy_factor = 0.9\n",
    ["caps.zones.z01", "did you mean 'Z01'"],
)
_scenario_case(
    "unknown_unit", "[caps.units.U77]\nfactor = 0.5\n", ["caps.units.U77", "control_units"]
)
_scenario_case(
    "traversal_zone_key",
    '[caps.zones."../../etc"]\nenergy_tce = 1.0\n',
    ["../../etc", "zones"],
)
_scenario_case(
    "unknown_zone_write_lp",
    "[caps.zones.Z99]\nenergy_tce = 100.0\n",
    ["caps.zones.Z99"],
    command="write-lp",
)


@case
def scenario_unknown_zone_in_parent(d: Path, shared: dict) -> Hostile:
    shutil.copy(shared["case"], d / "case.gpkg")
    (d / "base.toml").write_text(
        'case = "case.gpkg"\n[caps.zones.Z42]\nenergy_tce = 1.0\n', encoding="utf-8"
    )
    (d / "child.toml").write_text('extends = "base.toml"\nname = "child"\n', encoding="utf-8")
    argv = ["solve", str(d / "child.toml"), "--out", str(d / "runs")]
    return Hostile(argv, ["base.toml", "caps.zones.Z42"])


@case
def scenario_extends_chain_too_long(d: Path, shared: dict) -> Hostile:
    shutil.copy(shared["case"], d / "case.gpkg")
    (d / "s0.toml").write_text('case = "case.gpkg"\n', encoding="utf-8")
    for i in range(1, 400):
        (d / f"s{i}.toml").write_text(f'extends = "s{i - 1}.toml"\n', encoding="utf-8")
    argv = ["solve", str(d / "s399.toml"), "--out", str(d / "runs")]
    return Hostile(argv, ["s399.toml", "extends chain is longer than 32"])


# ---------------------------------------------------------------- points outside the province


def _check_case(name: str, args: list[str], fragments: list[str]) -> None:
    def build(d: Path, shared: dict) -> Hostile:
        shutil.copy(shared["case"], d / "case.gpkg")
        return Hostile(["check", str(d / "case.gpkg"), *args], fragments)

    build.__name__ = f"check_{name}"
    case(build)


_check_case("null_island", ["--lonlat", "0,0"], ["(0.000000, 0.000000)", "outside Zhejiang"])
_check_case("beijing", ["--lonlat", "116.40,39.90"], ["116.400000", "outside Zhejiang"])
_check_case("gcj02_far", ["--lonlat", "113.3,23.1", "--source-crs", "gcj02"], ["outside Zhejiang"])
_check_case(
    "polygon_in_beijing",
    ["--polygon", "POLYGON((116.3 39.9, 116.4 39.9, 116.4 40.0, 116.3 40.0, 116.3 39.9))"],
    ["--polygon", "outside Zhejiang"],
)


@case
def check_polygon_zip_bomb(d: Path, shared: dict) -> Hostile:
    shutil.copy(shared["case"], d / "case.gpkg")
    with zipfile.ZipFile(d / "site.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("site.shp", bytes(16 << 20))
    argv = ["check", str(d / "case.gpkg"), "--polygon", str(d / "site.zip")]
    return Hostile(argv, ["site.zip", "site.shp", "compression ratio"])


# ---------------------------------------------------------------- damaged run folders


def _run_case(name: str, damage: Callable[[Path], None], fragments: list[str], cmd: str) -> None:
    def build(d: Path, shared: dict) -> Hostile:
        run = d / "runs" / shared["run"].name
        shutil.copytree(shared["run"], run)
        damage(run)
        if cmd == "export":
            argv = ["export", str(run), "-f", "xlsx", "-o", str(d / "out")]
        else:
            argv = ["compare", str(shared["run"]), str(run), "--out", str(d / "c.xlsx")]
        return Hostile(argv, fragments)

    build.__name__ = f"run_{name}_{cmd}"
    case(build)


def _garble(name: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        (run / name).write_bytes(b"\x00\x01garbage{[")

    return damage


for _file in (
    "summary.json",
    "scenario.toml",
    "diagnosis.json",
    "firms.parquet",
    "zones.parquet",
    "plots.parquet",
    "marginals.parquet",
):
    _run_case(_file.replace(".", "_"), _garble(_file), [_file, "is damaged"], "export")
_run_case("plots_parquet", _garble("plots.parquet"), ["plots.parquet", "is damaged"], "compare")


def _summary_list(run: Path) -> None:
    (run / "summary.json").write_text("[1, 2, 3]", encoding="utf-8")


def _firms_without_ids(run: Path) -> None:
    pd.read_parquet(run / "firms.parquet").drop(columns="firm_id").to_parquet(run / "firms.parquet")


def _missing_log(run: Path) -> None:
    (run / "solver.log").unlink()


_run_case("summary_not_object", _summary_list, ["summary.json", "is damaged"], "export")
_run_case("firms_without_ids", _firms_without_ids, ["firms.parquet", "firm_id"], "export")
_run_case("missing_file", _missing_log, ["solver.log"], "compare")


# ---------------------------------------------------------------- bundles


def _bundle_case(name: str, members: dict[str, bytes | str], fragments: list[str]) -> None:
    def build(d: Path, shared: dict) -> Hostile:
        path = d / "b.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for member, data in members.items():
                if member == "@link":
                    info = zipfile.ZipInfo("case.gpkg")
                    info.external_attr = 0o120777 << 16
                    zf.writestr(info, "/etc/passwd")
                else:
                    zf.writestr(member, data)
        argv = ["solve", "--from-bundle", str(path), "--out", str(d / "runs")]
        return Hostile(argv, ["b.zip", *fragments])

    build.__name__ = f"bundle_{name}"
    case(build)


OK_SCEN = 'case = "case.gpkg"\n'
_bundle_case("case_outside", {"scenario.toml": 'case = "../x.gpkg"\n', "case.gpkg": b"x"}, ["case"])
_bundle_case(
    "extends_outside",
    {"scenario.toml": OK_SCEN + 'extends = "/srv/base.toml"\n', "case.gpkg": b"x"},
    ["extends"],
)
_bundle_case(
    "method_path",
    {"scenario.toml": OK_SCEN + '[scoring]\nmethod = "../../m.toml"\n', "case.gpkg": b"x"},
    ["scoring.method"],
)
_bundle_case("no_case", {"scenario.toml": OK_SCEN}, ["case.gpkg"])
_bundle_case("no_scenario", {"case.gpkg": b"x"}, ["scenario.toml"])
_bundle_case("bad_toml", {"scenario.toml": "case = [", "case.gpkg": b"x"}, ["TOML"])
_bundle_case("symlink", {"scenario.toml": OK_SCEN, "@link": b""}, ["case.gpkg", "symbolic link"])
_bundle_case(
    "traversal",
    {"scenario.toml": OK_SCEN, "case.gpkg": b"x", "../../evil.txt": b"x"},
    ["../../evil.txt"],
)
_bundle_case(
    "ratio_bomb",
    {"scenario.toml": OK_SCEN, "case.gpkg": bytes(32 << 20)},
    ["case.gpkg", "compression ratio"],
)
_bundle_case(
    "unknown_key", {"scenario.toml": OK_SCEN + "colour = 1\n", "case.gpkg": b"x"}, ["colour"]
)


# ---------------------------------------------------------------- the test


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


def _snapshot(folder: Path) -> dict[str, tuple[int, float]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime) for p in folder.rglob("*")
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input(name, shared, tmp_path, capsys):
    hostile = CASES[name](tmp_path, shared)
    before = _snapshot(tmp_path)
    shared_before = _snapshot(shared["dir"])
    code = main(["--lang", "en", *hostile.argv])
    captured = capsys.readouterr()
    err = captured.err
    assert "Traceback" not in err + captured.out
    assert "Internal error" not in err
    assert code == hostile.exit, err + captured.out
    for fragment in hostile.fragments:
        assert fragment in err, f"{fragment!r} not in:\n{err}"
    assert _snapshot(tmp_path) == before, "something was written"
    assert _snapshot(shared["dir"]) == shared_before


# ---------------------------------------------------------------- accepted, with a word


def test_missing_numbers_filled_by_a_default_are_named(tmp_path, capsys):
    src = _source(tmp_path, _set("firms", "F002", "electricity_mwh", None))
    assert main(["--lang", "en", *_import(tmp_path, src)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "electricity_mwh" in x and "missing" in x)
    assert "F002" in line
    assert "the model uses 0" in line


def test_hand_edited_run_is_flagged(shared, tmp_path, capsys, caplog):
    run = tmp_path / shared["run"].name
    shutil.copytree(shared["run"], run)
    zones = pd.read_parquet(run / "zones.parquet")
    zones["tax_per_mu_after"] = zones["tax_per_mu_after"] * 10  # a "better" result
    zones.to_parquet(run / "zones.parquet", index=False)
    with caplog.at_level(logging.WARNING, logger="allocator"):
        code = main(["--lang", "en", "compare", str(shared["run"]), str(run)])
    err = capsys.readouterr().err
    assert code == 0
    assert "zones.parquet" in err
    assert "changed after it was written" in err
    # the untouched run is not flagged
    assert str(shared["run"]) not in err.replace(str(run), "")


def test_summary_json_carries_the_checksums(shared):
    summary = json.loads((shared["run"] / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["checksums"]) >= {"firms.parquet", "zones.parquet", "plots.parquet"}
