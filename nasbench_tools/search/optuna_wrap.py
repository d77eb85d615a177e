"""Optuna's samplers (TPE, random, ...) as ask/tell searchers (optional dependency).

Rather than re-implement the Tree-structured Parzen Estimator, this wraps optuna's
``Study.ask`` / ``Study.tell``: every position of the cell code (NB201: each of the six
edges) is one categorical parameter over its choices. Requires ``optuna``
(``pip install optuna``); without it, constructing :class:`OptunaSearch` raises
:class:`~nasbench_tools.errors.OutOfDomainError` saying so.

Examples
--------
>>> from nasbench_tools.spaces import get_space
>>> s = OptunaSearch(get_space("nb201"), sampler="tpe", seed=0)  # doctest: +SKIP
>>> c = s.ask(); s.tell(c, 90.0)                                  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.search.base import Searcher, SeedLike, code_layout

__all__ = ["SAMPLERS", "OptunaSearch", "optuna_available"]

log = logging.getLogger(__name__)


def optuna_available() -> bool:
    """Whether ``optuna`` can be imported.

    Examples
    --------
    >>> isinstance(optuna_available(), bool)
    True
    """
    try:
        import optuna  # noqa: F401
    except ImportError:
        return False
    return True


def _tpe(seed: int) -> Any:
    import optuna

    return optuna.samplers.TPESampler(seed=seed)


def _random(seed: int) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


#: Sampler name -> ``factory(seed) -> optuna sampler``.
SAMPLERS: dict[str, Callable[[int], Any]] = {"tpe": _tpe, "random": _random}


class OptunaSearch(Searcher):
    """An optuna sampler over the digits of the cell code.

    Parameters
    ----------
    space : SearchSpace
        A space with a code layout (``nb201``, ``nats_sss``).
    sampler : str, default "tpe"
        Key of :data:`SAMPLERS`.
    seed : int, SeedSequence or Generator, default 0
        The sampler's seed is drawn from this generator at every (re)start.
    """

    algo = "optuna"

    def __init__(self, space: Any, *, sampler: str = "tpe", seed: SeedLike = 0) -> None:
        if not optuna_available():
            raise OutOfDomainError("OptunaSearch needs the optuna package: pip install optuna")
        if sampler not in SAMPLERS:
            raise OutOfDomainError(f"unknown sampler {sampler!r}; allowed: {allowed(SAMPLERS)}")
        self.layout = code_layout(space.name)
        self.sampler = sampler
        super().__init__(space, seed=seed)

    def _start(self) -> None:
        import optuna
        from optuna.distributions import CategoricalDistribution

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._study = optuna.create_study(
            direction="maximize", sampler=SAMPLERS[self.sampler](int(self.rng.integers(2**31 - 1)))
        )
        choices = tuple(range(self.layout.base))
        self._dists: dict[str, Any] = {
            f"d{i}": CategoricalDistribution(choices) for i in range(self.layout.digits)
        }
        self._trial: Any = None
        self._code = 0

    def ask(self) -> Any:
        """The sampler's next cell."""
        self._trial = self._study.ask(self._dists)
        digits = np.array([self._trial.params[f"d{i}"] for i in range(self.layout.digits)])
        self._code = int(digits @ self.layout.place_values)
        return self.layout.from_code(self._code)

    def tell(self, cell: Any, value: float) -> None:
        """Complete the pending trial with ``value``."""
        if self._trial is None or self.layout.to_code(cell) != self._code:
            raise OutOfDomainError("OptunaSearch.tell expects the cell of the last ask()")
        self._study.tell(self._trial, float(value))
        self._trial = None

    def describe(self) -> dict[str, Any]:
        return {"algo": self.algo, "sampler": self.sampler}
