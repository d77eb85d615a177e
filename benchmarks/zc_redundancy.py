"""How much of a whole-space zero-cost store is already in the cell's own features.

Run from the project root (needs ``../shared/data`` and the ``data/nb201_zc_*_digits.h5``
stores)::

    nice -n 10 .venv/bin/python benchmarks/zc_redundancy.py

Prints, label-free (no accuracy is read): the Kendall tau between the stored proxies over
all NB201 cells, and how well ``gbdt_tuned`` fitted on ``onehot+graph`` of 1,000 random
cells (``default_rng(0)``) predicts each proxy on the other 14,625 cells (Kendall tau and
R^2). A proxy that the cell encoding predicts almost exactly cannot add much to a tree model
that already sees the encoding (``benchmarks/results/predictors_nb201.md``, section *With
our own synflow*).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT.parent / "shared" / "data" / "nb201" / "nb201_cifar10_200ep_naswot_scores.csv"
STORES = {
    "zc_naswot": ROOT / "data" / "nb201_zc_naswot_digits.h5",
    "zc_synflow": ROOT / "data" / "nb201_zc_synflow_digits.h5",
    "zc_params": ROOT / "data" / "nb201_zc_params_digits.h5",
}


def main() -> int:
    """Print the redundancy figures."""
    import pandas as pd

    from nasbench_tools.spaces import get_space
    from nasbench_tools.store import load_benchmark
    from predictors.features import get_feature_set, signed_log10
    from predictors.gbdt import GBDTPredictor
    from predictors.registry import GBDT_TUNED

    keys = list(pd.read_csv(CSV)["arch_str"])
    space = get_space("nb201")
    cells = [space.parse(k) for k in keys]
    cols = {}
    for name, path in STORES.items():
        b = load_benchmark(path)
        cols[name] = np.asarray(b.feature(name), dtype=np.float64)[b.rows(keys)]
    finite = np.isfinite(cols["zc_naswot"])
    names = list(cols)
    for i, a in enumerate(names):
        for b_ in names[i + 1 :]:
            tau = kendalltau(cols[a][finite], cols[b_][finite])[0]
            sys.stdout.write(f"tau({a}, {b_}) over {finite.sum()} cells: {tau:.3f}\n")
    X = get_feature_set("onehot+graph").build(cells, space=space)
    idx = np.random.default_rng(0).permutation(len(cells))
    tr, te = idx[:1000], idx[1000:]
    targets = {
        "log10(1 + zc_synflow)": signed_log10(cols["zc_synflow"]),
        "zc_naswot (-inf -> min)": np.where(finite, cols["zc_naswot"],
                                            np.min(cols["zc_naswot"][finite])),
    }
    for name, t in targets.items():
        model = GBDTPredictor(random_state=0, **GBDT_TUNED).fit(X[tr], t[tr])
        p = model.predict(X[te])
        r2 = 1.0 - float(((p - t[te]) ** 2).sum() / ((t[te] - t[te].mean()) ** 2).sum())
        sys.stdout.write(f"{name} from onehot+graph (1,000 cells -> {te.size}): "
                         f"tau {kendalltau(p, t[te])[0]:.3f}, R^2 {r2:.3f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
