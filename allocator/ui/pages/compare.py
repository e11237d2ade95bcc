"""情景对比 Compare: two or more runs side by side — KPIs, changed plots, zones, firms and why."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from allocator import (
    attribute,
    attribution_sheet,
    compare,
    format_kpi,
    has_plan,
    kpi_label,
    run_names,
    run_status_label,
    status_label,
    write_comparison_brief,
)
from allocator.i18n import has
from allocator.ui import results
from allocator.ui.common import (
    attempt,
    fixed,
    fmt_pct,
    get_run,
    guard,
    lang,
    list_runs,
    page_header,
    show_table,
    t,
)
from allocator.ui.summaries import (
    binding_changes,
    changed_plots_shown,
    firm_changes,
    key_figures,
    kpi_table,
    outcome_changes,
)
from allocator.units import planner_unit

ZONE_METRICS = (
    "energy_tce",
    "electricity_mwh",
    "land_used_mu",
    "tax_per_mu_after",
    "va_per_mu_after",
)
# Zone metrics whose data unit is not the planner's (shown via ``allocator.units``).
ZONE_METRIC_UNITS = {"electricity_mwh": "MWh"}


def run_titles(paths: list[Path]) -> dict[str, str]:
    """Return each run's name (path → ``allocator.run_names``), unique among ``paths``."""
    return {str(p): name for p, name in run_names(paths, lang()).items()}


def zone_names(run: Any) -> dict[str, str]:
    """Return zone id → the zone's name in a run (the id where the run has no names)."""
    zones = run.zones
    ids = zones["zone_id"].astype(str)
    names = zones["name"].astype(str) if "name" in zones else ids
    return dict(zip(ids, names, strict=True))


def zone_charts(runs: dict[str, Any]) -> None:
    """Draw per-zone bar charts of one metric across the runs."""
    available = [m for m in ZONE_METRICS if all(m in r.zones for r in runs.values())]
    if not available:
        return
    metric = st.selectbox(
        t("ui.compare.zone_metric"),
        available,
        format_func=fixed(lambda m: t(f"ui.zone_metric.{m}")),
        key="compare_metric",
    )
    factor = planner_unit(ZONE_METRIC_UNITS[metric])[0] if metric in ZONE_METRIC_UNITS else 1.0
    frame = pd.DataFrame(
        {
            label: r.zones.set_index(
                r.zones["name"].astype(str) if "name" in r.zones else r.zones["zone_id"].astype(str)
            )[metric]
            * factor
            for label, r in runs.items()
        }
    )
    st.bar_chart(frame, stack=False, height=320)


def workbook_bytes(comparison: Any, page_lang: str) -> bytes:
    """Return the comparison workbook (all tables, headers in ``page_lang``) as bytes."""
    with tempfile.TemporaryDirectory(prefix="allocator-compare-") as folder:
        return Path(comparison.to_excel(Path(folder) / "compare.xlsx", page_lang)).read_bytes()


def brief_bytes(comparison: Any, page_lang: str, suffix: str) -> bytes:
    """Return the comparison's brief (the last run against the first) as ``.pdf`` or ``.docx``."""
    with tempfile.TemporaryDirectory(prefix="allocator-brief-") as folder:
        files = write_comparison_brief(comparison, Path(folder) / "brief", page_lang)
        return next(f for f in files if f.suffix == suffix).read_bytes()


def render() -> None:
    """Draw the compare page."""
    page_header("ui.compare.title", "ui.compare.caption")
    paths = list_runs()
    if len(paths) < 2:
        st.info(t("ui.compare.need_two", n=len(paths)))
        return
    titles = run_titles(paths)
    picked = st.multiselect(
        t("ui.compare.pick"),
        [str(p) for p in paths],
        default=[str(p) for p in paths[:2]][::-1],
        format_func=fixed(lambda p: titles.get(p, Path(p).name)),
        key="compare_runs",
    )
    if len(picked) < 2:
        st.info(t("ui.compare.need_two", n=len(picked)))
        return
    loaded: dict[str, Any] = {}
    for p in sorted(picked, key=lambda q: Path(q, "summary.json").stat().st_mtime):
        run = get_run(Path(p))
        if run is not None:
            loaded[p] = run
    if len(loaded) < 2:
        return
    # the base is chosen, never the order of clicks: by default the earliest run picked
    base_path = st.selectbox(
        t("ui.compare.base"),
        list(loaded),
        format_func=fixed(lambda p: titles.get(p, t("runs.damaged"))),
        key="compare_base",
    )
    order = [base_path, *[p for p in loaded if p != base_path]]
    runs = {titles.get(p, t("runs.damaged")): loaded[p] for p in order}
    labels = list(runs)
    st.subheader(t("ui.compare.kpis"))
    kpis = kpi_table(runs)
    shown = pd.DataFrame(
        {c: [format_kpi(k, None if pd.isna(v) else v) for k, v in kpis[c].items()] for c in kpis},
        index=[kpi_label(k, lang()) for k in kpis.index],
    )
    statuses = pd.DataFrame(
        {
            label: [
                run_status_label(r, lang()),
                fmt_pct((r.summary or {}).get("gap")),
            ]
            for label, r in runs.items()
        },
        index=[t("ui.compare.status"), t("ui.compare.gap")],
    )
    # the columns are the runs' names: shown as they are (show_table hides unlabelled columns)
    show_table(
        pd.concat([statuses.astype(str), shown]),
        column_config={label: st.column_config.Column(label) for label in labels},
    )
    comparison = attempt(compare, [Path(p) for p in order], lang())
    if comparison is not None:
        with st.expander(t("ui.compare.library_table")):
            figures = key_figures(comparison, lang())
            show_table(  # the runs' names as headers, the key figures with their units
                figures,
                column_config={
                    "_index": st.column_config.Column(t("pages.col.key_figure")),
                    **{c: st.column_config.Column(c) for c in figures.columns},
                },
            )
        page_lang = lang()
        st.download_button(  # written when clicked, not on every rerun of the page
            t("ui.compare.download"),
            data=lambda: workbook_bytes(comparison, page_lang),
            file_name=t("ui.compare.file_name"),
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key="compare_download",
        )
        if has_plan(comparison.runs[-1].status):
            c1, c2 = st.columns(2)
            for col, suffix, mime in (
                (c1, ".pdf", "application/pdf"),
                (
                    c2,
                    ".docx",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                ),
            ):
                col.download_button(  # the brief: written when clicked
                    t(f"ui.compare.brief{suffix.replace('.', '_')}"),
                    data=functools.partial(brief_bytes, comparison, page_lang, suffix),
                    file_name=t("ui.compare.brief_name") + suffix,
                    mime=mime,
                    key=f"compare_brief{suffix.replace('.', '_')}",
                )

    for label, run in runs.items():
        if not has_plan(run.status):
            st.subheader(
                t("ui.compare.no_plan", name=label, status=status_label(run.status, lang()))
            )
            results.diagnosis(run, heading=False)

    base_label = labels[0]
    other_label = st.selectbox(t("ui.compare.other"), labels[1:], key="compare_other")
    st.caption(t("app_runs.compare.pair", base=base_label, other=other_label))
    base, other = runs[base_label], runs[other_label]
    if not (has_plan(base.status) and has_plan(other.status)):
        st.info(t("ui.compare.pair_no_plan"))
        return
    changed = outcome_changes(base.plots, other.plots)
    st.subheader(t("ui.compare.changed_plots", n=len(changed)))
    if len(changed):
        results.outcome_map(
            other, key="compare_map", only_changed=set(changed["plot_id"].astype(str))
        )
        show_table(
            changed_plots_shown(changed, zone_names(base), lang()),
            hide_index=True,
            width="stretch",
            height=240,
            column_config={
                c: st.column_config.Column(t(f"pages.col.{c}"))
                for c in ("zone_name", "outcome_a", "firm_a", "outcome_b", "firm_b")
            },
        )
    st.subheader(t("ui.compare.zones"))
    zone_charts({base_label: base, other_label: other})
    pair = attempt(compare, [base, other])
    # the library's table says why: the run's own reason and the binding rows that changed
    firms = pair.firms_in(lang()) if pair is not None else firm_changes(base.firms, other.firms)
    st.subheader(
        t(
            "ui.compare.firms",
            gained=int((firms["change"] == "gained").sum()),
            lost=int((firms["change"] == "lost").sum()),
        )
    )
    shown = firms.copy()
    if "change" in shown:
        shown["change"] = shown["change"].map(
            lambda c: t(f"ui.compare.change.{c}") if has(f"ui.compare.change.{c}") else c
        )
    show_table(shown, hide_index=True, width="stretch", height=280)
    st.subheader(t("ui.compare.binding"))
    if pair is not None:
        show_table(pair.binding, hide_index=True)
    elif base.marginals is not None and other.marginals is not None and not base.marginals.empty:
        show_table(
            binding_changes(base.marginals, other.marginals), hide_index=True, width="stretch"
        )
    else:
        st.caption(t("ui.run.no_marginals"))
    attribution_section(Path(base.path), Path(other.path))


def attribution_section(base: Path, other: Path) -> None:
    """Why the other run differs from the base: Shapley attribution, solved when asked for."""
    st.subheader(t("ui.compare.attribution"))
    key = f"attribution:{base}:{other}"
    if st.button(t("ui.compare.attribution_run"), key="compare_attribution"):
        with st.spinner(t("ui.compare.attribution_running")):
            st.session_state[key] = attempt(attribute, base, other)
    att = st.session_state.get(key)
    if att is not None:
        st.caption(t(f"attribution.title.{att.method}", a=att.label_a, b=att.label_b))
        show_table(attribution_sheet(att, lang()), hide_index=True, width="stretch")


with guard():
    render()
