"""``allocator write-lp SCENARIO [-o model.lp|model.mps]``: the model for another solver."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from allocator.errors import AllocatorError
from allocator.i18n import t


def register(subparsers: Any) -> None:
    """Add the ``write-lp`` sub-command."""
    p = subparsers.add_parser("write-lp", help=t("solve.cli.write_lp_help"))
    p.add_argument("scenario", help=t("solve.cli.scenario"))
    p.add_argument("-o", "--output", default="model.lp", help=t("solve.cli.lp_output"))
    p.set_defaults(func=run)


def write_model(scenario_path: str | Path, output: str | Path) -> Path:
    """Prepare and build the scenario's model and write it as LP or MPS (by suffix).

    The output is checked first (format, writable place): nothing is built for
    a file that cannot be written.
    """
    from allocator.prepare import prepare
    from allocator.safety import check_output
    from allocator.scenario import load_scenario
    from allocator.scenario_refs import check_scenario_ids
    from allocator.solve import load_case_cached
    from models import allocation, solver

    out = Path(output)
    if out.suffix.lower() not in (".lp", ".mps"):
        raise AllocatorError(f"{out}: unknown model format", hint="use a .lp or .mps file name")
    check_output(out, option="-o")
    scen = load_scenario(scenario_path)
    if scen.case_path is None:
        raise AllocatorError(f"scenario '{scen.name}' names no case", hint="set 'case = …'")
    case = load_case_cached(scen.case_path)
    check_scenario_ids(scen, case)
    prep = prepare(case, scen)
    built = allocation.build(prep.data, prep.params)
    return solver.write_problem(built, out)


def run(args: argparse.Namespace) -> int:
    """Write the model file and say where."""
    out = write_model(args.scenario, args.output)
    print(t("solve.cli.lp_written", path=str(out)))
    return 0
