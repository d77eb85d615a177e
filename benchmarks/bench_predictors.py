"""Predictor quality on the real NB201 table: the harness run behind predictors_nb201.md.

Run from the project root (needs ``../shared/data``)::

    nice .venv/bin/python benchmarks/bench_predictors.py            # full run, ~15-25 min
    nice .venv/bin/python benchmarks/bench_predictors.py --quick    # 1 seed, 100 cells
    nice .venv/bin/python benchmarks/bench_predictors.py --own-naswot   # our NASWOT, ~10 min

Steps (each printed as the exact command):

1. ``nbt convert ../shared/data/nb201/nb201_cifar10_200ep_naswot_scores.csv -o STORE``:
   a store with the 200-epoch mean accuracies (target: ``val_accuracy`` of
   ``cifar10-valid`` at epoch 200 = ``cifar10_valid_xvalid_acc``), the published
   ``naswot_score`` and ``params``; FLOPs come from the space's analytic cost model.
2. ``nbt eval-predictor --bench STORE ... --predictors all --output
   benchmarks/results/predictors_nb201``: every registered predictor (zero-cost scorers
   that build networks excepted), feature sets ``onehot``, ``onehot+naswot+params``,
   ``onehot+graph+zc``, train sizes 100/400/1000, 5 seeds.

With ``--own-naswot`` step 2 uses our own whole-space NASWOT scores instead of the
published ``naswot_score``: ``--features-from data/nb201_zc_naswot_digits.h5:zc_naswot``
(written by ``nbt zc-score``, joined by cell key), predictors ``gbdt``, ``gbdt_tuned``,
``gbdt_rank``, ``rf``, the training-free ``column:zc_naswot`` and, for comparison, the
published ``naswot``; feature sets ``onehot+zc_naswot+params`` (the counterpart of
``onehot+naswot+params``) and ``onehot+graph+zc_naswot+params+flops`` (of
``onehot+graph+zc``), where ``params`` is the CSV's published count, and the same two with
``zc_params``, our own parameter count (``nbt zc-score nb201 --proxy params``, written to
the temporary directory first, a few seconds), so that every feature comes from our code;
output ``benchmarks/results/predictors_nb201/own_naswot``.

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
ZC_STORE = ROOT / "data" / "nb201_zc_naswot_digits.h5"

#: --own-naswot: predictors and feature sets (published-score counterparts in brackets).
OWN_PREDICTORS = "gbdt,gbdt_tuned,gbdt_rank,rf,column:zc_naswot,naswot"
OWN_FEATURES = (
    "onehot+zc_naswot+params,"  # [onehot+naswot+params]
    "onehot+graph+zc_naswot+params+flops,"  # [onehot+graph+zc]
    "onehot+zc_naswot+zc_params,"  # every column computed by our code
    "onehot+graph+zc_naswot+zc_params+flops"
)

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
    p.add_argument("--predictors", default=None, help="default: all (own NASWOT: see above)")
    p.add_argument("--features", default=None)
    p.add_argument("--output", default=None)
    p.add_argument("--renas", action="store_true", help="the ReNAS study (NB201 and NB101)")
    p.add_argument(
        "--own-naswot",
        action="store_true",
        help=f"use our NASWOT scores ({ZC_STORE.name}) instead of the published ones",
    )
    ns = p.parse_args(args)
    if not CSV.is_file():
        sys.stderr.write(f"needs {CSV} (clone ../shared beside the project)\n")
        return 2
    if ns.own_naswot and not ZC_STORE.is_file():
        sys.stderr.write(f"needs {ZC_STORE} (nbt zc-score nb201 ..., docs/zero-cost.md)\n")
        return 2
    own = ns.own_naswot
    predictors = ns.predictors or (OWN_PREDICTORS if own else "all")
    features = ns.features or (
        OWN_FEATURES if own else "onehot,onehot+naswot+params,onehot+graph+zc"
    )
    output = ns.output or str(OUT / "own_naswot" if own else OUT)
    logging.basicConfig(level=logging.WARNING)
    if ns.renas:
        t0 = time.perf_counter()
        renas_study(Path(ns.output or OUT))
        sys.stdout.write(f"ReNAS study wall time: {time.perf_counter() - t0:.0f} s\n")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "nb201_200ep.h5")
        _run(["convert", str(CSV), "-o", store, "-q"])
        if own:  # our own parameter count of every cell (analytic, no network is built)
            params = str(Path(tmp) / "zc_params.h5")
            _run(["zc-score", "nb201", "--proxy", "params", "--cells", "all",
                  "--index-from", str(CSV), "-o", params, "-q"])
        t0 = time.perf_counter()
        argv = [
            "eval-predictor", "--bench", store, "--dataset", "cifar10-valid",
            "--metric", "val_accuracy", "--epoch", "200",
            "--predictors", predictors, "--features", features,
            "--train-sizes", "100" if ns.quick else "100,400,1000",
            "--seeds", "1" if ns.quick else "5",
        ]
        if own:
            argv += ["--features-from", f"{ZC_STORE}:zc_naswot",
                     "--features-from", f"{params}:zc_params"]
        if not ns.quick:
            argv += ["--output", output]
        _run(argv)
        sys.stdout.write(f"harness wall time: {time.perf_counter() - t0:.0f} s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
