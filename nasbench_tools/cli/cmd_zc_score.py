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
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from nasbench_tools.cli.argtypes import non_negative_float, positive_int, seed
from nasbench_tools.errors import FormatError, OutOfDomainError

log = logging.getLogger(__name__)

#: Store key of a cell, per space (default ``cell.to_string()``: NB201 / NATS strings).
_KEY_OF: dict[str, Callable[[Any], str]] = {"nb101": lambda c: str(c.hash)}


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


def select_cells(space: Any, n: int | None, seed: int) -> list[Any]:
    """All cells of ``space`` in a random order (seed ``[seed, 2]``), or the first ``n`` of it.

    The order is fixed by ``seed``, so ``--cells 3`` is a prefix of ``--cells 6``.

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> sp = get_space("nb201")
    >>> select_cells(sp, 6, 0)[:3] == select_cells(sp, 3, 0)
    True
    """
    total = int(space.size())
    if n is not None and n > total:
        raise OutOfDomainError(f"--cells {n} exceeds the {total} cells of {space.name}")
    order = np.random.default_rng([seed, 2]).permutation(total)
    if n is not None:
        order = order[:n]
    cells = space.all_cells()
    return [cells[int(i)] for i in order]


def scoring_order(proxy: Any, cells: Sequence[Any], seed: int) -> list[Any]:
    """One representative per isomorphism class of ``cells``, classes in a uniform random order.

    The order (sorted class keys permuted with seed ``[seed, 3]``) makes a run stopped
    early a uniform random sample of classes, hence every cell has the same chance to be
    scored (classes of many cells are not favoured).

    Examples
    --------
    >>> from nasbench_tools.spaces.nb201 import Cell
    >>> from predictors.zerocost import get_proxy
    >>> cells = [Cell(("none",) * 6), Cell(("nor_conv_3x3",) + ("none",) * 5)]
    >>> len(scoring_order(get_proxy("naswot"), cells, 0))  # isomorphic: one class
    1
    """
    unique = proxy.unique_cells(list(cells))
    keys = sorted(unique)
    return [unique[keys[i]] for i in np.random.default_rng([seed, 3]).permutation(len(keys))]


def _index_table(source: str) -> Any:
    """NB201 official index order from a CSV (``nb201_index,arch_str``) or a store."""
    from nasbench_tools.spaces.nb201 import Cell, IndexTable

    path = Path(source)
    if path.suffix.lower() == ".csv":
        return IndexTable.from_csv(path)
    from nasbench_tools.store import load_benchmark

    bench = load_benchmark(path)
    if bench.space != "nb201":
        raise FormatError(f"{path}: --index-from needs an nb201 store, this one is {bench.space!r}")
    indices = np.asarray(bench.indices, dtype=np.int64)
    if sorted(indices.tolist()) != list(range(len(indices))):
        raise FormatError(f"{path}: its official indices do not cover 0..{len(indices) - 1}")
    codes = np.empty(len(indices), dtype=np.int64)
    codes[indices] = [Cell.from_string(k).code for k in bench.keys]
    return IndexTable(codes)


def official_indices(space: Any, cells: Sequence[Any], index_from: str | None) -> tuple[np.ndarray, str]:
    """Store indices of ``cells`` and a sentence saying what they are.

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> sp = get_space("nb201")
    >>> idx, what = official_indices(sp, sp.all_cells()[:2], None)
    >>> idx.tolist(), what.split(":")[0]
    ([0, 1], 'Cell.code')
    """
    if space.name == "nb201":
        if index_from is None:
            return (
                np.array([c.code for c in cells], dtype=np.int64),
                "Cell.code: indices are the base-5 op code, NOT the official NB201 index "
                "(pass --index-from for official indices)",
            )
        table = _index_table(index_from)
        return (
            np.array([table.index_of(c) for c in cells], dtype=np.int64),
            f"official NB201 index (order read from {index_from})",
        )
    if space.name == "nats_sss":
        return np.array([c.index for c in cells], dtype=np.int64), "official NATS-SSS index"
    if index_from is not None:
        raise OutOfDomainError(f"--index-from is for nb201 only, not {space.name!r}")
    position = {c: i for i, c in enumerate(space.all_cells())}
    return (
        np.array([position[c] for c in cells], dtype=np.int64),
        f"position in {space.name} SPACE.all_cells()",
    )


def reference_taus(
    keys: Sequence[str],
    scores: np.ndarray,
    reference: str,
    targets: Sequence[str],
    compare: str | None,
) -> dict[str, Any]:
    """Kendall tau of ``scores`` against columns of a reference CSV keyed by ``arch_str``.

    Per target: tau over the cells with a score (NaN excluded, ``-inf`` kept: it ranks
    last) and a finite target; with ``compare`` (e.g. ``naswot_score``) also both taus on
    the cells where our score and that column are finite.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("arch_str,acc,theirs\\na,1,1\\nb,2,3\\nc,3,2\\n")
    >>> r = reference_taus(["a", "b", "c"], np.array([0.0, 1.0, 2.0]), str(p), ["acc"], "theirs")
    >>> r["acc"]["tau"], r["acc"]["compare"]["tau_compare"]
    (1.0, 0.333333)
    """
    import pandas as pd
    from scipy.stats import kendalltau

    table = pd.read_csv(reference)
    if "arch_str" not in table.columns:
        raise FormatError(f"{reference}: no column 'arch_str'; columns are {list(table.columns)}")
    table = table.set_index("arch_str")
    wanted = [*targets, *([compare] if compare else [])]
    missing = [c for c in wanted if c not in table.columns]
    if missing:
        raise FormatError(f"{reference}: no columns {missing}; columns are {list(table.columns)}")
    ref = table.reindex(list(keys))
    have = ~np.isnan(scores)
    out: dict[str, Any] = {"file": str(reference)}
    for target in targets:
        y = ref[target].to_numpy(dtype=np.float64)
        ok = have & np.isfinite(y)
        entry: dict[str, Any] = {
            "n_cells": int(ok.sum()),
            "tau": round(float(kendalltau(scores[ok], y[ok]).statistic), 6),
        }
        if compare:
            theirs = ref[compare].to_numpy(dtype=np.float64)
            both = ok & np.isfinite(scores) & np.isfinite(theirs)
            entry["compare"] = {
                "column": compare,
                "n_cells": int(both.sum()),
                "tau": round(float(kendalltau(scores[both], y[both]).statistic), 6),
                "tau_compare": round(float(kendalltau(theirs[both], y[both]).statistic), 6),
            }
        out[target] = entry
    return out


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
    for flag, value in (("--index-from", args.index_from), ("--reference", args.reference)):
        if value:
            parts += [flag, value]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    """Score, save the cache, write the store; print a one-line summary."""
    import torch

    if args.threads < 1:
        raise OutOfDomainError(f"--threads must be a positive integer, got {args.threads}")
    if args.threads > 1 and args.workers > 1:
        raise OutOfDomainError("--threads > 1 is for --workers 1 (each worker process uses one "
                               "thread); choose one way of using the cores")
    from nasbench_tools.io import output_lock

    threads_before = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        # One scoring run per output at a time: two would overwrite each other's cache.
        with output_lock(args.output):
            return _run(args)
    finally:
        torch.set_num_threads(threads_before)


def _run(args: argparse.Namespace) -> int:
    from nasbench_tools.spaces import get_space
    from nasbench_tools.store import DatasetTable, TableData, write_store
    from predictors.zerocost import get_proxy
    from predictors.zerocost.cache import ScoreCache
    from predictors.zerocost.scorer import score_classes

    space = get_space(args.space)
    n = parse_cells(args.cells)
    proxy = get_proxy(
        args.proxy, dataset=args.dataset, batch_size=args.batch_size, data=args.data,
        random_state=args.seed,
    )
    output = Path(args.output)
    cache = Path(args.cache) if args.cache else output.with_name(output.name + ".cache.h5")
    cells = select_cells(space, n, args.seed)
    indices, index_note = official_indices(space, cells, args.index_from)

    deadline = None if args.time_limit is None else time.monotonic() + args.time_limit
    stop = {"signal": False}

    def on_term(signum: int, frame: FrameType | None) -> None:
        log.warning("signal %d: stopping after the current cell", signum)
        stop["signal"] = True

    def should_stop() -> bool:
        return stop["signal"] or (deadline is not None and time.monotonic() > deadline)

    previous = signal.signal(signal.SIGTERM, on_term)
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(desc=f"{args.proxy} {space.name}", total=total, unit="class",
                       file=sys.stderr, smoothing=0.05)
        bar.update(done - bar.n)

    try:
        res = score_classes(
            proxy, scoring_order(proxy, cells, args.seed), cache, flush_every=args.flush_every, workers=args.workers,
            progress=None if args.quiet else progress, should_stop=should_stop,
        )
    finally:
        if bar is not None:
            bar.close()
        signal.signal(signal.SIGTERM, previous)

    # Store rows in index order; NaN for cells whose class is not scored (yet).
    keyer = _KEY_OF.get(space.name, lambda c: str(c.to_string()))
    order = np.argsort(indices, kind="stable")
    cells = [cells[i] for i in order]
    indices = indices[order]
    keys = [keyer(c) for c in cells]
    values = np.array([res.scores.get(proxy.key(c), np.nan) for c in cells], dtype=np.float64)
    feature = f"zc_{proxy.name}"
    totals = ScoreCache(cache).timing(proxy.metadata, space.name)
    info: dict[str, Any] = {
        **proxy.metadata,
        "feature": feature,
        "space": space.name,
        "cells": "all" if n is None else n,
        "selection": "cells: uniform random order from numpy default_rng([seed, 2]), --cells N "
        "takes its first N; classes scored in a uniform random order (default_rng([seed, 3]) "
        "over the sorted class keys), so a partial run is a uniform sample of classes",
        "index": index_note,
        "classes_total": res.n_classes,
        "classes_scored": len(res.scores),
        "cells_total": len(cells),
        "cells_scored": int((~np.isnan(values)).sum()),
        "complete": res.complete,
        "cache": str(cache),
        "compute_total": totals,
        "this_run": {
            "computed": res.computed, "cached_before": res.cached,
            "wall_seconds": round(res.wall_seconds, 3), "cpu_seconds": round(res.cpu_seconds, 3),
            "workers": args.workers,
        },
    }
    if args.reference:
        info["reference"] = reference_taus(
            keys, values, args.reference, args.reference_targets.split(","),
            args.reference_compare or None,
        )
    table = DatasetTable(
        proxy.dataset, (), (), (), np.empty((len(cells), 0, 0, 0), dtype=np.float32),
        features={feature: values},
    )
    out = write_store(
        TableData(space.name, keys, indices, {proxy.dataset: table}, provenance={"zero_cost": info}),
        output, command=command_line(args),
    )
    state = "complete" if res.complete else "PARTIAL"
    sys.stdout.write(
        f"{out}: {space.name}, {info['cells_scored']}/{len(cells)} cells scored "
        f"({len(res.scores)}/{res.n_classes} classes, {res.computed} computed now, {state}), "
        f"feature {feature!r} on dataset {proxy.dataset!r}\n"
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
