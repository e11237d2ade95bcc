"""Run report: a summary page, then tables, maps and parameters, as PDF and HTML.

:func:`build_report` turns a run into :class:`Report` content — every cell
already a string in planner words and rounded to what it means — and two
writers lay the same content out: :mod:`allocator.export.report_pdf` (reportlab,
A4 with headers, page numbers and the CJK font embedded) and :func:`report_html`
(one self-contained page). The first page is the summary: the outcome in
sentences, the headline KPIs against the present state and the quotas that hold
the plan back with what relaxing each is worth; an infeasible run's summary is
its diagnosis. Then the zones, the firms admitted, moved out and grown, every
quota with its use, cap and value, the diagnosis, the outcome maps (overview and
one small map per zone, drawn by :mod:`allocator.export.maps`), the scenario
parameters by their planner labels and the run's facts.
"""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.export.data import ExportData, constraint_label, value_label
from allocator.export.report_model import Figure, Heading, Para, Report, Section, Table
from allocator.i18n import has, t
from allocator.runs import run_name
from allocator.safety import escape_html
from allocator.status import gap_text, status_label
from allocator.units import display_quantity, display_rate
from models.data import CLASSES

ZERO = 1e-9
"""Magnitudes below this are solver round-off (a slack of -6.66e-16) and shown as 0."""
SIGNIFICANT = 3
"""Significant digits of a figure below 100 (0.0042 t, 12.3 万元/亩)."""
MAX_SUMMARY_QUOTAS = 5
"""Binding quotas on the summary page (largest marginal value first)."""
BRIEF_SENTENCES = 3
"""The brief's sentences the summary repeats (value added and tax; resources; firms)."""
MAX_GROWN = 40
"""Grown firms listed (largest gain first); the workbook has all of them."""


# ----------------------------------------------------------------------------- numbers


def number_text(
    value: Any, *, count: bool = False, share: bool = False, decimals: int | None = None
) -> str:
    """Return a figure rounded to what it means.

    Counts without decimals; shares as percent with one decimal; round-off
    below :data:`ZERO` as 0; 100 and more as whole numbers with thousands
    separators; smaller figures with :data:`SIGNIFICANT` significant digits
    (0.0042, 12.3), never in E notation; missing as ``—``. ``decimals`` fixes
    the decimals instead (a column of 万元/亩 figures reads 30.0 beside 28.2).
    """
    if value is None or value is pd.NA:
        return "—"
    if isinstance(value, str):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if share:
        return f"{100 * v:.1f}%" if abs(v) >= ZERO else "0%"
    if decimals is not None:
        return f"{v:,.{decimals}f}"
    if abs(v) < ZERO:
        return "0"
    if count or abs(v) >= 100 or v.is_integer():
        return f"{round(v):,d}"
    decimals = max(0, SIGNIFICANT - 1 - math.floor(math.log10(abs(v))))
    text = f"{v:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _headed(name: str, unit: str, lang: str) -> str:
    """Return a column header with its unit: ``用电量（万千瓦时）`` / ``Electricity (10⁴ kWh)``."""
    if not unit:
        return name
    return f"{name}（{unit}）" if lang == "zh" else f"{name} ({unit})"


def _planner_unit(unit: str, lang: str) -> tuple[float, str]:
    """Return the factor from an internal unit to the planner's and that unit's label.

    :func:`allocator.units.display_quantity` decides (MWh are shown as 万千瓦时);
    万元 is written as the KPI labels write it (``10k yuan`` in English).
    """
    factor, label = display_quantity(1.0, unit, lang)
    if unit == "万元":
        label = t("report.unit.wan", lang)
    return factor, label


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    """Return a numeric column (NaN when the table lacks it)."""
    if name in frame.columns:
        return pd.to_numeric(frame[name], errors="coerce")
    return pd.Series(float("nan"), index=frame.index)


def _share(used: float, cap: float) -> float:
    if not (math.isfinite(used) and math.isfinite(cap)) or cap <= ZERO:
        return math.nan
    return used / cap


# ----------------------------------------------------------------------------- quotas


QUOTA_UNITS = {
    "zone_electricity": "MWh",
    "zone_energy": "tce",
    "province_energy": "tce",
    "energy_intensity": "tce",
    "unit_emissions": "t",
}
"""The unit a quota row's use and cap are in (the denominator of its marginal value)."""
ZONE_QUOTAS = {
    "zone_electricity": (
        "electricity_mwh",
        "electricity_cap_mwh",
        "electricity_marginal_wan_per_mwh",
    ),
    "zone_energy": ("energy_tce", "energy_cap_tce", "energy_marginal_wan_per_tce"),
    "energy_intensity": (
        "intensity_tce_per_wan",
        "intensity_cap_tce_per_wan",
        "intensity_marginal_wan_per_tce",
    ),
}
"""Zone-table columns (use, cap, marginal value) of the zone quota families."""


def quota_table(data: ExportData) -> pd.DataFrame:
    """Return every quota row with its use, cap, share used and marginal value.

    Columns: ``label`` (the planner's name, never the row code), ``family``,
    ``used`` and ``cap`` (in ``unit``, the internal unit), ``share``,
    ``value`` (万元 per ``unit``) and ``binding``. From ``marginals.parquet``
    (its ``activity`` and ``rhs``; an energy-intensity row's use and cap are
    the zone's intensity in 吨标准煤/万元); when that table is empty (a MIP
    without duals), from the zone table's use, cap and ``*_marginal_*`` columns.
    Binding rows first (largest value first), then by share used.
    """
    m = data.marginals
    rows: list[dict[str, Any]] = []
    zones = data.zones_table
    zt = zones.set_index(zones["zone_id"].astype(str)) if "zone_id" in zones.columns else None
    if data.zone is not None and "unit_id" in m.columns:
        # one zone exported: its control units only (unit rows carry no zone)
        units = data.layers.get("control_units")
        ids = set(units["unit_id"].astype(str)) if units is not None and len(units) else set()
        m = m[m["unit_id"].isna() | m["unit_id"].astype(str).isin(ids)]
    if not m.empty and {"family", "value"} <= set(m.columns):
        activity, rhs = _col(m, "activity"), _col(m, "rhs")
        slack = _col(m, "slack")
        for i, row in m.iterrows():
            family = str(row["family"])
            used, cap = float(activity[i]), float(rhs[i])
            zone = row.get("zone_id")
            cols = ZONE_QUOTAS.get(family)
            if (family == "energy_intensity" or not math.isfinite(cap)) and cols and zt is not None:
                if isinstance(zone, str) and zone in zt.index:
                    used = float(pd.to_numeric(zt.get(cols[0], {}).get(zone), errors="coerce"))
                    cap = float(pd.to_numeric(zt.get(cols[1], {}).get(zone), errors="coerce"))
            value = float(pd.to_numeric(row["value"], errors="coerce"))
            binding = bool(row["binding"]) if "binding" in m.columns else abs(slack[i]) < 1e-6
            rows.append(
                {
                    "label": constraint_label(row, data),
                    "family": family,
                    "used": used,
                    "cap": cap,
                    "unit": str(row.get("unit") or "").split("/")[-1]
                    or QUOTA_UNITS.get(family, ""),
                    "value": value if math.isfinite(value) and abs(value) >= ZERO else 0.0,
                    "binding": binding,
                }
            )
    elif zt is not None:
        for family, (use_col, cap_col, value_col) in ZONE_QUOTAS.items():
            if value_col not in zt.columns:
                continue
            for zone in zt.index:
                value = float(pd.to_numeric(zt[value_col].get(zone), errors="coerce"))
                if not math.isfinite(value):
                    continue
                used = float(pd.to_numeric(zt.get(use_col, {}).get(zone), errors="coerce"))
                cap = float(pd.to_numeric(zt.get(cap_col, {}).get(zone), errors="coerce"))
                rows.append(
                    {
                        "label": constraint_label(
                            pd.Series({"family": family, "zone_id": zone}), data
                        ),
                        "family": family,
                        "used": used,
                        "cap": cap,
                        "unit": QUOTA_UNITS[family],
                        "value": value if abs(value) >= ZERO else 0.0,
                        "binding": value >= ZERO,
                    }
                )
    columns = ["label", "family", "used", "cap", "unit", "share", "value", "binding"]
    out = pd.DataFrame(rows, columns=[c for c in columns if c != "share"])
    out.insert(5, "share", [_share(u, c) for u, c in zip(out["used"], out["cap"], strict=True)])
    order = out.assign(
        _b=~out["binding"].astype(bool), _v=-out["value"], _s=-out["share"].fillna(-1)
    ).sort_values(["_b", "_v", "_s"], kind="stable")
    return out.loc[order.index].reset_index(drop=True)


def quota_meaning(row: pd.Series, lang: str) -> str:
    """Return one line on what relaxing a quota row is worth, in planner units.

    The step is a round figure of at most a tenth of the cap (0.01 吨 of a
    0.435 吨 cap, 1 万千瓦时 of a large one), so the figure stays within the
    small change a marginal value holds for.
    """
    unit = str(row["unit"])
    factor, label = _planner_unit(unit, lang)
    cap = float(row["cap"]) * factor
    if bool(row["binding"]) and float(row["value"]) >= ZERO:
        step = 1.0
        if math.isfinite(cap) and cap > 0:
            step = min(1.0, 10.0 ** math.floor(math.log10(cap / 10.0)))
        worth = float(row["value"]) / factor * step
        return t("report.quota.worth", lang, step=number_text(step), unit=label,
                 value=number_text(worth))  # fmt: skip
    if bool(row["binding"]):
        return t("report.quota.flat", lang)
    room = (float(row["cap"]) - float(row["used"])) * factor
    return t("report.quota.room", lang, room=number_text(max(room, 0.0)), unit=label)


def _quota_cells(row: pd.Series, lang: str) -> tuple[str, str, str, str, str]:
    """Return a quota row's used, cap, unit, share and worth per planner unit, as display text."""
    unit = str(row["unit"])
    if row["family"] == "energy_intensity":
        label = t("report.unit.intensity", lang)
        factor = 1.0
    else:
        factor, label = _planner_unit(unit, lang)
    worth, _ = display_rate(float(row["value"]), f"万元/{unit}", lang)
    return (
        number_text(float(row["used"]) * factor),
        number_text(float(row["cap"]) * factor),
        label,
        number_text(row["share"], share=True),
        number_text(worth),
    )


# ----------------------------------------------------------------------------- building


def _summary(data: ExportData, brief: Any, quotas: pd.DataFrame, quota_title: str) -> list[Any]:
    lang = data.lang
    blocks: list[Any] = []
    if not data.run.has_solution:
        status = status_label(data.run.status, lang)
        blocks.append(Para(t("report.no_plan", lang, status=status)))
        diag = diagnosis_table(data)
        blocks.append(diag if diag is not None else Para(t("report.no_diagnosis", lang)))
        return blocks
    blocks.append(Heading(t("report.outcome", lang)))
    if brief.zone:  # one zone's report: its own figures, said so
        blocks.append(Para(t("brief.s.zone_scope", lang, zone=brief.zone), "note"))
    # the brief's sentences on value, resources and firms; its quota sentences are the
    # table below, with each quota's meaning
    blocks += [Para(s, "bullet") for s in brief.sentences[:BRIEF_SENTENCES]]
    if brief.zone:
        blocks.append(Heading(t("report.kpis_zone", lang, zone=brief.zone, base=brief.base_name)))
    else:
        blocks.append(Heading(t("report.kpis", lang, base=brief.base_name)))
    heads = [t("brief.col.kpi", lang), brief.base_name, t("brief.col.plan", lang),
             t("brief.col.change", lang)]  # fmt: skip
    blocks.append(Table(heads, [list(r) for r in brief.kpis], [False, True, True, True],
                        [0.43, 0.19, 0.19, 0.19]))  # fmt: skip
    binding = quotas[quotas["binding"].astype(bool) & (quotas["value"] >= ZERO)]
    blocks.append(Heading(t("report.binding", lang)))
    if binding.empty:
        blocks.append(Para(t("brief.s.no_binding", lang)))
    else:
        top = binding.head(MAX_SUMMARY_QUOTAS)
        blocks.append(_quota_block(top, lang, meaning=True))
        blocks.append(Para(t("brief.s.meaning", lang), "note"))
        if len(binding) > len(top):
            blocks.append(Para(t("report.binding_more", lang, n=len(binding), k=len(top),
                                 section=quota_title), "note"))  # fmt: skip
    if brief.gains or brief.losses:
        blocks.append(Heading(t("report.zones_changed", lang)))
        blocks += [Para(line, "bullet") for line in brief.gains + brief.losses]
    return blocks


def _quota_block(quotas: pd.DataFrame, lang: str, meaning: bool) -> Table:
    heads = [
        t("report.col.quota", lang),
        t("report.col.used", lang),
        t("report.col.cap", lang),
        t("report.col.unit", lang),
        t("report.col.share", lang),
        t("report.col.worth", lang),
    ]
    rows = []
    for _, r in quotas.iterrows():
        cells = [str(r["label"]), *_quota_cells(r, lang)]
        if meaning:
            cells.append(quota_meaning(r, lang))
        rows.append(cells)
    numeric = [False, True, True, False, True, True]
    widths = [0.31, 0.08, 0.08, 0.08, 0.08, 0.1]
    if meaning:
        heads.append(t("report.col.meaning", lang))
        numeric.append(False)
        widths.append(0.27)
    return Table(heads, rows, numeric, widths)


def zone_tables(data: ExportData) -> list[Any]:
    """Return the two per-zone tables: land and firms; energy use and output."""
    lang = data.lang
    z = data.zones_table
    if z.empty or "zone_id" not in z.columns:
        return [Para(t("report.s2.none", lang))]
    names = [data.zone_name(str(zid)) for zid in z["zone_id"]]
    mu = t("report.unit.mu", lang)
    per_mu = t("report.unit.wan_per_mu", lang)
    count = t("report.unit.count", lang)
    land = Table(
        [
            t("report.col.zone", lang),
            _headed(t("report.col.land_before", lang), mu, lang),
            _headed(t("report.col.land_after", lang), mu, lang),
            _headed(t("report.col.land_free", lang), mu, lang),
            _headed(t("report.col.firms_before", lang), count, lang),
            _headed(t("report.col.firms_after", lang), count, lang),
            _headed(t("report.col.new_projects", lang), count, lang),
            _headed(t("report.col.tax_per_mu_before", lang), per_mu, lang),
            _headed(t("report.col.tax_per_mu_after", lang), per_mu, lang),
        ],
        [
            [
                name,
                *(number_text(v) for v in vals[:3]),
                *(number_text(v, count=True) for v in vals[3:6]),
                *(number_text(v, decimals=1) for v in vals[6:]),
            ]  # fmt: skip
            for name, *vals in zip(
                names,
                _col(z, "land_used_before_mu"),
                _col(z, "land_used_mu"),
                _col(z, "land_free_mu"),
                _col(z, "firms_before"),
                _col(z, "firms_after"),
                _col(z, "new_projects"),
                _col(z, "tax_per_mu_before"),
                _col(z, "tax_per_mu_after"),
                strict=True,
            )
        ],
        [False, *([True] * 8)],
        [0.2, *([0.1] * 8)],
    )
    ef, elabel = _planner_unit("MWh", lang)
    nf, nlabel = _planner_unit("tce", lang)
    wf, wlabel = _planner_unit("万元", lang)
    rows = []
    for name, el, elc, en, enc, vb, va in zip(
        names,
        _col(z, "electricity_mwh"),
        _col(z, "electricity_cap_mwh"),
        _col(z, "energy_tce"),
        _col(z, "energy_cap_tce"),
        _col(z, "value_added_before_wan"),
        _col(z, "value_added_wan"),
        strict=True,
    ):
        rows.append([
            name,
            number_text(el * ef), number_text(elc * ef), number_text(_share(el, elc), share=True),
            number_text(en * nf), number_text(enc * nf), number_text(_share(en, enc), share=True),
            number_text(vb * wf), number_text(va * wf),
        ])  # fmt: skip
    resources = Table(
        [
            t("report.col.zone", lang),
            _headed(t("report.col.electricity", lang), elabel, lang),
            _headed(t("report.col.electricity_cap", lang), elabel, lang),
            t("report.col.share", lang),
            _headed(t("report.col.energy", lang), nlabel, lang),
            _headed(t("report.col.energy_cap", lang), nlabel, lang),
            t("report.col.share", lang),
            _headed(t("report.col.va_before", lang), wlabel, lang),
            _headed(t("report.col.va_after", lang), wlabel, lang),
        ],
        rows,
        [False, *([True] * 8)],
        [0.2, *([0.1] * 8)],
    )
    return [
        Heading(t("report.s1.land", lang)),
        land,
        Heading(t("report.s1.resources", lang)),
        resources,
    ]


def kind_of(f: pd.DataFrame) -> pd.Series:
    """Return the firms' kind (``existing`` / ``applicant``; empty when the table lacks it)."""
    return f["kind"].astype(str) if "kind" in f.columns else pd.Series("", index=f.index)


def _firm_groups(data: ExportData) -> dict[str, pd.Series]:
    """Masks over ``data.firms``: admitted, not admitted, moved out, grown, request cut."""
    f = data.firms
    kind = kind_of(f)
    served = f["served"].fillna(False).astype(bool) if "served" in f.columns else kind == ""
    applicant = kind == "applicant"
    reason = f["reason"].astype(str) if "reason" in f.columns else pd.Series("", index=f.index)
    gain = _col(f, "value_added_wan") - _col(f, "value_added_before_wan")
    return {
        "admitted": served & applicant,
        "not_admitted": ~served & applicant,
        "moved": ~served & (kind == "existing"),
        "grown": served & (kind == "existing") & (gain > 0.5),
        "cut": served & (reason == "request_cut"),
    }


def firm_tables(data: ExportData) -> list[Any]:
    """Return the firm changes: counts per zone, projects admitted, firms moved out and grown."""
    lang = data.lang
    f = data.firms
    if f.empty:
        return [Para(t("report.s2.none", lang))]
    groups = _firm_groups(data)
    zone_of = f["zone_id"] if "zone_id" in f.columns else pd.Series(None, index=f.index)
    before = f["zone_id_before"] if "zone_id_before" in f.columns else zone_of
    home = zone_of.where(zone_of.notna(), before)
    order = ["admitted", "not_admitted", "moved", "grown", "cut"]
    counts = []
    zones = data.zones_table
    ids = [str(z) for z in zones["zone_id"]] if "zone_id" in zones.columns else data.zone_ids
    for zid in ids:
        in_zone = home.astype(str) == zid
        counts.append(
            [data.zone_name(zid), *(str(int((groups[g] & in_zone).sum())) for g in order)]
        )
    counts.append([t("brief.province", lang), *(str(int(groups[g].sum())) for g in order)])
    blocks: list[Any] = [
        Heading(t("report.s2.by_zone", lang)),
        Table(
            [t("report.col.zone", lang), *(t(f"report.col.{g}", lang) for g in order)],
            counts,
            [False, *([True] * len(order))],
            [0.3, *([0.14] * len(order))],
        ),
    ]
    if "class" in f.columns:
        cls_of = f["class"].where(f["class"].isin(CLASSES))
        existing = kind_of(f) == "existing"
        served = groups["admitted"] | (existing & ~groups["moved"])
        mix = [
            [c if isinstance(c, str) else t("export.legend.no_class", lang),
             str(int((existing & (cls_of == c if isinstance(c, str) else cls_of.isna())).sum())),
             str(int((served & (cls_of == c if isinstance(c, str) else cls_of.isna())).sum()))]
            for c in [*CLASSES, None]
        ]  # fmt: skip
        blocks += [
            Heading(t("export.report.class_mix", lang)),
            Table(
                [
                    t("report.col.class", lang),
                    t("report.col.firms_before", lang),
                    t("report.col.firms_after", lang),
                ],
                mix,
                [False, True, True],
                [0.3, 0.2, 0.2],
            ),  # fmt: skip
        ]
    mu, wan = _planner_unit("mu", lang)[1], _planner_unit("万元", lang)[1]
    nf, tce = _planner_unit("tce", lang)

    names = {zid: data.zone_name(zid) for zid in data.zone_ids}
    num = {c: _col(f, c) for c in ("land_mu", "value_added_wan", "value_added_before_wan",
                                   "tax_wan", "energy_tce")}  # fmt: skip

    def zone_name(v: Any) -> str:
        return names.get(v) or data.zone_name(str(v)) if isinstance(v, str) and v else "—"

    def cls(v: Any) -> str:
        return str(v) if isinstance(v, str) and v else "—"

    def name(i: Any) -> str:
        return str(f.at[i, "name"]) if "name" in f.columns and pd.notna(f.at[i, "name"]) else ""

    # admitted projects: where, how much land, what they bring
    adm = f[groups["admitted"]].assign(_z=home[groups["admitted"]].astype(str))
    adm = adm.assign(_v=-_col(adm, "value_added_wan")).sort_values(["_z", "_v"])
    blocks.append(Heading(t("report.s2.admitted", lang) + f"（{len(adm)}）"))
    if adm.empty:
        blocks.append(Para(t("report.s2.none", lang)))
    else:
        plots = adm["plot_ids"] if "plot_ids" in adm.columns else pd.Series("", index=adm.index)
        blocks.append(
            Table(
                [
                    t("report.col.firm", lang),
                    t("report.col.zone", lang),
                    t("report.col.class", lang),
                    t("report.col.plots", lang),
                    _headed(t("report.col.land", lang), mu, lang),
                    _headed(t("report.col.value_added", lang), wan, lang),
                    _headed(t("report.col.tax", lang), wan, lang),
                    _headed(t("report.col.energy", lang), tce, lang),
                ],
                [
                    [
                        name(i),
                        zone_name(home[i]),
                        cls(f.at[i, "class"] if "class" in f else None),
                        "、".join(str(plots[i]).split(";")) if isinstance(plots[i], str) else "—",
                        number_text(num["land_mu"][i]),
                        number_text(num["value_added_wan"][i]),
                        number_text(num["tax_wan"][i]),
                        number_text(num["energy_tce"][i] * nf),
                    ]
                    for i in adm.index
                ],
                [False, False, False, False, True, True, True, True],
                [0.24, 0.15, 0.07, 0.16, 0.08, 0.11, 0.09, 0.1],
            )  # fmt: skip
        )
    # firms moved out: their present figures (after the plan they have none)
    moved = f[groups["moved"]]
    blocks.append(Heading(t("report.s2.moved", lang) + f"（{len(moved)}）"))
    if moved.empty:
        blocks.append(Para(t("report.s2.none", lang)))
    else:
        land_b = _col(moved, "land_before_mu").fillna(_col(moved, "land_mu"))
        blocks.append(
            Table(
                [
                    t("report.col.firm", lang),
                    t("report.col.zone", lang),
                    t("report.col.class", lang),
                    _headed(t("report.col.land", lang), mu, lang),
                    _headed(t("report.col.va_before", lang), wan, lang),
                    t("report.col.reason", lang),
                ],
                [
                    [
                        name(i),
                        zone_name(before[i]),
                        cls(f.at[i, "class"] if "class" in f else None),
                        number_text(land_b[i]),
                        number_text(num["value_added_before_wan"][i]),
                        str(value_label(f.at[i, "reason"], lang)) if "reason" in f else "—",
                    ]
                    for i in moved.index
                ],
                [False, False, False, True, True, False],
                [0.3, 0.18, 0.08, 0.12, 0.14, 0.18],
            )  # fmt: skip
        )
    # existing firms that grow: the largest gains
    grown = f[groups["grown"]]
    gain = _col(grown, "value_added_wan") - _col(grown, "value_added_before_wan")
    top = gain.sort_values(ascending=False).head(MAX_GROWN)
    blocks.append(Heading(t("report.s2.grown", lang) + f"（{len(grown)}）"))
    if top.empty:
        blocks.append(Para(t("report.s2.none", lang)))
    else:
        if len(grown) > len(top):
            blocks.append(Para(t("report.s2.grown_note", lang, n=len(grown), k=len(top)), "note"))
        blocks.append(
            Table(
                [
                    t("report.col.firm", lang),
                    t("report.col.zone", lang),
                    t("report.col.class", lang),
                    _headed(t("report.col.va_before", lang), wan, lang),
                    _headed(t("report.col.va_after", lang), wan, lang),
                    _headed(t("report.col.added", lang), wan, lang),
                ],
                [
                    [
                        name(i),
                        zone_name(home[i]),
                        cls(f.at[i, "class"] if "class" in f else None),
                        number_text(num["value_added_before_wan"][i]),
                        number_text(num["value_added_wan"][i]),
                        number_text(g),
                    ]
                    for i, g in top.items()
                ],
                [False, False, False, True, True, True],
                [0.3, 0.18, 0.08, 0.15, 0.15, 0.14],
            )  # fmt: skip
        )
    return blocks


def diagnosis_table(data: ExportData) -> Table | None:
    """Return the diagnosis in repair order (None when the run has none).

    The constraint by its policy name (— for a family without one: the
    explanation says it), the subject by its planner name, what relaxing it
    takes in planner units and as a share of the cap.
    """
    from allocator.export.data import constraint_subject
    from allocator.units import format_quantity

    lang = data.lang
    items = data.run.diagnosis.items
    if not items:
        return None
    rows = []
    for item in items:
        amount = "—"
        if item.unit and math.isfinite(item.amount):
            amount = format_quantity(item.amount, item.unit, lang)
        family = f"diagnosis.family.{item.family}"
        subject = item.subject_name or item.subject_id or "—"
        if item.subject_kind in ("zone", "unit") and item.subject_id:
            key = "zone_id" if item.subject_kind == "zone" else "unit_id"
            subject = constraint_subject(
                pd.Series({key: item.subject_id, "pollutant": item.pollutant or None}), data
            )
        elif item.subject_kind == "province":
            subject = t("brief.province", lang)
        rows.append(
            [
                t(f"export.diagnosis.{item.source}", lang),
                t(family, lang) if has(family) else "—",
                subject,
                amount,
                number_text(item.share_of_cap, share=True),
                item.label(lang),
            ]
        )
    heads = [t(f"report.col.{c}", lang) for c in ("source", "constraint", "subject", "need")]
    heads += [t("report.col.share", lang), t("report.col.message", lang)]
    return Table(heads, rows, [False, False, False, True, True, False],
                 [0.1, 0.13, 0.17, 0.13, 0.09, 0.38])  # fmt: skip


# ----------------------------------------------------------------------------- parameters


PARAM_SECTIONS = (
    "objective",
    "service_floor",
    "classes",
    "exit",
    "caps",
    "switches",
    "energy",
    "land",
    "assessment",
    "eligibility",
    "scoring",
    "solver",
)
"""Order of the parameter groups (``ui.section.*`` names them)."""
PATH_HINT = re.compile(r"\s*[（(][^）)]*[A-Za-z_]+/[^）)]*[）)]")
"""A bracketed hint naming a code path (``（allocator/policy/ 下的名称或路径）``): not for print."""
RULE_KEYS = ("land.far_rule", "land.idle_rule", "assessment.rule", "scoring.method")
"""Keys whose value names a policy file: shown by the file's title."""


def _flat(prefix: str, obj: Any) -> list[tuple[str, Any]]:
    if isinstance(obj, dict):
        out: list[tuple[str, Any]] = []
        for k, v in obj.items():
            out += _flat(f"{prefix}.{k}" if prefix else str(k), v)
        return out
    return [(prefix, obj)]


def param_label(key: str, data: ExportData) -> str | None:
    """Return a scenario key as the planner reads it; None for a key outside the schema.

    The label is the schema's description (the app's words); a per-zone or
    per-unit key is prefixed with the zone's or unit's name.
    """
    from allocator.scenario import field_for

    fld = field_for(key)
    if fld is None or not has(fld.desc_key):
        return None
    text = PATH_HINT.sub("", t(fld.desc_key, data.lang)).strip()
    parts = key.split(".")
    if key.startswith("caps.zones.") and len(parts) == 4:
        return (
            f"{data.zone_name(parts[2])}：{text}"
            if data.lang == "zh"
            else f"{data.zone_name(parts[2])}: {text}"
        )
    if key.startswith("caps.units.") and len(parts) == 4:
        subject = constraint_label(pd.Series({"unit_id": parts[2], "family": ""}), data)
        subject = subject.rsplit("·", 1)[0]
        return f"{subject}：{text}" if data.lang == "zh" else f"{subject}: {text}"
    return text


def param_value(key: str, value: Any, lang: str) -> str:
    """Return a parameter value in planner words (是/否, 不限, 当量值, a rule's title)."""
    if value is None:
        return t("report.value.unset", lang)
    if isinstance(value, bool):
        return t("check.yes" if value else "check.no", lang)
    if isinstance(value, int | float):
        if math.isinf(float(value)):
            return t("report.value.unlimited", lang)
        return number_text(value)
    if isinstance(value, list | tuple):
        items = [param_value(key, v, lang) for v in value]
        return (
            ("、" if lang == "zh" else ", ").join(items) if items else t("report.value.none", lang)
        )
    text = str(value)
    if key == "case":
        return text.replace("\\", "/").rsplit("/", 1)[-1]
    if has(f"ui.choice.{text}"):
        return t(f"ui.choice.{text}", lang)
    if key in RULE_KEYS:
        from allocator.scoring.method import read_policy

        try:
            title = str(read_policy(text).get("title") or "")
        except Exception:  # noqa: BLE001 - a rule file that cannot be read: show its name
            title = ""
        return title or text
    return text


def parameter_blocks(data: ExportData) -> list[Any]:
    """Return the scenario parameters grouped by section, by planner label (no TOML keys)."""
    lang = data.lang
    groups: dict[str, list[list[str]]] = {}
    for key, value in _flat("", dict(data.run.scenario)):
        label = param_label(key, data)
        if label is None:
            continue
        head = key.split(".")[0]
        section = head if head in PARAM_SECTIONS else "other"
        if head in ("name", "description", "case"):
            section = "about"
        groups.setdefault(section, []).append([label, param_value(key, value, lang)])
    blocks: list[Any] = []
    for section in ("about", *PARAM_SECTIONS, "alternatives", "stability", "other"):
        rows = groups.get(section)
        if not rows:
            continue
        key = f"ui.section.{section}"
        if section == "about":
            title = t("export.report.scenario", lang)
        elif section == "service_floor":
            title = t("diagnosis.family.service_floor", lang)
        else:
            title = t(key, lang) if has(key) else t("report.s6.other", lang)
        blocks.append(Heading(title))
        blocks.append(
            Table(
                [t("report.col.parameter", lang), t("report.col.value", lang)],
                rows,
                [False, True],
                [0.75, 0.25],
            )  # fmt: skip
        )
    return blocks


def run_table(data: ExportData) -> Table:
    """Return the run's facts: folder, scenario, case file, solver, status, times, model size."""
    lang = data.lang
    s = data.run.summary
    rows = [
        [t("export.summary.run", lang), data.run.path.name],
        [t("export.summary.scenario_name", lang), data.scenario_name],
        [t("export.summary.case_path", lang), param_value("case", s.get("case_path") or "", lang)],
        [t("export.summary.solver", lang), param_value("solver", s.get("solver") or "", lang)],
        [t("export.summary.status", lang), status_label(data.run.status, lang, gap=s.get("gap"))],
        [t("export.summary.objective", lang), number_text(s.get("objective"))],
        [t("export.summary.gap", lang), gap_text(s.get("gap"))
         if isinstance(s.get("gap"), int | float) else "—"],
        [t("export.summary.created_at", lang), data.created],
        [t("export.summary.build_seconds", lang), number_text(s.get("build_seconds"))],
        [t("export.summary.solve_seconds", lang), number_text(s.get("solve_seconds"))],
        [t("export.summary.scenario_hash", lang), str(s.get("scenario_hash") or "")[:8] or "—"],
    ]  # fmt: skip
    size = s.get("model_size") or {}
    if size:
        rows.append([
            t("report.run.model_size", lang),
            t("report.run.model_size_value", lang,
              **{k: number_text(size.get(k), count=True) for k in ("rows", "columns", "binaries")}),
        ])  # fmt: skip
    return Table([t("report.col.item", lang), t("report.col.value", lang)], rows,
                 [False, False], [0.35, 0.65])  # fmt: skip


# ----------------------------------------------------------------------------- maps


def map_blocks(data: ExportData) -> list[Any]:
    """Return the overview (the brief's map) and one small outcome map per zone.

    The images are the maps' previews (:func:`allocator.export.maps.map_preview`):
    drawn once per export, with the PNG and PDF maps when those are exported too.
    """
    from allocator.export import maps

    lang = data.lang
    blocks: list[Any] = []
    if data.zone is None:
        blocks.append(Figure(maps.map_preview(data), t("report.s5.overview", lang), 0.85))
    for zid in data.zone_ids:
        blocks.append(Figure(maps.map_preview(data, zid), data.zone_name(zid), 0.5))
    return blocks


# ----------------------------------------------------------------------------- the report


def build_report(data: ExportData) -> Report:
    """Return the report's content for ``data``'s run (summary first, then the sections)."""
    from allocator.export.brief import build_brief

    lang = data.lang
    run = data.run
    brief = build_brief(data, with_map=False)
    status = status_label(run.status, lang, gap=run.summary.get("gap"))
    quotas = quota_table(data) if run.has_solution else pd.DataFrame()
    titles: list[str] = []

    def numbered(key: str) -> str:
        titles.append(t(key, lang))
        return f"{len(titles)}  {titles[-1]}"

    sections: list[Section] = []
    quota_title = t("report.s3", lang)
    if run.has_solution:
        sections.append(Section(numbered("report.s1"), zone_tables(data)))
        sections.append(Section(numbered("report.s2"), firm_tables(data)))
        quota_blocks: list[Any] = [Para(t("report.s3.note", lang), "note")]
        if quotas.empty:
            quota_blocks.append(Para(t("brief.s.no_binding", lang)))
        else:
            quota_blocks.append(_quota_block(quotas, lang, meaning=True))
        sections.append(Section(numbered("report.s3"), quota_blocks))
    diag = diagnosis_table(data)
    if diag is not None:
        sections.append(Section(numbered("report.s4"), [diag]))
    maps_ = map_blocks(data) if run.has_solution else []
    if maps_:
        sections.append(Section(numbered("report.s5"), maps_))
    sections.append(Section(numbered("report.s6"), parameter_blocks(data)))
    sections.append(Section(numbered("report.s7"), [run_table(data)]))
    return Report(
        title=t("export.report.title", lang, scenario=data.scenario_name),
        meta=t(
            "report.meta",
            lang,
            date=data.created,
            scenario=data.scenario_name,
            run=run_name(run, lang),
            status=status,
        ),  # fmt: skip
        header=f"{run_name(run, lang)} · {data.created}",
        lang=lang,
        summary=_summary(data, brief, quotas, quota_title),
        sections=sections,
    )


# ----------------------------------------------------------------------------- HTML


CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",
sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em;line-height:1.5}
h1{font-size:1.5em;border-bottom:2px solid #1f3b73;padding-bottom:.3em}
h2{font-size:1.2em;color:#1f3b73;margin-top:1.8em}h3{font-size:1em;color:#1f3b73}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.85em}
th,td{border:1px solid #ccc;padding:3px 7px;vertical-align:top}
th{background:#dde6f2;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{display:inline-block;margin:.5em;vertical-align:top}img{max-width:100%;border:1px solid #ddd}
.meta,.note{color:#666;font-size:.85em}
"""


def _image_uri(figure: Figure) -> str:
    """Return a figure's image as a ``data:`` URI (base64: nothing in it to escape)."""
    return f"data:{figure.mime};base64," + base64.b64encode(figure.image).decode("ascii")


def _html_block(block: Any) -> str:
    if isinstance(block, Heading):
        return f"<h3>{escape_html(block.text)}</h3>"
    if isinstance(block, Para):
        if block.style == "bullet":
            return f"<ul><li>{escape_html(block.text)}</li></ul>"
        cls = ' class="note"' if block.style == "note" else ""
        return f"<p{cls}>{escape_html(block.text)}</p>"
    if isinstance(block, Table):
        th = "".join(f"<th>{escape_html(h)}</th>" for h in block.headers)
        classes = [' class="num"' if num else "" for num in block.numeric]
        rows = []
        for row in block.rows:
            cells = [f"<td{cls}>{escape_html(c)}</td>" for c, cls in zip(row, classes, strict=True)]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    if isinstance(block, Figure):
        width = f"{int(block.width * 96)}%"
        return (
            f'<figure style="width:{escape_html(width)}"><img alt="{escape_html(block.caption)}" '
            f'src="{_image_uri(block)}"><figcaption>{escape_html(block.caption)}</figcaption></figure>'
        )
    raise TypeError(f"unknown report block {type(block).__name__}")


def report_html(report: Report) -> str:
    """Return the report as one self-contained HTML page (images as ``data:`` URIs)."""
    parts = [f"<h1>{escape_html(report.title)}</h1>",
             f'<p class="meta">{escape_html(report.meta)}</p>',
             f"<h2>{escape_html(t('report.summary', report.lang))}</h2>"]  # fmt: skip
    parts += [_html_block(b) for b in report.summary]
    for section in report.sections:
        parts.append(f"<h2>{escape_html(section.title)}</h2>")
        parts += [_html_block(b) for b in section.blocks]
    html_lang = "zh-CN" if report.lang == "zh" else "en"
    return (
        f'<!DOCTYPE html><html lang="{html_lang}"><head><meta charset="utf-8">'
        f"<title>{escape_html(report.title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )


def write_report(
    data: ExportData,
    folder: Path,
    formats: tuple[str, ...] = ("html", "pdf"),
    *,
    built: Report | None = None,
) -> list[Path]:
    """Write ``report.html`` and/or ``report.pdf`` into ``folder``; return the paths.

    ``built``: the report's content when already built (default: :func:`build_report`).
    """
    from allocator.export.report_pdf import write_pdf

    folder.mkdir(parents=True, exist_ok=True)
    report = built if built is not None else build_report(data)
    out: list[Path] = []
    if "html" in formats:
        path = folder / "report.html"
        path.write_text(report_html(report), encoding="utf-8")
        out.append(path)
    if "pdf" in formats:
        out.append(write_pdf(report, folder / "report.pdf"))
    return out
