"""``allocator diagnose SCENARIO``: presolve checks, elastic diagnosis, marginal values."""

from __future__ import annotations

import argparse
import json
from typing import Any

from allocator.commands.info import render_table
from allocator.diagnosis import Diagnosis, row_where
from allocator.i18n import normalize_lang, t
from allocator.status import has_plan, status_label
from allocator.units import display_rate


def register(subparsers: Any) -> None:
    """Add the ``diagnose`` sub-command."""
    p = subparsers.add_parser("diagnose", help=t("solve.cli.diagnose_help"))
    p.add_argument("scenario", help=t("solve.cli.scenario"))
    p.add_argument("--time-limit", type=float, default=None, help=t("solve.cli.time_limit"))
    p.add_argument("--gap", type=float, default=None, help=t("solve.cli.gap"))
    p.add_argument("--json", action="store_true", help=t("solve.cli.json"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the diagnosis; exit 0 when feasible, 2 when infeasible."""
    from allocator.diagnose import diagnose

    report = diagnose(args.scenario, time_limit_s=args.time_limit, rel_gap=args.gap)
    diagnosis: Diagnosis = report["diagnosis"]
    ok = has_plan(report["status"])
    if args.json:
        marg = report.get("marginals")
        out = {
            **report,
            "status": str(report["status"]),
            "settings": report["settings"].to_dict(),
            "diagnosis": diagnosis.to_json(),
            "marginals": None if marg is None else marg.to_dict(orient="records"),
        }
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return 0 if ok else 2
    print(f"{t('solve.cli.status')}: {status_label(report['status'])}")
    proofs = [i for i in diagnosis.items if i.source == "presolve"]
    print(t("solve.cli.presolve_count", n=len(proofs)))
    for item in proofs:
        print(f"  ! {item.label()}")
    relaxed = diagnosis.relaxations
    if relaxed:
        print(t("solve.cli.elastic_heading"))
        for item in relaxed:
            print(f"  - {item.label()}")
    marg = report.get("marginals")
    if marg is not None and len(marg):
        print(t("solve.cli.marginals_heading"))
        shown = marg.sort_values("value", ascending=False)
        lang = normalize_lang(None)
        names = (report.get("names") or {}).get(lang)
        rows = []
        for _, r in shown.iterrows():
            value, unit = display_rate(float(r["value"]), str(r["unit"]), lang)
            flag = "*" if r["binding"] else ""
            rows.append([flag, row_where(str(r["row"]), names, lang), f"{value:,.4f}", unit])
        heads = [
            "",
            t("solve.cli.marginal_row"),
            t("solve.cli.marginal_value"),
            t("solve.cli.marginal_unit"),
        ]
        for line in render_table(heads, rows, right={2}):
            print(f"  {line}")
    return 0 if ok else 2
