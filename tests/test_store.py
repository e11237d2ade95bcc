"""The shared store: a case pushed to PostGIS and read back is the GeoPackage's case."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from pyproj import CRS
from store_helpers import new_database

from allocator.case import load_case
from allocator.case.schema import ALL_LAYERS
from allocator.cli import main
from allocator.store.url import StoreUrl, is_store_url

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def sample_store(pg_admin_url: str, sample_case_path: Path) -> str:
    """A fresh store holding the sample case, pushed through the CLI."""
    url = new_database(pg_admin_url)
    assert main(["db", "init", url]) == 0
    assert main(["db", "push", str(sample_case_path), url]) == 0
    return url


def test_store_url_parsing() -> None:
    parsed = StoreUrl.parse("postgresql://alice:secret@127.0.0.1:5433/prov?case=zj&sslmode=disable")
    assert parsed.case_id == "zj"
    assert parsed.dsn == "postgresql://alice:secret@127.0.0.1:5433/prov?sslmode=disable"
    assert "secret" not in parsed.display
    assert parsed.display == "postgresql://alice@127.0.0.1:5433/prov?case=zj&sslmode=disable"
    assert is_store_url("postgres://h/db")
    assert not is_store_url("case.gpkg")
    assert not is_store_url(Path("postgresql:/x"))


def test_pushed_case_loads_back_identical(sample_store: str, sample_case_path: Path) -> None:
    original = load_case(sample_case_path)
    stored = load_case(sample_store)
    assert stored.content_hash() == original.content_hash()
    for name in ALL_LAYERS:
        a, b = getattr(original, name), getattr(stored, name)
        assert (a is None) == (b is None), name
        if a is None:
            continue
        assert list(a.columns) == list(b.columns), name
        assert a.dtypes.equals(b.dtypes), name
        if isinstance(a, gpd.GeoDataFrame):
            assert CRS.from_user_input(b.crs).equals(CRS.from_user_input(a.crs)), name
            assert np.array_equal(a.geometry.to_wkb(), b.geometry.to_wkb()), name
            assert np.array_equal(a.geometry.geom_type, b.geometry.geom_type), name
    # runs solved on it record the store URL, without the password
    assert str(stored.source).endswith("?case=zhejiang_sample")
    assert "allocator-test-admin" not in str(stored.source)


def test_pulled_geopackage_is_the_same_case(
    sample_store: str, sample_case_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pulled.gpkg"
    assert main(["db", "pull", sample_store, str(out)]) == 0
    assert load_case(out).content_hash() == load_case(sample_case_path).content_hash()


def test_info_takes_a_store_url(sample_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "info", sample_store]) == 0
    out = capsys.readouterr().out
    assert "allocator-test-admin" not in out  # the password never reaches the terminal
    assert "13" in out
    assert "4115" in out
    assert "2912" in out


def test_push_refuses_an_existing_name_and_leaves_it(
    sample_store: str, sample_case_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = load_case(sample_store).content_hash()
    assert main(["--lang", "en", "db", "push", str(sample_case_path), sample_store]) == 1
    err = capsys.readouterr().err
    assert "already holds a case named zhejiang_sample" in err
    assert "Traceback" not in err
    assert load_case(sample_store).content_hash() == before


def test_second_case_needs_a_name_in_the_url(
    sample_store: str, sample_case_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = new_database(sample_store)  # a database of its own: this test adds a case
    main(["db", "init", url])
    main(["db", "push", str(sample_case_path), url])
    main(["db", "push", str(sample_case_path), url, "--name", "copy"])
    capsys.readouterr()
    assert main(["--lang", "en", "db", "list", url]) == 0
    out = capsys.readouterr().out
    assert "Cases: 2" in out
    assert "copy" in out
    assert "zhejiang_sample" in out
    assert main(["--lang", "en", "info", url]) == 1
    assert "add ?case=NAME" in capsys.readouterr().err
    assert (
        load_case(f"{url}?case=copy").content_hash() == load_case(sample_case_path).content_hash()
    )


def test_unreachable_store_is_one_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--lang", "en", "db", "list", "postgresql://nobody:pw@127.0.0.1:1/none"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Cannot connect to the database postgresql://nobody@127.0.0.1:1/none" in err
    assert "pw@" not in err
    assert "Traceback" not in err
