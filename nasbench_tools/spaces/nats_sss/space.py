"""The NATS-Bench size search space object (32,768 channel configurations).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> cell = SPACE.sample(rng)
>>> child = SPACE.mutate(cell, rng)
>>> sum(a != b for a, b in zip(cell.channels, child.channels))
1
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError
from nasbench_tools.spaces._common import (
    change_digit,
    check_numbers,
    mutate_numbers,
    neighbour_numbers,
)
from nasbench_tools.spaces.base import SearchSpace
from nasbench_tools.spaces.nats_sss import costs, encodings
from nasbench_tools.spaces.nats_sss.cell import Cell
from nasbench_tools.spaces.nats_sss.constants import (
    NUM_CELLS,
    NUM_CHOICES,
    NUM_LAYERS,
    PLACE_VALUES,
)

__all__ = ["SPACE", "NATSSizeSpace", "check_indices", "mutate_indices", "neighbour_indices"]


def check_indices(indices: Any) -> np.ndarray:
    """Return official indices as ``int64``, raising if any is outside ``0..32767``.

    Examples
    --------
    >>> check_indices([0, 32767]).tolist()
    [0, 32767]
    """
    return check_numbers(indices, NUM_CELLS, "size-space index", "size-space indices")


def mutate_indices(indices: Any, rng: np.random.Generator) -> np.ndarray:
    """One uniformly chosen layer of each cell gets a uniformly chosen different width.

    Examples
    --------
    >>> kids = mutate_indices(np.zeros(4, dtype=np.int64), np.random.default_rng(0))
    >>> bool((kids != 0).all())
    True
    """
    arr = check_indices(indices)
    layers = rng.integers(0, NUM_LAYERS, size=arr.shape)
    return mutate_numbers(arr, layers, rng, PLACE_VALUES, NUM_CHOICES)


def neighbour_indices(indices: Any) -> np.ndarray:
    """The 35 one-layer changes of each index (layer by layer, widths ascending).

    Examples
    --------
    >>> neighbour_indices(0)[:3].tolist()
    [4096, 8192, 12288]
    """
    return neighbour_numbers(check_indices(indices), PLACE_VALUES, NUM_CHOICES)


class NATSSizeSpace(SearchSpace[Cell]):
    """NATS-Bench size space: 32,768 cells in official index order.

    Examples
    --------
    >>> SPACE.size(), SPACE.all_cells()[284].to_string()
    (32768, '8:8:40:32:40')
    """

    name = "nats_sss"
    encodings = encodings.ENCODINGS

    def parse(self, value: Any) -> Cell:
        """A Cell, a ``"c0:c1:c2:c3:c4"`` string, an official index or 5 widths.

        Examples
        --------
        >>> SPACE.parse(11).to_string(), SPACE.parse("8:8:8:8:16").index
        ('8:8:8:16:32', 1)
        """
        if isinstance(value, Cell):
            return value
        if isinstance(value, str):
            return Cell.from_string(value)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return Cell.from_index(int(value))
        if isinstance(value, (tuple, list)):
            return Cell(tuple(value))
        raise OutOfDomainError(
            f"cannot read a size-space cell from {type(value).__name__} {value!r}; allowed: a "
            f"Cell, a string like '8:16:24:32:64', an official index or a tuple of 5 widths"
        )

    def size(self) -> int:
        """32,768."""
        return NUM_CELLS

    def all_cells(self) -> Sequence[Cell]:
        """All cells, ``all_cells()[i].index == i``; cached."""
        return _all_cells()

    def sample(self, rng: np.random.Generator, n: int | None = None) -> Any:
        """One uniform cell, or a list of ``n``.

        Examples
        --------
        >>> len(SPACE.sample(np.random.default_rng(0), 2))
        2
        """
        if n is None:
            return _all_cells()[int(rng.integers(0, NUM_CELLS))]
        return self.cells_from_indices(rng.integers(0, NUM_CELLS, size=n))

    def mutate(self, cell: Cell, rng: np.random.Generator) -> Cell:
        """One uniformly chosen layer gets a uniformly chosen different width."""
        # scalar fast path; draws the same numbers as mutate_indices on a single index
        place = int(PLACE_VALUES[int(rng.integers(0, NUM_LAYERS))])
        shift = int(rng.integers(1, NUM_CHOICES))
        return _all_cells()[change_digit(cell.index, place, shift, NUM_CHOICES)]

    def neighbours(self, cell: Cell) -> list[Cell]:
        """The 35 cells differing in exactly one layer width.

        Examples
        --------
        >>> len(SPACE.neighbours(Cell.from_index(0)))
        35
        """
        return self.cells_from_indices(neighbour_indices(cell.index))

    def encode(self, cells: Sequence[Cell], kind: str) -> np.ndarray:
        """Encode many cells at once.

        Examples
        --------
        >>> SPACE.encode(SPACE.all_cells()[:3], "renas").shape
        (3, 3, 5, 5)
        """
        self.check_encoding(kind)
        return encodings.encode_indices(self.indices(cells), kind)

    def indices(self, cells: Sequence[Cell]) -> np.ndarray:
        """Official indices of many cells."""
        return np.fromiter((c.index for c in cells), dtype=np.int64, count=len(cells))

    def cells_from_indices(self, indices: Any) -> list[Cell]:
        """Cells of many official indices (shared cached objects)."""
        table = _all_cells()
        return [table[i] for i in check_indices(indices).ravel().tolist()]

    mutate_indices = staticmethod(mutate_indices)
    neighbour_indices = staticmethod(neighbour_indices)

    def num_params(self, cells: Sequence[Cell], dataset: str = "cifar10") -> np.ndarray:
        """Parameter counts of many cells."""
        return costs.params_of_indices(self.indices(cells), dataset)

    def flops(self, cells: Sequence[Cell], dataset: str = "cifar10") -> np.ndarray:
        """MFLOPs of many cells."""
        return costs.flops_of_indices(self.indices(cells), dataset)


@functools.cache
def _all_cells() -> tuple[Cell, ...]:
    return tuple(Cell.from_index(i) for i in range(NUM_CELLS))


#: The singleton.
SPACE = NATSSizeSpace()
