"""The :class:`Case`: validated layers and tables of DATA.md, held in EPSG:4549."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from allocator.errors import Problem


@dataclass
class Case:
    """Everything the allocator reads about the real world.

    Spatial layers are GeoDataFrames in :data:`allocator.case.schema.CASE_CRS`
    (EPSG:4549) with a default RangeIndex and their canonical columns; ``plots``
    and ``zones`` carry a derived ``area_mu`` computed in that CRS. Tables are
    plain DataFrames. ``problems`` keeps the warnings found while loading
    (e.g. geometry repaired with ``make_valid``).
    """

    zones: gpd.GeoDataFrame
    plots: gpd.GeoDataFrame
    redline: gpd.GeoDataFrame
    control_units: gpd.GeoDataFrame
    firms: pd.DataFrame
    class_history: pd.DataFrame
    access_rules: pd.DataFrame
    catalogue: pd.DataFrame
    land_use_rules: pd.DataFrame
    county_lists: pd.DataFrame
    admin: gpd.GeoDataFrame | None = None
    source: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    _hash: str | None = field(default=None, repr=False)

    LAYER_NAMES = (
        "zones",
        "plots",
        "redline",
        "control_units",
        "firms",
        "class_history",
        "access_rules",
        "catalogue",
        "land_use_rules",
        "county_lists",
        "admin",
    )

    def layer(self, name: str) -> pd.DataFrame | None:
        """Return a layer or table by its DATA.md name."""
        if name not in self.LAYER_NAMES:
            raise KeyError(f"unknown case layer {name!r}")
        return getattr(self, name)

    @property
    def existing(self) -> pd.DataFrame:
        """Existing firms (``kind == 'existing'``)."""
        return self.firms[self.firms["kind"] == "existing"]

    @property
    def applicants(self) -> pd.DataFrame:
        """Applicant projects (``kind == 'applicant'``)."""
        return self.firms[self.firms["kind"] == "applicant"]

    def content_hash(self) -> str:
        """Return a SHA-256 of the case content (ids, attributes, geometry WKB).

        Stable across row order of the stored file being the same; recorded in
        every run so a result can be traced to the exact data it used.
        """
        if self._hash is None:
            digest = hashlib.sha256()
            for name in self.LAYER_NAMES:
                frame = getattr(self, name)
                if frame is None:
                    continue
                digest.update(name.encode())
                data = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
                digest.update(pd.util.hash_pandas_object(data, index=False).values.tobytes())
                if isinstance(frame, gpd.GeoDataFrame):
                    for wkb in frame.geometry.to_wkb():
                        digest.update(wkb or b"")
            self._hash = digest.hexdigest()
        return self._hash
