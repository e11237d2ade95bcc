"""Array helpers shared by the eligibility modules (geometry arrays, clean text, positions)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def _geoms(frame: gpd.GeoDataFrame | None) -> np.ndarray:
    if frame is None or len(frame) == 0:
        return np.zeros(0, dtype=object)
    return np.asarray(frame.geometry.array, dtype=object)


def _text(values: Iterable[Any]) -> np.ndarray:
    """Return values as a numpy array of ``str`` with missing values as ``""``."""
    arr = np.asarray(
        values if not isinstance(values, pd.Series) else values.to_numpy(), dtype=object
    )
    if arr.ndim == 1 and pd.api.types.infer_dtype(arr, skipna=False) == "string":
        return arr  # already clean text (ids from the loader): no per-item work
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            out.append("")
        else:
            out.append(str(v).strip())
    return np.asarray(out, dtype=object)


def _clean(geoms: np.ndarray) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return geoms[ok]


def _positions(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Return the position of each value in ``keys`` (-1 when absent); few distinct values."""
    codes, uniques = pd.factorize(values)
    pos = {k: i for i, k in enumerate(keys)}
    lookup = np.array([pos.get(u, -1) for u in uniques] + [-1], dtype=np.int64)
    return lookup[codes]  # code -1 (missing) picks the trailing -1
