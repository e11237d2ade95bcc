"""Vector exports: GeoPackage (with QGIS styles), GeoJSON (RFC 7946), Shapefile zip, GeoParquet.

- Layers (:data:`~allocator.export.data.LAYERS`): ``allocation`` (plots, a
  firm's figures split by plot area), ``firms`` (one feature per firm served,
  its totals), ``zones``, ``redline``, ``control_units``: a column summed over
  either the plot or the firm layer gives the run's total.
- GeoPackage keeps EPSG:4549 (metres, as the case) and stores QGIS default
  styles in the ``layer_styles`` table (QGIS's own schema), so the layers open
  coloured: plots by outcome (default) or by class, the red line hatched. Each
  layer has a Chinese title (``gpkg_contents.identifier``, the style names),
  and its fields Chinese aliases (``gpkg_data_columns`` and the styles' QML).
- GeoJSON follows RFC 7946 through GDAL's ``RFC7946=YES`` option: WGS84
  lon/lat, no ``crs`` member, counter-clockwise exterior rings, 7 decimals.
- Shapefile is one zip with ``.shp/.shx/.dbf/.prj/.cpg`` (UTF-8) per layer;
  DBF field names are at most 10 characters, by the documented mapping
  :data:`SHP_FIELDS` (also written into the zip as ``fields.csv``).
- GeoParquet: one file per layer, EPSG:4549.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from allocator.export.data import (
    CLASS_COLORS,
    LAYERS,
    NO_CLASS_COLOR,
    OUTCOME_COLORS,
    OUTCOMES,
    REDLINE_COLOR,
    ExportData,
    label,
    outcome_label,
)
from allocator.i18n import t
from models.data import CLASSES

WGS84 = "EPSG:4326"
GEOJSON_PRECISION = 7
GPKG_OPTIONS = {"VERSION": "1.2"}
"""GeoPackage 1.2: read without a version warning by older GDAL builds (e.g. 3.6 in Debian 12)."""

SHP_FIELDS: dict[str, str] = {
    "plot_id": "plot_id",
    "zone_id": "zone_id",
    "land_use": "land_use",
    "area_mu": "area_mu",
    "status_before": "status_bef",
    "occupant_before": "occup_bef",
    "firm_id_after": "firm_after",
    "outcome": "outcome",
    "class_after": "class_aft",
    "redline_share": "redline_sh",
    "status_after": "status_aft",
    "firm_name": "firm_name",
    "firm_kind": "firm_kind",
    "firm_class": "firm_class",
    "land_mu": "land_mu",
    "electricity_mwh": "elec_mwh",
    "energy_tce": "energy_tce",
    "cod_t": "cod_t",
    "nh3n_t": "nh3n_t",
    "so2_t": "so2_t",
    "nox_t": "nox_t",
    "value_added_wan": "va_wan",
    "tax_wan": "tax_wan",
    "request_met_share": "req_met",
    "firm_area_share": "firm_share",
    "outcome_label": "outcome_lb",
    "status_before_label": "stat_b_lb",
    "status_after_label": "stat_a_lb",
    "firm_kind_label": "kind_lb",
    # firms
    "firm_id": "firm_id",
    "plot_count": "plot_n",
    "plot_ids": "plot_ids",
    # zones
    "name": "name",
    "name_en": "name_en",
    "city": "city",
    "county": "county",
    "approved_km2": "appr_km2",
    "electricity_cap_mwh": "elec_cap",
    "energy_cap_tce": "energy_cap",
    "intensity_cap_tce_per_wan": "int_cap",
    "positioning": "position",
    "land_used_mu": "used_mu",
    "land_free_mu": "free_mu",
    "land_excluded_mu": "excl_mu",
    "land_used_before_mu": "used_b_mu",
    "plots_area_mu": "plots_mu",
    "electricity_before_mwh": "elec_b_mwh",
    "energy_before_tce": "energy_b",
    "intensity_tce_per_wan": "intensity",
    "intensity_before_tce_per_wan": "intens_b",
    "value_added_before_wan": "va_b_wan",
    "tax_before_wan": "tax_b_wan",
    "tax_per_mu_before": "tax_mu_b",
    "tax_per_mu_after": "tax_mu_a",
    "va_per_mu_before": "va_mu_b",
    "va_per_mu_after": "va_mu_a",
    "area_km2": "area_km2",
    "tax_per_km2_before": "tax_km2_b",
    "tax_per_km2_after": "tax_km2_a",
    "revenue_per_km2_before": "rev_km2_b",
    "revenue_per_km2_after": "rev_km2_a",
    "va_per_km2_before": "va_km2_b",
    "va_per_km2_after": "va_km2_a",
    "employees_per_km2_before": "emp_km2_b",
    "employees_per_km2_after": "emp_km2_a",
    "developed_share_before": "dev_sh_b",
    "developed_share_after": "dev_sh_a",
    "firms_before": "firms_b",
    "firms_after": "firms_a",
    "new_projects": "new_proj",
    "a_class_before": "a_cls_b",
    "a_class_after": "a_cls_a",
    "electricity_marginal_wan_per_mwh": "elec_mv",
    "energy_marginal_wan_per_tce": "energy_mv",
    "intensity_marginal_wan_per_tce": "intens_mv",
    # red line and control units
    "redline_id": "redline_id",
    "kind": "kind",
    "unit_id": "unit_id",
    "category": "category",
    "cap_cod_t": "cap_cod_t",
    "cap_nh3n_t": "cap_nh3n_t",
    "cap_so2_t": "cap_so2_t",
    "cap_nox_t": "cap_nox_t",
}
"""Documented Shapefile field names (≤ 10 characters) for the export columns.

Columns not listed get an automatic name: the first 10 characters, made unique
with a numeric suffix. The mapping actually used is written into the zip.
"""


# ----------------------------------------------------------------------------- helpers


def _writable(frame: Any) -> Any:
    """Return a copy GDAL writes without complaint: bools as int, text as str, ±inf as NaN."""
    out = frame.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if pd.api.types.is_bool_dtype(s):
            out[col] = s.astype("int32")
        elif pd.api.types.is_float_dtype(s):
            out[col] = s.where(np.isfinite(s))  # ±inf is not JSON and not in DBF: missing
        elif s.dtype == object or pd.api.types.is_string_dtype(s):
            obj = s.astype(object)
            obj = obj.where(obj.notna(), None)  # NaN, NA, NaT: missing
            if not all(isinstance(v, str) for v in obj if v is not None):
                obj = obj.map(lambda v: None if v is None else str(v)).astype(object)
            out[col] = obj
    return out


def _ensure_multi(frame: Any) -> Any:
    """Promote polygons to multipolygons so a layer has one geometry type."""
    import shapely

    geom = frame.geometry
    types = set(geom.geom_type.dropna())
    if types <= {"Polygon", "MultiPolygon"} and len(types) > 1:
        frame = frame.copy()
        values = np.asarray(geom.values, dtype=object)
        single = np.asarray(geom.geom_type == "Polygon")
        values[single] = shapely.multipolygons(values[single][:, None])
        frame[geom.name] = values
    return frame


def _layers(data: ExportData) -> dict[str, Any]:
    """Return the layers as GDAL writes them, made once per export (``data.vector_layers``)."""
    if not data.vector_layers:
        for name in LAYERS:
            data.vector_layers[name] = _ensure_multi(_writable(data.layers[name]))
    return dict(data.vector_layers)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


# ----------------------------------------------------------------------------- QGIS styles


def _rgba(hex_color: str, alpha: int = 255) -> str:
    h = hex_color.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _fill_symbol(
    name: str,
    color: str,
    *,
    style: str = "solid",
    outline: str = "#505050",
    outline_width: float = 0.26,
    alpha: int = 255,
) -> str:
    opts = {
        "color": _rgba(color, alpha),
        "style": style,
        "outline_color": _rgba(outline),
        "outline_style": "solid",
        "outline_width": str(outline_width),
        "outline_width_unit": "MM",
        "joinstyle": "bevel",
    }
    options = "".join(
        f'<Option name="{k}" type="QString" value="{escape(v)}"/>' for k, v in opts.items()
    )
    props = "".join(f'<prop k="{k}" v="{escape(v)}"/>' for k, v in opts.items())
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">'
        f'<Option type="Map">{options}</Option>{props}</layer></symbol>'
    )


def _aliases_xml(aliases: dict[str, str] | None) -> str:
    """Return QML's ``<aliases>`` (the Fields category): QGIS shows these as the field names.

    QGIS 3.22 on GDAL < 3.7 does not read the GeoPackage's ``gpkg_data_columns``;
    the default style's aliases reach it either way.
    """
    if not aliases:
        return ""
    items = "".join(
        f'<alias field="{escape(f)}" index="{i}" name="{escape(a)}"/>'
        for i, (f, a) in enumerate(aliases.items())
    )
    return f"<aliases>{items}</aliases>"


def _qml(renderer: str, aliases: dict[str, str] | None) -> str:
    categories = "Symbology|Fields" if aliases else "Symbology"
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="3.28.0" styleCategories="{categories}">{renderer}'
        f"{_aliases_xml(aliases)}<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode>"
        "<layerOpacity>1</layerOpacity></qgis>\n"
    )


def categorized_qml(
    attr: str, categories: list[tuple[str, str, str]], aliases: dict[str, str] | None = None
) -> str:
    """Return a QGIS QML style: a categorized renderer on ``attr`` (and field ``aliases``).

    ``categories`` holds ``(value, label, hex colour)``; an empty value is the
    "all other values" category.
    """
    cats = "".join(
        f'<category value="{escape(v)}" symbol="{i}" label="{escape(lab)}" render="true"/>'
        for i, (v, lab, _) in enumerate(categories)
    )
    syms = "".join(_fill_symbol(str(i), col) for i, (_, _, col) in enumerate(categories))
    return _qml(
        f'<renderer-v2 type="categorizedSymbol" attr="{escape(attr)}" symbollevels="0" '
        'enableorderby="0" forceraster="0" referencescale="-1">'
        f"<categories>{cats}</categories><symbols>{syms}</symbols></renderer-v2>",
        aliases,
    )


def single_qml(
    color: str,
    *,
    style: str = "solid",
    outline: str = "#505050",
    outline_width: float = 0.26,
    alpha: int = 255,
    aliases: dict[str, str] | None = None,
) -> str:
    """Return a QGIS QML style with one fill symbol (and field ``aliases``)."""
    sym = _fill_symbol(
        "0", color, style=style, outline=outline, outline_width=outline_width, alpha=alpha
    )
    return _qml(
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0" '
        f'referencescale="-1"><symbols>{sym}</symbols></renderer-v2>',
        aliases,
    )


def _sld(layer: str, attr: str | None, rules: list[tuple[str, str, str]]) -> str:
    """Return a minimal OGC SLD 1.1: one rule per category (one rule when ``attr`` is None)."""
    out = []
    for value, lab, color in rules:
        filt = ""
        if attr is not None and value != "":
            filt = (
                "<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>"
                f"{escape(attr)}</ogc:PropertyName><ogc:Literal>{escape(value)}</ogc:Literal>"
                "</ogc:PropertyIsEqualTo></ogc:Filter>"
            )
        out.append(
            f"<se:Rule><se:Name>{escape(lab)}</se:Name>{filt}<se:PolygonSymbolizer><se:Fill>"
            f'<se:SvgParameter name="fill">{color}</se:SvgParameter></se:Fill><se:Stroke>'
            '<se:SvgParameter name="stroke">#505050</se:SvgParameter></se:Stroke>'
            "</se:PolygonSymbolizer></se:Rule>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><StyledLayerDescriptor version="1.1.0" '
        'xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc" '
        'xmlns:se="http://www.opengis.net/se"><NamedLayer>'
        f"<se:Name>{escape(layer)}</se:Name><UserStyle><se:FeatureTypeStyle>"
        f"{''.join(out)}</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>"
    )


def layer_title(layer: str, lang: str) -> str:
    """Return the planner's title of a vector layer (``allocation`` → 地块配置)."""
    return t(f"export.layer.{layer}", lang)


def field_aliases(columns: list[str], lang: str) -> dict[str, str]:
    """Return ``{column: header with unit}`` for the columns that have a planner's name."""
    out = {}
    for col in columns:
        head = label(col, lang)
        if head != col and col not in ("fid", "geom", "geometry"):
            out[col] = head
    return out


def layer_styles(lang: str, columns: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Return the rows of the GeoPackage ``layer_styles`` table (QGIS's schema).

    Each style is named ``<layer title>：<style>`` in ``lang`` and carries the
    field aliases of ``columns[layer]`` (the layer's columns), so QGIS shows
    Chinese titles, legends and field names.
    """
    columns = columns or {}

    def aliases(layer: str) -> dict[str, str]:
        return field_aliases(columns.get(layer, []), lang)

    outcome_cats = [(o, outcome_label(o, lang), OUTCOME_COLORS[o]) for o in OUTCOMES]
    class_cats = [(c, c, CLASS_COLORS[c]) for c in CLASSES] + [
        ("", t("export.legend.no_class", lang), NO_CLASS_COLOR)
    ]
    specs = [
        (
            "allocation",
            t("export.style.by_outcome", lang),
            categorized_qml("outcome", outcome_cats, aliases("allocation")),
            _sld("allocation", "outcome", outcome_cats),
            True,
        ),
        (
            "allocation",
            t("export.style.by_class", lang),
            categorized_qml("class_after", class_cats, aliases("allocation")),
            _sld("allocation", "class_after", class_cats),
            False,
        ),
        (
            "firms",
            t("export.style.by_class", lang),
            categorized_qml("firm_class", class_cats, aliases("firms")),
            _sld("firms", "firm_class", class_cats),
            True,
        ),
        (
            "zones",
            t("export.style.zones", lang),
            single_qml(
                "#ffffff",
                style="no",
                outline="#1f3b73",
                outline_width=0.8,
                aliases=aliases("zones"),
            ),
            _sld("zones", None, [("", "zones", "#ffffff")]),
            True,
        ),
        (
            "redline",
            t("export.style.redline", lang),
            single_qml(
                REDLINE_COLOR,
                style="b_diagonal",
                outline=REDLINE_COLOR,
                outline_width=0.5,
                aliases=aliases("redline"),
            ),  # fmt: skip
            _sld("redline", None, [("", "redline", REDLINE_COLOR)]),
            True,
        ),
        (
            "control_units",
            t("export.style.units", lang),
            single_qml("#9467bd", outline="#9467bd", alpha=40, aliases=aliases("control_units")),
            _sld("control_units", None, [("", "units", "#9467bd")]),
            True,
        ),
    ]
    styles = [(layer, f"{layer_title(layer, lang)}：{name}", *rest) for layer, name, *rest in specs]
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    return pd.DataFrame(
        {
            "f_table_catalog": ["" for _ in styles],
            "f_table_schema": ["" for _ in styles],
            "f_table_name": [s[0] for s in styles],
            "f_geometry_column": ["geom" for _ in styles],
            "styleName": [s[1] for s in styles],
            "styleQML": [s[2] for s in styles],
            "styleSLD": [s[3] for s in styles],
            "useAsDefault": [s[4] for s in styles],
            "description": [
                f"{t(f'export.layer_desc.{s[0]}', lang)} {t('export.style.description', lang)}"
                for s in styles
            ],
            "owner": ["" for _ in styles],
            "ui": [None for _ in styles],
            "update_time": [pd.Timestamp(now) for _ in styles],
        }
    )


# ----------------------------------------------------------------------------- writers


def write_gpkg(data: ExportData, path: Path) -> Path:
    """Write the layers (:data:`LAYERS`) and the QGIS ``layer_styles`` table to one GeoPackage."""
    import pyogrio

    _remove(path)
    layers = _layers(data)
    for name, frame in layers.items():
        pyogrio.write_dataframe(
            frame,
            path,
            layer=name,
            driver="GPKG",
            append=path.exists(),
            dataset_options=GPKG_OPTIONS,
            # gpkg_contents: GDAL shows these as IDENTIFIER / DESCRIPTION, QGIS as title / abstract
            layer_options={
                "IDENTIFIER": layer_title(name, data.lang),
                "DESCRIPTION": t(f"export.layer_desc.{name}", data.lang),
            },
            promote_to_multi=name != "allocation",
        )
    columns = {name: [c for c in f.columns if c != f.geometry.name] for name, f in layers.items()}
    styles = layer_styles(data.lang, columns)
    pyogrio.write_dataframe(
        styles, path, layer="layer_styles", driver="GPKG", append=True, layer_options={"FID": "id"}
    )
    write_field_aliases(path, data.lang)
    return path


GPKG_SCHEMA_EXTENSION = (
    "gpkg_data_columns",
    None,
    "gpkg_schema",
    "http://www.geopackage.org/spec121/#extension_schema",
    "read-write",
)


def write_field_aliases(path: Path, lang: str) -> None:
    """Give every field of the GeoPackage's layers its planner's name (``gpkg_data_columns``).

    The GeoPackage schema extension: ``name`` and ``title`` hold the header with
    its unit (``用电量(兆瓦时)``); GDAL reads ``name`` as the field's alternative
    name, which QGIS shows as the alias.
    """
    import sqlite3

    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL,"
            " column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT,"
            " mime_type TEXT, constraint_name TEXT, PRIMARY KEY (table_name, column_name))"
        )
        con.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT,"
            " extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,"
            " CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"
        )
        con.execute(
            "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, ?, ?, ?)", GPKG_SCHEMA_EXTENSION
        )
        for layer in LAYERS:
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{layer}")')]
            for col, head in field_aliases(cols, lang).items():
                con.execute(
                    "INSERT OR REPLACE INTO gpkg_data_columns"
                    " (table_name, column_name, name, title) VALUES (?, ?, ?, ?)",
                    (layer, col, head, head),
                )
        con.commit()
    finally:
        con.close()


def to_wgs84(frame: Any) -> Any:
    """Reproject to WGS84 lon/lat (EPSG:4326)."""
    return frame.to_crs(WGS84)


def write_geojson(data: ExportData, folder: Path) -> list[Path]:
    """Write one RFC 7946 GeoJSON file per layer into ``folder``."""
    import pyogrio

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, frame in _layers(data).items():
        path = folder / f"{name}.geojson"
        _remove(path)
        pyogrio.write_dataframe(
            to_wgs84(frame),
            path,
            driver="GeoJSON",
            layer_options={
                "RFC7946": "YES",
                "COORDINATE_PRECISION": str(GEOJSON_PRECISION),
                "WRITE_NAME": "NO",
            },
        )
        out.append(path)
    return out


def shp_field_map(columns: list[str]) -> dict[str, str]:
    """Return ``{column: dbf_field}`` with unique names of at most 10 characters."""
    used: set[str] = set()
    out: dict[str, str] = {}
    for col in columns:
        name = SHP_FIELDS.get(col, col)[:10]
        base, k = name, 1
        while name.lower() in used:
            suffix = str(k)
            name = base[: 10 - len(suffix)] + suffix
            k += 1
        used.add(name.lower())
        out[col] = name
    return out


SHP_LAYER_FILES = {"control_units": "units"}
"""Short file names inside the Shapefile zip (``<name>.shp``)."""


def write_shapefile_zip(data: ExportData, path: Path) -> Path:
    """Write every layer as a Shapefile (UTF-8 ``.cpg``, ``.prj``) into one zip.

    The zip also holds ``fields.csv`` (layer, Shapefile field, column, zh and
    en header) and ``README.txt`` saying what the short names mean.
    """
    import pyogrio

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        for name, frame in _layers(data).items():
            cols = [c for c in frame.columns if c != frame.geometry.name]
            mapping = shp_field_map(cols)
            stem = SHP_LAYER_FILES.get(name, name)
            pyogrio.write_dataframe(
                frame.rename(columns=mapping),
                tmpdir / f"{stem}.shp",
                driver="ESRI Shapefile",
                encoding="UTF-8",
                promote_to_multi=True,
            )
            for col in cols:
                rows.append((stem, mapping[col], col, label(col, "zh"), label(col, "en")))
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["layer", "shp_field", "column", "label_zh", "label_en"])
        writer.writerows(rows)
        (tmpdir / "fields.csv").write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
        (tmpdir / "README.txt").write_text(
            t("export.shp.readme", "zh") + "\n\n" + t("export.shp.readme", "en") + "\n",
            encoding="utf-8",
        )
        _remove(path)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(tmpdir.iterdir()):
                zf.write(f, f.name)
    return path


def write_geoparquet(data: ExportData, folder: Path) -> list[Path]:
    """Write one GeoParquet file per layer into ``folder`` (EPSG:4549)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in LAYERS:
        path = folder / f"{name}.parquet"
        data.layers[name].to_parquet(path, index=False)
        out.append(path)
    return out
