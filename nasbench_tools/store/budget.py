"""Budget accounting of charged queries: what a query costs, and the running totals.

The fourth layer of :class:`~nasbench_tools.store.benchmark.Benchmark`. A charged query
(:meth:`~Benchmark.query`, :meth:`~Benchmark.query_many`) costs the simulated training time
of what it asks for, as the official NB201 / NATS APIs count it (``train_time`` up to the
asked epoch plus one evaluation pass, ``val_time``; else the ``train_time_per_epoch`` cost
or the ``time_model`` times the epoch); :class:`Budget` is the total so far, and a charge
that would exceed ``max_queries`` / ``max_seconds`` raises and charges nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_tools.errors import BudgetExhaustedError, NotInBenchmarkError
from nasbench_tools.store.columns import _Columns
from nasbench_tools.store.format import DatasetMeta

__all__ = ["Budget", "TimeModel"]

#: ``time_model(rows, dataset) -> seconds per epoch`` for each row (an array), used to
#: charge queries when the store holds no training times.
TimeModel = Callable[[np.ndarray, str], np.ndarray]


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


class _Budgeting(_Columns):
    """Charges and the running budget (a layer of ``Benchmark``)."""

    _time_model: TimeModel | None
    max_seconds: float | None
    max_queries: int | None
    _queries: int
    _seconds: float
    _untimed: int

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
