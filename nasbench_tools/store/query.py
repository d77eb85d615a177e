"""Look-ups and charged queries: one cell, many cells, a whole column, the best cell.

The fifth layer of :class:`~nasbench_tools.store.benchmark.Benchmark`: a request (metric,
dataset, fidelity, seed) is resolved once into a cached ``_Spec`` (values and charges of
every row), then :meth:`lookup` / :meth:`lookup_many` / :meth:`column` / :meth:`best` read
it uncharged and :meth:`query` / :meth:`query_many` read it and charge the budget.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError
from nasbench_tools.store.budget import _Budgeting
from nasbench_tools.store.format import MEAN_SEED

_PY_LIST_MAX = 65536  # stores up to this many rows keep Python lists for single look-ups


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


class _Queries(_Budgeting):
    """Uncharged look-ups and charged queries (a layer of ``Benchmark``)."""

    _specs: dict[tuple[Any, ...], _Spec]

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
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
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
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
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
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
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
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
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
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
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
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
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
