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
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.errors import (
    BudgetExhaustedError,
    NotInBenchmarkError,
    OutOfDomainError,
    allowed,
)
from nasbench_tools.store.format import (
    FORMAT_VERSION,
    HASH_VERSION,
    MEAN_SEED,
    DatasetMeta,
    H5Backend,
    StoreMeta,
    float32_to_decimal,
)
from nasbench_tools.store.table import COSTS, METRICS, TableData

__all__ = [
    "KNOWN_DATASETS",
    "Benchmark",
    "Budget",
    "DatasetInfo",
    "StoreInfo",
    "TableBackend",
    "TimeModel",
    "load_benchmark",
]

log = logging.getLogger(__name__)

#: Dataset names the project knows (a name outside this list is out of the vocabulary).
KNOWN_DATASETS: tuple[str, ...] = ("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120")

#: ``time_model(rows, dataset) -> seconds per epoch`` for each row (an array), used to
#: charge queries when the store holds no training times.
TimeModel = Callable[[np.ndarray, str], np.ndarray]

_SEED_WORDS = ("mean", "random")
_PY_LIST_MAX = 65536  # stores up to this many rows keep Python lists for single look-ups


# ----------------------------------------------------------------------------- dataclasses
@dataclass(frozen=True)
class Budget:
    """What charged queries have cost so far.

    Attributes
    ----------
    queries : int
        Charged queries (each cell of a ``query_many`` counts once).
    simulated_seconds : float
        Simulated training time charged.
    untimed_queries : int
        Charged queries for which no time was known (no ``train_time``, no
        ``train_time_per_epoch`` cost, no ``time_model``); they added 0 seconds.
    """

    queries: int
    simulated_seconds: float
    untimed_queries: int = 0


@dataclass(frozen=True)
class DatasetInfo:
    """Summary of one dataset of a store."""

    name: str
    seeds: tuple[int, ...]
    fidelities: tuple[tuple[int, int], ...]
    metrics: tuple[str, ...]
    costs: tuple[str, ...]
    features: tuple[str, ...]
    present: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreInfo:
    """Summary of a store, as printed by ``nbt info``."""

    path: str | None
    space: str
    n_cells: int
    format_version: int
    hash_version: int
    created: str
    command: str
    nasbench_tools_version: str
    provenance: dict[str, Any]
    datasets: tuple[DatasetInfo, ...]
    extra: tuple[str, ...] = ()

    def render(self) -> str:
        """Human-readable multi-line text.

        Examples
        --------
        >>> StoreInfo(None, "nb201", 0, 1, 1, "", "", "0.1.0", {}, ()).render().splitlines()[0]
        'store: (in memory)'
        """
        from nasbench_tools.store.format import is_pseudo_seed

        def seed_name(s: int) -> str:
            if s == MEAN_SEED:
                return "mean(published)"
            return f"unknown-seed trial {-s - 1}" if is_pseudo_seed(s) else str(s)

        lines = [
            f"store: {self.path or '(in memory)'}",
            f"space: {self.space}",
            f"cells: {self.n_cells}",
            f"format version: {self.format_version} (keys: hash version {self.hash_version})",
            f"created: {self.created or '-'} by nasbench-tools {self.nasbench_tools_version}",
            f"command: {self.command or '-'}",
        ]
        for src in self.provenance.get("sources", []):
            lines.append(
                f"source: {src.get('path', '?')} [{src.get('format', '?')}] "
                f"sha256={src.get('sha256', '?')}"
            )
        for d in self.datasets:
            lines.append(f"dataset {d.name}:")
            lines.append("  seeds: " + (", ".join(seed_name(s) for s in d.seeds) or "-"))
            budgets: dict[int, list[int]] = {}
            for b, e in d.fidelities:
                budgets.setdefault(b, []).append(e)
            for b, eps in sorted(budgets.items()):
                eps = sorted(eps)
                shown = (f"{eps[0]}..{eps[-1]} ({len(eps)} epochs)"
                         if len(eps) > 6 else ", ".join(map(str, eps)))
                lines.append(f"  budget {b}: epochs {shown}")
            for m in d.metrics:
                lines.append(f"  metric {m}: {d.present.get(m, 0)} values")
            if d.costs:
                lines.append("  costs: " + ", ".join(d.costs))
            if d.features:
                lines.append("  features: " + ", ".join(d.features))
        if self.extra:
            lines.append("extra: " + ", ".join(self.extra))
        return "\n".join(lines)


# ----------------------------------------------------------------------------- backends
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


# ----------------------------------------------------------------------------- cells <-> keys
def _key_nb101(cell: Any) -> str:
    return str(cell.hash)


def _key_string(cell: Any) -> str:
    return str(cell.to_string())


#: How a cell object becomes a store key, per space (default: ``to_string()``).
CELL_KEY: dict[str, Callable[[Any], str]] = {"nb101": _key_nb101}


def _cell_from_key(space: str, key: str) -> Any:
    from nasbench_tools.spaces import get_space

    return get_space(space).parse(key)


def _nb101_cell(bench: Benchmark, row: int) -> Any:
    """Rebuild an NB101 cell from the stored matrix and op codes (no hash look-up)."""
    if not {"nb101_matrix", "nb101_ops"} <= set(bench.extra_names):
        return _cell_from_key("nb101", bench.keys[row])
    from nasbench_tools.spaces.nb101 import Cell
    from nasbench_tools.spaces.nb101.arrays import KIND_INPUT, KIND_OUTPUT, KIND_PAD
    from nasbench_tools.spaces.nb101.ops import OPS

    labels = {**dict(enumerate(OPS)), KIND_INPUT: "input", KIND_OUTPUT: "output"}
    matrix, ops = bench._extra_cached("nb101_matrix"), bench._extra_cached("nb101_ops")
    codes = [int(c) for c in ops[row] if int(c) != KIND_PAD]
    n = len(codes)
    return Cell(np.asarray(matrix[row][:n, :n]), [labels[c] for c in codes])


#: How a store row becomes a cell object, per space (default: the space's ``parse`` of the key).
CELL_BUILDERS: dict[str, Callable[[Benchmark, int], Any]] = {"nb101": _nb101_cell}


@dataclass
class _Spec:
    """A resolved (metric, dataset, fidelity, seed) request."""

    label: str
    dataset: str
    values: np.ndarray  # (n,) float64, or (n, trials) for seed="random"
    charge: np.ndarray  # same shape, seconds (NaN = unknown)
    random: bool
    mean_only: bool = False
    # Python lists of values / charges, built on the first single-cell call (faster to
    # index than numpy scalars; not built for vectorised users).
    py_values: list[float] | None = None
    py_charge: list[float] | None = None

    def lists(self) -> tuple[list[float], list[float]] | None:
        if self.py_values is None or self.py_charge is None:
            if len(self.values) > _PY_LIST_MAX:
                return None  # large stores: index numpy directly, spare the memory
            self.py_values = self.values.tolist()
            self.py_charge = self.charge.tolist()
        return self.py_values, self.py_charge


def _cached_column(
    cache: dict[tuple[str, str], np.ndarray], dataset: str, name: str,
    load: Callable[[str, str], np.ndarray],
) -> np.ndarray:
    """``load(dataset, name)`` made read-only, loaded once per ``(dataset, name)``."""
    col = cache.get((dataset, name))
    if col is None:
        col = load(dataset, name)
        col.setflags(write=False)
        cache[(dataset, name)] = col
    return col


# ----------------------------------------------------------------------------- Benchmark
class Benchmark:
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
        self._meta: StoreMeta = backend.meta
        self._time_model = time_model
        self.max_seconds = max_seconds
        self.max_queries = max_queries
        self._reset_caches()
        self._queries = 0
        self._seconds = 0.0
        self._untimed = 0

    def _reset_caches(self) -> None:
        self._keys: list[str] | None = None
        self._indices: np.ndarray | None = None
        self._key_rows: dict[str, int] | None = None
        self._index_rows: dict[int, int] | None = None
        self._index_sorted: tuple[np.ndarray, np.ndarray] | None = None
        self._identity: bool | None = None
        self._raw: dict[tuple[str, int, int], np.ndarray] = {}
        self._specs: dict[tuple[Any, ...], _Spec] = {}
        self._cost_cache: dict[tuple[str, str], np.ndarray] = {}
        self._feature_cache: dict[tuple[str, str], np.ndarray] = {}
        self._extra_cache: dict[str, np.ndarray] = {}

    # -- construction / pickling
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

    # -- vocabulary
    @property
    def space(self) -> str:
        """Registry name of the search space (``"nb101"``, ``"nb201"``, ``"nats_sss"``)."""
        return self._meta.space

    @property
    def path(self) -> Path | None:
        """The store file (``None`` for an in-memory benchmark)."""
        return self._meta.path

    @property
    def datasets(self) -> tuple[str, ...]:
        """Dataset names, in store order."""
        return tuple(self._meta.datasets)

    def metrics(self, dataset: str | None = None) -> tuple[str, ...]:
        """Metric names of ``dataset``."""
        return self._dmeta(dataset).metrics

    def seeds(self, dataset: str | None = None) -> tuple[int, ...]:
        """Seed ids of ``dataset`` (negative ids: ``MEAN_SEED`` / unknown trials)."""
        return self._dmeta(dataset).seeds

    def fidelities(self, dataset: str | None = None) -> tuple[tuple[int, int], ...]:
        """``(budget, epoch)`` pairs of ``dataset``, in store order."""
        return self._dmeta(dataset).fidelities

    def budgets(self, dataset: str | None = None) -> tuple[int, ...]:
        """Training-schedule lengths of ``dataset``, ascending."""
        return tuple(sorted({b for b, _ in self._dmeta(dataset).fidelities}))

    def epochs(self, dataset: str | None = None, budget: int | None = None) -> tuple[int, ...]:
        """Epochs held for ``dataset`` (of one ``budget``, or of all), ascending."""
        fids = self._dmeta(dataset).fidelities
        return tuple(sorted({e for b, e in fids if budget is None or b == budget}))

    def costs(self, dataset: str | None = None) -> tuple[str, ...]:
        """Cost columns of ``dataset``."""
        return self._dmeta(dataset).costs

    def features(self, dataset: str | None = None) -> tuple[str, ...]:
        """Feature columns of ``dataset`` (training-free scores, proxies)."""
        return self._dmeta(dataset).features

    @property
    def extra_names(self) -> tuple[str, ...]:
        """Names of the verbatim per-cell arrays (e.g. ``nb101_matrix``)."""
        return self._meta.extra

    def extra(self, name: str) -> np.ndarray:
        """One verbatim per-cell array."""
        if name not in self._meta.extra:
            raise NotInBenchmarkError(
                f"this store has no extra array {name!r}; it has: {allowed(self._meta.extra)}"
            )
        return self._backend.extra(name)

    def _extra_cached(self, name: str) -> np.ndarray:
        col = self._extra_cache.get(name)
        if col is None:
            col = self.extra(name)
            self._extra_cache[name] = col
        return col

    # -- cells
    @property
    def keys(self) -> list[str]:
        """Key of each store row (NB101 module hash, NB201 / SSS string)."""
        if self._keys is None:
            self._keys = self._backend.keys()
        return self._keys

    @property
    def indices(self) -> np.ndarray:
        """Official index of each store row (int64)."""
        if self._indices is None:
            self._indices = self._backend.indices()
            self._indices.setflags(write=False)
        return self._indices

    def __len__(self) -> int:
        return self._meta.n_cells

    def __iter__(self) -> Iterator[Any]:
        for row in range(len(self)):
            yield self.cell_at(row)

    def cell_at(self, row: int) -> Any:
        """The cell object of store row ``row`` (built through the space's ``parse``)."""
        n = len(self)
        if not (isinstance(row, (int, np.integer)) and 0 <= int(row) < n):
            raise OutOfDomainError(f"row {row!r} out of range; allowed: 0 .. {n - 1}")
        build = CELL_BUILDERS.get(self.space)
        if build is not None:
            return build(self, int(row))
        return _cell_from_key(self.space, self.keys[int(row)])

    def _key_map(self) -> dict[str, int]:
        if self._key_rows is None:
            self._key_rows = {k: i for i, k in enumerate(self.keys)}
        return self._key_rows

    def _index_map(self) -> dict[int, int]:
        if self._index_rows is None:
            self._index_rows = {int(k): i for i, k in enumerate(self.indices.tolist())}
        return self._index_rows

    def _row_slow(self, cell: Any) -> int:
        if isinstance(cell, (bool, np.bool_)):
            raise OutOfDomainError(f"a cell cannot be a boolean ({cell!r})")
        if isinstance(cell, (int, np.integer)):
            if self._identity is None:
                self._identity = bool(np.array_equal(self.indices, np.arange(len(self))))
            if self._identity and 0 <= int(cell) < len(self):
                return int(cell)
            r = self._index_map().get(int(cell))
            if r is None:
                idx = self.indices
                span = f"{int(idx.min())} .. {int(idx.max())}" if len(idx) else "none"
                raise NotInBenchmarkError(
                    f"official index {int(cell)} is not in this {self.space} store "
                    f"({len(idx)} cells, indices {span})"
                )
            return r
        if isinstance(cell, str):
            r = self._key_map().get(cell)
            if r is not None:
                return r
            parsed = _cell_from_key(self.space, cell)  # OutOfDomainError if malformed
            key = CELL_KEY.get(self.space, _key_string)(parsed)
        else:
            try:
                key = CELL_KEY.get(self.space, _key_string)(cell)
            except AttributeError as exc:
                raise OutOfDomainError(
                    f"cannot use {type(cell).__name__} {cell!r} as a {self.space} cell; give a "
                    f"cell object, its string, an official index (int) or an NB101 hash"
                ) from exc
        r = self._key_map().get(key)
        if r is None:
            raise NotInBenchmarkError(
                f"cell {key!r} is a valid {self.space} cell but not in this store "
                f"({len(self)} cells)"
            )
        return r

    def row(self, cell: Any) -> int:
        """Store row of one cell (object, string, official index or NB101 hash).

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (0,), ((1, 1),), ("val_accuracy",), np.ones((2, 1, 1, 1)))
        >>> b = Benchmark.from_table(TableData("nb201", ["x", "y"], np.array([7, 3]), {"c": ds}))
        >>> b.row(3), b.row("x")
        (1, 0)
        """
        t = type(cell)
        if t is int:
            if self._identity and 0 <= cell < self._meta.n_cells:
                return cell  # type: ignore[no-any-return]
            m = self._index_rows
            if m is not None:
                r = m.get(cell)
                if r is not None:
                    return r
        elif t is str:
            m2 = self._key_rows
            if m2 is not None:
                r = m2.get(cell)
                if r is not None:
                    return r
        return self._row_slow(cell)

    def rows(self, cells: Iterable[Any] | np.ndarray) -> np.ndarray:
        """Store rows (int64) of many cells; an integer array is mapped vectorised.

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (0,), ((1, 1),), ("val_accuracy",), np.ones((2, 1, 1, 1)))
        >>> b = Benchmark.from_table(TableData("nb201", ["x", "y"], np.array([7, 3]), {"c": ds}))
        >>> b.rows(np.array([3, 7, 3])).tolist(), b.rows(["y", 7]).tolist()
        ([1, 0, 1], [1, 0])
        """
        if isinstance(cells, np.ndarray) and cells.dtype.kind in "iu":
            return self._rows_of_indices(cells.astype(np.int64, copy=False).ravel())
        if isinstance(cells, range):
            return self._rows_of_indices(np.asarray(cells, dtype=np.int64))
        if isinstance(cells, list) and cells and all(type(c) is int for c in cells):
            return self._rows_of_indices(np.asarray(cells, dtype=np.int64))
        return np.fromiter((self.row(c) for c in cells), dtype=np.int64)

    def _rows_of_indices(self, idx: np.ndarray) -> np.ndarray:
        indices = self.indices
        n = len(indices)
        if self._identity is None:
            self._identity = bool(n == 0 or np.array_equal(indices, np.arange(n)))
        if self._identity:
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                bad = idx[(idx < 0) | (idx >= n)][0]
                return np.asarray([self._row_slow(int(bad))])  # raises with the message
            return idx
        if self._index_sorted is None:
            order = np.argsort(indices, kind="stable")
            self._index_sorted = (indices[order], order)
        srt, order = self._index_sorted
        pos = np.searchsorted(srt, idx)
        pos_c = np.minimum(pos, n - 1)
        ok = srt[pos_c] == idx
        if not ok.all():
            self._row_slow(int(idx[~ok][0]))  # raises
        return order[pos_c]

    # -- resolution of (dataset, metric, fidelity, seed)
    def _dataset(self, dataset: str | None) -> str:
        ds = self._meta.datasets
        if dataset is None:
            if len(ds) == 1:
                return next(iter(ds))
            raise OutOfDomainError(
                f"this store holds several datasets; pass dataset= one of {allowed(ds)}"
            )
        if dataset in ds:
            return dataset
        if isinstance(dataset, str) and dataset in KNOWN_DATASETS:
            raise NotInBenchmarkError(
                f"dataset {dataset!r} is not in this store; it holds {allowed(ds)}"
            )
        raise OutOfDomainError(
            f"unknown dataset {dataset!r}; this store holds {allowed(ds)} "
            f"(known datasets: {allowed(KNOWN_DATASETS)})"
        )

    def _dmeta(self, dataset: str | None) -> DatasetMeta:
        return self._meta.datasets[self._dataset(dataset)]

    def _metric(self, dm: DatasetMeta, metric: str) -> int:
        if metric in dm.metrics:
            return dm.metrics.index(metric)
        if metric in METRICS:
            raise NotInBenchmarkError(
                f"metric {metric!r} is not stored for dataset {dm.name!r}; it has "
                f"{allowed(dm.metrics)}"
            )
        raise OutOfDomainError(
            f"unknown metric {metric!r}; allowed: {allowed(METRICS, 20)} "
            f"(dataset {dm.name!r} stores {allowed(dm.metrics)})"
        )

    def _fidelity(self, dm: DatasetMeta, epoch: Any, budget: Any) -> int:
        for name, v in (("epoch", epoch), ("budget", budget)):
            if v is not None and (
                isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1
            ):
                raise OutOfDomainError(f"{name} must be a positive int or None; got {v!r}")
        fids = dm.fidelities
        if not fids:
            raise NotInBenchmarkError(f"dataset {dm.name!r} holds no fidelities")
        if epoch is None and budget is None:
            b = max(b for b, _ in fids)
            e = max(e for bb, e in fids if bb == b)
        elif epoch is None:
            eps = [e for bb, e in fids if bb == budget]
            if not eps:
                raise NotInBenchmarkError(
                    f"budget {budget} is not stored for dataset {dm.name!r}; budgets: "
                    f"{allowed(sorted({b for b, _ in fids}))}"
                )
            b, e = int(budget), max(eps)  # type: ignore[arg-type]
        else:
            b, e = int(budget if budget is not None else epoch), int(epoch)
        if (b, e) in fids:
            return fids.index((b, e))
        hint = [f for f in fids if f[1] == e]
        more = f"; epoch {e} exists with budget {allowed(sorted(f[0] for f in hint))}" if hint else ""
        raise NotInBenchmarkError(
            f"fidelity (budget={b}, epoch={e}) is not stored for dataset {dm.name!r}; "
            f"(budget, epoch) pairs: {allowed(sorted(fids))}{more}"
        )

    def _raw_column(self, ds: str, f: int, m: int) -> np.ndarray:
        key = (ds, f, m)
        col = self._raw.get(key)
        if col is None:
            col = float32_to_decimal(self._backend.column(ds, f, m))
            col.setflags(write=False)
            self._raw[key] = col
        return col

    @staticmethod
    def _seed_parts(dm: DatasetMeta) -> tuple[int | None, list[int]]:
        mean_i = dm.seeds.index(MEAN_SEED) if MEAN_SEED in dm.seeds else None
        trials = [i for i, s in enumerate(dm.seeds) if s != MEAN_SEED]
        return mean_i, trials

    def _reduce(self, dm: DatasetMeta, raw: np.ndarray, seed: Any) -> np.ndarray:
        """(n, S) -> (n,) for "mean" / int seeds, (n, trials) for "random"."""
        mean_i, trials = self._seed_parts(dm)
        if seed == "random":
            return raw[:, trials]
        if seed == "mean":
            if trials:
                part = raw[:, trials]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    out = np.nanmean(part, axis=1) if part.shape[1] > 1 else part[:, 0].copy()
            else:
                out = np.full(raw.shape[0], np.nan)
            if mean_i is not None:
                pub = raw[:, mean_i]
                out = np.where(np.isnan(pub), out, pub)
            return out
        return raw[:, dm.seeds.index(int(seed))]

    def _check_seed(self, dm: DatasetMeta, seed: Any) -> None:
        if isinstance(seed, str):
            if seed not in _SEED_WORDS:
                raise OutOfDomainError(
                    f"seed must be 'mean', 'random' or an int seed of {allowed(dm.seeds)}; "
                    f"got {seed!r}"
                )
            if seed == "random" and all(s == MEAN_SEED for s in dm.seeds):
                raise NotInBenchmarkError(
                    f"dataset {dm.name!r} holds published means only (no per-trial values), so "
                    f"seed='random' cannot draw a trial; use seed='mean'"
                )
            return
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
            raise OutOfDomainError(
                f"seed must be 'mean', 'random' or an int; got {type(seed).__name__} {seed!r}"
            )
        if int(seed) not in dm.seeds:
            raise NotInBenchmarkError(
                f"seed {int(seed)} is not stored for dataset {dm.name!r}; seeds: "
                f"{allowed(dm.seeds)} (-1 = published mean, -2.. = trials of unknown seed)"
            )

    def _charge_matrix(self, dm: DatasetMeta, f: int, seed: Any) -> np.ndarray:
        """Seconds charged per row (and per trial for seed="random"); NaN = unknown.

        ``train_time`` (cumulative to the epoch) where stored, else the
        ``train_time_per_epoch`` cost times the epoch, else the time model times the epoch;
        plus one evaluation pass (``val_time``) where stored.
        """
        _, epoch = dm.fidelities[f]
        n = len(self)
        shape = (n, len(self._seed_parts(dm)[1])) if seed == "random" else (n,)
        fallback = np.full(n, np.nan)
        if "train_time_per_epoch" in dm.costs:
            fallback = self.cost_column("train_time_per_epoch", dm.name) * epoch
        if self._time_model is not None and np.isnan(fallback).any():
            modelled = np.asarray(
                self._time_model(np.arange(n, dtype=np.int64), dm.name), dtype=np.float64
            ).reshape(n) * epoch
            fallback = np.where(np.isnan(fallback), modelled, fallback)
        charge = np.array(np.broadcast_to(fallback[:, None] if len(shape) == 2 else fallback,
                                          shape))
        if "train_time" in dm.metrics:
            stored = self._reduce(dm, self._raw_column(dm.name, f, dm.metrics.index("train_time")),
                                  seed)
            charge = np.where(np.isnan(stored), charge, stored)
        if "val_time" in dm.metrics:
            vt = self._reduce(dm, self._raw_column(dm.name, f, dm.metrics.index("val_time")), seed)
            charge = charge + np.nan_to_num(vt, nan=0.0)
        return charge

    def _spec(self, metric: str, dataset: str | None, epoch: Any, budget: Any, seed: Any) -> _Spec:
        key = (metric, dataset, epoch, budget, seed, type(epoch), type(seed))
        spec = self._specs.get(key)
        if spec is not None:
            return spec
        ds = self._dataset(dataset)
        dm = self._meta.datasets[ds]
        m = self._metric(dm, metric)
        f = self._fidelity(dm, epoch, budget)
        self._check_seed(dm, seed)
        raw = self._raw_column(ds, f, m)
        values = np.ascontiguousarray(self._reduce(dm, raw, seed))
        charge = np.ascontiguousarray(self._charge_matrix(dm, f, seed))
        values.setflags(write=False)
        b, e = dm.fidelities[f]
        spec = _Spec(
            label=f"{metric} of dataset {ds!r} at (budget={b}, epoch={e}), seed={seed!r}",
            dataset=ds, values=values, charge=charge, random=seed == "random",
            mean_only=all(s == MEAN_SEED for s in dm.seeds),
        )
        self._specs[key] = spec
        return spec

    def _missing(self, spec: _Spec, row: int) -> NotInBenchmarkError:
        return NotInBenchmarkError(
            f"cell {self.keys[row]!r} (row {row}) has no {spec.label} in this store"
        )

    # -- single look-ups
    def _value(self, spec: _Spec, row: int, rng: np.random.Generator | None) -> tuple[float, float]:
        if not spec.random:
            lists = spec.lists()
            if lists is None:
                v, c = float(spec.values[row]), float(spec.charge[row])
            else:
                v, c = lists[0][row], lists[1][row]
            if v != v:
                raise self._missing(spec, row)
            return v, c
        if rng is None or not isinstance(rng, np.random.Generator):
            raise OutOfDomainError(
                "seed='random' needs rng=, a numpy.random.Generator (e.g. np.random.default_rng(0))"
            )
        vals = spec.values[row]
        ok = np.flatnonzero(~np.isnan(vals))
        if not ok.size:
            raise self._missing(spec, row)
        j = int(ok[rng.integers(ok.size)]) if ok.size > 1 else int(ok[0])
        return float(vals[j]), float(spec.charge[row, j])

    def lookup(
        self,
        cell: Any,
        metric: str,
        dataset: str | None = None,
        epoch: int | None = None,
        seed: str | int = "mean",
        rng: np.random.Generator | None = None,
        *,
        budget: int | None = None,
    ) -> float:
        """Value of ``metric`` for one cell, not charged to the budget.

        Parameters
        ----------
        cell : cell object, str, int
            A cell, its string, its official index or its NB101 hash.
        metric : str
            A name from :data:`~nasbench_tools.store.table.METRICS`.
        dataset : str, optional
            Required when the store holds several datasets.
        epoch, budget : int, optional
            Fidelity; ``epoch`` alone selects ``(epoch, epoch)``; neither selects the final
            epoch of the largest budget.
        seed : {"mean", "random"} or int
            See the class notes.
        rng : numpy.random.Generator, optional
            Required for ``seed="random"``.

        Returns
        -------
        float

        Raises
        ------
        NotInBenchmarkError
            Valid but absent cell, dataset, metric, fidelity, seed, or a missing value.
        OutOfDomainError
            Names outside the vocabularies, malformed cells.

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (1, 2), ((5, 5),), ("val_accuracy",),
        ...                   np.array([[[[1.0]], [[3.0]]]]))
        >>> b = Benchmark.from_table(TableData("nb101", ["h"], np.array([0]), {"c": ds}))
        >>> b.lookup("h", "val_accuracy"), b.lookup("h", "val_accuracy", seed=2)
        (2.0, 3.0)
        >>> b.lookup(0, "val_accuracy", seed="random", rng=np.random.default_rng(0)) in (1.0, 3.0)
        True
        """
        spec = self._specs.get((metric, dataset, epoch, budget, seed, type(epoch), type(seed)))
        if spec is None:
            spec = self._spec(metric, dataset, epoch, budget, seed)
        return self._value(spec, self.row(cell), rng)[0]

    def query(
        self,
        cell: Any,
        metric: str,
        dataset: str | None = None,
        epoch: int | None = None,
        seed: str | int = "mean",
        rng: np.random.Generator | None = None,
        *,
        budget: int | None = None,
    ) -> float:
        """Like :meth:`lookup`, and charge the simulated training time to :attr:`budget`.

        The charge is the ``train_time`` up to the asked epoch plus one evaluation pass
        (``val_time``) of the same seed choice, as the official NB201 / NATS
        ``simulate_train_eval`` counts it; without stored times, the
        ``train_time_per_epoch`` cost times the epoch, else the ``time_model``; else 0
        seconds (counted in ``budget.untimed_queries``).

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (0,), ((4, 4),), ("val_accuracy",), np.ones((1, 1, 1, 1)),
        ...                   costs={"train_time_per_epoch": np.array([2.5])})
        >>> b = Benchmark.from_table(TableData("nb101", ["h"], np.array([0]), {"c": ds}))
        >>> b.query("h", "val_accuracy", epoch=4), b.budget.simulated_seconds
        (1.0, 10.0)
        """
        spec = self._specs.get((metric, dataset, epoch, budget, seed, type(epoch), type(seed)))
        if spec is None:
            spec = self._spec(metric, dataset, epoch, budget, seed)
        value, seconds = self._value(spec, self.row(cell), rng)
        if seconds == seconds and self.max_queries is None and self.max_seconds is None:
            self._queries += 1  # fast path: no limits, known time
            self._seconds += seconds
        else:
            self._charge(1, seconds)
        return value

    # -- many look-ups
    def _many(
        self, cells: Any, metric: str, dataset: str | None, epoch: Any, budget: Any, seed: Any,
        rng: np.random.Generator | None, missing: str,
    ) -> tuple[np.ndarray, np.ndarray, _Spec, np.ndarray]:
        if missing not in ("raise", "nan"):
            raise OutOfDomainError(f"missing must be 'raise' or 'nan'; got {missing!r}")
        spec = self._spec(metric, dataset, epoch, budget, seed)
        rows = self.rows(cells)
        if not spec.random:
            vals = spec.values[rows]
            charge = spec.charge[rows]
        else:
            if rng is None or not isinstance(rng, np.random.Generator):
                raise OutOfDomainError(
                    "seed='random' needs rng=, a numpy.random.Generator "
                    "(e.g. np.random.default_rng(0))"
                )
            mat = spec.values[rows]
            ok = ~np.isnan(mat)
            counts = ok.sum(axis=1)
            pick = np.floor(rng.random(len(rows)) * np.maximum(counts, 1)).astype(np.int64)
            # position of the pick-th present trial in each row
            order = np.argsort(~ok, axis=1, kind="stable")
            j = order[np.arange(len(rows)), pick]
            vals = mat[np.arange(len(rows)), j]
            vals[counts == 0] = np.nan
            charge = spec.charge[rows, j]
        if missing == "raise":
            bad = np.isnan(vals)
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                raise NotInBenchmarkError(
                    f"{int(bad.sum())} of {len(rows)} cells have no {spec.label}; first: "
                    f"{self.keys[int(rows[first])]!r} (row {int(rows[first])}); pass "
                    f"missing='nan' to get NaN instead"
                )
        return np.asarray(vals, dtype=np.float64), np.asarray(charge, dtype=np.float64), spec, rows

    def lookup_many(
        self,
        cells: Iterable[Any] | np.ndarray,
        metric: str,
        dataset: str | None = None,
        epoch: int | None = None,
        seed: str | int = "mean",
        rng: np.random.Generator | None = None,
        *,
        budget: int | None = None,
        missing: str = "raise",
    ) -> np.ndarray:
        """Values for many cells (float64 array), not charged.

        ``cells`` as in :meth:`rows` (an integer array of official indices is the fast
        path). ``missing="nan"`` returns NaN for absent values instead of raising.

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (0,), ((4, 4),), ("val_accuracy",),
        ...                   np.array([1.0, np.nan]).reshape(2, 1, 1, 1))
        >>> b = Benchmark.from_table(TableData("nb101", ["h", "g"], np.arange(2), {"c": ds}))
        >>> b.lookup_many(np.array([1, 0]), "val_accuracy", missing="nan").tolist()
        [nan, 1.0]
        """
        return self._many(cells, metric, dataset, epoch, budget, seed, rng, missing)[0]

    def query_many(
        self,
        cells: Iterable[Any] | np.ndarray,
        metric: str,
        dataset: str | None = None,
        epoch: int | None = None,
        seed: str | int = "mean",
        rng: np.random.Generator | None = None,
        *,
        budget: int | None = None,
        missing: str = "raise",
    ) -> np.ndarray:
        """Like :meth:`lookup_many`, charging each cell as :meth:`query` does.

        All or nothing: if the whole batch would exceed a limit, nothing is charged and
        :class:`~nasbench_tools.errors.BudgetExhaustedError` is raised.

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (0,), ((4, 4),), ("val_accuracy", "train_time"),
        ...                   np.array([[1.0, 8.0], [2.0, 4.0]]).reshape(2, 1, 1, 2))
        >>> b = Benchmark.from_table(TableData("nb101", ["h", "g"], np.arange(2), {"c": ds}))
        >>> b.query_many(np.array([0, 1]), "val_accuracy").tolist(), b.budget.simulated_seconds
        ([1.0, 2.0], 12.0)
        """
        vals, charge, _, _ = self._many(cells, metric, dataset, epoch, budget, seed, rng, missing)
        self._charge_many(charge[~np.isnan(vals)] if missing == "nan" else charge)
        return vals

    def column(
        self,
        metric: str,
        dataset: str | None = None,
        epoch: int | None = None,
        seed: str | int = "mean",
        *,
        budget: int | None = None,
    ) -> np.ndarray:
        """One value per store row (NaN where absent), not charged; a read-only array.

        ``seed="random"`` is not allowed here (draw with :meth:`lookup_many`).

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (0,), ((4, 4),), ("val_accuracy",), np.ones((2, 1, 1, 1)))
        >>> b = Benchmark.from_table(TableData("nb101", ["h", "g"], np.arange(2), {"c": ds}))
        >>> b.column("val_accuracy").tolist()
        [1.0, 1.0]
        """
        if isinstance(seed, str) and seed == "random":
            raise OutOfDomainError(
                "column() takes seed='mean' or an int seed; draw random trials with "
                "lookup_many(..., seed='random', rng=rng)"
            )
        return self._spec(metric, dataset, epoch, budget, seed).values

    def best(
        self,
        metric: str,
        dataset: str | None = None,
        epoch: int | None = None,
        seed: str | int = "mean",
        *,
        budget: int | None = None,
        maximize: bool = True,
        as_key: bool = False,
    ) -> tuple[Any, float]:
        """The best cell of the store under ``metric`` and its value (not charged).

        Returns ``(cell, value)``; with ``as_key=True``, ``(key, value)`` (no space module
        needed). Ties go to the first store row.

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (0,), ((4, 4),), ("val_loss",),
        ...                   np.array([0.5, 0.2, np.nan]).reshape(3, 1, 1, 1))
        >>> b = Benchmark.from_table(TableData("nb101", ["h", "g", "i"], np.arange(3), {"c": ds}))
        >>> b.best("val_loss", maximize=False, as_key=True)
        ('g', 0.2)
        """
        row, value = self.best_row(metric, dataset, epoch, seed, budget=budget, maximize=maximize)
        return (self.keys[row] if as_key else self.cell_at(row)), value

    def best_row(
        self,
        metric: str,
        dataset: str | None = None,
        epoch: int | None = None,
        seed: str | int = "mean",
        *,
        budget: int | None = None,
        maximize: bool = True,
    ) -> tuple[int, float]:
        """Like :meth:`best` but returns the store row."""
        col = self.column(metric, dataset, epoch, seed, budget=budget)
        if not len(col) or np.isnan(col).all():
            raise NotInBenchmarkError(f"no cell of this store has a value for {metric!r} here")
        row = int(np.nanargmax(col) if maximize else np.nanargmin(col))
        return row, float(col[row])

    # -- costs and features
    def cost_column(self, name: str, dataset: str | None = None) -> np.ndarray:
        """One cost per store row (NaN where unknown), read-only.

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (0,), ((4, 4),), ("val_accuracy",), np.ones((1, 1, 1, 1)),
        ...                   costs={"params": np.array([1.5])})
        >>> Benchmark.from_table(TableData("nb101", ["h"], np.arange(1), {"c": ds})
        ...                      ).cost_column("params").tolist()
        [1.5]
        """
        dm = self._dmeta(dataset)
        if name not in dm.costs:
            if name in COSTS:
                raise NotInBenchmarkError(
                    f"cost {name!r} is not stored for dataset {dm.name!r}; it has "
                    f"{allowed(dm.costs) or 'no costs'}"
                )
            raise OutOfDomainError(f"unknown cost {name!r}; allowed: {allowed(COSTS)}")
        return _cached_column(self._cost_cache, dm.name, name, self._backend.cost)

    def cost(self, cell: Any, name: str, dataset: str | None = None) -> float:
        """One cost of one cell (params and FLOPs in millions, times in seconds)."""
        v = self.cost_column(name, dataset)[self.row(cell)]
        if v != v:
            raise NotInBenchmarkError(f"cell {cell!r} has no {name!r} cost in this store")
        return float(v)

    def feature(self, name: str, dataset: str | None = None) -> np.ndarray:
        """One feature per store row (NaN where unknown), read-only.

        With ``dataset=None`` the feature must exist in exactly one dataset.

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (0,), ((4, 4),), ("val_accuracy",), np.ones((1, 1, 1, 1)),
        ...                   features={"naswot_score": np.array([-300.0])})
        >>> Benchmark.from_table(TableData("nb201", ["h"], np.arange(1), {"c": ds})
        ...                      ).feature("naswot_score").tolist()
        [-300.0]
        """
        if dataset is None:
            holders = [d for d, m in self._meta.datasets.items() if name in m.features]
            if len(holders) != 1:
                every = sorted({f for m in self._meta.datasets.values() for f in m.features})
                if not holders:
                    raise NotInBenchmarkError(
                        f"no dataset of this store has feature {name!r}; features: "
                        f"{allowed(every) or 'none'}"
                    )
                raise OutOfDomainError(
                    f"feature {name!r} exists for datasets {allowed(holders)}; pass dataset="
                )
            dataset = holders[0]
        dm = self._dmeta(dataset)
        if name not in dm.features:
            raise NotInBenchmarkError(
                f"feature {name!r} is not stored for dataset {dm.name!r}; it has "
                f"{allowed(dm.features) or 'no features'}"
            )
        return _cached_column(self._feature_cache, dm.name, name, self._backend.feature)

    # -- budget
    @property
    def time_model(self) -> TimeModel | None:
        """The fallback ``time_model(rows, dataset) -> seconds per epoch``."""
        return self._time_model

    @time_model.setter
    def time_model(self, model: TimeModel | None) -> None:
        self._time_model = model
        self._specs.clear()

    @property
    def budget(self) -> Budget:
        """Charged queries and simulated seconds so far."""
        return Budget(self._queries, self._seconds, self._untimed)

    def reset_budget(self) -> None:
        """Set the charged budget back to zero."""
        self._queries, self._seconds, self._untimed = 0, 0.0, 0

    def _charge(self, n: int, seconds: float) -> None:
        untimed = seconds != seconds
        if untimed and self.max_seconds is not None:
            raise NotInBenchmarkError(
                "this store holds no training time for the query, so max_seconds cannot "
                "be enforced; pass time_model= (seconds per epoch) to load_benchmark"
            )
        self._add_charge(n, 0.0 if untimed else seconds, int(untimed), "this query", "")

    def _charge_many(self, charge: np.ndarray) -> None:
        unknown = np.isnan(charge)
        n_unknown = int(unknown.sum())
        if n_unknown and self.max_seconds is not None:
            raise NotInBenchmarkError(
                f"{n_unknown} cells have no training time, so max_seconds cannot be enforced; "
                f"pass time_model= (seconds per epoch) to load_benchmark"
            )
        total = float(np.where(unknown, 0.0, charge).sum())
        self._add_charge(len(charge), total, n_unknown, "this batch", "; nothing was charged")

    def _add_charge(self, n: int, seconds: float, n_untimed: int, what: str, tail: str) -> None:
        """Charge ``n`` queries costing ``seconds`` in all, or raise (charging nothing)."""
        if self.max_queries is not None and self._queries + n > self.max_queries:
            raise BudgetExhaustedError(
                f"query budget exhausted: {self._queries} of max_queries={self.max_queries} "
                f"used, {n} more asked{tail}"
            )
        if self.max_seconds is not None and self._seconds + seconds > self.max_seconds:
            raise BudgetExhaustedError(
                f"time budget exhausted: {self._seconds:.1f} s of max_seconds="
                f"{self.max_seconds} used, {what} costs {seconds:.1f} s{tail}"
            )
        self._queries += n
        self._seconds += seconds
        self._untimed += n_untimed

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

    # -- summaries and exports
    def info(self) -> StoreInfo:
        """A typed summary of the store (used by ``nbt info``)."""
        m = self._meta
        return StoreInfo(
            path=str(m.path) if m.path else None, space=m.space, n_cells=m.n_cells,
            format_version=m.format_version, hash_version=m.hash_version, created=m.created,
            command=m.command, nasbench_tools_version=m.nasbench_tools_version,
            provenance=dict(m.provenance),
            datasets=tuple(
                DatasetInfo(d.name, d.seeds, d.fidelities, d.metrics, d.costs, d.features,
                            dict(zip(d.metrics, d.present)))
                for d in m.datasets.values()
            ),
            extra=m.extra,
        )

    def to_pandas(self, kind: str = "long", dataset: str | None = None) -> Any:
        """Export the values as a pandas DataFrame.

        Parameters
        ----------
        kind : {"long", "wide"}
            ``"long"``: one row per present value, columns ``row, index, key, dataset, seed,
            budget, epoch, metric, value`` (NaN values dropped). ``"wide"``: one row per
            cell (index ``(index, key)``), columns a MultiIndex ``(dataset, metric, budget,
            epoch, seed)``, NaN where absent.
        dataset : str, optional
            Only this dataset (default: all).

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store.table import DatasetTable
        >>> ds = DatasetTable("c", (0,), ((4, 4),), ("val_accuracy",), np.ones((2, 1, 1, 1)))
        >>> b = Benchmark.from_table(TableData("nb101", ["h", "g"], np.arange(2), {"c": ds}))
        >>> b.to_pandas().shape, b.to_pandas("wide").shape
        ((2, 9), (2, 1))
        """
        import pandas as pd

        if kind not in ("long", "wide"):
            raise OutOfDomainError(f"kind must be 'long' or 'wide'; got {kind!r}")
        names = [self._dataset(dataset)] if dataset is not None else list(self.datasets)
        keys = np.asarray(self.keys, dtype=object)
        if kind == "wide":
            blocks = []
            for ds in names:
                dm = self._meta.datasets[ds]
                vals = self._backend.values(ds)
                n, s, f, m = vals.shape
                cols = pd.MultiIndex.from_tuples(
                    [(ds, mm, b, e, sd) for mm in dm.metrics for (b, e) in dm.fidelities
                     for sd in dm.seeds],
                    names=["dataset", "metric", "budget", "epoch", "seed"],
                )
                flat = vals.transpose(0, 3, 2, 1).reshape(n, m * f * s)
                blocks.append(pd.DataFrame(float32_to_decimal(flat), columns=cols))
            frame = pd.concat(blocks, axis=1) if blocks else pd.DataFrame(index=range(len(self)))
            frame.index = pd.MultiIndex.from_arrays([self.indices, keys], names=["index", "key"])
            return frame
        parts = []
        for ds in names:
            dm = self._meta.datasets[ds]
            vals = self._backend.values(ds)
            r, si, fi, mi = np.nonzero(~np.isnan(vals))
            fid = np.asarray(dm.fidelities, dtype=np.int64).reshape(-1, 2)
            parts.append(pd.DataFrame({
                "row": r.astype(np.int64),
                "index": self.indices[r],
                "key": pd.Categorical(keys[r]),
                "dataset": pd.Categorical([ds] * len(r)),
                "seed": np.asarray(dm.seeds, dtype=np.int64)[si],
                "budget": fid[fi, 0],
                "epoch": fid[fi, 1],
                "metric": pd.Categorical(np.asarray(dm.metrics, dtype=object)[mi]),
                "value": float32_to_decimal(vals[r, si, fi, mi]),
            }))
        if not parts:
            return pd.DataFrame(columns=["row", "index", "key", "dataset", "seed", "budget",
                                         "epoch", "metric", "value"])
        return pd.concat(parts, ignore_index=True)


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
