"""Bundle enumeration: adjacency rule and connected subsets against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.parcels import adjacency, connected_sets


def brute_connected(n: int, edges: list[tuple[int, int]], k: int) -> set[tuple[int, ...]]:
    nbr = {i: set() for i in range(n)}
    for a, b in edges:
        nbr[a].add(b)
        nbr[b].add(a)
    out = set()
    for size in range(2, k + 1):
        for combo in itertools.combinations(range(n), size):
            seen, todo = {combo[0]}, [combo[0]]
            while todo:
                v = todo.pop()
                for w in nbr[v] & set(combo):
                    if w not in seen:
                        seen.add(w)
                        todo.append(w)
            if len(seen) == size:
                out.add(combo)
    return out


@settings(max_examples=80, deadline=None)
@given(
    st.integers(2, 8).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(
                    lambda e: e[0] != e[1]
                ),
                max_size=14,
            ),
            st.integers(2, 4),
        )
    )
)
def test_connected_sets_match_brute_force(data):
    n, edges, k = data
    arr = np.array(edges, dtype=np.int64).reshape(-1, 2)
    got = set()
    for block in connected_sets(n, arr, k):
        rows = [tuple(int(x) for x in r) for r in block]
        assert len(rows) == len(set(rows))  # no duplicates
        got.update(rows)
    assert got == brute_connected(n, edges, k)


def test_grid_counts_and_area_cap():
    # 3 x 3 grid: 12 dominoes, 22 trominoes
    idx = np.arange(9).reshape(3, 3)
    edges = np.array(
        [(idx[r, c], idx[r, c + 1]) for r in range(3) for c in range(2)]
        + [(idx[r, c], idx[r + 1, c]) for r in range(2) for c in range(3)]
    )
    sizes = [len(b) for b in connected_sets(9, edges, 3)]
    assert sizes == [12, 22]
    capped = connected_sets(9, edges, 3, area=np.ones(9), max_area=2.0)
    assert [len(b) for b in capped] == [12, 0]


def test_adjacency_rule():
    plots = np.array(
        [
            shapely.box(0, 0, 100, 100),
            shapely.box(100, 0, 200, 100),  # shares a 100 m edge with 0
            shapely.box(200.5, 0, 300, 100),  # 0.5 m gap to 1: adjacent (digitising noise)
            shapely.box(320, 0, 400, 100),  # 20 m road: not adjacent
            shapely.box(100, 100, 200, 200),  # corner of 0 (and edge of 1)
            shapely.box(0, 100, 98, 102),  # shares 98 m with 0 but other zone
        ],
        dtype=object,
    )
    zones = np.array([0, 0, 0, 0, 0, 1])
    pairs = {tuple(p) for p in adjacency(plots, zones).tolist()}
    assert pairs == {(0, 1), (1, 2), (1, 4)}
    # corner-only contact shares ~2 m within tolerance: below min_shared_m
    assert (0, 4) not in pairs
    strict = {tuple(p) for p in adjacency(plots, zones, tolerance_m=0.0).tolist()}
    assert strict == {(0, 1), (1, 4)}
