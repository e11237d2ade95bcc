"""``allocator info CASE``: zones, plots, firms and areas by zone."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd

from allocator.i18n import display_width, t
from allocator.units import MU_PER_KM2


def register(subparsers: Any) -> None:
    """Add the ``info`` sub-command."""
    p = subparsers.add_parser("info", help=t("case.cli.info.help"))
    p.add_argument("case", help="case GeoPackage (.gpkg)")
    p.set_defaults(func=run)


def zone_summary(case: Any) -> pd.DataFrame:
    """Return one row per zone: area (mu, km²), approved km² and ratio, plots, firms.

    Columns: ``zone_id``, ``name``, ``area_mu``, ``area_km2``, ``approved_km2``,
    ``area_ratio`` (geometry ÷ approved), ``plots``, ``plots_mu``, ``vacant_mu``
    (vacant + idle plots), ``firms`` (existing), ``applicants`` (naming the zone
    among their candidate zones).
    """
    from allocator.case.io import split_list

    zones = pd.DataFrame(case.zones.drop(columns="geometry"))
    out = zones[["zone_id", "name", "area_mu", "approved_km2"]].copy()
    out["area_km2"] = out["area_mu"] / MU_PER_KM2
    out["area_ratio"] = out["area_km2"] / out["approved_km2"].where(out["approved_km2"] > 0)
    plots = pd.DataFrame(case.plots.drop(columns="geometry"))
    grouped = plots.groupby("zone_id")
    out["plots"] = out["zone_id"].map(grouped.size()).fillna(0).astype(int)
    out["plots_mu"] = out["zone_id"].map(grouped["area_mu"].sum()).fillna(0.0)
    free = plots[plots["status"].isin(["vacant", "idle"])].groupby("zone_id")["area_mu"].sum()
    out["vacant_mu"] = out["zone_id"].map(free).fillna(0.0)
    existing = case.existing.groupby("zone_id").size()
    out["firms"] = out["zone_id"].map(existing).fillna(0).astype(int)
    cands = case.applicants["candidate_zones"].map(split_list).explode().dropna()
    out["applicants"] = out["zone_id"].map(cands.value_counts()).fillna(0).astype(int)
    return out[
        [
            "zone_id",
            "name",
            "area_mu",
            "area_km2",
            "approved_km2",
            "area_ratio",
            "plots",
            "plots_mu",
            "vacant_mu",
            "firms",
            "applicants",
        ]
    ]


def render_table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """Render a plain-text table aligned for CJK (double-width) characters."""
    widths = [
        max(display_width(h), *(display_width(r[i]) for r in rows)) for i, h in enumerate(headers)
    ]

    def line(cells: list[str]) -> str:
        parts = []
        for i, cell in enumerate(cells):
            pad = " " * (widths[i] - display_width(cell))
            parts.append(pad + cell if i in right else cell + pad)
        return "  ".join(parts).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return [line(headers), sep, *(line(r) for r in rows)]


def _num(value: float, fmt: str) -> str:
    return "—" if value is None or not np.isfinite(value) else format(value, fmt)


def run(args: argparse.Namespace) -> int:
    """Load the case and print the summary."""
    from allocator.case import load_case

    case = load_case(args.case)
    summary = zone_summary(case)
    print(t("case.info.title", file=case.source or args.case))  # a store URL without password
    print(
        t(
            "case.info.totals",
            zones=len(case.zones),
            plots=len(case.plots),
            firms=len(case.firms),
            existing=len(case.existing),
            applicants=len(case.applicants),
        )
    )
    headers = [
        t("case.info.zone"),
        t("case.info.name"),
        t("case.info.area_mu"),
        t("case.info.area_km2"),
        t("case.info.approved_km2"),
        t("case.info.ratio"),
        t("case.info.plots"),
        t("case.info.plots_mu"),
        t("case.info.vacant_mu"),
        t("case.info.firms"),
        t("case.info.applicants"),
    ]
    rows = []
    for r in summary.itertuples(index=False):
        rows.append(
            [
                str(r.zone_id),
                str(r.name),
                _num(r.area_mu, ",.0f"),
                _num(r.area_km2, ".2f"),
                _num(r.approved_km2, ".2f"),
                _num(r.area_ratio, ".1%"),
                str(r.plots),
                _num(r.plots_mu, ",.0f"),
                _num(r.vacant_mu, ",.0f"),
                str(r.firms),
                str(r.applicants),
            ]
        )
    total_mu = float(summary["area_mu"].sum())
    rows.append(
        [
            t("case.info.total"),
            "",
            _num(total_mu, ",.0f"),
            _num(total_mu / MU_PER_KM2, ".2f"),
            _num(float(summary["approved_km2"].sum(min_count=1)), ".2f"),
            "",
            str(int(summary["plots"].sum())),
            _num(float(summary["plots_mu"].sum()), ",.0f"),
            _num(float(summary["vacant_mu"].sum()), ",.0f"),
            str(int(summary["firms"].sum())),
            str(len(case.applicants)),
        ]
    )
    for line in render_table(headers, rows, right=set(range(2, 11))):
        print(line)
    if case.problems:
        print(t("case.info.warnings", count=len(case.problems)))
    return 0
