"""``allocator diagnose SCENARIO``: presolve checks, elastic diagnosis, marginal values."""

from __future__ import annotations

import argparse
import json
from typing import Any

from allocator.i18n import get_lang, t


def register(subparsers: Any) -> None:
    """Add the ``diagnose`` sub-command."""
    p = subparsers.add_parser("diagnose", help=t("solve.cli.diagnose_help"))
    p.add_argument("scenario", help=t("solve.cli.scenario"))
    p.add_argument("--time-limit", type=float, default=None, help=t("solve.cli.time_limit"))
    p.add_argument("--json", action="store_true", help=t("solve.cli.json"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the diagnosis; exit 0 when feasible, 2 when infeasible."""
    from allocator.diagnose import diagnose

    report = diagnose(args.scenario, time_limit_s=args.time_limit)
    if args.json:
        marg = report.get("marginals")
        if marg is not None:
            report["marginals"] = marg.to_dict(orient="records")
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return 0 if report["status"] in ("optimal", "feasible") else 2
    msg = "message_zh" if get_lang() == "zh" else "message_en"
    print(f"{t('solve.cli.status')}: {_status_text(report['status'])} ({report['status']})")
    findings = report["presolve"]
    print(t("solve.cli.presolve_count", n=len(findings)))
    for f in findings:
        print(f"  ! {f[msg]}")
    elastic = report.get("elastic")
    if elastic:
        print(t("solve.cli.elastic_heading"))
        for row in elastic["rows"]:
            print(f"  - {row[msg]}")
    marg = report.get("marginals")
    if marg is not None and len(marg):
        print(t("solve.cli.marginals_heading"))
        shown = marg.sort_values("value", ascending=False)
        for _, r in shown.iterrows():
            flag = "*" if r["binding"] else " "
            print(f"  {flag} {r['row']:<44} {r['value']:>12,.4f} {r['unit']}")
    return 0 if report["status"] in ("optimal", "feasible") else 2


def _status_text(status: object) -> str:
    key = f"solve.status.{status}"
    return t(key)
