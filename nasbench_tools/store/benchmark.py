"""Query API over a store: lazy opening, vectorised look-ups, budget accounting.

A :class:`Benchmark` sits on a *backend* that serves metadata and bulk arrays: the HDF5
file (:class:`~nasbench_tools.store.format.H5Backend`, opened by :func:`load_benchmark`)
or an in-memory :class:`~nasbench_tools.store.table.TableData` (:meth:`Benchmark.from_table`).
Opening reads metadata only; a ``(dataset, fidelity, metric)`` column (all cells, all
seeds) is read on first use and cached, then every query is an array look-up.

Charged calls (:meth:`Benchmark.query`, :meth:`Benchmark.query_many`) add the simulated
training time of what they ask for to :attr:`Benchmark.budget`, as the official NB201 /
NATS APIs do (``train_time`` up to the asked epoch plus one evaluation pass,
``val_time``); the ``lookup*`` calls and :meth:`Benchmark.column` are never charged.

:class:`Benchmark` is composed of one layer per job, each in its own module and each using
only the layers below it: :mod:`~nasbench_tools.store.metadata` (what the store holds,
``dataset=`` resolution) -> :mod:`~nasbench_tools.store.cells` (cell <-> row) ->
:mod:`~nasbench_tools.store.columns` (metric / fidelity / seed resolution, value, cost and
feature columns) -> :mod:`~nasbench_tools.store.budget` (charges, :class:`Budget`) ->
:mod:`~nasbench_tools.store.query` (look-ups and charged queries), with
:mod:`~nasbench_tools.store.report` (:class:`StoreInfo`, ``to_pandas``) beside them and the
in-memory backend in :mod:`~nasbench_tools.store.backend`. This module ties them together
(construction, pickling, :meth:`Benchmark.fork`) and keeps every public name importable
from here and from :mod:`nasbench_tools.store`.

Examples
--------
>>> import numpy as np
>>> from nasbench_tools.store.table import DatasetTable, TableData
>>> vals = np.array([[[[90.0, 100.0]], [[92.0, 110.0]]],
...                  [[[80.0, 50.0]], [[np.nan, 60.0]]]])   # 2 cells, 2 seeds, 1 fidelity
>>> ds = DatasetTable("cifar10", (777, 888), ((12, 12),), ("val_accuracy", "train_time"), vals)
>>> bench = Benchmark.from_table(TableData("nb201", ["a", "b"], np.array([0, 1]), {"cifar10": ds}))
>>> bench.query("a", "val_accuracy", epoch=12)       # mean over seeds
91.0
>>> bench.query(1, "val_accuracy", epoch=12, seed=777)
80.0
>>> bench.budget
Budget(queries=2, simulated_seconds=155.0, untimed_queries=0)
>>> bench.lookup_many(np.array([0, 1]), "val_accuracy").tolist()
[91.0, 80.0]
"""

from __future__ import annotations

import copy
import os
from typing import Any

from nasbench_tools.store.backend import TableBackend
from nasbench_tools.store.budget import Budget, TimeModel
from nasbench_tools.store.cells import CELL_BUILDERS, CELL_KEY
from nasbench_tools.store.format import H5Backend
from nasbench_tools.store.metadata import KNOWN_DATASETS
from nasbench_tools.store.query import _Queries
from nasbench_tools.store.report import DatasetInfo, StoreInfo, _Reports
from nasbench_tools.store.table import TableData

__all__ = [
    "CELL_BUILDERS",
    "CELL_KEY",
    "KNOWN_DATASETS",
    "Benchmark",
    "Budget",
    "DatasetInfo",
    "StoreInfo",
    "TableBackend",
    "TimeModel",
    "load_benchmark",
]


class Benchmark(_Queries, _Reports):
    """A tabular benchmark opened for queries.

    Parameters
    ----------
    backend : H5Backend or TableBackend
        Where metadata and arrays come from; use :func:`load_benchmark` or
        :meth:`from_table` rather than building one.
    time_model : callable, optional
        ``time_model(rows, dataset) -> seconds per epoch`` (arrays), used to charge queries
        for cells whose training time the store does not hold.
    max_seconds, max_queries : float / int, optional
        Limits of the charged budget; a charged query that would exceed one raises
        :class:`~nasbench_tools.errors.BudgetExhaustedError` and charges nothing.

    Notes
    -----
    ``seed`` arguments: ``"mean"`` (the published mean where the store holds one, else
    the mean over the trials present, NaN ignored), ``"random"`` (one trial drawn with the
    ``rng`` you pass, among the trials present for that cell) or an ``int`` seed of
    :meth:`seeds`. ``epoch`` / ``budget``: see :meth:`fidelities`; ``epoch=e`` alone means
    the fidelity ``(e, e)``; nothing means the final epoch of the largest budget.

    Examples
    --------
    >>> import numpy as np
    >>> from nasbench_tools.store.format import MEAN_SEED
    >>> from nasbench_tools.store.table import DatasetTable
    >>> ds = DatasetTable("cifar10", (MEAN_SEED,), ((12, 12), (200, 200)), ("test_accuracy",),
    ...                   np.array([[[[80.0], [93.0]]], [[[85.0], [94.4]]]]))
    >>> b = Benchmark.from_table(TableData("nb201", ["a", "b"], np.array([0, 1]),
    ...                                    {"cifar10": ds}))
    >>> b.best("test_accuracy", dataset="cifar10", epoch=12, as_key=True)
    ('b', 85.0)
    >>> len(b), b.fidelities("cifar10")
    (2, ((12, 12), (200, 200)))
    """

    def __init__(
        self,
        backend: H5Backend | TableBackend,
        *,
        time_model: TimeModel | None = None,
        max_seconds: float | None = None,
        max_queries: int | None = None,
    ) -> None:
        self._backend = backend
        self._meta = backend.meta
        self._time_model = time_model
        self.max_seconds = max_seconds
        self.max_queries = max_queries
        self._reset_caches()
        self._queries = 0
        self._seconds = 0.0
        self._untimed = 0

    def _reset_caches(self) -> None:
        self._keys = None
        self._indices = None
        self._key_rows = None
        self._index_rows = None
        self._index_sorted = None
        self._identity = None
        self._by_class = None
        self._class_rows = None
        self._raw = {}
        self._specs = {}
        self._cost_cache = {}
        self._feature_cache = {}
        self._extra_cache = {}

    @classmethod
    def from_table(cls, table: TableData, **kwargs: Any) -> Benchmark:
        """A benchmark over an in-memory table (no file), same API as a store.

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (0,), ((1, 1),), ("val_accuracy",), np.ones((3, 1, 1, 1)))
        >>> len(Benchmark.from_table(TableData("nb101", ["x", "y", "z"], np.arange(3), {"c": ds})))
        3
        """
        return cls(TableBackend(table), **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for k in ("_raw", "_specs", "_cost_cache", "_feature_cache", "_extra_cache", "_key_rows",
                  "_index_rows", "_index_sorted"):
            state.pop(k, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        keys, indices = state.get("_keys"), state.get("_indices")
        self._reset_caches()
        self._keys, self._indices = keys, indices

    def __repr__(self) -> str:
        where = self._meta.path or "memory"
        return (f"<Benchmark {self._meta.space} ({where}): {self._meta.n_cells} cells, "
                f"datasets {list(self._meta.datasets)}>")

    @property
    def time_model(self) -> TimeModel | None:
        """The fallback ``time_model(rows, dataset) -> seconds per epoch``."""
        return self._time_model

    @time_model.setter
    def time_model(self, model: TimeModel | None) -> None:
        self._time_model = model
        self._specs.clear()

    def fork(self) -> Benchmark:
        """A view with its own, zeroed budget (and limits, time model) sharing the arrays.

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (0,), ((4, 4),), ("val_accuracy",), np.ones((1, 1, 1, 1)))
        >>> b = Benchmark.from_table(TableData("nb101", ["h"], np.arange(1), {"c": ds}))
        >>> _ = b.query("h", "val_accuracy")
        >>> b.fork().budget.queries, b.budget.queries
        (0, 1)
        """
        other = copy.copy(self)
        other._specs = dict(self._specs)  # own spec cache: a fork may set its own time_model
        other.reset_budget()
        return other


def load_benchmark(
    path: str | os.PathLike[str],
    *,
    time_model: TimeModel | None = None,
    max_seconds: float | None = None,
    max_queries: int | None = None,
) -> Benchmark:
    """Open a store file for queries; reads metadata only.

    Parameters
    ----------
    path : path-like
        A store written by ``nbt convert`` / :func:`~nasbench_tools.store.write_store`.
    time_model, max_seconds, max_queries
        See :class:`Benchmark`.

    Returns
    -------
    Benchmark

    Raises
    ------
    FormatError
        Missing file, not a store, or another store format version.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from nasbench_tools.store.format import write_store
    >>> from nasbench_tools.store.table import DatasetTable
    >>> ds = DatasetTable("cifar10", (777,), ((200, 200),), ("test_accuracy",),
    ...                   np.array([[[[94.0]]]]))
    >>> p = write_store(TableData("nb201", ["k"], np.array([0]), {"cifar10": ds}),
    ...                 pathlib.Path(tempfile.mkdtemp()) / "s.h5")
    >>> load_benchmark(p).lookup(0, "test_accuracy")
    94.0
    """
    return Benchmark(H5Backend(path), time_model=time_model, max_seconds=max_seconds,
                     max_queries=max_queries)
