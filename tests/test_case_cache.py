"""The one bounded case cache: LRU bound, content-keyed reloads, touched files still hit."""

from __future__ import annotations

import os
import shutil

import pytest

from allocator.case import save_case
from allocator.case.cache import CASE_CACHE, CaseCache, load_case_cached
from allocator.case.testing import tiny_case
from allocator.errors import CaseError


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cases")
    return save_case(tiny_case(), folder / "tiny.gpkg")


@pytest.fixture
def copies(saved, tmp_path):
    out = []
    for name in ("a", "b", "c"):
        out.append(tmp_path / f"{name}.gpkg")
        shutil.copyfile(saved, out[-1])
    return out


def _bump_mtime(path, seconds=10):
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 1_000_000_000))


def test_bound_holds_least_recently_used_goes_first(copies):
    a, b, c = copies
    cache = CaseCache(max_entries=2)
    first_a = cache.load(a)
    cache.load(b)
    assert cache.load(a) is first_a  # hit: a is now the most recent
    cache.load(c)  # evicts b
    assert len(cache) == 2
    assert (cache.hits, cache.misses) == (1, 3)
    assert cache.load(a) is first_a
    cache.load(b)  # miss: b was evicted, now c goes
    assert (cache.hits, cache.misses) == (2, 4)
    assert len(cache) == 2
    cache.load(c)
    assert (cache.hits, cache.misses) == (2, 5)


def test_changed_file_is_reloaded(copies):
    a = copies[0]
    cache = CaseCache()
    old = cache.load(a)
    changed = tiny_case()
    changed.zones.loc[changed.zones["zone_id"] == "Z01", "name"] = "杭州综保区（改）"
    save_case(changed, a)
    _bump_mtime(a)
    new = cache.load(a)
    assert new is not old
    assert new.zones.set_index("zone_id").at["Z01", "name"] == "杭州综保区（改）"
    assert (cache.hits, cache.misses) == (0, 2)
    assert len(cache) == 1  # the old version of the file is dropped


def test_touched_file_with_the_same_content_is_a_hit(copies):
    a = copies[0]
    cache = CaseCache()
    first = cache.load(a)
    _bump_mtime(a)
    assert cache.load(a) is first
    assert (cache.hits, cache.misses) == (1, 1)


def test_same_content_under_two_paths_is_two_entries(copies):
    a, b, _ = copies
    cache = CaseCache()
    assert cache.load(a) is not cache.load(b)
    assert cache.load(a).source.name == "a.gpkg"


def test_missing_file_is_a_located_error_and_not_cached(tmp_path):
    cache = CaseCache()
    with pytest.raises(CaseError, match="nowhere.gpkg"):
        cache.load(tmp_path / "nowhere.gpkg")
    assert len(cache) == 0


def test_library_entry_points_share_the_process_cache(copies):
    from allocator.solve import load_case_cached as via_solve

    a = copies[1]
    case = load_case_cached(a)
    assert via_solve(a) is case
    assert CASE_CACHE.load(a) is case
    _bump_mtime(a)
    assert via_solve(a) is case  # touched, same bytes: still the cached case
    assert CASE_CACHE.max_entries == 4


def test_bound_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        CaseCache(max_entries=0)
