"""RoBoT search (He et al., "Robustifying and Boosting Training-Free NAS", ICLR 2024).

Two phases over a fixed candidate pool whose training-free metrics are known:

1. **Exploration** (``n_bo`` Bayesian-optimisation steps). Each step, optuna's GP sampler
   (:class:`predictors.robot.WeightSearch`) proposes a weight vector ``w`` in ``[-1, 1]^M``;
   the pool's best cell under the combined metric ``sum_i w_i m_i`` (metrics min-max
   normalised over the pool) is queried, and its value is the objective of ``w``. When that
   cell was queried before, its known value is reused and no query is spent (the authors'
   ``T_0 <= T`` distinct queries).
2. **Exploitation**: the best weights found rank the pool; the cells not queried yet are
   proposed greedily in that order until the runner's budget (or the pool) is exhausted.

The authors' NAS-Bench-201 protocol is ``T = 20``: 20 BO steps, then greedy search until 20
distinct cells have been queried (``--budget-queries 20``), on the 12-epoch CIFAR-10
validation accuracy; the reported figure is the test accuracy of the best-validated cell.
Their metrics are grad_norm, snip, grasp, fisher, synflow and jacob_cov; any per-cell
metrics work here (:class:`~nasbench_tools.search.naswot.Scorer` objects, e.g.
:class:`~nasbench_tools.search.naswot.ArrayScorer` over stored features).

Examples
--------
>>> from nasbench_tools.search.naswot import ArrayScorer
>>> from nasbench_tools.spaces import get_space
>>> sp = get_space("nb201")
>>> codes = np.arange(15625.0)
>>> s = RoBoT(sp, [ArrayScorer.by_code(codes, sp), ArrayScorer.by_code(-codes, sp)],
...           pool=sp.all_cells()[:50], n_bo=5, seed=0)  # doctest: +SKIP
>>> c = s.ask(); s.tell(c, float(c.code))                  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.search.base import CODE_LAYOUTS, Searcher, SeedLike
from nasbench_tools.search.naswot import Scorer, best_scored

__all__ = ["RoBoT"]

log = logging.getLogger(__name__)


class RoBoT(Searcher):
    """Weighted training-free metrics, weights by BO, then greedy search on the pool.

    Parameters
    ----------
    space : SearchSpace
        The space searched.
    scorers : sequence of Scorer
        One per metric (``score(cells) -> values``, higher = predicted better; NaN = unknown,
        contributes nothing).
    pool : sequence of cells, optional
        Candidates (default: every cell of the space).
    names : sequence of str, optional
        Metric names, for the results database.
    n_bo : int, default 20
        BO steps (the authors' ``T``).
    n_startup : int, default 1
        Random weight vectors before the GP model (the authors' script: one).
    seed : int, SeedSequence or Generator, default 0
        The GP sampler's seed is drawn from this generator at every (re)start.

    Attributes
    ----------
    best_weights : numpy.ndarray
        Weights with the best objective so far.
    t0 : int
        Distinct cells queried during the BO phase.
    """

    algo = "robot"

    def __init__(
        self,
        space: Any,
        scorers: Sequence[Scorer],
        *,
        pool: Sequence[Any] | None = None,
        names: Sequence[str] | None = None,
        n_bo: int = 20,
        n_startup: int = 1,
        seed: SeedLike = 0,
    ) -> None:
        from predictors.robot import gp_available, minmax

        if not gp_available():
            raise OutOfDomainError("RoBoT needs optuna >= 3.6: pip install 'nasbench-tools[search]'")
        if not scorers:
            raise OutOfDomainError("RoBoT needs at least one metric scorer")
        if n_bo < 1:
            raise OutOfDomainError(f"n_bo must be >= 1, got {n_bo}")
        if pool is None:
            layout = CODE_LAYOUTS.get(getattr(space, "name", ""))
            pool = (
                [layout.from_code(c) for c in range(layout.size)]
                if layout is not None
                else list(space.all_cells())
            )
        self.pool = list(pool)
        if not self.pool:
            raise OutOfDomainError("RoBoT needs a non-empty pool")
        raw = np.column_stack([np.asarray(s.score(self.pool), dtype=np.float64) for s in scorers])
        self.metrics = minmax(raw)
        self.names = list(names) if names is not None else [f"m{i}" for i in range(len(scorers))]
        if len(self.names) != len(scorers):
            raise OutOfDomainError(f"need one name per scorer ({len(scorers)}), got {self.names}")
        self.n_bo = int(n_bo)
        self.n_startup = int(n_startup)
        self._index = {c: i for i, c in enumerate(self.pool)}
        super().__init__(space, seed=seed)

    def _start(self) -> None:
        from predictors.robot import WeightSearch

        self._bo = WeightSearch(
            self.metrics.shape[1], seed=int(self.rng.integers(2**31 - 1)), n_startup=self.n_startup
        )
        self._bo_left = self.n_bo
        self._known: dict[int, float] = {}
        self._pending: int | None = None
        self._pending_bo = False
        self._ranked: np.ndarray | None = None
        self._next = 0
        self.t0 = 0

    @property
    def best_weights(self) -> np.ndarray:
        """Weights with the best objective so far."""
        return self._bo.best_weights

    def _top(self, w: np.ndarray) -> int:
        from predictors.robot import combine

        return int(best_scored(combine(self.metrics, w), 1)[0])

    def ask(self) -> Any:
        """A BO step's best cell, or the next cell of the greedy ranking."""
        if self._pending is not None:
            raise OutOfDomainError("RoBoT.ask called before tell() of the last cell")
        while self._bo_left > 0:
            self._bo_left -= 1
            top = self._top(self._bo.propose())
            if top in self._known:  # known: the objective is free, no query
                self._bo.observe(self._known[top])
                continue
            self._pending, self._pending_bo = top, True
            return self.pool[top]
        if self._ranked is None:
            from predictors.robot import combine

            self._ranked = best_scored(combine(self.metrics, self.best_weights), len(self.pool))
            log.debug("RoBoT: T0 = %d, weights %s", self.t0, self.best_weights)
        while self._next < len(self._ranked) and int(self._ranked[self._next]) in self._known:
            self._next += 1
        if self._next >= len(self._ranked):
            raise OutOfDomainError("RoBoT's pool is exhausted")
        self._pending, self._pending_bo = int(self._ranked[self._next]), False
        return self.pool[self._pending]

    def tell(self, cell: Any, value: float) -> None:
        """Record the value; in the BO phase it is the objective of the proposed weights."""
        if self._pending is None or self._index.get(cell) != self._pending:
            raise OutOfDomainError("RoBoT.tell expects the cell of the last ask()")
        i, self._pending = self._pending, None
        self._known[i] = float(value)
        if self._pending_bo:
            self._bo.observe(float(value))
            self.t0 += 1
        if len(self._known) == len(self.pool):
            self.done = True

    def describe(self) -> dict[str, Any]:
        return {"algo": self.algo, "metrics": list(self.names), "n_bo": self.n_bo,
                "n_startup": self.n_startup, "pool": len(self.pool)}
