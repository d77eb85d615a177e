"""``nbt reproduce``: run a paper's table with its protocol and compare with the published numbers.

``nbt reproduce --list`` shows every table, its paper, the data it needs and whether the
given (``--bench``) or shipped (``data/*.h5``) stores and the shared files have it.
``nbt reproduce TABLE [TABLE ...] --bench STORE [--bench STORE2 ...] [--runs N]
[--output DIR]`` (or ``all``) runs the tables into ``DIR/<table>/`` (resumable: the runs
are kept in ``DIR/<table>/runs.sqlite``) and prints each as markdown: published mean ± std,
ours, the difference in published stds, RI against random search and a verdict.
``--readme README.md`` regenerates that file's section between ``<!-- reproduce:begin -->``
and ``<!-- reproduce:end -->`` from the outputs in ``DIR``. See ``docs/reproduce.md``.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="nbt")
>>> register(p.add_subparsers())
>>> a = p.parse_args(["reproduce", "nb201-search", "--bench", "s.h5", "--runs", "10"])
>>> a.tables, a.bench, a.runs
(['nb201-search'], ['s.h5'], 10)
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "reproduce"


def run(args: argparse.Namespace) -> int:
    """List, run or summarise tables; returns the exit code."""
    from nasbench_tools.errors import OutOfDomainError
    from nasbench_tools.reproduce import list_tables, load_published, run_table
    from nasbench_tools.reproduce.tables import check_names

    shared = Path(args.shared) if args.shared else None
    # A store the user names must exist: a typo is a bad value (exit 2), not missing data.
    for store in args.bench or []:
        if not Path(store).is_file():
            raise OutOfDomainError(f"--bench {store}: no such store file (give an .h5 store "
                                   "made by nbt convert, or leave --bench out to use data/)")
    if args.list:
        sys.stdout.write("\n".join(list_tables(args.bench or [], shared)) + "\n")
        return 0
    output = Path(args.output) if args.output else DEFAULT_OUTPUT
    if args.readme:
        from nasbench_tools.reproduce.readme import replace_section

        replace_section(args.readme, output)
        sys.stdout.write(f"regenerated the reproduce section of {args.readme} from {output}\n")
        if not args.tables:
            return 0
    if not args.tables:
        raise OutOfDomainError("name a table (or all), or give --list or --readme")
    if args.runs is not None and args.runs < 1:
        raise OutOfDomainError(f"--runs must be >= 1, got {args.runs}")
    names = check_names(args.tables)
    published = load_published(args.published)
    command = "nbt " + shlex.join(sys.argv[1:]) if args.command_text is None else args.command_text
    missing_any = False
    for name in names:
        outcome = run_table(name, stores=args.bench or [], output=output, published=published,
                            runs=args.runs, shared=shared, progress=not args.no_progress,
                            command=command)
        sys.stdout.write(outcome.markdown + "\n")
        missing_any = missing_any or bool(outcome.missing)
        if outcome.out_dir is not None:
            sys.stdout.write(f"(outputs in {outcome.out_dir})\n\n")
    return 1 if missing_any and len(names) == 1 else 0


def register(subparsers: Any) -> None:
    """Add the ``reproduce`` sub-command."""
    p = subparsers.add_parser(
        "reproduce", help="run a paper's table and compare with the published numbers",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("tables", nargs="*", help="table id(s) or 'all' (see --list)")
    p.add_argument("--list", action="store_true", help="every table and the data it needs")
    p.add_argument("--bench", action="append", help="store file (.h5), repeatable")
    p.add_argument("--runs", type=int, help="runs (searches) or seeds (predictors); default: "
                   "the paper's (500 search runs)")
    p.add_argument("--output", help=f"output root (default {DEFAULT_OUTPUT})")
    p.add_argument("--published", help="directory of published CSVs (default "
                   "benchmarks/published or $NBT_PUBLISHED)")
    p.add_argument("--shared", help="shared data directory (default ../shared/data or "
                   "$NBT_SHARED)")
    p.add_argument("--readme", help="regenerate this file's reproduce section from --output")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--command-text", help=argparse.SUPPRESS)
    p.set_defaults(func=run)
