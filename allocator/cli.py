"""Command-line entry point ``allocator``.

Each sub-command lives in its own module under ``allocator/commands/`` and
exposes ``register(subparsers)``, which adds a parser whose ``func`` default
takes the parsed ``argparse.Namespace`` and returns an exit code. Errors reach
the user as one clear paragraph; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
import traceback
from collections.abc import Sequence

from allocator import commands
from allocator.errors import AllocatorError
from allocator.i18n import set_lang, t


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="allocator",
        description="综保区要素配置优化器 — bonded-zone resource allocator",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument(
        "--lang", choices=["zh", "en"], default=None, help="output language (default zh)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"allocator.commands.{info.name}")
        module.register(sub)
    return parser


class _NoteHandler(logging.Handler):
    """Print the library's notes (logger ``allocator``, warnings and up) to stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"[{t('problem.warning')}] {record.getMessage()}", file=sys.stderr)


def _log_notes() -> None:
    """Show the library's logged notes (e.g. a removed leftover, an edited run) once."""
    logger = logging.getLogger("allocator")
    if not any(isinstance(h, _NoteHandler) for h in logger.handlers):
        logger.addHandler(_NoteHandler(logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lang:
        set_lang(args.lang)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    _log_notes()
    try:
        return int(args.func(args) or 0)
    except AllocatorError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"{t('error.heading')}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # output piped into e.g. `head`, which closed early: not an error
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(t("cli.interrupted"), file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a bare traceback
        if args.debug:
            traceback.print_exc()
        print(t("error.internal", error=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
