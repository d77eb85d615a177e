"""The NAS-Bench-201 search space object: enumeration, sampling, mutation, encodings.

Besides the :class:`~nasbench_tools.spaces.base.SearchSpace` contract on ``Cell`` objects,
the space offers vectorised helpers on integer code arrays (``Cell.code``) for searchers
and predictors that handle thousands of cells at once.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> cell = SPACE.sample(rng)
>>> child = SPACE.mutate(cell, rng)
>>> child != cell and sum(a != b for a, b in zip(cell.ops, child.ops)) == 1
True
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.spaces._common import (
    change_digit,
    check_numbers,
    mutate_numbers,
    neighbour_numbers,
)
from nasbench_tools.spaces.base import SearchSpace
from nasbench_tools.spaces.nb201 import costs, encodings, isomorphism
from nasbench_tools.spaces.nb201.cell import Cell
from nasbench_tools.spaces.nb201.constants import NUM_CELLS, NUM_EDGES, NUM_OPS, PLACE_VALUES

__all__ = ["EDGE_SCHEMES", "SPACE", "NB201Space", "check_codes", "mutate_codes", "neighbour_codes"]

_HEX32 = re.compile(r"^[0-9a-f]{32}$")


def check_codes(codes: Any) -> np.ndarray:
    """Return ``codes`` as an ``int64`` array, raising if any is outside ``0..15624``.

    Examples
    --------
    >>> check_codes([0, 15624]).tolist()
    [0, 15624]
    """
    return check_numbers(codes, NUM_CELLS, "NAS-Bench-201 code", "NAS-Bench-201 codes")


#: How the edge to mutate is chosen, name -> probability of each edge (string order).
#: ``"uniform"``: every edge 1/6 (NASLib; the default). ``"node_first"``: a node 1..3
#: uniformly, then one of its incoming edges uniformly (the REA script of the official
#: NAS-Bench-201 code), so edges get 1/3, 1/6, 1/6, 1/9, 1/9, 1/9.
EDGE_SCHEMES: dict[str, np.ndarray] = {
    "uniform": np.full(NUM_EDGES, 1 / NUM_EDGES),
    "node_first": np.array([1 / 3, 1 / 6, 1 / 6, 1 / 9, 1 / 9, 1 / 9]),
}


def _draw_edges(rng: np.random.Generator, shape: tuple[int, ...], scheme: str) -> np.ndarray:
    if scheme not in EDGE_SCHEMES:
        raise OutOfDomainError(f"unknown mutation scheme {scheme!r}; allowed: {allowed(EDGE_SCHEMES)}")
    if scheme == "uniform":
        return rng.integers(0, NUM_EDGES, size=shape)
    return rng.choice(NUM_EDGES, size=shape, p=EDGE_SCHEMES[scheme])


def mutate_codes(codes: Any, rng: np.random.Generator, scheme: str = "uniform") -> np.ndarray:
    """Mutate many cells at once: one edge gets a uniformly chosen different op.

    Same distribution as :meth:`NB201Space.mutate`.

    Parameters
    ----------
    codes : array-like of int
        Parent codes, any shape.
    rng : numpy.random.Generator
        Source of randomness.
    scheme : str, default "uniform"
        How the edge is chosen; a key of :data:`EDGE_SCHEMES`.

    Returns
    -------
    numpy.ndarray
        ``int64`` child codes, same shape; each differs from its parent on exactly one edge.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> kids = mutate_codes(np.zeros(5, dtype=np.int64), rng)
    >>> bool((kids != 0).all())
    True
    """
    arr = check_codes(codes)
    return mutate_numbers(arr, _draw_edges(rng, arr.shape, scheme), rng, PLACE_VALUES, NUM_OPS)


def neighbour_codes(codes: Any) -> np.ndarray:
    """The 24 one-op changes of each code.

    Parameters
    ----------
    codes : int or array-like of int
        One code or an array of codes.

    Returns
    -------
    numpy.ndarray
        Shape ``codes.shape + (24,)``; edge by edge in string order, and for each edge the
        other four ops in ``OPS`` order.

    Examples
    --------
    >>> neighbour_codes(0)[:5].tolist()
    [3125, 6250, 9375, 12500, 625]
    """
    return neighbour_numbers(check_codes(codes), PLACE_VALUES, NUM_OPS)


class NB201Space(SearchSpace[Cell]):
    """NAS-Bench-201 = NATS-Bench topology space: 15,625 cells in ``code`` order.

    Examples
    --------
    >>> SPACE.size(), SPACE.name
    (15625, 'nb201')
    """

    name = "nb201"
    encodings = encodings.ENCODINGS

    # ------------------------------------------------------------------ contract
    def parse(self, value: Any) -> Cell:
        """Turn a Cell, an official string, a 6-tuple of op names or a ``.hash`` into a Cell.

        A 32-hex ``.hash`` gives the canonical representative of its class. Integers are
        refused on purpose: use ``Cell.from_code`` for codes and ``IndexTable.cell_at`` for
        official indices.

        Examples
        --------
        >>> SPACE.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").code
        0
        """
        if isinstance(value, Cell):
            return value
        if isinstance(value, str):
            if _HEX32.match(value):
                found = self._hash_table().get(value)
                if found is None:
                    raise OutOfDomainError(
                        f"{value!r} is not the .hash of any NAS-Bench-201 cell; pass an official "
                        f"string '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' or a known hash"
                    )
                return found
            return Cell.from_string(value)
        if isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
            return Cell(tuple(value))
        raise OutOfDomainError(
            f"cannot read a NAS-Bench-201 cell from {type(value).__name__} {value!r}; allowed: "
            f"a Cell, an official string, a tuple of 6 op names or a 32-hex .hash "
            f"(codes: Cell.from_code; official indices: IndexTable.cell_at)"
        )

    def size(self) -> int:
        """15,625.

        Examples
        --------
        >>> len(SPACE)
        15625
        """
        return NUM_CELLS

    def all_cells(self) -> Sequence[Cell]:
        """All 15,625 cells, cell ``c`` at position ``c.code``; built once, cached.

        Examples
        --------
        >>> SPACE.all_cells()[1].ops[-1]
        'skip_connect'
        """
        return _all_cells()

    def sample(self, rng: np.random.Generator, n: int | None = None) -> Any:
        """One uniform cell (``n=None``) or a list of ``n`` independent uniform cells.

        Examples
        --------
        >>> len(SPACE.sample(np.random.default_rng(0), 3))
        3
        """
        if n is None:
            return _all_cells()[int(rng.integers(0, NUM_CELLS))]
        return self.cells_from_codes(self.sample_codes(rng, n))

    def mutate(self, cell: Cell, rng: np.random.Generator, scheme: str = "uniform") -> Cell:
        """REA mutation: one edge (uniform by default) gets a uniformly chosen different op.

        Parameters
        ----------
        cell : Cell
            The parent.
        rng : numpy.random.Generator
            Source of randomness.
        scheme : str, default "uniform"
            ``"uniform"`` or ``"node_first"`` (see :data:`EDGE_SCHEMES`).

        Examples
        --------
        >>> c = Cell.from_code(0)
        >>> SPACE.mutate(c, np.random.default_rng(0)) != c
        True
        """
        if scheme != "uniform":
            return _all_cells()[int(mutate_codes(np.int64(cell.code), rng, scheme))]
        # scalar fast path; draws the same numbers as mutate_codes on a single code
        place = int(PLACE_VALUES[int(rng.integers(0, NUM_EDGES))])
        shift = int(rng.integers(1, NUM_OPS))
        return _all_cells()[change_digit(cell.code, place, shift, NUM_OPS)]

    def neighbours(self, cell: Cell) -> list[Cell]:
        """The 24 cells that differ from ``cell`` on exactly one edge.

        Examples
        --------
        >>> len(SPACE.neighbours(Cell.from_code(7)))
        24
        """
        return self.cells_from_codes(neighbour_codes(cell.code))

    def encode(self, cells: Sequence[Cell], kind: str) -> np.ndarray:
        """Encode many cells at once (vectorised over their codes).

        Examples
        --------
        >>> SPACE.encode(SPACE.all_cells()[:4], "adjacency_onehot").shape
        (4, 30)
        """
        self.check_encoding(kind)
        return encodings.encode_codes(self.codes(cells), kind)

    # ------------------------------------------------------------------ vectorised helpers
    def codes(self, cells: Sequence[Cell]) -> np.ndarray:
        """``int64`` array of ``cell.code`` for many cells.

        Examples
        --------
        >>> SPACE.codes(SPACE.all_cells()[:3]).tolist()
        [0, 1, 2]
        """
        return np.fromiter((c.code for c in cells), dtype=np.int64, count=len(cells))

    def cells_from_codes(self, codes: Any) -> list[Cell]:
        """The cells of many codes (shared cached objects).

        Examples
        --------
        >>> SPACE.cells_from_codes([0])[0] == Cell.from_code(0)
        True
        """
        table = _all_cells()
        return [table[c] for c in check_codes(codes).ravel().tolist()]

    def sample_codes(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` uniform random codes.

        Examples
        --------
        >>> SPACE.sample_codes(np.random.default_rng(0), 2).shape
        (2,)
        """
        return rng.integers(0, NUM_CELLS, size=n, dtype=np.int64)

    mutate_codes = staticmethod(mutate_codes)
    neighbour_codes = staticmethod(neighbour_codes)

    def canonical_codes(self, rule: str = "nb201") -> np.ndarray:
        """Code -> code of the canonical representative (see ``isomorphism``).

        Examples
        --------
        >>> int(SPACE.canonical_codes()[0])
        0
        """
        return isomorphism.canonical_codes(rule)

    def unique_cells(self, rule: str = "nb201") -> list[Cell]:
        """One representative per isomorphism class (6,466 for the default rule).

        Examples
        --------
        >>> len(SPACE.unique_cells())
        6466
        """
        return self.cells_from_codes(isomorphism.unique_codes(rule))

    def num_params(self, cells: Sequence[Cell], dataset: str = "cifar10") -> np.ndarray:
        """Parameter counts of many cells (vectorised).

        Examples
        --------
        >>> SPACE.num_params(SPACE.all_cells()[:2]).shape
        (2,)
        """
        return costs.params_of_codes(self.codes(cells), dataset)

    def flops(self, cells: Sequence[Cell], dataset: str = "cifar10") -> np.ndarray:
        """MFLOPs of many cells (vectorised).

        Examples
        --------
        >>> SPACE.flops(SPACE.all_cells()[:2]).shape
        (2,)
        """
        return costs.flops_of_codes(self.codes(cells), dataset)

    @functools.cache  # noqa: B019 - the space is a singleton
    def _hash_table(self) -> dict[str, Cell]:
        table = _all_cells()
        return {
            hashlib.md5(table[c].to_string().encode("ascii")).hexdigest(): table[c]
            for c in isomorphism.unique_codes().tolist()
        }


@functools.cache
def _all_cells() -> tuple[Cell, ...]:
    return tuple(Cell.from_code(c) for c in range(NUM_CELLS))


#: The singleton.
SPACE = NB201Space()
