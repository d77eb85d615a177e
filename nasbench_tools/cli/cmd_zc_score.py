"""``nbt zc-score SPACE --proxy naswot -o OUT.h5``: zero-cost scores of a space, as a store.

Scores every cell of the space (``--cells all``) or a random subset (``--cells N``) with a
proxy of :mod:`predictors.zerocost`, one network per isomorphism class, and writes a store
(``docs/store-format.md``) whose dataset ``--dataset`` holds the feature ``zc_<proxy>`` and
no metrics (zero-length seed, fidelity and metric axes). Read it with
``load_benchmark(OUT).feature("zc_naswot")``.

Resumable: scores go to an HDF5 score cache (``--cache``, default ``OUT.cache.h5``) that is
rewritten atomically every ``--flush-every`` new scores; a killed run loses at most that many
and re-running the same command continues. ``--time-limit``, ``Ctrl-C`` and ``SIGTERM`` stop
the run early and still write the store, with NaN (the store's "missing") for the cells not
scored yet.

The work is done by :func:`predictors.zerocost.score_space` (the same call from Python);
this module parses the arguments, handles ``SIGTERM``, shows the progress bar and prints
the summary.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="nbt")
>>> register(p.add_subparsers())
>>> a = p.parse_args(["zc-score", "nb201", "--cells", "6", "-o", "zc.h5"])
>>> a.proxy, a.cells, a.batch_size, a.dataset
('naswot', '6', 128, 'cifar10')
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from typing import Any

from nasbench_tools.cli.argtypes import non_negative_float, positive_int, seed
from nasbench_tools.cli.long_run import progress_bar, stop_on_sigterm
from nasbench_tools.errors import OutOfDomainError

log = logging.getLogger(__name__)

def parse_cells(value: str) -> int | None:
    """``"all"`` -> None, ``"N"`` -> N (a positive integer).

    Examples
    --------
    >>> parse_cells("all"), parse_cells("12")
    (None, 12)
    """
    if value == "all":
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise OutOfDomainError(f"--cells must be 'all' or a positive integer, got {value!r}")
    return n


def command_line(args: argparse.Namespace) -> str:
    """The canonical ``nbt zc-score`` command for ``args`` (recorded in the store).

    Examples
    --------
    >>> p = argparse.ArgumentParser(prog="nbt")
    >>> register(p.add_subparsers())
    >>> command_line(p.parse_args(["zc-score", "nb201", "-o", "o.h5", "--cells", "5"]))
    'nbt zc-score nb201 -o o.h5 --proxy naswot --dataset cifar10 --data digits --batch-size 128 --seed 0 --cells 5'
    """
    parts = [
        "nbt", "zc-score", args.space, "-o", args.output, "--proxy", args.proxy,
        "--dataset", args.dataset, "--data", args.data, "--batch-size", str(args.batch_size),
        "--seed", str(args.seed), "--cells", args.cells,
    ]
    for flag, value in (("--index-from", args.index_from), ("--reference", args.reference),
                        ("--cells-from", args.cells_from)):
        if value:
            parts += [flag, value]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    """Score with :func:`predictors.zerocost.score_space`; print a one-line summary."""
    from nasbench_tools.io import output_lock
    from nasbench_tools.spaces import get_space
    from predictors.zerocost import get_proxy, score_space
    from predictors.zerocost.space_scoring import read_cell_list

    n = parse_cells(args.cells)
    cells: Any = "all" if n is None else n
    if args.cells_from:
        cells = read_cell_list(get_space(args.space), args.cells_from)
    proxy = get_proxy(
        args.proxy, dataset=args.dataset, batch_size=args.batch_size, data=args.data,
        random_state=args.seed,
    )
    # One scoring run per output at a time: two would overwrite each other's cache.
    with (stop_on_sigterm("stopping after the current cell") as stopped,
          progress_bar(f"{args.proxy} {args.space}", "class", enabled=not args.quiet) as bar,
          output_lock(args.output)):
        res = score_space(
            args.space, proxy, cells=cells, seed=args.seed,
            store=args.output, cache=args.cache, index_from=args.index_from,
            reference=args.reference, reference_targets=args.reference_targets.split(","),
            reference_compare=args.reference_compare or None, workers=args.workers,
            threads=args.threads, flush_every=args.flush_every, time_limit=args.time_limit,
            should_stop=stopped, progress=bar, command=command_line(args),
        )
    state = "complete" if res.complete else "PARTIAL"
    sys.stdout.write(
        f"{res.store}: {res.space}, {res.cells_scored}/{res.cells_total} cells scored "
        f"({res.classes_scored}/{res.classes_total} classes, {res.computed} computed now, "
        f"{state}), feature {res.feature!r} on dataset {res.dataset!r}\n"
    )
    return 0


def register(subparsers: Any) -> None:
    """Add the ``zc-score`` sub-command (imports no torch: proxies are checked in ``run``)."""
    p = subparsers.add_parser(
        "zc-score",
        help="score a search space with a zero-cost proxy and write the scores as a store",
        description="Zero-cost scores of all (or N random) cells of a space, one network per "
        "isomorphism class, cached and resumable, written as a store with the feature "
        "zc_<proxy> (see docs/zero-cost.md).",
    )
    p.add_argument("space", choices=["nb101", "nb201", "nats_sss"], help="search space")
    p.add_argument("--proxy", default="naswot",
                   help="a proxy of predictors.zerocost.PROXIES (naswot, synflow, snip, ...; "
                   "default naswot)")
    p.add_argument("--dataset", default="cifar10",
                   help="network head / resolution and the store's dataset (default cifar10)")
    p.add_argument("--data", default="digits",
                   help="'digits' (scikit-learn, default) or a CIFAR / ImageNet16 directory")
    p.add_argument("--batch-size", type=positive_int, default=128, help="minibatch size (default 128)")
    p.add_argument("--seed", type=seed, default=0,
                   help="proxy random_state and the cell order (default 0)")
    p.add_argument("--cells", default="all", help="'all' (default) or N random cells")
    p.add_argument("--cells-from", metavar="FILE",
                   help="score only the cells listed in FILE (a CSV with an arch_str column, or "
                   "one cell string per line); overrides --cells")
    p.add_argument("--workers", type=positive_int, default=1, help="processes (default 1)")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="torch threads of the scoring process when --workers is 1 (default 1; "
                   "on 2 cores, --threads 2 beat --workers 2, see docs/zero-cost.md)")
    p.add_argument("-o", "--output", required=True, help="store file to write (atomically)")
    p.add_argument("--cache", help="resumable score cache (default OUTPUT.cache.h5)")
    p.add_argument("--flush-every", type=positive_int, default=50,
                   help="save the cache every N new scores (default 50)")
    p.add_argument("--time-limit", type=non_negative_float, metavar="SECONDS",
                   help="stop scoring after this long and write a partial store")
    p.add_argument("--index-from", metavar="STORE_OR_CSV",
                   help="nb201: official index order from a store or a CSV with "
                   "nb201_index,arch_str (default: indices = Cell.code)")
    p.add_argument("--reference", metavar="CSV",
                   help="CSV with arch_str and accuracy columns: record Kendall taus in the store")
    p.add_argument("--reference-targets", default="cifar10_valid_xvalid_acc,cifar10_test_acc",
                   help="comma-separated target columns of --reference")
    p.add_argument("--reference-compare", default="naswot_score",
                   help="score column of --reference to compare with ('' for none)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
