"""Small data for the ``nbt reproduce`` tests: synthetic stores and shared CSVs.

The search tables need every NB201 cell in the table (the vectorised RS/REA path and the
paper's protocol), so the NB201 store has all 15,625 cells, with synthetic accuracies that
grow with the number of convolutions; everything else is small.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from nasbench_tools.search.base import code_layout
from nasbench_tools.spaces import get_space
from nasbench_tools.store import DatasetTable, TableData, write_store

PUBLISHED_HEADER = "paper,table,space,setting,dataset,metric,mean,std,runs,unit,confirmed,source\n"


def _nb201_cells() -> list[object]:
    lay = code_layout("nb201")
    return [lay.from_code(c) for c in range(lay.size)]


def _acc(cells: list[object], rng: np.random.Generator, base: float) -> np.ndarray:
    conv = np.array([sum(op.startswith("nor_conv") for op in c.ops) for c in cells])  # type: ignore[attr-defined]
    return base + 1.5 * conv + rng.normal(scale=0.8, size=len(cells))


ROBOT_METRICS = ("grad_norm", "snip", "grasp", "fisher", "synflow", "jacov")


def _robot_features(acc: np.ndarray, rng: np.random.Generator, known: int = 60) -> dict[str,
                                                                                       np.ndarray]:
    """RoBoT's six metrics for ``known`` random cells (NaN elsewhere, like NASLib's table)."""
    rows = rng.choice(len(acc), known, replace=False)
    out = {}
    for name in ROBOT_METRICS:
        col = np.full(len(acc), np.nan)
        col[rows] = acc[rows] + rng.normal(scale=2.0, size=known)
        out[name] = col
    return out


def nb201_whole_store(path: Path) -> Path:
    """All 15,625 cells: 12/200-epoch cifar10-valid val_accuracy, 200-epoch cifar10 test
    accuracy, a ``naswot_score`` feature (NaN for 341 cells, like the real one)."""
    cells = _nb201_cells()
    rng = np.random.default_rng(0)
    v200 = _acc(cells, rng, 84.0)
    v12 = v200 - 8 + rng.normal(scale=1.0, size=len(cells))
    test = v200 + 2.5 + rng.normal(scale=0.3, size=len(cells))
    score = v200 + rng.normal(scale=2.0, size=len(cells))
    score[rng.choice(len(cells), 341, replace=False)] = np.nan
    n = len(cells)
    valid = np.stack([v12, v200], axis=1).reshape(n, 1, 2, 1).astype(np.float32)
    c10 = test.reshape(n, 1, 1, 1).astype(np.float32)
    keys = [c.to_string() for c in cells]  # type: ignore[attr-defined]
    tables = {
        "cifar10-valid": DatasetTable("cifar10-valid", (0,), ((12, 12), (200, 200)),
                                      ("val_accuracy",), valid),
        "cifar10": DatasetTable("cifar10", (0,), ((200, 200),), ("test_accuracy",), c10,
                                features={"naswot_score": score, **_robot_features(v200, rng)}),
    }
    return write_store(TableData("nb201", keys, np.arange(n), tables), path)


def zc_store(path: Path) -> Path:
    """All 15,625 cells with a synthetic ``zc_naswot`` feature of ``cifar10``."""
    cells = _nb201_cells()
    rng = np.random.default_rng(1)
    score = _acc(cells, rng, 0.0) + rng.normal(scale=2.0, size=len(cells))
    n = len(cells)
    ds = DatasetTable("cifar10", (0,), ((1, 1),), ("val_accuracy",),
                      np.full((n, 1, 1, 1), np.nan, dtype=np.float32),
                      features={"zc_naswot": score})
    keys = [c.to_string() for c in cells]  # type: ignore[attr-defined]
    return write_store(TableData("nb201", keys, np.arange(n), {"cifar10": ds}), path)


def target_store(path: Path, n: int = 80) -> Path:
    """``n`` random cells: 200-epoch cifar10-valid val_accuracy, cifar10 ``naswot_score``."""
    space = get_space("nb201")
    cells = list({c.to_string(): c for c in space.sample(np.random.default_rng(2), n)}.values())
    acc = _acc(cells, np.random.default_rng(3), 60.0)
    m = len(cells)
    tables = {
        "cifar10-valid": DatasetTable("cifar10-valid", (0,), ((200, 200),), ("val_accuracy",),
                                      acc.reshape(m, 1, 1, 1).astype(np.float32)),
        "cifar10": DatasetTable("cifar10", (0,), ((200, 200),), ("test_accuracy",),
                                acc.reshape(m, 1, 1, 1).astype(np.float32),
                                features={"naswot_score": acc + np.random.default_rng(4).normal(
                                    scale=3, size=m)}),
    }
    keys = [c.to_string() for c in cells]
    return write_store(TableData("nb201", keys, np.arange(m), tables), path)


def embedded_store(path: Path, n: int = 60) -> Path:
    """An embedded-like digits store: ``n`` cells, epochs 1 and 2 of one budget."""
    space = get_space("nb201")
    cells = list({c.to_string(): c for c in space.sample(np.random.default_rng(5), n)}.values())
    m = len(cells)
    acc = _acc(cells, np.random.default_rng(6), 80.0)
    vals = np.empty((m, 1, 2, 3), dtype=np.float32)
    vals[:, 0, 0] = np.stack([acc - 5, acc - 5.5, np.full(m, 3.0)], axis=1)
    vals[:, 0, 1] = np.stack([acc, acc - 0.5, np.full(m, 3.0)], axis=1)
    ds = DatasetTable("digits", (0,), ((2, 1), (2, 2)),
                      ("val_accuracy", "test_accuracy", "train_time"), vals)
    keys = [c.to_string() for c in cells]
    return write_store(TableData("nb201", keys, np.arange(m), {"digits": ds}), path)


PROXIES = ("flops", "params", "snip", "jacov", "grad_norm", "fisher", "grasp", "synflow",
           "epe_nas", "l2_norm", "plain", "nwot")


def shared_dir(root: Path, n: int = 40) -> Path:
    """``root/nb201/nb201_zc_proxies_v20220518_sample.csv`` and
    ``root/nb101/nb101_zc_proxies_sample500.csv`` with ``n`` synthetic cells each."""
    rng = np.random.default_rng(7)
    nb201 = get_space("nb201")
    cells = list({c.to_string(): c for c in nb201.sample(rng, n)}.values())
    frames = []
    for ds in ("cifar10", "cifar100", "ImageNet16-120"):
        acc = _acc(cells, rng, 70.0)
        f = pd.DataFrame({"dataset": ds, "arch_str": [c.to_string() for c in cells],
                          "val_accuracy": acc})
        for p in PROXIES:
            f[p] = acc + rng.normal(scale=3.0, size=len(cells))
        frames.append(f)
    (root / "nb201").mkdir(parents=True, exist_ok=True)
    pd.concat(frames).to_csv(root / "nb201" / "nb201_zc_proxies_v20220518_sample.csv",
                             index=False)
    nb101 = get_space("nb101")
    cells101 = list({c.hash: c for c in nb101.sample(rng, n)}.values())
    acc = 85 + rng.normal(size=len(cells101))
    g = pd.DataFrame({
        "nb101_hash": [c.hash for c in cells101],
        "matrix": [json.dumps(np.asarray(c.matrix).astype(int).tolist()) for c in cells101],
        "ops": [json.dumps(list(c.ops)) for c in cells101],
        "val_accuracy": acc,
    })
    for p in PROXIES[:-1]:
        g[p] = acc + rng.normal(scale=1.0, size=len(cells101))
    (root / "nb101").mkdir(parents=True, exist_ok=True)
    g.to_csv(root / "nb101" / "nb101_zc_proxies_sample500.csv", index=False)
    return root


def published_dir(root: Path) -> Path:
    """A small published directory with records the synthetic data can be compared with."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nb201.csv").write_text(
        PUBLISHED_HEADER
        + "NB201,nb201-search,nb201,rs,cifar10,test_accuracy,93.70,0.36,500,%,yes,Table 5\n"
        + "NB201,nb201-search,nb201,rea,cifar10,test_accuracy,93.92,0.30,500,%,yes,Table 5\n"
        + "NASWOT,naswot-tau,nb201,naswot,cifar10,kendall_tau,0.574,,,,no,Figure 2\n"
        + "ZC,zc-proxies,nb201,synflow,cifar10,spearman_rho,0.74,,,,yes,Table 1\n"
        + "NATS,natsbench-sss-search,nats-sss,rs,cifar100,test_accuracy,69.72,0.61,500,%,no,"
        "NASWOT Table 2(b)\n"
        + "NASWOT,naswot-nats-sss-search,nats-sss,naswot-n100,imagenet16-120,val_accuracy,"
        "42.68,2.58,500,%,yes,Table 2(b)\n"
        + "ReNAS,renas-nb101-search,nb101,renas-6,cifar10,test_accuracy,93.95,0.11,,%,no,"
        "result.PNG\n"
        + "NASWOT,naswot-nb101-search,nb101,rea,cifar10,test_accuracy,93.87,0.22,50,%,yes,"
        "Table 1\n"
    )
    return root


# --------------------------------------------------------------------------- NB101, NATS-sss
def _nb101_cells(n: int, seed: int) -> list[object]:
    space = get_space("nb101")
    return list({c.hash: c for c in space.sample(np.random.default_rng(seed), n)}.values())  # type: ignore[attr-defined]


def nb101_store(path: Path, n: int = 40) -> Path:
    """``n`` random NB101 cells (a stand-in for the 423,624 of the official file: the tests
    relax the min-cells need): cifar10 val/test accuracy and train_time at epoch 108, three
    repeats, the cells' matrices and ops."""
    from nasbench_tools.spaces.nb101.arrays import KIND_INPUT, KIND_OUTPUT, KIND_PAD
    from nasbench_tools.spaces.nb101.ops import OP_CODE

    cells = _nb101_cells(n, 11)
    m = len(cells)
    rng = np.random.default_rng(12)
    conv = np.array([sum("conv3x3" in op for op in c.ops) for c in cells])  # type: ignore[attr-defined]
    base = 88.0 + 1.2 * conv + rng.normal(scale=0.5, size=m)
    vals = np.empty((m, 3, 1, 3), dtype=np.float32)
    for s in range(3):
        vals[:, s, 0, 0] = base + rng.normal(scale=0.2, size=m)
        vals[:, s, 0, 1] = base - 0.5 + rng.normal(scale=0.2, size=m)
        vals[:, s, 0, 2] = 1500.0 + 300 * conv
    kinds = {**OP_CODE, "input": KIND_INPUT, "output": KIND_OUTPUT}
    matrix = np.zeros((m, 7, 7), dtype=np.uint8)
    ops = np.full((m, 7), KIND_PAD, dtype=np.uint8)
    for r, c in enumerate(cells):
        k = c.num_vertices  # type: ignore[attr-defined]
        matrix[r, :k, :k] = c.matrix  # type: ignore[attr-defined]
        ops[r, :k] = [kinds[o] for o in c.ops]  # type: ignore[attr-defined]
    ds = DatasetTable("cifar10", (0, 1, 2), ((108, 108),),
                      ("val_accuracy", "test_accuracy", "train_time"), vals)
    keys = [c.hash for c in cells]  # type: ignore[attr-defined]
    return write_store(TableData("nb101", keys, np.arange(m), {"cifar10": ds},
                                 extra={"nb101_matrix": matrix, "nb101_ops": ops}), path)


def nb101_zc_store(path: Path, n: int = 25) -> Path:
    """A NASWOT zc store (as ``nbt zc-score nb101`` writes it: hashes, no metrics) for the
    first ``n`` cells of :func:`nb101_store` plus a few cells it lacks."""
    cells = _nb101_cells(40, 11)[:n] + _nb101_cells(5, 99)
    m = len(cells)
    score = np.random.default_rng(13).normal(size=m)
    ds = DatasetTable("cifar10", (), (), (), np.empty((m, 0, 0, 0), dtype=np.float32),
                      features={"zc_naswot": score})
    keys = [c.hash for c in cells]  # type: ignore[attr-defined]
    return write_store(TableData("nb101", keys, np.arange(m), {"cifar10": ds}), path)


SSS_DATASETS = {"cifar10-valid": ("val_accuracy",), "cifar10": ("test_accuracy",),
                "cifar100": ("val_accuracy", "test_accuracy"),
                "ImageNet16-120": ("val_accuracy", "test_accuracy")}


def sss_store(path: Path) -> Path:
    """All 32,768 size-space cells (REINFORCE and the vectorised searchers draw from the whole
    space): hp 12 and 90 accuracies per dataset, a 12-epoch train_time of 2000 s (so a 12000 s
    budget is 6 queries)."""
    lay = code_layout("nats_sss")
    cells = [lay.from_code(c) for c in range(lay.size)]
    n = len(cells)
    width = np.array([sum(int(x) for x in c.to_string().split(":")) for c in cells],  # type: ignore[attr-defined]
                     dtype=np.float64)
    rng = np.random.default_rng(14)
    tables = {}
    for name, metrics in SSS_DATASETS.items():
        acc90 = 60.0 + width / 16 + rng.normal(scale=0.5, size=n)
        acc12 = acc90 - 10 + rng.normal(scale=1.0, size=n)
        cols = [np.stack([acc12, acc90], axis=1)] * len(metrics)
        cols.append(np.stack([np.full(n, 2000.0), np.full(n, 15000.0)], axis=1))
        vals = np.stack(cols, axis=2).reshape(n, 1, 2, len(metrics) + 1).astype(np.float32)
        tables[name] = DatasetTable(name, (0,), ((12, 12), (90, 90)), (*metrics, "train_time"),
                                    vals)
    keys = [c.to_string() for c in cells]  # type: ignore[attr-defined]
    return write_store(TableData("nats_sss", keys, np.arange(n), tables), path)


def sss_zc_store(path: Path, n: int = 300) -> Path:
    """NASWOT scores of ``n`` random size-space cells (a uniform sample, as ``nbt zc-score
    nats_sss --cells N`` writes)."""
    lay = code_layout("nats_sss")
    rng = np.random.default_rng(15)
    codes = np.sort(rng.choice(lay.size, n, replace=False))
    cells = [lay.from_code(int(c)) for c in codes]
    score = np.array([sum(int(x) for x in c.to_string().split(":")) for c in cells],  # type: ignore[attr-defined]
                     dtype=np.float64) + rng.normal(scale=20, size=n)
    ds = DatasetTable("cifar10", (), (), (), np.empty((n, 0, 0, 0), dtype=np.float32),
                      features={"zc_naswot": score})
    keys = [c.to_string() for c in cells]  # type: ignore[attr-defined]
    return write_store(TableData("nats_sss", keys, codes.astype(np.int64), {"cifar10": ds}), path)
