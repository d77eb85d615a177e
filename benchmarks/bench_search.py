"""Speed of the search protocol: 500 REA / RS runs of 100 queries on the NB201 tables.

Side by side:

* ``plain loop``: a straightforward Python REA / RS over dicts read from the shared CSV
  tables (search on the 12-epoch cifar10-valid x-valid mean, report the 200-epoch cifar10
  test mean), one ``random.Random`` per run -- the reference of issue #5.
* ``vectorised``: ``run_many`` through the project's evaluator (``TabularEvaluator`` on the
  store), all runs in lock step (:mod:`nasbench_tools.search.vectorized`).
* ``+ SQLite``: the same, each run written to the results database in its own transaction.
* ``+ CSV``: and ``runs.csv`` / ``summary.csv`` written.
* ``ask/tell``: ``run_many(vectorize=False)``, one run after another.

Usage::

    nice .venv/bin/python benchmarks/bench_search.py --store /tmp/nbt/nb201_shared.h5 \\
        --csv-dir ../shared/data/nb201 [--write benchmarks/results/search.md]

``--write`` replaces the section between ``<!-- speed:begin -->`` and
``<!-- speed:end -->`` of that file. Times are the best of ``--repeat`` repetitions.

``--naswot`` instead compares training-free scores under the NASWOT-search protocol
(500 runs, N cells sampled with replacement, best score evaluated, 200-epoch cifar10 test
accuracy reported), all through :class:`~nasbench_tools.search.naswot.NASWOTSearch`:

* on the 725-cell CIFAR-10 pool of NASLib's zero-cost table, which holds both the
  log-determinant score (``nwot``, computed by NASLib on CIFAR-10 images) and the
  Jacobian-covariance score (``jacov``), and the shared ``naswot_score`` column (the
  authors' own Jacobian-covariance scores) for the same cells -- sampling restricted to the
  pool (:class:`~nasbench_tools.search.base.PoolProposals`);
* with ``--digits-runs K``: the project's own log-determinant scorer
  (``predictors.zerocost.NASWOT``) on scikit-learn digits upsampled to 32x32 (the only
  images available here), K runs over the whole space.

It replaces the section between ``<!-- naswot:begin -->`` and ``<!-- naswot:end -->``.

The paper-protocol tables next to the published numbers (with verdicts and RI) are
``nbt reproduce nb201-search`` and ``nbt reproduce naswot-nb201-search``
(:mod:`nasbench_tools.reproduce`; outputs in ``benchmarks/results/reproduce/``); this script
only measures speed and compares scores.
"""

from __future__ import annotations

import argparse
import csv
import logging
import platform
import random
import re
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("bench_search")

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


def load_plain(csv_dir: Path) -> tuple[list[str], dict[str, float], dict[str, float]]:
    """Arch strings, 12-epoch x-valid and 200-epoch test accuracy by arch string."""
    with open(csv_dir / "nb201_hp12_mean_accuracies.csv") as f:
        val12 = {r["arch_str"]: float(r["cifar10_valid_xvalid_acc"]) for r in csv.DictReader(f)}
    with open(csv_dir / "nb201_cifar10_200ep_naswot_scores.csv") as f:
        test200 = {r["arch_str"]: float(r["cifar10_test_acc"]) for r in csv.DictReader(f)}
    return sorted(val12), val12, test200


def _mutate(arch: str, rng: random.Random) -> str:
    nodes = [[e.split("~") for e in part.strip("|").split("|")] for part in arch.split("+")]
    i = rng.randrange(len(nodes))
    j = rng.randrange(len(nodes[i]))
    op = nodes[i][j][0]
    nodes[i][j][0] = rng.choice([o for o in OPS if o != op])
    return "+".join("|" + "|".join(f"{o}~{k}" for o, k in node) + "|" for node in nodes)


def plain_rea(archs: list[str], val: dict[str, float], test: dict[str, float], runs: int,
              queries: int) -> np.ndarray:
    """The plain loop: REA (population 10, sample 3), 100 queries, per-run Random."""
    out = []
    for r in range(runs):
        rng = random.Random(r)
        pop: deque[tuple[str, float]] = deque()
        history = []
        while len(pop) < 10:
            a = rng.choice(archs)
            pop.append((a, val[a]))
            history.append(pop[-1])
        while len(history) < queries:
            parent = max((rng.choice(pop) for _ in range(3)), key=lambda x: x[1])[0]
            child = _mutate(parent, rng)
            pop.append((child, val[child]))
            pop.popleft()
            history.append(pop[-1])
        out.append(test[max(history, key=lambda x: x[1])[0]])
    return np.array(out)


def plain_rs(archs: list[str], val: dict[str, float], test: dict[str, float], runs: int,
             queries: int) -> np.ndarray:
    """The plain loop: random search."""
    out = []
    for r in range(runs):
        rng = random.Random(r)
        picks = [rng.choice(archs) for _ in range(queries)]
        out.append(test[max(picks, key=val.__getitem__)])
    return np.array(out)


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Fastest of ``repeat`` calls and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def _measure(algo: str, plain: Callable[..., np.ndarray], archs: list[str],
             val: dict[str, float], test: dict[str, float], ev: Any, budget: Any,
             args: argparse.Namespace) -> tuple[Any, ...]:
    """Time one algorithm every way; return the table row."""
    from nasbench_tools.search import ResultsDB, SearcherSpec, run_many, write_outputs

    spec = SearcherSpec(algo, "nb201")
    t_plain, acc_plain = best_of(lambda: plain(archs, val, test, args.runs, args.queries),
                                 args.repeat)
    t_vec, res = best_of(lambda: run_many(spec, ev, budget, runs=args.runs), args.repeat)

    def with_db(csv_out: bool) -> Any:
        d = Path(tempfile.mkdtemp())
        db = ResultsDB(d / "runs.sqlite")
        out = run_many(spec, ev, budget, runs=args.runs, db=db)
        if csv_out:
            write_outputs(db, d / "out", plots=False)
        return out

    t_db, _ = best_of(lambda: with_db(False), args.repeat)
    t_csv, _ = best_of(lambda: with_db(True), args.repeat)
    t_at, res_at = best_of(lambda: run_many(spec, ev, budget, runs=args.runs, vectorize=False), 1)
    same = all(a.same_outcome(b) for a, b in zip(res, res_at))
    acc = np.array([r.metrics["test_accuracy"] for r in res])
    return (algo, t_plain, acc_plain, t_vec, t_db, t_csv, t_at, acc, same)


def naswot_section(args: argparse.Namespace, ev: Any) -> str:
    """The NASWOT score comparison (see the module notes) as markdown."""
    import pandas as pd

    from nasbench_tools.search import Budget, NASWOTSearch, run_search
    from nasbench_tools.search.base import PoolProposals
    from nasbench_tools.search.naswot import ArrayScorer
    from nasbench_tools.spaces import get_space
    from nasbench_tools.store import load_benchmark

    space = get_space("nb201")
    zc = pd.read_csv(Path(args.csv_dir) / "nb201_zc_proxies_v20220518_sample.csv")
    zc = zc[zc.dataset == "cifar10"]
    pool = [space.parse(a) for a in zc.arch_str]
    codes = np.array([c.code for c in pool])
    bench = load_benchmark(args.store)
    published = ev.per_code(bench.feature("naswot_score"))
    columns = {
        "nwot (log-det, CIFAR-10 images, NASLib)": zc.nwot.to_numpy(float),
        "jacov (Jacobian covariance, NASLib)": zc.jacov.to_numpy(float),
        "naswot_score (Jacobian covariance, authors)": published[codes],
    }
    lines = [
        f"NASWOT search restricted to the {len(pool)} cells of NASLib's CIFAR-10 zero-cost "
        f"pool, {args.runs} runs each (mean +- std of the final pick's 200-epoch cifar10 "
        "test accuracy):",
        "",
        "| score | N=10 | N=100 |",
        "| --- | --- | --- |",
    ]
    budget = Budget(queries=1)
    for name, values in columns.items():
        by_code = np.full(space.size(), np.nan)
        by_code[codes] = values
        scorer = ArrayScorer.by_code(by_code, space)
        cells = []
        for n in (10, 100):
            accs = np.array([
                run_search(NASWOTSearch(space, scorer, n_samples=n, proposals=PoolProposals(pool)),
                           ev, budget, seed=r).metrics["test_accuracy"]
                for r in range(args.runs)
            ])
            cells.append(f"{accs.mean():.2f} +- {accs.std(ddof=1):.2f}")
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    mean_pool = ev.code_arrays().metrics["test_accuracy"][codes]
    lines.append(f"| (pool mean, no search) | {mean_pool.mean():.2f} | |")
    if args.digits_runs:
        import torch

        from predictors.zerocost import NASWOT

        torch.set_num_threads(1)
        scorer_d = NASWOT(dataset="cifar10", data="digits", batch_size=64, random_state=0)
        accs_d = []
        t = time.perf_counter()
        for r in range(args.digits_runs):
            res = run_search(NASWOTSearch(space, scorer_d, n_samples=10), ev, budget, seed=r)
            accs_d.append(res.metrics["test_accuracy"])
        dt = time.perf_counter() - t
        a = np.array(accs_d)
        lines += [
            "",
            f"Our own log-determinant scorer (`predictors.zerocost.NASWOT`, batch 64 of "
            f"{scorer_d.data_description}), whole space, N=10, {len(a)} runs: "
            f"{a.mean():.2f} +- {a.std(ddof=1):.2f} ({dt:.0f} s of scoring on this machine).",
        ]
    return "\n".join(lines)


def _replace(path: Path, tag: str, text: str) -> None:
    from nasbench_tools.io import atomic_write_text

    body = path.read_text() if path.exists() else ""
    begin, end = f"<!-- {tag}:begin -->", f"<!-- {tag}:end -->"
    if begin not in body:
        body += f"\n{begin}\n{end}\n"
    new = re.sub(f"{begin}.*{end}", lambda _: f"{begin}\n{text}\n{end}", body, flags=re.S)
    atomic_write_text(path, new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="NB201 store built from the shared CSVs")
    parser.add_argument("--csv-dir", help="../shared/data/nb201")
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", help="markdown file whose section is replaced")
    parser.add_argument("--naswot", action="store_true", help="score comparison instead of speed")
    parser.add_argument("--digits-runs", type=int, default=0,
                        help="with --naswot: runs of our scorer on digits images")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not args.store or not args.csv_dir:
        parser.error("--store and --csv-dir are required")

    from nasbench_tools.search import Budget, TabularEvaluator, get_cost_model
    from nasbench_tools.store import load_benchmark

    archs, val, test = load_plain(Path(args.csv_dir))
    t0 = time.perf_counter()
    ev = TabularEvaluator(load_benchmark(args.store), cost_model=get_cost_model("flops-120"))
    ev.code_arrays()
    setup = time.perf_counter() - t0
    if args.naswot:
        text = naswot_section(args, ev)
        sys.stdout.write(text + "\n")
        if args.write:
            _replace(Path(args.write), "naswot", text)
        return 0
    budget = Budget(queries=args.queries)
    rows = []
    for algo, plain in (("rea", plain_rea), ("rs", plain_rs)):
        rows.append(_measure(algo, plain, archs, val, test, ev, budget, args))
        log.info("%s done", algo)

    lines = [
        f"{args.runs} runs x {args.queries} queries, NB201 shared tables (search: 12-epoch "
        "cifar10-valid x-valid; report: 200-epoch cifar10 test). Best of "
        f"{args.repeat}; {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, under `nice` on a shared 2-core machine. Store open + "
        f"evaluator set-up (not in the times): {setup:.2f} s.",
        "",
        "| algo | plain loop | vectorised | + SQLite (1 txn/run) | + runs.csv, summary.csv "
        "| ask/tell loop | test acc (plain) | test acc (ours) | ask/tell == vectorised |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for algo, tp, ap, tv, tdb, tcsv, tat, acc, same in rows:
        lines.append(
            f"| {algo} | {tp:.2f} s | {tv:.3f} s | {tdb:.3f} s | {tcsv:.2f} s | {tat:.2f} s | "
            f"{ap.mean():.2f} +- {ap.std(ddof=1):.2f} | {acc.mean():.2f} +- "
            f"{acc.std(ddof=1):.2f} | {'yes' if same else 'NO'} |"
        )
    text = "\n".join(lines)
    sys.stdout.write(text + "\n")
    if args.write:
        _replace(Path(args.write), "speed", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
