"""Run every ``benchmarks/bench_*.py`` script in turn; each prints its own table."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    only = set(sys.argv[1:])
    failed: list[str] = []
    for script in scripts:
        if only and script.stem.removeprefix("bench_") not in only:
            continue
        print(f"\n=== {script.name} ===", flush=True)
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as exc:  # a bench script may sys.exit(); keep running the others
            if exc.code not in (0, None):
                failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
