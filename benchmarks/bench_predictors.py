"""Predictor quality on the real NB201 table: the harness run behind predictors_nb201.md.

Run from the project root (needs ``../shared/data``)::

    nice .venv/bin/python benchmarks/bench_predictors.py            # full run, ~15-25 min
    nice .venv/bin/python benchmarks/bench_predictors.py --quick    # 1 seed, 100 cells

Steps (each printed as the exact command):

1. ``nbt convert ../shared/data/nb201/nb201_cifar10_200ep_naswot_scores.csv -o STORE``:
   a store with the 200-epoch mean accuracies (target: ``val_accuracy`` of
   ``cifar10-valid`` at epoch 200 = ``cifar10_valid_xvalid_acc``), the published
   ``naswot_score`` and ``params``; FLOPs come from the space's analytic cost model.
2. ``nbt eval-predictor --bench STORE ... --predictors all --output
   benchmarks/results/predictors_nb201``: every registered predictor (zero-cost scorers
   that build networks excepted), feature sets ``onehot``, ``onehot+naswot+params``,
   ``onehot+graph+zc``, train sizes 100/400/1000, 5 seeds.

With ``--renas`` it instead measures ReNAS (and GBDT on the same splits) with 100, 424 and
1,000 NB201 training cells and on the NB101 500-row sample
(``nb101_zc_proxies_sample500.csv``: 292 distinct cells, deduplicated by official hash,
first row kept), 100 and 200 training cells, 3 seeds, and writes
``benchmarks/results/predictors_nb201/renas.csv``.

The results directory gets ``results.csv``, ``summary.md``, ``scatter.png``,
``tau_vs_train_size.png`` and ``command.txt``; ``benchmarks/results/predictors_nb201.md``
is written by hand from ``summary.md`` next to the reference figures.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import tempfile
import time
from pathlib import Path

from nasbench_tools.cli.main import main as nbt

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CSV = SHARED / "nb201" / "nb201_cifar10_200ep_naswot_scores.csv"
OUT = ROOT / "benchmarks" / "results" / "predictors_nb201"

log = logging.getLogger("bench_predictors")


def _run(argv: list[str]) -> None:
    sys.stdout.write("$ nbt " + " ".join(shlex.quote(a) for a in argv) + "\n")
    sys.stdout.flush()
    code = nbt(argv)
    if code:
        raise SystemExit(code)


def renas_study(out_dir: Path, seeds: int = 3) -> None:
    """ReNAS vs GBDT on NB201 (100/424/1000 cells) and on the NB101 sample."""
    import json

    import numpy as np
    import pandas as pd
    import torch

    from nasbench_tools.io import atomic_path
    from nasbench_tools.spaces import get_space
    from nasbench_tools.spaces.nb101 import Cell as NB101Cell
    from predictors.evaluate import EvalData, evaluate, summarize, to_markdown

    torch.set_num_threads(1)
    nb201 = get_space("nb201")
    df = pd.read_csv(CSV).sort_values("nb201_index")
    cells = [nb201.parse(s) for s in df["arch_str"]]
    d201 = EvalData(
        cells, df["cifar10_valid_xvalid_acc"].to_numpy(), space=nb201,
        extras={"naswot_score": df["naswot_score"].to_numpy(), "params": df["params_m"].to_numpy()},
        target_name="NB201 cifar10-valid x-valid (200 ep, mean)",
    )
    t201 = evaluate(d201, predictors="renas,gbdt", feature_sets="renas,gbdt,onehot",
                    train_sizes=[100, 424, 1000], seeds=seeds, progress=False)
    t201.insert(0, "space", "nb201")
    s101 = pd.read_csv(SHARED / "nb101" / "nb101_zc_proxies_sample500.csv").drop_duplicates("nb101_hash")
    cells101 = [NB101Cell(np.array(json.loads(m)), tuple(json.loads(o))) for m, o in zip(s101["matrix"], s101["ops"])]
    nb101 = get_space("nb101")
    d101 = EvalData(cells101, s101["val_accuracy"].to_numpy(), space=nb101,
                    target_name="NB101 validation accuracy (108 ep, one repeat)")
    t101 = evaluate(d101, predictors="renas,gbdt", feature_sets="renas,gbdt,onehot",
                    train_sizes=[100, 200], seeds=seeds, progress=False)
    t101.insert(0, "space", "nb101")
    table = pd.concat([t201, t101], ignore_index=True)
    with atomic_path(out_dir / "renas.csv") as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    for space, part in table.groupby("space"):
        sys.stdout.write(f"\n{space}\n" + to_markdown(summarize(part.drop(columns="space"))) + "\n")


def main(args: list[str] | None = None) -> int:
    """Convert the CSV to a temporary store and run the harness on it."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 seed, train size 100, no output dir")
    p.add_argument("--predictors", default="all")
    p.add_argument("--features", default="onehot,onehot+naswot+params,onehot+graph+zc")
    p.add_argument("--output", default=str(OUT))
    p.add_argument("--renas", action="store_true", help="the ReNAS study (NB201 and NB101)")
    ns = p.parse_args(args)
    if not CSV.is_file():
        sys.stderr.write(f"needs {CSV} (clone ../shared beside the project)\n")
        return 2
    logging.basicConfig(level=logging.WARNING)
    if ns.renas:
        t0 = time.perf_counter()
        renas_study(Path(ns.output))
        sys.stdout.write(f"ReNAS study wall time: {time.perf_counter() - t0:.0f} s\n")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "nb201_200ep.h5")
        _run(["convert", str(CSV), "-o", store, "-q"])
        t0 = time.perf_counter()
        argv = [
            "eval-predictor", "--bench", store, "--dataset", "cifar10-valid",
            "--metric", "val_accuracy", "--epoch", "200",
            "--predictors", ns.predictors, "--features", ns.features,
            "--train-sizes", "100" if ns.quick else "100,400,1000",
            "--seeds", "1" if ns.quick else "5",
        ]
        if not ns.quick:
            argv += ["--output", ns.output]
        _run(argv)
        sys.stdout.write(f"harness wall time: {time.perf_counter() - t0:.0f} s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
