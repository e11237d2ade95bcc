"""Import planners' files into a canonical case GeoPackage.

A source is a folder whose files are named after layers (``zones.shp``,
``plots.zip``, ``firms.csv``, ``地块.geojson``, …; see ``[layers]`` in
``aliases.toml``), a GeoPackage, or an XLSX workbook whose sheets are named
after tables. Each layer may come as GeoPackage, Shapefile (plain or zipped;
DBF text per ``.cpg``, else UTF-8 or GBK detected), GeoJSON, GeoParquet, CSV
(UTF-8, UTF-8 with BOM or GBK, detected) or XLSX. Chinese headers are mapped
to canonical columns by ``aliases.toml``, with unit conversion when a header
names its unit (``用电量(万千瓦时)`` → ``electricity_mwh`` × 10); the mapping
applied is returned as a report. Nothing is written unless the whole case
validates.
"""

from __future__ import annotations

import io as _io
import os
import re
import tempfile
import tomllib
import unicodedata
import warnings
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from allocator.case.io import build_case, read_gpkg_frames, save_case
from allocator.case.model import Case
from allocator.case.schema import ALL_LAYERS, Layer
from allocator.case.validate import check_frames
from allocator.crs import CGCS2000, WEB_CRSES, convert_geometries, normalize_web_crs
from allocator.errors import AllocatorError, CaseError, Problem, ProblemList
from allocator.i18n import t

ALIASES_PATH = Path(__file__).with_name("aliases.toml")
SPATIAL_SUFFIXES = (".gpkg", ".shp", ".zip", ".geojson", ".json", ".parquet", ".geoparquet")
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet", ".gpkg")
SIDECAR_SUFFIXES = (".shx", ".dbf", ".prj", ".cpg", ".qpj", ".sbn", ".sbx", ".xml", ".qmd")
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd")
"""Files of a Shapefile taken from a zip (limits on zips: :mod:`allocator.archive`)."""

_DIVISION_SECTIONS = (
    ("A", 1, 5), ("B", 6, 12), ("C", 13, 43), ("D", 44, 46), ("E", 47, 50), ("F", 51, 52),
    ("G", 53, 60), ("H", 61, 62), ("I", 63, 65), ("J", 66, 69), ("K", 70, 70), ("L", 71, 72),
    ("M", 73, 75), ("N", 76, 79), ("O", 80, 82), ("P", 83, 83), ("Q", 84, 85), ("R", 86, 90),
    ("S", 91, 96), ("T", 97, 97),
)  # fmt: skip
"""GB/T 4754-2017 sections and their two-digit division ranges."""


@dataclass
class ImportReport:
    """What the importer did: files read, columns mapped, units converted."""

    lines: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        """Record one line of the mapping report."""
        self.lines.append(text)


@lru_cache(maxsize=1)
def aliases() -> dict[str, Any]:
    """Return the parsed ``aliases.toml``."""
    with ALIASES_PATH.open("rb") as fh:
        return tomllib.load(fh)


def norm(text: object) -> str:
    """Normalise a header or value for matching: NFKC, no spaces, lower case."""
    out = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"\s+", "", out)


def layer_for_name(stem: str) -> str | None:
    """Return the layer a file, sheet or GeoPackage layer name stands for, if any."""
    key = norm(stem)
    if key in ALL_LAYERS:
        return key
    for layer, names in aliases()["layers"].items():
        if key in {norm(n) for n in names}:
            return str(layer)
    return None


def unit_family(column: str) -> str | None:
    """Return the unit family of a canonical column (by its name's unit suffix)."""
    if column == "employees":
        return "persons"
    for suffix, family in (
        ("_tce_per_wan", "tce_per_wan"),
        ("_wan", "wan"),
        ("_mwh", "mwh"),
        ("_tce", "tce"),
        ("_km2", "km2"),
        ("_mu", "mu"),
        ("_t", "t"),
    ):
        if column.endswith(suffix):
            return family
    return None


@cache
def _header_table(layer_name: str) -> dict[str, str]:
    """Return normalised header → canonical column for one layer."""
    layer = ALL_LAYERS[layer_name]
    table: dict[str, str] = {}
    names = set(layer.column_names)
    for column, alias_list in aliases()["columns"].items():
        if column in names:
            for a in alias_list:
                table.setdefault(norm(a), column)
    for column, alias_list in aliases().get("layer_columns", {}).get(layer_name, {}).items():
        for a in alias_list:
            table[norm(a)] = column  # layer-specific aliases win
    for column in names:
        table[norm(column)] = column
    # Shapefile DBF field names are cut to 10 characters (occupant_id → occupant_i).
    short: dict[str, list[str]] = {}
    for column in names:
        if len(column) > 10:
            short.setdefault(norm(column[:10]), []).append(column)
    for key, cols in short.items():
        if len(cols) == 1:
            table.setdefault(key, cols[0])
    return table


_UNIT_RE = re.compile(r"^(?P<base>.*?)[(\[【](?P<unit>[^)\]】]*)[)\]】]$")


def map_header(header: str, layer: Layer) -> tuple[str | None, float, str]:
    """Map one header to ``(canonical column or None, factor, unit text)``.

    The factor converts the file's unit to the canonical one; ``unit text`` is
    the unit found in the header (empty when none). A header whose unit is not
    known for its column returns factor NaN.
    """
    table = _header_table(layer.name)
    key = norm(header)
    if key in table:
        return table[key], 1.0, ""
    base, unit = key, ""
    match = _UNIT_RE.match(key)
    if match:
        base, unit = match["base"], match["unit"]
    else:
        for family in aliases()["units"].values():
            for u in sorted(family, key=len, reverse=True):
                if u and key.endswith(norm(u)) and key[: -len(norm(u))] in table:
                    base, unit = key[: -len(norm(u))], norm(u)
                    break
            if unit:
                break
    base = base.rstrip("/_-:")
    column = table.get(base)
    if column is None:
        return None, 1.0, unit
    family = unit_family(column)
    if not unit:
        return column, 1.0, ""
    units = {norm(k): v for k, v in aliases()["units"].get(family or "ratio", {}).items()}
    return column, float(units.get(unit, np.nan)), unit


def map_values(series: pd.Series, column: str) -> pd.Series:
    """Map Chinese or lower-case choice values to their canonical spelling."""
    table = aliases()["values"].get(column)
    if not table:
        return series
    lookup = {}
    for canonical, words in table.items():
        lookup[norm(canonical)] = canonical
        for w in words:
            lookup[norm(w)] = canonical
    normed = series.map(lambda v: norm(v) if isinstance(v, str) else v)
    mapped = normed.map(lambda v: lookup.get(v, None) if isinstance(v, str) else None)
    return series.where(mapped.isna(), mapped)


def add_industry_section(series: pd.Series) -> tuple[pd.Series, int]:
    """Normalise GB/T 4754 codes: upper case, no spaces, section letter added to bare digits.

    ``3973`` → ``C3973``; ``c 39`` → ``C39``. Returns the codes and how many
    got a section letter.
    """
    text = series.map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else v)
    text = text.astype("str").str.replace(r"\s+", "", regex=True).str.upper()
    text = text.str.replace(r"\.0$", "", regex=True)
    digits = text.str.fullmatch(r"\d{2,4}", na=False)
    # codes written without their leading zero ("131" for 0131 is ambiguous; pad 1- and 3-digit)
    count = 0
    if digits.any():
        division = text[digits].str[:2].astype(int)
        section = pd.Series(None, index=division.index, dtype=object)
        for letter, lo, hi in _DIVISION_SECTIONS:
            section[(division >= lo) & (division <= hi)] = letter
        ok = section.notna()
        text.loc[ok[ok].index] = section[ok] + text[ok[ok].index]
        count = int(ok.sum())
    return text.where(series.notna(), None), count


def _decode(data: bytes) -> tuple[str, str] | None:
    """Decode CSV/DBF bytes: BOM → UTF-8, else strict UTF-8, else strict GBK."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return None


class _Reader:
    """Reads the files of one import source, collecting problems and the report."""

    def __init__(self, problems: ProblemList, report: ImportReport, tmp: Path) -> None:
        self.problems = problems
        self.report = report
        self.tmp = tmp

    # -- helpers ---------------------------------------------------------------
    def error(self, code: str, key: str, file: str, layer: str, hint: str, **kw: object) -> None:
        """Report a problem at ``file``/``layer``; ``kw`` (and ``file``) fill the message."""
        where = {k: str(v) for k, v in kw.items() if k in ("row", "column")}
        fmt = {"file": file, **{k: v for k, v in kw.items() if k not in ("row", "column")}}
        self.problems.error(code, t(key, None, **fmt), file=file, layer=layer, hint=hint, **where)

    # -- formats ---------------------------------------------------------------
    def read(self, path: Path, layer: str) -> pd.DataFrame | None:
        """Read one file as the raw frame of ``layer`` (None after an error)."""
        if path.stat().st_size == 0:
            self.error("empty_file", "case.empty_file", path.name, layer, t("case.hint.empty_file"))
            return None
        suffix = path.suffix.lower()
        try:
            if suffix == ".zip":
                return self.read_zip(path, layer)
            if suffix == ".shp":
                return self.read_shapefile(path, path.name, layer)
            if suffix in (".csv", ".txt"):
                return self.read_csv(path, layer)
            if suffix in (".xlsx", ".xlsm"):
                return self.read_xlsx(path, layer)
            if suffix in (".parquet", ".geoparquet"):
                return self.read_parquet(path, layer)
            if suffix in (".gpkg", ".geojson", ".json"):
                return self.read_ogr(path, layer)
        except CaseError:
            raise
        except Exception as exc:  # noqa: BLE001 - GDAL/pandas raise many types
            self.error(
                "unreadable",
                "case.unreadable",
                path.name,
                layer,
                t("case.hint.unknown_format"),
                error=str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
            )
            return None
        self.error(
            "unknown_format",
            "case.unknown_format",
            path.name,
            layer,
            t("case.hint.unknown_format"),
            suffix=suffix,
        )
        return None

    def read_ogr(self, path: Path, layer: str, sublayer: str | None = None) -> pd.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if sublayer is None and path.suffix.lower() == ".gpkg":
                listed = [n for n, _ in pyogrio.list_layers(path)]
                sublayer = layer if layer in listed else listed[0]
            spatial = ALL_LAYERS[layer].geometry is not None
            return pyogrio.read_dataframe(path, layer=sublayer, read_geometry=spatial)

    def read_shapefile(self, shp: Path, file: str, layer: str) -> pd.DataFrame:
        cpg = shp.with_suffix(".cpg")
        dbf = shp.with_suffix(".dbf")
        encoding = None
        if not cpg.exists() and dbf.exists():
            decoded = _decode(dbf.read_bytes()[32:])
            encoding = "GBK" if decoded and decoded[1].startswith("gb") else "UTF-8"
            if encoding == "GBK":
                self.report.add(t("case.dbf_gbk", file=file))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return pyogrio.read_dataframe(shp, encoding=encoding)

    def read_zip(self, path: Path, layer: str) -> pd.DataFrame | None:
        """Read a zipped Shapefile via :func:`allocator.archive.extract` (limits, temp folder)."""
        from allocator import archive

        with archive.open_zip(path) as zf:
            infos = zf.infolist()
            unsafe = [i.filename for i in infos if archive.member_path(i) is None]
            links = [i.filename for i in infos if archive.is_link(i)]
            for member in unsafe + links:
                self.error(
                    "zip_unsafe",
                    "case.zip_unsafe",
                    path.name,
                    layer,
                    t("case.hint.zip_unsafe"),
                    member=member,
                )
            if unsafe or links:
                return None
            shps = [i for i in infos if i.filename.lower().endswith(".shp")]
            if not shps:
                self.error(
                    "zip_no_shp", "case.zip_no_shp", path.name, layer, t("case.hint.zip_no_shp")
                )
                return None
            stem = PurePosixPath(shps[0].filename.replace("\\", "/")).stem
        try:
            # Written under fixed names: member paths never reach the file system.
            target = archive.extract(
                path,
                parent=self.tmp,
                select=lambda m: m.stem == stem and m.suffix.lower() in SHAPEFILE_PARTS,
                rename=lambda m: "layer" + m.suffix.lower(),
            )
        except archive.ArchiveError as exc:
            self.problems.error(
                "zip_refused", exc.message, file=path.name, layer=layer, hint=exc.hint
            )
            return None
        return self.read_shapefile(target / "layer.shp", path.name, layer)

    def read_csv(self, path: Path, layer: str) -> pd.DataFrame | None:
        data = path.read_bytes()
        if not data.strip():
            self.error("empty_file", "case.empty_file", path.name, layer, t("case.hint.empty_file"))
            return None
        decoded = _decode(data)
        if decoded is None:
            self.error(
                "bad_encoding", "case.bad_encoding", path.name, layer, t("case.hint.bad_encoding")
            )
            return None
        text, encoding = decoded
        if encoding != "utf-8":
            self.report.add(t("case.csv_encoding", file=path.name, encoding=encoding.upper()))
        frame = pd.read_csv(
            _io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
        return self._wkt_geometry(frame, path.name, layer)

    def _wkt_geometry(self, frame: pd.DataFrame, file: str, layer: str) -> pd.DataFrame:
        """Turn a ``geometry``/``wkt`` text column into geometry (no CRS: must be given)."""
        if ALL_LAYERS[layer].geometry is None:
            return frame
        for col in frame.columns:
            if norm(col) in ("geometry", "wkt", "geom", "几何"):
                geoms = gpd.GeoSeries.from_wkt(frame[col].replace("", None), on_invalid="warn")
                return gpd.GeoDataFrame(frame.drop(columns=col), geometry=geoms, crs=None)
        return frame

    def read_xlsx(self, path: Path, layer: str, sheet: str | None = None) -> pd.DataFrame | None:
        import openpyxl

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            wb = openpyxl.load_workbook(path, data_only=True)
        try:
            ws = wb[sheet] if sheet else (wb[layer] if layer in wb.sheetnames else wb.worksheets[0])
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            if not rows or all(v is None for r in rows for v in r):
                self.error(
                    "empty_file", "case.empty_file", path.name, layer, t("case.hint.empty_file")
                )
                return None
            # Header: the first row with at least two filled cells (a title row above is skipped).
            header_idx = next(
                (i for i, r in enumerate(rows) if sum(v is not None for v in r) >= 2), 0
            )
            header_row = header_idx + 1
            merged = [
                str(rng)
                for rng in ws.merged_cells.ranges
                if rng.min_row <= header_row <= rng.max_row
                and rng.max_col > rng.min_col
                or (rng.min_row <= header_row <= rng.max_row and rng.max_row > rng.min_row)
            ]
            if merged:
                self.error(
                    "merged_header",
                    "case.merged_header",
                    f"{path.name}[{ws.title}]",
                    layer,
                    t("case.hint.merged_header"),
                    row=header_row,
                    column=",".join(merged),
                    cells=", ".join(merged),
                )
                return None
            header = rows[header_idx]
            keep = [j for j, h in enumerate(header) if h is not None and str(h).strip()]
            body = rows[header_idx + 1 :]
            body = [r for r in body if any(r[j] is not None for j in keep if j < len(r))]
            data = {
                str(header[j]).strip(): [r[j] if j < len(r) else None for r in body] for j in keep
            }
            frame = pd.DataFrame(data, dtype=object)
        finally:
            wb.close()
        return self._wkt_geometry(frame, path.name, layer)

    def read_parquet(self, path: Path, layer: str) -> pd.DataFrame:
        if ALL_LAYERS[layer].geometry is not None:
            try:
                return gpd.read_parquet(path)
            except ValueError:
                pass
        return pd.read_parquet(path)


def rename_columns(
    frame: pd.DataFrame,
    layer: Layer,
    file: str,
    problems: ProblemList,
    report: ImportReport,
) -> pd.DataFrame:
    """Map headers to canonical columns (converting units) and normalise choice values."""
    rename: dict[str, str] = {}
    factors: dict[str, float] = {}
    geom_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for header in frame.columns:
        if header == geom_name:
            continue
        column, factor, unit = map_header(str(header), layer)
        if column is None:
            continue
        if np.isnan(factor):
            problems.error(
                "unknown_unit",
                t("case.unknown_unit", header=str(header), unit=unit, column=column),
                file=file,
                layer=layer.name,
                column=str(header),
                hint=t("case.hint.unknown_unit", units=", ".join(_units_for(column))),
            )
            continue
        if column in rename.values():
            other = next(h for h, c in rename.items() if c == column)
            problems.error(
                "duplicate_column",
                t("case.duplicate_column", a=str(other), b=str(header), column=column),
                file=file,
                layer=layer.name,
                column=str(header),
                hint=t("case.hint.duplicate_column"),
            )
            continue
        rename[header] = column
        if factor != 1.0:
            factors[column] = factor
            report.add(
                t(
                    "case.unit_converted",
                    file=file,
                    header=header,
                    column=column,
                    factor=f"{factor:g}",
                )
            )
        elif str(header) != column:
            report.add(t("case.mapped", file=file, header=header, column=column))
    # Unmapped headers that collide with a canonical name are dropped, not duplicated.
    out = frame.rename(columns=rename)
    for column, factor in factors.items():
        numbers = pd.to_numeric(
            out[column].astype("str").str.replace(",", "", regex=False).str.strip(),
            errors="coerce",
        )
        convertible = numbers.notna()
        converted = out[column].astype(object)
        converted[convertible] = numbers[convertible] * factor
        out[column] = converted
    for col in layer.columns:
        if col.choices and col.name in out.columns:
            out[col.name] = map_values(out[col.name], col.name)
    for name in ("industry", "industry_prefix"):
        if name in out.columns and name in layer.column_names:
            out[name], count = add_industry_section(out[name])
            if count:
                report.add(t("case.industry_section", file=file, count=count))
    return out


def _units_for(column: str) -> list[str]:
    family = unit_family(column)
    return list(aliases()["units"].get(family or "ratio", {}))


def _discover(source: Path) -> list[tuple[str, Path, str | None]]:
    """Return ``(layer, path, sublayer/sheet)`` for every layer found in ``source``."""
    found: list[tuple[str, Path, str | None]] = []
    if source.is_file():
        suffix = source.suffix.lower()
        if suffix == ".gpkg":
            for name, _ in pyogrio.list_layers(source):
                layer = layer_for_name(name)
                if layer:
                    found.append((layer, source, name))
        elif suffix in (".xlsx", ".xlsm"):
            import openpyxl

            wb = openpyxl.load_workbook(source, read_only=True)
            for name in wb.sheetnames:
                layer = layer_for_name(name)
                if layer:
                    found.append((layer, source, name))
            wb.close()
        else:
            layer = layer_for_name(source.stem)
            if layer:
                found.append((layer, source, None))
        return found
    for path in sorted(source.iterdir()):
        if path.name.startswith((".", "~$")) or path.is_dir():
            continue
        suffix = path.suffix.lower()
        if suffix in SIDECAR_SUFFIXES:
            continue
        layer = layer_for_name(path.stem)
        if layer is None and suffix in (".gpkg", ".xlsx", ".xlsm"):
            found.extend(_discover(path))  # a multi-layer GeoPackage or a workbook of tables
            continue
        if layer is None:
            found.append(("", path, None))
            continue
        found.append((layer, path, None))
    return found


def read_source(
    source: str | os.PathLike[str],
    problems: ProblemList,
    source_crs: str | None = None,
    report: ImportReport | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, str], dict[str, object]]:
    """Read every layer of an import source: ``(frames, files, crses)``.

    ``source_crs`` is ``gcj02``/``bd09`` (web-map lon/lat, converted to
    CGCS2000) or any CRS pyproj understands, assigned to spatial layers that
    carry none. Problems found while reading go to ``problems``.
    """
    source = Path(source)
    report = report if report is not None else ImportReport()
    if not source.exists():
        raise CaseError(
            t("case.source_missing", path=str(source)), hint=t("case.hint.source_missing")
        )
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    crses: dict[str, object] = {}
    web = None
    if source_crs:
        try:
            web = normalize_web_crs(source_crs)
        except ValueError:
            web = None
    entries = _discover(source)
    by_layer: dict[str, list[tuple[Path, str | None]]] = {}
    for layer, path, sub in entries:
        if not layer:
            report.add(t("case.ignored_file", file=path.name))
            continue
        by_layer.setdefault(layer, []).append((path, sub))
    with tempfile.TemporaryDirectory(prefix="allocator-import-") as tmp:
        reader = _Reader(problems, report, Path(tmp))
        for layer, sources in by_layer.items():
            label = ", ".join(p.name + (f"[{s}]" if s else "") for p, s in sources)
            if len(sources) > 1:
                problems.error(
                    "two_sources",
                    t("case.two_sources", layer=layer, files=label),
                    file=label,
                    layer=layer,
                    hint=t("case.hint.two_sources"),
                )
                continue
            path, sub = sources[0]
            if sub is not None and path.suffix.lower() == ".gpkg":
                frame = reader.read_ogr(path, layer, sub)
            elif sub is not None:
                frame = reader.read_xlsx(path, layer, sub)
            else:
                frame = reader.read(path, layer)
            files[layer] = label
            if frame is None:
                continue
            spec = ALL_LAYERS[layer]
            frame = rename_columns(frame, spec, label, problems, report)
            if spec.geometry is not None and isinstance(frame, gpd.GeoDataFrame):
                frame, crs = _apply_source_crs(frame, layer, label, source_crs, web, problems)
                if web:
                    report.add(t("case.converted_crs", file=label, crs=web.upper()))
                if crs is not None:
                    crses[layer] = crs
            frames[layer] = frame
    return frames, files, crses


def _apply_source_crs(
    frame: gpd.GeoDataFrame,
    layer: str,
    file: str,
    source_crs: str | None,
    web: str | None,
    problems: ProblemList,
) -> tuple[gpd.GeoDataFrame, object]:
    """Convert GCJ-02/BD-09 lon/lat, or assign ``source_crs`` to a layer without a CRS."""
    if web:
        if frame.crs is not None and frame.crs.is_projected:
            problems.error(
                "web_crs_projected",
                t("case.web_crs_projected", crs=str(frame.crs.to_string()), web=web),
                file=file,
                layer=layer,
                column="geometry",
                hint=t("case.hint.web_crs_projected"),
            )
            return frame, None
        geoms = convert_geometries(frame.geometry, web)
        out = frame.set_geometry(geoms.values).set_crs(CGCS2000, allow_override=True)
        return out, CGCS2000
    if source_crs and frame.crs is None:
        return frame, source_crs
    return frame, None


def import_case(
    source: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    source_crs: str | None = None,
) -> tuple[Case, list[str]]:
    """Import ``source`` and write a validated case GeoPackage to ``out_path``.

    Parameters
    ----------
    source
        A folder of layer files, a GeoPackage, or a workbook of tables.
    out_path
        The GeoPackage to write (atomically: a temporary file is renamed).
    source_crs
        ``gcj02`` or ``bd09`` for web-map coordinates; or a CRS to assign to
        layers that have none (e.g. ``EPSG:4490``).

    Returns
    -------
    (case, report)
        The validated case (re-read from ``out_path``) and the mapping report.

    Raises
    ------
    CaseError
        Listing every problem; nothing is written.
    """
    if source_crs and source_crs.lower().replace("-", "") not in WEB_CRSES:
        from pyproj import CRS

        try:
            CRS.from_user_input(source_crs)
        except Exception as exc:  # noqa: BLE001 - pyproj raises CRSError and others
            raise CaseError(t("case.crs_unknown", crs=source_crs), hint=t("case.hint.crs")) from exc
    problems = ProblemList()
    report = ImportReport()
    source = Path(source)
    frames, files, crses = read_source(source, problems, source_crs, report)
    case = build_case(frames, problems, files=files, crses=crses, source=source)
    problems.raise_if_errors(t("case.cli.import.failed"))
    assert case is not None
    save_case(case, out_path)
    case.source = Path(out_path)
    return case, report.lines


def validate_case(path_or_case: Case | str | os.PathLike[str]) -> list[Problem]:
    """Return every problem (errors and warnings) of a case; never raises for bad data.

    Accepts a loaded :class:`Case` (re-checks it), a case GeoPackage, or an
    import folder (checked as ``allocator import`` would, writing nothing).
    It lives here, above :mod:`allocator.case.io` and
    :mod:`allocator.case.validate`, because it reads paths as they do.
    """
    problems = ProblemList()
    if isinstance(path_or_case, Case):
        case = path_or_case
        built = {name: getattr(case, name) for name in ALL_LAYERS}
        src = case.source.name if case.source else ""
        check_frames(built, problems, dict.fromkeys(ALL_LAYERS, src))
        seen = {(p.code, p.layer, p.row, p.column) for p in problems.problems}
        extra = [p for p in case.problems if (p.code, p.layer, p.row, p.column) not in seen]
        return extra + problems.problems
    path = Path(path_or_case)
    try:
        if path.is_dir() or path.suffix.lower() not in (".gpkg",):
            frames, files, crses = read_source(path, problems)
            build_case(frames, problems, files=files, crses=crses, source=path)
        else:
            if not path.exists():
                problems.error(
                    "not_found",
                    t("case.not_found", file=str(path)),
                    file=str(path),
                    hint=t("case.hint.not_found"),
                )
                return problems.problems
            frames = read_gpkg_frames(path, problems)
            build_case(frames, problems, files=dict.fromkeys(ALL_LAYERS, path.name), source=path)
    except AllocatorError as exc:
        if exc.problems:
            problems.problems.extend(p for p in exc.problems if p not in problems.problems)
        else:
            problems.error("unreadable", exc.message, file=str(path), hint=exc.hint)
    return problems.problems
