"""Training-free searchers: NASWOT search and AREA (Mellor et al., 2021).

*NASWOT search* draws ``n_samples`` random cells (with replacement, as the authors'
``search.py`` does), scores each with a training-free proxy, and proposes the best-scored
one: a run costs exactly one query, the final pick. Missing scores (NaN, e.g. the 341
disconnected NB201 cells of the shared ``naswot_score`` column) are ignored, as the
authors' ``nanargmax`` does.

*AREA* (Assisted REA) is regularized evolution whose first generation is the
``population_size`` best-scored cells among ``n_samples`` random ones.

The proxy comes from any object with ``score(cells) -> numpy.ndarray`` (higher is better):
the zero-cost scorers of :mod:`predictors.zerocost`, or :class:`ArrayScorer` over a
precomputed per-cell column such as the store's ``naswot_score`` feature.

Examples
--------
>>> from nasbench_tools.spaces import get_space
>>> space = get_space("nb201")
>>> scorer = ArrayScorer.by_code(np.arange(15625.0), space)  # toy proxy: the code itself
>>> s = NASWOTSearch(space, scorer, n_samples=10, seed=0)
>>> pick = s.ask(); s.tell(pick, 90.0)
>>> s.done, pick.code == max(c.code for c in s.sampled)
(True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.search.base import (
    Proposals,
    Searcher,
    SeedLike,
    code_layout,
    proposals_for,
)
from nasbench_tools.search.evolution import RegularizedEvolution

__all__ = ["AREA", "ArrayScorer", "NASWOTSearch", "Scorer", "best_scored"]


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores cells without training them (higher is better)."""

    def score(self, cells: Sequence[Any]) -> np.ndarray:
        """One float per cell; NaN where the proxy is undefined."""
        ...


class ArrayScorer:
    """A scorer reading precomputed values, e.g. a per-row column of a store.

    Parameters
    ----------
    values : numpy.ndarray
        One value per position of ``index``'s output.
    index : callable
        ``cells -> numpy.ndarray`` of positions into ``values`` (for a store:
        ``bench.rows``). Must be picklable for process executors (a bound method of a
        picklable object or a module-level function).

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> nb201 = get_space("nb201")
    >>> s = ArrayScorer.by_code(np.linspace(0, 1, 15625), nb201)
    >>> float(s.score([nb201.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")])[0])
    0.0
    """

    def __init__(self, values: np.ndarray, index: Callable[[Sequence[Any]], np.ndarray]) -> None:
        self.values = np.asarray(values, dtype=np.float64)
        self.index = index

    @classmethod
    def by_code(cls, values_by_code: np.ndarray, space: Any) -> ArrayScorer:
        """Scores given per integer cell code of a space with a code layout."""
        layout = code_layout(space.name)
        values = np.asarray(values_by_code, dtype=np.float64)
        if values.shape != (layout.size,):
            raise OutOfDomainError(
                f"need one score per code of {space.name!r} ({layout.size}), got shape "
                f"{values.shape}"
            )
        return cls(values, _CodeIndex(layout.to_code))

    def score(self, cells: Sequence[Any]) -> np.ndarray:
        """The stored value of each cell."""
        return self.values[np.asarray(self.index(list(cells)), dtype=np.int64)]


class _CodeIndex:
    """Picklable ``cells -> codes`` helper."""

    def __init__(self, to_code: Callable[[Any], int]) -> None:
        self.to_code = to_code

    def __call__(self, cells: Sequence[Any]) -> np.ndarray:
        return np.fromiter((self.to_code(c) for c in cells), dtype=np.int64, count=len(cells))


def best_scored(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best scores, best first; NaN ranks last, ties keep order.

    Examples
    --------
    >>> best_scored(np.array([1.0, np.nan, 3.0, 3.0, 2.0]), 3).tolist()
    [2, 3, 4]
    """
    s = np.where(np.isnan(scores), -np.inf, np.asarray(scores, dtype=np.float64))
    return np.argsort(-s, kind="stable")[:k]


class _ScoresRandomCells:
    """What NASWOT and AREA share: score ``n_samples`` random cells with a proxy."""

    scorer: Scorer
    n_samples: int
    sampled: list[Any]
    proposals: Proposals
    rng: np.random.Generator

    def _set_scorer(self, scorer: Scorer, n_samples: int) -> None:
        if n_samples < 1:
            raise OutOfDomainError(f"n_samples must be >= 1, got {n_samples}")
        self.scorer = scorer
        self.n_samples = int(n_samples)

    def _score_random_cells(self) -> np.ndarray:
        """Draw ``n_samples`` cells into ``self.sampled``; return their scores."""
        self.sampled = [self.proposals.sample(self.rng) for _ in range(self.n_samples)]
        return np.asarray(self.scorer.score(self.sampled), dtype=np.float64)


class NASWOTSearch(_ScoresRandomCells, Searcher):
    """Score ``n_samples`` random cells without training; propose the best one.

    Parameters
    ----------
    space : SearchSpace
        The space searched.
    scorer : Scorer
        Training-free proxy, higher is better.
    n_samples : int, default 100
        Cells scored per run (the paper reports N = 10 and N = 100).
    seed : int, SeedSequence or Generator, default 0
        Source of randomness.
    proposals : Proposals, optional
        Kernel the random cells come from.
    """

    algo = "naswot"

    def __init__(
        self,
        space: Any,
        scorer: Scorer,
        *,
        n_samples: int = 100,
        seed: SeedLike = 0,
        proposals: Proposals | None = None,
    ) -> None:
        self._set_scorer(scorer, n_samples)
        self.proposals = proposals if proposals is not None else proposals_for(space)
        super().__init__(space, seed=seed)

    def _start(self) -> None:
        self.scores = self._score_random_cells()
        self.pick = self.sampled[int(best_scored(self.scores, 1)[0])]

    def ask(self) -> Any:
        """The best-scored cell of this run."""
        return self.pick

    def tell(self, cell: Any, value: float) -> None:
        """The run is over once its pick is evaluated."""
        self.done = True

    def describe(self) -> dict[str, Any]:
        return {"algo": self.algo, "n_samples": self.n_samples, "scorer": type(self.scorer).__name__}


class AREA(_ScoresRandomCells, RegularizedEvolution):
    """Assisted regularized evolution: REA seeded with the best-scored random cells.

    Parameters
    ----------
    space : SearchSpace
        The space searched.
    scorer : Scorer
        Training-free proxy, higher is better.
    n_samples : int, default 1000
        Random cells scored to choose the first generation.
    population_size, sample_size : int
        As in :class:`~nasbench_tools.search.evolution.RegularizedEvolution` (10, 3).
    seed : int, SeedSequence or Generator, default 0
        Source of randomness.
    proposals : Proposals, optional
        Kernel for random cells and mutations.

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> space = get_space("nb201")
    >>> a = AREA(space, ArrayScorer.by_code(np.arange(15625.0), space), n_samples=50,
    ...          population_size=5, seed=1)
    >>> first = [a.ask() for _ in range(1)][0]
    >>> first.code == max(c.code for c in a.sampled)
    True
    """

    algo = "area"

    def __init__(
        self,
        space: Any,
        scorer: Scorer,
        *,
        n_samples: int = 1000,
        population_size: int = 10,
        sample_size: int = 3,
        seed: SeedLike = 0,
        proposals: Proposals | None = None,
    ) -> None:
        self._set_scorer(scorer, n_samples)
        super().__init__(
            space,
            population_size=population_size,
            sample_size=sample_size,
            seed=seed,
            proposals=proposals,
        )

    def _initial_population(self) -> Sequence[Any]:
        scores = self._score_random_cells()
        chosen: list[Any] = []
        for i in best_scored(scores, len(scores)):
            cell = self.sampled[int(i)]
            if cell not in chosen:
                chosen.append(cell)
            if len(chosen) == self.population_size:
                break
        return chosen

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(n_samples=self.n_samples, scorer=type(self.scorer).__name__)
        return d
