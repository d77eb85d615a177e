"""``nbt search``: many budgeted runs of a searcher on a store, with resumable results.

``nbt search --bench STORE --algo rea --runs 500 --budget-seconds 12000 --output DIR``
writes ``DIR/runs.sqlite`` (one transaction per finished run; a restart resumes),
``DIR/runs.csv``, ``DIR/summary.csv``, trajectory plots ``DIR/trajectory_*.png`` and
``DIR/command.txt`` (every command that filled the database, one per line; the CSVs cover
all of its experiments, the plots those of the command), and prints the summary (mean +- std of the final pick's metrics).
Unless ``--baseline none``, random search runs with the same budget and seeds (label
``rs-baseline``, or the requested ``rs``), and the summary gains the relative improvement
over it, ``ri_<metric>`` = 100 x (method - random) / random (Yang et al. 2020).

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="nbt")
>>> register(p.add_subparsers())
>>> a = p.parse_args(["search", "--bench", "s.h5", "--algo", "rea", "--budget-queries", "100"])
>>> a.algo, a.runs, a.budget_queries, a.population_size
(['rea'], 500, 100, 10)
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nasbench_tools.cli.argtypes import (
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    seed,
)
from nasbench_tools.errors import OutOfDomainError, allowed

log = logging.getLogger(__name__)


def _scorer(args: argparse.Namespace, ctx: dict[str, Any]) -> Any:
    from nasbench_tools.search.naswot import ArrayScorer

    name: str = args.scores
    if name.startswith("zc:"):
        from predictors.registry import get_predictor

        return get_predictor(name[3:]).build()
    bench, ev = ctx["bench"], ctx["evaluator"]
    try:
        column = bench.feature(name)
    except Exception as exc:  # the store names what it has
        raise OutOfDomainError(f"cannot read score column {name!r}: {exc}") from exc
    return ArrayScorer.by_code(ev.per_code(column), ctx["space"])


def _metric_column(source: Any, name: str) -> Any:
    """Feature ``name`` of ``source``; ``log_<feature>`` = its ``sign(x) log10(1 + |x|)``
    (``predictors.features.signed_log10``) when the store has no feature of that name."""
    import numpy as np

    from predictors.features import LOG_PREFIX, signed_log10

    if name.startswith(LOG_PREFIX) and name not in source.features():
        return signed_log10(np.asarray(source.feature(name[len(LOG_PREFIX):]), dtype=np.float64))
    return np.asarray(source.feature(name), dtype=np.float64)


def _robot(args: argparse.Namespace, ctx: dict[str, Any]) -> dict[str, Any]:
    """RoBoT's metrics (``--metrics``) as per-code scorers, and the pool where all are known.

    ``--metrics FEATURE[,...]`` reads features of ``--bench``; ``--metrics STORE:FEATURE[,...]``
    reads another store of the same space (e.g. ``nbt zc-score`` output), joined by cell key.
    ``log_FEATURE`` reads FEATURE through a signed log10 (synflow spans 50 decades, which
    min-max normalisation would flatten to 0 for almost every cell).
    """
    import numpy as np

    from nasbench_tools.search.base import code_layout
    from nasbench_tools.search.naswot import ArrayScorer
    from nasbench_tools.store import load_benchmark

    if not args.metrics:
        raise OutOfDomainError(
            "--algo robot needs --metrics [STORE:]FEATURE[,FEATURE...] (repeatable), e.g. "
            "--metrics data/nb201_zc_synflow_digits_pool725.h5:zc_synflow"
        )
    space, ev = ctx["space"], ctx["evaluator"]
    layout = code_layout(space.name)
    names: list[str] = []
    by_code: list[np.ndarray] = []
    for spec in args.metrics:
        path, _, features = spec.rpartition(":")
        source = load_benchmark(path) if path else ctx["bench"]
        for name in features.split(","):
            try:
                column = _metric_column(source, name)
            except Exception as exc:  # the store names what it has
                raise OutOfDomainError(f"cannot read metric {name!r} of {spec!r}: {exc}") from exc
            if path:
                values = np.full(layout.size, np.nan)
                codes = [layout.to_code(space.parse(k)) for k in source.keys]
                values[codes] = column
            else:
                values = ev.per_code(column)
            names.append(name if not path else f"{Path(path).stem}:{name}")
            by_code.append(values)
    stack = np.column_stack(by_code)
    known = np.flatnonzero(np.isfinite(stack).all(axis=1) & np.isfinite(ev.per_code(
        np.zeros(len(ctx["bench"].keys)))))
    if len(known) == 0:
        raise OutOfDomainError(f"no cell has every metric of {args.metrics} (and a table row)")
    log.info("RoBoT pool: %d cells with all %d metrics", len(known), len(names))
    return {
        "scorers": [ArrayScorer.by_code(col, space) for col in by_code],
        "pool": [layout.from_code(int(c)) for c in known],
        "names": names,
        "n_bo": args.n_bo,
    }


def _bohb(args: argparse.Namespace) -> dict[str, Any]:
    from nasbench_tools.search.bohb import BOHB_PRESETS

    if args.bohb_preset:
        if args.bohb_preset not in BOHB_PRESETS:
            raise OutOfDomainError(
                f"unknown --bohb-preset {args.bohb_preset!r}; allowed: {allowed(BOHB_PRESETS)}"
            )
        return dict(BOHB_PRESETS[args.bohb_preset])
    return {"fidelities": [int(f) for f in args.fidelities.split(",")], "eta": args.eta,
            "budget_use": args.budget_use}


#: ``--protocol store``: search a store's own single dataset at its last epoch.
STORE_PROTOCOL = "store"


def _store_protocol(bench: Any) -> tuple[Any, list[Any]]:
    """Protocol and candidate pool of a store built by ``nbt build-bench`` (any space).

    The search value is ``val_accuracy`` of the store's dataset at its last epoch (mean over
    seeds), the report ``test_accuracy`` and ``val_accuracy`` there; proposals are the
    store's cells (a partial table of a large space covers only those).
    """
    from nasbench_tools.search.evaluators import Protocol_, Query

    if len(bench.datasets) != 1:
        raise OutOfDomainError(f"--protocol store needs a store of one dataset; this one has "
                               f"{allowed(bench.datasets)}")
    dataset = bench.datasets[0]
    epoch = max(bench.epochs(dataset))
    protocol = Protocol_(Query("val_accuracy", dataset, epoch),
                         {"test_accuracy": Query("test_accuracy", dataset, epoch),
                          "val_accuracy": Query("val_accuracy", dataset, epoch)})
    return protocol, [bench.cell_at(r) for r in range(len(bench))]


#: Searchers that rank a candidate pool each round (``pool_size``).
RANKS_A_POOL = ("predictor", "gbdt-nas", "renas")


def _pool_kwargs(algo: str, kwargs: dict[str, Any], pool: list[Any]) -> dict[str, Any]:
    """Searcher options that restrict proposals to ``pool`` (``--protocol store``)."""
    from nasbench_tools.search.base import PoolProposals

    out: dict[str, Any] = {"proposals": PoolProposals(pool)}
    if algo in RANKS_A_POOL and kwargs.get("pool_size") is None:
        out["pool_size"] = len(pool)  # rank every unseen cell of the store
    return out


def _predictor(args: argparse.Namespace, ctx: dict[str, Any]) -> Any:
    from predictors.registry import get_predictor

    spec = get_predictor(args.predictor)
    if spec.kind != "trained":
        raise OutOfDomainError(
            f"predictor {args.predictor!r} is {spec.kind!r}; predictor-guided search needs a "
            "trained one (e.g. gbdt, renas)"
        )
    return spec.build(random_state=0)


#: algo -> keyword arguments of its searcher, from the parsed options.
KWARGS: dict[str, Callable[[argparse.Namespace, dict[str, Any]], dict[str, Any]]] = {
    "rs": lambda a, c: {},
    "rea": lambda a, c: {"population_size": a.population_size, "sample_size": a.sample_size},
    "ls": lambda a, c: {"first_improvement": a.first_improvement},
    "reinforce": lambda a, c: {"learning_rate": a.learning_rate, "ema_momentum": a.ema_momentum},
    "optuna": lambda a, c: {"sampler": a.sampler},
    "robot": _robot,
    "bohb": lambda a, c: _bohb(a),
    "naswot": lambda a, c: {"scorer": _scorer(a, c), "n_samples": a.n_samples},
    "area": lambda a, c: {
        "scorer": _scorer(a, c),
        "n_samples": a.n_samples,
        "population_size": a.population_size,
        "sample_size": a.sample_size,
    },
    "predictor": lambda a, c: {
        "predictor": _predictor(a, c),
        "encoding": a.encoding,
        "n_init": a.n_init,
        "top_k": a.top_k,
        "pool_size": a.pool_size,
        "prune_features": a.prune_features,
    },
    # the papers' methods by name: their predictor and encoding are fixed (--predictor and
    # --encoding are for --algo predictor)
    "gbdt-nas": lambda a, c: {"n_init": a.n_init, "top_k": a.top_k, "pool_size": a.pool_size,
                             "prune_features": a.prune_features},
    "renas": lambda a, c: {"n_init": a.n_init, "top_k": a.top_k, "pool_size": a.pool_size},
    "bananas": lambda a, c: {"n_init": a.n_init, "top_k": a.top_k},
    "gcn": lambda a, c: {"n_init": a.n_init, "top_k": a.top_k, "pool_size": a.pool_size},
}


_PARSER: list[argparse.ArgumentParser] = []


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces ``args`` (options at their default are left out)."""
    if not _PARSER:
        return "nbt " + shlex.join(sys.argv[1:])
    parts = ["nbt", "search"]
    for action in _PARSER[0]._actions:
        if not action.option_strings or action.dest == "help":
            continue
        value = getattr(args, action.dest, None)
        if value is None or value == action.default:
            continue
        flag = action.option_strings[-1]
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            parts.append(flag)
        elif isinstance(value, list):
            for v in value:
                parts += [flag, str(v)]
        else:
            parts += [flag, str(value)]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    """Run the searches and write the outputs."""
    from nasbench_tools.search.cost_models import get_cost_model
    from nasbench_tools.search.evaluators import TabularEvaluator
    from nasbench_tools.search.metrics import add_relative_improvement
    from nasbench_tools.search.registry import REGISTRY
    from nasbench_tools.search.results import (
        ResultsDB,
        results_frame,
        summary_table,
        write_outputs,
    )
    from nasbench_tools.search.runner import Budget, SearcherSpec, run_many
    from nasbench_tools.spaces import get_space
    from nasbench_tools.store import load_benchmark

    for algo in args.algo:
        if algo not in REGISTRY:
            raise OutOfDomainError(f"unknown --algo {algo!r}; allowed: {allowed(REGISTRY)}")
    if args.label and len(args.label) != len(args.algo):
        raise OutOfDomainError(
            f"give one --label per --algo ({len(args.algo)}), got {len(args.label)}"
        )
    if "bohb" in args.algo:
        _bohb(args)  # check the BOHB options before the store is opened
    budget = Budget(seconds=args.budget_seconds, queries=args.budget_queries)
    bench = load_benchmark(args.bench)
    from nasbench_tools.search.evaluators import PROTOCOLS

    protocol: Any = args.protocol
    pool: list[Any] | None = None
    if args.protocol == STORE_PROTOCOL:  # a built benchmark (nbt build-bench): its own cells
        protocol, pool = _store_protocol(bench)
    else:
        # protocols are named after their space: nb201-*, nb101, nats-sss-*
        wanted = args.protocol.split("-")[0]
        if args.protocol.startswith("nats-sss"):
            wanted = "nats_sss"
        if bench.space != wanted:
            raise OutOfDomainError(
                f"--protocol {args.protocol!r} searches {wanted} stores; {args.bench} holds "
                f"{bench.space!r}; protocols: {allowed([*PROTOCOLS, STORE_PROTOCOL])}"
            )
        need = PROTOCOLS[args.protocol].search.dataset
        if need not in bench.datasets:
            raise OutOfDomainError(
                f"--protocol {args.protocol!r} searches dataset {need!r}; {args.bench} holds "
                f"{allowed(bench.datasets)} (a store built by nbt build-bench: --protocol store)"
            )
    space = get_space(bench.space)
    cost_model = None if args.cost_model == "none" else get_cost_model(args.cost_model)
    if pool is not None and args.cost_model == "recorded":  # the store's own times
        from nasbench_tools.search.cost_models import RecordedCost

        cost_model = RecordedCost(dataset=protocol.search.dataset, epoch=protocol.search.epoch)
    fallback = None
    if args.fallback_train:
        from nasbench_tools.search.evaluators import TrainerEvaluator
        from nasbench_tools.trainer.evaluator_fn import make_train_fn

        fallback = TrainerEvaluator(
            make_train_fn(args.fallback_train, args.fallback_recipe),
            cache_path=args.fallback_cache,
        )
    evaluator = TabularEvaluator(
        bench, protocol=protocol, cost_model=cost_model, space=space, fallback=fallback
    )
    ctx = {"bench": bench, "space": space, "evaluator": evaluator}
    out = Path(args.output) if args.output else None
    db_path = Path(args.db) if args.db else (out / "runs.sqlite" if out else None)
    db = ResultsDB(db_path) if db_path else None

    executor: Any = None
    if args.dask:
        from distributed import Client

        executor = Client(args.dask).get_executor()
    elif args.workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        executor = ProcessPoolExecutor(args.workers)
    labels = args.label or list(args.algo)
    jobs = list(zip(args.algo, labels))
    baseline = _baseline_label(args, labels)
    if baseline is not None:
        jobs.append(("rs", baseline))
    collected: list[Any] = []
    try:
        for algo, label in jobs:
            kwargs = KWARGS[algo](args, ctx)
            if pool is not None:  # propose only the store's cells
                kwargs = {**kwargs, **_pool_kwargs(algo, kwargs, pool)}
            spec = SearcherSpec(algo, space.name, kwargs)
            start = time.perf_counter()
            results = run_many(
                spec,
                evaluator,
                budget,
                runs=args.runs,
                seed=args.seed,
                label=label,
                db=db,
                executor=executor,
                vectorize="auto" if args.vectorize else False,
                repeats=args.repeats,
            )
            log.info("%s: %d runs in %.2f s", label, len(results), time.perf_counter() - start)
            collected.extend(results)
    finally:
        if executor is not None and hasattr(executor, "shutdown"):
            executor.shutdown()
    if out is not None and db is not None:
        command = _command(args)
        from nasbench_tools.io import output_lock

        # Runs are rows of one SQLite file (each its own transaction: concurrent searches
        # into one output are serialised by SQLite); the files made from it are rewritten
        # one process at a time.
        with output_lock(out / "runs.csv", wait=True):
            old = (out / "command.txt").read_text().splitlines() if (out / "command.txt").exists() else []
            history = [c for c in old if c.strip() and c != command] + [command]
            write_outputs(db, out, command="\n".join(history), plots=not args.no_plots,
                          plot_labels=labels)
    elif db is None:
        log.warning("no --output or --db: results are not stored")
    frame = results_frame(collected)
    if len(frame):
        table = summary_table(frame)
        metrics = [c[:-5] for c in table.columns if c.endswith("_mean")]
        if baseline is not None:
            table = add_relative_improvement(
                table, frame, {label: baseline for label in [*labels, baseline]}
            )
        for _, row in table.iterrows():
            parts = [f"{m} {row[m + '_mean']:.2f} +- {row[m + '_std']:.2f}" for m in metrics]
            parts += [
                f"RI({c[3:]}) {row[c]:+.2f} %"
                for c in table.columns
                if c.startswith("ri_") and row[c] == row[c]
            ]
            sys.stdout.write(f"{row['algo']} ({row['runs']} runs): " + ", ".join(parts) + "\n")
    return 0


def _baseline_label(args: argparse.Namespace, labels: list[str]) -> str | None:
    """Label of the random-search baseline to run (None: none, or an ``rs`` is requested).

    ``--baseline auto`` (the default) runs it on tables only: with ``--fallback-train``
    every baseline query could be a real training.
    """
    choice = args.baseline
    if choice == "auto":
        choice = "none" if args.fallback_train else "rs"
    if choice == "none":
        return None
    for algo, label in zip(args.algo, labels):
        if algo == "rs":
            return label  # the requested RS is the baseline (same budget and seeds)
    return "rs-baseline"


def register(subparsers: Any) -> None:
    """Add the ``search`` sub-command."""
    from nasbench_tools.search.cost_models import COST_MODELS
    from nasbench_tools.search.evaluators import PROTOCOLS

    p = subparsers.add_parser(
        "search", help="run searchers on a store (many runs, resumable, summary and plots)"
    )
    p.add_argument("--bench", required=True, help="store file (.h5)")
    p.add_argument("--algo", action="append", required=True,
                   help="searcher: rs, rea, ls, reinforce, naswot, area, predictor, gbdt-nas, renas, bananas, gcn, optuna, bohb, robot "
                   "(repeatable)")
    p.add_argument("--label", action="append", help="experiment label per --algo")
    p.add_argument("--runs", type=positive_int, default=500, help="independent runs (default 500)")
    p.add_argument("--seed", type=seed, default=0, help="run r uses seed SEED + r")
    p.add_argument("--budget-seconds", type=non_negative_float, help="simulated seconds per run")
    p.add_argument("--budget-queries", type=non_negative_int, help="charged queries per run")
    p.add_argument("--protocol", default="nb201-cifar10",
                   choices=[*sorted(PROTOCOLS), "store"],
                   help="what to optimise and report (default nb201-cifar10); store: the "
                   "val_accuracy of a built store's dataset at its last epoch, over its cells")
    p.add_argument("--cost-model", default="recorded", choices=[*sorted(COST_MODELS), "none"],
                   help="seconds charged per query (default: the store's recorded times)")
    p.add_argument("--repeats", choices=["cache", "charge"],
                   help="a re-proposed cell is free (cache) or charged again; default: the "
                   "searcher's own (charge for reinforce, cache for the others)")
    p.add_argument("--output", help="directory for runs.sqlite, runs.csv, summary.csv, plots")
    p.add_argument("--db", help="results database (default OUTPUT/runs.sqlite)")
    p.add_argument("--workers", type=positive_int, default=1, help="processes for non-vectorised runs")
    p.add_argument("--dask", help="Dask scheduler address; runs go to that cluster")
    p.add_argument("--no-vectorize", dest="vectorize", action="store_false",
                   help="use the ask/tell loop even where a vectorised path exists")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--baseline", choices=["auto", "rs", "none"], default="auto",
                   help="random-search baseline for the relative improvement RI (Yang et al. "
                   "2020): rs = run RS with the same budget and seeds (label rs-baseline, "
                   "unless --algo rs is given); auto (default) = rs except with "
                   "--fallback-train; none = no baseline, no RI column")
    f = p.add_argument_group("cells missing from the table")
    f.add_argument("--fallback-train", metavar="DATASET",
                   help="train missing cells for real on this dataset (e.g. digits, cifar10)")
    f.add_argument("--fallback-recipe", default="quick-cpu", help="trainer recipe preset")
    f.add_argument("--fallback-cache", help="SQLite cache of trained cells (reused on restart)")
    g = p.add_argument_group("searcher settings")
    g.add_argument("--population-size", type=positive_int, default=10)
    g.add_argument("--sample-size", type=positive_int, default=3)
    g.add_argument("--first-improvement", action="store_true", help="local search variant")
    g.add_argument("--learning-rate", type=positive_float, default=0.01,
                   help="REINFORCE Adam step (default: NATS-Bench's 0.01; the NAS-Bench-201 script passes 0.5)")
    g.add_argument("--ema-momentum", type=float, default=0.9, help="REINFORCE baseline")
    g.add_argument("--sampler", default="tpe", help="optuna sampler (tpe, random)")
    g.add_argument("--metrics", action="append",
                   help="RoBoT metrics: [STORE:]FEATURE[,FEATURE...] (repeatable); the pool is "
                   "the cells that have them all")
    g.add_argument("--n-bo", type=positive_int, default=20, help="RoBoT BO steps (the paper's T, 20)")
    g.add_argument("--fidelities", default="12,200",
                   help="BOHB budgets: training epochs of the store, comma-separated")
    g.add_argument("--eta", type=positive_int, default=3, help="BOHB successive-halving factor")
    g.add_argument("--budget-use", default="epochs", choices=("epochs", "schedule"),
                   help="BOHB: budgets are the queries' training epochs (epochs), or only "
                   "shape the brackets, every query at the evaluator's search fidelity and "
                   "charged, pick = incumbent at the largest budget (schedule, as the NB201 "
                   "script; --fidelities is then min,max budget)")
    g.add_argument("--bohb-preset",
                   help="BOHB settings by name (nb201-script: the NAS-Bench-201 script's); "
                   "overrides --fidelities, --eta and --budget-use")
    g.add_argument("--n-samples", type=positive_int, default=100, help="NASWOT / AREA cells scored")
    g.add_argument("--scores", default="naswot_score",
                   help="store feature used as proxy, or zc:NAME for a zero-cost scorer")
    g.add_argument("--predictor", default="gbdt", help="predictor registry name")
    g.add_argument("--encoding", default="gbdt", help="encoding for the predictor")
    g.add_argument("--n-init", type=positive_int, default=20)
    g.add_argument("--top-k", type=positive_int, default=10)
    g.add_argument("--pool-size", type=positive_int, help="random pool per round (default: whole space)")
    g.add_argument("--prune-features", type=non_negative_int, default=0, help="GBDT-NAS-3S pruning")
    p.set_defaults(func=run)
    _PARSER[:] = [p]
