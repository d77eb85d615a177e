"""Entry point of the ``nbt`` command.

Sub-commands live in modules ``nasbench_tools/cli/cmd_<name>.py``; each defines
``register(subparsers) -> None`` that adds its parser and sets ``func`` (a callable taking
the parsed ``argparse.Namespace`` and returning an exit code). They are discovered here, so
adding a command touches no shared file.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sqlite3
import sys
from collections.abc import Sequence
from typing import NoReturn

from nasbench_tools import __version__
from nasbench_tools.errors import NasBenchToolsError

log = logging.getLogger("nasbench_tools")


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (no usage dump), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _exit_now(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def build_parser() -> argparse.ArgumentParser:
    """Build the ``nbt`` parser with every discovered sub-command.

    Examples
    --------
    >>> parser = build_parser()
    >>> parser.prog
    'nbt'
    """
    parser = _Parser(
        prog="nbt", description="nasbench-tools: tabular NAS benchmarks, predictors, searchers."
    )
    parser.add_argument("--version", action="version", version=f"nasbench-tools {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import nasbench_tools.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"nasbench_tools.cli.{info.name}")
            module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``nbt`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a bad value (its one line is printed), --help or --version
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except NasBenchToolsError as exc:
        # A user error: one clear line, no traceback (use -vv to see it).
        log.debug("traceback", exc_info=True)
        sys.stderr.write(f"nbt {args.command}: error: {exc}\n")
        return 2
    except (OSError, sqlite3.OperationalError) as exc:
        # The system refused (disk full, file too large, permission, missing file): one
        # line naming the file; outputs are written atomically, so the previous ones stand.
        log.debug("traceback", exc_info=True)
        sys.stderr.write(f"nbt {args.command}: error: {exc}\n")
        fmt = sys.modules.get("nasbench_tools.store.format")
        if fmt is not None and fmt.hdf5_write_failed():
            # HDF5 crashes (SIGSEGV) when the objects of a file whose writes failed are
            # freed; the temporary file is already removed, so leave before that happens.
            _exit_now(1)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
