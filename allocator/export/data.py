"""What every export draws from: the run's tables joined to the case's geometry.

:func:`collect` reads a :class:`~allocator.runs.Run` and its case once and
builds the layers all formats share: ``allocation`` (one row per plot, with the
firm on it after the solve and that firm's quotas), ``zones`` (zone outlines
with the run's per-zone KPIs), ``redline``, ``control_units`` and, when the case
has it, ``admin``. Geometry stays in EPSG:4549 (metres); formats that need
lon/lat reproject themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from allocator.errors import ExportError
from allocator.i18n import has, normalize_lang, t

OUTCOMES = ("kept", "new_project", "freed", "vacant", "excluded_redline")
"""Plot outcomes of a run (CONTRIBUTING.md), in legend order."""
OUTCOME_COLORS = {
    "kept": "#4e79a7",
    "new_project": "#59a14f",
    "freed": "#f28e2b",
    "vacant": "#d9d9d9",
    "excluded_redline": "#e15759",
}
CLASS_COLORS = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#d73027"}
NO_CLASS_COLOR = "#eeeeee"
REDLINE_COLOR = "#c00000"

FIRM_QUOTA_COLUMNS = (
    "name",
    "kind",
    "class",
    "land_mu",
    "electricity_mwh",
    "energy_tce",
    "cod_t",
    "nh3n_t",
    "so2_t",
    "nox_t",
    "value_added_wan",
    "tax_wan",
    "request_met_share",
)
"""Columns of ``firms.parquet`` carried onto the plots a firm holds after the solve."""
FIRM_ADDITIVE_COLUMNS = tuple(
    c for c in FIRM_QUOTA_COLUMNS if c not in ("name", "kind", "class", "request_met_share")
)
"""Firm quantities a plot carries as its share by area (``firm_area_share``), so that
summing a column over the plot layer (in QGIS) gives the firms' totals, not a firm's
total once per plot it holds."""
FIRM_RENAME = {"name": "firm_name", "kind": "firm_kind", "class": "firm_class"}

LAYERS = ("allocation", "firms", "zones", "redline", "control_units")
"""Vector layers written by every vector format."""
FIRM_LAYER_COLUMNS = (
    "firm_id",
    "firm_name",
    "firm_kind",
    "firm_kind_label",
    "zone_id",
    "firm_class",
    "plot_count",
    "plot_ids",
    *FIRM_ADDITIVE_COLUMNS,
    "request_met_share",
)
"""Columns of the ``firms`` layer: one feature per firm served after the solve, at the
union of the plots it holds, with the firm's totals (summing a column over the layer
gives the run's total)."""


def label(column: str, lang: str | None = None) -> str:
    """Return the header of ``column`` (with its unit) in ``lang``; the name when unknown."""
    key = f"export.col.{column}"
    return t(key, lang) if has(key) else column


def outcome_label(outcome: str, lang: str | None = None) -> str:
    """Return the legend text of a plot outcome."""
    key = f"export.outcome.{outcome}"
    return t(key, lang) if has(key) else str(outcome)


def outcomes_present(plots: Any) -> list[str]:
    """Return the outcomes of ``plots`` in legend order: a legend lists only what the map shows."""
    found = set(plots["outcome"].dropna()) if len(plots) else set()
    return [o for o in OUTCOMES if o in found]


LABELLED_COLUMNS = ("outcome", "status_before", "status_after", "firm_kind")
"""Coded plot-layer columns that get a ``<column>_label`` column in the export language
beside them in the GIS layers (QGIS filters on the code, shows the words)."""

CODED_COLUMNS = (
    "status_before",
    "status_after",
    "firm_kind",
    "kind",
    "reason",
    "supply_mode",
    "use",
)
"""Columns whose coded values are translated for people (workbook, report, web map)."""


def value_label(value: object, lang: str | None = None) -> object:
    """Return the display text of a coded value (``vacant`` → 空置); other values unchanged."""
    if not isinstance(value, str):
        return value
    key = f"export.value.{value}"
    return t(key, lang) if has(key) else value


@dataclass
class ExportData:
    """A run and its case, joined once for all export formats."""

    run: Any
    case: Any
    lang: str
    zone: str | None
    layers: dict[str, Any] = field(default_factory=dict)
    firms: pd.DataFrame = field(default_factory=pd.DataFrame)
    zones_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    plots_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    marginals: pd.DataFrame = field(default_factory=pd.DataFrame)
    rendered: dict[str | None, bytes] = field(default_factory=dict)
    """Map PNGs drawn so far in this export, by zone id (None: the overview): drawn once,
    reused by the brief and the report (:func:`allocator.export.maps.map_png`)."""
    zone_names: tuple[Any, str, dict[str, str]] | None = field(default=None, repr=False)
    """``(zones layer, language, names by id)``, made by :meth:`zone_name`."""
    previews: dict[str | None, bytes] = field(default_factory=dict)
    """JPEG of each map drawn so far, for the PDFs of the report and the brief (made from the
    same pixels as the PNG: :func:`allocator.export.maps.map_preview`)."""
    vector_layers: dict[str, Any] = field(default_factory=dict)
    """The layers as GDAL writes them (text as str, ±inf missing, multipolygons), made once
    for every vector format (:func:`allocator.export.vector._layers`)."""

    @property
    def scenario_name(self) -> str:
        """The scenario's name (from ``summary.json``)."""
        return str(self.run.summary.get("scenario_name") or self.run.path.name)

    @property
    def created(self) -> str:
        """The run's creation date as ``YYYY-MM-DD`` (or today)."""
        raw = str(self.run.summary.get("created_at") or "")
        try:
            return datetime.fromisoformat(raw).strftime("%Y-%m-%d")
        except ValueError:
            return datetime.now().strftime("%Y-%m-%d")

    @property
    def zone_ids(self) -> list[str]:
        """Zones to draw, in id order."""
        return sorted(self.layers["zones"]["zone_id"].astype(str))

    @property
    def kpis(self) -> Any:
        """The KPIs the export shows: the run's, or with ``zone`` set that zone's alone.

        A zone's firms are those in it after the plan and those that occupied one
        of its plots before (a firm moved out has no zone after).
        """
        from allocator.kpis import compute_kpis

        run = self.run
        if self.zone is None or not run.has_solution:
            return run.kpis
        firms = run.firms
        before = self.plots_table.get("occupant_before", pd.Series(dtype=object)).dropna()
        mine = (firms["zone_id"] == self.zone) | firms["firm_id"].isin(set(before))
        return compute_kpis(firms[mine], self.plots_table, self.zones_table)

    def zone_name(self, zone_id: str) -> str:
        """Return the zone's name in the export language (``name_en`` in English when set).

        The names are looked up once per zones layer and language (the report asks
        for one per table row).
        """
        z = self.layers["zones"]
        cached = self.zone_names
        if cached is None or cached[0] is not z or cached[1] != self.lang:
            names = {}
            for _, row in z.iterrows():
                en = row.get("name_en") if "name_en" in z.columns else None
                use_en = self.lang == "en" and en is not None and pd.notna(en)
                names[row["zone_id"]] = str(en if use_en else row["name"])
            self.zone_names = cached = (z, self.lang, names)
        return cached[2].get(zone_id, zone_id)

    def title(self, what: str) -> str:
        """Map title: ``what`` — scenario, date."""
        return t(
            "export.map.title", self.lang, what=what, scenario=self.scenario_name, date=self.created
        )

    def source_line(self) -> str:
        """Return the source line printed under maps."""
        case = str(self.run.summary.get("case_path") or "")
        return t(
            "export.map.source",
            self.lang,
            run=self.run.path.name,
            case=case.rsplit("/", 1)[-1],
            hash=str(self.run.summary.get("scenario_hash", ""))[:8],
        )


def constraint_subject(row: pd.Series, data: ExportData) -> str:
    """Return the planner's name of a marginal row's subject (zone, control unit, province)."""
    lang = data.lang
    zone = row.get("zone_id")
    if isinstance(zone, str) and zone:
        return data.zone_name(zone)
    unit = row.get("unit_id")
    if isinstance(unit, str) and unit:
        units = data.layers.get("control_units")
        name = unit
        if units is not None and len(units) and "name" in units.columns:
            hit = units.loc[units["unit_id"].astype(str) == unit, "name"]
            if len(hit) and pd.notna(hit.iloc[0]):
                name = str(hit.iloc[0])
        pol = row.get("pollutant")
        if isinstance(pol, str) and pol:
            name += "·" + t(f"diagnosis.pollutant.{pol}", lang)
        return name
    return t("brief.province", lang)


def constraint_label(row: pd.Series, data: ExportData) -> str:
    """Return the planner's name of a constraint row (``杭州综合保税区·能耗总量``), never its code.

    ``row`` is a row of ``marginals.parquet`` (``family``, ``zone_id``,
    ``unit_id``, ``pollutant``).
    """
    family = str(row.get("family", ""))
    key = f"diagnosis.family.{family}"
    name = t(key, data.lang) if has(key) else family
    return f"{constraint_subject(row, data)}·{name}"


def _share_by_area(alloc: Any) -> Any:
    """Scale each firm's additive quantities on its plots by the plot's share of its area."""
    held = alloc["firm_id_after"].notna()
    area = pd.to_numeric(alloc["area_mu"], errors="coerce").fillna(0.0)
    total = area.groupby(alloc["firm_id_after"]).transform("sum")
    count = alloc.groupby("firm_id_after")["plot_id"].transform("count")
    # a firm on plots of zero area: split evenly
    share = (area / total).where(total > 0, 1.0 / count).where(held)
    alloc = alloc.copy()
    alloc["firm_area_share"] = share
    for col in FIRM_ADDITIVE_COLUMNS:
        if col in alloc.columns:
            alloc[col] = pd.to_numeric(alloc[col], errors="coerce") * share
    return alloc


def firm_layer(alloc: Any, firms: pd.DataFrame, lang: str) -> Any:
    """Return the ``firms`` layer: one feature per firm served, its totals, its plots' outline.

    The geometry is the union of the plots the firm holds after the solve (a
    firm served on no plot keeps an empty geometry, so that its figures still
    count in the layer's sums). The quantities are the firm's own, from the
    run's firm table, once per firm.
    """
    import geopandas as gpd

    from allocator.case.schema import CASE_CRS

    served = firms[firms["served"].fillna(False).astype(bool)] if "served" in firms else firms
    held = alloc[alloc["firm_id_after"].notna()]
    shapes = None
    if len(held):  # a firm on one plot (most) keeps it; the others get the union of theirs
        many = held["firm_id_after"].duplicated(keep=False)
        one = held.loc[~many].set_index("firm_id_after").geometry
        shapes = pd.concat([one, held.loc[many, ["firm_id_after", "geometry"]]
                            .dissolve(by="firm_id_after").geometry])  # fmt: skip
    rows = served.rename(columns=FIRM_RENAME).reset_index(drop=True)
    ids: dict[str, list[str]] = {}
    for firm, plot in sorted(zip(held["firm_id_after"], held["plot_id"].astype(str), strict=True)):
        ids.setdefault(firm, []).append(plot)
    counts = pd.DataFrame(
        {
            "plot_count": [len(v) for v in ids.values()],
            "plot_ids": [",".join(v) for v in ids.values()],
        },
        index=list(ids),
    )
    rows = rows.drop(columns=[c for c in ("plot_ids",) if c in rows.columns])
    rows = rows.merge(counts, left_on="firm_id", right_index=True, how="left")
    rows["plot_count"] = rows["plot_count"].fillna(0).astype("int64")
    if "firm_kind" in rows.columns:
        rows["firm_kind_label"] = [
            str(value_label(v, lang)) if isinstance(v, str) else None for v in rows["firm_kind"]
        ]
    cols = [c for c in FIRM_LAYER_COLUMNS if c in rows.columns]
    geometry = shapes.reindex(rows["firm_id"]).values if shapes is not None else [None] * len(rows)
    return gpd.GeoDataFrame(rows[cols], geometry=geometry, crs=alloc.crs or CASE_CRS)


def _geo(frame: Any) -> Any:
    import geopandas as gpd

    from allocator.case.schema import CASE_CRS

    out = gpd.GeoDataFrame(frame.copy(), geometry="geometry", crs=frame.crs or CASE_CRS)
    return out.to_crs(CASE_CRS) if str(out.crs) != CASE_CRS else out


def collect(
    run: Any,
    case: Any = None,
    lang: str | None = "zh",
    zone: str | None = None,
    *,
    require_solution: bool = True,
) -> ExportData:
    """Join ``run`` to its case; optionally keep one zone only.

    With ``require_solution=False`` a run without allocation (infeasible,
    time limit) is accepted: its layers are empty, its summary, scenario and
    diagnosis are there (for the workbook and the report).

    Raises
    ------
    ExportError
        The run has no solution, or ``zone`` is not a zone of the case.
    """
    lang = normalize_lang(lang)
    if case is None:
        case = run.load_case()
    plots_run = run.plots.copy()
    firms = run.firms.copy()
    if require_solution and (not run.has_solution or plots_run.empty):
        raise ExportError(
            t("err.export.no_allocation", run=run.path, status=run.status),
            hint=t("err.export.no_allocation_hint"),
        )
    if "plot_id" not in plots_run.columns or "zone_id" not in firms.columns:
        plots_run = pd.DataFrame(columns=["plot_id", "zone_id", "outcome", "firm_id_after"])
        firms = pd.DataFrame(columns=["firm_id", "zone_id", "kind", "served", "class"])
    zones_g = _geo(case.zones)
    if zone is not None and zone not in set(zones_g["zone_id"]):
        raise ExportError(
            t(
                "err.export.unknown_zone",
                run=run.path,
                zone=repr(zone),
                zones=", ".join(sorted(zones_g["zone_id"])),
            ),
            hint=t("err.export.unknown_zone_hint"),
        )
    # allocation: case plot geometry + run's plot table + firm quotas
    plots_g = _geo(case.plots)[["plot_id", "geometry"]]
    alloc = plots_g.merge(plots_run, on="plot_id", how="inner", validate="one_to_one")
    status_after = pd.Series("vacant", index=alloc.index, dtype=object)
    status_after[alloc["firm_id_after"].notna()] = "occupied"
    status_after[alloc["outcome"] == "excluded_redline"] = "excluded"
    alloc["status_after"] = status_after
    quota_cols = [c for c in FIRM_QUOTA_COLUMNS if c in firms.columns]
    quota = firms[["firm_id", *quota_cols]].rename(columns=FIRM_RENAME)
    quota = quota.rename(columns={"firm_id": "firm_id_after"})
    alloc = alloc.merge(quota, on="firm_id_after", how="left")
    alloc = _share_by_area(alloc)
    for col in LABELLED_COLUMNS:
        if col in alloc.columns:
            words_of = outcome_label if col == "outcome" else value_label
            words = [str(words_of(v, lang)) if isinstance(v, str) else None for v in alloc[col]]
            alloc.insert(
                alloc.columns.get_loc(col) + 1,
                f"{col}_label",
                pd.Series(words, index=alloc.index, dtype=object),
            )
    cols = [c for c in alloc.columns if c != "geometry"] + ["geometry"]
    alloc = alloc[cols]
    zt = run.zones.copy()
    overlap = [c for c in zt.columns if c in zones_g.columns and c not in ("zone_id", "name")]
    zone_layer = zones_g.drop(columns=overlap).merge(
        zt.drop(columns=[c for c in ("name",) if c in zt.columns]), on="zone_id", how="left"
    )
    zone_layer = zone_layer[[c for c in zone_layer.columns if c != "geometry"] + ["geometry"]]
    redline = _geo(case.redline)
    units = _geo(case.control_units)
    admin = getattr(case, "admin", None)
    admin = _geo(admin) if admin is not None and len(admin) else None
    marg = run.marginals.copy()
    if zone is not None:
        alloc = alloc[alloc["zone_id"] == zone]
        zone_layer = zone_layer[zone_layer["zone_id"] == zone]
        firms = firms[firms["zone_id"] == zone]
        zt = zt[zt["zone_id"] == zone]
        plots_run = plots_run[plots_run["zone_id"] == zone]
        outline = zone_layer.geometry.union_all()
        redline = redline[redline.intersects(outline.buffer(1000))]
        units = units[units.intersects(outline)]
        if "zone_id" in marg.columns:
            marg = marg[marg["zone_id"].isna() | (marg["zone_id"] == zone)]
    layers = {
        "allocation": alloc.reset_index(drop=True),
        "firms": firm_layer(alloc, firms, lang),
        "zones": zone_layer.reset_index(drop=True),
        "redline": redline.reset_index(drop=True),
        "control_units": units.reset_index(drop=True),
    }
    if admin is not None:
        layers["admin"] = admin.reset_index(drop=True)
    return ExportData(
        run=run,
        case=case,
        lang=lang,
        zone=zone,
        layers=layers,
        firms=firms.reset_index(drop=True),
        zones_table=zt.reset_index(drop=True),
        plots_table=plots_run.reset_index(drop=True),
        marginals=marg.reset_index(drop=True),
    )
