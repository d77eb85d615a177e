"""Small NB201 target stores for the predictor tests (shared by several test modules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.spaces.nb201 import SPACE
from nasbench_tools.store import DatasetTable, TableData, write_store


def distinct_cells(n: int = 80) -> list[Any]:
    """``n`` random NB201 cells (seed 0), duplicates dropped, in draw order."""
    cells = SPACE.sample(np.random.default_rng(0), n)
    return [SPACE.parse(k) for k in dict.fromkeys(c.to_string() for c in cells)]


def tiny_target_store(path: Path, cells: list[Any] | None = None) -> Path:
    """A store like ``nbt convert`` writes: one 200-epoch ``val_accuracy`` per cell that
    grows with the number of convolutions (plus noise), ``params`` and a noisy
    ``naswot_score`` feature; rows in the order of ``cells``."""
    cells = distinct_cells() if cells is None else cells
    keys = [c.to_string() for c in cells]
    acc = np.array([60 + 5 * sum(op.startswith("nor_conv") for op in c.ops) for c in cells],
                   dtype=float)
    acc += np.random.default_rng(1).normal(size=len(cells))
    ds = DatasetTable(
        "cifar10-valid", (0,), ((200, 200),), ("val_accuracy",),
        acc.reshape(-1, 1, 1, 1).astype(np.float32),
        costs={"params": np.array([c.num_params() / 1e6 for c in cells])},
        features={"naswot_score": acc + np.random.default_rng(2).normal(scale=3, size=len(cells))},
    )
    return write_store(TableData("nb201", keys, np.arange(len(keys)), {"cifar10-valid": ds}), path)
