"""The bad-input corpus: each broken input gets its own located message, nothing is written."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import geopandas as gpd
import pytest

from allocator.case import validate_case
from allocator.case.testing import tiny_frames
from allocator.cli import main
from allocator.i18n import set_lang, t

BAD = Path(__file__).parent / "data" / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if (p / "expect.toml").exists())
FULL_CHECK = {
    "no_crs",
    "duplicate_id",
    "bad_credit_code",
    "empty_file",
    "zip_path_traversal",
    "merged_header",
}
"""Inputs also imported onto an existing case file and run through the validate CLI."""


def test_corpus_is_large_enough():
    assert len(CASES) >= 20


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory) -> Path:
    """The valid tiny case as GeoJSON + CSV files."""
    folder = tmp_path_factory.mktemp("base")
    for name, frame in tiny_frames().items():
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_crs("EPSG:4326").to_file(folder / f"{name}.geojson", driver="GeoJSON")
        else:
            frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture(autouse=True)
def english():
    set_lang("en")
    yield
    set_lang("zh")


def _source(base: Path, name: str, tmp: Path) -> tuple[Path, dict]:
    expect = tomllib.loads((BAD / name / "expect.toml").read_text())
    src = tmp / "src"
    shutil.copytree(base, src)
    for layer in expect["replaces"]:
        for f in src.glob(f"{layer}.*"):
            f.unlink()
    for f in (BAD / name).iterdir():
        if f.name != "expect.toml":
            shutil.copy(f, src / f.name)
    return src, expect


def _line_for(text: str, expect: dict) -> str | None:
    """Return the output line that names the expected file, layer, row and column."""
    for line in text.splitlines():
        if expect["file"] and expect["file"] not in line:
            continue
        if expect["layer"] not in line:
            continue
        if expect["row"] and t("problem.row", row=expect["row"]) + " " not in line:
            continue
        if expect["column"] and t("problem.column", column=expect["column"]) not in line:
            continue
        if expect["text"] and expect["text"] not in line:
            continue
        return line
    return None


@pytest.mark.parametrize("name", CASES)
def test_bad_input(name, base_dir, tmp_path, capsys):
    src, expect = _source(base_dir, name, tmp_path)
    out = tmp_path / "out" / "case.gpkg"
    existing = tmp_path / "existing.gpkg"
    existing.write_bytes(b"an earlier case that must stay untouched")
    before = sorted(p.name for p in tmp_path.rglob("*"))

    code = main(["--lang", "en", "import", str(src), "-o", str(out)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert code == expect["exit"], captured.err + captured.out
    if expect["exit"] == 0:
        assert out.exists()
        assert expect["text"] in captured.out
        if expect["code"]:
            assert _line_for(captured.out, expect), captured.out
        return
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())
    assert _line_for(captured.err, expect), captured.err

    assert not (tmp_path / "evil.txt").exists()
    assert not Path("/tmp/allocator-evil").exists()
    if name in FULL_CHECK:
        # Same input onto an existing case file: it stays byte-for-byte the same.
        code = main(["--lang", "en", "import", str(src), "-o", str(existing)])
        capsys.readouterr()
        assert code == 1
        assert existing.read_bytes() == b"an earlier case that must stay untouched"
        after = sorted(p.name for p in tmp_path.rglob("*") if p.name != "out")
        assert [p for p in after if p not in before and not p.startswith("src")] == []
        assert main(["--lang", "en", "validate", str(src)]) == 1
        capsys.readouterr()

    # validate reports the same located problem (exit 1) without writing anything.
    problems = validate_case(src)
    match = [
        p
        for p in problems
        if p.code == expect["code"]
        and p.layer == expect["layer"]
        and (not expect["row"] or p.row == expect["row"])
        and (not expect["column"] or p.column == expect["column"])
        and (not expect["file"] or p.file == expect["file"])
    ]
    assert match, [str(p) for p in problems]
