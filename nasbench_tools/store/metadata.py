"""What a store holds: its space, datasets, metrics, seeds, fidelities, costs, features.

The first layer of :class:`~nasbench_tools.store.benchmark.Benchmark` (see the module notes
there): the vocabulary read from the store's metadata, and the resolution of a ``dataset=``
argument (``None`` for a single-dataset store, a stored name, or an error naming the
datasets held and known).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError, allowed
from nasbench_tools.store.backend import TableBackend
from nasbench_tools.store.format import DatasetMeta, H5Backend, StoreMeta

__all__ = ["KNOWN_DATASETS"]

#: Dataset names the project knows (a name outside this list is out of the vocabulary).
KNOWN_DATASETS: tuple[str, ...] = ("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120")


class _Metadata:
    """Vocabulary of the store and ``dataset=`` resolution (a layer of ``Benchmark``)."""

    _backend: H5Backend | TableBackend
    _meta: StoreMeta
    _extra_cache: dict[str, np.ndarray]

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

    def __len__(self) -> int:
        return self._meta.n_cells

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
