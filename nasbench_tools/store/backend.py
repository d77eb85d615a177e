"""The in-memory store backend: a :class:`~nasbench_tools.store.table.TableData` served as a store.

A :class:`~nasbench_tools.store.benchmark.Benchmark` reads metadata and bulk arrays from a
*backend*: the HDF5 file (:class:`~nasbench_tools.store.format.H5Backend`) or, for a table
built in memory (:meth:`Benchmark.from_table`), the :class:`TableBackend` here. Both serve
``meta``, ``keys()``, ``indices()``, ``column()``, ``values()``, ``cost()``, ``feature()``
and ``extra()``.
"""

from __future__ import annotations

import numpy as np

from nasbench_tools.store.format import FORMAT_VERSION, HASH_VERSION, DatasetMeta, StoreMeta
from nasbench_tools.store.table import COSTS, TableData

__all__ = ["TableBackend"]


class TableBackend:
    """Serve a :class:`TableData` held in memory through the backend interface.

    Examples
    --------
    >>> import numpy as np
    >>> from nasbench_tools.store.table import DatasetTable
    >>> ds = DatasetTable("cifar10", (0,), ((4, 4),), ("val_accuracy",), np.ones((1, 1, 1, 1)))
    >>> TableBackend(TableData("nb101", ["h"], np.array([0]), {"cifar10": ds})).meta.n_cells
    1
    """

    def __init__(self, table: TableData) -> None:
        from nasbench_tools.store.format import _check_table

        _check_table(table)
        self.table = table
        datasets = {
            name: DatasetMeta(
                name=name,
                seeds=tuple(int(s) for s in d.seeds),
                fidelities=tuple((int(b), int(e)) for b, e in d.fidelities),
                metrics=tuple(d.metrics),
                costs=tuple(k for k in COSTS if k in d.costs),
                features=tuple(sorted(d.features)),
                present=tuple(int(c) for c in (~np.isnan(d.values)).sum(axis=(0, 1, 2)))
                if d.values.size else tuple(0 for _ in d.metrics),
            )
            for name, d in table.datasets.items()
        }
        self.meta = StoreMeta(
            path=None, space=table.space, n_cells=len(table.keys),
            format_version=FORMAT_VERSION, hash_version=HASH_VERSION, created="", command="",
            nasbench_tools_version="", store_uuid="", provenance=dict(table.provenance),
            datasets=datasets, extra=tuple(sorted(table.extra)),
        )

    def keys(self) -> list[str]:
        return list(self.table.keys)

    def indices(self) -> np.ndarray:
        return np.asarray(self.table.indices, dtype=np.int64)

    def column(self, dataset: str, fidelity: int, metric: int) -> np.ndarray:
        return np.asarray(self.table.datasets[dataset].values[:, :, fidelity, metric])

    def values(self, dataset: str) -> np.ndarray:
        return np.asarray(self.table.datasets[dataset].values)

    def cost(self, dataset: str, name: str) -> np.ndarray:
        return np.asarray(self.table.datasets[dataset].costs[name], dtype=np.float64)

    def feature(self, dataset: str, name: str) -> np.ndarray:
        return np.asarray(self.table.datasets[dataset].features[name], dtype=np.float64)

    def extra(self, name: str) -> np.ndarray:
        return np.asarray(self.table.extra[name])
