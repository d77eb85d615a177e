"""Tabular store: HDF5 format, converters, query API and budget accounting.

Examples
--------
>>> import numpy as np
>>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
>>> ds = DatasetTable("cifar10", (777,), ((200, 200),), ("test_accuracy",), np.full((1, 1, 1, 1), 94.0))
>>> Benchmark.from_table(TableData("nb201", ["k"], np.array([0]), {"cifar10": ds})).lookup(0, "test_accuracy")
94.0
"""

from __future__ import annotations

from nasbench_tools.store.benchmark import (
    Benchmark,
    Budget,
    DatasetInfo,
    StoreInfo,
    TimeModel,
    load_benchmark,
)
from nasbench_tools.store.format import (
    FORMAT_VERSION,
    MEAN_SEED,
    UNKNOWN_SEED,
    StoreWriter,
    read_metadata,
    write_store,
)
from nasbench_tools.store.table import COSTS, METRICS, DatasetTable, TableData

__all__ = [
    "COSTS",
    "FORMAT_VERSION",
    "MEAN_SEED",
    "METRICS",
    "UNKNOWN_SEED",
    "Benchmark",
    "Budget",
    "DatasetInfo",
    "DatasetTable",
    "StoreInfo",
    "StoreWriter",
    "TableData",
    "TimeModel",
    "load_benchmark",
    "read_metadata",
    "write_store",
]
