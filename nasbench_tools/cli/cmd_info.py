"""``nbt info STORE``: spaces, datasets, metrics, fidelities, seeds, counts, provenance.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="nbt")
>>> register(p.add_subparsers())
>>> p.parse_args(["info", "s.h5", "--json"]).json
True
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Print the store summary (text or JSON)."""
    from nasbench_tools.store import load_benchmark

    info = load_benchmark(args.store).info()
    if args.json:
        sys.stdout.write(json.dumps(dataclasses.asdict(info), indent=2, default=str) + "\n")
    else:
        sys.stdout.write(info.render() + "\n")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``info`` sub-command."""
    p = subparsers.add_parser("info", help="describe a store: datasets, metrics, provenance")
    p.add_argument("store", help="store file (.h5)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)
