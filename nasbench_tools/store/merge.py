"""Merge several :class:`~nasbench_tools.store.table.TableData` into one store table.

Cells are united by official index (rows sorted by index); the same index must carry the
same key in every table. Per dataset the seed, fidelity and metric axes are united
(seeds ascending with the pseudo-seeds last, fidelities ascending, metrics in
:data:`~nasbench_tools.store.table.METRICS` order); costs and features are united by name.
A slot filled by two tables must agree (relative tolerance ``1e-6``, float32 storage),
otherwise :class:`~nasbench_tools.errors.FormatError` names the slot and both sources.

Examples
--------
>>> import numpy as np
>>> from nasbench_tools.store.table import DatasetTable, TableData
>>> a = TableData("nb201", ["x", "y"], np.array([0, 1]), {"cifar10": DatasetTable(
...     "cifar10", (-1,), ((200, 200),), ("test_accuracy",), np.array([1.0, 2.0]).reshape(2, 1, 1, 1))})
>>> b = TableData("nb201", ["z", "y"], np.array([5, 1]), {"cifar10": DatasetTable(
...     "cifar10", (-1,), ((12, 12),), ("test_accuracy",), np.array([3.0, 4.0]).reshape(2, 1, 1, 1))})
>>> m = merge_tables([a, b])
>>> m.keys, m.datasets["cifar10"].fidelities, m.datasets["cifar10"].values[:, 0, :, 0].tolist()
(['x', 'y', 'z'], ((12, 12), (200, 200)), [[nan, 1.0], [4.0, 2.0], [3.0, nan]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_tools.errors import FormatError, OutOfDomainError
from nasbench_tools.store.table import COSTS, METRICS, DatasetTable, TableData

__all__ = ["dataset_order", "merge_tables"]

_RTOL = 1e-6


def _source_name(t: TableData, i: int) -> str:
    srcs = t.provenance.get("sources") or []
    if srcs and isinstance(srcs[0], dict) and "path" in srcs[0]:
        return str(srcs[0]["path"])
    return f"table #{i}"


#: Store order of the known datasets (the official NB201 order); others follow, sorted.
_DATASET_ORDER = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")


def dataset_order(names: set[str] | list[str]) -> list[str]:
    """Known datasets in the official NB201 order, then any others alphabetically.

    Examples
    --------
    >>> dataset_order(["ImageNet16-120", "svhn", "cifar10"])
    ['cifar10', 'ImageNet16-120', 'svhn']
    """
    known = [d for d in _DATASET_ORDER if d in names]
    return known + sorted(set(names) - set(known))


def _seed_order(seeds: set[int]) -> tuple[int, ...]:
    real = sorted(s for s in seeds if s >= 0)
    pseudo = sorted((s for s in seeds if s < 0), reverse=True)  # -1 (mean) then -2, -3 ...
    return tuple(real + pseudo)


def _put(dst: np.ndarray, src: np.ndarray, what: str, names: tuple[str, str]) -> None:
    """Copy non-NaN ``src`` into ``dst`` (same shape), refusing disagreements."""
    have = ~np.isnan(src)
    both = have & ~np.isnan(dst)
    if both.any():
        a, b = dst[both].astype(np.float64), src[both].astype(np.float64)
        bad = ~np.isclose(a, b, rtol=_RTOL, atol=0.0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise FormatError(
                f"{what}: {names[0]} and {names[1]} disagree ({a[k]!r} vs {b[k]!r}, "
                f"{int(bad.sum())} values); drop one source or fix its recipe"
            )
    dst[have] = src[have]


def merge_tables(tables: Sequence[TableData]) -> TableData:
    """Unite several tables of one space into one (see the module notes).

    Parameters
    ----------
    tables : sequence of TableData
        At least one; all of the same ``space``.

    Returns
    -------
    TableData
        Rows sorted by official index; provenance ``sources`` concatenated.

    Raises
    ------
    OutOfDomainError
        No tables, or tables of different spaces.
    FormatError
        One index with two keys, or two tables disagreeing on a value.
    """
    if not tables:
        raise OutOfDomainError("merge_tables needs at least one table")
    spaces = {t.space for t in tables}
    if len(spaces) != 1:
        raise OutOfDomainError(f"cannot merge tables of different spaces: {sorted(spaces)}")
    if len(tables) == 1:
        return tables[0]
    names = [_source_name(t, i) for i, t in enumerate(tables)]

    key_of: dict[int, str] = {}
    src_of: dict[int, int] = {}
    for ti, t in enumerate(tables):
        for idx, key in zip(t.indices.tolist(), t.keys):
            old = key_of.setdefault(idx, key)
            if old != key:
                raise FormatError(
                    f"official index {idx} is {old!r} in {names[src_of[idx]]} but {key!r} in "
                    f"{names[ti]}; the tables disagree on the index order"
                )
            src_of.setdefault(idx, ti)
    indices = np.asarray(sorted(key_of), dtype=np.int64)
    keys = [key_of[i] for i in indices.tolist()]
    n = len(keys)
    if len(set(keys)) != n:
        raise FormatError("one cell key appears under two official indices across the tables")
    rows_of = [np.searchsorted(indices, t.indices) for t in tables]

    ds_names = dataset_order({d for t in tables for d in t.datasets})
    datasets: dict[str, DatasetTable] = {}
    for ds in ds_names:
        parts = [(ti, t.datasets[ds]) for ti, t in enumerate(tables) if ds in t.datasets]
        seeds = _seed_order({int(s) for _, d in parts for s in d.seeds})
        fids = tuple(sorted({(int(b), int(e)) for _, d in parts for b, e in d.fidelities}))
        mset = {m for _, d in parts for m in d.metrics}
        metrics = tuple(m for m in METRICS if m in mset)
        values = np.full((n, len(seeds), len(fids), len(metrics)), np.nan, dtype=np.float32)
        costs: dict[str, np.ndarray] = {}
        features: dict[str, np.ndarray] = {}
        owner: dict[str, int] = {}
        for ti, d in parts:
            r = rows_of[ti]
            si = np.asarray([seeds.index(int(s)) for s in d.seeds], dtype=np.intp)
            fi = np.asarray([fids.index((int(b), int(e))) for b, e in d.fidelities], dtype=np.intp)
            mi = np.asarray([metrics.index(m) for m in d.metrics], dtype=np.intp)
            sub = values[np.ix_(r, si, fi, mi)]
            _put(sub, d.values, f"dataset {ds!r} values", (names[owner.get(ds, ti)], names[ti]))
            values[np.ix_(r, si, fi, mi)] = sub
            owner.setdefault(ds, ti)
            for group, out in (("costs", costs), ("features", features)):
                for k, v in getattr(d, group).items():
                    col = out.setdefault(k, np.full(n, np.nan))
                    sub1 = col[r]
                    _put(sub1, v, f"dataset {ds!r} {group[:-1]} {k!r}",
                         (names[owner.get(f"{group}/{k}", ti)], names[ti]))
                    col[r] = sub1
                    owner.setdefault(f"{group}/{k}", ti)
        costs = {k: costs[k] for k in COSTS if k in costs}
        datasets[ds] = DatasetTable(ds, seeds, fids, metrics, values, costs=costs,
                                    features=dict(sorted(features.items())))

    extra: dict[str, np.ndarray] = {}
    for ti, t in enumerate(tables):
        for k, v in t.extra.items():
            a = np.asarray(v)
            if k not in extra:
                fill: Any = np.nan if a.dtype.kind == "f" else 0
                extra[k] = np.full((n, *a.shape[1:]), fill, dtype=a.dtype)
            extra[k][rows_of[ti]] = a
    sources: list[Any] = []
    for t in tables:
        sources += list(t.provenance.get("sources", []))
    provenance = {"sources": sources, "merged": len(tables)}
    return TableData(tables[0].space, keys, indices, datasets, provenance=provenance, extra=extra)
