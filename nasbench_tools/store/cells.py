"""Cells to store rows and back: keys, official indices, cell objects.

The second layer of :class:`~nasbench_tools.store.benchmark.Benchmark`: a cell is given as a
cell object, its string, its official index or its NB101 hash; :meth:`row` / :meth:`rows`
find its store row (fast paths for ints and strings, vectorised for integer arrays), and
:meth:`cell_at` builds the cell of a row (registries :data:`CELL_KEY`, :data:`CELL_BUILDERS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError
from nasbench_tools.store.metadata import _Metadata

__all__ = ["CELL_BUILDERS", "CELL_KEY", "CLASS_KEY", "ROWS_CLASSES", "rows_are_classes"]


def _key_nb101(cell: Any) -> str:
    return str(cell.hash)


def _key_string(cell: Any) -> str:
    return str(cell.to_string())


#: How a cell object becomes a store key, per space (default: ``to_string()``).
CELL_KEY: dict[str, Callable[[Any], str]] = {"nb101": _key_nb101}


def _cell_from_key(space: str, key: str) -> Any:
    from nasbench_tools.spaces import get_space

    return get_space(space).parse(key)


def _nb101_cell(bench: _Cells, row: int) -> Any:
    """Rebuild an NB101 cell from the stored matrix and op codes (no hash look-up)."""
    if not {"nb101_matrix", "nb101_ops"} <= set(bench.extra_names):
        return _cell_from_key("nb101", bench.keys[row])
    from nasbench_tools.spaces.nb101 import Cell
    from nasbench_tools.spaces.nb101.arrays import KIND_INPUT, KIND_OUTPUT, KIND_PAD
    from nasbench_tools.spaces.nb101.ops import OPS

    labels = {**dict(enumerate(OPS)), KIND_INPUT: "input", KIND_OUTPUT: "output"}
    matrix, ops = bench._extra_cached("nb101_matrix"), bench._extra_cached("nb101_ops")
    codes = [int(c) for c in ops[row] if int(c) != KIND_PAD]
    n = len(codes)
    return Cell(np.asarray(matrix[row][:n, :n]), [labels[c] for c in codes])


#: How a store row becomes a cell object, per space (default: the space's ``parse`` of the key).
CELL_BUILDERS: dict[str, Callable[[_Cells, int], Any]] = {"nb101": _nb101_cell}


def _nb201_class_key(cell: Any) -> str:
    return str(cell.canonical().to_string())


#: Key of a cell's isomorphism-class representative, per space, for stores with one row per
#: class (``provenance["rows"] == ROWS_CLASSES``): any cell of a class finds the class's row.
#: NB101 needs no entry: its module hash is already the same for every cell of a class.
CLASS_KEY: dict[str, Callable[[Any], str]] = {"nb201": _nb201_class_key}

#: ``provenance["rows"]`` of a store whose rows are isomorphism classes (their representatives).
ROWS_CLASSES = "isomorphism classes"


def rows_are_classes(provenance: dict[str, Any], space: str) -> bool:
    """Whether a store's rows stand for whole isomorphism classes of ``space``.

    True when the provenance says so (``"rows": ROWS_CLASSES``, written by ``nbt
    build-bench``), and for NB201 stores that ``build-bench`` wrote before the key existed:
    those were always built over the class representatives (``SPACE.unique_cells()``).

    Examples
    --------
    >>> rows_are_classes({"rows": ROWS_CLASSES}, "nb201"), rows_are_classes({}, "nb201")
    (True, False)
    """
    if space not in CLASS_KEY:
        return False
    if provenance.get("rows") == ROWS_CLASSES:
        return True
    legacy = provenance.get("built_by") == "nasbench_tools.trainer.build_bench"
    return legacy and (provenance.get("build") or {}).get("space") == space


class _Cells(_Metadata):
    """Cell <-> row look-ups (a layer of ``Benchmark``)."""

    _keys: list[str] | None
    _indices: np.ndarray | None
    _key_rows: dict[str, int] | None
    _index_rows: dict[int, int] | None
    _index_sorted: tuple[np.ndarray, np.ndarray] | None
    _identity: bool | None
    _by_class: bool | None
    _class_rows: dict[str, int] | None

    @property
    def keys(self) -> list[str]:
        """Key of each store row (NB101 module hash, NB201 / SSS string)."""
        if self._keys is None:
            self._keys = self._backend.keys()
        return self._keys

    @property
    def indices(self) -> np.ndarray:
        """Official index of each store row (int64)."""
        if self._indices is None:
            self._indices = self._backend.indices()
            self._indices.setflags(write=False)
        return self._indices

    @property
    def by_class(self) -> bool:
        """Whether each row stands for a whole isomorphism class (see :func:`rows_are_classes`).

        Then a cell that is not itself a row is looked up through its class representative
        (cell objects and strings; official indices name rows only).

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
        >>> rep = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
        >>> ds = DatasetTable("c", (0,), ((1, 1),), ("val_accuracy",), np.full((1, 1, 1, 1), 50.0))
        >>> t = TableData("nb201", [rep], np.array([0]), {"c": ds}, {"rows": ROWS_CLASSES})
        >>> b = Benchmark.from_table(t)
        >>> b.by_class, b.row("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
        (True, 0)
        """
        if self._by_class is None:
            self._by_class = rows_are_classes(self._meta.provenance, self.space)
        return self._by_class

    def __iter__(self) -> Iterator[Any]:
        for row in range(len(self)):
            yield self.cell_at(row)

    def cell_at(self, row: int) -> Any:
        """The cell object of store row ``row`` (built through the space's ``parse``)."""
        n = len(self)
        if not (isinstance(row, (int, np.integer)) and 0 <= int(row) < n):
            raise OutOfDomainError(f"row {row!r} out of range; allowed: 0 .. {n - 1}")
        build = CELL_BUILDERS.get(self.space)
        if build is not None:
            return build(self, int(row))
        return _cell_from_key(self.space, self.keys[int(row)])

    def _key_map(self) -> dict[str, int]:
        if self._key_rows is None:
            self._key_rows = {k: i for i, k in enumerate(self.keys)}
        return self._key_rows

    def _index_map(self) -> dict[int, int]:
        if self._index_rows is None:
            self._index_rows = {int(k): i for i, k in enumerate(self.indices.tolist())}
        return self._index_rows

    def _class_map(self) -> dict[str, int]:
        # keyed by each row's class representative, so a row stored under another member
        # of its class (an ``include`` cell of a build) is found too
        if self._class_rows is None:
            key_of = CLASS_KEY[self.space]
            self._class_rows = {key_of(self.cell_at(r)): r for r in range(len(self))}
        return self._class_rows

    def _row_slow(self, cell: Any) -> int:
        if isinstance(cell, (bool, np.bool_)):
            raise OutOfDomainError(f"a cell cannot be a boolean ({cell!r})")
        if isinstance(cell, (int, np.integer)):
            if self._identity is None:
                self._identity = bool(np.array_equal(self.indices, np.arange(len(self))))
            if self._identity and 0 <= int(cell) < len(self):
                return int(cell)
            r = self._index_map().get(int(cell))
            if r is None:
                idx = self.indices
                span = f"{int(idx.min())} .. {int(idx.max())}" if len(idx) else "none"
                hint = ("; its rows are isomorphism classes, indexed by their representatives: "
                        "give the cell or its string to reach its class"
                        if self.by_class else "")
                raise NotInBenchmarkError(
                    f"official index {int(cell)} is not in this {self.space} store "
                    f"({len(idx)} cells, indices {span}){hint}"
                )
            return r
        if isinstance(cell, str):
            r = self._key_map().get(cell)
            if r is not None:
                return r
            parsed = _cell_from_key(self.space, cell)  # OutOfDomainError if malformed
            key = CELL_KEY.get(self.space, _key_string)(parsed)
        else:
            try:
                key = CELL_KEY.get(self.space, _key_string)(cell)
            except AttributeError as exc:
                raise OutOfDomainError(
                    f"cannot use {type(cell).__name__} {cell!r} as a {self.space} cell; give a "
                    f"cell object, its string, an official index (int) or an NB101 hash"
                ) from exc
        r = self._key_map().get(key)
        if r is not None:
            return r
        if self.by_class:
            # one row per isomorphism class: the cell's class representative holds its row
            rep = CLASS_KEY[self.space](parsed if isinstance(cell, str) else cell)
            r = self._class_map().get(rep)
            if r is not None:
                return r
            via = "" if rep == key else f" (representative {rep!r})"
            raise NotInBenchmarkError(
                f"cell {key!r} is a valid {self.space} cell but its isomorphism class{via} "
                f"is not in this store ({len(self)} classes)"
            )
        raise NotInBenchmarkError(
            f"cell {key!r} is a valid {self.space} cell but not in this store "
            f"({len(self)} cells)"
        )

    def row(self, cell: Any) -> int:
        """Store row of one cell (object, string, official index or NB101 hash).

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
        >>> ds = DatasetTable("c", (0,), ((1, 1),), ("val_accuracy",), np.ones((2, 1, 1, 1)))
        >>> b = Benchmark.from_table(TableData("nb201", ["x", "y"], np.array([7, 3]), {"c": ds}))
        >>> b.row(3), b.row("x")
        (1, 0)
        """
        t = type(cell)
        if t is int:
            if self._identity and 0 <= cell < self._meta.n_cells:
                return cell  # type: ignore[no-any-return]
            m = self._index_rows
            if m is not None:
                r = m.get(cell)
                if r is not None:
                    return r
        elif t is str:
            m2 = self._key_rows
            if m2 is not None:
                r = m2.get(cell)
                if r is not None:
                    return r
        return self._row_slow(cell)

    def rows(self, cells: Iterable[Any] | np.ndarray) -> np.ndarray:
        """Store rows (int64) of many cells; an integer array is mapped vectorised.

        Examples
        --------
        >>> import numpy as np
        >>> from nasbench_tools.store import Benchmark, DatasetTable, TableData
        >>> ds = DatasetTable("c", (0,), ((1, 1),), ("val_accuracy",), np.ones((2, 1, 1, 1)))
        >>> b = Benchmark.from_table(TableData("nb201", ["x", "y"], np.array([7, 3]), {"c": ds}))
        >>> b.rows(np.array([3, 7, 3])).tolist(), b.rows(["y", 7]).tolist()
        ([1, 0, 1], [1, 0])
        """
        if isinstance(cells, np.ndarray) and cells.dtype.kind in "iu":
            return self._rows_of_indices(cells.astype(np.int64, copy=False).ravel())
        if isinstance(cells, range):
            return self._rows_of_indices(np.asarray(cells, dtype=np.int64))
        if isinstance(cells, list) and cells and all(type(c) is int for c in cells):
            return self._rows_of_indices(np.asarray(cells, dtype=np.int64))
        return np.fromiter((self.row(c) for c in cells), dtype=np.int64)

    def _rows_of_indices(self, idx: np.ndarray) -> np.ndarray:
        indices = self.indices
        n = len(indices)
        if self._identity is None:
            self._identity = bool(n == 0 or np.array_equal(indices, np.arange(n)))
        if self._identity:
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                bad = idx[(idx < 0) | (idx >= n)][0]
                return np.asarray([self._row_slow(int(bad))])  # raises with the message
            return idx
        if self._index_sorted is None:
            order = np.argsort(indices, kind="stable")
            self._index_sorted = (indices[order], order)
        srt, order = self._index_sorted
        pos = np.searchsorted(srt, idx)
        pos_c = np.minimum(pos, n - 1)
        ok = srt[pos_c] == idx
        if not ok.all():
            self._row_slow(int(idx[~ok][0]))  # raises
        return order[pos_c]
