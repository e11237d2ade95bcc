"""权衡分析 Trade-off: sweep one parameter (curve, quota values) or perturb the data (robustness).

Uses only the public API (``allocator.run_sweep``, ``Vary``, ``MonteCarlo``,
``load_scenario``, ``load_run``): the points run on a local Dask cluster or on
the scheduler the planner names, each point an ordinary run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from allocator import (
    MonteCarlo,
    Runner,
    Vary,
    format_kpi,
    kpi_label,
    load_scenario,
    load_sweep,
    run_sweep,
    status_label,
)
from allocator.ui.common import (
    attempt,
    case_path,
    fixed,
    get_case,
    get_run,
    guard,
    list_scenarios,
    page_header,
    runs_dir,
    show_table,
    t,
)

PARAMS = (
    "caps.energy_factor",
    "caps.electricity_factor",
    "caps.province_energy_tce",
    "caps.province_energy_factor",
    "caps.unit_emission_factor",
    "caps.intensity_factor",
    "energy.trade_price_wan_per_tce",
    "objective.alpha_tax",
    "service_floor",
)
# Parameters offered first; zone quotas (caps.zones.<id>.energy_tce) are added per case.
# (A comment, not a string: Streamlit shows a page's bare string literals on the page.)
DEFAULT_RANGE = {
    "caps.province_energy_tce": (20000.0, 60000.0),
    "energy.trade_price_wan_per_tce": (0.0, 1.0),
    "objective.alpha_tax": (0.0, 2.0),
    "service_floor": (0.0, 1.0),
}


def _params(case: Any) -> list[str]:
    zones = [str(z) for z in case.zones["zone_id"]] if case is not None else []
    return [*PARAMS, *[f"caps.zones.{z}.energy_tce" for z in zones]]


def _controls(case: Any) -> dict[str, Any] | None:
    scenarios = list_scenarios()
    if not scenarios:
        st.info(t("ui.tradeoff.no_scenarios"))
        return None
    path = st.selectbox(
        t("ui.tradeoff.scenario"), scenarios, format_func=fixed(lambda p: p.stem), key="to_scenario"
    )
    mode = st.radio(
        t("ui.tradeoff.mode"),
        ["range", "robustness"],
        format_func=fixed(lambda m: t(f"ui.tradeoff.mode_{m}")),
        horizontal=True,
        key="to_mode",
    )
    out: dict[str, Any] = {"scenario": Path(path), "mode": mode}
    if mode == "range":
        param = st.selectbox(t("ui.tradeoff.param"), _params(case), key="to_param")
        lo, hi = DEFAULT_RANGE.get(param, (0.6, 1.4))
        c1, c2, c3 = st.columns(3)
        out["param"] = param
        out["start"] = c1.number_input(t("ui.tradeoff.start"), value=lo, key=f"to_start_{param}")
        out["stop"] = c2.number_input(t("ui.tradeoff.stop"), value=hi, key=f"to_stop_{param}")
        out["points"] = int(c3.number_input(t("ui.tradeoff.points"), 2, 25, 5, key="to_points"))
    else:
        c1, c2, c3 = st.columns(3)
        out["n"] = int(c1.number_input(t("ui.tradeoff.draws"), 1, 200, 10, key="to_n"))
        out["spread"] = float(
            c2.number_input(t("ui.tradeoff.spread"), 0.0, 99.0, 10.0, key="to_spread")
        )
        out["seed"] = int(c3.number_input(t("ui.tradeoff.seed"), 0, 10**6, 0, key="to_seed"))
    with st.expander(t("ui.tradeoff.cluster")):
        out["scheduler"] = st.text_input(
            t("ui.tradeoff.scheduler"), "", placeholder="tcp://HOST:PORT", key="to_scheduler"
        ).strip()
        out["workers"] = int(st.number_input(t("ui.tradeoff.workers"), 1, 64, 2, key="to_workers"))
        out["time_limit_s"] = float(
            st.number_input(t("ui.tradeoff.time_limit"), 1.0, 3600.0, 20.0, key="to_time_limit")
        )
    return out


def _run(choice: dict[str, Any], case: Any) -> Path | None:
    scenario = load_scenario(choice["scenario"])
    scenario = scenario.with_overrides(
        {"case": str(case_path()), "solver.time_limit_s": choice["time_limit_s"]}
    )
    vary = mc = None
    if choice["mode"] == "range":
        vary = Vary.linspace(
            choice["param"],
            choice["start"],
            choice["stop"],
            choice["points"],
            t("ui.tradeoff.param"),
        )
    else:
        mc = MonteCarlo.uniform(choice["n"], choice["spread"], choice["seed"])
    bar = st.progress(0.0, text=t("ui.tradeoff.starting"))

    def progress(done: int, total: int, row: Any) -> None:
        label = status_label(row["status"]) if row.get("status") else ""
        bar.progress(
            done / total, text=t("ui.tradeoff.progress", done=done, total=total, status=label)
        )

    runner = None
    if not choice["scheduler"]:
        runner = Runner(n_workers=choice["workers"])
    try:
        result = run_sweep(
            scenario,
            vary=vary,
            monte_carlo=mc,
            case=case,
            out_dir=runs_dir() / "sweeps",
            runner=runner,
            scheduler=choice["scheduler"] or None,
            progress=progress,
            lang=st.session_state.get("lang"),
        )
    finally:
        if runner is not None:
            runner.close()
    bar.progress(1.0, text=t("ui.tradeoff.done", n=len(result.table), computed=result.computed))
    return Path(result.path)


def _show_curve(folder: Path) -> None:
    table = load_sweep(folder)
    chart = folder / "tradeoff.png"
    if chart.exists():
        st.image(str(chart))
    cols = [
        c
        for c in ("value", "status", "objective_monotone", "bound_monotone", "gap", "knee", "run")
        if c in table
    ]
    show_table(table[cols], hide_index=True)
    quota = folder / "quota_value.csv"
    if quota.exists():
        st.subheader(t("ui.tradeoff.quota"))
        st.caption(t("ui.tradeoff.quota_caption"))
        show_table(pd.read_csv(quota), hide_index=True)
    labels = {
        f"{v:g} — {status_label(s)}": r
        for v, s, r in zip(table["value"], table["status"], table["run"], strict=True)
    }
    pick = st.selectbox(t("ui.tradeoff.open_point"), list(labels), key="to_open")
    if pick:
        run = get_run(Path(labels[pick]))
        if run is not None:
            st.caption(str(run.path))
            kpis = pd.DataFrame(
                {
                    t("ui.tradeoff.figure"): [kpi_label(k) for k, _ in run.kpis.items()],
                    t("ui.tradeoff.value"): [format_kpi(k, v) for k, v in run.kpis.items()],
                }
            )
            show_table(kpis, hide_index=True)


def _show_robustness(folder: Path) -> None:
    st.subheader(t("ui.tradeoff.robust_kpis"))
    show_table(pd.read_csv(folder / "robustness_kpis.csv"), hide_index=True)
    st.subheader(t("ui.tradeoff.robust_firms"))
    show_table(pd.read_csv(folder / "robustness_firms.csv"), hide_index=True)
    st.subheader(t("ui.tradeoff.robust_plots"))
    show_table(pd.read_csv(folder / "robustness_plots.csv"), hide_index=True)
    layer = folder / "robustness_plots.geojson"
    if layer.exists():
        st.download_button(
            t("ui.tradeoff.download_layer"),
            layer.read_bytes(),
            file_name=layer.name,
            mime="application/geo+json",
            key="to_layer",
        )


page_header("ui.tradeoff.title", "ui.tradeoff.caption")
case = get_case()
if case is not None:
    choice = _controls(case)
    if choice is not None and st.button(t("ui.tradeoff.run"), type="primary", key="to_run"):
        folder = attempt(_run, choice, case)
        if folder is not None:
            st.session_state["to_folder"] = str(folder)
            st.session_state["to_kind"] = choice["mode"]
    folder_s = st.session_state.get("to_folder")
    if folder_s:
        with guard():
            if st.session_state.get("to_kind") == "robustness":
                _show_robustness(Path(folder_s))
            else:
                _show_curve(Path(folder_s))
