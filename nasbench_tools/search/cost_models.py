"""Simulated training time for stores that record none.

The NAS-Bench-201 protocol charges each query the time the benchmark recorded for
training the cell 12 epochs plus one evaluation on the validation split; the official
``simulate_train_eval`` returns exactly ``T-train@total(hp=12) + T-x-valid@epoch`` (checked
on NATS-Bench's own fixture records of cells 0, 11 and 284, see
``../shared/data/nats/nats_official_api_answers.json``). With the official files that is
:class:`RecordedCost`. The shared CSV tables carry no times, so time must be modelled:

* :class:`FlopsCost` -- affine in the cell's FLOPs, ``intercept + slope * MFLOPs``. The
  ``"flops-fit"`` preset takes intercept and slope from a least-squares fit to the three
  official records (FLOPs 15.65 / 113.95 / 11.72 M, charged 89.20 / 153.70 / 60.90 s on
  cifar10-valid with hp=12). The ``"flops-120"`` preset keeps that shape but rescales it so
  that the mean over the space is 120 s: the plain-loop calibration of issue #5 found that
  the paper's 12000 s budget behaves like about 100 twelve-epoch trainings.
* :class:`ConstantCost` -- every query costs the same; ``budget_seconds / seconds`` is then
  a query budget.

A cost model turns a store into one cost per store row (:meth:`CostModel.per_row`), so the
vectorised searchers can use it as a column.

Examples
--------
>>> m = ConstantCost(120.0)
>>> m.per_row_from_flops(np.array([10.0, 200.0])).tolist()
[120.0, 120.0]
>>> fit = FlopsCost.official_fit()
>>> round(fit.intercept, 1), round(fit.slope, 3)
(64.0, 0.792)
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError, allowed

__all__ = [
    "COST_MODELS",
    "OFFICIAL_HP12_RECORDS",
    "ConstantCost",
    "CostModel",
    "FlopsCost",
    "RecordedCost",
    "get_cost_model",
    "row_flops",
]

log = logging.getLogger(__name__)

#: ``(MFLOPs, simulated seconds)`` of the three NB201 cells whose real records NATS-Bench
#: ships (indices 0, 11, 284): ``simulate_train_eval(arch, "cifar10", hp="12")`` time cost.
OFFICIAL_HP12_RECORDS: tuple[tuple[float, float], ...] = (
    (15.64737, 89.2020952247438),
    (113.95137, 153.6959332625071),
    (11.71521, 60.89902593692145),
)


def row_flops(bench: Any, space: Any, dataset: str = "cifar10") -> np.ndarray:
    """MFLOPs of every store row: the store's ``flops`` cost, else the space's formula.

    Parameters
    ----------
    bench : Benchmark
        The store (``keys`` and optionally ``cost``).
    space : SearchSpace
        Parses the row keys into cells (``cell.flops(dataset)``).
    dataset : str, default "cifar10"
        Dataset of the network (input size and classes).

    Returns
    -------
    numpy.ndarray
        ``float64``, one value per row.

    Examples
    --------
    >>> class Tiny:  # a stand-in store with two rows
    ...     keys = ["a", "b"]
    ...     def cost(self, cell, kind, dataset=None): return {"a": 1.0, "b": 2.0}[cell]
    >>> row_flops(Tiny(), None).tolist()
    [1.0, 2.0]
    """
    try:
        col = np.asarray(bench.cost_column("flops", dataset), dtype=np.float64)
        if not np.isnan(col).any():
            return col
    except (AttributeError, NotInBenchmarkError, OutOfDomainError, KeyError):
        pass
    keys = list(bench.keys)
    try:
        return np.array([float(bench.cost(k, "flops", dataset=dataset)) for k in keys])
    except (AttributeError, NotInBenchmarkError, OutOfDomainError, KeyError, TypeError):
        log.debug("store has no flops column; using the space's analytic FLOPs")
    cells = [space.parse(k) for k in keys]
    try:  # a vectorised ``space.flops(cells, dataset)`` where the space offers one
        return np.asarray(space.flops(cells, dataset), dtype=np.float64)
    except (AttributeError, TypeError):
        return np.array([float(c.flops(dataset)) for c in cells])


class CostModel(ABC):
    """Seconds charged for evaluating each cell of a store."""

    #: Short name recorded with the results.
    name: str = ""
    #: Training epochs that one charge of :meth:`per_row` stands for (the NB201 search
    #: fidelity, 12).
    epochs: int = 12

    @abstractmethod
    def per_row(self, bench: Any, space: Any) -> np.ndarray:
        """Seconds per store row (``float64``, finite, non-negative)."""

    def per_row_at(self, bench: Any, space: Any, epoch: int) -> np.ndarray:
        """Seconds per store row for training ``epoch`` epochs (multi-fidelity searchers).

        Modelled costs are linear in the epochs: ``per_row * epoch / epochs`` (the time per
        epoch of one cell is constant in the NB201 records). :class:`RecordedCost` reads the
        store's own times at that epoch instead.

        Examples
        --------
        >>> class Toy:
        ...     keys = ["a", "b"]
        >>> ConstantCost(120.0).per_row_at(Toy(), None, 200).tolist()
        [2000.0, 2000.0]
        """
        return np.asarray(self.per_row(bench, space), dtype=np.float64) * epoch / self.epochs

    def describe(self) -> dict[str, Any]:
        """Parameters, for the results database."""
        return {"cost_model": self.name}


@dataclass
class ConstantCost(CostModel):
    """Every evaluation costs ``seconds``.

    Examples
    --------
    >>> ConstantCost(2.5).describe()
    {'cost_model': 'constant', 'seconds': 2.5}
    """

    seconds: float = 120.0
    name = "constant"

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise OutOfDomainError(f"seconds must be > 0, got {self.seconds}")

    def per_row_from_flops(self, flops: np.ndarray) -> np.ndarray:
        """The constant for each entry of ``flops``."""
        return np.full(len(flops), float(self.seconds))

    def per_row(self, bench: Any, space: Any) -> np.ndarray:
        return np.full(len(bench.keys), float(self.seconds))

    def describe(self) -> dict[str, Any]:
        return {"cost_model": self.name, "seconds": self.seconds}


@dataclass
class FlopsCost(CostModel):
    """``scale * (intercept + slope * MFLOPs)`` seconds per evaluation.

    Parameters
    ----------
    intercept : float
        Seconds at zero FLOPs (data loading, evaluation, overheads).
    slope : float
        Seconds per MFLOP.
    mean_seconds : float or None
        When set, ``scale`` is chosen so that the mean over the store's rows equals it;
        otherwise ``scale = 1``.
    dataset : str, default "cifar10"
        Dataset whose network FLOPs are used.

    Examples
    --------
    >>> m = FlopsCost(10.0, 1.0, mean_seconds=100.0)
    >>> m.per_row_from_flops(np.array([0.0, 20.0])).tolist()
    [50.0, 150.0]
    """

    intercept: float
    slope: float
    mean_seconds: float | None = None
    dataset: str = "cifar10"
    name = "flops"

    def __post_init__(self) -> None:
        if self.intercept < 0 or self.slope < 0 or (
            self.mean_seconds is not None and not self.mean_seconds > 0
        ):
            raise OutOfDomainError(
                "need intercept >= 0, slope >= 0 and mean_seconds > 0 (or None); got "
                f"{self.intercept}, {self.slope}, {self.mean_seconds}"
            )
        if self.intercept == 0 and self.slope == 0:
            raise OutOfDomainError("intercept and slope cannot both be 0")

    @classmethod
    def official_fit(cls, mean_seconds: float | None = None) -> FlopsCost:
        """Least-squares affine fit to :data:`OFFICIAL_HP12_RECORDS`."""
        f, t = np.array(OFFICIAL_HP12_RECORDS).T
        slope, intercept = np.polyfit(f, t, 1)
        return cls(float(intercept), float(slope), mean_seconds)

    def per_row_from_flops(self, flops: np.ndarray) -> np.ndarray:
        """Seconds for each entry of ``flops`` (scaled over these entries)."""
        raw = self.intercept + self.slope * np.asarray(flops, dtype=np.float64)
        if self.mean_seconds is not None:
            raw = raw * (self.mean_seconds / raw.mean())
        return raw

    def per_row(self, bench: Any, space: Any) -> np.ndarray:
        return self.per_row_from_flops(row_flops(bench, space, self.dataset))

    def describe(self) -> dict[str, Any]:
        return {
            "cost_model": self.name,
            "intercept": self.intercept,
            "slope": self.slope,
            "mean_seconds": self.mean_seconds,
            "dataset": self.dataset,
        }


@dataclass
class RecordedCost(CostModel):
    """The benchmark's own times: training to ``epoch`` plus one evaluation.

    ``train_time`` at ``(dataset, epoch)`` (cumulative seconds) plus ``val_time`` there (one
    evaluation pass, as the store defines it), i.e. the official ``simulate_train_eval``
    charge ``T-train@total + T-x-valid@epoch`` (89.20 s for NB201 cell 0).

    Examples
    --------
    >>> RecordedCost().describe()["cost_model"]
    'recorded'
    """

    dataset: str = "cifar10-valid"
    epoch: int = 12
    name = "recorded"

    def per_row(self, bench: Any, space: Any) -> np.ndarray:
        hint = "use a modelled cost (--cost-model flops-120 or constant-120)"
        try:
            train = np.asarray(bench.column("train_time", dataset=self.dataset,
                                            epoch=self.epoch))
        except NotInBenchmarkError as e:
            # a store converted from the accuracy-only CSV tables has no time column at all
            raise NotInBenchmarkError(f"{e}; the recorded cost needs it: {hint}") from e
        try:
            val = np.asarray(bench.column("val_time", dataset=self.dataset, epoch=self.epoch))
            val = np.nan_to_num(val)
        except (NotInBenchmarkError, OutOfDomainError):
            val = np.zeros_like(train)
        if np.isnan(train).all():
            raise NotInBenchmarkError(
                f"the store records no train_time for {self.dataset!r} at epoch {self.epoch}; "
                f"{hint}"
            )
        return np.asarray(train + val, dtype=np.float64)

    def per_row_at(self, bench: Any, space: Any, epoch: int) -> np.ndarray:
        """The recorded train + evaluation time at ``epoch`` (same dataset)."""
        return RecordedCost(self.dataset, int(epoch)).per_row(bench, space)

    def describe(self) -> dict[str, Any]:
        return {"cost_model": self.name, "dataset": self.dataset, "epoch": self.epoch}


#: Preset name -> factory, used by ``nbt search --cost-model``.
COST_MODELS: dict[str, Callable[[], CostModel]] = {
    "recorded": RecordedCost,
    "flops-fit": FlopsCost.official_fit,
    "flops-120": lambda: FlopsCost.official_fit(mean_seconds=120.0),
    "constant-120": lambda: ConstantCost(120.0),
}


def get_cost_model(name: str) -> CostModel:
    """Build a cost model preset by name.

    Examples
    --------
    >>> get_cost_model("flops-120").mean_seconds
    120.0
    """
    if name not in COST_MODELS:
        raise OutOfDomainError(f"unknown cost model {name!r}; allowed: {allowed(COST_MODELS)}")
    return COST_MODELS[name]()
