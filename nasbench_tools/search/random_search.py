"""Random search: every query is an independent uniformly random cell.

Repeats are possible (sampling with replacement, as in the NAS-Bench-201 baseline); the
runner serves a repeated cell from its cache, so it is never evaluated twice.

Examples
--------
>>> from nasbench_tools.spaces import get_space
>>> s = RandomSearch(get_space("nb201"), seed=0)
>>> cell = s.ask(); s.tell(cell, 90.0)
>>> s.ask() != cell
True
"""

from __future__ import annotations

from typing import Any

from nasbench_tools.search.base import Proposals, Searcher, SeedLike, proposals_for

__all__ = ["RandomSearch"]


class RandomSearch(Searcher):
    """Uniform random sampling of the space.

    Parameters
    ----------
    space : SearchSpace
        The space searched.
    seed : int, SeedSequence or Generator, default 0
        Source of randomness.
    proposals : Proposals, optional
        Kernel to sample from; default :func:`~nasbench_tools.search.base.proposals_for`.
        On spaces with a code layout each ask uses exactly one uniform draw, which the
        vectorised path reproduces.
    """

    algo = "rs"

    def __init__(
        self, space: Any, *, seed: SeedLike = 0, proposals: Proposals | None = None
    ) -> None:
        self.proposals = proposals if proposals is not None else proposals_for(space)
        super().__init__(space, seed=seed)

    def _start(self) -> None:
        pass

    def ask(self) -> Any:
        """A uniformly random cell."""
        return self.proposals.sample(self.rng)

    def tell(self, cell: Any, value: float) -> None:
        """Random search learns nothing."""
