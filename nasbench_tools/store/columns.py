"""Value, cost and feature columns: ``metric`` / fidelity / ``seed`` resolution and raw reads.

The third layer of :class:`~nasbench_tools.store.benchmark.Benchmark`: checks a metric, a
fidelity (``epoch`` / ``budget``) and a seed choice against the store and its vocabularies,
reads a ``(dataset, fidelity, metric)`` column once (cached, read-only) and reduces its seed
axis (``"mean"``, ``"random"``, an int seed); serves the cost and feature columns.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError, allowed
from nasbench_tools.store.cells import _Cells
from nasbench_tools.store.format import MEAN_SEED, DatasetMeta, float32_to_decimal
from nasbench_tools.store.table import COSTS, METRICS

_SEED_WORDS = ("mean", "random")


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


class _Columns(_Cells):
    """Resolution of (metric, fidelity, seed) and column reads (a layer of ``Benchmark``)."""

    _raw: dict[tuple[str, int, int], np.ndarray]
    _cost_cache: dict[tuple[str, str], np.ndarray]
    _feature_cache: dict[tuple[str, str], np.ndarray]

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

    def cost_column(self, name: str, dataset: str | None = None) -> np.ndarray:
        """One cost per store row (NaN where unknown), read-only.

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
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
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
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
