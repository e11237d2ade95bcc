"""Archives from users (allocator.archive): limits, temp folder, cleanup; through the CLI.

Zip bombs are made on the fly: a member of zeros deflates about 1000:1, so a
600 MiB member is a 0.6 MB zip (written in a second, never held in memory).
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest

from allocator import archive
from allocator.archive import MAX_MEMBER_BYTES, MAX_RATIO, ArchiveError, MiB, extract
from allocator.case.testing import tiny_frames
from allocator.cli import main


def _zeros_member(zf: zipfile.ZipFile, name: str, size: int) -> None:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    chunk = bytes(8 * MiB)
    with zf.open(info, "w", force_zip64=True) as out:
        left = size
        while left > 0:
            out.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)


def bomb(path: Path, name: str, size: int, extra: dict[str, bytes] | None = None) -> Path:
    """Write a zip with ``extra`` members and one member of ``size`` zero bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in (extra or {}).items():
            zf.writestr(member, data)
        _zeros_member(zf, name, size)
    return path


def _empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


def _snapshot(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def big_bomb(tmp_path_factory) -> Path:
    """A 0.6 MB zip whose member expands to MAX_MEMBER_BYTES + 64 MiB."""
    folder = tmp_path_factory.mktemp("bomb")
    return bomb(folder / "plots.zip", "plots.shp", MAX_MEMBER_BYTES + 64 * MiB)


# ---------------------------------------------------------------- the module


def test_limits_are_sensible():
    assert MAX_MEMBER_BYTES == 512 * MiB
    assert archive.MAX_TOTAL_BYTES == 2048 * MiB
    assert MAX_RATIO == 200


def test_member_beyond_the_size_limit_is_refused_before_writing(big_bomb, tmp_path):
    assert big_bomb.stat().st_size < 2 * MiB
    with pytest.raises(ArchiveError, match="plots.shp"):
        extract(big_bomb, parent=tmp_path)
    assert list(tmp_path.iterdir()) == []  # the temp folder is gone


def test_compression_ratio_limit(tmp_path):
    path = bomb(tmp_path / "r.zip", "zeros.bin", 4 * MiB)
    with pytest.raises(ArchiveError, match="zeros.bin"):
        extract(path, parent=tmp_path / "x")
    assert _empty(tmp_path / "x")
    # a small member of zeros is fine (below the ratio floor), and lands in the temp folder
    ok = bomb(tmp_path / "ok.zip", "small.bin", 100_000)
    dest = extract(ok, parent=tmp_path / "x")
    assert (dest / "small.bin").read_bytes() == bytes(100_000)
    assert dest.parent == (tmp_path / "x").resolve()


def test_total_size_limit(tmp_path, monkeypatch):
    # five members of 1 MiB of random-ish text each under a total limit of 3 MiB
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 3 * MiB)
    path = tmp_path / "t.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(5):
            zf.writestr(f"m{i}.bin", bytes([i]) * MiB)
    with pytest.raises(ArchiveError, match="m3.bin"):
        extract(path, parent=tmp_path / "x")
    assert _empty(tmp_path / "x")


def test_size_declared_smaller_than_the_data_is_caught(tmp_path):
    """A member whose header understates its size: reading stops, the folder is removed."""
    path = bomb(tmp_path / "lie.zip", "lie.bin", 3 * MiB)
    raw = bytearray(path.read_bytes())
    # rewrite the zip64 extra fields' uncompressed size (local + central) to 1,000 bytes
    real = (3 * MiB).to_bytes(8, "little")
    n = raw.count(real)
    assert n >= 1
    raw = raw.replace(real, (1000).to_bytes(8, "little"))
    path.write_bytes(bytes(raw))
    with pytest.raises(ArchiveError, match="lie.bin"):
        extract(path, parent=tmp_path / "x")
    assert _empty(tmp_path / "x")


@pytest.mark.parametrize(
    "member", ["../evil.txt", "/tmp/evil.txt", "a/../../evil.txt", "C:/x", "a\\..\\..\\evil"]
)
def test_members_outside_are_refused(tmp_path, member):
    path = tmp_path / "o.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("fine.txt", "x")
        zf.writestr(member, "boom")
    with pytest.raises(ArchiveError):
        extract(path, parent=tmp_path / "x")
    assert _empty(tmp_path / "x")
    assert not (tmp_path / "evil.txt").exists()


# ---------------------------------------------------------------- through the CLI


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """The tiny case as GeoJSON + CSV files."""
    folder = tmp_path_factory.mktemp("src")
    for name, frame in tiny_frames().items():
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_crs("EPSG:4326").to_file(folder / f"{name}.geojson", driver="GeoJSON")
        else:
            frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.mark.parametrize("kind", ["member_size", "ratio"])
def test_import_refuses_a_zip_bomb(kind, source, big_bomb, tmp_path, capsys):
    src = tmp_path / "src"
    shutil.copytree(source, src)
    (src / "plots.geojson").unlink()
    if kind == "member_size":
        shutil.copy(big_bomb, src / "plots.zip")
    else:
        bomb(src / "plots.zip", "plots.shp", 8 * MiB)
    before = _snapshot(tmp_path)
    code = main(["--lang", "en", "import", str(src), "-o", str(tmp_path / "out" / "case.gpkg")])
    err = capsys.readouterr().err
    assert code == 1
    assert "plots.zip" in err
    assert "plots.shp" in err
    assert "limit" in err
    assert "Traceback" not in err
    assert _snapshot(tmp_path) == before


def _bundle(path: Path, scenario: str, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("scenario.toml", scenario)
        zf.writestr("case.gpkg", b"not really a case")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def test_solve_from_bundle_refuses_a_zip_bomb(tmp_path, capsys):
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("scenario.toml", 'case = "case.gpkg"\n')
        zf.writestr("case.gpkg", b"x")
        _zeros_member(zf, "export/big.bin", MAX_MEMBER_BYTES + MiB)
    before = _snapshot(tmp_path)
    code = main(["--lang", "en", "solve", "--from-bundle", str(path), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 1
    assert "b.zip" in err
    assert "export/big.bin" in err
    assert _snapshot(tmp_path) == before  # no runs/, no bundles/, no temp folder


@pytest.mark.parametrize(
    ("scenario", "text"),
    [
        ('case = "../../elsewhere/case.gpkg"\n', "case"),
        ('case = "/etc/case.gpkg"\n', "case"),
        ('case = "case.gpkg"\nextends = "../baseline.toml"\n', "extends"),
        ('case = "case.gpkg"\n[scoring]\nmethod = "/tmp/evil.toml"\n', "scoring.method"),
        ('case = "case.gpkg"\nnot valid toml [[[\n', "TOML"),
        ('case = "case.gpkg"\nunknown_key = 1\n', "unknown_key"),
    ],
)
def test_bundle_must_be_self_contained(scenario, text, tmp_path, capsys):
    path = _bundle(tmp_path / "b.zip", scenario)
    before = _snapshot(tmp_path)
    code = main(["--lang", "en", "solve", "--from-bundle", str(path), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 1
    assert text in err
    assert "Traceback" not in err
    assert _snapshot(tmp_path) == before


def test_bundle_whose_case_is_broken_leaves_nothing(tmp_path, capsys):
    path = _bundle(tmp_path / "b.zip", 'case = "case.gpkg"\n')
    before = _snapshot(tmp_path)
    code = main(["--lang", "en", "solve", "--from-bundle", str(path), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 1
    assert "case.gpkg" in err
    assert set(_snapshot(tmp_path)) - set(before) <= {"r", "r/bundles"}
