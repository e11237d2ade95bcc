"""Read and write the canonical case GeoPackage; coerce raw frames to the schema.

``load_case`` reads every layer and table of DATA.md (plus the optional
``admin`` layer), reprojects spatial layers to EPSG:4549, repairs invalid
geometry (reported as a warning), derives ``area_mu``, coerces column dtypes
per :mod:`allocator.case.schema` and runs :func:`allocator.case.validate.check_frames`.
All errors are raised together in one :class:`~allocator.errors.CaseError`.

Dtypes after loading: text as pandas ``str`` (missing = NA); ``float`` columns
float64 (NaN = missing); ``int`` columns int64 when the column is required
(never missing after validation), otherwise float64; ``bool`` as bool
(missing = False); ``date`` as ``datetime64[ms]`` (NaT = missing).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from allocator.case.model import Case
from allocator.case.schema import ALL_LAYERS, CASE_CRS, Column, Layer, row_labels
from allocator.case.schema import split_list as split_list  # re-exported: callers import it here
from allocator.case.validate import check_frames
from allocator.errors import CaseError, ProblemList, Severity
from allocator.i18n import t
from allocator.units import M2_PER_MU

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0", "是", "真", "√", "✓", "x"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0", "否", "假", "", "nan", "none"})
NA_WORDS = frozenset({"", "na", "n/a", "nan", "none", "null", "-", "—", "无", "/"})

# Zhejiang's bounding box (118–123.2E, 27–31.2N) in EPSG:4549, with ~100 km margin.
_ZJ_BOX_4549 = (200_000.0, 2_870_000.0, 930_000.0, 3_580_000.0)


def _text(series: pd.Series) -> pd.Series:
    """Coerce to pandas ``str`` dtype: integral floats lose ``.0``, blanks become NA."""
    if pd.api.types.is_bool_dtype(series):
        series = series.astype(object)
    elif pd.api.types.is_float_dtype(series):
        vals = series.to_numpy(dtype=float)
        integral = np.isfinite(vals) & (vals == np.round(vals))
        obj = series.astype(object)
        obj[integral] = vals[integral].astype(np.int64).astype(str)
        series = obj.where(series.notna(), None)
    elif pd.api.types.is_integer_dtype(series):
        series = series.astype(object).where(series.notna(), None)
    out = series.astype("str").str.strip()
    return out.where(~out.str.lower().isin(NA_WORDS) & out.notna(), None).astype("str")


def _numbers(
    series: pd.Series, col: Column, labels: np.ndarray, problems: ProblemList, where: dict[str, str]
) -> pd.Series:
    """Coerce to float64; report values that are present but not numbers."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    text = series.astype("str").str.strip()
    text = text.str.replace(",", "", regex=False).str.replace("，", "", regex=False)
    blank = text.isna() | text.str.lower().isin(NA_WORDS)
    values = pd.to_numeric(text.where(~blank, None), errors="coerce").astype(float)
    bad = values.isna() & ~blank
    for i in np.flatnonzero(bad.to_numpy()):
        problems.error(
            "not_a_number",
            t("case.not_a_number", value=str(series.iloc[i])),
            row=str(labels[i]),
            column=col.name,
            hint=t("case.hint.number"),
            **where,
        )
    return values


def _bools(
    series: pd.Series, col: Column, labels: np.ndarray, problems: ProblemList, where: dict[str, str]
) -> pd.Series:
    """Coerce to bool (missing → False); report words that are neither true nor false."""
    if pd.api.types.is_bool_dtype(series) and not series.isna().any():
        return series.astype(bool)
    if pd.api.types.is_numeric_dtype(series):
        return series.fillna(0).astype(float).ne(0)
    text = series.astype("str").str.strip().str.lower().fillna("")
    true = text.isin(TRUE_WORDS)
    bad = ~true & ~text.isin(FALSE_WORDS)
    for i in np.flatnonzero(bad.to_numpy()):
        problems.error(
            "not_a_bool",
            t("case.not_a_bool", value=str(series.iloc[i])),
            row=str(labels[i]),
            column=col.name,
            hint=t("case.hint.bool"),
            **where,
        )
    return true.astype(bool)


def _dates(
    series: pd.Series, col: Column, labels: np.ndarray, problems: ProblemList, where: dict[str, str]
) -> pd.Series:
    """Coerce to datetime64; report unparseable dates."""
    if pd.api.types.is_datetime64_any_dtype(series):
        if series.dt.tz is not None:
            series = series.dt.tz_localize(None)
        return series.astype("datetime64[ms]")
    text = _text(series)
    values = pd.to_datetime(text, errors="coerce", format="mixed")
    bad = values.isna() & text.notna()
    for i in np.flatnonzero(bad.to_numpy()):
        problems.error(
            "not_a_date",
            t("case.not_a_date", value=str(series.iloc[i])),
            row=str(labels[i]),
            column=col.name,
            hint=t("case.hint.date"),
            **where,
        )
    return values.astype("datetime64[ms]")


def coerce_columns(
    frame: pd.DataFrame, layer: Layer, problems: ProblemList, file: str = ""
) -> pd.DataFrame:
    """Return ``frame`` with canonical columns first, each coerced to its kind.

    A missing required column is an error; a missing optional column is added
    empty. Extra columns are kept after the canonical ones.
    """
    where = {"file": file, "layer": layer.name}
    frame = frame.reset_index(drop=True)
    labels = row_labels(frame, layer)
    out: dict[str, pd.Series] = {}
    n = len(frame)
    for col in layer.columns:
        if col.name not in frame.columns:
            if col.required:
                problems.error(
                    "missing_column",
                    t("case.missing_column", column=col.name),
                    column=col.name,
                    hint=t("case.hint.missing_column", column=col.name),
                    **where,
                )
            series = pd.Series([None] * n, dtype=object, index=frame.index)
        else:
            series = frame[col.name]
        if col.kind == "str":
            out[col.name] = _text(series)
        elif col.kind in ("float", "int"):
            values = _numbers(series, col, labels, problems, where)
            if col.kind == "int":
                frac = values.notna() & (values != np.round(values))
                for i in np.flatnonzero(frac.to_numpy()):
                    problems.error(
                        "not_an_integer",
                        t("case.not_an_integer", value=str(series.iloc[i])),
                        row=str(labels[i]),
                        column=col.name,
                        hint=t("case.hint.integer"),
                        **where,
                    )
                if col.required and values.notna().all() and not frac.any():
                    values = values.astype(np.int64)
            out[col.name] = values
        elif col.kind == "bool":
            out[col.name] = _bools(series, col, labels, problems, where)
        elif col.kind == "date":
            out[col.name] = _dates(series, col, labels, problems, where)
    canonical = set(layer.column_names) | {"geometry", "area_mu"}
    extras = [c for c in frame.columns if c not in canonical and c != frame_geometry_name(frame)]
    result = pd.DataFrame(out, index=frame.index)
    for c in extras:
        extra = frame[c]
        if str(c).startswith("Unnamed:") and extra.replace("", None).isna().all():
            continue  # empty spreadsheet column
        if pd.api.types.is_object_dtype(extra) or pd.api.types.is_string_dtype(extra):
            extra = _text(extra)
        name = f"source_{c}" if str(c).lower() in ("fid", "ogc_fid", "geom", "geometry") else c
        result[name] = extra.to_numpy()
    return result


def frame_geometry_name(frame: pd.DataFrame) -> str | None:
    """Name of the active geometry column, or None for plain tables."""
    if isinstance(frame, gpd.GeoDataFrame):
        try:
            return str(frame.geometry.name)
        except AttributeError:
            return None
    return None


def crs_problem(crs: object) -> str | None:
    """Return ``"missing"``/``"unknown"`` when a CRS cannot be used, else None."""
    if crs is None:
        return "missing"
    try:
        crs = CRS.from_user_input(crs)
    except Exception:  # noqa: BLE001 - any parse failure means "unknown"
        return "unknown"
    if crs.is_engineering or not (crs.is_geographic or crs.is_projected):
        return "unknown"
    datum = crs.datum.name.lower() if crs.datum is not None else "unknown"
    if "unknown" in datum or "not specified" in datum or "unnamed" in datum:
        return "unknown"
    return None


def prepare_geometry(
    frame: gpd.GeoDataFrame | pd.DataFrame,
    layer: Layer,
    problems: ProblemList,
    file: str = "",
    crs: object = None,
) -> tuple[np.ndarray, bool]:
    """Check CRS and geometry of a spatial layer; return EPSG:4549 geometries.

    Returns ``(geometries, usable)``; ``usable`` is False when the CRS is
    missing or unknown (the geometries are then returned untransformed and no
    area can be derived). Invalid geometries are repaired with
    ``shapely.make_valid`` and reported as warnings; empty or non-polygonal
    geometries are errors.
    """
    where = {"file": file, "layer": layer.name}
    frame = frame.reset_index(drop=True)
    labels = row_labels(frame, layer)
    gname = frame_geometry_name(frame)
    if gname is None:
        problems.error(
            "no_geometry",
            t("case.no_geometry"),
            hint=t("case.hint.no_geometry"),
            **where,
        )
        return np.array([None] * len(frame), dtype=object), False
    geoms = np.asarray(frame.geometry.array, dtype=object)
    if crs is None:
        crs = frame.crs
    status = crs_problem(crs)
    if status is not None:
        problems.error(
            f"crs_{status}",
            t(f"case.crs_{status}", crs=str(crs)[:80]),
            hint=t("case.hint.crs"),
            **where,
        )
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(geoms)
    for i in np.flatnonzero(empty):
        problems.error(
            "empty_geometry",
            t("case.empty_geometry"),
            row=str(labels[i]),
            column="geometry",
            hint=t("case.hint.empty_geometry"),
            **where,
        )
    type_ids = shapely.get_type_id(geoms)
    polygonal = np.isin(type_ids, (3, 6))
    wrong = ~polygonal & ~empty & (type_ids != 7)
    for i in np.flatnonzero(wrong):
        problems.error(
            "geometry_type",
            t("case.geometry_type", found=geoms[i].geom_type),
            row=str(labels[i]),
            column="geometry",
            hint=t("case.hint.geometry_type"),
            **where,
        )
    invalid = ~empty & ~wrong & ~shapely.is_valid(geoms)
    invalid_idx = np.flatnonzero(invalid | ((type_ids == 7) & ~empty))
    if invalid_idx.size:
        reasons = shapely.is_valid_reason(geoms[invalid_idx])
        fixed = shapely.make_valid(geoms[invalid_idx], method="structure", keep_collapsed=False)
        for k, i in enumerate(invalid_idx):
            geom = _polygonal_part(fixed[k])
            geoms[i] = geom
            if geom is None or geom.is_empty:
                problems.error(
                    "empty_geometry",
                    t("case.empty_after_repair", reason=reasons[k]),
                    row=str(labels[i]),
                    column="geometry",
                    hint=t("case.hint.empty_geometry"),
                    **where,
                )
            else:
                problems.warning(
                    "geometry_repaired",
                    t("case.geometry_repaired", reason=reasons[k]),
                    row=str(labels[i]),
                    column="geometry",
                    hint=t("case.hint.geometry_repaired"),
                    **where,
                )
    # Remove any z coordinates: areas and overlays are 2-D.
    has_z = shapely.has_z(geoms)
    if has_z.any():
        geoms[has_z] = shapely.force_2d(geoms[has_z])
    if status is not None:
        return geoms, False
    src = CRS.from_user_input(crs)
    if not src.equals(CRS.from_user_input(CASE_CRS)):
        series = gpd.GeoSeries(geoms, crs=src).to_crs(CASE_CRS)
        geoms = np.asarray(series.array, dtype=object)
    bounds = shapely.bounds(geoms)
    finite = np.isfinite(bounds).all(axis=1)
    xmin, ymin, xmax, ymax = _ZJ_BOX_4549
    inside = (
        finite
        & (bounds[:, 0] >= xmin)
        & (bounds[:, 2] <= xmax)
        & (bounds[:, 1] >= ymin)
        & (bounds[:, 3] <= ymax)
    )
    far = ~inside & ~empty
    if far.any():
        idx = np.flatnonzero(far)
        bad_coords = ~finite[idx]
        severity: Severity = "error" if bad_coords.any() or far.all() else "warning"
        for i in idx[:20]:
            problems.add(
                severity,
                "outside_zhejiang",
                t("case.outside_zhejiang", crs=src.to_string()[:40]),
                row=str(labels[i]),
                column="geometry",
                hint=t("case.hint.outside_zhejiang"),
                **where,
            )
        if severity == "error":
            return geoms, False
    geoms = _normalise_type(geoms, layer, labels, problems, where)
    return geoms, True


def _polygonal_part(geom: object) -> shapely.Geometry | None:
    """Keep the polygonal parts of a (repaired) geometry; None when there are none."""
    if geom is None:
        return None
    parts = shapely.get_parts(np.asarray([geom], dtype=object))
    polys = [p for p in parts if shapely.get_type_id(p) in (3, 6) and not p.is_empty]
    if not polys:
        return None
    polys = list(shapely.get_parts(np.asarray(polys, dtype=object)))
    if len(polys) == 1:
        return polys[0]
    return shapely.MultiPolygon(polys)


def _normalise_type(
    geoms: np.ndarray,
    layer: Layer,
    labels: np.ndarray,
    problems: ProblemList,
    where: dict[str, str],
) -> np.ndarray:
    """Make plots Polygons (single-part multis unwrapped) and other layers MultiPolygons."""
    type_ids = shapely.get_type_id(geoms)
    if layer.geometry == "Polygon":
        multi = type_ids == 6
        if multi.any():
            nparts = shapely.get_num_geometries(geoms)
            single = multi & (nparts == 1)
            geoms[single] = shapely.get_geometry(geoms[single], 0)
            for i in np.flatnonzero(multi & (nparts > 1)):
                problems.warning(
                    "multipart_plot",
                    t("case.multipart_plot", parts=int(nparts[i])),
                    row=str(labels[i]),
                    column="geometry",
                    hint=t("case.hint.multipart_plot"),
                    **where,
                )
    elif layer.geometry == "MultiPolygon":
        single = type_ids == 3
        if single.any():
            idx = np.flatnonzero(single)
            geoms[idx] = shapely.multipolygons(geoms[idx], indices=np.arange(idx.size))
    return geoms


def build_layer(
    frame: pd.DataFrame,
    layer: Layer,
    problems: ProblemList,
    file: str = "",
    crs: object = None,
) -> pd.DataFrame:
    """Coerce one raw frame to its canonical form (spatial: GeoDataFrame in EPSG:4549)."""
    frame = frame.reset_index(drop=True)
    table = coerce_columns(frame, layer, problems, file)
    if layer.geometry is None:
        return table
    geoms, usable = prepare_geometry(frame, layer, problems, file, crs)
    out = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, index=table.index), crs=None)
    if usable:
        out = out.set_crs(CASE_CRS, allow_override=True)
    if layer.name in ("plots", "zones"):
        area = shapely.area(geoms) if usable else np.full(len(out), np.nan)
        out["area_mu"] = np.asarray(area, dtype=float) / M2_PER_MU
    return out


def empty_layer(layer: Layer) -> pd.DataFrame:
    """Return an empty frame with the canonical columns of ``layer``."""
    problems = ProblemList()
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in layer.column_names})
    if layer.geometry is not None:
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=CASE_CRS), crs=CASE_CRS)
    return build_layer(frame, layer, problems, crs=CASE_CRS)


def build_case(
    frames: dict[str, pd.DataFrame],
    problems: ProblemList,
    files: dict[str, str] | None = None,
    crses: dict[str, object] | None = None,
    source: Path | None = None,
) -> Case | None:
    """Coerce and validate raw frames; return the Case, or None when there are errors.

    ``frames`` maps layer names to raw (Geo)DataFrames; ``files`` names each
    layer's source file for messages; ``crses`` overrides a layer's CRS.
    Missing required layers are errors; a missing optional layer stays None.
    """
    files = files or {}
    crses = crses or {}
    built: dict[str, pd.DataFrame | None] = {}
    for name, layer in ALL_LAYERS.items():
        if name not in frames or frames[name] is None:
            if name in files:
                # The file was there but could not be read: already reported.
                built[name] = None if layer.optional else empty_layer(layer)
                continue
            if not layer.optional:
                problems.error(
                    "missing_layer",
                    t("case.missing_layer", layer=name),
                    file=files.get(name, str(source or "")),
                    layer=name,
                    hint=t("case.hint.missing_layer", layer=name),
                )
                built[name] = empty_layer(layer)
            else:
                built[name] = None
            continue
        built[name] = build_layer(
            frames[name], layer, problems, files.get(name, ""), crses.get(name)
        )
    check_frames(built, problems, files)
    if problems.errors:
        return None
    return Case(**built, source=source, problems=list(problems.warnings))


def read_gpkg_frames(path: Path, problems: ProblemList) -> dict[str, pd.DataFrame]:
    """Read every known layer of a GeoPackage as raw frames (unknown layers ignored)."""
    try:
        listed = pyogrio.list_layers(path)
    except Exception as exc:  # noqa: BLE001 - GDAL raises many types
        raise CaseError(
            t("case.unreadable", file=str(path), error=str(exc).splitlines()[0][:200]),
            hint=t("case.hint.unreadable"),
        ) from exc
    frames: dict[str, pd.DataFrame] = {}
    for name, _geom_type in listed:
        if name not in ALL_LAYERS:
            continue
        layer = ALL_LAYERS[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(
                path, layer=name, use_arrow=True, read_geometry=layer.geometry is not None
            )
        frames[name] = frame
    return frames


def load_case(path: str | os.PathLike[str]) -> Case:
    """Load and validate a case GeoPackage (a store URL: :func:`allocator.case.load_case`).

    Raises
    ------
    CaseError
        Listing every error (file, layer, row, column, hint). Warnings are
        kept in ``case.problems``.
    """
    path = Path(path)
    if not path.exists():
        raise CaseError(t("case.not_found", file=str(path)), hint=t("case.hint.not_found"))
    if path.is_dir() or path.suffix.lower() != ".gpkg":
        raise CaseError(
            t("case.unreadable", file=str(path), error="not a GeoPackage (.gpkg)"),
            hint=t("case.hint.unreadable"),
        )
    problems = ProblemList()
    frames = read_gpkg_frames(path, problems)
    files = dict.fromkeys(ALL_LAYERS, path.name)
    case = build_case(frames, problems, files=files, source=path)
    problems.raise_if_errors(t("case.invalid", file=str(path)))
    assert case is not None
    return case


def _for_storage(frame: pd.DataFrame) -> pd.DataFrame:
    """Make dtypes writable by GDAL (nullable/str → object text)."""
    out = frame.copy()
    for c in out.columns:
        if c == "geometry":
            continue
        if pd.api.types.is_string_dtype(out[c]) and not pd.api.types.is_object_dtype(out[c]):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


def _storage_type(gdf: gpd.GeoDataFrame, layer: Layer) -> str:
    """Return the declared GeoPackage geometry type (plots with multi-part rows: Unknown)."""
    if layer.geometry == "Polygon" and (shapely.get_type_id(gdf.geometry.array) == 6).any():
        return "Unknown"
    return layer.geometry or "Unknown"


def save_case(case: Case, path: str | os.PathLike[str]) -> Path:
    """Write ``case`` as a canonical GeoPackage (atomically: temp file, then rename).

    Spatial layers are stored in EPSG:4549; tables as GeoPackage attribute
    tables. Returns the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(suffix=".gpkg", prefix=".tmp-", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        for name, layer in ALL_LAYERS.items():
            frame = getattr(case, name)
            if frame is None:
                continue
            frame = _for_storage(frame)
            if layer.geometry is not None:
                gdf = gpd.GeoDataFrame(frame, geometry="geometry", crs=CASE_CRS)
                if gdf.crs is None or not CRS.from_user_input(gdf.crs).equals(CASE_CRS):
                    gdf = gdf.to_crs(CASE_CRS)
                pyogrio.write_dataframe(
                    gdf,
                    tmp,
                    layer=name,
                    driver="GPKG",
                    geometry_type=_storage_type(gdf, layer),
                    promote_to_multi=layer.geometry == "MultiPolygon",
                    append=tmp.exists(),
                )
            else:
                pyogrio.write_dataframe(
                    pd.DataFrame(frame), tmp, layer=name, driver="GPKG", append=tmp.exists()
                )
        os.replace(tmp, path)
    except Exception:
        tmp.unlink(missing_ok=True)
        raise
    return path
