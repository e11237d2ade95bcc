"""Parcels (MODEL.md set ``B``): single plots and bundles of adjacent plots of one zone.

A bundle is how a project larger than any single plot gets land: up to ``k``
plots of one zone that form a connected group, two plots being *adjacent* when
they share a piece of boundary. Real plot layers are digitised by hand, so two
neighbours rarely share an edge exactly; the rule here is:

- plots ``a`` and ``b`` are adjacent when they are at most ``tolerance_m``
  apart (default 1 m) **and** the length of ``b``'s boundary lying within
  ``tolerance_m`` of ``a`` is at least ``min_shared_m`` (default 5 m).

Two plots meeting only at a corner share about ``2 * tolerance_m`` of boundary
and are therefore not adjacent; plots on either side of a road (gap wider than
the tolerance) are not adjacent either. Both numbers are parameters.

Enumeration is vectorised: connected sets of size ``s + 1`` are grown from
the sets of size ``s`` by adding one neighbour and removing duplicates (every
connected set of size ``s + 1`` contains a connected set of size ``s``: drop a
leaf of a spanning tree), so the result is every connected subset of size
``≤ k`` exactly once. A set whose area already exceeds ``max_area_mu`` is not
grown further (areas are positive, so it can only get larger).
"""

from __future__ import annotations

import numpy as np
import shapely

from allocator.units import M2_PER_MU


def adjacency(
    geoms: np.ndarray,
    groups: np.ndarray,
    *,
    tolerance_m: float = 1.0,
    min_shared_m: float = 5.0,
) -> np.ndarray:
    """Return the adjacent pairs ``(i, j)`` (``i < j``, same group) as an ``(m, 2)`` array.

    Parameters
    ----------
    geoms
        Polygon geometries in a metric CRS (EPSG:4549).
    groups
        Integer group (zone) per geometry; only plots of one group are adjacent.
    tolerance_m, min_shared_m
        See the module docstring.
    """
    geoms = np.asarray(geoms, dtype=object)
    groups = np.asarray(groups)
    if len(geoms) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=tolerance_m)
    keep = (i < j) & (groups[i] == groups[j])
    i, j = i[keep], j[keep]
    if len(i) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    near = shapely.buffer(geoms[i], tolerance_m, quad_segs=2)
    shared = shapely.length(shapely.intersection(shapely.boundary(geoms[j]), near))
    ok = shared >= min_shared_m
    return np.column_stack([i[ok], j[ok]]).astype(np.int64)


def _csr(n: int, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return CSR (``ptr``, ``nbr``) of an undirected graph on ``n`` nodes."""
    a = np.concatenate([edges[:, 0], edges[:, 1]])
    b = np.concatenate([edges[:, 1], edges[:, 0]])
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(ptr, a + 1, 1)
    return np.cumsum(ptr), b


def connected_sets(
    n: int,
    edges: np.ndarray,
    k: int,
    *,
    area: np.ndarray | None = None,
    max_area: float = np.inf,
) -> list[np.ndarray]:
    """Return the connected node sets of sizes ``2..k``, one sorted ``(m, s)`` array per size.

    Parameters
    ----------
    n
        Number of nodes.
    edges
        ``(m, 2)`` undirected edges.
    k
        Largest set size.
    area, max_area
        Optional node weights; a set heavier than ``max_area`` is dropped and
        not grown (weights are assumed positive).
    """
    out: list[np.ndarray] = []
    if k < 2 or len(edges) == 0:
        return out
    edges = np.asarray(edges, dtype=np.int64)
    ptr, nbr = _csr(n, edges)
    current = np.sort(edges, axis=1)
    current = np.unique(current, axis=0)
    if area is not None:
        current = current[area[current].sum(axis=1) <= max_area]
    out.append(current)
    for _size in range(3, k + 1):
        if len(current) == 0:
            break
        grown = []
        s = current.shape[1]
        for c in range(s):
            node = current[:, c]
            deg = ptr[node + 1] - ptr[node]
            rows = np.repeat(np.arange(len(current)), deg)
            if len(rows) == 0:
                continue
            starts = np.repeat(ptr[node], deg)
            offs = np.arange(len(rows)) - np.repeat(np.cumsum(deg) - deg, deg)
            new = nbr[starts + offs]
            base = current[rows]
            fresh = ~(base == new[:, None]).any(axis=1)
            grown.append(np.column_stack([base[fresh], new[fresh]]))
        if not grown:
            break
        cand = np.sort(np.concatenate(grown), axis=1)
        cand = np.unique(cand, axis=0) if len(cand) else cand.reshape(0, s + 1)
        if area is not None and len(cand):
            cand = cand[area[cand].sum(axis=1) <= max_area]
        out.append(cand)
        current = cand
    return out


def geometry_area_mu(geoms: np.ndarray) -> np.ndarray:
    """Return polygon areas in mu (geometries in EPSG:4549)."""
    return shapely.area(np.asarray(geoms, dtype=object)) / M2_PER_MU
