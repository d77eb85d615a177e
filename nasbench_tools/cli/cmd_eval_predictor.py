"""``nbt eval-predictor``: rank a benchmark's cells with predictors and report the metrics.

Example::

    nbt eval-predictor --bench nb201.h5 --dataset cifar10-valid --metric val_accuracy \\
        --epoch 200 --predictors gbdt,renas,naswot --features onehot,onehot+naswot+params \\
        --train-sizes 100,400,1000 --seeds 5 --output results/

Prints the Kendall-tau table (mean ± std over seeds) as markdown; with ``--output DIR``
writes ``results.csv``, ``summary.md``, ``scatter.png``, ``tau_vs_train_size.png`` and
``command.txt`` there (atomically). ``--features-from STORE[:FEATURE,...]`` adds feature
columns of another store, joined by cell key (``predictors.features_from``), usable in
feature-set names such as ``onehot+graph+zc_naswot+params+flops`` and as the
training-free predictor ``column:zc_naswot``. See ``docs/predictors.md``.

Examples
--------
>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> register(sub)
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from nasbench_tools.cli.argtypes import positive_int
from nasbench_tools.errors import OutOfDomainError

__all__ = ["command_line", "register", "run"]


def _int_list(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def register(subparsers: Any) -> None:
    """Add the ``eval-predictor`` sub-command."""
    p = subparsers.add_parser(
        "eval-predictor",
        help="evaluate performance predictors on a benchmark (Kendall tau, precision@k, ...)",
        description=(
            "Train each predictor on random cells of a store and rank all the other cells; "
            "training-free scorers rank every cell (train size 0)."
        ),
    )
    p.add_argument(
        "--bench", default=None, help="store file (.h5) written by nbt convert (required)"
    )
    p.add_argument("--dataset", default=None, help="dataset of the target (default: the store's)")
    p.add_argument("--metric", default="val_accuracy", help="target metric (default val_accuracy)")
    p.add_argument("--epoch", type=positive_int, default=None, help="target epoch (default: the last)")
    p.add_argument(
        "--predictors",
        default="gbdt",
        help="comma-separated registered predictors, column:<name> (rank by an extra column, "
        "e.g. column:zc_naswot), or 'all' (see docs/predictors.md)",
    )
    p.add_argument(
        "--features",
        default=None,
        help="comma-separated feature sets, or 'all' (default: each predictor's own); a name "
        "that is not registered is composed of '+'-joined parts, e.g. "
        "onehot+graph+zc_naswot+params+flops",
    )
    p.add_argument(
        "--features-from",
        action="append",
        default=None,
        metavar="STORE[:FEATURE[,FEATURE...]]",
        help="add feature columns of another store of the same space (default: all its "
        "features), joined to the benchmark's cells by cell key; NaN and -inf are imputed "
        "with the column minimum; repeatable",
    )
    p.add_argument(
        "--train-sizes", type=_int_list, default=[100, 400, 1000], help="e.g. 100,400,1000"
    )
    p.add_argument("--seeds", type=positive_int, default=5, help="number of seeds (0 .. N-1)")
    p.add_argument("--k", type=positive_int, default=100, help="k of precision@k and top-k overlap")
    p.add_argument("--n-jobs", type=positive_int, default=1, help="threads per model")
    p.add_argument(
        "--max-scorer-cells",
        type=int,
        default=1000,
        help="cells scored per seed by network-building zero-cost scorers",
    )
    p.add_argument("--output", default=None, help="directory for results.csv, summary.md, plots")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--list", action="store_true", help="list predictors and feature sets, then exit"
    )
    p.set_defaults(func=run)


def _listing() -> str:
    from predictors.features import BLOCKS, COLUMN_GROUPS, ENCODINGS, FEATURE_SETS
    from predictors.registry import PREDICTORS, zerocost_scorers

    zerocost_scorers()
    lines = ["predictors:"]
    lines += [f"  {n:<14} {s.kind:<8} {s.description}" for n, s in PREDICTORS.items()]
    lines.append("  column:<name>  column   rank by any extra column, e.g. column:zc_naswot")
    lines.append("feature sets:")
    lines += [f"  {n:<22} {fs.description}" for n, fs in FEATURE_SETS.items()]
    lines.append(
        "  or '+'-joined parts: encodings "
        + ", ".join(ENCODINGS)
        + "; blocks "
        + ", ".join(BLOCKS)
        + "; groups "
        + ", ".join(f"{g} ({'+'.join(c)})" for g, c in COLUMN_GROUPS.items())
        + "; any extra column (params, flops, stored features, --features-from columns)"
    )
    return "\n".join(lines) + "\n"


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces ``args`` (every option spelled out, shell-quoted).

    Examples
    --------
    >>> ns = argparse.Namespace(bench="b.h5", dataset=None, metric="val_accuracy", epoch=200,
    ...     predictors="gbdt", features=None, train_sizes=[10, 20], seeds=2, k=5, n_jobs=1,
    ...     max_scorer_cells=1000, output="out")
    >>> command_line(ns)
    'nbt eval-predictor --bench b.h5 --metric val_accuracy --epoch 200 --predictors gbdt --train-sizes 10,20 --seeds 2 --k 5 --n-jobs 1 --max-scorer-cells 1000 --output out'
    """
    words = ["nbt", "eval-predictor", "--bench", str(args.bench)]
    for spec in getattr(args, "features_from", None) or []:
        words += ["--features-from", str(spec)]
    for flag, value in (
        ("--dataset", args.dataset),
        ("--metric", args.metric),
        ("--epoch", args.epoch),
        ("--predictors", args.predictors),
        ("--features", args.features),
        ("--train-sizes", ",".join(str(s) for s in args.train_sizes)),
        ("--seeds", args.seeds),
        ("--k", args.k),
        ("--n-jobs", args.n_jobs),
        ("--max-scorer-cells", args.max_scorer_cells),
        ("--output", args.output),
    ):
        if value is not None:
            words += [flag, str(value)]
    return " ".join(shlex.quote(w) for w in words)


def run(args: argparse.Namespace) -> int:
    """Run the evaluation; print the tau table; write the output directory if asked."""
    if args.list:
        sys.stdout.write(_listing())
        return 0
    if not args.bench:
        raise OutOfDomainError("--bench STORE is required (a store written by nbt convert)")
    from nasbench_tools.store import load_benchmark
    from predictors.evaluate import EvalData, run_evaluation, summarize, to_markdown, write_report
    from predictors.features_from import load_features_from

    if args.seeds < 1:
        raise OutOfDomainError(f"--seeds must be >= 1; got {args.seeds}")
    bench = load_benchmark(args.bench)
    extras = load_features_from(
        args.features_from or [], bench.keys, space=bench.space, dataset=args.dataset
    )
    data = EvalData.from_benchmark(
        bench, metric=args.metric, dataset=args.dataset, epoch=args.epoch, extras=extras
    )
    report = run_evaluation(
        data,
        predictors=args.predictors,
        feature_sets=args.features,
        train_sizes=args.train_sizes,
        seeds=args.seeds,
        k=args.k,
        n_jobs=args.n_jobs,
        max_scorer_cells=args.max_scorer_cells,
        progress=not args.quiet,
    )
    sys.stdout.write(to_markdown(summarize(report.table, "kendall_tau")) + "\n")
    if args.output:
        paths = write_report(report, args.output, command=command_line(args))
        sys.stdout.write(f"wrote {len(paths)} files to {args.output}\n")
    return 0
