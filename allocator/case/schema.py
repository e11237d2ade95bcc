"""The case contract of DATA.md as data: layers, tables, columns and their rules.

Loaders, importers, validation and the sample-case builder all read this one
table, so a column is added in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from models.data import CLASSES, USES

Kind = Literal["str", "float", "int", "bool", "date"]

CASE_CRS = "EPSG:4549"
"""CRS every layer is held in once loaded (CGCS2000 / 3-degree GK CM 120E); areas come from it."""
STORAGE_CRSES = ("EPSG:4490", "EPSG:4549")
"""CRSes a case GeoPackage may store layers in (DATA.md)."""


@dataclass(frozen=True)
class Column:
    """One column: its kind and whether it must be present and filled."""

    name: str
    kind: Kind
    required: bool = False
    """Column must exist and every row must have a value."""
    nonneg: bool = False
    """Numbers must be ≥ 0."""
    choices: tuple[str, ...] = ()
    """Allowed values (empty: any)."""


@dataclass(frozen=True)
class Layer:
    """A layer (with geometry) or table (without) of the case."""

    name: str
    columns: tuple[Column, ...]
    geometry: str | None = None
    """``Polygon``/``MultiPolygon`` for spatial layers, None for tables."""
    id_column: str | None = None
    optional: bool = False
    """A case may omit the whole layer."""

    def column(self, name: str) -> Column:
        """Return the column spec named ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        """Canonical column names, in order."""
        return [c.name for c in self.columns]


def _c(name: str, kind: Kind = "str", **kw: object) -> Column:
    return Column(name, kind, **kw)  # type: ignore[arg-type]


LAND_USES = ("M1", "M0", "W", "RD", "B", "MIX")
PLOT_STATUSES = ("vacant", "idle", "occupied")
UNIT_CATEGORIES = ("priority_protection", "key_control", "general")
FIRM_KINDS = ("existing", "applicant")
POSITIONING = ("加工制造", "研发设计", "物流分拨", "检测维修", "销售服务")

ZONES = Layer(
    "zones",
    (
        _c("zone_id", required=True),
        _c("name", required=True),
        _c("name_en"),
        _c("city", required=True),
        _c("county"),
        _c("approved_km2", "float", nonneg=True),
        _c("electricity_cap_mwh", "float", nonneg=True),
        _c("energy_cap_tce", "float", nonneg=True),
        _c("intensity_cap_tce_per_wan", "float", nonneg=True),
        _c("positioning"),
    ),
    geometry="MultiPolygon",
    id_column="zone_id",
)

PLOTS = Layer(
    "plots",
    (
        _c("plot_id", required=True),
        _c("zone_id", required=True),
        _c("land_use", required=True, choices=LAND_USES),
        _c("status", required=True, choices=PLOT_STATUSES),
        _c("occupant_id"),
        _c("far", "float", nonneg=True),
        _c("far_max", "float", nonneg=True),
    ),
    geometry="Polygon",
    id_column="plot_id",
)

REDLINE = Layer(
    "redline",
    (_c("redline_id", required=True), _c("name"), _c("kind")),
    geometry="MultiPolygon",
    id_column="redline_id",
)

CONTROL_UNITS = Layer(
    "control_units",
    (
        _c("unit_id", required=True),
        _c("name"),
        _c("category", required=True, choices=UNIT_CATEGORIES),
        _c("cap_cod_t", "float", nonneg=True),
        _c("cap_nh3n_t", "float", nonneg=True),
        _c("cap_so2_t", "float", nonneg=True),
        _c("cap_nox_t", "float", nonneg=True),
    ),
    geometry="MultiPolygon",
    id_column="unit_id",
)

ADMIN = Layer(
    "admin",
    (
        _c("admin_id", required=True),
        _c("name", required=True),
        _c("level", required=True, choices=("province", "city", "county")),
        _c("city"),
        _c("adcode"),
    ),
    geometry="MultiPolygon",
    id_column="admin_id",
    optional=True,
)
"""Administrative boundaries for maps only (not in DATA.md v1; optional)."""

FIRMS = Layer(
    "firms",
    (
        _c("firm_id", required=True),
        _c("name", required=True),
        _c("credit_code"),
        _c("kind", required=True, choices=FIRM_KINDS),
        _c("zone_id"),
        _c("candidate_zones"),
        _c("industry", required=True),
        _c("is_service", "bool"),
        _c("tax_wan", "float", nonneg=True),
        _c("value_added_wan", "float", nonneg=True),
        _c("revenue_wan", "float", nonneg=True),
        _c("rd_wan", "float", nonneg=True),
        _c("employees", "float", nonneg=True),
        _c("energy_tce", "float", nonneg=True),
        _c("electricity_mwh", "float", nonneg=True),
        _c("cod_t", "float", nonneg=True),
        _c("nh3n_t", "float", nonneg=True),
        _c("so2_t", "float", nonneg=True),
        _c("nox_t", "float", nonneg=True),
        _c("land_mu", "float", nonneg=True),
        _c("land_min_mu", "float", nonneg=True),
        _c("land_max_mu", "float", nonneg=True),
        _c("energy_req_tce", "float", nonneg=True),
        _c("locked", "bool"),
        _c("locked_plots"),
        _c("founded_year", "int"),
        _c("under_construction", "bool"),
        _c("use", choices=USES),  # optional (混合布局): industrial / warehouse / rd / office
        # optional: the 山区26县 county a firm is from or partners with (共建)
        _c("partner_county"),
    ),
    id_column="firm_id",
)

CLASS_HISTORY = Layer(
    "class_history",
    (
        _c("firm_id", required=True),
        _c("year", "int", required=True),
        _c("class", required=True, choices=CLASSES),
    ),
)

ACCESS_RULES = Layer(
    "access_rules",
    (
        _c("scope", required=True, choices=("unit", "category")),
        _c("scope_id", required=True),
        _c("industry_prefix", required=True),
        _c("rule", required=True, choices=("prohibit", "restrict")),
        _c("note"),
    ),
)

CATALOGUE = Layer(
    "catalogue",
    (
        _c("zone_id", required=True),
        _c("industry_prefix", required=True),
        _c("priority", "int", required=True, nonneg=True),
    ),
)

LAND_USE_RULES = Layer(
    "land_use_rules",
    (
        _c("land_use", required=True, choices=LAND_USES),
        _c("industry_prefix", required=True),
    ),
)

COUNTY_LISTS = Layer(
    "county_lists",
    (
        _c("county", required=True),
        _c("city"),
        _c("list_name", required=True),
        _c("valid_from", "date", required=True),
        _c("valid_to", "date"),
    ),
)

SPATIAL_LAYERS: tuple[Layer, ...] = (ZONES, PLOTS, REDLINE, CONTROL_UNITS, ADMIN)
TABLES: tuple[Layer, ...] = (
    FIRMS,
    CLASS_HISTORY,
    ACCESS_RULES,
    CATALOGUE,
    LAND_USE_RULES,
    COUNTY_LISTS,
)
ALL_LAYERS: dict[str, Layer] = {lyr.name: lyr for lyr in (*SPATIAL_LAYERS, *TABLES)}


# ----------------------------------------------------------------------------- cell helpers


def split_list(text: object) -> list[str]:
    """Split ``;``-separated text (also ``；`` and ``,``) into stripped, non-empty items.

    Missing values (None, NaN, NA) give ``[]``. Used for ``candidate_zones``,
    ``locked_plots``, ``positioning`` and ``unit_ids``.
    """
    if text is None:
        return []
    try:
        if pd.isna(text):
            return []
    except (TypeError, ValueError):
        pass
    raw = str(text).replace("；", ";").replace("，", ";").replace(",", ";")
    return [item.strip() for item in raw.split(";") if item.strip()]


def row_labels(frame: pd.DataFrame, layer: Layer) -> np.ndarray:
    """Return one label per row: its id when the layer has one, else ``#n`` (1-based)."""
    n = len(frame)
    numbers = np.array([f"#{i + 1}" for i in range(n)], dtype=object)
    if layer.id_column and layer.id_column in frame.columns:
        ids = frame[layer.id_column]
        ok = ids.notna().to_numpy()
        out = numbers.copy()
        out[ok] = ids[ok].astype(str).to_numpy()
        return out
    return numbers
