"""A picklable recipe for a searcher (:class:`SearcherSpec`).

Shared by the run protocol (:mod:`~nasbench_tools.search.runner`) and the vectorised runs
(:mod:`~nasbench_tools.search.vectorized`); it lives here so both import it from below.
Also importable as ``nasbench_tools.search.runner.SearcherSpec``.

Examples
--------
>>> SearcherSpec("rs", "nb201").build(seed=0).algo
'rs'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.search.base import Searcher

__all__ = ["SearcherSpec"]


@dataclass
class SearcherSpec:
    """A picklable recipe for a searcher: registry name, space and keyword arguments.

    Parameters
    ----------
    algo : str
        Key of :data:`nasbench_tools.search.REGISTRY`.
    space : str or SearchSpace
        Space name (resolved with ``get_space`` where the run happens) or the space.
    kwargs : dict
        Extra constructor arguments (population size, scorer, predictor, ...).

    Examples
    --------
    >>> SearcherSpec("rea", "nb201", {"population_size": 10}).build(seed=3).population_size
    10
    """

    algo: str
    space: Any
    kwargs: dict[str, Any] = field(default_factory=dict)

    def build(self, seed: int) -> Searcher:
        """Construct the searcher with ``seed``."""
        from nasbench_tools.search.registry import REGISTRY

        if self.algo not in REGISTRY:
            raise OutOfDomainError(f"unknown algo {self.algo!r}; allowed: {allowed(REGISTRY)}")
        space = self.space
        if isinstance(space, str):
            from nasbench_tools.spaces import get_space

            space = get_space(space)
        return REGISTRY[self.algo](space, seed=seed, **self.kwargs)
