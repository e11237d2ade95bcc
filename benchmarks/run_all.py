"""Run every ``benchmarks/bench_*.py`` script, each in its own process; each prints its table.

``python benchmarks/run_all.py [names…] [--scales 1,3,10] [--big] [--limit 60] [--json FILE]
[--quick]``: the options go to ``bench_model.py`` (the model benchmark; ``--json``
writes one object per scale). A script that fails (an exception, a non-zero
exit) is reported at the end and the others still run: ``make bench`` does
not abort on one bad benchmark, and no benchmark reads ``runs/``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("only", nargs="*", help="run only these (e.g. model export)")
    ap.add_argument("--scales", default="1,3,10")
    ap.add_argument("--big", action="store_true")
    ap.add_argument("--limit", default="60")
    ap.add_argument("--json")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    model_args = ["--scales", args.scales, "--limit", args.limit]
    model_args += ["--big"] if args.big else []
    model_args += ["--json", args.json] if args.json else []
    model_args += ["--quick"] if args.quick else []
    failed: list[str] = []
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if args.only and name not in args.only:
            continue
        if args.json and not args.only and name != "model":
            continue  # --json asks for the model figures only
        print(f"\n=== {script.name} ===", flush=True)
        extra = model_args if name == "model" else []
        code = subprocess.run([sys.executable, str(script), *extra], check=False).returncode
        if code != 0:
            failed.append(f"{script.name} (exit {code})")
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
