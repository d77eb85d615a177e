"""The official NAS-Bench-201 index order, as a lookup table.

The official index of a cell is its position in the ``meta_archs`` list of the official
benchmark files; it is not a formula, and the project does not ship it. An
:class:`IndexTable` is built from that list (loaders of official files call
:meth:`IndexTable.from_strings`) or from a CSV with ``nb201_index,arch_str`` columns.

Examples
--------
>>> table = IndexTable.from_strings([
...     "|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|",
...     "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
>>> table.index_of(Cell.from_code(0)), table.codes.tolist()
(1, [1, 0])
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_tools.errors import FormatError, NotInBenchmarkError, OutOfDomainError
from nasbench_tools.spaces.nb201.cell import Cell
from nasbench_tools.spaces.nb201.constants import NUM_CELLS

__all__ = ["IndexTable"]

_ABSENT = -1  # internal marker in the inverse table; never returned to callers


class IndexTable:
    """Bidirectional map between official indices ``0..n-1`` and cells.

    Parameters
    ----------
    codes : array-like of int
        ``codes[i]`` is the :attr:`Cell.code` of the cell with official index ``i``; all
        distinct.

    Raises
    ------
    OutOfDomainError
        If a code is out of range or appears twice.

    Examples
    --------
    >>> t = IndexTable([5, 3])
    >>> t.cell_at(0).code, len(t)
    (5, 2)
    """

    __slots__ = ("_codes", "_inverse")

    def __init__(self, codes: Any) -> None:
        arr = np.asarray(codes)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise OutOfDomainError(
                f"IndexTable needs a 1-d integer array of cell codes, got shape {arr.shape} "
                f"dtype {arr.dtype}"
            )
        arr = arr.astype(np.int64).copy()
        if arr.size and (arr.min() < 0 or arr.max() >= NUM_CELLS):
            raise OutOfDomainError(
                f"IndexTable codes must lie in 0..{NUM_CELLS - 1}, got min {arr.min()} max {arr.max()}"
            )
        inverse = np.full(NUM_CELLS, _ABSENT, dtype=np.int64)
        inverse[arr] = np.arange(arr.size)
        if int((inverse != _ABSENT).sum()) != arr.size:
            uniq, counts = np.unique(arr, return_counts=True)
            dup = int(uniq[counts > 1][0])
            raise OutOfDomainError(
                f"IndexTable: cell {Cell.from_code(dup).to_string()!r} appears at official "
                f"indices {np.flatnonzero(arr == dup).tolist()}; each cell may appear once"
            )
        arr.setflags(write=False)
        inverse.setflags(write=False)
        self._codes = arr
        self._inverse = inverse

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_strings(cls, strings: Iterable[str]) -> IndexTable:
        """Build from the official ``meta_archs`` list (position = official index).

        Examples
        --------
        >>> len(IndexTable.from_strings(["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"]))
        1
        """
        return cls(np.array([Cell.from_string(s).code for s in strings], dtype=np.int64))

    @classmethod
    def from_csv(
        cls,
        path: str | os.PathLike[str],
        index_column: str = "nb201_index",
        string_column: str = "arch_str",
    ) -> IndexTable:
        """Build from a CSV file with an official-index and an official-string column.

        Rows may repeat (one row per dataset, say) as long as they agree; the indices
        must cover ``0..n-1`` without gaps.

        Parameters
        ----------
        path : path-like
            The CSV file.
        index_column, string_column : str
            Column names.

        Raises
        ------
        FormatError
            Missing columns, conflicting rows, or gaps in the index range.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
        >>> _ = p.write_text("nb201_index,arch_str\\n0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\\n")
        >>> IndexTable.from_csv(p).cell_at(0).code
        0
        """
        path = Path(path)
        found: dict[int, str] = {}
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            for col in (index_column, string_column):
                if col not in header:
                    raise FormatError(f"{path}: no column {col!r}; columns are {header}")
            for line, row in enumerate(reader, start=2):
                try:
                    idx = int(row[index_column])
                except ValueError:
                    raise FormatError(
                        f"{path}:{line}: {index_column} {row[index_column]!r} is not an integer"
                    ) from None
                text = row[string_column]
                if found.setdefault(idx, text) != text:
                    raise FormatError(
                        f"{path}:{line}: official index {idx} names {text!r} here but "
                        f"{found[idx]!r} earlier; one index must name one cell"
                    )
        n = len(found)
        if n and (min(found) != 0 or max(found) != n - 1):
            missing = sorted(set(range(max(found) + 1)) - set(found))[:5]
            raise FormatError(
                f"{path}: official indices must cover 0..{n - 1} without gaps; found "
                f"{min(found)}..{max(found)} ({n} distinct), missing e.g. {missing}"
            )
        try:
            return cls.from_strings(found[i] for i in range(n))
        except OutOfDomainError as err:
            raise FormatError(f"{path}: {err}") from err

    # ------------------------------------------------------------------ lookups
    @property
    def codes(self) -> np.ndarray:
        """Read-only ``int64`` array: official index -> ``Cell.code``."""
        return self._codes

    def __len__(self) -> int:
        return int(self._codes.size)

    def __contains__(self, cell: object) -> bool:
        return isinstance(cell, Cell) and self._inverse[cell.code] != _ABSENT

    def __iter__(self) -> Iterator[Cell]:
        return (Cell.from_code(c) for c in self._codes.tolist())

    def __repr__(self) -> str:
        return f"<IndexTable: {len(self)} cells>"

    def index_of(self, cell: Cell | str) -> int:
        """Official index of a cell (a Cell or an official string).

        Raises
        ------
        NotInBenchmarkError
            When the cell is not in this table.

        Examples
        --------
        >>> IndexTable([5, 3]).index_of(Cell.from_code(3))
        1
        """
        if isinstance(cell, str):
            cell = Cell.from_string(cell)
        if not isinstance(cell, Cell):
            raise OutOfDomainError(
                f"index_of needs a nb201 Cell or an official string, got {type(cell).__name__}"
            )
        idx = int(self._inverse[cell.code])
        if idx == _ABSENT:
            raise NotInBenchmarkError(
                f"cell {cell.to_string()!r} is not in this index table "
                f"({len(self)} cells with official indices 0..{len(self) - 1})"
            )
        return idx

    def cell_at(self, index: int) -> Cell:
        """The cell with official index ``index``.

        Raises
        ------
        NotInBenchmarkError
            When ``index`` is outside ``0..len-1``.

        Examples
        --------
        >>> IndexTable([5, 3]).cell_at(1).code
        3
        """
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise OutOfDomainError(f"official index must be an int, got {index!r}")
        if not 0 <= int(index) < len(self):
            raise NotInBenchmarkError(
                f"official index {index} is out of range; valid: 0..{len(self) - 1}"
            )
        return Cell.from_code(int(self._codes[int(index)]))

    def index_of_codes(self, codes: Any) -> np.ndarray:
        """Official indices of many cell codes at once.

        Raises
        ------
        NotInBenchmarkError
            If any code is not in the table (the first one is named).

        Examples
        --------
        >>> IndexTable([5, 3]).index_of_codes(np.array([3, 5, 3])).tolist()
        [1, 0, 1]
        """
        arr = np.asarray(codes)
        if arr.dtype.kind not in "iu":
            raise OutOfDomainError(f"codes must be integers, got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False)
        if arr.size and (arr.min() < 0 or arr.max() >= NUM_CELLS):
            raise OutOfDomainError(f"cell codes must lie in 0..{NUM_CELLS - 1}")
        out = self._inverse[arr]
        if arr.size and (out == _ABSENT).any():
            bad = int(arr[out == _ABSENT].ravel()[0])
            raise NotInBenchmarkError(
                f"cell {Cell.from_code(bad).to_string()!r} (code {bad}) is not in this index "
                f"table ({len(self)} cells with official indices 0..{len(self) - 1})"
            )
        return out
