"""Local search (hill climbing with random restarts), as studied by White et al. (2021).

Start from a random cell, evaluate its one-step neighbourhood (``space.neighbours``) in a
random order, move to the best neighbour if it beats the current cell (or to the first one
that does, with ``first_improvement=True``), and restart from a new random cell at a local
optimum.

Examples
--------
>>> from nasbench_tools.spaces import get_space
>>> s = LocalSearch(get_space("nb201"), seed=0)
>>> start = s.ask(); s.tell(start, 50.0)
>>> neighbour = s.ask()
>>> neighbour in get_space("nb201").neighbours(start)
True
"""

from __future__ import annotations

from typing import Any

from nasbench_tools.search.base import Proposals, Searcher, SeedLike, proposals_for

__all__ = ["LocalSearch"]


class LocalSearch(Searcher):
    """Best- or first-improvement local search with random restarts.

    Parameters
    ----------
    space : SearchSpace
        The space searched; must implement ``neighbours``.
    first_improvement : bool, default False
        Move as soon as a neighbour beats the current cell instead of scanning the whole
        neighbourhood first.
    seed : int, SeedSequence or Generator, default 0
        Source of randomness.
    proposals : Proposals, optional
        Kernel for the random (re)starts.
    """

    algo = "ls"

    def __init__(
        self,
        space: Any,
        *,
        first_improvement: bool = False,
        seed: SeedLike = 0,
        proposals: Proposals | None = None,
    ) -> None:
        self.first_improvement = bool(first_improvement)
        self.proposals = proposals if proposals is not None else proposals_for(space)
        super().__init__(space, seed=seed)

    def _start(self) -> None:
        self.current: tuple[Any, float] | None = None
        self._queue: list[Any] = []
        self._best_neighbour: tuple[Any, float] | None = None
        self.restarts = 0

    def _move_to(self, cell: Any, value: float) -> None:
        self.current = (cell, value)
        neighbours = list(self.space.neighbours(cell))
        order = self.rng.permutation(len(neighbours))
        self._queue = [neighbours[i] for i in order]
        self._best_neighbour = None

    def ask(self) -> Any:
        """A random start, or the next unscanned neighbour of the current cell."""
        if self.current is None:
            return self.proposals.sample(self.rng)
        return self._queue[0]

    def tell(self, cell: Any, value: float) -> None:
        """Record the value; move or restart when the neighbourhood is settled."""
        value = float(value)
        if self.current is None:
            self._move_to(cell, value)
            return
        if self._queue and self._queue[0] == cell:
            self._queue.pop(0)
        if self._best_neighbour is None or value > self._best_neighbour[1]:
            self._best_neighbour = (cell, value)
        improved = value > self.current[1]
        if improved and self.first_improvement:
            self._move_to(cell, value)
            return
        if not self._queue:
            best = self._best_neighbour
            if best is not None and best[1] > self.current[1]:
                self._move_to(*best)
            else:
                self.current = None
                self.restarts += 1

    def describe(self) -> dict[str, Any]:
        return {"algo": self.algo, "first_improvement": self.first_improvement}
