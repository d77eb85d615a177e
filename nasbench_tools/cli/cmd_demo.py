"""``nbt demo``: a short tour that works on a fresh machine with no download.

It shows the three search spaces (sizes, one cell with its hash, encodings and analytic
costs) and, when the embedded benchmark ``data/embedded_nb201_*.h5`` is present, its summary
(as ``nbt info`` prints it), the noise figures recorded when it was built, a search on it
(over the whole space when the store covers every cell or class, else over the table's
cells), a predictor evaluation and one NB101 step on the embedded NB101 store.

Examples
--------
>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> register(sub)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from nasbench_tools.cli.argtypes import positive_int

__all__ = ["embedded_nb101_store", "embedded_store", "register", "run"]

#: Example cell per space (a conv-heavy NB201 cell; the widest size-space network).
_EXAMPLES: dict[str, str] = {
    "nb201": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
             "nor_conv_3x3~2|",
    "nats_sss": "64:64:64:64:64",
}

_DATA_DIR = Path(__file__).resolve().parents[2] / "data"


def embedded_store(data_dir: Path = _DATA_DIR) -> Path | None:
    """Path of the shipped embedded benchmark with the most cells (``embedded_nb201_*.h5``), if any.

    A build in progress (``embedded_nb201_digits_all.h5`` grows towards the whole space)
    takes over from the 666-cell store once it holds more cells.

    Examples
    --------
    >>> import tempfile
    >>> embedded_store(Path(tempfile.mkdtemp())) is None
    True
    """
    from nasbench_tools.store import load_benchmark

    found = sorted(data_dir.glob("embedded_nb201_*.h5"))
    if not found:
        return None
    return max(found, key=lambda p: len(load_benchmark(p)))


def register(subparsers: Any) -> None:
    """Add the ``demo`` sub-command."""
    p = subparsers.add_parser("demo", help="a short tour: spaces and the embedded benchmark",
                              description="A tour of nasbench-tools that needs no download.")
    p.add_argument("--store", default=None, help="benchmark to show (default: the embedded one)")
    p.add_argument("--runs", type=positive_int, default=100, help="independent search runs (default 100)")
    p.add_argument("--queries", type=positive_int, default=20, help="queries per search run (default 20)")
    p.add_argument("--no-search", action="store_true", help="skip the search part")
    p.add_argument("--no-predictors", action="store_true", help="skip the predictor part")
    p.set_defaults(func=run)


def _tour_space(name: str, out: TextIO) -> None:
    import numpy as np

    from nasbench_tools.spaces import get_space

    space = get_space(name)
    out.write(f"\n== space {name}: {space.size():,} cells\n")
    if name in _EXAMPLES:
        cell = space.parse(_EXAMPLES[name])
    else:
        cell = space.sample(np.random.default_rng(0))
    out.write(f"  cell     {cell.to_string()}\n  hash     {cell.hash}\n")
    out.write(f"  params   {cell.num_params('cifar10'):,} (cifar10)   "
              f"flops {cell.flops('cifar10'):.2f} M\n")
    for kind in space.encodings:
        out.write(f"  encoding {kind:<16} shape {tuple(cell.encode(kind).shape)}\n")
    if hasattr(space, "unique_cells"):
        out.write(f"  unique cells (isomorphism classes): {len(space.unique_cells()):,}\n")


def run(args: argparse.Namespace) -> int:
    """Print the tour; returns the exit code."""
    out = sys.stdout
    out.write("nasbench-tools demo\n")
    from nasbench_tools.spaces import REGISTRY

    for name in REGISTRY:
        try:
            _tour_space(name, out)
        except ImportError as exc:  # a space still missing in a partial checkout
            out.write(f"\n== space {name}: not available ({exc})\n")
    path = Path(args.store) if args.store else embedded_store()
    if path is None:
        out.write("\n(no embedded benchmark in data/; build one with `nbt build-bench`)\n")
        _demo_nb101(out, embedded_nb101_store(), predictors=not args.no_predictors)
        return 0
    from nasbench_tools.store import load_benchmark

    bench = load_benchmark(path)
    out.write(f"\n== embedded benchmark\n{bench.info().render()}\n")
    stats = bench.info().provenance.get("stats_val_accuracy")
    if stats:
        out.write("  noise (val_accuracy, mean over seeds):\n")
        for ds, per in stats.items():
            for fid, s in per.items():
                out.write(f"    {ds} epoch {fid}: split-half Kendall tau {s['split_half_tau']}, "
                          f"accuracy {s['min']}..{s['max']} (median {s['median']})\n")
    if not args.no_search:
        _demo_search(bench, out, runs=args.runs, queries=args.queries)
    if not args.no_predictors:
        _demo_predictors(bench, out)
    _demo_nb101(out, embedded_nb101_store(), predictors=not args.no_predictors)
    return 0


def _final_fidelity(bench: Any) -> tuple[str, int]:
    """The store's single dataset and its final epoch (the embedded store has one budget)."""
    dataset = bench.datasets[0]
    return dataset, max(bench.epochs(dataset))


def _covers_space(bench: Any, space: Any) -> bool:
    """Whether every cell of the space has a row (directly or through its isomorphism class)."""
    if bench.by_class and hasattr(space, "unique_cells"):
        return len(bench) == len(space.unique_cells())
    return bool(len(bench) == space.size())


def _demo_search(bench: Any, out: TextIO, *, runs: int, queries: int) -> None:
    """Random search (and, over a whole space, regularized evolution), many runs each.

    A table that covers its whole space is searched over the whole space (the searchers'
    own sampling and mutation, every cell answered through its class); a partial table
    over its own cells (random search from them: mutations would leave the table).
    """
    from nasbench_tools.search import (
        Budget,
        RandomSearch,
        RegularizedEvolution,
        TabularEvaluator,
        run_many,
    )
    from nasbench_tools.search.base import PoolProposals
    from nasbench_tools.search.cost_models import RecordedCost
    from nasbench_tools.search.evaluators import Protocol_, Query
    from nasbench_tools.search.results import ResultsDB, summary_table
    from nasbench_tools.spaces import get_space

    dataset, epoch = _final_fidelity(bench)
    protocol = Protocol_(
        Query("val_accuracy", dataset, epoch),
        {"test_accuracy": Query("test_accuracy", dataset, epoch)},
    )
    # Charge the recorded training time of the fidelity searched on.
    evaluator = TabularEvaluator(bench, protocol=protocol,
                                 cost_model=RecordedCost(dataset=dataset, epoch=epoch))
    space = get_space(bench.space)
    _, best_test = bench.best("test_accuracy", dataset=dataset, epoch=epoch)
    db = ResultsDB(":memory:")
    searchers: dict[str, Any]
    if _covers_space(bench, space):
        where = (f"the whole {bench.space} space ({space.size():,} cells, all "
                 f"{len(bench):,} {'classes' if bench.by_class else 'cells'} in the table)")
        searchers = {
            "random": lambda seed: RandomSearch(space, seed=seed),
            "evolution": lambda seed: RegularizedEvolution(space, seed=seed),
        }
    else:
        pool = [bench.cell_at(r) for r in range(len(bench))]
        # A search over a pool must leave cells unseen, or every run would find the best one.
        queries = min(queries, len(pool) // 2)
        if queries < 2:
            out.write(f"\n(search: {len(pool)} cells are too few for a search)\n")
            return
        where = (f"the {len(pool)} cells of the table (a partial build: the whole space "
                 "once it covers every class)")
        proposals = PoolProposals(pool)
        searchers = {"random": lambda seed: RandomSearch(space, seed=seed, proposals=proposals)}
    out.write(
        f"\n== search: {runs} runs x {queries} queries over {where}\n"
        f"  search on val_accuracy ({dataset}, epoch {epoch}, mean over seeds), report "
        f"test_accuracy of the pick; best test_accuracy in the table: {best_test:.2f}\n"
    )
    budget = Budget(queries=queries)
    for label, make in searchers.items():
        run_many(make, evaluator, budget, runs=runs, seed=0, label=label, db=db)
    summary = summary_table(db.frame()).set_index("algo")
    cols = [c for c in ("runs", "test_accuracy_mean", "test_accuracy_std", "queries_mean",
                        "simulated_seconds_mean") if c in summary.columns]
    out.write(summary[cols].to_string(float_format=lambda v: f"{v:.2f}") + "\n")


def _demo_predictors(bench: Any, out: TextIO) -> None:
    """Kendall tau of GBDT on two feature sets, trained on a few cells of the table."""
    from predictors.evaluate import evaluate

    dataset, epoch = _final_fidelity(bench)
    # at most half of the table for training, so tau is measured on at least as many cells
    sizes = [n for n in (20, 50, 100, 200) if n <= len(bench) // 2]
    if not sizes:
        out.write(f"\n(predictors: {len(bench)} cells are too few to train and test on)\n")
        return
    out.write(
        f"\n== predictors: Kendall tau on the held-out cells (val_accuracy, {dataset}, "
        f"epoch {epoch}), mean over 3 seeds\n"
    )
    frame = evaluate(bench, predictors=["gbdt"], feature_sets=["onehot", "onehot+graph"],
                     train_sizes=sizes, seeds=3, k=10, metric="val_accuracy", dataset=dataset,
                     epoch=epoch, progress=False)
    table = frame.groupby(["predictor", "features", "train_size"])["kendall_tau"].agg(
        ["mean", "std"])
    out.write(table.to_string(float_format=lambda v: f"{v:.3f}") + "\n")


def embedded_nb101_store(data_dir: Path = _DATA_DIR) -> Path | None:
    """Path of the embedded NB101 benchmark (``data/embedded_nb101_digits.h5``), if present.

    Examples
    --------
    >>> import tempfile
    >>> embedded_nb101_store(Path(tempfile.mkdtemp())) is None
    True
    """
    path = data_dir / "embedded_nb101_digits.h5"
    return path if path.is_file() else None


def _demo_nb101(out: TextIO, path: Path | None, *, predictors: bool = True) -> None:
    """One NB101 step: the embedded NB101 store's noise and official-tau figures, and a
    GBDT-NAS predictor (XGBoost on the GBDT-NAS encoding) trained on some of its cells.

    Skips with one line when the store is absent or too small.
    """
    if path is None:
        out.write("\n(no embedded NB101 benchmark in data/; build one with "
                  "`nbt build-bench nb101`, see docs/trainer.md)\n")
        return
    from nasbench_tools.store import load_benchmark

    bench = load_benchmark(path)
    dataset, epoch = _final_fidelity(bench)
    prov = bench.info().provenance
    seeds = len(bench.seeds(dataset))
    out.write(f"\n== NB101 step: {path.name}, {len(bench)} cells x {seeds} seeds "
              f"({dataset}, epoch {epoch})\n")
    fid = f"{epoch}/{epoch}"
    stat = (prov.get("stats_val_accuracy") or {}).get(dataset, {}).get(fid)
    if stat:
        out.write(f"  split-half Kendall tau of the mean val_accuracy: {stat['split_half_tau']}\n")
    official = (prov.get("official_tau_val_accuracy") or {})
    if official.get("tau", {}).get(fid) is not None:
        out.write(f"  Kendall tau vs the official 108-epoch accuracies of its {official['cells']} "
                  f"shared cells: {official['tau'][fid]}\n")
    size = min(100, len(bench) // 2)
    if not predictors or size < 10:
        return
    from predictors.evaluate import evaluate

    frame = evaluate(bench, predictors=["gbdt"], feature_sets=["gbdt"], train_sizes=[size],
                     seeds=3, k=10, metric="val_accuracy", dataset=dataset, epoch=epoch,
                     progress=False)
    tau = frame["kendall_tau"]
    out.write(f"  GBDT-NAS predictor (gbdt on the GBDT-NAS encoding), trained on {size} cells: "
              f"Kendall tau {tau.mean():.3f} +- {tau.std():.3f} on the other "
              f"{len(bench) - size} (3 seeds)\n")
