"""Pure-pandas summaries the pages show (no streamlit here, so tests can call them)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from allocator import CLASSES, HEADLINE_KPIS


def _col(df: pd.DataFrame, name: str, default: float = np.nan) -> pd.Series:
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce")
    return pd.Series(default, index=df.index, dtype=float)


def zone_summary(case: Any, scores: Any | None = None) -> pd.DataFrame:
    """Return one row per zone: area, plots by status, firms by class, energy and power vs caps.

    Use is the existing firms' last-year totals; 亩均税收 is their tax over the land they hold.
    """
    zones = case.zones
    plots = case.plots
    firms = case.firms
    existing = firms[firms["kind"].astype(str) == "existing"] if "kind" in firms else firms
    out = pd.DataFrame({"zone_id": zones["zone_id"].astype(str)})
    out["name"] = zones["name"].astype(str).to_numpy() if "name" in zones else out["zone_id"]
    out["area_mu"] = _col(zones, "area_mu").to_numpy()
    out["approved_km2"] = _col(zones, "approved_km2").to_numpy()
    out = out.set_index("zone_id")
    status = plots.groupby([plots["zone_id"].astype(str), plots["status"].astype(str)]).size()
    status = status.unstack(fill_value=0)
    for name in ("vacant", "idle", "occupied"):
        out[f"plots_{name}"] = (
            status[name].reindex(out.index).fillna(0).astype(int) if (name in status.columns) else 0
        )
    out["plots"] = plots.groupby(plots["zone_id"].astype(str)).size().reindex(out.index).fillna(0)
    out["plots"] = out["plots"].astype(int)
    zone_of = existing["zone_id"].astype(str)
    out["firms"] = existing.groupby(zone_of).size().reindex(out.index).fillna(0).astype(int)
    out["applicants"] = 0
    if "kind" in firms:
        applicants = firms[firms["kind"].astype(str) == "applicant"]
        for zones_text in applicants.get("candidate_zones", pd.Series(dtype=object)).dropna():
            for zid in str(zones_text).split(";"):
                if zid.strip() in out.index:
                    out.loc[zid.strip(), "applicants"] += 1
    if scores is not None and "managed_class" in getattr(scores, "table", pd.DataFrame()):
        cls = scores.table["managed_class"].astype(str)
        ids = existing["firm_id"].astype(str)
        by = pd.DataFrame({"zone_id": zone_of.to_numpy(), "cls": cls.reindex(ids).to_numpy()})
        counts = by.groupby(["zone_id", "cls"]).size().unstack(fill_value=0)
        for c in CLASSES:
            col = counts[c] if c in counts.columns else pd.Series(dtype=float)
            out[f"class_{c}"] = col.reindex(out.index).fillna(0).astype(int)
    sums = (
        pd.DataFrame(
            {
                "zone_id": zone_of.to_numpy(),
                "energy_tce": _col(existing, "energy_tce").to_numpy(),
                "electricity_mwh": _col(existing, "electricity_mwh").to_numpy(),
                "tax_wan": _col(existing, "tax_wan").to_numpy(),
                "land_mu": _col(existing, "land_mu").to_numpy(),
            }
        )
        .groupby("zone_id")
        .sum(min_count=1)
    )
    for col in ("energy_tce", "electricity_mwh", "tax_wan", "land_mu"):
        out[col] = sums[col].reindex(out.index) if col in sums else np.nan
    zcaps = zones.set_index(zones["zone_id"].astype(str))
    out["energy_cap_tce"] = _col(zcaps, "energy_cap_tce").reindex(out.index)
    out["electricity_cap_mwh"] = _col(zcaps, "electricity_cap_mwh").reindex(out.index)
    out["energy_use_share"] = out["energy_tce"] / out["energy_cap_tce"]
    out["electricity_use_share"] = out["electricity_mwh"] / out["electricity_cap_mwh"]
    out["tax_per_mu"] = out["tax_wan"] / out["land_mu"].where(out["land_mu"] > 0)
    return out.reset_index()


def kpi_table(runs: dict[str, Any]) -> pd.DataFrame:
    """Return the headline KPIs side by side: one column per run label, one row per KPI.

    A run without a plan has NaN (shown as —), never 0.
    """
    return pd.DataFrame(
        {
            label: [np.nan if v is None else v for v in (run.kpis.get(k) for k in HEADLINE_KPIS)]
            for label, run in runs.items()
        },
        index=list(HEADLINE_KPIS),
    )


def outcome_changes(base_plots: pd.DataFrame, other_plots: pd.DataFrame) -> pd.DataFrame:
    """Return the plots whose outcome or firm differs between two runs."""
    cols = ["plot_id", "zone_id", "outcome", "firm_id_after"]
    a = base_plots[[c for c in cols if c in base_plots]].copy()
    b = other_plots[[c for c in cols if c in other_plots]].copy()
    merged = a.merge(b, on="plot_id", how="outer", suffixes=("_a", "_b"))
    changed = merged["outcome_a"].astype(str) != merged["outcome_b"].astype(str)
    if "firm_id_after_a" in merged and "firm_id_after_b" in merged:
        fa = merged["firm_id_after_a"].astype(object).where(merged["firm_id_after_a"].notna(), "")
        fb = merged["firm_id_after_b"].astype(object).where(merged["firm_id_after_b"].notna(), "")
        changed |= fa.astype(str) != fb.astype(str)
    return merged[changed].reset_index(drop=True)


def firm_changes(base_firms: pd.DataFrame, other_firms: pd.DataFrame) -> pd.DataFrame:
    """Return the firms whose service, land, energy or output changed between two runs."""
    keep = [
        "firm_id", "name", "kind", "zone_id", "class", "served", "land_mu", "energy_tce",
        "value_added_wan", "reason",
    ]  # fmt: skip
    a = base_firms[[c for c in keep if c in base_firms]]
    b = other_firms[[c for c in keep if c in other_firms]]
    merged = a.merge(b, on="firm_id", how="outer", suffixes=("_a", "_b"))
    served_a = merged.get("served_a", pd.Series(False, merged.index)).fillna(False).astype(bool)
    served_b = merged.get("served_b", pd.Series(False, merged.index)).fillna(False).astype(bool)
    merged["change"] = np.where(
        served_b & ~served_a, "gained", np.where(served_a & ~served_b, "lost", "")
    )
    for col in ("value_added_wan", "energy_tce", "land_mu"):
        if f"{col}_a" in merged and f"{col}_b" in merged:
            merged[f"delta_{col}"] = pd.to_numeric(merged[f"{col}_b"], errors="coerce").fillna(
                0
            ) - pd.to_numeric(merged[f"{col}_a"], errors="coerce").fillna(0)
    delta = merged.get("delta_value_added_wan", pd.Series(0.0, merged.index))
    tol = 1e-6 * (1 + delta.abs().max() if len(delta) else 1)
    merged.loc[(merged["change"] == "") & (delta > tol), "change"] = "more"
    merged.loc[(merged["change"] == "") & (delta < -tol), "change"] = "less"
    return merged[merged["change"] != ""].reset_index(drop=True)


def binding_changes(base_marg: pd.DataFrame, other_marg: pd.DataFrame) -> pd.DataFrame:
    """Return the cap rows whose binding status or marginal value changed."""
    cols = [c for c in ("row", "family", "value", "binding", "unit") if c in base_marg]
    a = base_marg[cols]
    b = other_marg[[c for c in cols if c in other_marg]]
    merged = a.merge(b, on="row", how="outer", suffixes=("_a", "_b"))
    ba = merged.get("binding_a", pd.Series(False, merged.index)).fillna(False).astype(bool)
    bb = merged.get("binding_b", pd.Series(False, merged.index)).fillna(False).astype(bool)
    va = pd.to_numeric(merged.get("value_a"), errors="coerce").fillna(0)
    vb = pd.to_numeric(merged.get("value_b"), errors="coerce").fillna(0)
    changed = (ba != bb) | ((vb - va).abs() > 1e-6 * (1 + va.abs()))
    return merged[changed].reset_index(drop=True)


def key_figures(comparison: Any, lang: str | None = None) -> pd.DataFrame:
    """Return a comparison's key figures as people read them: one column per run name.

    Rows are the solve rows and KPIs by their labels with units
    (:func:`allocator.compare.row_label`); values are text: status in words, the
    gap as a percentage, KPIs as :func:`allocator.format_kpi` shows them (— when
    a run has no plan).
    """
    from allocator import format_kpi, kpi_label, status_label
    from allocator.i18n import has, t

    def row_label(key: str) -> str:  # a solve row (compare.kpi.*) or a KPI, as compare names it
        return t(f"compare.kpi.{key}", lang) if has(f"compare.kpi.{key}") else kpi_label(key, lang)

    def cell(key: str, value: Any) -> str:
        missing = value is None or (isinstance(value, float) and not np.isfinite(value))
        if key == "status":
            return "—" if missing else status_label(str(value), lang)
        if key == "gap":
            return "—" if missing else f"{float(value) * 100:.2f} %"
        if key in ("objective", "solve_seconds"):
            return "—" if missing else f"{float(value):,.1f}"
        return format_kpi(key, None if missing else float(value))

    kpis = comparison.kpis
    out = pd.DataFrame(
        {str(c): [cell(str(k), v) for k, v in kpis[c].items()] for c in kpis.columns},
        index=[row_label(str(k)) for k in kpis.index],
    )
    return out


def changed_plots_shown(
    changed: pd.DataFrame, zone_names: dict[str, str], lang: str | None = None
) -> pd.DataFrame:
    """Return :func:`outcome_changes` for people: zone names and outcomes in words.

    Columns: ``plot_id``, ``zone_name``, ``outcome_a``, ``firm_a``, ``outcome_b``,
    ``firm_b`` (``_a`` the base run, ``_b`` the other); a plot's zone is the same
    in both runs.
    """
    from allocator.i18n import has, t

    def outcome_label(o: str) -> str:  # the map legend's words (export.outcome.*)
        return t(f"export.outcome.{o}", lang) if has(f"export.outcome.{o}") else o

    zone = changed.get("zone_id_a", pd.Series(None, index=changed.index, dtype=object))
    zone = zone.where(zone.notna(), changed.get("zone_id_b")).astype(object)

    def firm(col: str) -> pd.Series:
        values = changed.get(col, pd.Series(None, index=changed.index, dtype=object))
        return values.astype(object).where(values.notna(), "—").astype(str)

    def outcome(col: str) -> pd.Series:
        return changed[col].map(lambda o: "—" if pd.isna(o) else outcome_label(str(o)))

    return pd.DataFrame(
        {
            "plot_id": changed["plot_id"].astype(str),
            "zone_name": [zone_names.get(str(z), str(z)) if pd.notna(z) else "—" for z in zone],
            "outcome_a": outcome("outcome_a"),
            "firm_a": firm("firm_id_after_a"),
            "outcome_b": outcome("outcome_b"),
            "firm_b": firm("firm_id_after_b"),
        }
    )


def reason_width(reasons: pd.Series | None) -> int:
    """Return a pixel width that shows the longest reason whole (a table cell never wraps).

    About 7 px per half-em (a Chinese character is two), with room for the padding;
    at least 240 px and at most 640 px (the table scrolls sideways beyond that).
    """
    texts = [] if reasons is None else [str(r) for r in reasons.dropna()]
    widest = max((sum(2 if ord(c) > 0x2E80 else 1 for c in r) for r in texts), default=0)
    return int(min(640, max(240, 7 * widest + 24)))
