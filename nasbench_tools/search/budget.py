"""The budget of a search run: charged queries and/or charged seconds.

:class:`Budget` is read by the ask/tell loop (:func:`~nasbench_tools.search.runner.run_search`)
and by the vectorised one (:mod:`~nasbench_tools.search.vectorized`); it lives here so both
import it from below. Also importable as ``nasbench_tools.search.runner.Budget``.

Examples
--------
>>> Budget(queries=20).describe()
{'seconds': None, 'queries': 20}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nasbench_tools.errors import OutOfDomainError

__all__ = ["Budget"]


@dataclass(frozen=True)
class Budget:
    """Stop a run after ``queries`` charged queries and/or ``seconds`` charged seconds.

    Examples
    --------
    >>> Budget(seconds=12000).describe()
    {'seconds': 12000.0, 'queries': None}
    """

    seconds: float | None = None
    queries: int | None = None

    def __post_init__(self) -> None:
        if self.seconds is None and self.queries is None:
            raise OutOfDomainError("a budget needs seconds, queries or both")
        if self.seconds is not None:
            if not self.seconds > 0:
                raise OutOfDomainError(f"budget seconds must be > 0, got {self.seconds}")
            object.__setattr__(self, "seconds", float(self.seconds))
        if self.queries is not None and self.queries < 1:
            raise OutOfDomainError(f"budget queries must be >= 1, got {self.queries}")

    def describe(self) -> dict[str, Any]:
        """As stored with the results."""
        return {"seconds": self.seconds, "queries": self.queries}
