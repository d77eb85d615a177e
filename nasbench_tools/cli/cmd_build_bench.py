"""``nbt build-bench SPACE --dataset NAME -o OUT.h5``: train cells into a tabular benchmark.

Resumable and idempotent: finished trainings live in a SQLite results file (``--db``, by
default ``OUT.runs.sqlite``); running the command again trains only what is missing, and a
larger ``--cells`` extends the same cell order (NB201: stratified unique cells; NB101: a
uniform sample of the unique cells, after the cells of ``--include-csv`` files).
A progress bar on stderr counts the missing trainings (``--quiet`` hides it);
``--time-limit`` and ``SIGTERM`` stop the build early and still write the store with the
cells completed so far (a hard kill loses only the trainings in flight: the results file
keeps the rest, and the next run writes the store).

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

from nasbench_tools.cli.argtypes import (
    SeedsAction,
    non_negative_float,
    positive_float,
    positive_int,
    seed,
    seed_range,
)

__all__ = ["DEFAULT_PRESETS", "register", "run"]

#: Space -> recipe preset used when ``--preset`` is not given.
DEFAULT_PRESETS: dict[str, str] = {"nb201": "embedded", "nb101": "embedded-nb101"}


def register(subparsers: Any) -> None:
    """Add the ``build-bench`` sub-command."""
    from nasbench_tools.trainer.datasets import DATASETS
    from nasbench_tools.trainer.executors import EXECUTORS
    from nasbench_tools.trainer.recipes import PRESETS

    p = subparsers.add_parser(
        "build-bench", help="build a tabular benchmark by training cells (resumable)",
        description="Train stratified unique cells x seeds with one recipe and write a store.",
    )
    p.add_argument("space", help=f"search space ({', '.join(DEFAULT_PRESETS)})")
    p.add_argument("--dataset", default="digits", help=f"one of {', '.join(DATASETS)}")
    p.add_argument("--data-root", default=None, help="directory of a disk dataset")
    p.add_argument("--preset", default=None,
                   help=f"one of {', '.join(PRESETS)} (default: "
                   + ", ".join(f"{v} for {k}" for k, v in DEFAULT_PRESETS.items()) + ")")
    p.add_argument("--epochs", type=positive_int, default=None, help="override the preset's epochs")
    p.add_argument("--lr", type=positive_float, default=None, help="override the learning rate")
    p.add_argument("--batch-size", type=positive_int, default=None, help="override the batch size")
    p.add_argument("--cells", type=positive_int, default=None,
                   help="number of unique cells of the space's order, stratified (nb201) or "
                   "uniform (nb101), after the --include-csv cells (default: all)")
    p.add_argument("--include-csv", nargs="+", default=None, metavar="CSV",
                   help="nb101: CSVs of cells (nb101_hash, matrix, ops and an official "
                   "accuracy, e.g. ../shared/data/nb101/*.csv) trained first; the build "
                   "reports the Kendall tau of its accuracies against theirs")
    p.add_argument("--seeds", type=seed_range, nargs="+", action=SeedsAction, default=[0, 1, 2, 3],
                   help="training seeds: integers and inclusive ranges A..B, e.g. 0..11 "
                        "(default 0 1 2 3); the store's command lists them one by one")
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
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
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
    >>> ns.include_csv = ["a.csv", "b.csv"]
    >>> command_line(ns).endswith("--include-csv a.csv b.csv -o data/x.h5")
    True
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
    if getattr(args, "include_csv", None):
        parts += ["--include-csv", *map(str, args.include_csv)]
    parts += ["-o", str(args.output)]
    return " ".join(shlex.quote(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    """Build and write the store; returns the exit code."""
    from nasbench_tools.cli.long_run import progress_bar, stop_on_sigterm
    from nasbench_tools.errors import OutOfDomainError, allowed
    from nasbench_tools.io import output_lock
    from nasbench_tools.store.format import read_metadata, write_store
    from nasbench_tools.trainer.build_bench import (
        CELL_ORDERS,
        BuildSpec,
        build_benchmark,
        other_build,
        read_include_csv,
        seeds_arg,
    )
    from nasbench_tools.trainer.datasets import DATASETS
    from nasbench_tools.trainer.recipes import get_recipe

    if args.dataset not in DATASETS:
        raise OutOfDomainError(f"unknown --dataset {args.dataset!r}; allowed: {allowed(DATASETS)}")
    if args.space not in CELL_ORDERS:
        raise OutOfDomainError(f"build-bench cannot build space {args.space!r}; allowed: "
                               f"{allowed(CELL_ORDERS)}")
    if args.index_csv is not None and args.space != "nb201":
        raise OutOfDomainError(f"--index-csv gives NB201 indices; not for space {args.space!r} "
                               "(NB101 stores are keyed by module hash)")
    if args.preset is None:
        args.preset = DEFAULT_PRESETS[args.space]
    include: list[str] = []
    official: dict[str, float] = {}
    for path in getattr(args, "include_csv", None) or ():
        for cell, acc in read_include_csv(args.space, path):
            include.append(cell.to_string())
            official.setdefault(cell.hash, acc)
    recipe = get_recipe(args.preset, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size)
    spec = BuildSpec(args.space, args.dataset, recipe, seeds_arg(args.seeds), args.cells,
                     args.order_seed, args.data_root, args.kernel, tuple(include))
    out = Path(args.output)
    db = Path(args.db) if args.db else out.with_name(out.name + ".runs.sqlite")
    executor = "dask" if args.scheduler else args.executor
    # One build of an output at a time: a second one is refused (BusyError) before training.
    # SIGTERM ends the build as --time-limit does: the store is still written.
    with (stop_on_sigterm("stopping after the trainings in flight; the store is then written")
          as stopped,
          progress_bar(f"build-bench {args.space}", "training",
                       enabled=not getattr(args, "quiet", False)) as bar,
          output_lock(out)):
        if out.exists():  # resume from it, or refuse to overwrite another build's store
            reason = other_build(read_metadata(out), spec)
            if reason:
                raise OutOfDomainError(f"{out} exists and {reason}; choose another -o (or "
                                       "remove it)")
        result = build_benchmark(spec, db, executor=executor, workers=args.workers,
                                 max_pack=getattr(args, "pack", None),
                                 scheduler=args.scheduler, index_csv=args.index_csv,
                                 time_limit=args.time_limit, resume_from=out,
                                 official=official or None, progress=bar,
                                 should_stop=stopped)
        write_store(result.table, out, command=command_line(args))
    s = result.summary
    sys.stdout.write(
        f"trained {s.stored} new run(s) ({len(s.failed)} failed, {s.duplicates} duplicate) in "
        f"{s.seconds:.0f} s; {len(result.table.keys)} complete cell(s) x {len(spec.seeds)} "
        f"seed(s) -> {out}\n"
    )
    sys.stdout.write(json.dumps(result.stats, indent=1) + "\n")
    return 1 if s.failed else 0
