"""``allocator compare RUN RUN [RUN …]``: runs side by side, what changed and why.

The same comparison as the app's 情景对比 page (:func:`allocator.compare`), for
planners who script their what-ifs: key figures with changes against the base,
per-zone changes, plots whose outcome changed, firms gained or lost with the
binding rows of their zone that changed, and those rows' marginal values.
``--out`` writes every table, untruncated, to one workbook.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.commands.info import render_table
from allocator.compare import folder_of, row_label
from allocator.errors import AllocatorError
from allocator.i18n import get_lang, t
from allocator.kpis import COUNT_KPIS, KPI_UNITS, kpi_value
from allocator.safety import check_output
from allocator.status import status_label

ZONE_COLUMNS = ("land_used_mu", "energy_tce", "electricity_mwh", "tax_per_mu_after")
"""Per-zone figures printed (the workbook has every metric of the comparison)."""


def register(subparsers: Any) -> None:
    """Add the ``compare`` sub-command."""
    p = subparsers.add_parser("compare", help=t("compare.cli.help"))
    p.add_argument("runs", nargs="+", metavar="RUN", help=t("compare.cli.runs"))
    p.add_argument("-o", "--out", default=None, help=t("compare.cli.out"))
    p.add_argument("--brief", default=None, metavar="FOLDER", help=t("compare.cli.brief"))
    p.add_argument("--top", type=int, default=10, help=t("compare.cli.top"))
    p.add_argument("--explain", action="store_true", help=t("attribution.cli.explain"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the comparison (and write the workbook); exit 0."""
    from allocator.compare import compare

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() != ".xlsx":
        raise AllocatorError(t("compare.cli.bad_out", path=out), hint=t("compare.cli.bad_out_hint"))
    if out is not None:
        check_output(out, option="--out")
    if args.brief:
        check_output(args.brief, folder=True, option="--brief")
    comp = compare([Path(p) for p in args.runs])
    for line in render(comp, top=max(0, args.top)):
        print(line)
    if args.explain:
        from allocator.analysis.attribution import attribute

        if len(args.runs) != 2:
            raise AllocatorError(t("attribution.cli.two_runs"))
        comp.attribution = attribute(Path(args.runs[0]), Path(args.runs[1]))
        for line in render_attribution(comp.attribution, get_lang()):
            print(line)
    if out is not None:
        comp.to_excel(out, get_lang())
        print(t("compare.wrote", path=out))
    if args.brief:
        from allocator.export.brief import write_comparison_brief

        for path in write_comparison_brief(comp, args.brief, get_lang()):
            print(t("compare.wrote", path=path))
    return 0


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def _signed(value: float, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if round(value, digits) == 0:
        return "0"
    return f"{value:+,.{digits}f}"


def _kpi_cell(name: str, value: Any) -> str:
    if name == "status":
        return status_label(value) if value is not None else "—"
    if name == "gap":
        return "—" if value is None else f"{100 * float(value):.3f}%"
    if name in KPI_UNITS and isinstance(value, int | float):
        value = kpi_value(name, value)  # in the unit its label names (万千瓦时)
    if name in COUNT_KPIS:
        return _fmt(value, 0)
    if name == "solve_seconds":
        return _fmt(value, 2)
    return _fmt(value, 1)


def _kpi_delta(name: str, base: Any, other: Any) -> str:
    if name in ("status", "gap", "solve_seconds"):
        return ""
    try:
        b, o = float(kpi_value(name, base)), float(kpi_value(name, other))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    text = _signed(o - b, 0 if name in COUNT_KPIS else 1)
    if name not in COUNT_KPIS and b and math.isfinite(b) and round(o - b, 1) != 0:
        text += f" ({100 * (o - b) / abs(b):+.2f}%)"
    return text


def render(comp: Any, top: int = 10) -> list[str]:
    """Return the report's lines (current language)."""
    labels = list(comp.labels)
    lines = [t("compare.title", base=labels[0])]
    for i, lab in enumerate(labels):  # the folder: what to type to export or compare it again
        folder = folder_of(comp.runs[i]) if i < len(comp.runs) else None
        lines.append(
            t("compare.legend_folder", i=i, label=lab, folder=folder.name)
            if folder is not None
            else t("compare.legend", i=i, label=lab)
        )
    lines += ["", t("compare.kpis")]
    headers = [t("compare.figure"), t("compare.base")]
    for i in range(1, len(labels)):
        headers += [f"[{i}]", f"[{i}] {t('compare.delta')}"]
    rows = []
    for name in comp.kpis.index:
        base = comp.kpis.at[name, labels[0]]
        row = [row_label(name), _kpi_cell(name, base)]
        for lab in labels[1:]:
            other = comp.kpis.at[name, lab]
            row += [_kpi_cell(name, other), _kpi_delta(name, base, other)]
        rows.append(row)
    lines += render_table(headers, rows, right=set(range(1, len(headers))))
    zones = comp.zones
    for i, lab in enumerate(labels[1:], start=1):
        lines += ["", t("compare.zones", i=i)]
        metrics = [m for m in ZONE_COLUMNS if len(zones) and m in set(zones["metric"])]
        if metrics:
            delta = zones[zones["metric"].isin(metrics)].pivot(
                index="zone_id", columns="metric", values=f"delta_{lab}"
            )
            delta = delta.reindex(zones["zone_id"].drop_duplicates())[metrics]
            z_headers = [t("compare.zone"), *(t(f"compare.metric.{m}") for m in metrics)]
            # in the unit the header names, as the KPIs (MWh → 万千瓦时)
            scale = {m: float(kpi_value(m, 1.0) or 1.0) for m in metrics}
            z_rows = [
                [
                    str(z),
                    *(
                        _signed(float(v) * scale[m], 2 if m.endswith("_after") else 1)
                        for m, v in r.items()
                    ),
                ]
                for z, r in delta.iterrows()
            ]
            lines += render_table(z_headers, z_rows, right=set(range(1, len(z_headers))))
        lines += _plot_lines(comp.plots[comp.plots["run"] == lab], i)
        lines += _firm_lines(comp.firms[comp.firms["run"] == lab], i, top)
        lines += _binding_lines(comp.binding[comp.binding["run"] == lab], i, top)
    return lines


def _plot_lines(plots: pd.DataFrame, i: int) -> list[str]:
    from allocator.export.data import outcome_label

    lines = ["", t("compare.plots", i=i, n=len(plots))]
    if not len(plots):
        return lines
    moves = plots.groupby(["outcome_base", "outcome"]).size().sort_values(ascending=False)
    for (before, after), n in moves.items():
        if before == after:
            lines.append(f"{t('compare.plots_same_outcome')} ({outcome_label(str(after))}): {n}")
        else:
            lines.append(f"  {outcome_label(str(before))} → {outcome_label(str(after))}: {n}")
    return lines


def _firm_lines(firms: pd.DataFrame, i: int, top: int) -> list[str]:
    gained = int((firms["change"] == "gained").sum())
    lost = int((firms["change"] == "lost").sum())
    lines = ["", t("compare.firms", i=i, gained=gained, lost=lost)]
    if not len(firms):
        return lines
    shown = firms.assign(
        _size=(firms["value_added_wan"] - firms["value_added_base_wan"]).abs()
    ).sort_values(["_size", "firm_id"], ascending=[False, True])
    for r in shown.head(top).itertuples(index=False):
        change = t(f"compare.firm_{r.change}")
        va = r.value_added_wan if r.change == "gained" else r.value_added_base_wan
        lines.append(
            "  "
            + t(
                "compare.firm_line",
                change=change,
                firm=r.firm_id,
                name=r.name or "",
                zone=r.zone_id,
                va=_fmt(float(va)),
            )
        )
        reason = getattr(r, f"reason_{'zh' if get_lang() == 'zh' else 'en'}", None)
        if isinstance(reason, str) and reason:
            lines.append("      " + t("compare.firm_reason", reason=reason))
        if r.binding_changed:
            rows = str(r.binding_changed).split(";")
            text = "; ".join(rows[:3]) + (" …" if len(rows) > 3 else "")
            lines.append("      " + t("compare.firm_why", rows=text))
    if len(shown) > top:
        lines.append(t("compare.more", n=len(shown) - top))
    return lines


def _binding_lines(binding: pd.DataFrame, i: int, top: int) -> list[str]:
    lines = ["", t("compare.binding", i=i, n=len(binding))]
    if not len(binding):
        return lines
    shown = binding.assign(_size=(binding["value"] - binding["value_base"]).abs()).sort_values(
        ["_size", "row"], ascending=[False, True]
    )
    for r in shown.head(top).itertuples(index=False):
        b0 = t("compare.binding_now") if r.binding_base else t("compare.binding_not")
        b1 = t("compare.binding_now") if r.binding else t("compare.binding_not")
        lines.append(
            f"  {r.row}: {b0} → {b1}, {_fmt(float(r.value_base), 2)} → {_fmt(float(r.value), 2)}"
            f" {r.unit}"
        )
    if len(shown) > top:
        lines.append(t("compare.more", n=len(shown) - top))
    return lines


def render_attribution(att: Any, lang: str | None = None) -> list[str]:
    """Return the attribution as printable lines (the ``compare --explain`` report)."""
    from allocator.analysis.attribution import group_label, measure_label

    lines = ["", t(f"attribution.title.{att.method}", lang, a=att.label_a, b=att.label_b)]
    shown = ("objective", "value_added_wan", "tax_wan", "energy_tce", "firms_moved_out")
    heads = [t("attribution.col.group", lang), *(measure_label(m, lang) for m in shown)]
    rows = []
    for r in att.table().itertuples(index=False):
        label = (
            t(f"attribution.row.{r.group}", lang)
            if r.group in ("total", "recorded")
            else group_label(r.group, lang)
        )
        rows.append([label, *(_signed(getattr(r, m)) for m in shown)])
    lines += render_table(heads, rows, right=set(range(1, len(heads))))
    for r in att.keys.itertuples(index=False):
        lines.append(
            "  "
            + t(
                "attribution.key",
                lang,
                group=group_label(r.group, lang),
                param=r.key,
                a=r.value_a,
                b=r.value_b,
            )
        )
    for kind, frame in (("appeared", att.appeared), ("vanished", att.vanished)):
        for r in frame.itertuples(index=False):
            lines.append("  " + t(f"attribution.{kind}", lang, row=r.row))
    return lines
