"""``nbt convert SRC [SRC...] -o STORE.h5``: official files / CSV tables -> one store.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="nbt")
>>> register(p.add_subparsers())
>>> p.parse_args(["convert", "a.csv", "-o", "s.h5"]).output
's.h5'
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from nasbench_tools.errors import FormatError


def command_line(args: argparse.Namespace) -> str:
    """The canonical ``nbt convert`` command for ``args`` (recorded in the store).

    Examples
    --------
    >>> command_line(argparse.Namespace(sources=["a b.csv"], output="s.h5", format=None,
    ...                                 recipe=None, no_curves=False))
    "nbt convert 'a b.csv' -o s.h5"
    """
    parts = ["nbt", "convert", *args.sources, "-o", args.output]
    if args.format:
        parts += ["--format", args.format]
    if args.recipe:
        parts += ["--recipe", args.recipe]
    if args.no_curves:
        parts.append("--no-curves")
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    """Convert, merge and write; print the store path and a one-line summary."""
    from nasbench_tools.store.converters.registry import convert_to_store
    from nasbench_tools.store.format import read_metadata

    options: dict[str, Any] = {}
    if args.recipe:
        try:
            options["recipe"] = json.loads(Path(args.recipe).read_text())
        except (OSError, ValueError) as exc:
            raise FormatError(f"cannot read recipe {args.recipe!r}: {exc}") from exc
    if args.no_curves:
        options["curves"] = False
    out = convert_to_store(
        args.sources, args.output, command=command_line(args), fmt=args.format,
        options=options, progress=not args.quiet and sys.stderr.isatty(),
    )
    meta = read_metadata(out)
    sys.stdout.write(
        f"{out}: {meta.space}, {meta.n_cells} cells, datasets {', '.join(meta.datasets)}\n"
    )
    return 0


def register(subparsers: Any) -> None:
    """Add the ``convert`` sub-command."""
    from nasbench_tools.store.converters.registry import REGISTRY

    p = subparsers.add_parser(
        "convert",
        help="convert official benchmark files or CSV tables into one store (HDF5)",
        description="Convert benchmark files into one nasbench-tools store. Formats: "
        + "; ".join(f"{k}: {c.description}" for k, c in REGISTRY.items())
        + ". Several sources of one space are merged by official index.",
    )
    p.add_argument("sources", nargs="+", help="files or fast-mode directories")
    p.add_argument("-o", "--output", required=True, help="store file to write (atomically)")
    p.add_argument("--format", choices=sorted(REGISTRY), help="force a format (default: detect)")
    p.add_argument("--recipe", help="JSON recipe for a CSV layout nbt does not recognise")
    p.add_argument("--no-curves", action="store_true",
                   help="keep only final epochs (official NB201 / NATS files)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)
