"""Evaluators: what a query costs and returns, behind one interface.

An evaluator turns a cell into an :class:`Evaluation`: the value the searcher maximises,
the simulated (or measured) seconds it cost, and the metrics reported for the cell should
it become the final pick. Two implementations:

* :class:`TabularEvaluator` reads a store. Its protocol presets (:data:`PROTOCOLS`) follow
  the papers; ``"nb201-cifar10"`` is the NAS-Bench-201 one: search on the 12-epoch
  ``cifar10-valid`` validation accuracy, charge the (recorded or modelled) time of that
  12-epoch training, report the 200-epoch ``cifar10`` test accuracy and the 200-epoch
  ``cifar10-valid`` validation accuracy of the final pick.
* :class:`TrainerEvaluator` trains the cell for real through a function the caller injects
  (see :mod:`nasbench_tools.trainer`), caching every result (in memory, and in a SQLite
  file when ``cache_path`` is given).

A cell missing from the table goes to ``fallback`` (e.g. a :class:`TrainerEvaluator`)
when one is configured; otherwise :class:`~nasbench_tools.errors.NotInBenchmarkError`.

Examples
--------
>>> ev = TrainerEvaluator(lambda cell, seed: {"val_accuracy": 90.0, "test_accuracy": 89.0,
...                                           "train_seconds": 12.0})
>>> e = ev.evaluate("cell-a")
>>> (e.value, e.cost, e.metrics["test_accuracy"], e.source)
(90.0, 12.0, 89.0, 'trainer')
>>> ev.evaluate("cell-a").source   # cached
'cache'
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError, allowed
from nasbench_tools.search.base import CODE_LAYOUTS, CodeLayout
from nasbench_tools.search.cost_models import CostModel, get_cost_model

__all__ = [
    "PROTOCOLS",
    "CodeArrays",
    "Evaluation",
    "Evaluator",
    "Protocol_",
    "Query",
    "TabularEvaluator",
    "TrainerEvaluator",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one query.

    Parameters
    ----------
    value : float
        What the searcher maximises (e.g. 12-epoch validation accuracy).
    cost : float
        Seconds charged against the budget.
    metrics : mapping of str to float
        Metrics reported if this cell is the final pick (e.g. ``test_accuracy``).
    source : str
        ``"table"``, ``"trainer"`` or ``"cache"``.
    """

    value: float
    cost: float
    metrics: Mapping[str, float] = field(default_factory=dict)
    source: str = "table"


@runtime_checkable
class Evaluator(Protocol):
    """Anything with ``evaluate(cell) -> Evaluation`` and ``describe() -> dict``."""

    def evaluate(self, cell: Any) -> Evaluation:
        """Evaluate one cell."""
        ...

    def describe(self) -> dict[str, Any]:
        """Settings, recorded with the results."""
        ...


@dataclass(frozen=True)
class Query:
    """One store value: ``metric`` of ``dataset`` after ``epoch`` epochs (mean over seeds)."""

    metric: str
    dataset: str
    epoch: int


@dataclass(frozen=True)
class Protocol_:
    """A search protocol: what to optimise and what to report."""

    search: Query
    report: Mapping[str, Query]


def _nb201(dataset: str, search_ds: str, val_ds: str, final: int = 200) -> Protocol_:
    return Protocol_(
        Query("val_accuracy", search_ds, 12),
        {
            "test_accuracy": Query("test_accuracy", dataset, final),
            "val_accuracy": Query("val_accuracy", val_ds, final),
        },
    )


#: Protocol presets. ``nb201-cifar10``: search on 12-epoch cifar10-valid x-valid, report the
#: 200-epoch cifar10 (train+valid) test and cifar10-valid x-valid accuracies. ``nats-sss-*``:
#: the NATS-Bench size space the same way (hp "12" searched), reported at hp "90".
PROTOCOLS: dict[str, Protocol_] = {
    "nb201-cifar10": _nb201("cifar10", "cifar10-valid", "cifar10-valid"),
    "nb201-cifar100": _nb201("cifar100", "cifar100", "cifar100"),
    "nb201-imagenet16-120": _nb201("ImageNet16-120", "ImageNet16-120", "ImageNet16-120"),
    "nats-sss-cifar10": _nb201("cifar10", "cifar10-valid", "cifar10-valid", 90),
    "nats-sss-cifar100": _nb201("cifar100", "cifar100", "cifar100", 90),
    "nats-sss-imagenet16-120": _nb201("ImageNet16-120", "ImageNet16-120", "ImageNet16-120", 90),
    "nb101": Protocol_(
        Query("val_accuracy", "cifar10", 108),
        {
            "test_accuracy": Query("test_accuracy", "cifar10", 108),
            "val_accuracy": Query("val_accuracy", "cifar10", 108),
        },
    ),
}


@dataclass
class CodeArrays:
    """Everything the vectorised searchers need, indexed by integer cell code."""

    layout: CodeLayout
    value: np.ndarray
    cost: np.ndarray
    metrics: dict[str, np.ndarray]


class TabularEvaluator:
    """Answer queries from a store (``Benchmark``), charging a cost per query.

    Parameters
    ----------
    bench : Benchmark
        Needs ``column(metric, dataset=, epoch=)``, ``rows(cells)``, ``keys`` and ``space``.
    protocol : str or Protocol_, default "nb201-cifar10"
        Preset name from :data:`PROTOCOLS`, or a custom one.
    cost_model : CostModel, str or None
        Seconds per query, or the name of a preset of
        :func:`~nasbench_tools.search.cost_models.get_cost_model` (e.g. ``"recorded"``).
        ``None`` charges nothing (then only query budgets make sense).
    space : SearchSpace, optional
        Default: ``get_space(bench.space)``.
    fallback : Evaluator, optional
        Evaluates cells the table lacks (or holds NaN for); its results are cached here.

    Examples
    --------
    >>> class Toy:  # a two-row stand-in for a store
    ...     space, keys = "toy", ["a", "b"]
    ...     def column(self, metric, dataset=None, epoch=None):
    ...         return {"val_accuracy": np.array([1.0, 2.0]),
    ...                 "test_accuracy": np.array([3.0, 4.0])}[metric]
    ...     def rows(self, cells):
    ...         return np.array([self.keys.index(c) for c in cells])
    >>> ev = TabularEvaluator(Toy(), protocol=Protocol_(Query("val_accuracy", "d", 1),
    ...                       {"test_accuracy": Query("test_accuracy", "d", 1)}), space=object())
    >>> e = ev.evaluate("b")
    >>> e.value, e.metrics["test_accuracy"]
    (2.0, 4.0)
    """

    def __init__(
        self,
        bench: Any,
        *,
        protocol: str | Protocol_ = "nb201-cifar10",
        cost_model: str | CostModel | None = None,
        space: Any = None,
        fallback: Evaluator | None = None,
    ) -> None:
        if isinstance(cost_model, str):
            cost_model = get_cost_model(cost_model)
        if isinstance(protocol, str):
            if protocol not in PROTOCOLS:
                raise OutOfDomainError(
                    f"unknown protocol {protocol!r}; allowed: {allowed(PROTOCOLS)}"
                )
            self.protocol_name = protocol
            protocol = PROTOCOLS[protocol]
        else:
            self.protocol_name = "custom"
        self.protocol = protocol
        if space is None:
            from nasbench_tools.spaces import get_space

            space = get_space(bench.space)
        self.space = space
        self.bench: Any = bench
        self.cost_model = cost_model
        self.fallback = fallback
        q = protocol.search
        self._value = self._column(q)
        self._metrics = {name: self._column(rq) for name, rq in protocol.report.items()}
        self._cost = (
            np.asarray(cost_model.per_row(bench, space), dtype=np.float64)
            if cost_model is not None
            else np.zeros(len(self._value))
        )
        self._layout: CodeLayout | None = CODE_LAYOUTS.get(getattr(space, "name", ""))
        self._code_rows: np.ndarray | None = None  # row per code; len(rows) marks "absent"
        self._row_cache: dict[Any, int] = {}
        self._fallback_cache: dict[Any, Evaluation] = {}
        self._at: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # epoch -> (value, cost)

    def _column(self, q: Query) -> np.ndarray:
        return np.asarray(
            self.bench.column(q.metric, dataset=q.dataset, epoch=q.epoch), dtype=np.float64
        )

    @property
    def has_costs(self) -> bool:
        """Whether queries are charged (a cost model is set)."""
        return self.cost_model is not None

    # ------------------------------------------------------------------ rows
    def _build_code_rows(self) -> np.ndarray:
        assert self._layout is not None
        lay = self._layout
        absent = len(self._value)
        code_rows = np.full(lay.size, absent, dtype=np.int64)
        cells = [lay.from_code(c) for c in range(lay.size)]
        try:
            code_rows[:] = np.asarray(self.bench.rows(cells), dtype=np.int64)
        except NotInBenchmarkError:
            for row, key in enumerate(self.bench.keys):
                code_rows[lay.to_code(self.space.parse(key))] = row
        return code_rows

    def _row(self, cell: Any) -> int | None:
        """Store row of ``cell``, or None when the table lacks it (internal only)."""
        if self._layout is not None:
            if self._code_rows is None:
                self._code_rows = self._build_code_rows()
            row = int(self._code_rows[self._layout.to_code(cell)])
            return row if row < len(self._value) else None
        if cell not in self._row_cache:
            try:
                self._row_cache[cell] = int(np.asarray(self.bench.rows([cell]))[0])
            except NotInBenchmarkError:
                return None
        return self._row_cache[cell]

    # ------------------------------------------------------------------ API
    def evaluate(self, cell: Any) -> Evaluation:
        """Look the cell up; use the fallback for missing cells.

        Raises
        ------
        NotInBenchmarkError
            When the table lacks the cell (or holds NaN) and no fallback is configured.
        """
        row = self._row(cell)
        if row is not None and not np.isnan(self._value[row]):
            return Evaluation(
                float(self._value[row]),
                float(self._cost[row]),
                {k: float(v[row]) for k, v in self._metrics.items()},
                "table",
            )
        if self.fallback is None:
            raise NotInBenchmarkError(
                f"cell {_text(cell)} has no {self.protocol.search.metric!r} value in the table "
                "and no fallback evaluator is configured (pass fallback=TrainerEvaluator(...))"
            )
        if cell not in self._fallback_cache:
            self._fallback_cache[cell] = self.fallback.evaluate(cell)
        return self._fallback_cache[cell]

    def fidelity_columns(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """Search value and cost per store row at ``epoch`` epochs (loaded once).

        The value is the protocol's search metric and dataset at that epoch; the cost is the
        cost model's :meth:`~nasbench_tools.search.cost_models.CostModel.per_row_at` (a
        cost model without it is taken as linear in epochs from the search epoch).

        Raises
        ------
        NotInBenchmarkError
            When the store has no such epoch for the search metric.
        """
        epoch = int(epoch)
        if epoch not in self._at:
            q = self.protocol.search
            if epoch == q.epoch:
                self._at[epoch] = (self._value, self._cost)
            else:
                if self.bench is None:
                    raise OutOfDomainError(
                        f"fidelity {epoch} was not loaded before this evaluator was pickled; "
                        "call fidelity_columns(epoch) first"
                    )
                value = self._column(Query(q.metric, q.dataset, epoch))
                at = getattr(self.cost_model, "per_row_at", None)
                if self.cost_model is None:
                    cost = np.zeros(len(value))
                elif at is not None:
                    cost = np.asarray(at(self.bench, self.space, epoch), dtype=np.float64)
                else:
                    cost = self._cost * epoch / q.epoch
                self._at[epoch] = (value, cost)
        return self._at[epoch]

    def evaluate_at(self, cell: Any, fidelity: int) -> Evaluation:
        """Evaluate ``cell`` at ``fidelity`` training epochs, charging that training's time.

        For multi-fidelity searchers (BOHB): the value is the search metric after
        ``fidelity`` epochs (NB201: 12 or 200), the cost that of ``fidelity`` epochs; the
        reported metrics are the protocol's (e.g. 200-epoch test accuracy) whatever the
        fidelity.

        Raises
        ------
        NotInBenchmarkError
            When the table lacks the cell or the epoch (no fallback at other fidelities).

        Examples
        --------
        >>> from nasbench_tools.search.cost_models import ConstantCost
        >>> class Toy:  # two rows; 5 points better after 200 epochs than after 12
        ...     space, keys = "toy", ["a", "b"]
        ...     def column(self, metric, dataset=None, epoch=None):
        ...         return np.array([80.0, 85.0]) + (5.0 if epoch == 200 else 0.0)
        ...     def rows(self, cells):
        ...         return np.array([self.keys.index(c) for c in cells])
        >>> ev = TabularEvaluator(Toy(), cost_model=ConstantCost(120.0), space=object())
        >>> (ev.evaluate_at("b", 12).value, ev.evaluate_at("b", 12).cost)
        (85.0, 120.0)
        >>> (ev.evaluate_at("b", 200).value, ev.evaluate_at("b", 200).cost)
        (90.0, 2000.0)
        """
        if int(fidelity) == self.protocol.search.epoch:
            return self.evaluate(cell)
        value, cost = self.fidelity_columns(fidelity)
        row = self._row(cell)
        if row is None or np.isnan(value[row]):
            raise NotInBenchmarkError(
                f"cell {_text(cell)} has no {self.protocol.search.metric!r} value at epoch "
                f"{int(fidelity)} in the table"
            )
        return Evaluation(
            float(value[row]),
            float(cost[row]),
            {k: float(v[row]) for k, v in self._metrics.items()},
            "table",
        )

    def code_arrays(self) -> CodeArrays:
        """Value, cost and report columns indexed by integer cell code (vectorised path).

        Raises
        ------
        OutOfDomainError
            When the space has no code layout or the table misses some cell.
        """
        if self._layout is None:
            raise OutOfDomainError(
                f"space {getattr(self.space, 'name', '?')!r} has no integer code layout; "
                f"vectorised search needs one of {allowed(CODE_LAYOUTS)}"
            )
        if self._code_rows is None:
            self._code_rows = self._build_code_rows()
        rows = self._code_rows
        if (rows >= len(self._value)).any() or np.isnan(self._value[rows]).any():
            raise OutOfDomainError(
                "vectorised search needs every cell of the space in the table with a value; "
                "use the ask/tell path (vectorize=False) with a fallback evaluator instead"
            )
        return CodeArrays(
            self._layout,
            self._value[rows],
            self._cost[rows],
            {k: v[rows] for k, v in self._metrics.items()},
        )

    def per_code(self, values_by_row: np.ndarray) -> np.ndarray:
        """Re-index a per-row column (e.g. a store feature) by integer cell code.

        Codes the table lacks get NaN.

        Raises
        ------
        OutOfDomainError
            When the space has no code layout or the column has the wrong length.
        """
        if self._layout is None:
            raise OutOfDomainError(
                f"space {getattr(self.space, 'name', '?')!r} has no integer code layout"
            )
        values = np.asarray(values_by_row, dtype=np.float64)
        if values.shape != self._value.shape:
            raise OutOfDomainError(
                f"need one value per store row ({len(self._value)}), got shape {values.shape}"
            )
        if self._code_rows is None:
            self._code_rows = self._build_code_rows()
        padded = np.append(values, np.nan)
        return padded[np.minimum(self._code_rows, len(values))]

    def describe(self) -> dict[str, Any]:
        """Settings recorded with the results."""
        q = self.protocol.search
        d: dict[str, Any] = {
            "evaluator": "tabular",
            "protocol": self.protocol_name,
            "search": f"{q.metric}@{q.dataset}/{q.epoch}",
            "report": {k: f"{r.metric}@{r.dataset}/{r.epoch}" for k, r in self.protocol.report.items()},
        }
        d.update(self.cost_model.describe() if self.cost_model else {"cost_model": None})
        if self.fallback is not None:
            d["fallback"] = self.fallback.describe()
        return d

    def __getstate__(self) -> dict[str, Any]:
        # Stores (HDF5 handles) do not pickle; every array is materialised instead.
        state = dict(self.__dict__)
        if self._layout is not None:
            if self._code_rows is None:
                state["_code_rows"] = self._build_code_rows()
            state["bench"] = None
        return state


def _text(cell: Any) -> str:
    to_string = getattr(cell, "to_string", None)
    return to_string() if callable(to_string) else repr(cell)


TrainFn = Callable[[Any, int], Mapping[str, float]]


class TrainerEvaluator:
    """Train cells for real through an injected function, caching every result.

    Parameters
    ----------
    train : callable
        ``train(cell, seed) -> mapping`` of metrics. It must contain ``value_key``; the
        cost is ``cost_key`` when present, else the measured wall-clock seconds.
    value_key : str, default "val_accuracy"
        Metric maximised by the search.
    cost_key : str, default "train_seconds"
        Metric holding the seconds to charge.
    report_keys : sequence of str, default ("test_accuracy", "val_accuracy")
        Metrics reported for the final pick (those the function returns).
    seed : int, default 0
        Passed to ``train``.
    cache_path : path, optional
        SQLite file keeping results across processes and restarts.

    Examples
    --------
    >>> calls = []
    >>> ev = TrainerEvaluator(lambda c, s: calls.append(c) or {"val_accuracy": 1.0})
    >>> _ = ev.evaluate("x"); _ = ev.evaluate("x"); len(calls)
    1
    """

    def __init__(
        self,
        train: TrainFn,
        *,
        value_key: str = "val_accuracy",
        cost_key: str = "train_seconds",
        report_keys: Sequence[str] = ("test_accuracy", "val_accuracy"),
        seed: int = 0,
        cache_path: str | Path | None = None,
    ) -> None:
        self.train = train
        self.value_key = value_key
        self.cost_key = cost_key
        self.report_keys = tuple(report_keys)
        self.seed = int(seed)
        self.cache_path = Path(cache_path) if cache_path is not None else None
        self._cache: dict[str, Evaluation] = {}
        if self.cache_path is not None:
            with self._connect() as con:
                con.execute(
                    "CREATE TABLE IF NOT EXISTS trained (cell TEXT PRIMARY KEY, "
                    "value REAL, cost REAL, metrics TEXT)"
                )

    def _connect(self) -> sqlite3.Connection:
        assert self.cache_path is not None
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.cache_path, timeout=60)
        con.execute("PRAGMA journal_mode=WAL")
        return con

    def _lookup(self, key: str) -> Evaluation | None:
        if key in self._cache:
            return self._cache[key]
        if self.cache_path is None:
            return None
        with self._connect() as con:
            row = con.execute(
                "SELECT value, cost, metrics FROM trained WHERE cell = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        ev = Evaluation(float(row[0]), float(row[1]), json.loads(row[2]), "trainer")
        self._cache[key] = ev
        return ev

    def evaluate(self, cell: Any) -> Evaluation:
        """Train ``cell`` once; later calls (and other processes sharing the cache) reuse it.

        Raises
        ------
        OutOfDomainError
            When the training function does not return ``value_key``.
        """
        key = _text(cell)
        hit = self._lookup(key)
        if hit is not None:
            return Evaluation(hit.value, hit.cost, hit.metrics, "cache")
        start = time.perf_counter()
        out = dict(self.train(cell, self.seed))
        elapsed = time.perf_counter() - start
        if self.value_key not in out:
            raise OutOfDomainError(
                f"the training function returned no {self.value_key!r}; it returned "
                f"{allowed(sorted(out))}"
            )
        cost = float(out.get(self.cost_key, elapsed))
        metrics = {k: float(out[k]) for k in self.report_keys if k in out}
        ev = Evaluation(float(out[self.value_key]), cost, metrics, "trainer")
        self._cache[key] = ev
        if self.cache_path is not None:
            with self._connect() as con:
                con.execute(
                    "INSERT OR REPLACE INTO trained VALUES (?, ?, ?, ?)",
                    (key, ev.value, ev.cost, json.dumps(metrics)),
                )
        log.info("trained %s: %s=%.3f in %.1f s", key, self.value_key, ev.value, cost)
        return ev

    @property
    def has_costs(self) -> bool:
        """Trainer evaluations always cost time."""
        return True

    def describe(self) -> dict[str, Any]:
        """Settings recorded with the results."""
        return {
            "evaluator": "trainer",
            "train": getattr(self.train, "__qualname__", type(self.train).__name__),
            "value_key": self.value_key,
            "seed": self.seed,
        }
