"""In-memory table: what every converter produces and the HDF5 writer consumes.

This is the contract between the converters of official formats (one module per format in
``nasbench_tools.store.converters``) and the store format (``nasbench_tools.store.format``).
A converter never writes HDF5 itself; it yields a :class:`TableData` (or, for streaming
converters, appends :class:`TableData` chunks to a ``format.StoreWriter``) and the writer stores it
atomically.

Axes of ``values`` (float32, NaN where a value is missing):

``(cells, seeds, fidelities, metrics)``

* cells: rows in ``TableData.keys`` order.
* seeds: the benchmark's trial seeds (NB201: 777, 888, 999; NB101: repeats 0, 1, 2).
* fidelities: ``(budget, epoch)`` pairs. ``budget`` is the length of the training schedule
  (NB201/NATS ``hp``: 12 or 200, SSS 1, 12 or 90; NB101 epoch budget 4, 12, 36 or 108) and
  ``epoch`` is how many epochs of that schedule had run when the value was recorded
  (``epoch == budget`` for final values; NB101 halfway metrics are ``(108, 54)``; per-epoch
  curves fill ``(200, 1) .. (200, 200)``).
* metrics: names from :data:`METRICS` (accuracies in percent, times in seconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed

__all__ = ["COSTS", "METRICS", "DatasetTable", "TableData"]

#: The one metric vocabulary, across all spaces. How each benchmark's own split names map
#: onto it is documented in ``docs/store-format.md``.
METRICS: tuple[str, ...] = (
    "train_accuracy",
    "train_loss",
    "val_accuracy",
    "val_loss",
    "test_accuracy",
    "test_loss",
    # NB201/NATS cifar100 and ImageNet16-120 only: the official ``ori-test`` split (the union
    # of ``x-valid`` and ``x-test``; the official API's ``valtest``).
    "ori_test_accuracy",
    "ori_test_loss",
    "train_time",  # seconds spent training, cumulative up to `epoch`
    "val_time",  # seconds of one evaluation pass on the split at `epoch` (NB201 valid-per-time)
    "test_time",
)

#: Per-cell cost columns (one value per cell and dataset).
COSTS: tuple[str, ...] = ("params", "flops", "latency", "train_time_per_epoch")


@dataclass
class DatasetTable:
    """All values of one dataset (e.g. ``"cifar10-valid"``).

    Parameters
    ----------
    name : str
        Dataset name as the benchmark spells it.
    seeds : tuple of int
        Trial seeds, the second axis of ``values``.
    fidelities : tuple of (int, int)
        ``(budget, epoch)`` pairs, the third axis.
    metrics : tuple of str
        Metric names from :data:`METRICS`, the fourth axis.
    values : ndarray of float32, shape (cells, seeds, fidelities, metrics)
        NaN marks a missing value.
    costs : dict of str to ndarray of float64, shape (cells,)
        Per-cell costs, names from :data:`COSTS` (params in millions, flops in millions,
        latency and times in seconds). NaN where unknown.
    features : dict of str to ndarray of float64, shape (cells,)
        Optional per-cell, per-dataset numbers that are neither metrics nor costs
        (training-free scores, zero-cost proxies: ``"naswot_score"``, ``"zen"``, ...);
        free names (lower-case identifiers). NaN where unknown.
    """

    name: str
    seeds: tuple[int, ...]
    fidelities: tuple[tuple[int, int], ...]
    metrics: tuple[str, ...]
    values: np.ndarray
    costs: dict[str, np.ndarray] = field(default_factory=dict)
    features: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float32)
        want = (len(self.seeds), len(self.fidelities), len(self.metrics))
        if self.values.ndim != 4 or self.values.shape[1:] != want:
            raise OutOfDomainError(
                f"dataset {self.name!r}: values must have shape (cells, {want[0]}, {want[1]}, "
                f"{want[2]}) for its seeds, fidelities and metrics; got {self.values.shape}"
            )
        bad = [m for m in self.metrics if m not in METRICS]
        if bad:
            raise OutOfDomainError(
                f"dataset {self.name!r}: unknown metrics {bad}; allowed: {allowed(METRICS)}"
            )
        for k, v in list(self.costs.items()):
            if k not in COSTS:
                raise OutOfDomainError(f"unknown cost column {k!r}; allowed: {allowed(COSTS)}")
            self.costs[k] = np.asarray(v, dtype=np.float64)
        for k, v in list(self.features.items()):
            if not k.isidentifier() or k != k.lower():
                raise OutOfDomainError(
                    f"feature name {k!r} must be a lower-case identifier such as 'naswot_score'"
                )
            self.features[k] = np.asarray(v, dtype=np.float64)


@dataclass
class TableData:
    """A whole benchmark table, ready to be written as a store.

    Parameters
    ----------
    space : str
        Registry name of the search space (``"nb101"``, ``"nb201"``, ``"nats_sss"``).
    keys : list of str
        One key per cell row: the NB101 module hash, or the NB201 / SSS string.
    indices : ndarray of int64, shape (cells,)
        Official index of each row (NB201, SSS); for NB101 the row number in the source file.
    datasets : dict of str to DatasetTable
        The values, one table per dataset.
    provenance : dict
        Free-form JSON-serialisable facts: source files, their SHA-256, converter version.
    extra : dict of str to ndarray
        Optional per-cell columns kept verbatim (e.g. ``"nb101_matrix"``: (cells, 7, 7) uint8,
        ``"nb101_ops"``: (cells, 7) uint8 op codes), so a store can rebuild cells without
        re-hashing.
    """

    space: str
    keys: list[str]
    indices: np.ndarray
    datasets: dict[str, DatasetTable]
    provenance: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.indices = np.asarray(self.indices, dtype=np.int64)
        n = len(self.keys)
        if self.indices.shape != (n,):
            raise OutOfDomainError(f"indices must have shape ({n},); got {self.indices.shape}")
        for d in self.datasets.values():
            if d.values.shape[0] != n:
                raise OutOfDomainError(
                    f"dataset {d.name!r} has {d.values.shape[0]} rows for {n} keys"
                )
