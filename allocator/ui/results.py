"""Showing a run: status and gap, KPI deltas, outcome map, firms, binding caps, diagnosis."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from allocator.ui import maps
from allocator.ui.common import (
    case_key,
    fixed,
    fmt_num,
    fmt_pct,
    get_case,
    guard,
    lang,
    show_table,
    t,
)
from allocator.ui.summaries import KPI_ORDER, run_kpis

KPI_DIGITS = {"firms_served": 0, "applicants_admitted": 0, "firms_exited": 0}


def kpi_label(name: str) -> str:
    """Return the label of a KPI."""
    return t(f"ui.kpi.{name}")


def status_line(run: Any) -> None:
    """Show the run's status, gap, objective and timings."""
    s = run.summary or {}
    status = str(s.get("status", "error"))
    text = t(
        "ui.run.status_line",
        status=t(f"ui.status_run.{status}") if status in STATUSES else status,
        gap=fmt_pct(s.get("gap")),
        objective=fmt_num(s.get("objective"), 1),
        bound=fmt_num(s.get("best_bound"), 1),
        seconds=fmt_num((s.get("build_seconds") or 0) + (s.get("solve_seconds") or 0), 2),
    )
    if status == "optimal":
        st.success(text)
    elif status == "feasible":
        st.warning(text)
    else:
        st.error(text)
    size = s.get("model_size") or {}
    if size:
        st.caption(
            t(
                "ui.run.size",
                rows=fmt_num(size.get("rows"), 0),
                columns=fmt_num(size.get("columns"), 0),
                binaries=fmt_num(size.get("binaries"), 0),
            )
        )


STATUSES = ("optimal", "feasible", "infeasible", "time_limit_no_solution", "error")


def kpi_deltas(run: Any, base: Any | None) -> None:
    """Show the KPIs as metrics with the change against the base run."""
    now = run_kpis(run)
    before = run_kpis(base) if base is not None else {}
    cols = st.columns(4)
    for i, name in enumerate(k for k in KPI_ORDER if k != "objective"):
        value = now.get(name, float("nan"))
        delta = None
        if name in before and value == value and before[name] == before[name]:
            diff = value - before[name]
            delta = fmt_num(diff, KPI_DIGITS.get(name, 1)) if abs(diff) > 1e-9 else None
        cols[i % 4].metric(kpi_label(name), fmt_num(value, KPI_DIGITS.get(name, 1)), delta)


def kpi_frame(run: Any, base: Any | None) -> pd.DataFrame:
    """Return the KPI table (base, scenario, change) shown under the metrics."""
    now = run_kpis(run)
    before = run_kpis(base) if base is not None else {}
    rows = []
    for name in KPI_ORDER:
        row = {t("ui.kpi.name"): kpi_label(name), t("ui.kpi.scenario"): now.get(name)}
        if before:
            row[t("ui.kpi.base")] = before.get(name)
            row[t("ui.kpi.delta")] = now.get(name, float("nan")) - before.get(name, float("nan"))
        rows.append(row)
    return pd.DataFrame(rows)


def outcome_map(run: Any, key: str, only_changed: set[str] | None = None) -> None:
    """Draw the plots coloured by outcome (or only ``only_changed`` plots highlighted)."""
    case = get_case(show=False)
    if case is None:
        st.info(t("ui.run.no_case_map"))
        return
    ckey = case_key() or ("", 0.0)
    plots = case.plots[["plot_id", "zone_id", "geometry"]].copy()
    plots["plot_id"] = plots["plot_id"].astype(str)
    res = run.plots.copy()
    res["plot_id"] = res["plot_id"].astype(str)
    cols = [c for c in ("plot_id", "outcome", "firm_id_after", "class_after") if c in res]
    merged = plots.merge(res[cols], on="plot_id", how="left")
    if only_changed is not None:
        merged = merged[merged["plot_id"].isin(only_changed)]
    zone_ids = sorted(merged["zone_id"].dropna().astype(str).unique())
    if len(zone_ids) > 1:
        names = dict(
            zip(case.zones["zone_id"].astype(str), case.zones["name"].astype(str), strict=True)
        )
        pick = st.selectbox(
            t("ui.run.map_zone"),
            ["", *zone_ids],
            index=1,
            format_func=fixed(
                lambda z: t("ui.overview.all_zones") if z == "" else f"{z} · {names.get(z, '')}"
            ),
            key=f"{key}_zone",
        )
        if pick:
            merged = merged[merged["zone_id"].astype(str) == pick]
    if merged.empty:
        st.caption(t("ui.run.no_plots"))
        return
    layers = maps.admin_layer(case, ckey)
    zones_fc = maps.features(case.zones, ("zones", *ckey), ["zone_id", "name"], 5.0)
    layers.append(maps.layer("zones", maps.with_color(zones_fc, [21, 101, 192, 30])))
    fc = maps.features(
        merged,
        ("run_plots", key, len(merged), *ckey),
        ["plot_id", "zone_id", "outcome", "firm_id_after", "class_after"],
        0.5,
    )
    layers.append(
        maps.layer(
            "plots", maps.colorize(fc, "outcome", maps.OUTCOME_COLORS, maps.GREY), pickable=True
        )
    )
    view = merged if len(merged) else case.zones
    maps.show(
        maps.deck(layers, maps.view_for(view), "{plot_id} · {outcome} · {firm_id_after}"), key=key
    )
    maps.legend(maps.OUTCOME_COLORS, {k: t(f"ui.outcome.{k}") for k in maps.OUTCOME_COLORS})


def firm_table(run: Any, key: str) -> None:
    """Show the per-firm table with filters (zone, class, kind, served)."""
    firms = run.firms.copy()
    c1, c2, c3, c4 = st.columns(4)
    zones = sorted(firms["zone_id"].dropna().astype(str).unique()) if "zone_id" in firms else []
    pick_zone = c1.multiselect(t("ui.filter.zone"), zones, key=f"{key}_zone")
    classes = sorted(firms["class"].dropna().astype(str).unique()) if "class" in firms else []
    pick_class = c2.multiselect(t("ui.filter.class"), classes, key=f"{key}_class")
    kinds = sorted(firms["kind"].dropna().astype(str).unique()) if "kind" in firms else []
    pick_kind = c3.multiselect(t("ui.filter.kind"), kinds, key=f"{key}_kind")
    served = c4.selectbox(
        t("ui.filter.served"),
        ["all", "served", "not_served"],
        format_func=fixed(lambda v: t(f"ui.filter.served_{v}")),
        key=f"{key}_served",
    )
    if pick_zone:
        firms = firms[firms["zone_id"].astype(str).isin(pick_zone)]
    if pick_class:
        firms = firms[firms["class"].astype(str).isin(pick_class)]
    if pick_kind:
        firms = firms[firms["kind"].astype(str).isin(pick_kind)]
    if served != "all" and "served" in firms:
        mask = firms["served"].astype(bool)
        firms = firms[mask if served == "served" else ~mask]
    st.caption(t("ui.filter.rows", n=len(firms)))
    show_table(firms, hide_index=True, width="stretch", height=320)


def marginals_table(run: Any) -> None:
    """Show the binding cap rows with their marginal values."""
    marg = run.marginals
    if marg is None or marg.empty:
        st.caption(t("ui.run.no_marginals"))
        return
    binding = marg[marg["binding"].astype(bool)] if "binding" in marg else marg
    if binding.empty:
        st.caption(t("ui.run.no_binding"))
        return
    show_table(binding, hide_index=True, width="stretch")


def _has_content(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_content(v) for v in value.values())
    if isinstance(value, list | tuple):
        return len(value) > 0
    return value not in (None, "", False)


def _messages(items: list) -> list[str]:
    out = []
    for item in items:
        if isinstance(item, dict):
            text = (
                item.get(f"message_{lang()}")
                or item.get("message")
                or item.get("text")
                or item.get("explanation")
            )
            out.append(str(text) if text else ", ".join(f"{k}={v}" for k, v in item.items()))
        else:
            out.append(str(item))
    return out


def diagnosis(run: Any) -> None:
    """Show the diagnosis of an infeasible or over-tight run: the rows to relax and by how much.

    ``diagnosis.json`` holds ``presolve`` (cheap proofs of infeasibility, each with a
    message) and, for infeasible runs, ``elastic`` (the rows the elastic re-solve had
    to relax and by how much, in the family's units).
    """
    diag = run.diagnosis
    if not _has_content(diag):
        return
    st.subheader(t("ui.run.diagnosis"))
    presolve = diag.get("presolve") or []
    for text in _messages(presolve):
        st.error(text)
    elastic = diag.get("elastic")
    relax: list = []
    if isinstance(elastic, dict):
        for field in ("message", "summary"):
            if isinstance(elastic.get(field), str) and elastic[field]:
                st.warning(elastic[field])
        for field in ("relaxations", "relaxed", "rows", "suggestions"):
            if isinstance(elastic.get(field), list) and elastic[field]:
                relax = elastic[field]
                break
    elif isinstance(elastic, list):
        relax = elastic
    for field in ("relaxations", "suggestions"):
        if not relax and isinstance(diag.get(field), list):
            relax = diag[field]
    if relax:
        st.markdown(f"**{t('ui.run.relaxations')}**")
        for text in _messages(relax):
            st.markdown(f"- {text}")
        if all(isinstance(i, dict) for i in relax):
            show_table(pd.DataFrame(relax), hide_index=True, width="stretch")
    with st.expander(t("error.details")):
        st.code(json.dumps(diag, ensure_ascii=False, indent=2, default=str), language="json")


def show_run(run: Any, base: Any | None, key: str) -> None:
    """Show everything about a run (against an optional base run)."""
    status_line(run)
    status = (run.summary or {}).get("status")
    if status in ("infeasible", "time_limit_no_solution", "error"):
        diagnosis(run)
        if run.firms is None or run.firms.empty:
            return
    st.subheader(t("ui.run.kpis"))
    kpi_deltas(run, base)
    with st.expander(t("ui.run.kpi_table")):
        show_table(kpi_frame(run, base), hide_index=True, width="stretch")
    tabs = st.tabs(
        [t("ui.run.tab_map"), t("ui.run.tab_firms"), t("ui.run.tab_zones"), t("ui.run.tab_caps")]
    )
    with tabs[0], guard():
        outcome_map(run, key=f"{key}_map")
    with tabs[1]:
        firm_table(run, key=f"{key}_firms")
    with tabs[2]:
        show_table(run.zones, hide_index=True, width="stretch")
    with tabs[3]:
        marginals_table(run)
    if status not in ("infeasible", "time_limit_no_solution", "error"):
        diagnosis(run)
