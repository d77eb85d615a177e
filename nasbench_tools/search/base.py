"""The searcher contract (ask/tell) and the proposal kernels searchers draw cells from.

A searcher proposes one cell at a time with :meth:`Searcher.ask` and learns the value the
evaluator gave it with :meth:`Searcher.tell`; higher values are better. Every searcher owns
its ``numpy.random.Generator``; :meth:`Searcher.reset` restarts it from a seed, so one
searcher object can serve many independent runs.

Random cells and mutations come from a *proposal kernel*. For spaces whose cells are
numbered by a positional code (NB201: six base-5 digits, ``Cell.code``; NATS size space:
five base-8 digits, ``Cell.index``) :class:`DigitProposals` turns a fixed number of uniform
draws into a cell with plain integer arithmetic. Because the number and order of draws is
fixed, the vectorised searchers of :mod:`nasbench_tools.search.vectorized` reproduce the
ask/tell searchers bit for bit. Other spaces (NB101) use the space's own ``sample`` /
``mutate`` through :class:`SpaceProposals`.

Examples
--------
>>> from nasbench_tools.search.base import proposals_for
>>> from nasbench_tools.spaces import get_space
>>> kernel = proposals_for(get_space("nb201"))
>>> rng = np.random.default_rng(0)
>>> cell = kernel.sample(rng)
>>> child = kernel.mutate(cell, rng)
>>> sum(a != b for a, b in zip(cell.ops, child.ops))
1
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed

__all__ = [
    "CODE_LAYOUTS",
    "CodeLayout",
    "DigitProposals",
    "PoolProposals",
    "Proposals",
    "Searcher",
    "SpaceProposals",
    "as_generator",
    "code_layout",
    "proposals_for",
    "register_code_layout",
]

SeedLike = int | np.random.Generator | np.random.SeedSequence


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``seed`` (a Generator is used as is).

    Parameters
    ----------
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Where the randomness comes from. ``None`` is refused: every run must be
        reproducible.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    OutOfDomainError
        For anything else, e.g. ``None`` or a float.

    Examples
    --------
    >>> bool(as_generator(3).integers(100) == np.random.default_rng(3).integers(100))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise OutOfDomainError(f"seed must be a non-negative integer, got {seed}")
        return np.random.default_rng(int(seed))
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    raise OutOfDomainError(
        f"seed must be a non-negative int, a SeedSequence or a numpy Generator, got {seed!r}"
    )


# ---------------------------------------------------------------------- code layouts
@dataclass(frozen=True)
class CodeLayout:
    """How the cells of one space map to integer codes ``0 .. base**digits - 1``.

    Digit ``0`` is the most significant one (NB201: the first edge of the string;
    NATS size space: the first layer).

    Parameters
    ----------
    digits : int
        Number of positions (edges or layers).
    base : int
        Choices per position.
    to_code : callable
        ``cell -> int``; a module-level function so that layouts pickle.
    from_code : callable
        ``int -> cell``.
    """

    digits: int
    base: int
    to_code: Callable[[Any], int]
    from_code: Callable[[int], Any]

    @property
    def size(self) -> int:
        """Number of codes, ``base ** digits``."""
        return int(self.base**self.digits)

    @property
    def place_values(self) -> np.ndarray:
        """``int64`` place value of each digit, most significant first."""
        return self.base ** np.arange(self.digits - 1, -1, -1, dtype=np.int64)


def _nb201_to_code(cell: Any) -> int:
    return int(cell.code)


def _nb201_from_code(code: int) -> Any:
    module = importlib.import_module("nasbench_tools.spaces.nb201")
    return module.Cell.from_code(int(code))


def _sss_to_code(cell: Any) -> int:
    return int(cell.index)


def _sss_from_code(code: int) -> Any:
    module = importlib.import_module("nasbench_tools.spaces.nats_sss")
    return module.Cell.from_index(int(code))


#: Space name -> its code layout. Spaces absent here use :class:`SpaceProposals`.
CODE_LAYOUTS: dict[str, CodeLayout] = {
    "nb201": CodeLayout(6, 5, _nb201_to_code, _nb201_from_code),
    "nats_sss": CodeLayout(5, 8, _sss_to_code, _sss_from_code),
}


def register_code_layout(name: str, layout: CodeLayout) -> None:
    """Declare the code layout of a space (e.g. a toy space in tests).

    Examples
    --------
    >>> register_code_layout("doc-toy", CodeLayout(2, 3, int, int))
    >>> code_layout("doc-toy").size
    9
    """
    CODE_LAYOUTS[name] = layout


def code_layout(name: str) -> CodeLayout:
    """Return the code layout registered for space ``name``.

    Raises
    ------
    OutOfDomainError
        When the space has no code layout; the message lists those that do.

    Examples
    --------
    >>> code_layout("nb201").size
    15625
    """
    if name not in CODE_LAYOUTS:
        raise OutOfDomainError(
            f"space {name!r} has no integer code layout; spaces with one: {allowed(CODE_LAYOUTS)}"
        )
    return CODE_LAYOUTS[name]


# ---------------------------------------------------------------------- proposals
class Proposals(ABC):
    """Where searchers get random cells and mutations from."""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Any:
        """One uniformly random cell."""

    @abstractmethod
    def mutate(self, cell: Any, rng: np.random.Generator) -> Any:
        """One mutation of ``cell`` (never ``cell`` itself)."""


class SpaceProposals(Proposals):
    """Delegate to the space's own ``sample`` and ``mutate`` (any space).

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> k = SpaceProposals(get_space("nb201"))
    >>> k.sample(np.random.default_rng(1)) in get_space("nb201").all_cells()
    True
    """

    def __init__(self, space: Any) -> None:
        self.space = space

    def sample(self, rng: np.random.Generator) -> Any:
        return self.space.sample(rng)

    def mutate(self, cell: Any, rng: np.random.Generator) -> Any:
        return self.space.mutate(cell, rng)


class DigitProposals(Proposals):
    """Sampling and mutation on integer codes with a fixed number of uniform draws.

    ``sample`` uses one draw ``u``: code ``floor(u * size)``. ``mutate`` uses two draws: the
    digit ``floor(u0 * digits)`` changes to ``(old + 1 + floor(u1 * (base - 1))) % base``,
    i.e. to one of the other ``base - 1`` values, uniformly. This is the NB201 REA mutation
    (one random edge gets a different random operation) and the NATS size-space one (one
    layer gets a different channel count).

    Parameters
    ----------
    layout : CodeLayout
        The code layout of the space.

    Examples
    --------
    >>> k = DigitProposals(code_layout("nb201"))
    >>> k.mutate_code(0, np.array([0.99, 0.0]))
    1
    """

    def __init__(self, layout: CodeLayout) -> None:
        self.layout = layout
        self._place = [int(v) for v in layout.place_values]
        self._cells: dict[int, Any] = {}  # immutable cells, built once per code

    def cell(self, code: int) -> Any:
        """The cell of ``code`` (memoised)."""
        cell = self._cells.get(code)
        if cell is None:
            cell = self._cells[code] = self.layout.from_code(code)
        return cell

    def sample_code(self, u: float) -> int:
        """The code that the uniform draw ``u`` selects."""
        return int(u * self.layout.size)

    def mutate_code(self, code: int, u: np.ndarray) -> int:
        """Mutate ``code`` with the two uniform draws ``u``."""
        lay = self.layout
        d = int(u[0] * lay.digits)
        place = self._place[d]
        old = (code // place) % lay.base
        new = (old + 1 + int(u[1] * (lay.base - 1))) % lay.base
        return int(code + (new - old) * place)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.cell(self.sample_code(float(rng.random())))

    def mutate(self, cell: Any, rng: np.random.Generator) -> Any:
        code = self.layout.to_code(cell)
        return self.cell(self.mutate_code(code, rng.random(2)))


class PoolProposals(Proposals):
    """Sample uniformly from a fixed list of cells (one uniform draw per sample).

    For protocols restricted to the cells some table covers (e.g. a proxy known for a
    subset only). Mutation is not defined on a pool.

    Examples
    --------
    >>> k = PoolProposals(["a", "b", "c"])
    >>> k.sample(np.random.default_rng(0)) in ("a", "b", "c")
    True
    """

    def __init__(self, cells: Any) -> None:
        self.cells = list(cells)
        if not self.cells:
            raise OutOfDomainError("PoolProposals needs at least one cell")

    def sample(self, rng: np.random.Generator) -> Any:
        return self.cells[int(float(rng.random()) * len(self.cells))]

    def mutate(self, cell: Any, rng: np.random.Generator) -> Any:
        raise OutOfDomainError(
            "PoolProposals cannot mutate; use it with searchers that only sample "
            "(rs, naswot)"
        )


def proposals_for(space: Any) -> Proposals:
    """The proposal kernel of ``space``: digits when it has a code layout, else its own.

    Examples
    --------
    >>> from nasbench_tools.spaces import get_space
    >>> type(proposals_for(get_space("nb201"))).__name__
    'DigitProposals'
    """
    name = getattr(space, "name", "")
    if name in CODE_LAYOUTS:
        return DigitProposals(CODE_LAYOUTS[name])
    return SpaceProposals(space)


# ---------------------------------------------------------------------- searcher
class Searcher(ABC):
    """Base class of every searcher: ``ask() -> cell``, ``tell(cell, value)``.

    Values are maximised. A searcher that has nothing left to propose sets :attr:`done`.
    Subclasses implement :meth:`_start` (fresh state; called by the constructor and by
    :meth:`reset`), :meth:`ask` and :meth:`tell`, and register themselves in
    :data:`nasbench_tools.search.REGISTRY` under :attr:`algo`.

    Parameters
    ----------
    space : SearchSpace
        The space searched.
    seed : int, SeedSequence or Generator, default 0
        Source of all randomness of this searcher.
    """

    #: Registry name, e.g. ``"rea"``.
    algo: ClassVar[str] = ""
    #: Default cost of a re-proposed cell in the runner: ``"cache"`` (free) or ``"charge"``.
    #: A class setting; a searcher whose mode decides it may set it per instance (BOHB).
    repeats: str = "cache"
    #: Multi-fidelity searchers (BOHB) set this and, at every :meth:`ask`, the attribute
    #: ``fidelity`` (training epochs of that query); the runner then evaluates with the
    #: evaluator's ``evaluate_at(cell, fidelity)`` and keys its repeat cache by both.
    #: Like ``repeats``, it may be set per instance.
    multi_fidelity: bool = False

    def __init__(self, space: Any, *, seed: SeedLike = 0) -> None:
        self.space = space
        self.rng = as_generator(seed)
        self.done = False
        self._start()

    def reset(self, seed: SeedLike) -> None:
        """Forget everything and restart from ``seed`` (a new independent run).

        Examples
        --------
        >>> from nasbench_tools.search import RandomSearch
        >>> from nasbench_tools.spaces import get_space
        >>> s = RandomSearch(get_space("nb201"), seed=5)
        >>> a = s.ask(); s.reset(5); a == s.ask()
        True
        """
        self.rng = as_generator(seed)
        self.done = False
        self._start()

    @abstractmethod
    def _start(self) -> None:
        """Initialise the per-run state (the generator is already set)."""

    @abstractmethod
    def ask(self) -> Any:
        """The next cell to evaluate."""

    @abstractmethod
    def tell(self, cell: Any, value: float) -> None:
        """Report the value of a cell returned by :meth:`ask` (higher is better)."""

    def incumbent(self) -> Any | None:
        """The cell this searcher recommends as its result, if it has its own rule.

        The runner reports this cell (and records it in the trajectory whenever it changes)
        instead of the best value seen. ``None`` (the default, and all searchers but BOHB in
        ``budget_use="schedule"`` mode) means: no rule of its own, take the best value seen.
        A returned cell must be one already evaluated in the run.
        """
        return None

    def describe(self) -> dict[str, Any]:
        """Hyper-parameters of this searcher, for the results database."""
        return {"algo": self.algo}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k != "algo")
        return f"{type(self).__name__}({params})"
