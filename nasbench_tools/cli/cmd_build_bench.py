"""``nbt build-bench SPACE --dataset NAME -o OUT.h5``: train cells into a tabular benchmark.

Resumable and idempotent: finished trainings live in a SQLite results file (``--db``, by
default ``OUT.runs.sqlite``); running the command again trains only what is missing, and a
larger ``--cells`` extends the same stratified cell order.

Examples
--------
>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> register(sub)
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from nasbench_tools.cli.argtypes import non_negative_float, positive_float, positive_int, seed

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``build-bench`` sub-command."""
    from nasbench_tools.trainer.datasets import DATASETS
    from nasbench_tools.trainer.executors import EXECUTORS
    from nasbench_tools.trainer.recipes import PRESETS

    p = subparsers.add_parser(
        "build-bench", help="build a tabular benchmark by training cells (resumable)",
        description="Train stratified unique cells x seeds with one recipe and write a store.",
    )
    p.add_argument("space", help="search space (nb201)")
    p.add_argument("--dataset", default="digits", help=f"one of {', '.join(DATASETS)}")
    p.add_argument("--data-root", default=None, help="directory of a disk dataset")
    p.add_argument("--preset", default="embedded", help=f"one of {', '.join(PRESETS)}")
    p.add_argument("--epochs", type=positive_int, default=None, help="override the preset's epochs")
    p.add_argument("--lr", type=positive_float, default=None, help="override the learning rate")
    p.add_argument("--batch-size", type=positive_int, default=None, help="override the batch size")
    p.add_argument("--cells", type=positive_int, default=None,
                   help="number of stratified unique cells (default: all)")
    p.add_argument("--seeds", type=seed, nargs="+", default=[0, 1, 2, 3])
    p.add_argument("--order-seed", type=seed, default=0, help="seed of the stratified order")
    p.add_argument("--kernel", default="packed", choices=["packed", "single", "multiarch"],
                   help="packed (default): all seeds of a cell trained together, vectorised; "
                   "multiarch: packs of many cells x seeds in one grouped network; "
                   "single: one training per seed (the kernel is part of each run's key)")
    p.add_argument("--pack", type=positive_int, default=None, metavar="N",
                   help="most trainings per pack (multiarch default: 32; packed: all seeds "
                   "of a cell)")
    p.add_argument("--time-limit", type=non_negative_float, default=None, metavar="SECONDS",
                   help="start no new training after this long; write the cells done so far")
    p.add_argument("--executor", default="serial", help=f"one of {', '.join(EXECUTORS)}")
    p.add_argument("--workers", type=positive_int, default=1, help="worker processes")
    p.add_argument("--scheduler", default=None,
                   help="address of an existing Dask scheduler, tcp://host:port (implies dask)")
    p.add_argument("--index-csv", default=None,
                   help="CSV with nb201_index,arch_str for official indices")
    p.add_argument("--db", default=None, help="results database (default: OUT.runs.sqlite)")
    p.add_argument("-o", "--output", required=True, help="store file to write (.h5)")
    p.set_defaults(func=run)


def command_line(args: argparse.Namespace) -> str:
    """The canonical ``nbt build-bench`` command that reproduces ``args`` (for metadata).

    Examples
    --------
    >>> ns = argparse.Namespace(space="nb201", dataset="digits", preset="embedded", epochs=None,
    ...     lr=None, batch_size=None, cells=40, seeds=[0, 1], order_seed=0, data_root=None,
    ...     index_csv=None, output="data/x.h5", kernel="packed")
    >>> command_line(ns)
    'nbt build-bench nb201 --dataset digits --preset embedded --cells 40 --seeds 0 1 --order-seed 0 --kernel packed -o data/x.h5'
    """
    parts = ["nbt", "build-bench", args.space, "--dataset", args.dataset, "--preset", args.preset]
    for flag, value in (("--epochs", args.epochs), ("--lr", args.lr),
                        ("--batch-size", args.batch_size), ("--cells", args.cells)):
        if value is not None:
            parts += [flag, str(value)]
    parts += ["--seeds", *map(str, args.seeds), "--order-seed", str(args.order_seed),
              "--kernel", getattr(args, "kernel", "single")]
    if getattr(args, "pack", None) is not None:
        parts += ["--pack", str(args.pack)]
    for flag, value in (("--data-root", args.data_root), ("--index-csv", args.index_csv)):
        if value is not None:
            parts += [flag, str(value)]
    parts += ["-o", str(args.output)]
    return " ".join(shlex.quote(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    """Build and write the store; returns the exit code."""
    from nasbench_tools.errors import OutOfDomainError, allowed
    from nasbench_tools.io import output_lock
    from nasbench_tools.store.format import read_metadata, write_store
    from nasbench_tools.trainer.build_bench import (
        BuildSpec,
        build_benchmark,
        other_build,
        seeds_arg,
    )
    from nasbench_tools.trainer.datasets import DATASETS
    from nasbench_tools.trainer.recipes import get_recipe

    if args.dataset not in DATASETS:
        raise OutOfDomainError(f"unknown --dataset {args.dataset!r}; allowed: {allowed(DATASETS)}")
    recipe = get_recipe(args.preset, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size)
    spec = BuildSpec(args.space, args.dataset, recipe, seeds_arg(args.seeds), args.cells,
                     args.order_seed, args.data_root, args.kernel)
    out = Path(args.output)
    db = Path(args.db) if args.db else out.with_name(out.name + ".runs.sqlite")
    executor = "dask" if args.scheduler else args.executor
    # One build of an output at a time: a second one is refused (BusyError) before training.
    with output_lock(out):
        if out.exists():  # resume from it, or refuse to overwrite another build's store
            reason = other_build(read_metadata(out), spec)
            if reason:
                raise OutOfDomainError(f"{out} exists and {reason}; choose another -o (or "
                                       "remove it)")
        result = build_benchmark(spec, db, executor=executor, workers=args.workers,
                                 max_pack=getattr(args, "pack", None),
                                 scheduler=args.scheduler, index_csv=args.index_csv,
                                 time_limit=args.time_limit, resume_from=out)
        write_store(result.table, out, command=command_line(args))
    s = result.summary
    sys.stdout.write(
        f"trained {s.stored} new run(s) ({len(s.failed)} failed, {s.duplicates} duplicate) in "
        f"{s.seconds:.0f} s; {len(result.table.keys)} complete cell(s) x {len(spec.seeds)} "
        f"seed(s) -> {out}\n"
    )
    sys.stdout.write(json.dumps(result.stats, indent=1) + "\n")
    return 1 if s.failed else 0
