"""Regularized (aging) evolution, REA (Real et al., 2019).

The NAS-Bench-201 setting: population 10, tournament sample 3 drawn with replacement from
the population, the best of the sample is mutated (one random edge gets another random
operation) and the child replaces the oldest member.

Examples
--------
>>> from nasbench_tools.spaces import get_space
>>> s = RegularizedEvolution(get_space("nb201"), population_size=2, sample_size=2, seed=0)
>>> for value in (1.0, 2.0):
...     s.tell(s.ask(), value)
>>> child = s.ask()   # a mutation of the better parent
>>> len(s.population)
2
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.search.base import Proposals, Searcher, SeedLike, proposals_for

__all__ = ["RegularizedEvolution"]


class RegularizedEvolution(Searcher):
    """Regularized evolution with tournament selection and aging.

    Parameters
    ----------
    space : SearchSpace
        The space searched.
    population_size : int, default 10
        Members kept alive (NAS-Bench-201: 10).
    sample_size : int, default 3
        Tournament size, drawn with replacement (NAS-Bench-201: 3).
    seed : int, SeedSequence or Generator, default 0
        Source of randomness.
    proposals : Proposals, optional
        Kernel for random cells and mutations; default
        :func:`~nasbench_tools.search.base.proposals_for`.

    Notes
    -----
    Draws per ask on a space with a code layout: one uniform per initial cell, then
    ``sample_size`` uniforms for the tournament and two for the mutation. The vectorised
    REA of :mod:`nasbench_tools.search.vectorized` consumes the same stream.
    """

    algo = "rea"

    def __init__(
        self,
        space: Any,
        *,
        population_size: int = 10,
        sample_size: int = 3,
        seed: SeedLike = 0,
        proposals: Proposals | None = None,
    ) -> None:
        if population_size < 1 or sample_size < 1:
            raise OutOfDomainError(
                f"population_size and sample_size must be >= 1, got {population_size} "
                f"and {sample_size}"
            )
        self.population_size = int(population_size)
        self.sample_size = int(sample_size)
        self.proposals = proposals if proposals is not None else proposals_for(space)
        super().__init__(space, seed=seed)

    def _start(self) -> None:
        self.population: deque[tuple[Any, float]] = deque()
        self._initial: list[Any] = list(self._initial_population())
        self._evolving = False

    def _initial_population(self) -> Sequence[Any]:
        """Cells of the first generation, asked in order before sampling at random.

        Plain REA returns nothing here (the first generation is drawn lazily, one cell per
        ask); AREA overrides it with the best-scored cells.
        """
        return ()

    def ask(self) -> Any:
        """A cell of the first generation, or the mutated winner of a tournament."""
        if not self._evolving:
            if self._initial:
                return self._initial[len(self.population)]
            return self.proposals.sample(self.rng)
        pick = (self.rng.random(self.sample_size) * len(self.population)).astype(np.int64)
        best = int(pick[0])
        for i in pick[1:]:  # first maximum wins, as numpy.argmax
            if self.population[int(i)][1] > self.population[best][1]:
                best = int(i)
        parent = self.population[best][0]
        return self.proposals.mutate(parent, self.rng)

    def tell(self, cell: Any, value: float) -> None:
        """Add the cell to the population; once full, the oldest member dies."""
        self.population.append((cell, float(value)))
        if self._evolving:
            self.population.popleft()
        elif len(self.population) >= self.population_size or (
            self._initial and len(self.population) >= len(self._initial)
        ):
            self._evolving = True

    def describe(self) -> dict[str, Any]:
        return {
            "algo": self.algo,
            "population_size": self.population_size,
            "sample_size": self.sample_size,
        }
