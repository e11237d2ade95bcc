"""Showing a run: status and gap, KPI deltas, outcome map, firms, binding caps, diagnosis."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import pandas as pd
import streamlit as st

from allocator import (
    HEADLINE_KPIS,
    Diagnosis,
    Kpis,
    Status,
    format_delta,
    format_kpi,
    kpi_label,
    kpi_value,
    repair_overrides,
    repair_rows,
    run_status_label,
    shown_kpis,
)
from allocator.i18n import has
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
from allocator.units import format_quantity


def status_line(run: Any) -> None:
    """Show the run's status in the planner's words, with its gap, objective and timings."""
    s = run.summary or {}
    status = run.status
    text = t(
        "ui.run.status_line",
        # 已证最优 only at a (near) zero gap; at the tolerance "在容差 0.5% 内最优"
        status=run_status_label(run, lang()),
        gap=fmt_pct(s.get("gap")),
        objective=fmt_num(s.get("objective"), 1),
        bound=fmt_num(s.get("best_bound"), 1),
        seconds=fmt_num((s.get("build_seconds") or 0) + (s.get("solve_seconds") or 0), 2),
    )
    if status == Status.OPTIMAL:
        st.success(text)
    elif status == Status.FEASIBLE:
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


def tolerance_share(run: Any, base: Any | None) -> float | None:
    """Return the share of the objective within which two runs cannot be told apart.

    Each run may be up to its gap from its optimum, so a change of the
    objective up to ``gap_a·|obj_a| + gap_b·|obj_b|`` may be solver tolerance
    alone; as a share of the larger objective it bounds the KPI changes that
    are "within solver tolerance". None when either run has no plan or no gap.
    """
    if base is None:
        return None
    total, scale = 0.0, 0.0
    for r in (run, base):
        s = r.summary or {}
        gap, obj = s.get("gap"), s.get("objective")
        if gap is None or obj is None or not math.isfinite(float(obj)):
            return None
        gap = float(gap) if math.isfinite(float(gap)) else 0.0
        total += abs(gap) * abs(float(obj))
        scale = max(scale, abs(float(obj)))
    return total / scale if scale > 0 else None


def within_tolerance(value: float, was: float, share: float | None) -> bool:
    """Return True when a KPI change is smaller than the solver tolerance ``share`` of it."""
    if share is None or share <= 0 or was == 0:
        return False
    return abs(value - was) / abs(was) < share


def kpi_deltas(run: Any, base: Any | None) -> None:
    """Show the headline KPIs as metrics with the change against the base run.

    A change smaller than the two runs' combined gap is marked "在求解容差内"
    (and not coloured): it may be the solver's tolerance, not the policy.
    """
    now = run.kpis
    before = base.kpis if base is not None else Kpis.none()
    share = tolerance_share(run, base)
    cols = st.columns(4)
    within: list[str] = []
    for i, key in enumerate(HEADLINE_KPIS):
        value, was = now.get(key), before.get(key)
        color: Literal["normal", "off"] = "normal"
        delta = None
        if value is not None and was is not None and abs(value - was) > 1e-9:
            delta = format_delta(key, value - was)
            if within_tolerance(value, was, share):
                color = "off"  # grey; the caption below says why (a metric cuts long text)
                within.append(t(f"pages.metric.{key}"))
        # a short name (st.metric cuts long labels); the full label with its unit is the help
        cols[i % 4].metric(
            t(f"pages.metric.{key}"),
            format_kpi(key, value),
            delta,
            delta_color=color,
            help=kpi_label(key, lang()),
        )
    # the units, on the page (a screenshot or a print has no tooltips)
    units = t("pages.kpi.list_sep").join(kpi_label(k, lang()) for k in HEADLINE_KPIS)
    st.caption(t("pages.kpi.units", labels=units))
    if within:
        st.caption(t("pages.kpi.within_tol", names=t("pages.kpi.list_sep").join(within)))
    if share and base is not None:
        a, b = (run.summary or {}).get("objective"), (base.summary or {}).get("objective")
        if (
            a is not None
            and b is not None
            and abs(float(a) - float(b)) <= share * max(abs(float(a)), abs(float(b)))
        ):
            st.caption(t("ui.kpi.objective_within_tol", share=fmt_pct(share)))


def kpi_frame(run: Any, base: Any | None) -> pd.DataFrame:
    """Return the KPI table (scenario, base, change) shown under the metrics."""
    now = run.kpis
    before = base.kpis if base is not None else None
    rows = []
    for key in shown_kpis(now, before):
        value = kpi_value(key, now.get(key))  # in the unit the label names (万千瓦时)
        row = {t("ui.kpi.name"): kpi_label(key, lang()), t("ui.kpi.scenario"): value}
        if before is not None:
            was = kpi_value(key, before.get(key))
            row[t("ui.kpi.base")] = was
            row[t("ui.kpi.delta")] = None if value is None or was is None else value - was
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
    pick_kind = c3.multiselect(
        t("ui.filter.kind"),
        kinds,
        format_func=fixed(lambda k: t(f"export.value.{k}") if has(f"export.value.{k}") else k),
        key=f"{key}_kind",
    )
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


Repair = Callable[[dict[str, float], list[dict[str, Any]]], None]
"""Called with the scenario overrides of a relaxation and what they relax (for the caption)."""


def diagnosis(run: Any, heading: bool = True, repair: Repair | None = None, key: str = "") -> None:
    """Show the diagnosis: the proofs, then a repair table grouped by policy.

    Each row says what it takes (amount in planner units, share of the cap);
    with ``repair`` given, a cap a scenario key can set has a "放宽并重算"
    button, and one more button applies every such relaxation together.
    """
    diag: Diagnosis = run.diagnosis
    if not diag.items:
        return
    if heading:
        st.subheader(t("ui.run.diagnosis"))
    for item in diag.proofs:
        st.error(item.label(lang()))
    for item in diag.warnings:
        st.warning(item.label(lang()))
    rows = repair_rows(diag)
    if not rows:
        return
    st.markdown(f"**{t('ui.run.relaxations')}**")
    family = None
    for i, item in enumerate(rows):
        if item.family != family:
            family = item.family
            st.markdown(f"**{family_label(family)}**")
        c1, c2, c3, c4 = st.columns([3, 2, 1, 2])
        c1.write(_where(item))
        c2.write(
            format_quantity(item.amount, item.unit, lang())
            if math.isfinite(item.amount) and item.cap is not None
            else t("ui.diag.release")
        )
        c3.write(fmt_pct(item.share_of_cap, 1))
        overrides = repair_overrides([item])
        if repair is not None and overrides:
            c4.button(
                t("ui.diag.repair"),
                key=f"{key}_repair_{i}",
                on_click=repair,
                args=(overrides, [_relaxed(item, overrides)]),
            )
        elif not overrides:
            c4.caption(t("ui.diag.not_in_scenario"))
    # the re-solve that keeps floors and locks hard says what the caps need together
    joint = list(diag.repair) if diag.repair_status is not None else rows
    together = repair_overrides(joint)
    if diag.repair_status is not None and not together:
        st.caption(t("ui.diag.no_joint_repair"))
    if repair is not None and together:
        relaxed = [_relaxed(r, repair_overrides([r])) for r in joint if repair_overrides([r])]
        st.caption(t("ui.diag.minimal", n=len(relaxed)))
        st.button(
            t("ui.diag.repair_all"),
            key=f"{key}_repair_all",
            type="primary",
            on_click=repair,
            args=(together, relaxed),
        )


def _where(item: Any) -> str:
    """Return the subject of a diagnosis row in planner words (zone or firm by name)."""
    if item.subject_kind == "province":
        return t("diagnosis.province")
    name = item.subject_name or item.subject_id
    if item.pollutant:
        pkey = f"diagnosis.pollutant.{item.pollutant}"
        name = f"{name} · {t(pkey) if has(pkey) else item.pollutant}"
    return name


def _relaxed(item: Any, overrides: dict[str, float]) -> dict[str, Any]:
    """Return what one relaxation sets, kept in the session for the what-if caption."""
    (value,) = overrides.values()
    return {
        "family": item.family,
        "where": _where(item),
        "value": value,
        "unit": item.unit,
    }


def relaxed_text(relaxed: dict[str, Any]) -> str:
    """One applied relaxation in planner words ("能耗总量·<zone>：上限 8,081 吨标准煤")."""
    return t(
        "ui.diag.relaxed",
        family=family_label(str(relaxed["family"])),
        where=relaxed["where"],
        value=format_quantity(float(relaxed["value"]), str(relaxed["unit"]), lang()),
    )


def family_label(family: str) -> str:
    """Return the policy a constraint family serves, in the session's language."""
    key = f"diagnosis.family.{family}"
    return t(key) if has(key) else family


def show_run(run: Any, base: Any | None, key: str, repair: Repair | None = None) -> None:
    """Show everything about a run (against an optional base run).

    ``repair`` (the what-if page) gives the diagnosis its "放宽并重算" buttons.
    """
    status_line(run)
    st.subheader(t("ui.run.kpis"))
    kpi_deltas(run, base)  # a run without a plan shows — for every figure, never 0
    if not run.has_solution:
        diagnosis(run, repair=repair, key=key)
        if run.firms is None or run.firms.empty:
            return
    with st.expander(t("ui.run.kpi_table")):
        frame = kpi_frame(run, base)  # headers already in words: shown as they are
        config = {c: st.column_config.Column(c) for c in frame.columns}
        show_table(frame, hide_index=True, width="stretch", column_config=config)
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
    if run.has_solution:
        diagnosis(run)
