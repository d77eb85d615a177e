"""Issue 11 harness runs: BANANAS, GCN, FBNetV3-style pretraining (NB201 and NB101).

Run from the project root (needs ``../shared/data``; CPU-heavy, run it ``nice``)::

    nice -n 10 .venv/bin/python benchmarks/bench_predictors_neural.py --part pretraining
    nice -n 10 .venv/bin/python benchmarks/bench_predictors_neural.py --part neural
    nice -n 10 .venv/bin/python benchmarks/bench_predictors_neural.py --part gcn
    nice -n 10 .venv/bin/python benchmarks/bench_predictors_neural.py --part nb101

Each part runs the harness (:func:`predictors.evaluate.run_evaluation`, the protocol of
``nbt eval-predictor``: the training draw depends only on the seed and the size, so the
rows are comparable with the other files of ``benchmarks/results/predictors_nb201``) one
seed at a time and appends the rows to ``OUT/results.csv`` (a rerun skips the seeds
already there: the script resumes), then rewrites ``summary.md``, the plots and
``command.txt``.

``pretraining`` (``predictors_nb201/pretraining``)
    ``fbnet``, ``fbnet_nopre``, ``fbnet_in``, ``fbnet_in_nopre``, ``gbdt_tuned`` and
    ``gbdt_fbnet`` on ``onehot+graph+zc_naswot+zc_params+flops`` (every column computed by
    this project: our whole-space NASWOT ``data/nb201_zc_naswot_digits.h5``, our
    parameter count, our analytic FLOPs), sizes 20, 50, 100, 400, 1000.
``neural`` (``predictors_nb201/neural``)
    ``bananas`` on ``path``, sizes 20, 50, 100, 400, 1000. (``bananas201``, 10 x 200, took
    about 3 min per fit at 100 cells on the shared CPU, extrapolated 20+ min at 1000: left
    out.)
``gcn`` (``predictors_nb201/gcn``)
    ``gcn`` on ``gbdt`` (the pruned op DAG), sizes 20, 50, 100, 400: with the paper's 300
    epochs at batch size 10 a fit is ``30 * n`` optimiser steps, about 3 min of wall time
    per 3,000 steps on the shared CPU, so 1,000 cells (30,000 steps) was left out.
``nb101`` (``predictors_nb101``)
    The NB101 500-row sample (292 distinct cells, deduplicated by hash as in
    ``bench_predictors.py --renas``), target ``val_accuracy``; the free statistics are the
    sample's ``jacov`` (NASLib's NASWOT) and our analytic ``params`` and ``flops``;
    ``fbnet*``, ``gbdt_tuned``, ``gbdt_fbnet`` on ``onehot+jacov+params+flops``,
    ``bananas`` on ``path``, ``gcn`` on ``onehot``; sizes 20, 50, 100, 200 (the sample
    has 292 cells, so 400 is impossible).

NB201 target: ``cifar10_valid_xvalid_acc`` of the 200-epoch CSV (the store's
``val_accuracy`` of ``cifar10-valid`` at epoch 200, as ``bench_predictors.py``).
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CSV = SHARED / "nb201" / "nb201_cifar10_200ep_naswot_scores.csv"
NB101_CSV = SHARED / "nb101" / "nb101_zc_proxies_sample500.csv"
ZC_STORE = ROOT / "data" / "nb201_zc_naswot_digits.h5"
RESULTS = ROOT / "benchmarks" / "results"

OWN = "onehot+graph+zc_naswot+zc_params+flops"
PARTS: dict[str, dict[str, Any]] = {
    "pretraining": {
        "space": "nb201",
        "out": RESULTS / "predictors_nb201" / "pretraining",
        "predictors": "fbnet,fbnet_nopre,fbnet_in,fbnet_in_nopre,gbdt_tuned,gbdt_fbnet",
        "features": OWN,
        "sizes": [20, 50, 100, 400, 1000],
    },
    "neural": {
        "space": "nb201",
        "out": RESULTS / "predictors_nb201" / "neural",
        "predictors": "bananas",
        "features": "path",
        "sizes": [20, 50, 100, 400, 1000],
    },
    "gcn": {
        "space": "nb201",
        "out": RESULTS / "predictors_nb201" / "gcn",
        "predictors": "gcn",
        "features": "gbdt",
        "sizes": [20, 50, 100, 400],
    },
    "nb101": {
        "space": "nb101",
        "out": RESULTS / "predictors_nb101",
        "predictors": "fbnet,fbnet_nopre,fbnet_in,fbnet_in_nopre,gbdt_tuned,gbdt_fbnet,"
        "bananas,gcn",
        "features": "onehot+jacov+params+flops,path,onehot",
        "sizes": [20, 50, 100, 200],
    },
}

log = logging.getLogger("bench_predictors_neural")


def nb201_data() -> Any:
    """All 15,625 NB201 cells, the 200-epoch target and our own free statistics."""
    from nasbench_tools.spaces import get_space
    from predictors.evaluate import EvalData
    from predictors.features_from import load_features_from

    space = get_space("nb201")
    df = pd.read_csv(CSV).sort_values("nb201_index")
    cells = [space.parse(s) for s in df["arch_str"]]
    extras = load_features_from([f"{ZC_STORE}:zc_naswot"], [c.to_string() for c in cells],
                                space=space)
    # our own parameter count (what ``nbt zc-score nb201 --proxy params`` stores)
    extras["zc_params"] = np.array([c.num_params("cifar10") for c in cells], dtype=np.float64)
    return EvalData(
        cells,
        df["cifar10_valid_xvalid_acc"].to_numpy(),
        space=space,
        extras=extras,
        dataset="cifar10",
        target_name="NB201 cifar10-valid x-valid (200 ep, mean)",
    )


def nb101_data() -> Any:
    """The 292 distinct cells of the NB101 500-row sample with NASLib's jacov score."""
    from nasbench_tools.spaces import get_space
    from nasbench_tools.spaces.nb101 import Cell as NB101Cell
    from predictors.evaluate import EvalData

    s101 = pd.read_csv(NB101_CSV).drop_duplicates("nb101_hash")
    cells = [
        NB101Cell(np.array(json.loads(m)), tuple(json.loads(o)))
        for m, o in zip(s101["matrix"], s101["ops"])
    ]
    return EvalData(
        cells,
        s101["val_accuracy"].to_numpy(),
        space=get_space("nb101"),
        extras={"jacov": s101["jacov"].to_numpy()},
        dataset="cifar10",
        target_name="NB101 validation accuracy (108 ep, one repeat)",
    )


def run_part(name: str, seeds: list[int], time_limit: float) -> None:
    """Run (or resume) one part, one seed at a time; write the report after each seed."""
    import torch

    from predictors.evaluate import EvaluationReport, run_evaluation, write_report

    torch.set_num_threads(1)
    part = PARTS[name]
    out: Path = part["out"]
    out.mkdir(parents=True, exist_ok=True)
    data = nb201_data() if part["space"] == "nb201" else nb101_data()
    csv = out / "results.csv"
    table = pd.read_csv(csv) if csv.is_file() else pd.DataFrame()
    done = set(table["seed"].unique()) if len(table) else set()
    command = (
        f"nice -n 10 .venv/bin/python benchmarks/bench_predictors_neural.py --part {name} "
        f"--seeds {','.join(map(str, seeds))} --time-limit {time_limit:g}"
    )
    t0 = time.perf_counter()
    predictions: dict[Any, Any] = {}
    for seed in seeds:
        if seed in done:
            continue
        if time.perf_counter() - t0 > time_limit:
            log.warning("time limit reached before seed %d", seed)
            break
        rep = run_evaluation(
            data,
            predictors=part["predictors"],
            feature_sets=part["features"],
            train_sizes=part["sizes"],
            seeds=[seed],
            k=100 if part["space"] == "nb201" else 10,
            progress=True,
        )
        table = pd.concat([table, rep.table], ignore_index=True)
        if not predictions:
            predictions = rep.predictions
        write_report(EvaluationReport(table, predictions, data.target_name), out,
                     command=command)
        sys.stdout.write(f"{name}: seed {seed} done at {time.perf_counter() - t0:.0f} s\n")
        sys.stdout.flush()


def report(name: str) -> str:
    """Markdown: Kendall tau (mean ± std over the seeds run) and mean fit / query seconds."""
    from predictors.evaluate import summarize, to_markdown

    table = pd.read_csv(PARTS[name]["out"] / "results.csv")
    seeds = sorted(table["seed"].unique())
    tau = summarize(table)
    fit = table.pivot_table(index=["predictor", "features"], columns="train_size",
                            values="fit_seconds", aggfunc="mean").round(2)
    fit.columns = [f"fit s, n={c}" for c in fit.columns]
    fit["query s (all test cells)"] = (
        table.groupby(["predictor", "features"])["predict_seconds"].mean().round(3)
    )
    tau = tau.join(fit.loc[tau.index])
    return f"seeds {seeds}\n\n" + to_markdown(tau)


def main(args: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=sorted(PARTS), required=True)
    p.add_argument("--report", action="store_true",
                   help="print the tables of the results already written, run nothing")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--time-limit", type=float, default=3600.0,
                   help="start no new seed after this many seconds")
    ns = p.parse_args(args)
    logging.basicConfig(level=logging.WARNING)
    if ns.report:
        sys.stdout.write(report(ns.part) + "\n")
        return 0
    if not CSV.is_file() or not NB101_CSV.is_file():
        sys.stderr.write(f"needs {CSV} and {NB101_CSV}\n")
        return 2
    sys.stdout.write("$ " + shlex.join(sys.argv) + "\n")
    run_part(ns.part, [int(s) for s in ns.seeds.split(",")], ns.time_limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
