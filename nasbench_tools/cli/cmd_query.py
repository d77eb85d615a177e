"""``nbt query STORE ARCH``: look up one cell (not charged to any budget).

ARCH is a cell string, an official index or an NB101 hash. Without ``--metric`` every
metric stored at the chosen fidelity is printed, one ``name<TAB>value`` line each.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="nbt")
>>> register(p.add_subparsers())
>>> p.parse_args(["query", "s.h5", "7", "--epoch", "12"]).epoch
12
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from nasbench_tools.cli.argtypes import MAX_SEED, positive_int, seed
from nasbench_tools.errors import NotInBenchmarkError


def _arch(text: str) -> str | int:
    return int(text) if text.strip().isdigit() else text


def _seed(text: str) -> str | int:
    if text in ("mean", "random"):
        return text
    try:
        return seed(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be 'mean', 'random' or an integer seed in 0..{MAX_SEED}, got {text!r}"
        ) from None


def run(args: argparse.Namespace) -> int:
    """Print the value(s) of one cell."""
    import numpy as np

    from nasbench_tools.store import load_benchmark

    bench = load_benchmark(args.store)
    arch = _arch(args.arch)
    rng = np.random.default_rng(args.rng_seed) if args.seed == "random" else None
    metrics = [args.metric] if args.metric else list(bench.metrics(args.dataset))
    out: dict[str, Any] = {}
    errors: list[NotInBenchmarkError] = []
    for m in metrics:
        try:
            out[m] = bench.lookup(arch, m, dataset=args.dataset, epoch=args.epoch,
                                  seed=args.seed, rng=rng, budget=args.budget)
        except NotInBenchmarkError as exc:  # absent at this fidelity: skip, report if all are
            errors.append(exc)
    if not out:
        raise errors[0]
    row = bench.row(arch)
    if args.json:
        sys.stdout.write(json.dumps({"key": bench.keys[row], "index": int(bench.indices[row]),
                                     "values": out}) + "\n")
    elif args.metric:
        sys.stdout.write(f"{out[args.metric]!r}\n")
    else:
        sys.stdout.write(f"key\t{bench.keys[row]}\nindex\t{int(bench.indices[row])}\n")
        for m, v in out.items():
            sys.stdout.write(f"{m}\t{v!r}\n")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``query`` sub-command."""
    p = subparsers.add_parser("query", help="look up one cell of a store")
    p.add_argument("store", help="store file (.h5)")
    p.add_argument("arch", help="cell string, official index or NB101 hash")
    p.add_argument("--dataset", help="dataset (required if the store has several)")
    p.add_argument("--metric", help="one metric (default: all stored metrics)")
    p.add_argument("--epoch", type=positive_int, help="epoch (default: final epoch of largest budget)")
    p.add_argument("--budget", type=positive_int, help="training-schedule length (default: = epoch)")
    p.add_argument("--seed", type=_seed, default="mean", help="'mean', 'random' or an int seed")
    p.add_argument("--rng-seed", type=seed, default=0, help="generator seed for --seed random")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)
